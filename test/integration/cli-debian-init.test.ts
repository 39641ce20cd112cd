/**
 * The swap an administrator makes: /usr/sbin/dhcpd becomes a symlink to dhcpd-ts, and Debian's own,
 * unchanged /etc/init.d/isc-dhcp-server starts, reports and stops it. (systemd runs the same script through
 * the unit systemd-sysv-generator makes of it, as the package ships no native unit: cli-systemd.test.ts.)
 *
 * Everything happens in a network namespace and a private mount namespace this test creates: there,
 * /usr/sbin is a tmpfs of symlinks to the real programs except `dhcpd`, and /etc/default/isc-dhcp-server,
 * /etc/dhcp, /var/lib/dhcp and /run are bind mounts of the test's temporary folder. The host's files are
 * never touched.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupPrefix, createNamespace, deleteNamespace, exec, integrationSkipReason, run, waitUntil } from '../support/netns.js';
import { dhcpdLauncher } from '../support/dhcpd-launcher.js';
import { processAlive, readPidFile } from '../../src/cli/pid-file.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
/** Where src/ is: the repository (tsx) or dist/ (built); the repository root holds bin/. */
const root = join(here, '..', '..');
const repoRoot = fromSource ? root : join(root, '..');
const INIT = '/etc/init.d/isc-dhcp-server';
const baseSkip =
  integrationSkipReason() ??
  (!existsSync(INIT) ? `${INIT} (isc-dhcp-server) is not installed` : !existsSync('/usr/bin/unshare') ? 'unshare not installed' : undefined);
const startSkip = baseSkip ?? false;

const PREFIX = 'clii';
const NS = `${PREFIX}-${process.pid % 100000}`;
const IF = `ci${process.pid % 100000}a`;
const PEER = `ci${process.pid % 100000}b`;

let dir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-debian-init-'));
  if (baseSkip) return;
  await cleanupPrefix(PREFIX);
  await createNamespace(NS);
  await run('ip', ['-n', NS, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS, 'addr', 'add', '10.78.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS, 'link', 'set', PEER, 'up']);
});

