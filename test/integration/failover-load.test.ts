/**
 * A dhcpd-ts failover pair under load: primary and secondary (the drop-in command line, `src/cli/main`) and
 * Kea's perfdhcp on one LAN in namespaces this test creates. A fresh pair reaches normal and balances its
 * pool; then perfdhcp runs 200 DORA/s for 5 s (distinct clients, broadcast, perfdhcp acting as a relay).
 * Nearly every exchange completes, both servers stay in normal, each server's database holds the bindings
 * its partner made (BNDUPD/BNDACK kept up), and memory stays bounded.
 *
 * Regression test for the pair that answered nothing at >= 250/s and grew to 1.2 GB (every DISCOVER read
 * every inactive lease of the pool; one fsync per binding update).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLan, delay, integrationSkipReason, type Lan, type LanHost, type NsProcess } from '../support/netns.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import type { Lease } from '../../leases/lease.js';

const skip = integrationSkipReason();
const fromSource = import.meta.url.endsWith('.ts');
const ROOT = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));
const MAIN = join(ROOT, fromSource ? 'src/cli/main.ts' : 'dist/src/cli/main.js');

const RATE = 200;
const SECONDS = 5;
const EXCHANGES = RATE * SECONDS;

function config(role: 'primary' | 'secondary'): string {
  const [me, peer, myPort, peerPort] = role === 'primary' ? ['10.93.0.1', '10.93.0.2', 647, 847] : ['10.93.0.2', '10.93.0.1', 847, 647];
  return `authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 3600;
max-lease-time 3600;
failover peer "fo-load" {
  ${role};
  address ${me}; port ${myPort};
  peer address ${peer}; peer port ${peerPort};
  max-response-delay 30;
  max-unacked-updates 10;
  load balance max seconds 3;
${role === 'primary' ? '  mclt 1800;\n  split 128;\n' : ''}}
subnet 10.93.0.0 netmask 255.255.0.0 {
  option routers 10.93.0.1;
  pool {
    failover peer "fo-load";
    range 10.93.1.1 10.93.12.254;
  }
}
`;
}

interface Server {
  proc: NsProcess;
  db: string;
}

async function startServer(lan: Lan, host: LanHost, role: 'primary' | 'secondary'): Promise<Server> {
  const dir = await lan.topology.tempDir();
  await writeFile(join(dir, 'dhcpd.conf'), config(role));
  await writeFile(join(dir, 'dhcpd.leases'), '');
  const args = [...(fromSource ? ['--import', 'tsx'] : []), MAIN, '-4', '-f', '-d', '-cf', join(dir, 'dhcpd.conf'), '-lf', join(dir, 'dhcpd.leases'), '-pf', join(dir, 'dhcpd.pid'), host.ifname];
  const proc = host.spawn(process.execPath, args, { cwd: ROOT });
  return { proc, db: join(dir, 'dhcpd.leases.sqlite') };
}

/** Peak resident memory of a process in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/** The last state this server moved to ("I move from X to Y"). */
function lastOwnState(output: string): string | undefined {
  return [...output.matchAll(/failover peer fo-load: I move from \S+ to (\S+)/g)].at(-1)?.[1];
}

/** Address → hardware address of the DHCPACKs a server logged. */
function acked(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of output.matchAll(/^DHCPACK on (\S+) to (\S+) /gm)) out.set(m[1]!, m[2]!);
  return out;
}

function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Leases in the backup state in a server's database (read-only, while it runs). */
function backupLeases(db: string): number {
  const store = openSqliteLeaseStore(db, { readOnly: true, integrityCheck: false });
  try {
    return store.countByState().backup ?? 0;
  } finally {
    store.close();
  }
}

function activeLeases(db: string): Map<string, Lease> {
  const store = openSqliteLeaseStore(db, { readOnly: true });
  try {
    return new Map([...store.leases({ states: ['active'] })].map((l) => [dotted(l.address), l]));
  } finally {
    store.close();
  }
}

