/**
 * The systemd side of the swap, executed (not only parsed): the unit systemd uses for the isc-dhcp-server
 * package and our examples/systemd/dhcpd-ts.service, run the way systemd runs a service, with
 * /usr/sbin/dhcpd -> dhcpd-ts. Debian 12's isc-dhcp-server ships no native unit (`dpkg -L` lists only
 * /etc/init.d/isc-dhcp-server): systemd-sysv-generator makes isc-dhcp-server.service from the init script,
 * so that generated unit IS the package's systemd unit, and the test generates it with the real generator.
 *
 * This machine's PID 1 is not systemd, so each command line of a unit is executed here with systemd's rules
 * (systemd.service(5), systemd.exec(5)), implemented below in a few lines:
 * - the environment is empty but for systemd's PATH, the unit's Environment= and EnvironmentFile= (systemd's
 *   own file syntax: quotes removed, `#`/`;` comments, a `-` prefix makes a missing file fine) and MAINPID
 *   for ExecReload/ExecStop; stdin is /dev/null, stdout/stderr go to the "journal" (a file), new session;
 * - `$VAR` as a whole word becomes the value split at white space (nothing when empty), `${VAR}` is put in
 *   place as one word; a `-` prefix on a command ignores its failure;
 * - ExecStartPre lines run in order and a failure stops the start; Type=forking: ExecStart's process must
 *   exit 0 (or a SuccessExitStatus), and then the PIDFile must be there, naming a live process;
 * - stop: ExecStop if any, then SIGTERM to the main pid (KillMode); a unit without PIDFile and with
 *   GuessMainPID=no has none, so the daemon must be gone on its own after ExecStop.
 * Everything runs in a network namespace and private mount namespaces this test makes: /usr/sbin and
 * /usr/local/sbin are tmpfs of symlinks, /etc/default/isc-dhcp-server, /etc/dhcp, /var/lib/dhcp and /run
 * are bind mounts of the test's folder, /dev is a tmpfs with the usual nodes and /dev/log bound to a
 * syslog receiver of this test (the journal's /dev/log). The host's files are never touched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupPrefix, createNamespace, deleteNamespace, exec, integrationSkipReason, run, waitUntil } from '../support/netns.js';
import { dhcpdLauncher } from '../support/dhcpd-launcher.js';
import { processAlive, readPidFile } from '../../src/cli/pid-file.js';
import { addonAvailable, loadAddon, type NativeUnixDatagramSocket } from '../../src/native/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const root = join(here, '..', '..');
const repoRoot = fromSource ? root : join(root, '..');
const INIT = '/etc/init.d/isc-dhcp-server';
const GENERATOR = '/lib/systemd/system-generators/systemd-sysv-generator';
const skip =
  integrationSkipReason() ??
  (!existsSync(INIT)
    ? `${INIT} (isc-dhcp-server) is not installed`
    : !existsSync('/usr/bin/unshare') || !existsSync('/usr/bin/setsid')
      ? 'unshare/setsid (util-linux) not installed'
      : !addonAvailable()
        ? 'native addon not built'
        : false);

const PREFIX = 'clsd';
const N = process.pid % 100000;
const NS = `${PREFIX}-${N}`;
const IF = `sd${N}a`;
const PEER = `sd${N}b`;
/** systemd's default PATH for services (systemd 252, split /usr). */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const GOOD = 'subnet 10.79.0.0 netmask 255.255.255.0 {\n  range 10.79.0.100 10.79.0.150;\n}\n';
const BAD = 'subnet 10.79.0.0 netmask 255.255.255.0 {\n  range 10.79.0.100 10.79.0.150\n}\n';

let dir = '';
let rx: NativeUnixDatagramSocket | undefined;
const syslog: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-systemd-'));
  if (skip) return;
  await cleanupPrefix(PREFIX);
  await createNamespace(NS);
  await run('ip', ['-n', NS, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS, 'addr', 'add', '10.79.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS, 'link', 'set', PEER, 'up']);
  for (const d of ['orig-sbin', 'orig-dev', 'local-sbin', 'etc-dhcp', 'var-lib-dhcp', 'run']) mkdirSync(join(dir, d), { recursive: true });
  rx = new (loadAddon().UnixDatagramSocket)(join(dir, 'log.sock'));
  rx.start((d) => syslog.push(d.toString('utf8')), () => undefined);
});

