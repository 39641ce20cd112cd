/**
 * Lease store benchmark: durable commit rates (one lease per transaction vs group commit), and start-up
 * with 1,000,000 leases (open + integrity check, and loading every lease).
 *
 * Run: node --import tsx bench/lease-store.bench.ts [leaseCount] [dir]
 * (after `make build`: node dist/bench/lease-store.bench.js). Files go to a temp folder that is removed.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLeaseStore } from '../leases/sqlite-lease-store.js';
import { GroupCommitter } from '../leases/group-commit.js';
import { emptyLease, type Lease } from '../leases/lease.js';
import { storeContents, writeLeaseFile } from '../leases/isc-lease-file.js';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'lease-bench-'));

function lease(i: number): Lease {
  const l = emptyLease(0x0a000000 + i);
  l.bindingState = i % 3 === 0 ? 'free' : 'active';
  l.nextBindingState = 'free';
  l.starts = 1_764_000_000 + (i % 3600);
  l.ends = l.starts + 7200;
  l.tstp = l.ends;
  l.cltt = l.starts;
  l.hardware = { htype: 1, address: Buffer.from([2, 0, (i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]) };
  l.uid = Buffer.from([1, 2, 0, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]);
  if (i % 4 === 0) l.clientHostname = `host-${i}`;
  return l;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function report(name: string, value: string): void {
  console.log(`${name.padEnd(52)} ${value}`);
}

async function main(): Promise<void> {
  console.log(`lease store benchmark, ${N} leases, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  try {
    // 1. Durable commits: one lease per transaction (one fsync each) vs one transaction per event-loop turn.
    {
      const s = openSqliteLeaseStore(join(dir, 'commit.sqlite'));
      const n1 = 500;
      let t0 = process.hrtime.bigint();
      for (let i = 0; i < n1; i++) s.commit([lease(i)]);
      const single = ms(t0);
      report('WAL/FULL, 1 lease per commit', `${Math.round((n1 / single) * 1000)} leases/s (${(single / n1).toFixed(3)} ms/commit)`);

      for (const perTurn of [10, 100, 1000]) {
        const gc = new GroupCommitter(s);
        const turns = Math.max(20, Math.floor(20_000 / perTurn));
        t0 = process.hrtime.bigint();
        for (let t = 0; t < turns; t++) {
          const ps: Promise<void>[] = [];
          for (let k = 0; k < perTurn; k++) ps.push(gc.commit([lease(10_000 + t * perTurn + k)]));
          await Promise.all(ps);
        }
        const el = ms(t0);
        report(
          `WAL/FULL, group commit, ${perTurn} requests per turn`,
          `${Math.round(((turns * perTurn) / el) * 1000)} leases/s, ${Math.round((turns / el) * 1000)} commits/s (${gc.stats.transactions} txns)`,
        );
      }
      s.close();
      const n2 = 5000;
      const s2 = openSqliteLeaseStore(join(dir, 'commit-normal.sqlite'), { dontUseFsync: true });
      t0 = process.hrtime.bigint();
      for (let i = 0; i < n2; i++) s2.commit([lease(i)]);
      const normal = ms(t0);
      report('WAL/NORMAL (dont-use-fsync), 1 lease per commit', `${Math.round((n2 / normal) * 1000)} leases/s`);
      s2.close();
    }

    // 2. Start-up with N leases.
    const path = join(dir, 'big.sqlite');
    {
      const s = openSqliteLeaseStore(path, { dontUseFsync: true });
      const t0 = process.hrtime.bigint();
      const batch = 10_000;
      for (let i = 0; i < N; i += batch) {
        const ls: Lease[] = [];
        for (let k = i; k < Math.min(N, i + batch); k++) ls.push(lease(k));
        s.commit(ls);
      }
      const el = ms(t0);
      s.close();
      report(`build ${N} leases (10k per txn)`, `${(el / 1000).toFixed(2)} s, ${(statSync(path).size / 1e6).toFixed(0)} MB`);
    }
    for (const check of ['quick', true, false] as const) {
      const t0 = process.hrtime.bigint();
      const c0 = cpuMs();
      const s = openSqliteLeaseStore(path, { integrityCheck: check });
      const opened = ms(t0);
      const cpu = cpuMs() - c0;
      s.close();
      report(
        `open ${N} leases, integrity check ${check === true ? 'full' : check === 'quick' ? 'quick' : 'off'}`,
        `${(opened / 1000).toFixed(2)} s wall, ${(cpu / 1000).toFixed(2)} s CPU`,
      );
    }
    {
      const c0 = cpuMs();
      const t0 = process.hrtime.bigint();
      const s = openSqliteLeaseStore(path, { integrityCheck: 'quick' });
      let n = 0;
      let active = 0;
      for (const l of s.loadAll()) {
        n++;
        if (l.bindingState === 'active') active++;
      }
      const el = ms(t0);
      const cpu = cpuMs() - c0;
      const t1 = process.hrtime.bigint();
      const counts = s.countByState();
      const countMs = ms(t1);
      const t2 = process.hrtime.bigint();
      const hw = s.getByHardware({ htype: 1, address: Buffer.from([2, 0, 0, 7, 161, 32]) });
      const lookupMs = ms(t2);
      s.close();
      report(
        `open (quick check) + load all ${n} leases as Lease objects`,
        `${(el / 1000).toFixed(2)} s wall, ${(cpu / 1000).toFixed(2)} s CPU (${active} active)`,
      );
      report('countByState over all leases', `${countMs.toFixed(0)} ms ${JSON.stringify(counts)}`);
      report('getByHardware (indexed)', `${lookupMs.toFixed(2)} ms, ${hw.length} found`);
    }
    {
      // A whole -lf rewrite (start, shutdown, hourly in the mirror): streamed, bounded memory.
      const s = openSqliteLeaseStore(path, { integrityCheck: false });
      const c0 = cpuMs();
      const t0 = process.hrtime.bigint();
      const r = writeLeaseFile(join(dir, 'dhcpd.leases'), storeContents(s), { now: 0 });
      const el = ms(t0);
      const cpu = cpuMs() - c0;
      s.close();
      report(`write ${N} leases as ISC dhcpd.leases`, `${(el / 1000).toFixed(2)} s wall, ${(cpu / 1000).toFixed(2)} s CPU, ${(r.bytes / 1e6).toFixed(0)} MB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
