/**
 * `server-id-check true;` on a failover pair, differential: a pair of ISC dhcpd 4.4.3, then a pair of
 * dhcpd-ts, same configs (examples/ with that one global line added). A client holds an active lease from
 * the primary; a DHCPREQUEST for it that names the primary as server identifier is answered by the
 * primary, while the secondary — which without the check would ACK it too, the lease being active on both —
 * drops it ("not our server id", ISC dhcprequest). Both log "Setting server-id-check true" at start.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { delay, integrationSkipReason } from '../support/netns.js';
import { createSeedLan, type Impl, seedConfig, type SeedServer, waitBothNormal } from '../support/seed-scenario.js';
import { runQuery, type RunningServer, startServer } from '../support/feature-diff.js';
import { hbaBit, hbaFromSplit, loadBalanceHash } from '../../src/failover/load-balance.js';

const skip = integrationSkipReason();

/** A MAC whose RFC 3074 bucket (hash of chaddr: no client identifier is sent) is the primary's (split 128). */
function primaryMac(): string {
  const hba = hbaFromSplit(128);
  for (let i = 1; i < 256; i++) {
    const mac = [0x52, 0x54, 0x00, 0x6b, 0x00, i];
    if (hbaBit(hba, loadBalanceHash(Buffer.from(mac)))) return mac.map((b) => b.toString(16).padStart(2, '0')).join(':');
  }
  throw new Error('no primary bucket found');
}
const MAC = primaryMac();

interface Result {
  readonly started: { primary: boolean; secondary: boolean };
  readonly address: string;
  /** Message type of each server's answer to the REQUEST naming the primary, or null. */
  readonly answers: { primary: number | null; secondary: number | null };
  readonly secondaryLog: string;
}

async function scenario(t: TestContext, prefix: string, impl: Impl): Promise<Result> {
  const seed = await createSeedLan(prefix, [{ name: 'rly', address: '192.168.102.50/24' }]);
  const times = { mclt: 60, defaultLeaseTime: 600, maxLeaseTime: 600 };
  let pri: RunningServer | undefined;
  let sec: RunningServer | undefined;
  try {
    const kind = impl === 'isc' ? 'isc' : 'ts';
    const conf = async (role: 'primary' | 'secondary'): Promise<string> => `server-id-check true;\n${await seedConfig(role, times)}`;
    sec = await startServer(seed.topology, seed.sec.ns, kind, await conf('secondary'), [seed.sec.ifname]);
    pri = await startServer(seed.topology, seed.pri.ns, kind, await conf('primary'), [seed.pri.ifname]);
    const asSeed = (s: RunningServer): SeedServer => ({ process: s.process }) as SeedServer;
    await Promise.all([waitBothNormal(asSeed(pri), 40_000), waitBothNormal(asSeed(sec), 40_000)]);
    const rly = seed.lan.host('rly');
    const [first] = await runQuery(seed.topology, rly.ns, { server: '192.168.102.100', giaddr: '192.168.102.50', clients: [{ mac: MAC, prl: [1, 3, 51] }] });
    const address = first?.ack?.yiaddr;
    assert.ok(address !== undefined, `${impl}: no first lease\n${pri.process.output}`);
    await delay(3000); // BNDUPD/BNDACK: the lease is active on both
    const mark = sec.process.output.length;
    const ask = async (server: string): Promise<number | null> =>
      (await runQuery(seed.topology, rly.ns, { server, giaddr: '192.168.102.50', timeoutMs: 1500, clients: [{ mac: MAC, initReboot: address!, serverId: '192.168.102.100' }] }))[0]?.ack?.type ?? null;
    const answers = { secondary: await ask('192.168.102.101'), primary: await ask('192.168.102.100') };
    await delay(300);
    const secondaryLog = sec.process.output.slice(mark);
    t.diagnostic(`${impl} secondary:\n${secondaryLog}`);
    const started = (s: RunningServer): boolean => /^Setting server-id-check true$/m.test(s.process.output);
    return { started: { primary: started(pri), secondary: started(sec) }, address: address!, answers, secondaryLog };
  } finally {
    await pri?.stop().catch(() => undefined);
    await sec?.stop().catch(() => undefined);
    await seed.destroy();
  }
}

describe('server-id-check on a failover pair: dhcpd-ts answers as ISC dhcpd 4.4.3 does', { skip }, () => {
  test('a REQUEST naming the primary is answered by the primary only', { timeout: 180_000 }, async (t) => {
    const [isc, ts] = await Promise.all([scenario(t, 'sidi', 'isc'), scenario(t, 'sidt', 'dhcpd-ts')]);
    assert.deepEqual(isc.started, { primary: true, secondary: true });
    assert.deepEqual(ts.started, isc.started);
    // ISC, observed: the primary ACKs, the secondary drops it.
    assert.deepEqual(isc.answers, { primary: 5, secondary: null });
    assert.deepEqual(ts.answers, isc.answers);
    assert.match(ts.secondaryLog, new RegExp(`^DHCPREQUEST for ${ts.address.replace(/\./g, '\\.')} \\(192\\.168\\.102\\.100\\) from ${MAC} via 192\\.168\\.102\\.50: not our server id$`, 'm'));
  });
});