after(async () => {
  if (dir) {
    const pid = readPidFile(join(dir, 'run', 'dhcpd.pid'));
    if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rx?.close();
  if (!skip) await deleteNamespace(NS);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------------
// systemd's unit, environment-file and command-line syntax (the parts these two units use).

/** `[Service]` (or another section) as key -> values in order; an empty assignment resets the list. */
function parseUnit(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur = '';
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      cur = sec[1];
      continue;
    }
    if (cur !== section) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') out.set(key, []);
    else out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** Splits at white space honouring "…" and '…' and backslash escapes (systemd's extract_first_word). */
function splitWords(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    let w = '';
    while (i < s.length && !/\s/.test(s[i])) {
      const c = s[i];
      if (c === '"' || c === "'") {
        const end = s.indexOf(c, i + 1);
        w += s.slice(i + 1, end < 0 ? s.length : end);
        i = end < 0 ? s.length : end + 1;
      } else if (c === '\\' && i + 1 < s.length) {
        w += s[i + 1];
        i += 2;
      } else {
        w += c;
        i++;
      }
    }
    words.push(w);
  }
  return words;
}

/** systemd's EnvironmentFile= syntax: KEY=VALUE lines, comments, quotes removed. */
function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.replace(/\\\n/g, '').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    env[m[1]] = splitWords(m[2]).join(' ');
  }
  return env;
}

/** The environment systemd gives the unit's commands (before MAINPID). */
function unitEnvironment(service: Map<string, string[]>, readFile: (path: string) => string | undefined): Record<string, string> {
  const env: Record<string, string> = { PATH: SYSTEMD_PATH };
  for (const v of service.get('Environment') ?? []) {
    for (const a of splitWords(v)) {
      const eq = a.indexOf('=');
      env[a.slice(0, eq)] = a.slice(eq + 1);
    }
  }
  // EnvironmentFile= is read after Environment= and wins over it.
  for (const v of service.get('EnvironmentFile') ?? []) {
    const optional = v.startsWith('-');
    const text = readFile(optional ? v.slice(1) : v);
    if (text === undefined) {
      if (!optional) throw new Error(`EnvironmentFile ${v} missing: systemd fails the unit`);
      continue;
    }
    Object.assign(env, parseEnvironmentFile(text));
  }
  return env;
}

interface UnitCommand {
  argv: string[];
  ignoreFailure: boolean;
}

/** An Exec*= line after systemd's prefixes and variable expansion. */
function expandCommand(line: string, env: Readonly<Record<string, string>>): UnitCommand {
  let rest = line;
  let ignoreFailure = false;
  while (/^[-@:+!]/.test(rest)) {
    if (rest[0] === '-') ignoreFailure = true;
    rest = rest.slice(1);
  }
  const argv: string[] = [];
  for (const w of splitWords(rest)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (whole) argv.push(...(env[whole[1]] ?? '').split(/\s+/).filter((x) => x !== ''));
    else argv.push(w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, k: string) => env[k] ?? '').replace(/\$\$/g, '$'));
  }
  return { argv, ignoreFailure };
}

// ------------------------------------------------------------------------------------------------
// Running a command as systemd would, inside the swapped system.

/** Mount-namespace set-up: the swap and the journal's /dev/log; then `exec "$@"`. */
function swapScript(): string {
  return [
    'set -e',
    `W='${dir}'`,
    'mount --bind /usr/sbin "$W/orig-sbin"',
    'mount -t tmpfs tmpfs /usr/sbin',
    'for f in "$W"/orig-sbin/*; do ln -s "$f" "/usr/sbin/${f##*/}"; done',
    'rm -f /usr/sbin/dhcpd',
    `ln -s '${dhcpdLauncher(dir)}' /usr/sbin/dhcpd`,
    'mount --bind "$W/local-sbin" /usr/local/sbin',
    `ln -sfn '${dhcpdLauncher(dir)}' /usr/local/sbin/dhcpd-ts`,
    'mount --bind "$W/default" /etc/default/isc-dhcp-server',
    'mount --bind "$W/etc-dhcp" /etc/dhcp',
    'mount --bind "$W/var-lib-dhcp" /var/lib/dhcp',
    'mount --bind "$W/run" /run',
    'mount --bind /dev "$W/orig-dev"',
    'mount -t tmpfs -o mode=0755 tmpfs /dev',
    'for n in null zero full random urandom tty; do : > "/dev/$n"; mount --bind "$W/orig-dev/$n" "/dev/$n"; done',
    'ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr',
    ': > /dev/log && mount --bind "$W/log.sock" /dev/log',
    'umount -l "$W/orig-dev"',
    'cd /',
    // systemd: empty environment but the unit's, stdin /dev/null, output to the journal, a new session.
    'exec /usr/bin/setsid -w /usr/bin/env -i "$@" </dev/null >>"$W/journal" 2>&1',
  ].join('\n');
}

