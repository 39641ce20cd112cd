/**
 * `-chroot DIR` as Debian's ISC dhcpd 4.4.3 does it: the configuration is read from the real root, then the
 * process enters the jail, so the lease file (for -T too), the lease database and the pid file are paths
 * inside it, and -t fails on a jail that cannot be entered. -t/-T are compared with /usr/sbin/dhcpd; the
 * server is run in a namespace this test makes, with a real client (udhcpc) in a second one; after
 * SIGTERM the client's lease is in the jail's lease file and database (flushed at shutdown). The jail holds
 * only the server's files (and /dev/null for ISC's -T): nothing of dhcpd-ts, no /proc, no /sys.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupPrefix, createNamespace, deleteNamespace, exec, integrationSkipReason, run, spawn, udhcpcArgs, waitUntil, type NsProcess } from '../support/netns.js';
import { processAlive, readPidFile } from '../../src/cli/pid-file.js';
import { addonAvailable, loadAddon } from '../../src/native/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${fromSource ? 'ts' : 'js'}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const ISC = '/usr/sbin/dhcpd';
const rootSkip = integrationSkipReason() ?? (!addonAvailable() ? 'native addon not built' : undefined);
const iscSkip = rootSkip ?? (!existsSync(ISC) ? `${ISC} not installed` : false);
const serveSkip = rootSkip ?? (!existsSync('/usr/sbin/udhcpc') && !existsSync('/sbin/udhcpc') ? 'udhcpc not installed' : false);

const PREFIX = 'clcr';
const N = process.pid % 100000;
const NS_S = `${PREFIX}-${N}-s`;
const NS_C = `${PREFIX}-${N}-c`;
const IF = `cr${N}a`;
const PEER = `cr${N}b`;

let dir = '';
let jail = '';
const spawned: NsProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-chroot-'));
  jail = join(dir, 'jail');
  for (const d of ['dev', 'run', 'var/lib/dhcp']) mkdirSync(join(jail, d), { recursive: true });
  writeFileSync(join(dir, 'good.conf'), 'subnet 10.82.0.0 netmask 255.255.255.0 {\n  range 10.82.0.100 10.82.0.150;\n  default-lease-time 600;\n  ping-check false;\n}\n');
  if (rootSkip) return;
  // ISC's -T writes to /dev/null inside the jail: give the jail one (a device node in the test's folder).
  await run('mknod', ['-m', '666', join(jail, 'dev', 'null'), 'c', '1', '3']);
  await cleanupPrefix(PREFIX);
  await createNamespace(NS_S);
  await createNamespace(NS_C);
  await run('ip', ['-n', NS_S, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS_S, 'link', 'set', PEER, 'netns', NS_C]);
  await run('ip', ['-n', NS_S, 'addr', 'add', '10.82.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS_S, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS_C, 'link', 'set', PEER, 'up']);
});

after(async () => {
  for (const p of spawned) if (p.pid && processAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  // A daemon left by a failed test: by the pid its pid file in the jail names.
  const left = jail ? readPidFile(join(jail, 'run', 'dhcpd.pid')) : undefined;
  if (left !== undefined && processAlive(left)) process.kill(left, 'SIGKILL');
  if (!rootSkip) {
    await deleteNamespace(NS_C);
    await deleteNamespace(NS_S);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}
/** `as`: setpriv(1) options to run it as another user. */
function runIsc(argv: readonly string[], as?: readonly string[]): Out {
  const r = spawnSync(as ? '/usr/bin/setpriv' : ISC, as ? [...as, ISC, ...argv] : argv, { cwd: dir, encoding: 'utf8', timeout: 10_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function runOurs(argv: readonly string[], as?: readonly string[]): Out {
  const cmd = [process.execPath, ...NODE_ARGS, ...argv];
  const r = spawnSync(as ? '/usr/bin/setpriv' : cmd[0]!, as ? [...as, ...cmd] : cmd.slice(1), { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** The lines after the banner and before ISC's bug paragraph (which names each program). */
function essence(stderr: string): string[] {
  const lines = stderr.split('\n');
  const cut = lines.findIndex((l) => l.startsWith('If you think you have received this message'));
  return (cut < 0 ? lines : lines.slice(0, cut)).slice(4).filter((l) => l !== '');
}

describe('-chroot', () => {
  test('-t: a jail that cannot be entered is fatal after the config is read, in ISC\'s words', { skip: iscSkip }, () => {
    const argv = ['-t', '-chroot', join(dir, 'no-such-jail'), '-cf', 'good.conf'];
    const isc = runIsc(argv);
    const ours = runOurs(argv);
    assert.equal(isc.code, 1);
    assert.equal(ours.code, 1);
    assert.deepEqual(essence(ours.stderr), essence(isc.stderr));
    assert.ok(essence(ours.stderr).includes(`chroot("${join(dir, 'no-such-jail')}"): No such file or directory`));
    const ok = ['-t', '-q', '-chroot', jail, '-cf', 'good.conf'];
    assert.deepEqual([runOurs(ok).code, runIsc(ok).code], [0, 0]);
  });

  test('-t as another user than root: ISC\'s "you must be root to use chroot"', { skip: iscSkip || (existsSync('/usr/bin/setpriv') ? false : 'setpriv not installed') }, (t) => {
    chmodSync(dir, 0o755);
    const argv = ['-t', '-chroot', jail, '-cf', join(dir, 'good.conf')];
    const asNobody = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];
    if (runOurs(['--version'], asNobody).code !== 0) {
      t.skip('this checkout is not readable by nobody');
      return;
    }
    const isc = runIsc(argv, asNobody);
    const ours = runOurs(argv, asNobody);
    assert.equal(isc.code, 1, isc.stderr);
    assert.equal(ours.code, 1, ours.stderr);
    assert.ok(essence(ours.stderr).includes('you must be root to use chroot'), ours.stderr);
    assert.deepEqual(essence(ours.stderr), essence(isc.stderr));
  });

  test('-T: the lease file is read inside the jail (a host path is not found there)', { skip: iscSkip }, () => {
    const lease = 'lease 10.82.0.120 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2036/11/26 11:00:00;\n  binding state active;\n  hardware ethernet 52:54:00:02:bf:f8;\n}\n';
    writeFileSync(join(dir, 'host.leases'), lease);
    writeFileSync(join(jail, 'in-jail.leases'), lease);
    const outside = ['-T', '-chroot', jail, '-cf', 'good.conf', '-lf', join(dir, 'host.leases')];
    const isc = runIsc(outside);
    const ours = runOurs(outside);
    assert.equal(isc.code, 1);
    assert.equal(ours.code, 1);
    assert.match(isc.stderr, /^Can't open lease database .*host\.leases: No such file or directory --$/m);
    assert.deepEqual(essence(ours.stderr), essence(isc.stderr));
    const inside = ['-T', '-q', '-chroot', jail, '-cf', 'good.conf', '-lf', '/in-jail.leases'];
    assert.deepEqual([runOurs(inside).code, runIsc(inside).code], [0, 0]);
  });

  test('serving in the jail: pid file, database and lease file inside it; a client leases; SIGTERM flushes and cleans up', { skip: serveSkip, timeout: 60_000 }, async () => {
    const p = spawn(NS_S, process.execPath, [...NODE_ARGS, '-d', '-chroot', jail, '-cf', join(dir, 'good.conf'), '-lf', '/var/lib/dhcp/dhcpd.leases', '-pf', '/run/dhcpd.pid', IF]);
    spawned.push(p);
    writeFileSync(join(jail, 'var/lib/dhcp/dhcpd.leases'), '');
    await waitUntil(() => (p.stderr.includes('Server starting service.') ? true : p.hasExited ? false : undefined), { timeoutMs: 20_000, what: 'Server starting service.' });
    assert.match(p.stderr, /Server starting service\./, p.stderr);
    assert.doesNotMatch(p.stderr, /syslog lines from inside the jail will be lost/, 'no syslog warning with -d');
    assert.equal(readlinkSync(`/proc/${p.pid}/root`), jail, 'the server runs with the jail as its root');
    assert.equal(readFileSync(join(jail, 'run', 'dhcpd.pid'), 'utf8'), `${p.pid}\n`, 'the pid file is inside the jail');
    assert.ok(existsSync(join(jail, 'var/lib/dhcp/dhcpd.leases.sqlite')), 'the database is inside the jail');

    const client = await exec(NS_C, 'udhcpc', udhcpcArgs(PEER, { tries: 5, timeoutS: 2 }), { check: false, timeoutMs: 30_000 });
    assert.equal(client.code, 0, client.stderr + client.stdout + p.stderr);
    const addr = /DHCPACK on (10\.82\.0\.\d+)/.exec(p.stderr)?.[1];
    assert.ok(addr, p.stderr);

    process.kill(p.pid, 'SIGTERM');
    const ex = await p.exited;
    assert.equal(ex.code, 0, p.stderr);
    assert.equal(existsSync(join(jail, 'run', 'dhcpd.pid')), false, 'the pid file in the jail is removed');
    assert.match(readFileSync(join(jail, 'var/lib/dhcp/dhcpd.leases'), 'utf8'), new RegExp(`^lease ${addr.replace(/\./g, '\\.')} \\{`, 'm'), 'the lease is in the jail\'s lease file');
    const exported = runOurs(['export', '-cf', join(dir, 'good.conf'), '-lf', join(jail, 'var/lib/dhcp/dhcpd.leases'), '-']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, new RegExp(`^lease ${addr.replace(/\./g, '\\.')} \\{`, 'm'), 'the lease is in the jail\'s database');
  });

  /** Runs a daemon in the jail (which has no dev/log) with `syslogSocket` as its syslog socket; stops it by its pid file. */
  async function daemonInJail(syslogSocket: string): Promise<{ stderr: string; stopped: () => Promise<void> }> {
    const r = await exec(NS_S, process.execPath, [...NODE_ARGS, '-chroot', jail, '-cf', join(dir, 'good.conf'), '-lf', '/var/lib/dhcp/dhcpd.leases', '-pf', '/run/dhcpd.pid', IF], {
      check: false,
      timeoutMs: 30_000,
      env: { DHCPD_TS_SYSLOG_SOCKET: syslogSocket },
    });
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(readFileSync(join(jail, 'run', 'dhcpd.pid'), 'utf8'));
    assert.ok(pid > 0 && processAlive(pid));
    assert.equal(readlinkSync(`/proc/${pid}/root`), jail);
    return {
      stderr: r.stderr,
      stopped: async () => {
        process.kill(pid, 'SIGTERM');
        await waitUntil(() => (processAlive(pid) ? undefined : true), { timeoutMs: 15_000, what: 'the daemon to exit' });
        assert.equal(existsSync(join(jail, 'run', 'dhcpd.pid')), false);
      },
    };
  }

  test('a daemon in a jail without dev/log keeps logging to syslog through the socket connected before the jail (as ISC)', { skip: serveSkip, timeout: 60_000 }, async () => {
    const socketPath = join(dir, 'log.sock');
    const got: string[] = [];
    const rx = new (loadAddon().UnixDatagramSocket)(socketPath);
    rx.start((d) => got.push(d.toString('utf8')), () => undefined);
    try {
      const d = await daemonInJail(socketPath);
      assert.doesNotMatch(d.stderr, /syslog lines from inside the jail will be lost/, d.stderr);
      await d.stopped();
      // Written inside the jail: the lines after start-up and the shutdown line.
      await waitUntil(() => (got.some((l) => /Received SIGTERM/.test(l)) ? true : undefined), { timeoutMs: 5000, what: `the shutdown line on syslog (got: ${got.join(' | ')})` });
      assert.ok(got.some((l) => /Server starting service\./.test(l)), got.join('\n'));
    } finally {
      rx.close();
    }
  });

  test('a daemon in a jail without dev/log, nobody listening on its syslog socket: it serves, and says its syslog lines will be lost', { skip: serveSkip, timeout: 60_000 }, async () => {
    const nobody = join(dir, 'nobody.sock');
    const d = await daemonInJail(nobody);
    assert.ok(d.stderr.includes(`nobody listens on ${nobody} and ${join(jail, nobody)} does not exist: syslog lines from inside the jail will be lost`), d.stderr);
    await d.stopped();
  });
});
