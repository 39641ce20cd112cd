/**
 * Issue 5, test 1: the seed scenario (SEED-SCENARIO.md) end to end with the example configs (only MCLT and
 * lease times made small: mclt 40, default-lease-time 120, max-lease-time 120 — ISC's implicit
 * min-lease-time is 300 s capped at max-lease-time, and dhclient writes its lease file at most every 15 s,
 * so T1 = 20 s keeps the renewal visible there), in three pairings on one bridge in namespaces
 * this test creates: (a) dhcpd-ts primary + dhcpd-ts secondary, (b) dhcpd-ts primary + ISC dhcpd 4.4.3
 * secondary, (c) ISC primary + dhcpd-ts secondary.
 *
 * In each: both servers log ISC's two "... to normal" lines; the real dhclient (52:54:00:02:bf:f8) is
 * leased an address of the range for MCLT seconds (option 51 from dhclient's lease file) by the server the
 * load-balancing hash gives it, renews at T1 by unicast to that server and gets default-lease-time with the
 * same server identifier; the partner (ISC's dhcpd.leases, or the dhcpd-ts database via `dhcpd-ts export`)
 * holds the same binding: address, hardware ethernet, binding state active.
 *
 * Needs `make build` (runs bin/dhcpd-ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { integrationSkipReason, waitUntil } from '../support/netns.js';
import {
  createSeedLan,
  inSeedRange,
  type Impl,
  PRIMARY_ADDRESS,
  SECONDARY_ADDRESS,
  SEED_CLIENT_MAC,
  type SeedServer,
  seedConfig,
  startDhclient,
  startSeedServer,
  waitBothNormal,
} from '../support/seed-scenario.js';
import { hbaBit, hbaFromSplit, loadBalanceHash } from '../../src/failover/load-balance.js';

const skip = integrationSkipReason();
const MCLT = 40;
const DEFAULT_LEASE_TIME = 120;

/** True when the seed client's bucket (RFC 3074 hash of its chaddr, no option 61) belongs to the primary at split 128. */
function seedClientIsPrimarys(): boolean {
  const chaddr = Buffer.from(SEED_CLIENT_MAC.split(':').map((h) => parseInt(h, 16)));
  return hbaBit(hbaFromSplit(128), loadBalanceHash(chaddr));
}

function failoverLines(s: SeedServer): string {
  return s.log().split('\n').filter((l) => /failover|DHCP[A-Z]+ |balanc|BND/.test(l)).slice(-40).join('\n');
}