/** Runs one unit command; resolves with its exit code. The unit's processes stay in their namespaces. */
async function runUnitCommand(cmd: UnitCommand, env: Readonly<Record<string, string>>): Promise<number | null> {
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  writeFileSync(join(dir, 'journal'), `--- ${cmd.argv.join(' ')}\n`, { flag: 'a' });
  const r = await exec(NS, '/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', swapScript(), 'sh', ...assignments, ...cmd.argv], {
    check: false,
    timeoutMs: 60_000,
  });
  if (r.stderr.trim()) writeFileSync(join(dir, 'journal'), `(set-up) ${r.stderr}`, { flag: 'a' });
  return r.code;
}

/** Runs a list of Exec lines in order, stopping at the first failure that is not ignored. */
async function runExecLines(lines: readonly string[], env: Readonly<Record<string, string>>, success: readonly number[] = [0]): Promise<number | null> {
  for (const line of lines) {
    const cmd = expandCommand(line, env);
    const code = await runUnitCommand(cmd, env);
    if (!cmd.ignoreFailure && (code === null || !success.includes(code))) return code;
  }
  return 0;
}

function journal(): string {
  return existsSync(join(dir, 'journal')) ? readFileSync(join(dir, 'journal'), 'utf8') : '';
}

/** The syslog lines of process `pid` (glibc format, identity dhcpd). */
function syslogOf(pid: number): string[] {
  const out: string[] = [];
  for (const d of syslog) {
    const m = /^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d dhcpd\[(\d+)\]: (.*)$/s.exec(d);
    if (m && Number(m[1]) === pid) out.push(m[2]);
  }
  return out;
}

async function waitForLog(pid: number, text: string): Promise<void> {
  await waitUntil(() => (syslogOf(pid).some((l) => l.includes(text)) ? true : undefined), {
    timeoutMs: 10_000,
    what: `"${text}" in the syslog of ${pid} (got: ${syslogOf(pid).join(' | ')})`,
  });
}

/** True when `pid` has a UDP socket bound to port 67 in the test namespace (ss -p). */
async function servesPort67(pid: number): Promise<boolean> {
  const r = await exec(NS, 'ss', ['-Hulnp', 'sport = :67'], { check: false });
  return new RegExp(`pid=${pid},`).test(r.stdout);
}

function setUpSystem(defaults: string): void {
  writeFileSync(join(dir, 'etc-dhcp', 'dhcpd.conf'), GOOD);
  writeFileSync(join(dir, 'default'), defaults);
  rmSync(join(dir, 'run', 'dhcpd.pid'), { force: true });
  writeFileSync(join(dir, 'journal'), '');
}

const readHostView = (path: string): string | undefined => {
  // The unit's files as the swapped system shows them.
  const map: Record<string, string> = { '/etc/default/isc-dhcp-server': join(dir, 'default') };
  const p = map[path];
  return p && existsSync(p) ? readFileSync(p, 'utf8') : undefined;
};

