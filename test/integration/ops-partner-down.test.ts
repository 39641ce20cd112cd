/**
 * Issue 5: the operator's partner-down on a RUNNING server (what ISC needs omshell for), through
 * `dhcpd-ts partner-down`, which talks to the server's control socket `<pid file>.ctl`.
 *
 * Two dhcpd-ts servers in failover (the seed scenario's example configs, small MCLT) in namespaces this
 * test creates. While both are normal the command is refused (exit 1, state untouched). The secondary is
 * killed by PID; the primary logs communications-interrupted; the command moves it at once
 * (`failover peer NAME: I move from communications-interrupted to partner-down`, ISC's line), exit 0; after
 * MCLT, perfdhcp clients are served from the partner's backup leases as well. The socket is mode 0600 and
 * gone after the server stops.
 *
 * Needs `make build`.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delay, integrationSkipReason } from '../support/netns.js';
import { acks, createSeedLan, DHCPD_TS, keepLogs, PEER, type SeedServer, seedConfig, startSeedServer, waitBothNormal } from '../support/seed-scenario.js';
import { waitUntil } from '../support/netns.js';

const skip = integrationSkipReason();
const MCLT = 10;

function runHost(args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(DHCPD_TS, [...args], { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

async function addressesIn(s: SeedServer, state: string): Promise<Set<string>> {
  return new Set([...(await s.bindings()).values()].filter((b) => b.bindingState === state).map((b) => b.address));
}

async function run(t: TestContext): Promise<void> {
  const seed = await createSeedLan('opspd', [{ name: 'perf', address: '192.168.102.50/24' }]);
  const times = { mclt: MCLT, defaultLeaseTime: 120, maxLeaseTime: 120 };
  let pri: SeedServer | undefined;
  let sec: SeedServer | undefined;
  try {
    sec = await startSeedServer(seed.topology, seed.sec, 'secondary', 'dhcpd-ts', await seedConfig('secondary', times));
    pri = await startSeedServer(seed.topology, seed.pri, 'primary', 'dhcpd-ts', await seedConfig('primary', times));
    const p = pri;
    const s = sec;
    await Promise.all([waitBothNormal(p, 30_000), waitBothNormal(s, 30_000)]);
    await waitUntil(async () => ((await addressesIn(s, 'backup')).size >= 45 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 300,
      what: 'the secondary to hold its backup leases',
    });

    const ctl = `${p.pidFile}.ctl`;
    const st = statSync(ctl);
    assert.ok(st.isSocket(), `${ctl} is not a socket`);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);

    const cmd = ['partner-down', '-cf', p.configFile, '-lf', p.leasesFile, '-pf', p.pidFile];
    // Both normal: refused by the running server, nothing changes.
    const early = await runHost(cmd);
    assert.equal(early.code, 1, early.out);
    assert.match(early.out, /refused in state normal \(partner state normal\)/);
    const unknown = await runHost([...cmd, 'nope']);
    assert.equal(unknown.code, 1, unknown.out);
    assert.match(unknown.out, /unknown failover peer "nope"/);
    assert.doesNotMatch(p.log(), /to partner-down/);

    // Kill the partner by PID: the survivor goes to communications-interrupted.
    const backupAtKill = await addressesIn(p, 'backup');
    assert.ok(backupAtKill.size >= 45, `primary knows ${backupAtKill.size} backup leases`);
    await s.kill();
    await p.process.waitFor(new RegExp(`failover peer ${PEER}: I move from normal to communications-interrupted`), { timeoutMs: 15_000 });

    // The operator's command, live.
    const mark = p.log().length;
    const r = await runHost([...cmd, PEER]);
    const pdAt = Date.now();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`failover peer ${PEER}: moved from communications-interrupted to partner-down\\.`));
    assert.match(r.out, new RegExp(`failover peer ${PEER}: my state partner-down, partner state \\S+, mclt ${MCLT} \\(server pid ${p.process.pid}\\)`));
    await p.process.waitFor(new RegExp(`failover peer ${PEER}: I move from communications-interrupted to partner-down`), { timeoutMs: 5000 });
    assert.ok(p.log().indexOf('to partner-down', mark) >= 0);
    // Asking again is harmless.
    const again = await runHost(cmd);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /already in partner-down/);

    // After MCLT the partner's backup leases are given out too: more clients than the primary's own free leases.
    const wait = pdAt + MCLT * 1000 + 1500 - Date.now();
    if (wait > 0) await delay(wait);
    const perf = seed.lan.host('perf');
    const runMark = p.log().length;
    await perf.exec('perfdhcp', ['-4', '-l', perf.ifname, '-B', '-R', '80', '-n', '80', '-r', '25', '-d', '2', '-W', '1500000', '-b', 'mac=00:0c:03:00:00:00', '255.255.255.255'], {
      check: false,
      timeoutMs: 20_000,
    });
    const got = acks(p.log().slice(runMark));
    const fromBackup = got.filter((x) => backupAtKill.has(x.address));
    t.diagnostic(`${got.length} ACKs after MCLT in partner-down, ${fromBackup.length} on the partner's backup leases`);
    assert.ok(fromBackup.length > 0, `no backup lease used after MCLT in partner-down (ACKs: ${JSON.stringify(got.slice(0, 5))})`);
    const stored = await p.bindings();
    for (const x of fromBackup) assert.equal(stored.get(x.address)?.bindingState, 'active', `${x.address} not stored active`);

    await p.stop();
    assert.equal(existsSync(ctl), false, 'control socket left after SIGTERM');
  } finally {
    await keepLogs('opspd', [pri, sec]);
    await seed.destroy();
  }
}

describe('operator partner-down on a running server', { skip }, () => {
  test('dhcpd-ts pair: partner killed, `dhcpd-ts partner-down` live, backup leases after MCLT', { timeout: 120_000 }, (t) => run(t));
});
