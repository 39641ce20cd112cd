/**
 * `make test`'s runner: every dist/test/**\/*.test.js with node:test, in two phases.
 *
 * 1. Most files run several at a time (`--jobs`, default 4 on this 2-core machine): the integration files
 *    spend their time waiting on failover timers, MCLT, dhclient and ISC dhcpd, not on the CPU, and each
 *    one works in network namespaces and temporary folders of its own (unique prefixes; netns.ts), so they
 *    do not meet. The slowest files start first, so that the phase does not end with one long file alone.
 * 2. The files in {@link SERIAL} then run one at a time with the machine to themselves: load generators and
 *    tests whose assertions bound rates or latencies (they were written for an idle machine).
 *
 * Same files, same tests, same assertions as `node --test --test-concurrency=1`; node's spec reporter output
 * (per phase), then the slowest files and the phase times. Exit status 1 if any test failed (a failing
 * `todo` test does not count, as with `node --test`).
 *
 * Usage: node dist/test/support/suite-run.js [--jobs N] [--serial-only | --parallel-only] [SUBSTRING …]
 * (SUBSTRINGs keep only the files whose path contains one of them). TEST_JOBS in the environment sets the
 * default for --jobs.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

/** dist/test (this file is dist/test/support/suite-run.js), or test/ when run from source with tsx. */
const TEST_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXT = import.meta.url.endsWith('.ts') ? '.test.ts' : '.test.js';

/**
 * Files (paths under test/, without the extension) that must have the machine to themselves, and why.
 * A new load or latency test belongs here.
 */
export const SERIAL: Readonly<Record<string, string>> = {
  'integration/server-perfdhcp-flood': 'unpaced perfdhcp flood; a dhclient must bind within 45 s of its start',
  'integration/server-perfdhcp': 'perfdhcp at 100/s: at least 475 of 500 exchanges answered',
  'integration/net-burst': '500 DORA/s for 2 s: drops bounded',
  'integration/net-ping': 'ping-check answered in < 900 ms',
  'integration/failover-load': 'perfdhcp against a failover pair: 99 % answered, both servers stay normal',
  'integration/reliability-overload': '3000 DISCOVERs/s for 15 s while clients renew',
  'integration/reliability-packet-fuzz': '5000 datagrams/s for 10 s',
  'integration/reliability-offer-memory': '20 000 relayed DISCOVERs; memory bound',
  'integration/reliability-failover-fuzz': '1000 connections at once in the test process; slowloris ended within start-up + 3 s',
  'integration/leases-crash': 'perfdhcp at 100/s; tcpdump must see at least 50 of the ACKs sent before the SIGKILL',
  'integration/server-failover-transition':
    'two pairs side by side must give lease times within 1 s of each other: the time between their steps must not drift',
};

/**
 * Rough seconds of the slow files (4 at a time on the 2-core machine, 2026-11-29), only to start the slowest
 * first; a file not listed counts as 1 s. Stale figures cost time, never correctness.
 */
const SECONDS: Readonly<Record<string, number>> = {
  'integration/seed-partner-down': 59,
  'integration/seed-partner-down-secondary': 54,
  'leases/lease-file-stream': 54,
  'leases/isc-lease-file': 52,
  'integration/reliability-disk': 47,
  'integration/seed-partner-down-isc': 47,
  'integration/reliability-failover-server': 46,
  'leases/lease-file-start': 45,
  'integration/leases-isc': 36,
  'cli/lease-test-stream': 36,
  'integration/ops-partner-down': 33,
  'integration/seed-pair': 32,
  'integration/failover-isc': 32,
  'integration/server-differential': 31,
  'integration/reliability-crash': 29,
  'integration/server-init-reboot-failover': 25,
  'integration/server-lease-hostnames': 25,
  'integration/server-on-release': 25,
  'integration/server-cache-threshold': 25,
  'integration/server-execute': 21,
  'wire/fuzz': 18,
  'integration/server-site-option-space': 17,
  'integration/seed-load-balance': 16,
  'integration/cli-debian-init': 15,
  'integration/server-clients': 14,
  'integration/demo': 13,
  'integration/server-id-check': 9,
  'integration/server-leasequery': 9,
  'leases/sqlite-lease-store': 7,
  'integration/server-seed-failover': 5,
  'integration/cli-daemon': 5,
  'integration/server-ping-check': 5,
  'log/logger': 6,
};