describe('systemd units with /usr/sbin/dhcpd -> dhcpd-ts, executed with systemd semantics', () => {
  test("isc-dhcp-server.service (the package's unit, generated from its init script): start, stop", { skip: skip || (existsSync(GENERATOR) ? false : 'systemd-sysv-generator not installed') }, async () => {
    const gen = join(dir, 'gen');
    for (const d of ['n', 'e', 'l']) mkdirSync(join(gen, d), { recursive: true });
    await run(GENERATOR, [join(gen, 'n'), join(gen, 'e'), join(gen, 'l')]);
    const service = parseUnit(readFileSync(join(gen, 'l', 'isc-dhcp-server.service'), 'utf8'), 'Service');
    assert.deepEqual(service.get('Type'), ['forking']);
    assert.equal(service.get('PIDFile'), undefined);
    assert.deepEqual(service.get('GuessMainPID'), ['no']);
    assert.deepEqual(service.get('KillMode'), ['process']);
    const success = [0, ...(service.get('SuccessExitStatus') ?? []).flatMap((v) => v.split(/\s+/).map(Number))];

    // Debian's /etc/default/isc-dhcp-server as the package's postinst writes it, with our interface.
    setUpSystem(`# Defaults for isc-dhcp-server (sourced by /etc/init.d/isc-dhcp-server)\n\n#DHCPDv4_CONF=/etc/dhcp/dhcpd.conf\n#DHCPDv4_PID=/var/run/dhcpd.pid\n#OPTIONS=""\nINTERFACESv4="${IF}"\nINTERFACESv6=""\n`);
    const env = unitEnvironment(service, readHostView);
    assert.equal(await runExecLines(service.get('ExecStart') ?? [], env, success), 0, journal());
    const pid = readPidFile(join(dir, 'run', 'dhcpd.pid'));
    assert.ok(pid !== undefined && processAlive(pid), `the daemon runs after ExecStart returned\n${journal()}`);
    assert.ok(await servesPort67(pid), 'the daemon named by the pid file has bound port 67');
    assert.match(journal(), /Launching IPv4 server only\./);
    await waitForLog(pid, 'Server starting service.');

    // systemctl stop: ExecStop, then (KillMode=process, no main pid) nothing more: dhcpd-ts must go by itself.
    assert.equal(await runExecLines(service.get('ExecStop') ?? [], env, success), 0, journal());
    await waitUntil(() => (processAlive(pid) ? undefined : true), { timeoutMs: 10_000, what: 'the daemon to exit after ExecStop' });
    await waitForLog(pid, 'Received SIGTERM, shutting down.');
  });

  test('examples/systemd/dhcpd-ts.service: ExecStartPre, ExecStart (forking + PIDFile), ExecReload, stop; a bad config fails ExecStartPre', { skip }, async () => {
    const service = parseUnit(readFileSync(join(repoRoot, 'examples', 'systemd', 'dhcpd-ts.service'), 'utf8'), 'Service');
    assert.deepEqual(service.get('Type'), ['forking']);
    const pidFile = service.get('PIDFile')?.[0];
    assert.equal(pidFile, '/run/dhcpd.pid');
    setUpSystem(`# Defaults for isc-dhcp-server\n#DHCPDv4_CONF=/etc/dhcp/dhcpd.conf\n\n# Additional options\nOPTIONS=""\n\n# On what interfaces?\nINTERFACESv4="${IF}"\nINTERFACESv6=""\n`);
    const env = unitEnvironment(service, readHostView);
    assert.equal(env.INTERFACESv4, IF, 'quotes removed as systemd does');
    assert.equal(env.DHCPDv4_CONF, '/etc/dhcp/dhcpd.conf', 'Environment= default kept');
    assert.deepEqual(expandCommand(service.get('ExecStart')?.[0] ?? '', env).argv.slice(-1), [IF], '$OPTIONS empty: no word; $INTERFACESv4: the interface');

    assert.equal(await runExecLines(service.get('ExecStartPre') ?? [], env), 0, journal());
    assert.equal(await runExecLines(service.get('ExecStart') ?? [], env), 0, journal());
    // Type=forking + PIDFile: systemd reads the file as soon as ExecStart's process has exited.
    const hostPidFile = join(dir, 'run', 'dhcpd.pid');
    const mainPid = readPidFile(hostPidFile);
    assert.ok(mainPid !== undefined && processAlive(mainPid), `PIDFile names a live process right after ExecStart\n${journal()}`);
    assert.equal(statSync(hostPidFile).uid, 0, 'systemd trusts a PID file owned by root');
    assert.ok(await servesPort67(mainPid), 'the main pid has bound port 67');
    await waitForLog(mainPid, 'Server starting service.');

    // systemctl reload: ExecReload with $MAINPID; a broken file is refused and the server goes on.
    const reloadEnv = { ...env, MAINPID: String(mainPid) };
    writeFileSync(join(dir, 'etc-dhcp', 'dhcpd.conf'), BAD);
    assert.equal(await runExecLines(service.get('ExecReload') ?? [], reloadEnv), 0, journal());
    await waitForLog(mainPid, 'keeping the running configuration');
    assert.ok(syslogOf(mainPid).some((l) => /\/etc\/dhcp\/dhcpd\.conf line 3: semicolon expected\./.test(l)));
    assert.ok(processAlive(mainPid));
    writeFileSync(join(dir, 'etc-dhcp', 'dhcpd.conf'), GOOD.replace('10.79.0.150', '10.79.0.160'));
    assert.equal(await runExecLines(service.get('ExecReload') ?? [], reloadEnv), 0, journal());
    await waitForLog(mainPid, 'Configuration reloaded from /etc/dhcp/dhcpd.conf.');

    // systemctl stop: no ExecStop, so SIGTERM to the main pid; clean exit, pid file removed.
    assert.equal(service.get('ExecStop'), undefined);
    process.kill(mainPid, 'SIGTERM');
    await waitUntil(() => (processAlive(mainPid) ? undefined : true), { timeoutMs: 15_000, what: 'the main pid to exit on SIGTERM' });
    assert.equal(existsSync(hostPidFile), false, 'the pid file is removed');
    await waitForLog(mainPid, 'Received SIGTERM, shutting down.');

    // systemctl start with a broken dhcpd.conf: ExecStartPre (-t) fails with ISC's message, no ExecStart.
    writeFileSync(join(dir, 'etc-dhcp', 'dhcpd.conf'), BAD);
    writeFileSync(join(dir, 'journal'), '');
    const code = await runExecLines(service.get('ExecStartPre') ?? [], env);
    assert.equal(code, 1);
    assert.match(journal(), /^\/etc\/dhcp\/dhcpd\.conf line 3: semicolon expected\.$/m);
    assert.match(journal(), /^Configuration file errors encountered -- exiting$/m);
  });
});
