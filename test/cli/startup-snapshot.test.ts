/**
 * bin/dhcpd-ts and the start-up snapshot (tools/build-startup.mjs, README "Command line"): after
 * `make build` the launcher runs node with dist/src/cli/dhcpd-ts.blob; when the blob is missing, stale
 * (another dist/, node binary, blob or CPU than its stamp names), unusable (NODE_OPTIONS) or switched off,
 * it runs dist/src/cli/main.js instead; and both ways give the same exit code and the same stderr bytes,
 * on the corpus's good and bad configs alike. With DHCPD_TS_CHECK_SNAPSHOT=1 a check (-t/-T) runs
 * dist/src/cli/dhcpd-ts-check.blob under --single-threaded instead, and falls back to dhcpd-ts.blob when
 * that one is missing or stale.
 *
 * Needs a built tree (dist/ with the snapshot, as `make build` leaves it): run built, a missing snapshot
 * fails; run from source without one, the tests skip. Fallback cases run on a private copy of the launcher and of dist/src/cli/ (the rest of
 * dist/ linked), never on the shared dist/.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARED_CORPUS_DIR } from '../support/shared-corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const repoRoot = fromSource ? join(here, '..', '..') : join(here, '..', '..', '..');
const LAUNCHER = join(repoRoot, 'bin', 'dhcpd-ts');
const CLI = join(repoRoot, 'dist', 'src', 'cli');
const BLOB = join(CLI, 'dhcpd-ts.blob');
const CHECK_BLOB = join(CLI, 'dhcpd-ts-check.blob');
const built = existsSync(join(CLI, 'dhcpd-ts.stamp')) && existsSync(BLOB);
// Run built (`make test`, after `make build`), a missing snapshot is a failure: the build must make one.
const skip = built || !fromSource ? false : 'no start-up snapshot in dist/ (run `make build`)';

test('`make build` left a start-up snapshot and its stamp in dist/src/cli/', { skip }, () => {
  assert.ok(built, `no ${BLOB} or no dhcpd-ts.stamp beside it: see the WARNING of tools/build-startup.mjs in the build's output`);
  assert.ok(existsSync(CHECK_BLOB) && existsSync(join(CLI, 'dhcpd-ts-check.stamp')), `no ${CHECK_BLOB} or no dhcpd-ts-check.stamp: see the build's WARNING`);
});

/** What the deserialized program prints first under DHCPD_TS_LAUNCH_DEBUG (only the blob has that code). */
const FROM_SNAPSHOT = /^dhcpd-ts: running from snapshot (?:--single-threaded )?--snapshot-blob (\S+)$/m;
/** The same from the check blob: its V8 flag, then the blob. */
const FROM_CHECK_SNAPSHOT = /^dhcpd-ts: running from snapshot --single-threaded --snapshot-blob (\S+\/dhcpd-ts-check\.blob)$/m;
/** The launcher's line when it runs dist/src/cli/main.js. */
const FROM_DIST = /^dhcpd-ts launcher: (\S+\/main\.js) \((.*)\)$/m;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'startup-snapshot-'));
  writeFileSync(join(dir, 'good.conf'), 'subnet 10.9.0.0 netmask 255.255.255.0 { range 10.9.0.10 10.9.0.20; }\n');
  writeFileSync(join(dir, 'bad.conf'), 'subnet 10.9.0.0 netmask 255.255.255.0 { range 10.9.0.10 10.9.0.20 }\n');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(launcher: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = dir): SpawnSyncReturns<Buffer> {
  return spawnSync(launcher, args, { cwd, env: { ...process.env, ...env }, timeout: 60_000 });
}
const debug = { DHCPD_TS_LAUNCH_DEBUG: '1' };
/** Opts a check into the check blob (not the default: STARTUP-SPEED-4.md Part 2). */
const checkDebug = { ...debug, DHCPD_TS_CHECK_SNAPSHOT: '1' };
const text = (r: SpawnSyncReturns<Buffer>): string => r.stderr.toString('latin1');
/** stderr without the two debug lines. */
const program = (r: SpawnSyncReturns<Buffer>): string =>
  text(r)
    .split('\n')
    .filter((l) => !FROM_SNAPSHOT.test(l) && !l.startsWith('dhcpd-ts launcher: '))
    .join('\n');

