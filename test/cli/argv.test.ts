/**
 * The command line against the real ISC dhcpd 4.4.3 (/usr/sbin/dhcpd) as oracle: for each argument
 * vector, ISC and dhcpd-ts must agree on the exit code and on stderr, after replacing the two places
 * where dhcpd-ts names itself (the 4 banner lines and the bug-report paragraph) by placeholders.
 * ISC is only ever run with -t (or --version/-h, or arguments that fail before anything starts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import {
  DEFAULT_CONFIG_FILE,
  DEFAULT_LEASE_FILE,
  DEFAULT_PID_FILE,
  EXTRA_USAGE_TEXT,
  parseArgv,
  SUBCOMMANDS,
  USAGE_TEXT,
  validatePort,
} from '../../src/cli/argv.js';
import { fatalLines } from '../../src/cli/isc-output.js';
import { bannerLines, versionLine } from '../../src/cli/version.js';

const ISC = '/usr/sbin/dhcpd';
const haveIsc = existsSync(ISC);
const iscSkip = haveIsc ? false : `${ISC} (isc-dhcp-server) is not installed`;

let dir = '';
const savedCwd = process.cwd();

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-argv-'));
  writeFileSync(join(dir, 'good.conf'), 'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n');
  writeFileSync(join(dir, 'existing.leases'), '');
  process.chdir(dir);
});
after(() => {
  process.chdir(savedCwd);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: no PATH_DHCPD_* or DHCPD_PORT from the caller. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', ...extra };
  return env;
}

function runIsc(argv: readonly string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(ISC, argv, { cwd: dir, env: cleanEnv(env), encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function runOurs(argv: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const stderr = new PassThrough();
  const stdout = new PassThrough();
  let err = '';
  let out = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await main(argv, { stderr, stdout, env: cleanEnv(env) });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

const ISC_BANNER = /^Internet Systems Consortium DHCP Server .*\nCopyright .*\nAll rights reserved\.\nFor info, please visit .*\n/m;
const ISC_BUG =
  /\nIf you think you have received this message due to a bug rather\n(?:.*\n){3}process and the information we find helpful for debugging\.\n/;

/** Replaces the self-naming parts of ISC's and our output by placeholders. */
function normalizeIsc(s: string): string {
  return s.replace(ISC_BANNER, '<BANNER>\n').replace(ISC_BUG, '\n<BUG>\n');
}
function normalizeOurs(s: string): string {
  const banner = `${bannerLines().join('\n')}\n`;
  const bug = fatalLines('X').slice(2, -2).join('\n');
  return s.split(banner).join('<BANNER>\n').split(`\n${bug}\n`).join('\n<BUG>\n');
}

/** Argument vectors that fail (or finish) during argument handling; each includes -t or exits first. */
const VECTORS: readonly (readonly string[])[] = [
  ['-bogus'],
  ['-t', '-x'],
  ['-t', '-4o6', '6767'],
  ['-t', '-cf'],
  ['-t', '-lf'],
  ['-t', '-pf'],
  ['-t', '-p'],
  ['-t', '-s'],
  ['-t', '-user'],
  ['-t', '-group'],
  ['-t', '-chroot'],
  ['-t', '-tf'],
  ['-t', '-play'],
  ['-t', '-F'],
  ['-t', '-D'],
  ['-t', '-cfg', 'x'],
  ['-t', '-'],
  ['-t', '--no-pid=1'],
  ['-t', '-p', 'abc'],
  ['-t', '-p', '0'],
  ['-t', '-p', '70000'],
  ['-t', '-p', '67x'],
  ['-t', '-p', ''],
  ['-t', '-p', '0x43'],
  ['-t', '-p', '-1'],
  ['-t', '-4', '-6'],
  ['-t', '-6', '-4'],
  ['-t', 'eth0', 'abcdefghijklmnop'],
  ['-t', 'abcdefghijklmnopqrstuvw'],
  ['-t', '-lf', 'missing/x.leases'],
  ['-t', '-lf', 'nope.leases', '-cf', 'good.conf'],
  ['-t', '-p', '6767', '-bogus'],
  ['-t', '-p', '6767', '-cf'],
  ['-t', '-cf', 'good.conf', '-q', '-bogus'],
  ['-q', '-bogus'],
  ['-t', '-cf', 'good.conf', '-x', '-p', 'abc'],
  ['-t', '-p', 'abc', '-x'],
  ['-t', '-user', 'nosuchuser-cli', '-cf', 'good.conf'],
  ['-t', '-group', 'nosuchgroup-cli', '-cf', 'good.conf'],
  ['-t', '-user', 'nosuchuser-cli', '-group', 'nosuchgroup-cli', '-cf', 'good.conf'],
  ['-t', '-q', '-user', 'nosuchuser-cli', '-cf', 'good.conf'],
  ['-t', '-user', 'root', '-group', 'nosuchgroup-cli', '-cf', 'good.conf'],
];

