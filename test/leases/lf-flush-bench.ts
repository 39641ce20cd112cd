/**
 * How -lf keeps up at scale (not part of `make test`): a database of N leases (default 1,000,000), its -lf
 * written whole, then commits at RATE a second for SECONDS while a probe measures how long a marker lease
 * takes to appear in -lf, how long each flush takes (copy, append, fsync, rename), and the longest stall of
 * the event loop; then a compaction with the commits still flowing.
 *
 *   node --import tsx test/leases/lf-flush-bench.ts [N] [SECONDS] [RATE] [CHUNKS] [DIR]
 *
 * CHUNKS: flush write-back units to compare (flushSyncChunkBytes), MiB, comma-separated (default 8, the
 * mirror's default; 0: copy_file_range and one fsync at the end of each copy). Bounded: SECONDS (default 20) of commits per unit, then one compaction; the files are
 * removed at the end.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServerLeaseStore } from '../../leases/commands.js';
import { emptyLease, type Lease } from '../../leases/lease.js';

const N = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 20);
const RATE = Number(process.argv[4] ?? 100);
/** Flush write-back units to compare (MiB; 0 = one fsync at the end of each copy). */
const CHUNKS = (process.argv[5] ?? '8').split(',').map(Number);
const dir = mkdtempSync(join(process.argv[6] ?? tmpdir(), 'lf-bench-'));
const lf = join(dir, 'dhcpd.leases');
const db = join(dir, 'dhcpd.leases.sqlite');
const FIRST = 0x0a800002;

function lease(i: number, hostname: string): Lease {
  const l = emptyLease(FIRST + i);
  l.bindingState = 'active';
  l.nextBindingState = 'free';
  l.starts = Math.floor(Date.now() / 1000);
  l.ends = l.starts + 86_400;
  l.cltt = l.starts;
  l.hardware = { htype: 1, address: Buffer.from([2, (i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255, 1]) };
  l.clientHostname = hostname;
  return l;
}

/** True when the last 256 KiB of the file contain `needle`. */
function tailHas(path: string, needle: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('latin1').includes(needle);
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

let t = Date.now();
const first = openServerLeaseStore({ leaseFile: lf, database: db, mirror: false });
for (let i = 0; i < N; i += 50_000) {
  first.store.write((w) => {
    for (let j = i; j < Math.min(N, i + 50_000); j++) w.putLease(lease(j, `c${j}`));
  });
}
console.log(`database of ${N} leases: ${Date.now() - t} ms`);
// The baseline: one durable commit at a time (as the server's group commit does), no -lf at all.
const timedCommit = (store: typeof first.store, l: Lease, into: number[]): void => {
  const t0 = process.hrtime.bigint();
  store.commit([l]);
  into.push(Number(process.hrtime.bigint() - t0) / 1e6);
};
const summary = (xs: number[]): string => `p50 ${pct(xs, 0.5).toFixed(1)} p99 ${pct(xs, 0.99).toFixed(1)} max ${Math.max(...xs).toFixed(1)} ms`;
const baseline: number[] = [];
for (let i = 0, end = Date.now() + 5000; Date.now() < end; i++) {
  timedCommit(first.store, lease(i % N, `a${i}`), baseline);
  await sleep(1000 / RATE);
}
first.store.close();
console.log(`commit (fsync) latency without -lf: ${summary(baseline)} (${baseline.length} commits)`);

t = Date.now();
{
  const s0 = openServerLeaseStore({ leaseFile: lf, database: db, mirrorStartDelayMs: 0 });
  await s0.mirror!.idle();
  s0.store.close();
}
console.log(`first whole write (compaction from the database): ${Date.now() - t} ms, ${statSync(lf).size} bytes`);

let maxLag = 0;
let lastTick = Date.now();
const lagTimer = setInterval(() => {
  const now = Date.now();
  maxLag = Math.max(maxLag, now - lastTick - 10);
  lastTick = now;
}, 10);
let n = 0;

// For each write-back unit: commits at RATE/s; every 2 s a marker lease whose arrival in -lf is timed.
for (const chunkMiB of CHUNKS) {
  const s = openServerLeaseStore({ leaseFile: lf, database: db, mirror: { flushSyncChunkBytes: chunkMiB * 1024 * 1024 } });
  const m = s.mirror!;
  maxLag = 0;
  lastTick = Date.now();
  const flushMs: number[] = [];
  const commitMs: number[] = [];
  const latency: number[] = [];
  let seenAppends = m.appends;
  const end = Date.now() + SECONDS * 1000;
  let marker: { name: string; at: number } | null = null;
  let nextMarker = Date.now() + 500;
  let commits = 0;
  while (Date.now() < end) {
    timedCommit(s.store, lease(n % N, `b${n}`), commitMs);
    n++;
    commits++;
    if (marker === null && Date.now() >= nextMarker) {
      marker = { name: `marker${n}`, at: Date.now() };
      s.store.commit([lease((n * 7919) % N, marker.name)]);
    }
    if (m.appends !== seenAppends) {
      seenAppends = m.appends;
      flushMs.push(m.lastFlushDurationMs);
      if (marker !== null && tailHas(lf, `"${marker.name}"`)) {
        latency.push(Date.now() - marker.at);
        marker = null;
        nextMarker = Date.now() + 2000;
      }
    }
    await sleep(1000 / RATE);
  }
  const lag = maxLag;
  await m.idle();
  t = Date.now();
  s.store.close();
  const closeMs = Date.now() - t;
  console.log(
    `write-back ${chunkMiB === 0 ? 'at the end' : `every ${chunkMiB} MiB`}: ${commits} commits in ${SECONDS} s, ${flushMs.length} flushes, ` +
      `flush ms p50 ${pct(flushMs, 0.5)} max ${Math.max(...flushMs)}; marker commit → in -lf ms: ${latency.join(' ')}; ` +
      `event loop longest stall ${lag} ms; commit latency ${summary(commitMs)}; close ${closeMs} ms`,
  );
}

// A compaction with commits still flowing (a deletion makes one due), written back by the default unit,
// flushes by the last unit compared.
{
  const chunkMiB = CHUNKS.at(-1) ?? 8;
  const s = openServerLeaseStore({ leaseFile: lf, database: db, mirror: { flushSyncChunkBytes: chunkMiB * 1024 * 1024 } });
  const m = s.mirror!;
  maxLag = 0;
  lastTick = Date.now();
  t = Date.now();
  s.store.write((w) => w.deleteLease(FIRST));
  const appendsBefore = m.appends;
  const compactCommitMs: number[] = [];
  while (!m.rewriting && Date.now() - t < 15_000) await sleep(5);
  while (m.rewriting) {
    timedCommit(s.store, lease(n % N, `b${n}`), compactCommitMs);
    n++;
    await sleep(1000 / RATE);
  }
  const lag = maxLag;
  await m.idle();
  console.log(
    `compaction (flush write-back ${chunkMiB} MiB) with ${RATE} commits/s: ${Date.now() - t} ms, ${m.appends - appendsBefore} flushes meanwhile; ` +
      `-lf ${statSync(lf).size} bytes; event loop longest stall ${lag} ms; commit latency ${summary(compactCommitMs)}`,
  );
  t = Date.now();
  s.store.close();
  console.log(`close: ${Date.now() - t} ms`);
}
clearInterval(lagTimer);
rmSync(dir, { recursive: true, force: true });
