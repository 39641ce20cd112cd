/**
 * `dhcpd -t -q` sends its "Config file:", "Database file:" and "PID file:" lines to syslog only, as ISC's
 * log_info does; dhcpd-ts loads the native addon that sends them at the first such line (src/cli/main.ts
 * lazySyslogSend), and not at all when nothing exists at the syslog socket's path (STARTUP-SPEED-4.md
 * Part 2). The receiver is a real AF_UNIX datagram socket (python3, as syslog daemons bind /dev/log).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = import.meta.url.endsWith('.ts') ? join(here, '..', '..') : join(here, '..', '..', '..');
const LAUNCHER = join(repoRoot, 'bin', 'dhcpd-ts');
const built = existsSync(join(repoRoot, 'dist', 'src', 'cli', 'main.js'));
const python = spawnSync('python3', ['-c', 'pass']).status === 0;
const strace = spawnSync('strace', ['-V']).status === 0;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'check-syslog-'));
  writeFileSync(join(dir, 'good.conf'), 'subnet 10.9.0.0 netmask 255.255.255.0 { range 10.9.0.10 10.9.0.20; }\n');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Binds a datagram socket at `path`, prints each datagram received on a line, for at most 20 s or 3 lines. */
const RECEIVER = `
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
print('ready', flush=True)
try:
    for _ in range(3): print(s.recv(65536).decode('latin1'), flush=True)
except socket.timeout: pass
`;

test('-t -q with a syslog socket: the three lines reach it, nothing on stderr, exit 0', { skip: !built ? 'no dist/ (make build)' : !python ? 'no python3' : false }, async () => {
  const sock = join(dir, 'log.sock');
  const rx = spawn('python3', ['-c', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    rx.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const closed = new Promise((r) => rx.on('close', r));
    for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(out.includes('ready'), 'receiver bound');
    const r = spawnSync(LAUNCHER, ['-t', '-q', '-cf', 'good.conf'], { cwd: dir, env: { ...process.env, DHCPD_TS_SYSLOG_SOCKET: sock }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stderr.length, 0);
    await closed;
    const lines = out.split('\n').filter((l) => l.startsWith('<'));
    assert.equal(lines.length, 3, out);
    assert.match(lines[0]!, /^<30>.*dhcpd\[\d+\]: Config file: good\.conf$/);
    assert.match(lines[1]!, /Database file: /);
    assert.match(lines[2]!, /PID file: /);
  } finally {
    rx.kill();
  }
});

test('-t -q with nothing at the syslog path: the addon is never opened, nothing on stderr, exit 0', { skip: !built ? 'no dist/ (make build)' : !strace ? 'no strace' : false }, () => {
  const trace = join(dir, 'openat.txt');
  const env = { ...process.env, DHCPD_TS_SYSLOG_SOCKET: join(dir, 'nobody-here.sock') };
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', trace, LAUNCHER, '-t', '-q', '-cf', 'good.conf'], { cwd: dir, env, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stderr.length, 0, r.stderr.toString());
  const opens = readFileSync(trace, 'utf8');
  assert.match(opens, /good\.conf/, 'the trace saw the config being read');
  assert.doesNotMatch(opens, /dhcpsock\.node/);
  // A bad file's error lines also go to syslog only; with a socket path present the addon is used (test above).
});