describe('argv: same verdicts as ISC dhcpd 4.4.3', () => {
  for (const v of VECTORS) {
    test(`dhcpd ${v.map((a) => JSON.stringify(a)).join(' ')}`, { skip: iscSkip }, async () => {
      const isc = runIsc(v);
      const ours = await runOurs(v);
      assert.equal(ours.code, isc.code, `exit code (ISC stderr: ${isc.stderr})`);
      assert.equal(ours.stdout, isc.stdout);
      assert.equal(normalizeOurs(ours.stderr), normalizeIsc(isc.stderr));
    });
  }

  test('DHCPD_PORT is checked after the banner, and silently with -q', { skip: iscSkip }, async () => {
    for (const v of [['-t', '-cf', 'good.conf'], ['-t', '-q', '-cf', 'good.conf']]) {
      const isc = runIsc(v, { DHCPD_PORT: 'abc' });
      const ours = await runOurs(v, { DHCPD_PORT: 'abc' });
      assert.equal(ours.code, isc.code);
      assert.equal(normalizeOurs(ours.stderr), normalizeIsc(isc.stderr));
    }
  });

  for (const v of [['--version'], ['--version', '-bogus'], ['-bogus', '--version'], ['-t', '-p', 'abc', '--version'], ['-cf', '--version']]) {
    test(`dhcpd ${v.join(' ')} prints the version to stderr, exit 0`, { skip: iscSkip }, async () => {
      const isc = runIsc(v);
      const ours = await runOurs(v);
      assert.equal(isc.code, 0);
      assert.equal(ours.code, 0);
      assert.equal(ours.stdout, '');
      assert.match(isc.stderr, /^isc-dhcpd-4\.4\.\d/);
      assert.equal(ours.stderr, `${versionLine()}\n`);
      assert.match(ours.stderr, /^dhcpd-ts-\d+\.\d+\.\d+.*compatible with ISC dhcpd 4\.4\n$/);
    });
  }

  for (const v of [['-h'], ['--help'], ['-cf', '--help'], ['-bogus', '-h'], ['-t', '-p', '0', '--help'], ['-h', '--version']]) {
    test(`dhcpd ${v.join(' ')} prints ISC's usage to stderr, exit 0`, { skip: iscSkip }, async () => {
      const isc = runIsc(v);
      const ours = await runOurs(v);
      assert.equal(ours.code, isc.code);
      assert.equal(ours.stdout, isc.stdout);
      // ISC's text first, byte for byte; our additions follow it.
      assert.equal(ours.stderr, isc.stderr + EXTRA_USAGE_TEXT);
      assert.equal(isc.stderr, USAGE_TEXT);
    });
  }
});

/** What ISC says it will use, from `-t`'s "Config file:/Database file:/PID file:" lines. */
function iscPaths(stderr: string): { config: string; db: string; pid: string } | undefined {
  const c = /^Config file: (.*)$/m.exec(stderr);
  const d = /^Database file: (.*)$/m.exec(stderr);
  const p = /^PID file: (.*)$/m.exec(stderr);
  return c && d && p ? { config: c[1], db: d[1], pid: p[1] } : undefined;
}

