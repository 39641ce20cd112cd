/**
 * A client in INIT-REBOOT (ISC dhclient restarted with its lease file: a broadcast DHCPREQUEST with the
 * requested-address option and no server identifier) on the seed failover pair, differential: first a pair
 * of real ISC dhcpd 4.4.3, then a pair of dhcpd-ts, same configs (examples/, times shortened), same client.
 *
 * ISC 4.4.3 does no load balancing on DHCPREQUEST (server/dhcp.c dhcprequest: "load balance to peer - is not
 * done at all for request"; its comment accepts that both servers ACK a broadcast REQUEST for a lease both
 * can serve). So for an active lease both peers answer the INIT-REBOOT REQUEST; dhcpd-ts must do the same —
 * neither more (one answering while ISC has two) nor less. The lease being seconds old, ISC answers it
 * unaltered (dhcp-cache-threshold), so neither peer writes it or sends a binding update; nor may dhcpd-ts.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delay, dhclientArgs, integrationSkipReason } from '../support/netns.js';
import { createSeedLan, type Impl, PRIMARY_ADDRESS, SECONDARY_ADDRESS, SEED_CLIENT_MAC, type SeedServer, seedConfig, waitBothNormal } from '../support/seed-scenario.js';
import { type RunningServer, startServer } from '../support/feature-diff.js';

const skip = integrationSkipReason();

/** What each server of the pair did with the client's INIT-REBOOT REQUEST. */
interface RebootResult {
  readonly address: string;
  /** Per role: the server logged a DHCPREQUEST for the address without server identifier, and its ACK. */
  readonly heard: { primary: boolean; secondary: boolean };
  readonly acked: { primary: boolean; secondary: boolean };
  /** The DHCPACK that dhclient took (its "DHCPACK of A from S" line). */
  readonly from: string;
  /** The server answered with the lease unaltered (dhcp-cache-threshold: no write, no binding update). */
  readonly reused: { primary: boolean; secondary: boolean };
  /** Failover binding-update log lines about the address after the reboot. */
  readonly bindUpdates: string[];
}

async function initReboot(t: TestContext, prefix: string, impl: Impl): Promise<RebootResult> {
  const seed = await createSeedLan(prefix);
  const times = { mclt: 60, defaultLeaseTime: 600, maxLeaseTime: 600 };
  let pri: RunningServer | undefined;
  let sec: RunningServer | undefined;
  try {
    // dhcpd-ts from this checkout (sources or dist, as the test runs), by its real command line.
    const kind = impl === 'isc' ? 'isc' : 'ts';
    sec = await startServer(seed.topology, seed.sec.ns, kind, await seedConfig('secondary', times), [seed.sec.ifname]);
    pri = await startServer(seed.topology, seed.pri.ns, kind, await seedConfig('primary', times), [seed.pri.ifname]);
    const asSeed = (s: RunningServer): SeedServer => ({ process: s.process }) as SeedServer;
    await Promise.all([waitBothNormal(asSeed(pri), 40_000), waitBothNormal(asSeed(sec), 40_000)]);

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
    await delay(3000);
    const mark = { primary: pri.process.output.length, secondary: sec.process.output.length };

    // 2. INIT-REBOOT: the same dhclient restarted with its lease file.
    const second = seed.cli.spawn('dhclient', args);
    const m = await second.waitFor(/DHCPACK of (\S+) from (\S+)/, { timeoutMs: 40_000 });
    await second.waitFor(/bound to \S+/, { timeoutMs: 20_000 });
    await delay(1500);
    await second.stop();
    const after = { primary: pri.process.output.slice(mark.primary), secondary: sec.process.output.slice(mark.secondary) };
    t.diagnostic(`${impl} primary after reboot:\n${after.primary}\n${impl} secondary after reboot:\n${after.secondary}`);
    const mac = SEED_CLIENT_MAC;
    const heard = (log: string): boolean => new RegExp(`DHCPREQUEST for ${address.replace(/\./g, '\\.')} from ${mac} via`).test(log);
    const acked = (log: string): boolean => new RegExp(`DHCPACK on ${address.replace(/\./g, '\\.')} to ${mac}`).test(log);
    return {
      address,
      heard: { primary: heard(after.primary), secondary: heard(after.secondary) },
      acked: { primary: acked(after.primary), secondary: acked(after.secondary) },
      from: m[2] ?? '',
      reused: {
        primary: new RegExp(`^reuse_lease: .* existing lease for ${address.replace(/\./g, '\\.')}$`, 'm').test(after.primary),
        secondary: new RegExp(`^reuse_lease: .* existing lease for ${address.replace(/\./g, '\\.')}$`, 'm').test(after.secondary),
      },
      bindUpdates: (after.primary + after.secondary).split('\n').filter((l) => /bind update|Sent update|BNDUPD/i.test(l) && l.includes(address)),
    };
  } finally {
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
    // The lease is a few seconds old: ISC answers it unaltered on both peers (dhcp-cache-threshold), so no
    // duelling binding updates follow; dhcpd-ts likewise.
    assert.deepEqual(isc.reused, { primary: true, secondary: true });
    assert.deepEqual(ts.reused, isc.reused);
    assert.deepEqual(ts.bindUpdates, [], 'dhcpd-ts pair: no binding updates after the reused ACKs');
  });
});