describe('failover pair under perfdhcp load', { skip }, () => {
  let lan: Lan;
  let pri: Server;
  let sec: Server;
  let perf = '';
  let loadStartOutput = { pri: 0, sec: 0 };
  const rss = { pri: 0, sec: 0 };

  before(async () => {
    lan = await createLan('foload', [
      { name: 'pri', address: '10.93.0.1/16' },
      { name: 'sec', address: '10.93.0.2/16' },
      { name: 'cli', address: '10.93.0.10/16' },
    ]);
    pri = await startServer(lan, lan.host('pri'), 'primary');
    sec = await startServer(lan, lan.host('sec'), 'secondary');
    // A fresh pair: recover, full update both ways, then normal; the primary balances the pool (gives
    // about half of it to the secondary as backup leases).
    await pri.proc.waitFor(/I move from \S+ to normal/, { timeoutMs: 60_000 });
    await sec.proc.waitFor(/I move from \S+ to normal/, { timeoutMs: 60_000 });
    await pri.proc.waitFor(/^balanced pool /m, { timeoutMs: 30_000 });
    // ...and until the balancing updates have reached the secondary (its database holds as many backup
    // leases as the primary gave; at most 20 s): on a busy disk they would otherwise still be flowing, one
    // fsync per batch, during the load. (ISC logs nothing per accepted update, and neither do we.)
    const given = Number(/^balanced pool .* backup (\d+) /m.exec(pri.proc.output)?.[1] ?? 0);
    for (let end = Date.now() + 20_000; Date.now() < end && backupLeases(sec.db) < given; await delay(250));
    // Warm-up (JIT, SQLite caches, the balancing updates reach the secondary), then the measured run.
    await lan.host('cli').exec('perfdhcp', ['-4', '-l', 'eth0', '-r', '50', '-n', '100', '-p', '4', '-R', '100', '-b', 'mac=00:0c:01:00:00:00'], { check: false, timeoutMs: 30_000 });
    await delay(1000);
    loadStartOutput = { pri: pri.proc.output.length, sec: sec.proc.output.length };
    // -d 3: an exchange counts as dropped only after 3 s (a busy 2-core CI machine).
    const r = await lan.host('cli').exec(
      'perfdhcp',
      ['-4', '-l', 'eth0', '-r', String(RATE), '-n', String(EXCHANGES), '-p', String(SECONDS + 4), '-R', String(EXCHANGES), '-d', '3', '-b', 'mac=00:0c:02:00:00:00'],
      { check: false, timeoutMs: 60_000 },
    );
    perf = r.stdout + r.stderr;
    // Let the last binding updates be acked.
    await delay(2000);
    rss.pri = await peakRssMiB(pri.proc.pid);
    rss.sec = await peakRssMiB(sec.proc.pid);
  });

  after(async () => {
    await lan?.destroy();
  });

  test(`the pair answers at least 99% of ${EXCHANGES} new clients at ${RATE}/s, in time`, (t) => {
    const sent = [...perf.matchAll(/sent packets: (\d+)/g)].map((m) => Number(m[1]));
    const received = [...perf.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(received.length, 2, perf);
    t.diagnostic(`perfdhcp: DISCOVERs sent ${sent[0]}, OFFERs received ${received[0]}, ACKs received ${received[1]}`);
    assert.ok(sent[0]! >= EXCHANGES * 0.98, `DISCOVERs sent: ${sent[0]}\n${perf}`);
    // Server side: of the clients whose DISCOVER reached both servers (a busy host's bridge may lose a few
    // before either sees them), the pair offered to >= 99%, and ACKed >= 99% of the REQUESTs it got.
    const p = pri.proc.output.slice(loadStartOutput.pri);
    const s = sec.proc.output.slice(loadStartOutput.sec);
    const macs = (text: string, re: RegExp): Set<string> => new Set([...text.matchAll(re)].map((m) => m[1]!));
    const discoverBoth = [...macs(p, /^DHCPDISCOVER from (\S+)/gm)].filter((m) => macs(s, /^DHCPDISCOVER from (\S+)/gm).has(m));
    const offered = new Set([...macs(p, /^DHCPOFFER on \S+ to (\S+)/gm), ...macs(s, /^DHCPOFFER on \S+ to (\S+)/gm)]);
    const requested = new Set([...macs(p, /^DHCPREQUEST for \S+ \S+ from (\S+) via \S+$/gm), ...macs(s, /^DHCPREQUEST for \S+ \S+ from (\S+) via \S+$/gm)]);
    const ackedMacs = new Set([...acked(p).values(), ...acked(s).values()]);
    const offeredBoth = discoverBoth.filter((m) => offered.has(m)).length;
    const ackedRequests = [...requested].filter((m) => ackedMacs.has(m)).length;
    t.diagnostic(`servers: ${discoverBoth.length} clients' DISCOVERs reached both, ${offeredBoth} offered; ${requested.size} REQUESTs answerable, ${ackedRequests} ACKed`);
    const notes = [pri, sec].flatMap((x) => x.proc.output.split('\n').filter((l) => /Overloaded|error|failed|timeout/i.test(l)));
    // A server that stalls loses packets at its socket: this is where the regression showed (55 of 1,000).
    const seen = (text: string): number => macs(text, /^DHCPDISCOVER from (\S+)/gm).size;
    assert.ok(
      discoverBoth.length >= EXCHANGES * 0.9,
      `only ${discoverBoth.length} DISCOVERs reached both servers (primary saw ${seen(p)}, secondary ${seen(s)}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')})\n${notes.join('\n')}`,
    );
    assert.ok(offeredBoth >= Math.ceil(discoverBoth.length * 0.99), `offered ${offeredBoth} of ${discoverBoth.length}\n${notes.join('\n')}`);
    assert.ok(ackedRequests >= Math.ceil(requested.size * 0.99), `ACKed ${ackedRequests} of ${requested.size} REQUESTs\n${notes.join('\n')}`);
    // End to end, in time (perfdhcp counts an answer later than 3 s as a drop): the overloaded pair of the
    // regression completed 65% here; a healthy one completes ~99-100% (less only when the host drops packets).
    assert.ok(received[1]! >= Math.ceil(sent[0]! * 0.9), `ACKs received: ${received[1]} for ${sent[0]} DISCOVERs\n${notes.join('\n')}\n${perf}`);
  });

  test('both servers answered part of the load and stayed in normal', (t) => {
    for (const [name, s, from] of [['primary', pri, loadStartOutput.pri], ['secondary', sec, loadStartOutput.sec]] as const) {
      assert.equal(s.proc.hasExited, false, `${name} exited:\n${s.proc.output.slice(-3000)}`);
      const during = s.proc.output.slice(from);
      t.diagnostic(`${name}: ${(during.match(/^DHCPDISCOVER /gm) ?? []).length} DISCOVERs seen, ${(during.match(/^DHCPOFFER /gm) ?? []).length} OFFERs, ${acked(during).size} ACKs`);
      assert.equal(lastOwnState(s.proc.output), 'normal', `${name}:\n${s.proc.output.slice(-3000)}`);
      assert.doesNotMatch(during, /I move from normal to|peer moves from normal to|timeout waiting for failover peer|disconnected/, `${name} left normal under load`);
      assert.ok(acked(during).size >= EXCHANGES * 0.2, `${name} ACKed only ${acked(during).size} clients`);
    }
  });

  test(`peak memory stays bounded (VmHWM < 400 MiB each)`, (t) => {
    t.diagnostic(`VmHWM primary ${rss.pri.toFixed(0)} MiB, secondary ${rss.sec.toFixed(0)} MiB`);
    assert.ok(rss.pri > 0 && rss.pri < 400, `primary VmHWM ${rss.pri.toFixed(0)} MiB`);
    assert.ok(rss.sec > 0 && rss.sec < 400, `secondary VmHWM ${rss.sec.toFixed(0)} MiB`);
  });

  test("each server's database holds the bindings its partner made (same client, active)", async () => {
    const priAcks = acked(pri.proc.output.slice(loadStartOutput.pri));
    const secAcks = acked(sec.proc.output.slice(loadStartOutput.sec));
    await pri.proc.stop('SIGTERM', 5000);
    await sec.proc.stop('SIGTERM', 5000);
    for (const [name, acks, db] of [['secondary has the primary\'s', priAcks, sec.db], ['primary has the secondary\'s', secAcks, pri.db]] as const) {
      const leases = activeLeases(db);
      const missing: string[] = [];
      for (const [address, mac] of acks) {
        const l = leases.get(address);
        const hw = l?.hardware ? [...l.hardware.address].map((b) => b.toString(16).padStart(2, '0')).join(':') : undefined;
        if (hw !== mac) missing.push(`${address} ${mac} (has ${hw ?? 'none'})`);
      }
      assert.deepEqual(missing.slice(0, 10), [], `${name} bindings: ${missing.length} of ${acks.size} missing`);
    }
  });
});