describe('bin/dhcpd-ts runs the start-up snapshot', { skip }, () => {
  test('a running check is node --single-threaded --snapshot-blob dist/src/cli/dhcpd-ts-check.blob (its /proc/PID/cmdline), and the deserialized program says so', async () => {
    // The config is a FIFO: the process waits on it, so its command line can be read while it runs.
    const fifo = join(dir, 'wait.conf');
    spawnSync('mkfifo', [fifo]);
    const child = spawn(LAUNCHER, ['-t', '-cf', fifo], { env: { ...process.env, ...checkDebug }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // The launcher execs node in the same process: wait until the command line is node's.
      let cmdline: string[] = [];
      for (let i = 0; i < 200 && !cmdline.includes('--snapshot-blob') && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        } catch {
          /* not yet */
        }
      }
      const i = cmdline.indexOf('--snapshot-blob');
      assert.ok(i > 0, `command line: ${cmdline.join(' ')}`);
      assert.equal(realpathSync(cmdline[i + 1]!), realpathSync(CHECK_BLOB), 'the blob named is dist/src/cli/dhcpd-ts-check.blob');
      assert.ok(cmdline.slice(0, i).includes('--single-threaded'), `the V8 flag it was built with: ${cmdline.join(' ')}`);
      assert.equal(realpathSync(`/proc/${child.pid}/exe`), realpathSync(process.execPath), 'the process is node');
    } finally {
      writeFileSync(fifo, readFileSync(join(dir, 'good.conf')));
    }
    assert.equal(await done, 0, stderr);
    assert.match(stderr, FROM_CHECK_SNAPSHOT);
    assert.doesNotMatch(stderr, FROM_DIST);
    assert.match(stderr, /^Config file: .*wait\.conf$/m);
  });

  test('--version, -h, -t, -T and a usage error: the same exit code and stderr bytes as dist/src/cli/main.js, through either blob', () => {
    writeFileSync(join(dir, 'empty.leases'), '');
    for (const args of [['--version'], ['-h'], ['-t', '-cf', 'good.conf'], ['-t', '-q', '-cf', 'bad.conf'], ['-T', '-cf', 'good.conf', '-lf', 'empty.leases'], ['-x']]) {
      const plain = spawnSync(process.execPath, [join(CLI, 'main.js'), ...args], { cwd: dir, timeout: 60_000 });
      const check = args.includes('-t') || args.includes('-T');
      for (const [env, checkBlob] of [[debug, false], [checkDebug, check]] as const) {
        const snap = run(LAUNCHER, args, env);
        assert.match(text(snap), FROM_SNAPSHOT, args.join(' '));
        assert.equal(FROM_CHECK_SNAPSHOT.test(text(snap)), checkBlob, `${args.join(' ')}: check blob only for -t/-T, when asked`);
        assert.equal(snap.status, plain.status, args.join(' '));
        assert.equal(program(snap), plain.stderr.toString('latin1'), args.join(' '));
        assert.equal(snap.stdout.length + plain.stdout.length, 0);
      }
    }
  });
});

describe('with DHCPD_TS_CHECK_SNAPSHOT=1, bin/dhcpd-ts picks the check blob only for -t/-T as src/cli/argv.ts reads them', { skip }, () => {
  // --version answers at once whatever else is there (argv.ts's first pass), so no server ever starts here.
  const cases: Array<[string[], boolean]> = [
    [['-t', '--version'], true],
    [['-q', '-T', '--version'], true],
    [['-cf', '-t', '--version'], false], // -t is -cf's file name
    [['-lf', '-T', '-pf', '-t', '--version'], false],
    [['-user', '-t', '-group', '-T', '-chroot', '-t', '-db', '-T', '-tf', '-t', '-play', '-T', '-s', '-t', '-p', '-T', '--version'], false],
    [['-cf', 'x', '-t', '--version'], true],
    [['--', '-t', '--version'], false], // after --, interface names
    [['import', '-t', '--version'], false], // a subcommand: never a check
    [['-4', '-f', '--version'], false],
    [['-tf', '--version'], false],
  ];
  for (const [args, check] of cases) {
    test(`${args.join(' ')}: ${check ? 'check blob' : 'normal blob'}, same answer as main.js`, () => {
      const r = run(LAUNCHER, args, checkDebug);
      assert.match(text(r), FROM_SNAPSHOT);
      assert.equal(FROM_CHECK_SNAPSHOT.test(text(r)), check, text(r));
      const plain = spawnSync(process.execPath, [join(CLI, 'main.js'), ...args], { cwd: dir, timeout: 60_000 });
      assert.equal(r.status, plain.status);
      assert.deepEqual(r.stdout, plain.stdout);
      assert.equal(program(r), plain.stderr.toString('latin1'));
    });
  }
});