after(async () => {
  if (dir) {
    const pid = readPidFile(join(dir, 'run', 'dhcpd.pid'));
    if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (!baseSkip) await deleteNamespace(NS);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `commands` (sh) inside the namespaces with the swapped /usr/sbin/dhcpd. */
async function inSwappedSystem(commands: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  for (const d of ['orig-sbin', 'etc-dhcp', 'var-lib-dhcp', 'run']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc-dhcp', 'dhcpd.conf'), 'subnet 10.78.0.0 netmask 255.255.255.0 {\n  range 10.78.0.100 10.78.0.150;\n}\n');
  writeFileSync(join(dir, 'default'), `INTERFACESv4="${IF}"\nINTERFACESv6=""\n`);
  const setup = [
    'set -e',
    `W='${dir}'`,
    'mount --bind /usr/sbin "$W/orig-sbin"',
    'mount -t tmpfs tmpfs /usr/sbin',
    'for f in "$W"/orig-sbin/*; do ln -s "$f" "/usr/sbin/${f##*/}"; done',
    'rm -f /usr/sbin/dhcpd',
    `ln -s '${dhcpdLauncher(dir)}' /usr/sbin/dhcpd`,
    'mount --bind "$W/default" /etc/default/isc-dhcp-server',
    'mount --bind "$W/etc-dhcp" /etc/dhcp',
    'mount --bind "$W/var-lib-dhcp" /var/lib/dhcp',
    'mount --bind "$W/run" /run',
    'set +e',
    commands,
  ].join('\n');
  const r = await exec(NS, '/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', setup], {
    check: false,
    timeoutMs: 60_000,
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe("Debian's isc-dhcp-server init script with /usr/sbin/dhcpd -> dhcpd-ts", () => {
  test('the swap: /usr/sbin/dhcpd is dhcpd-ts inside the test system, the host is unchanged', { skip: baseSkip ?? false }, async () => {
    const r = await inSwappedSystem('readlink /usr/sbin/dhcpd; /usr/sbin/dhcpd --version; echo "rc=$?"; test -x /usr/sbin/start-stop-daemon && echo ssd-ok');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^dhcpd-ts-\d+\.\d+\.\d+, compatible with ISC dhcpd 4\.4$/m);
    assert.match(r.stdout, /rc=0/);
    assert.match(r.stdout, /ssd-ok/);
    // The host's dhcpd is still ISC's.
    const host = await run('/usr/sbin/dhcpd', ['--version'], { check: false });
    assert.match(host.stderr, /^isc-dhcpd-4\.4/);
  });

  test('start, status, stop with the unchanged Debian init script', { skip: startSkip }, async () => {
    const r = await inSwappedSystem(
      [
        `${INIT} start; echo "start=$?"`,
        'cat /run/dhcpd.pid 2>/dev/null | sed "s/^/pidfile=/"',
        `${INIT} status; echo "status=$?"`,
        `${INIT} stop; echo "stop=$?"`,
        'sleep 1',
        `${INIT} status; echo "status2=$?"`,
      ].join('\n'),
    );
    const out = r.stdout;
    assert.match(out, /^start=0$/m, `${out}\n${r.stderr}`);
    const pid = Number(/^pidfile=(\d+)$/m.exec(out)?.[1]);
    assert.ok(pid > 0, out);
    assert.match(out, /^status=0$/m);
    assert.match(out, /^stop=0$/m);
    assert.match(out, /^status2=3$/m, 'after stop, the script says not running');
    // start-stop-daemon --stop sends SIGTERM without waiting (as for ISC): allow the clean shutdown its time.
    await waitUntil(() => (processAlive(pid) ? undefined : true), { timeoutMs: 10_000, what: 'the daemon to exit after stop' });
  });

  test('a broken dhcpd.conf: the init script shows our -t errors and refuses to start', { skip: baseSkip ?? false }, async () => {
    const r = await inSwappedSystem(
      [
        "printf 'subnet 10.78.0.0 netmask 255.255.255.0 {\\n  range 10.78.0.100 10.78.0.150\\n}\\n' > /etc/dhcp/dhcpd.conf",
        `${INIT} start; echo "start=$?"`,
      ].join('\n'),
    );
    assert.match(r.stdout, /dhcpd self-test failed\. Please fix \/etc\/dhcp\/dhcpd\.conf\./);
    assert.match(r.stdout + r.stderr, /\/etc\/dhcp\/dhcpd\.conf line 3: semicolon expected\./);
    assert.match(r.stdout, /^start=1$/m);
  });

  test('examples/init.d/dhcpd-ts: start, status, reload (SIGHUP), stop', { skip: startSkip }, async () => {
    const script = join(repoRoot, 'examples', 'init.d', 'dhcpd-ts');
    const r = await inSwappedSystem(
      [
        `export DAEMON='${dhcpdLauncher(dir)}'`,
        `sh '${script}' start; echo "start=$?"`,
        'cat /run/dhcpd.pid 2>/dev/null | sed "s/^/pidfile=/"',
        `sh '${script}' status; echo "status=$?"`,
        `sh '${script}' reload; echo "reload=$?"`,
        'sleep 1',
        `sh '${script}' status; echo "status1=$?"`,
        `sh '${script}' stop; echo "stop=$?"`,
        `sh '${script}' status; echo "status2=$?"`,
      ].join('\n'),
    );
    const out = r.stdout;
    assert.match(out, /^start=0$/m, `${out}\n${r.stderr}`);
    const pid = Number(/^pidfile=(\d+)$/m.exec(out)?.[1]);
    assert.ok(pid > 0, out);
    assert.match(out, /^status=0$/m);
    assert.match(out, /^reload=0$/m);
    assert.match(out, /^status1=0$/m, 'still running after the reload');
    assert.match(out, /^stop=0$/m);
    assert.match(out, /^status2=3$/m);
    assert.equal(processAlive(pid), false, 'stop waits for the exit (--retry TERM/10)');
  });
  // The unit systemd generates from this init script is run with systemd's semantics in cli-systemd.test.ts.
});
