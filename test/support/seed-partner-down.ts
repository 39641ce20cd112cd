/**
 * Issue 5 test 3 (partner failure in the seed scenario) as a reusable run, for
 * test/integration/seed-partner-down*.test.ts. See those files for what is checked.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { delay, waitUntil } from './netns.js';
import {
  createSeedLan,
  DHCPD_TS,
  type Impl,
  inSeedRange,
  keepLogs,
  PEER,
  PRIMARY_ADDRESS,
  SECONDARY_ADDRESS,
  type SeedServer,
  seedConfig,
  startDhclient,
  startSeedServer,
  waitBothNormal,
} from './seed-scenario.js';
import { hbaBit, hbaFromSplit, loadBalanceHash } from '../../src/failover/load-balance.js';

/**
 * The MCLT of the partner-failure runs. Every wait of the run after the partner's death is MCLT-bound (A's
 * renewal at T1 of an MCLT-long lease, partner-down until the partner's leases may be used, recover-wait),
 * but two steps need it this long: client A's first renewal (at 3/4..1 of MCLT/2 after its lease) must come
 * after the partner is killed, and the kill follows the lease by 1.5 s plus reading the survivor's bindings,
 * which takes seconds on a loaded machine (at 15, A renewed before the kill at load 23); and the run before
 * MCLT ends about 9 s into partner-down (it starts 4 s in; perfdhcp sends for 3 s and waits 2 s).
 */
export const MCLT = 20;
const HBA = hbaFromSplit(128);
const macBytes = (mac: string): number[] => mac.split(':').map((h) => parseInt(h, 16));

/** A MAC 52:54:00:02:XX:NN whose bucket (chaddr hash; dhclient sends no client identifier) is `role`'s. */
function bucketMac(role: 'primary' | 'secondary', xx: number): string {
  for (let i = 0; i < 256; i++) {
    const mac = `52:54:00:02:${xx.toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`;
    if (hbaBit(HBA, loadBalanceHash(Buffer.from(macBytes(mac)))) === (role === 'primary')) return mac;
  }
  throw new Error(`no MAC in the ${role}'s buckets`);
}

/** Addresses in `state` in a server's stored bindings. */
async function addressesIn(s: SeedServer, state: string): Promise<Set<string>> {
  return new Set([...(await s.bindings()).values()].filter((b) => b.bindingState === state).map((b) => b.address));
}

function acksSince(log: string, from: number): { address: string; mac: string }[] {
  return [...log.slice(from).matchAll(/DHCPACK on (\d+\.\d+\.\d+\.\d+) to ([0-9a-f:]{17})/g)].map((m) => ({ address: m[1]!, mac: m[2]! }));
}

