/**
 * Daemonizing (src/cli/daemon.ts) and the pid file (src/cli/pid-file.ts) with real processes: the parent
 * returns only once the child serves, with the child's own exit code when it fails; the child lives on
 * in its own session; a pid file naming a live process (or holding no number) refuses a second instance,
 * a stale one is replaced.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runDaemonParent } from '../../src/cli/daemon.js';
import { claimPidFile, processAlive, readPidFile, releasePidFile } from '../../src/cli/pid-file.js';

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
const fixture = join(here, '..', 'fixtures', fromSource ? 'daemon-child.ts' : 'daemon-child.js');
const execArgv = fromSource ? ['--import', import.meta.resolve('tsx')] : [];

let dir = '';
const started: number[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-daemon-'));
});
after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let t = '';
  stream.on('data', (c: Buffer) => (t += c.toString()));
  return { stream, text: () => t };
}

/** Session id of a process (field 6 of /proc/PID/stat). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

describe('daemonizing', () => {
  test('the parent exits 0 once the child is serving; the child lives on in its own session', async () => {
    const file = join(dir, 'ready.pid');
    const err = capture();
    const t0 = Date.now();
    const code = await runDaemonParent({ argv: ['ready', file], script: fixture, execArgv, stderr: err.stream, timeoutMs: 20_000 });
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 >= 300, 'the parent waited for the ready signal');
    const pid = readPidFile(file);
    assert.ok(pid !== undefined, 'the child wrote its pid before saying ready');
    started.push(pid);
    assert.notEqual(pid, process.pid);
    assert.ok(processAlive(pid));
    assert.equal(sessionOf(pid), pid, 'the child leads its own session (setsid)');
    assert.match(err.text(), /starting up\n/, "the child's start-up stderr reached the parent's");
    // It survives writing to the closed stderr, and stops on SIGTERM.
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(processAlive(pid), 'a late stderr write did not kill the daemon');
    process.kill(pid, 'SIGTERM');
    assert.ok(await until(() => readFileSync(file, 'utf8') === 'stopped\n', 5000));
    assert.ok(await until(() => !processAlive(pid), 5000));
  });

  test("a failing child: the parent exits with the child's code and shows its error", async () => {
    const err = capture();
    const code = await runDaemonParent({ argv: ['fail', join(dir, 'x')], script: fixture, execArgv, stderr: err.stream, timeoutMs: 20_000 });
    assert.equal(code, 3);
    assert.match(err.text(), /Configuration file errors encountered -- exiting/);
  });

  test('a child that dies without a word: the parent exits non-zero with its status', async () => {
    const code = await runDaemonParent({ argv: ['crash', join(dir, 'y')], script: fixture, execArgv, stderr: capture().stream, timeoutMs: 20_000 });
    assert.equal(code, 5);
  });
});

describe('pid file', () => {
  test('written as "%d\\n", mode 0644', () => {
    const p = join(dir, 'a.pid');
    const r = claimPidFile(p);
    assert.deepEqual(r, { ok: true, written: true });
    assert.equal(readFileSync(p, 'utf8'), `${process.pid}\n`);
    assert.equal(statSync(p).mode & 0o777, 0o644);
  });

  test('a live process in the pid file refuses a second instance with ISC\'s message', async () => {
    const p = join(dir, 'live.pid');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    assert.ok(other.pid);
    started.push(other.pid);
    try {
      writeFileSync(p, `${other.pid}\n`);
      assert.deepEqual(claimPidFile(p), { ok: false, message: "There's already a DHCP server running." });
      assert.equal(readFileSync(p, 'utf8'), `${other.pid}\n`, 'the holder\'s pid file is left alone');
      releasePidFile(p); // not ours: must stay
      assert.ok(existsSync(p));
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a stale pid file (process gone) or an empty one is replaced', () => {
    const p = join(dir, 'stale.pid');
    const gone = spawnSync('sh', ['-c', 'echo $$']);
    const stalePid = Number(gone.stdout.toString().trim());
    assert.ok(stalePid > 0 && !processAlive(stalePid));
    writeFileSync(p, `${stalePid}\n`);
    assert.equal(claimPidFile(p).ok, true);
    assert.equal(readPidFile(p), process.pid);
    writeFileSync(p, '');
    assert.equal(claimPidFile(p).ok, true);
    assert.equal(readPidFile(p), process.pid);
    releasePidFile(p);
    assert.equal(existsSync(p), false, 'our own pid file is removed on release');
  });

  // ISC 4.4.3 (run as a server in a namespace with each of these pid files) refuses them all: it tests
  // `!pid || kill(pid, 0) == 0` on atoi of whatever it read, so text that is not a number is "running".
  test('a non-empty pid file without a number ("abc", "0", a lone newline) refuses, as ISC', () => {
    const p = join(dir, 'garbage.pid');
    for (const text of ['abc', '0', '\n', ' x 123\n']) {
      writeFileSync(p, text);
      assert.deepEqual(claimPidFile(p), { ok: false, message: "There's already a DHCP server running." }, JSON.stringify(text));
      assert.equal(readFileSync(p, 'utf8'), text, 'left as it was');
    }
    writeFileSync(p, `  ${process.pid}junk`);
    assert.equal(claimPidFile(p).ok, true, 'our own pid (atoi stops at the junk) is not another server');
  });

  test('an unwritable pid file is a logged warning, not a refusal (as ISC)', () => {
    const r = claimPidFile(join(dir, 'no-such-dir', 'x.pid'));
    assert.equal(r.ok, true);
    assert.ok(r.ok && r.written === false && /^Can't create PID file .*: No such file or directory\.$/.test(r.warning ?? ''));
  });
});
