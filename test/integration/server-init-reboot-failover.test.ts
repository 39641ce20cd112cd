/**
 * A client in INIT-REBOOT (ISC dhclient restarted with its lease file: a broadcast DHCPREQUEST with the
 * requested-address option and no server identifier) on the seed failover pair, differential: first a pair
 * of real ISC dhcpd 4.4.3, then a pair of dhcpd-ts, same configs (examples/, times shortened), same client.
 *
 * ISC 4.4.3 does no load balancing on DHCPREQUEST (server/dhcp.c dhcprequest: "load balance to peer - is not
 * done at all for request"; its comment accepts that both servers ACK a broadcast REQUEST for a lease both
 * can serve). So for an active lease both peers answer the INIT-REBOOT REQUEST; dhcpd-ts must do the same —
 * neither more (one answering while ISC has two) nor less.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delay, dhclientArgs, integrationSkipReason } from '../support/netns.js';
import { createSeedLan, type Impl, keepLogs, PRIMARY_ADDRESS, SECONDARY_ADDRESS, SEED_CLIENT_MAC, type SeedServer, seedConfig, startSeedServer, waitBothNormal } from '../support/seed-scenario.js';

const skip = integrationSkipReason();

/** What each server of the pair did with the client's INIT-REBOOT REQUEST. */
interface RebootResult {
  readonly address: string;
  /** Per role: the server logged a DHCPREQUEST for the address without server identifier, and its ACK. */
  readonly heard: { primary: boolean; secondary: boolean };
  readonly acked: { primary: boolean; secondary: boolean };
  /** The DHCPACK that dhclient took (its "DHCPACK of A from S" line). */
  readonly from: string;
}

async function initReboot(t: TestContext, prefix: string, impl: Impl): Promise<RebootResult> {
  const seed = await createSeedLan(prefix);
  const times = { mclt: 60, defaultLeaseTime: 600, maxLeaseTime: 600 };
  let pri: SeedServer | undefined;
  let sec: SeedServer | undefined;
  try {
    sec = await startSeedServer(seed.topology, seed.sec, 'secondary', impl, await seedConfig('secondary', times));
    pri = await startSeedServer(seed.topology, seed.pri, 'primary', impl, await seedConfig('primary', times));
    await Promise.all([waitBothNormal(pri, 40_000), waitBothNormal(sec, 40_000)]);

    const dir = await seed.topology.tempDir();
    await writeFile(join(dir, 'dhclient.conf'), '# defaults\n');
    const args = dhclientArgs(dir, seed.cli.ifname, { extra: ['-cf', join(dir, 'dhclient.conf')] });
    // 1. INIT: DISCOVER … ACK; then dhclient stops without releasing (SIGTERM), keeping its lease file.
    const first = seed.cli.spawn('dhclient', args);
    await first.waitFor(/bound to \S+/, { timeoutMs: 40_000 });
    await first.stop();
    const leaseText = await readFile(join(dir, 'dhclient.leases'), 'utf8');
    const address = /fixed-address (\S+);/.exec(leaseText)?.[1];
    assert.ok(address !== undefined, leaseText);
    // Both servers must know the binding before the reboot (BNDUPD/BNDACK).
    await delay(2000);
    const mark = { primary: pri.log().length, secondary: sec.log().length };

    // 2. INIT-REBOOT: the same dhclient restarted with its lease file.
    const second = seed.cli.spawn('dhclient', args);
    const m = await second.waitFor(/DHCPACK of (\S+) from (\S+)/, { timeoutMs: 40_000 });
    await second.waitFor(/bound to \S+/, { timeoutMs: 20_000 });
    await delay(1500);
    await second.stop();
    const after = { primary: pri.log().slice(mark.primary), secondary: sec.log().slice(mark.secondary) };
    t.diagnostic(`${impl} primary after reboot:\n${after.primary}\n${impl} secondary after reboot:\n${after.secondary}`);
    const mac = SEED_CLIENT_MAC;
    const heard = (log: string): boolean => new RegExp(`DHCPREQUEST for ${address.replace(/\./g, '\\.')} from ${mac} via`).test(log);
    const acked = (log: string): boolean => new RegExp(`DHCPACK on ${address.replace(/\./g, '\\.')} to ${mac}`).test(log);
    return {
      address,
      heard: { primary: heard(after.primary), secondary: heard(after.secondary) },
      acked: { primary: acked(after.primary), secondary: acked(after.secondary) },
      from: m[2] ?? '',
    };
  } finally {
    await keepLogs(prefix, [pri, sec]);
    await pri?.stop().catch(() => undefined);
    await sec?.stop().catch(() => undefined);
    await seed.destroy();
  }
}

describe('INIT-REBOOT on a failover pair: dhcpd-ts answers as ISC dhcpd 4.4.3 does', { skip }, () => {
  test('the INIT-REBOOT REQUEST for an active lease is ACKed by the same servers in both pairs', async (t) => {
    const isc = await initReboot(t, 'irbi', 'isc');
    const ts = await initReboot(t, 'irbt', 'dhcpd-ts');
    // ISC's behaviour, observed (not assumed): both peers heard the broadcast REQUEST and both ACKed it.
    assert.deepEqual(isc.heard, { primary: true, secondary: true });
    assert.deepEqual(isc.acked, { primary: true, secondary: true }, 'ISC 4.4.3 pair');
    assert.deepEqual(ts.heard, isc.heard);
    assert.deepEqual(ts.acked, isc.acked, 'dhcpd-ts pair answers the INIT-REBOOT REQUEST like the ISC pair');
    for (const r of [isc, ts]) assert.ok([PRIMARY_ADDRESS, SECONDARY_ADDRESS].includes(r.from), r.from);
  });
});
