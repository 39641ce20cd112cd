/**
 * An INIT-REBOOT DHCPREQUEST for a lease in a failover transition state, differential: ISC 4.4.3 pair, then
 * a dhcpd-ts pair, same configs (examples/, times shortened). The client's lease (10 s, the MCLT) expires
 * while the primary is cut off from its partner (secondary killed: communications-interrupted), so the
 * lease goes to `expired` and stays there waiting for the partner's acknowledgement. ISC's dhcprequest
 * ignores a REQUEST for such a lease ("lease in transition state expired") only when the partner had not
 * acknowledged it active (rewind binding state); here it had, so ISC 4.4.3 ACKs the INIT-REBOOT REQUEST
 * (observed). dhcpd-ts must answer the same way, with the same lease time (the MCLT rule while cut off).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { delay, integrationSkipReason } from '../support/netns.js';
import { createSeedLan, type Impl, seedConfig, type SeedServer, waitBothNormal } from '../support/seed-scenario.js';
import { runQuery, type RunningServer, startServer } from '../support/feature-diff.js';

const skip = integrationSkipReason();
const MAC = '52:54:00:6a:00:01';

interface TransitionResult {
  readonly address: string;
  readonly firstLeaseTime: number;
  /** The primary's answer to the INIT-REBOOT REQUEST for the expired lease (message type), or null. */
  readonly answer: number | null;
  /** Its lease time (option 51), or -1. */
  readonly answerLeaseTime: number;
  readonly primaryLog: string;
}

async function scenario(t: TestContext, prefix: string, impl: Impl): Promise<TransitionResult> {
  const seed = await createSeedLan(prefix, [{ name: 'rly', address: '192.168.102.50/24' }]);
  const times = { mclt: 10, defaultLeaseTime: 600, maxLeaseTime: 600 };
  let pri: RunningServer | undefined;
  let sec: RunningServer | undefined;
  try {
    const kind = impl === 'isc' ? 'isc' : 'ts';
    sec = await startServer(seed.topology, seed.sec.ns, kind, await seedConfig('secondary', times), [seed.sec.ifname]);
    pri = await startServer(seed.topology, seed.pri.ns, kind, await seedConfig('primary', times), [seed.pri.ifname]);
    const asSeed = (s: RunningServer): SeedServer => ({ process: s.process }) as SeedServer;
    await Promise.all([waitBothNormal(asSeed(pri), 40_000), waitBothNormal(asSeed(sec), 40_000)]);
    const rly = seed.lan.host('rly');
    // Query the primary only (as a relay): DORA → a lease of MCLT = 10 s.
    const [first] = await runQuery(seed.topology, rly.ns, { server: '192.168.102.100', giaddr: '192.168.102.50', clients: [{ mac: MAC, prl: [1, 3, 51] }] });
    const address = first?.ack?.yiaddr;
    assert.ok(address !== undefined, `${impl}: no first lease\n${pri.process.output}`);
    const lt = Buffer.from(first!.ack!.options['51'] ?? '00000000', 'hex').readUInt32BE(0);
    await delay(2000); // BNDUPD/BNDACK
    // Cut the primary off: the secondary dies.
    await sec.process.stop('SIGKILL', 0);
    await pri.process.waitFor(/failover peer dhcp-failover: I move from normal to communications-interrupted/, { timeoutMs: 40_000 });
    // The lease ends (10 s) and the primary moves it to expired, where it waits for the partner.
    await delay((lt + 6) * 1000);
    const mark = pri.process.output.length;
    const [again] = await runQuery(seed.topology, rly.ns, { server: '192.168.102.100', giaddr: '192.168.102.50', timeoutMs: 2000, clients: [{ mac: MAC, initReboot: address! }] });
    await delay(300);
    const primaryLog = pri.process.output.slice(mark);
    t.diagnostic(`${impl} primary after the INIT-REBOOT REQUEST:\n${primaryLog}`);
    const a51 = again?.ack?.options['51'];
    return { address: address!, firstLeaseTime: lt, answer: again?.ack?.type ?? null, answerLeaseTime: a51 !== undefined ? Buffer.from(a51, 'hex').readUInt32BE(0) : -1, primaryLog };
  } finally {
    await pri?.stop().catch(() => undefined);
    await sec?.stop().catch(() => undefined);
    await seed.destroy();
  }
}

describe('INIT-REBOOT for an expired failover lease: dhcpd-ts answers as ISC dhcpd 4.4.3 does', { skip }, () => {
  test('a REQUEST for a lease the partner had acknowledged active, expired while cut off, is ACKed as by ISC', { timeout: 180_000 }, async (t) => {
    // The two pairs run side by side on separate bridges (they share nothing), to keep the test short.
    const [isc, ts] = await Promise.all([scenario(t, 'fotri', 'isc'), scenario(t, 'fotrt', 'dhcpd-ts')]);
    assert.equal(isc.firstLeaseTime, 10);
    assert.equal(ts.firstLeaseTime, isc.firstLeaseTime);
    // What ISC does, observed: the expired lease is ACKed again (its rewind state is active).
    assert.equal(isc.answer, 5, isc.primaryLog);
    assert.equal(ts.answer, isc.answer, ts.primaryLog);
    assert.ok(Math.abs(ts.answerLeaseTime - isc.answerLeaseTime) <= 1, `lease time: dhcpd-ts ${ts.answerLeaseTime}, ISC ${isc.answerLeaseTime}`);
    assert.match(ts.primaryLog, new RegExp(`^DHCPACK on ${ts.address.replace(/\./g, '\\.')} to ${MAC} via 192\\.168\\.102\\.50$`, 'm'));
  });
});