describe('bin/dhcpd-ts falls back to dist/src/cli/main.js', { skip }, () => {
  /** A private tree: bin/dhcpd-ts and dist/src/cli/ copied; the rest of dist/, package.json, node_modules linked. */
  let tree = '';
  let launcher = '';
  let cli = '';
  before(() => {
    tree = join(dir, 'tree');
    mkdirSync(join(tree, 'bin'), { recursive: true });
    mkdirSync(join(tree, 'dist', 'src'), { recursive: true });
    cpSync(LAUNCHER, join(tree, 'bin', 'dhcpd-ts'), { preserveTimestamps: true });
    for (const e of ['package.json', 'node_modules']) symlinkSync(join(repoRoot, e), join(tree, e));
    for (const e of readdirSync(join(repoRoot, 'dist'))) if (e !== 'src') symlinkSync(join(repoRoot, 'dist', e), join(tree, 'dist', e));
    for (const e of readdirSync(join(repoRoot, 'dist', 'src'))) if (e !== 'cli') symlinkSync(join(repoRoot, 'dist', 'src', e), join(tree, 'dist', 'src', e));
    cli = join(tree, 'dist', 'src', 'cli');
    cpSync(CLI, cli, { recursive: true, preserveTimestamps: true });
    launcher = join(tree, 'bin', 'dhcpd-ts');
  });
  /** `node dist/src/cli/main.js ARGS` in the shared tree, once per ARGS. */
  const references = new Map<string, SpawnSyncReturns<Buffer>>();
  const reference = (args: string[]): SpawnSyncReturns<Buffer> => {
    const key = args.join('\0');
    if (!references.has(key)) references.set(key, spawnSync(process.execPath, [join(CLI, 'main.js'), ...args], { cwd: dir, timeout: 60_000 }));
    return references.get(key)!;
  };

  /**
   * A good and a bad -t check in the private tree: they ran main.js for `reason` and answered as main.js
   * does; the bad one again without the debug variable, silently (stderr is main.js's, byte for byte).
   */
  function assertFallback(reason: RegExp): void {
    for (const args of [['-t', '-cf', 'good.conf'], ['-t', '-cf', 'bad.conf']]) {
      const r = run(launcher, args, debug);
      const m = FROM_DIST.exec(text(r));
      assert.ok(m, text(r));
      assert.equal(m[1], join(tree, 'dist', 'src', 'cli', 'main.js'));
      assert.match(m[2]!, reason);
      assert.doesNotMatch(text(r), FROM_SNAPSHOT);
      const ref = reference(args);
      assert.equal(r.status, ref.status);
      assert.equal(program(r), ref.stderr.toString('latin1'));
    }
    const quiet = run(launcher, ['-t', '-cf', 'bad.conf']);
    const ref = reference(['-t', '-cf', 'bad.conf']);
    assert.equal(quiet.status, ref.status);
    assert.deepEqual(quiet.stderr, ref.stderr);
  }

  test('the private copy itself runs the snapshots (so the cases below test the fallback, nothing else)', () => {
    const r = run(launcher, ['-t', '-cf', 'good.conf'], checkDebug);
    assert.equal(r.status, 0, text(r));
    assert.equal(FROM_CHECK_SNAPSHOT.exec(text(r))?.[1], join(tree, 'dist', 'src', 'cli', 'dhcpd-ts-check.blob'));
    const v = run(launcher, ['--version'], debug);
    assert.equal(FROM_SNAPSHOT.exec(text(v))?.[1], join(tree, 'dist', 'src', 'cli', 'dhcpd-ts.blob'));
  });

  /** A good and a bad -t check ran dhcpd-ts.blob (not the check blob) for `reason`, and answered as main.js. */
  function assertCheckFallback(reason: RegExp): void {
    for (const args of [['-t', '-cf', 'good.conf'], ['-t', '-cf', 'bad.conf']]) {
      const r = run(launcher, args, checkDebug);
      assert.match(text(r), reason);
      assert.equal(FROM_SNAPSHOT.exec(text(r))?.[1], join(cli, 'dhcpd-ts.blob'), text(r));
      assert.doesNotMatch(text(r), FROM_CHECK_SNAPSHOT);
      const ref = reference(args);
      assert.equal(r.status, ref.status);
      assert.equal(program(r), ref.stderr.toString('latin1'));
    }
  }

  test('check blob stale (rewritten after its stamp: another mtime), then damaged (truncated), then absent: dhcpd-ts.blob', () => {
    const blob = join(cli, 'dhcpd-ts-check.blob');
    const t = new Date(Date.now() + 5_000);
    utimesSync(blob, t, t);
    assertCheckFallback(/^dhcpd-ts launcher: stale check snapshot/m);
    cpSync(CHECK_BLOB, blob, { preserveTimestamps: true });
    truncateSync(blob, 1000);
    assertCheckFallback(/^dhcpd-ts launcher: stale check snapshot/m);
    rmSync(blob);
    assertCheckFallback(/^dhcpd-ts launcher: stale check snapshot/m);
    cpSync(CHECK_BLOB, blob, { preserveTimestamps: true });
    rmSync(join(cli, 'dhcpd-ts-check.stamp'));
    assertCheckFallback(/^dhcpd-ts launcher: no \S+dhcpd-ts-check\.stamp/m);
    cpSync(join(CLI, 'dhcpd-ts-check.stamp'), join(cli, 'dhcpd-ts-check.stamp'), { preserveTimestamps: true });
    const r = run(launcher, ['-t', '-cf', 'good.conf'], checkDebug);
    assert.match(text(r), FROM_CHECK_SNAPSHOT, 'restored: the check blob again');
  });

  test('node refuses the check blob without --single-threaded (so the launcher must pass the flag it was built with)', () => {
    const r = spawnSync(process.execPath, ['--snapshot-blob', join(cli, 'dhcpd-ts-check.blob'), join(cli, 'main.js'), '--version'], { cwd: dir, timeout: 60_000 });
    assert.notEqual(r.status, 0);
  });

  test('DHCPD_TS_SNAPSHOT=0', () => {
    const r = run(launcher, ['-t', '-cf', 'good.conf'], { ...debug, DHCPD_TS_SNAPSHOT: '0' });
    assert.match(FROM_DIST.exec(text(r))?.[2] ?? '', /DHCPD_TS_SNAPSHOT=0/);
    assert.equal(r.status, 0);
  });

  test('NODE_OPTIONS set (V8 flags there make node refuse a blob: "Failed to load the startup snapshot")', () => {
    const env = { ...debug, NODE_OPTIONS: '--max-old-space-size=1024' };
    const refused = spawnSync(process.execPath, ['--snapshot-blob', join(cli, 'dhcpd-ts.blob'), join(cli, 'main.js'), '-t', '-cf', 'good.conf'], {
      cwd: dir,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    assert.notEqual(refused.status, 0, 'node itself refuses the blob under these options');
    const r = run(launcher, ['-t', '-cf', 'good.conf'], env);
    assert.equal(r.status, 0, text(r));
    assert.match(FROM_DIST.exec(text(r))?.[2] ?? '', /NODE_OPTIONS is set/);
    assert.equal(program(r), reference(['-t', '-cf', 'good.conf']).stderr.toString('latin1'));
  });

  test('stale: dist/src/cli/main.js rebuilt after the snapshot (another mtime)', () => {
    const main = join(cli, 'main.js');
    const t = new Date(Date.now() + 5_000);
    utimesSync(main, t, t);
    assertFallback(/stale snapshot/);
    cpSync(join(CLI, 'main.js'), main, { preserveTimestamps: true });
  });

  test('stale: another node binary than the one that built the blob (the stamp names another size/mtime)', () => {
    const stamp = join(cli, 'dhcpd-ts.stamp');
    const [first, ...lines] = readFileSync(stamp, 'utf8').split('\n');
    writeFileSync(stamp, [first!.replace(/^\d+/, '1'), ...lines].join('\n'));
    assertFallback(/stale snapshot/);
    cpSync(join(CLI, 'dhcpd-ts.stamp'), stamp, { preserveTimestamps: true });
  });

  test('stale: another CPU (the stamp names other feature flags: node would refuse the blob, exit 14)', () => {
    const stamp = join(cli, 'dhcpd-ts.stamp');
    const [first, cpu] = readFileSync(stamp, 'utf8').split('\n');
    assert.match(cpu!, /(^|\|)(flags|Features)\s*:.*\|$/, 'the stamp names the CPU flags of /proc/cpuinfo');
    writeFileSync(stamp, `${first}\n${cpu!.replace(/ \S+\|$/, '|')}\n`);
    assertFallback(/stale snapshot .*another CPU/);
    cpSync(join(CLI, 'dhcpd-ts.stamp'), stamp, { preserveTimestamps: true });
  });

  test('damaged: a truncated blob', () => {
    const blob = join(cli, 'dhcpd-ts.blob');
    const t = readFileSync(join(cli, 'dhcpd-ts.stamp'));
    truncateSync(blob, 1000);
    assertFallback(/stale snapshot/);
    cpSync(BLOB, blob, { preserveTimestamps: true });
    assert.deepEqual(readFileSync(join(cli, 'dhcpd-ts.stamp')), t);
  });

  test('absent: no blob, then no stamp', () => {
    rmSync(join(cli, 'dhcpd-ts.blob'));
    assertFallback(/stale snapshot/);
    rmSync(join(cli, 'dhcpd-ts.stamp'));
    assertFallback(/no .*dhcpd-ts\.stamp/);
  });
});

/** Every `every`th corpus file of a kind ('conf' or 'leases'), by path relative to the corpus; undefined without a corpus. */
function corpusSample(kind: 'conf' | 'leases', every: number): string[] | undefined {
  const manifest = join(SHARED_CORPUS_DIR, 'manifest.tsv');
  if (!existsSync(manifest)) return undefined;
  return readFileSync(manifest, 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((f) => f[2] === kind)
    .map((f) => f[0]!)
    .filter((_, i) => i % every === 0);
}

describe('-t and -T through the snapshot and through dist/: the same verdicts on the shared corpus', { skip }, () => {
  test('every 32nd dhcpd.conf of the corpus: exit code and stderr bytes', { timeout: 240_000 }, (t) => {
    const confs = corpusSample('conf', 32);
    if (confs === undefined) return t.skip(`no corpus at ${SHARED_CORPUS_DIR}`);
    assert.ok(confs.length >= 10, `${confs.length} configs`);
    const verdicts = new Set<number | null>();
    for (const rel of confs) {
      const file = join(SHARED_CORPUS_DIR, rel);
      const cwd = dirname(file);
      const name = file.slice(cwd.length + 1);
      const snap = run(LAUNCHER, ['-t', '-cf', name], checkDebug, cwd);
      assert.match(text(snap), FROM_CHECK_SNAPSHOT, rel);
      const normal = run(process.execPath, ['--snapshot-blob', BLOB, join(CLI, 'main.js'), '-t', '-cf', name], { ...debug, NODE_OPTIONS: '' }, cwd);
      assert.equal(FROM_SNAPSHOT.exec(text(normal))?.[1], BLOB, rel);
      const plain = run(LAUNCHER, ['-t', '-cf', name], { ...debug, DHCPD_TS_SNAPSHOT: '0' }, cwd);
      assert.match(text(plain), FROM_DIST, rel);
      assert.equal(snap.status, plain.status, rel);
      assert.equal(program(snap), program(plain), rel);
      assert.equal(normal.status, plain.status, rel);
      assert.equal(program(normal), program(plain), rel);
      verdicts.add(snap.status);
    }
    // The sample has both accepted and rejected files.
    assert.deepEqual([...verdicts].sort(), [0, 1]);
  });

  test('-T on every 8th dhcpd.leases of the corpus: exit code and stderr bytes', { timeout: 240_000 }, (t) => {
    const leases = corpusSample('leases', 8)?.map((rel) => join(SHARED_CORPUS_DIR, rel));
    if (leases === undefined) return t.skip(`no corpus at ${SHARED_CORPUS_DIR}`);
    assert.ok(leases.length >= 7, `${leases.length} lease files`);
    for (const file of leases) {
      const args = ['-T', '-cf', 'good.conf', '-lf', file];
      const snap = run(LAUNCHER, args, checkDebug);
      assert.match(text(snap), FROM_CHECK_SNAPSHOT, file);
      const normal = run(process.execPath, ['--snapshot-blob', BLOB, join(CLI, 'main.js'), ...args], { ...debug, NODE_OPTIONS: '' });
      assert.equal(FROM_SNAPSHOT.exec(text(normal))?.[1], BLOB, file);
      const plain = run(LAUNCHER, args, { ...debug, DHCPD_TS_SNAPSHOT: '0' });
      assert.match(text(plain), FROM_DIST, file);
      assert.equal(snap.status, plain.status, file);
      assert.equal(program(snap), program(plain), file);
      assert.equal(normal.status, plain.status, file);
      assert.equal(program(normal), program(plain), file);
    }
  });
});