async function runSeed(prefix: string, primaryImpl: Impl, secondaryImpl: Impl): Promise<void> {
  const seed = await createSeedLan(prefix);
  const times = { mclt: MCLT, defaultLeaseTime: DEFAULT_LEASE_TIME, maxLeaseTime: DEFAULT_LEASE_TIME };
  let pri: SeedServer | undefined;
  let sec: SeedServer | undefined;
  try {
    sec = await startSeedServer(seed.topology, seed.sec, 'secondary', secondaryImpl, await seedConfig('secondary', times));
    pri = await startSeedServer(seed.topology, seed.pri, 'primary', primaryImpl, await seedConfig('primary', times));
    const p = pri;
    const s = sec;
    const context = (): string => `--- primary (${primaryImpl}):\n${failoverLines(p)}\n--- secondary (${secondaryImpl}):\n${failoverLines(s)}`;

    // Both logs: "I move from … to normal" and "peer moves from … to normal".
    await Promise.all([waitBothNormal(p, 30_000), waitBothNormal(s, 30_000)]).catch((e: Error) => {
      throw new Error(`${e.message.split('\n')[0]}\n${context()}`);
    });

    const answering = seedClientIsPrimarys() ? p : s;
    const partner = answering === p ? s : p;
    const answeringAddress = answering === p ? PRIMARY_ADDRESS : SECONDARY_ADDRESS;

    const client = await startDhclient(seed.topology, seed.cli);
    const [first] = await client.waitLeases(1, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${context()}`);
    });
    assert.ok(first);
    assert.ok(inSeedRange(first.address), `leased ${first.address}, outside 192.168.102.110-210`);
    assert.equal(first.leaseTime, MCLT, `first lease time must be the MCLT (option 51)\n${context()}`);
    assert.equal(first.serverIdentifier, answeringAddress, `answered by the server the hash does not give this client\n${context()}`);
    // The seed's four lines, one each, from the server that answered (SEED-SCENARIO.md step 3).
    const ifname = answering.host.ifname;
    for (const line of [
      `DHCPDISCOVER from ${SEED_CLIENT_MAC} via ${ifname}`,
      `DHCPOFFER on ${first.address} to ${SEED_CLIENT_MAC} via ${ifname}`,
      `DHCPREQUEST for ${first.address} (${answeringAddress}) from ${SEED_CLIENT_MAC} via ${ifname}`,
      `DHCPACK on ${first.address} to ${SEED_CLIENT_MAC} via ${ifname}`,
    ]) {
      assert.ok(answering.log().split('\n').includes(line), `the ${answering.role} (${answering.impl}) did not log "${line}"\n${context()}`);
    }

    // T1 = MCLT/2 (dhclient picks 3/4..1 of it): a unicast DHCPREQUEST to the server identifier.
    const leases = await client.waitLeases(2, MCLT * 1000 + 5_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${context()}`);
    });
    const renewal = leases[1]!;
    assert.equal(renewal.address, first.address);
    assert.equal(renewal.leaseTime, DEFAULT_LEASE_TIME, `renewal must get default-lease-time: ${JSON.stringify(leases)}\n${client.process.output}\n${context()}`);
    assert.equal(renewal.serverIdentifier, answeringAddress);
    assert.match(
      client.process.output,
      new RegExp(`DHCPREQUEST for ${first.address.replace(/\./g, '\\.')} on ${seed.cli.ifname} to ${answeringAddress.replace(/\./g, '\\.')} port 67`),
      'the renewal was not unicast to the server identifier',
    );
    // RENEWING: no server identifier in the request, so ISC's line has none either.
    assert.ok(
      answering.log().split('\n').includes(`DHCPREQUEST for ${first.address} from ${SEED_CLIENT_MAC} via ${ifname}`),
      `no renewal DHCPREQUEST line on the ${answering.role}\n${context()}`,
    );
    const ackLines = answering.log().match(new RegExp(`DHCPACK on ${first.address.replace(/\./g, '\\.')} to ${SEED_CLIENT_MAC}`, 'g')) ?? [];
    assert.ok(ackLines.length >= 2, `the answering server logged ${ackLines.length} ACK(s) for the client`);

    // The partner holds the same binding (ISC writes dhcpd.leases; dhcpd-ts exported from its database).
    const onPartner = await waitUntil(
      async () => {
        const b = (await partner.bindings()).get(first.address);
        return b?.bindingState === 'active' && b.hardware === SEED_CLIENT_MAC ? b : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 300, what: `binding ${first.address} active for ${SEED_CLIENT_MAC} on the partner (${partner.impl})` },
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\npartner has: ${JSON.stringify((await partner.bindings()).get(first.address))}\n${context()}`);
    });
    assert.equal(onPartner.address, first.address);
    const own = (await answering.bindings()).get(first.address);
    assert.equal(own?.bindingState, 'active');
    assert.equal(own?.hardware, SEED_CLIENT_MAC);
    await client.process.stop();
  } finally {
    await seed.destroy();
  }
}

describe('seed scenario, issue 5 test 1', { skip, concurrency: true }, () => {
  test('(a) dhcpd-ts primary + dhcpd-ts secondary', { timeout: 80_000 }, () => runSeed('seeda', 'dhcpd-ts', 'dhcpd-ts'));
  test('(b) dhcpd-ts primary + ISC dhcpd 4.4.3 secondary', { timeout: 80_000 }, () => runSeed('seedb', 'dhcpd-ts', 'isc'));
  test('(c) ISC dhcpd 4.4.3 primary + dhcpd-ts secondary', { timeout: 80_000 }, () => runSeed('seedc', 'isc', 'dhcpd-ts'));
});
