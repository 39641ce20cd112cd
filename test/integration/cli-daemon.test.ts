/**
 * The dhcpd-ts program as an administrator runs it, in a network namespace this test creates: daemon mode
 * (the command returns once serving, the pid file names the daemon), a second instance with the same pid
 * file is refused, SIGHUP with a broken config keeps the server running on the old one, SIGTERM stops it
 * and removes the pid file; and in the foreground (-d) the start-up and reload lines on stderr; SIGINT too.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanupPrefix,
  createNamespace,
  deleteNamespace,
  exec,
  integrationSkipReason,
  run,
  spawn,
  waitUntil,
  type NsProcess,
} from '../support/netns.js';
import { processAlive, readPidFile } from '../../src/cli/pid-file.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? 'ts' : 'js';
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${ext}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const rootSkip = integrationSkipReason();
const serverSkip = rootSkip ?? false;

const PREFIX = 'clid';
const NS = `${PREFIX}-${process.pid % 100000}`;
const IF = `cd${process.pid % 100000}a`;
const PEER = `cd${process.pid % 100000}b`;

let dir = '';
const spawned: NsProcess[] = [];

const GOOD = 'subnet 10.77.0.0 netmask 255.255.255.0 {\n  range 10.77.0.100 10.77.0.150;\n  default-lease-time 600;\n}\n';
const BAD = 'subnet 10.77.0.0 netmask 255.255.255.0 {\n  range 10.77.0.100 10.77.0.150\n}\n';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-daemon-int-'));
  if (rootSkip) return;
  await cleanupPrefix(PREFIX);
  await createNamespace(NS);
  await run('ip', ['-n', NS, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS, 'addr', 'add', '10.77.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS, 'link', 'set', PEER, 'up']);
});

after(async () => {
  for (const p of spawned) {
    try {
      if (processAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    } catch {
      /* never started or already gone */
    }
  }
  // A daemon started by a test that failed midway: kill it by the pid its pid file names.
  if (dir) {
    for (const f of ['d.pid', 'fg.pid']) {
      const pid = readPidFile(join(dir, f));
      if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  if (!rootSkip) await deleteNamespace(NS);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function files(name: string): { conf: string; leases: string; pid: string; db: string } {
  const conf = join(dir, `${name}.conf`);
  const leases = join(dir, `${name}.leases`);
  writeFileSync(conf, GOOD);
  writeFileSync(leases, '');
  return { conf, leases, pid: join(dir, `${name}.pid`), db: join(dir, `${name}.sqlite`) };
}

describe('dhcpd-ts as a daemon (namespace)', () => {
  test('daemon mode, pid file, second instance refused, SIGHUP with a bad config, SIGTERM', { skip: serverSkip }, async () => {
    const f = { ...files('d'), pid: join(dir, 'd.pid') };
    const t0 = Date.now();
    const r = await exec(NS, process.execPath, [...NODE_ARGS, '-q', '-cf', f.conf, '-lf', f.leases, '-pf', f.pid, '-db', f.db, IF], {
      check: false,
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 30_000);
    const pid = readPidFile(f.pid);
    assert.ok(pid !== undefined, 'the daemon wrote its pid file before the command returned');
    assert.ok(processAlive(pid));

    // A second instance with the same pid file refuses to start, in ISC's words.
    const second = await exec(NS, process.execPath, [...NODE_ARGS, '-f', '-cf', f.conf, '-lf', f.leases, '-pf', f.pid, '-db', `${f.db}2`, IF], {
      check: false,
      timeoutMs: 30_000,
    });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^There's already a DHCP server running\.$/m);
    assert.equal(readPidFile(f.pid), pid, 'the first instance keeps its pid file');

    // SIGHUP with a broken config: refused, the server keeps running.
    writeFileSync(f.conf, BAD);
    process.kill(pid, 'SIGHUP');
    await new Promise((r2) => setTimeout(r2, 1500));
    assert.ok(processAlive(pid), 'a bad config on SIGHUP does not stop the server');

    // SIGTERM: clean exit, pid file removed.
    process.kill(pid, 'SIGTERM');
    await waitUntil(() => (processAlive(pid) ? undefined : true), { timeoutMs: 15_000, what: 'daemon exit' });
    assert.equal(existsSync(f.pid), false, 'the pid file is removed on SIGTERM');
  });

  test('foreground -d: start-up lines on stderr; SIGHUP bad config logged and refused; SIGTERM exits 0', { skip: serverSkip }, async () => {
    const f = { ...files('fg'), pid: join(dir, 'fg.pid') };
    // An ISC lease file and no database yet: the first start imports it (the drop-in migration).
    writeFileSync(f.leases, 'lease 10.77.0.120 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2036/11/26 11:00:00;\n  binding state active;\n  hardware ethernet 52:54:00:02:bf:f8;\n}\n');
    const p = spawn(NS, process.execPath, [...NODE_ARGS, '-d', '-cf', f.conf, '-lf', f.leases, '-pf', f.pid, '-db', f.db, IF]);
    spawned.push(p);
    await waitUntil(() => (p.stderr.includes('Server starting service.') ? true : undefined), { timeoutMs: 20_000, what: 'Server starting service.' });
    assert.match(p.stderr, /^Config file: .*fg\.conf$/m);
    assert.match(p.stderr, /^Database file: .*fg\.leases$/m);
    assert.match(p.stderr, /^PID file: .*fg\.pid$/m);
    assert.equal(readPidFile(f.pid), p.pid);
    assert.match(p.stderr, /^Imported 1 leases from .*fg\.leases into .*fg\.sqlite\.$/m);
    assert.ok(existsSync(f.db));

    writeFileSync(f.conf, BAD);
    process.kill(p.pid as number, 'SIGHUP');
    await waitUntil(() => (p.stderr.includes('keeping the running configuration') ? true : undefined), { timeoutMs: 10_000, what: 'reload refusal' });
    assert.match(p.stderr, /fg\.conf line 3: semicolon expected\./);
    assert.ok(processAlive(p.pid as number));

    // A good file on the next SIGHUP is taken.
    writeFileSync(f.conf, GOOD.replace('10.77.0.150', '10.77.0.160'));
    process.kill(p.pid as number, 'SIGHUP');
    await waitUntil(() => (p.stderr.includes('Configuration reloaded from') ? true : undefined), { timeoutMs: 10_000, what: 'reload' });
    assert.ok(processAlive(p.pid as number));

    process.kill(p.pid as number, 'SIGTERM');
    const ex = await p.exited;
    assert.equal(ex.code, 0);
    assert.equal(existsSync(f.pid), false);
  });

  test('-f without -d: start-up lines on stderr, then (as ISC) syslog only', { skip: serverSkip }, async () => {
    const f = { ...files('fo'), pid: join(dir, 'fo.pid') };
    const p = spawn(NS, process.execPath, [...NODE_ARGS, '-f', '-cf', f.conf, '-lf', f.leases, '-pf', f.pid, '-db', f.db, IF], {
      env: { DHCPD_TS_SYSLOG_SOCKET: join(dir, 'no-syslog-here.sock') },
    });
    spawned.push(p);
    await waitUntil(() => (/^Sending on {3}Socket\/fallback/m.test(p.stderr) ? true : undefined), { timeoutMs: 20_000, what: 'Sending on … fallback' });
    await waitUntil(() => (readPidFile(f.pid) === p.pid ? true : undefined), { timeoutMs: 5000, what: 'the pid file' });
    assert.match(p.stderr, /^Config file: .*fo\.conf$/m);
    process.kill(p.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(p.pid, 'SIGTERM');
    assert.equal((await p.exited).code, 0);
    assert.doesNotMatch(p.stderr, /Server starting service\.|Received SIG/, 'after start-up, -f alone logs nothing on stderr');
  });

  test('--no-pid: no pid file is written; SIGINT (Ctrl-C) stops it cleanly, exit 0', { skip: serverSkip }, async () => {
    const f = { ...files('np'), pid: join(dir, 'np.pid') };
    const p = spawn(NS, process.execPath, [...NODE_ARGS, '-d', '--no-pid', '-cf', f.conf, '-lf', f.leases, '-pf', f.pid, '-db', f.db, IF]);
    spawned.push(p);
    await waitUntil(() => (p.stderr.includes('Server starting service.') ? true : undefined), { timeoutMs: 20_000, what: 'Server starting service.' });
    assert.equal(existsSync(f.pid), false);
    process.kill(p.pid, 'SIGINT');
    assert.equal((await p.exited).code, 0);
    assert.match(p.stderr, /^Received SIGINT, shutting down\.$/m);
  });
});