/** The 1- and 5-minute load averages, to read the times by (the machine may be shared). */
function load(): string {
  return loadavg()
    .slice(0, 2)
    .map((x) => x.toFixed(1))
    .join(' ');
}

function listTests(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTests(p));
    else if (e.isFile() && e.name.endsWith(EXT)) out.push(p);
  }
  return out;
}

/** `integration/seed-pair` for …/test/integration/seed-pair.test.js. */
function key(file: string): string {
  return relative(TEST_ROOT, file).split(sep).join('/').slice(0, -EXT.length);
}

interface PhaseResult {
  readonly failed: number;
  readonly seconds: number;
  /** Sum of the durations of each file's top-level tests, in seconds. */
  readonly perFile: Map<string, number>;
}

async function runPhase(title: string, files: readonly string[], concurrency: number): Promise<PhaseResult> {
  const perFile = new Map<string, number>();
  if (files.length === 0) return { failed: 0, seconds: 0, perFile };
  process.stdout.write(`\n=== ${title}: ${files.length} files, ${concurrency} at a time (load average ${load()})\n`);
  const started = Date.now();
  let failed = 0;
  const stream = run({ files, concurrency });
  stream.on('test:fail', (data) => {
    if (!data.todo) failed++;
  });
  const addTime = (data: { file?: string; nesting: number; details: { duration_ms: number } }): void => {
    if (data.nesting !== 0 || !data.file) return;
    const k = key(data.file);
    perFile.set(k, (perFile.get(k) ?? 0) + data.details.duration_ms / 1000);
  };
  stream.on('test:pass', addTime);
  stream.on('test:fail', addTime);
  const out = stream.compose(new spec());
  out.pipe(process.stdout, { end: false });
  await new Promise<void>((resolve, reject) => {
    out.once('end', resolve);
    out.once('error', reject);
  });
  const seconds = (Date.now() - started) / 1000;
  const testSeconds = [...perFile.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(
    `=== ${title}: ${seconds.toFixed(0)} s for ${testSeconds.toFixed(0)} s of tests${failed ? `, ${failed} failed` : ''} (load average ${load()})\n`,
  );
  return { failed, seconds, perFile };
}

async function main(argv: readonly string[]): Promise<number> {
  let jobs = Number(process.env['TEST_JOBS'] ?? 4);
  let which: 'both' | 'serial' | 'parallel' = 'both';
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--jobs') jobs = Number(argv[++i]);
    else if (a === '--serial-only') which = 'serial';
    else if (a === '--parallel-only') which = 'parallel';
    else filters.push(a);
  }
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`bad --jobs/TEST_JOBS: ${jobs}`);
  const all = listTests(TEST_ROOT)
    .filter((f) => filters.length === 0 || filters.some((s) => relative(TEST_ROOT, f).includes(s)))
    .sort();
  const serial = all.filter((f) => key(f) in SERIAL);
  const weight = (f: string): number => SECONDS[key(f)] ?? 1;
  // Stable sort: equal weights keep the sorted path order.
  const parallel = all.filter((f) => !(key(f) in SERIAL)).sort((a, b) => weight(b) - weight(a));
  const results: PhaseResult[] = [];
  if (which !== 'serial') results.push(await runPhase('parallel phase', parallel, jobs));
  if (which !== 'parallel') results.push(await runPhase('serial phase (load and latency tests)', serial, 1));
  const perFile = new Map<string, number>();
  for (const r of results) for (const [k, s] of r.perFile) perFile.set(k, s);
  const slowest = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 20);
  process.stdout.write(`\nslowest files (sum of their top-level tests):\n${slowest.map(([k, s]) => `${s.toFixed(1).padStart(7)} s  ${k}`).join('\n')}\n`);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  process.stdout.write(
    `phases: ${results.map((r) => `${r.seconds.toFixed(0)} s`).join(' + ')} = ${results.reduce((s, r) => s + r.seconds, 0).toFixed(0)} s; ` +
      `${failed ? `${failed} FAILED` : 'no failures'}\n`,
  );
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`suite-run: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  },
);