function runHost(cmd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

/**
 * How the survivor reaches partner-down: `command` = `dhcpd-ts partner-down` with the server stopped (the
 * recorded-state procedure ISC documents), then started again; `live` = the same command while the server
 * runs (sent over its control socket, like ISC's omshell); `auto` = `auto-partner-down 2` in the config.
 */
export type Mode = 'command' | 'live' | 'auto';

/**
 * Issue 5 test 3 for one pairing: `survivor` (default the primary) survives, the other server is killed and
 * restarted. `command` needs a dhcpd-ts survivor (ISC has only OMAPI for this).
 *
 * The survivor's own leases are its free ones (primary) or its backup ones (secondary); the partner's
 * leases are the rest of the range. A is a client of the survivor's bucket, leased while both are normal;
 * B is a client of the partner's bucket, arriving after the kill.
 */
export async function runPartnerDown(
  t: TestContext,
  prefix: string,
  mode: Mode,
  primaryImpl: Impl,
  secondaryImpl: Impl,
  survivorRole: 'primary' | 'secondary' = 'primary',
): Promise<void> {
  const survivorImpl = survivorRole === 'primary' ? primaryImpl : secondaryImpl;
  if (mode !== 'auto' && survivorImpl !== 'dhcpd-ts') throw new Error('partner-down by command needs a dhcpd-ts survivor');
  const partnerRole = survivorRole === 'primary' ? 'secondary' : 'primary';
  const aMac = bucketMac(survivorRole, 0xc1);
  const bMac = bucketMac(partnerRole, 0xc0);
  const seed = await createSeedLan(prefix, [
    { name: 'cla', mac: aMac },
    { name: 'clb', mac: bMac },
    { name: 'perf', address: '192.168.102.50/24' },
  ]);
  const times = { mclt: MCLT, defaultLeaseTime: 60, maxLeaseTime: 60, ...(mode === 'auto' ? { autoPartnerDown: 2 } : {}) };
  let pri: SeedServer | undefined;
  let sec: SeedServer | undefined;
  const context = (): string =>
    ['primary', 'secondary']
      .map((r, i) => `--- ${r}:\n${([pri, sec][i]?.log() ?? '').split('\n').filter((l) => /failover|DHCP|balanc|free leases/.test(l)).slice(-30).join('\n')}`)
      .join('\n');
  const t0 = Date.now();
  const step = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      const r = await f();
      t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
      return r;
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}\n${context()}`);
    }
  };
  try {
    sec = await startSeedServer(seed.topology, seed.sec, 'secondary', secondaryImpl, await seedConfig('secondary', times));
    pri = await startSeedServer(seed.topology, seed.pri, 'primary', primaryImpl, await seedConfig('primary', times));
    const primary = pri;
    const secondary = sec;
    await step('both normal', () => Promise.all([waitBothNormal(primary, 30_000), waitBothNormal(secondary, 30_000)]));
    await step('backup leases on the secondary', () =>
      waitUntil(async () => ((await addressesIn(secondary, 'backup')).size >= 45 ? true : undefined), { timeoutMs: 20_000, intervalMs: 300 }),
    );
    const p = survivorRole === 'primary' ? primary : secondary;
    const s = survivorRole === 'primary' ? secondary : primary;
    const survivorAddress = survivorRole === 'primary' ? PRIMARY_ADDRESS : SECONDARY_ADDRESS;

    // Client A (the survivor's bucket) is leased by the survivor while both are normal.
    const a = await startDhclient(seed.topology, seed.lan.host('cla'));
    const [aLease] = await step('client A leased', () => a.waitLeases(1, 20_000));
    assert.equal(aLease!.serverIdentifier, survivorAddress);
    // Let the partner ack A's binding, so A's renewals may get more than MCLT.
    await delay(1500);

    // Kill the partner: the survivor goes to communications-interrupted.
    const backupAtKill = await addressesIn(survivorRole === 'primary' ? p : s, 'backup');
    assert.ok(backupAtKill.size >= 45, `${survivorRole} knows ${backupAtKill.size} backup leases`);
    // The partner's leases: the backup ones for a surviving primary, all but the backup ones for a secondary.
    const partners = (address: string): boolean => (survivorRole === 'primary' ? backupAtKill.has(address) : !backupAtKill.has(address));
    const aAcksBefore = (a.process.output.match(/DHCPACK of /g) ?? []).length;
    await s.kill();
    await step('communications-interrupted', () =>
      p.process.waitFor(new RegExp(`failover peer ${PEER}: I move from normal to communications-interrupted`), { timeoutMs: 15_000 }),
    );

    // A new client of the partner's bucket is served by the survivor from its own leases.
    const b = await startDhclient(seed.topology, seed.lan.host('clb'));
    const [bLease] = await step('client B leased by the survivor', () => b.waitLeases(1, 20_000));
    assert.equal(bLease!.serverIdentifier, survivorAddress);
    assert.ok(inSeedRange(bLease!.address));
    // Never-used addresses have no record: the primary's free leases are the range less the backup ones.
    assert.ok(!partners(bLease!.address), `B got ${bLease!.address}, one of the partner's leases, before partner-down`);
    await b.process.stop();

    // A renews with the survivor (T1 of its MCLT-long first lease is at most 10 s away).
    await step('client A renewed by the survivor', () =>
      waitUntil(() => ((a.process.output.match(/DHCPACK of /g) ?? []).length > aAcksBefore ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 200,
      }),
    );
    assert.match(a.process.output.slice(a.process.output.lastIndexOf('DHCPACK of ')), new RegExp(`DHCPACK of ${aLease!.address.replace(/\./g, '\\.')} from ${survivorAddress.replace(/\./g, '\\.')}`));
    await a.process.stop();

    // Partner-down. ISC semantics: the command records `my state partner-down` (stos = now) in the stopped
    // server's store; on start the server sits in startup for 15 s (no peer STATE), then goes to the saved
    // state keeping the recorded stos. auto-partner-down moves there after N s in communications-interrupted.
    // [pdFrom, pdAt]: when the survivor entered partner-down (its stos), for the before/after-MCLT checks.
    let pdFrom: number;
    let pdAt: number;
    if (mode === 'live') {
      pdFrom = Date.now();
      const r = await runHost(DHCPD_TS, ['partner-down', '-cf', p.configFile, '-lf', p.leasesFile, '-pf', p.pidFile]);
      assert.equal(r.code, 0, `dhcpd-ts partner-down (live) failed:\n${r.out}`);
      await step('live partner-down', () =>
        p.process.waitFor(new RegExp(`failover peer ${PEER}: I move from communications-interrupted to partner-down`), { timeoutMs: 10_000 }),
      );
      pdAt = Date.now();
    } else if (mode === 'command') {
      await p.stop();
      pdFrom = Date.now();
      const r = await runHost(DHCPD_TS, ['partner-down', '-cf', p.configFile, '-lf', p.leasesFile, '-pf', p.pidFile]);
      assert.equal(r.code, 0, `dhcpd-ts partner-down failed:\n${r.out}`);
      pdAt = Date.now();
      await p.restart();
      await step('startup -> partner-down after the restart', () =>
        p.process.waitFor(new RegExp(`failover peer ${PEER}: I move from startup to partner-down`), { timeoutMs: 20_000 }),
      );
    } else {
      await step('auto-partner-down', () =>
        p.process.waitFor(new RegExp(`failover peer ${PEER}: I move from communications-interrupted to partner-down`), { timeoutMs: 10_000 }),
      );
      pdAt = Date.now();
      pdFrom = pdAt - 500;
    }
    t.diagnostic(`partner-down via ${mode}`);

    const perf = seed.lan.host('perf');
    const perfdhcp = (base: string, n: number) =>
      perf.exec('perfdhcp', ['-4', '-l', perf.ifname, '-B', '-R', String(n), '-n', String(n), '-r', '30', '-d', '2', '-W', '1500000', '-b', `mac=${base}`, '255.255.255.255'], {
        check: false,
        timeoutMs: 25_000,
      });
    let run2Clients = 90;
    if (mode !== 'command') {
      // Before MCLT: perfdhcp exhausts the survivor's own leases, and none of the partner's is given out.
      // Wait 4 s first so that these MCLT-long leases outlive the moment the backups become usable.
      await delay(4000);
      const run1Mark = p.log().length;
      await perfdhcp('00:0c:01:00:00:00', 90);
      const run1End = Date.now();
      assert.ok(run1End < pdFrom + MCLT * 1000, `run 1 ended ${run1End - pdFrom} ms after partner-down, not before MCLT`);
      const run1 = acksSince(p.log(), run1Mark);
      t.diagnostic(`before MCLT: ${run1.length} ACKs; the run ended ${((run1End - pdFrom) / 1000).toFixed(1)} s into partner-down (MCLT ${MCLT} s)`);
      assert.ok(run1.length > 0, 'no ACKs before MCLT');
      assert.deepEqual(run1.filter((x) => partners(x.address)), [], "the partner's leases handed out before MCLT had passed in partner-down");
      // ISC's words when its own leases are gone but the partner holds some.
      assert.match(p.log().slice(run1Mark), /: peer holds all free leases|: no free leases/, 'the run before MCLT did not exhaust the free leases');
      run2Clients = 20;
    }

    // After MCLT: the partner's leases are used (after the survivor's own, if any are left).
    const wait = pdAt + MCLT * 1000 + 1500 - Date.now();
    if (wait > 0) await delay(wait);
    const run2Mark = p.log().length;
    await perfdhcp('00:0c:02:00:00:00', run2Clients);
    const run2 = acksSince(p.log(), run2Mark);
    const fromBackup = run2.filter((x) => partners(x.address));
    t.diagnostic(`after MCLT: ${run2.length} ACKs, ${fromBackup.length} of them on the partner's leases`);
    assert.ok(fromBackup.length > 0, `none of the partner's leases used after MCLT in partner-down (${run2.length} ACKs)`);

    // The partner restarts; both return to normal, the partner through recover.
    const secMark = s.log().length;
    const priMark2 = p.log().length;
    await s.restart();
    await step(`the ${partnerRole} recovers to normal`, async () => {
      await s.process.waitFor(new RegExp(`failover peer ${PEER}: I move from \\S+ to recover`), { timeoutMs: 15_000 });
      await s.process.waitFor(new RegExp(`failover peer ${PEER}: I move from \\S+ to normal`), { timeoutMs: MCLT * 1000 + 15_000 });
    });
    await step(`the ${survivorRole} returns to normal`, () =>
      waitUntil(() => (new RegExp(`failover peer ${PEER}: I move from \\S+ to normal`).test(p.log().slice(priMark2)) ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 200,
      }),
    );
    assert.ok(s.log().slice(secMark).includes('recover'));

    // ISC logs and records every partner STATE, also the first one a restarted partner sends (its saved
    // state, normal, with the STARTUP flag), on which a partner-down server then takes no action
    // (failover.c dhcp_failover_peer_state_changed: "Take no action if other server is starting up").
    // Seen from an ISC survivor in seed-partner-down-isc.test.ts and seed-partner-down-secondary.test.ts.
    await t.test("the survivor logs the restarted partner's STARTUP state like ISC", () => {
      assert.match(p.log().slice(priMark2), new RegExp(`failover peer ${PEER}: peer moves from normal to normal`));
    });

    // No address is leased to two clients: active bindings agree between the two databases, and the
    // partner's leases the survivor gave out in partner-down are known to the recovered partner.
    const pb = await p.bindings();
    const check = async () => {
      const sb = await s.bindings();
      for (const x of fromBackup) {
        const there = sb.get(x.address);
        if (there?.bindingState !== 'active' || there.hardware !== x.mac) return undefined;
      }
      return sb;
    };
    const sb = await step(`the ${partnerRole} learned the partner-down leases`, () => waitUntil(check, { timeoutMs: 10_000, intervalMs: 300 }));
    let both = 0;
    for (const [addr, l] of pb) {
      const o = sb.get(addr);
      if (l.bindingState === 'active' && o?.bindingState === 'active') {
        both++;
        assert.equal(o.hardware, l.hardware, `${addr} is active for ${l.hardware} on the primary and for ${o.hardware} on the secondary`);
      }
    }
    t.diagnostic(`${both} addresses active on both servers, all for the same client`);
    assert.ok(both >= fromBackup.length);
  } finally {
    const tEnd = Date.now();
    await keepLogs(prefix, [pri, sec]);
    await seed.destroy();
    t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: cleaned up (${((Date.now() - tEnd) / 1000).toFixed(1)} s)`);
  }
}