describe('argv: file paths and environment as ISC resolves them', () => {
  const cases: { argv: string[]; env?: Record<string, string> }[] = [
    { argv: ['-t', '-cf', 'good.conf'] },
    { argv: ['-t', '-cf', 'good.conf', '-lf', 'existing.leases'] },
    { argv: ['-t', '-cf', 'good.conf', '-lf', '/tmp/abs.leases', '-pf', 'rel.pid'] },
    { argv: ['-t', '-cf', 'good.conf', '-pf', '/run/x.pid', '--no-pid'] },
    { argv: ['-t'], env: { PATH_DHCPD_CONF: 'good.conf' } },
    { argv: ['-t'], env: { PATH_DHCPD_CONF: 'good.conf', PATH_DHCPD_DB: '/tmp/env.leases', PATH_DHCPD_PID: '/tmp/env.pid' } },
    { argv: ['-t', '-cf', 'good.conf', '-lf', '/tmp/flag.leases'], env: { PATH_DHCPD_DB: '/tmp/env.leases', PATH_DHCPD_CONF: 'nope.conf' } },
    { argv: ['-t', '-cf', 'good.conf'], env: { PATH_DHCPD_DB: 'existing.leases' } },
    { argv: ['-t', '-4', '-cf', 'good.conf', '-f', '-d', '-q', 'eth0', 'eth1'] },
    { argv: ['-t', '-cf', 'good.conf', '-p', '6767', '-s', '10.0.0.1', 'lo'] },
  ];
  for (const c of cases) {
    test(`${c.env ? `${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}dhcpd ${c.argv.join(' ')}`, { skip: iscSkip }, () => {
      // Run ISC without -q so that it prints its paths.
      const isc = runIsc(c.argv.filter((a) => a !== '-q'), c.env);
      assert.equal(isc.code, 0, isc.stderr);
      const want = iscPaths(isc.stderr);
      assert.ok(want, isc.stderr);
      const r = parseArgv(c.argv, { env: cleanEnv(c.env) });
      assert.equal(r.kind, 'server');
      if (r.kind !== 'server') return;
      assert.deepEqual({ config: r.args.configFile, db: r.args.leaseFile, pid: r.args.pidFile }, want);
    });
  }
});

describe('argv: parsed values', () => {
  test('defaults are Debian\'s', () => {
    const r = parseArgv([], { env: {} });
    assert.equal(r.kind, 'server');
    if (r.kind !== 'server') return;
    assert.equal(r.args.configFile, DEFAULT_CONFIG_FILE);
    assert.equal(r.args.leaseFile, DEFAULT_LEASE_FILE);
    assert.equal(r.args.pidFile, DEFAULT_PID_FILE);
    assert.equal(r.args.port, undefined);
    assert.equal(r.args.foreground, false);
    assert.equal(r.args.dbFile, undefined);
    assert.deepEqual(r.args.interfaces, []);
  });

  test('every flag lands in its field; interfaces keep their order', () => {
    const r = parseArgv(
      ['-p', '6767', '-f', '-q', '-T', '-4', '-cf', '/c', '-lf', '/l', '-pf', '/p', '--no-pid', '-user', 'u', '-group', 'g', '-chroot', '/r', '-s', '1.2.3.4', '-db', '/d.sqlite', 'eth1', 'eth0'],
      { env: {} },
    );
    assert.equal(r.kind, 'server');
    if (r.kind !== 'server') return;
    const a = r.args;
    assert.deepEqual(
      [a.port, a.foreground, a.debug, a.quiet, a.test, a.family, a.configFile, a.leaseFile, a.pidFile, a.noPid, a.user, a.group, a.chroot, a.server, a.dbFile, a.interfaces],
      [6767, true, false, true, 'config+leases', 4, '/c', '/l', '/p', true, 'u', 'g', '/r', '1.2.3.4', '/d.sqlite', ['eth1', 'eth0']],
    );
    assert.deepEqual(a.notes, ['binding to user-specified port 6767']);
  });

  test('-d implies foreground; -t then -T is -T', () => {
    const r = parseArgv(['-d', '-t', '-T'], { env: {} });
    assert.ok(r.kind === 'server' && r.args.foreground && r.args.debug && r.args.test === 'config+leases');
  });

  test('validatePort follows strtol: blanks and sign allowed, trailing junk refused', () => {
    assert.equal(validatePort(' 67'), 67);
    assert.equal(validatePort('+067'), 67);
    assert.equal(validatePort('65535'), 65535);
    assert.deepEqual(validatePort('65536'), { error: 'Port number specified is out of range (1-65535).' });
    assert.deepEqual(validatePort('6 7'), { error: 'Invalid port number specification: 6 7' });
  });

  test('subcommands only as the first argument; "--" makes the rest interfaces', () => {
    for (const name of SUBCOMMANDS) {
      const r = parseArgv([name, '-lf', '/x'], { env: {} });
      assert.deepEqual(r, { kind: 'subcommand', name, argv: ['-lf', '/x'] });
      const asIface = parseArgv(['-4', name], { env: {} });
      assert.ok(asIface.kind === 'server' && asIface.args.interfaces[0] === name);
      const afterDash = parseArgv(['--', name, '-weird'], { env: {} });
      assert.ok(afterDash.kind === 'server');
      if (afterDash.kind === 'server') assert.deepEqual(afterDash.args.interfaces, [name, '-weird']);
    }
  });

  test('-6, -play and -tf are refused as not supported', async () => {
    for (const v of [['-6'], ['-t', '-6', '-cf', 'good.conf'], ['-play', 'x', '-lf', '/tmp/x'], ['-tf', '/tmp/trace']]) {
      const r = await runOurs(v);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not supported by dhcpd-ts/);
    }
  });

  test('-db takes an argument (our addition)', async () => {
    const r = await runOurs(['-t', '-db']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^No argument for command: -db $/m);
  });
});
