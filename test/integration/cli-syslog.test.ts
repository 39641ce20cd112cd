/**
 * A daemonized dhcpd-ts logs to syslog as ISC dhcpd does: glibc-format datagrams with identity `dhcpd`
 * and the daemon's pid, facility `daemon` until the config is read and then the config's `log-facility`,
 * and the DHCP lines of a real client's DORA (udhcpc in a second namespace). The syslog socket is a
 * receiver this test binds (native addon), passed with DHCPD_TS_SYSLOG_SOCKET.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupPrefix, createNamespace, deleteNamespace, exec, integrationSkipReason, run, waitUntil } from '../support/netns.js';
import { addonAvailable, loadAddon, type NativeUnixDatagramSocket } from '../../src/native/index.js';
import { processAlive, readPidFile } from '../../src/cli/pid-file.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? 'ts' : 'js';
const root = join(here, '..', '..');
const MAIN = join(root, 'src', 'cli', `main.${ext}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const skip =
  integrationSkipReason() ??
  (!addonAvailable()
    ? 'native addon not built'
    : !existsSync('/usr/sbin/udhcpc') && !existsSync('/sbin/udhcpc')
        ? 'udhcpc not installed'
        : false);

const PREFIX = 'clis';
const N = process.pid % 100000;
const NS_S = `${PREFIX}-${N}-s`;
const NS_C = `${PREFIX}-${N}-c`;
const IF = `cs${N}a`;
const PEER = `cs${N}b`;

let dir = '';
let rx: NativeUnixDatagramSocket | undefined;
const got: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-syslog-'));
  if (skip) return;
  await cleanupPrefix(PREFIX);
  await createNamespace(NS_S);
  await createNamespace(NS_C);
  await run('ip', ['-n', NS_S, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS_S, 'link', 'set', PEER, 'netns', NS_C]);
  await run('ip', ['-n', NS_S, 'addr', 'add', '10.81.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS_S, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS_C, 'link', 'set', PEER, 'up']);
  rx = new (loadAddon().UnixDatagramSocket)(join(dir, 'log.sock'));
  rx.start((d) => got.push(d.toString('utf8')), () => undefined);
});

after(async () => {
  const pid = dir ? readPidFile(join(dir, 'd.pid')) : undefined;
  if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
  rx?.close();
  if (!skip) {
    await deleteNamespace(NS_C);
    await deleteNamespace(NS_S);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Parses `<PRI>Mmm dd hh:mm:ss dhcpd[PID]: MSG`. */
function parse(line: string): { pri: number; pid: number; msg: string } | undefined {
  const m = /^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d dhcpd\[(\d+)\]: (.*)$/s.exec(line);
  return m ? { pri: Number(m[1]), pid: Number(m[2]), msg: m[3] } : undefined;
}

describe('daemon logging to syslog', () => {
  test('identity, pid, facility daemon then log-facility local7, and the DORA lines of a real client', { skip }, async () => {
    const conf = join(dir, 'd.conf');
    writeFileSync(
      conf,
      'log-facility local7;\nsubnet 10.81.0.0 netmask 255.255.255.0 {\n  range 10.81.0.100 10.81.0.150;\n  default-lease-time 600;\n  ping-check false;\n}\n',
    );
    writeFileSync(join(dir, 'd.leases'), '');
    const pidFile = join(dir, 'd.pid');
    const r = await exec(NS_S, process.execPath, [...NODE_ARGS, '-cf', conf, '-lf', join(dir, 'd.leases'), '-pf', pidFile, IF], {
      check: false,
      timeoutMs: 60_000,
      env: { DHCPD_TS_SYSLOG_SOCKET: join(dir, 'log.sock') },
    });
    assert.equal(r.code, 0, r.stderr);
    const pid = readPidFile(pidFile);
    assert.ok(pid !== undefined && processAlive(pid));

    const mac = (await run('ip', ['-n', NS_C, '-br', 'link', 'show', PEER])).stdout.trim().split(/\s+/)[2];
    assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const client = await exec(NS_C, 'udhcpc', ['-i', PEER, '-n', '-q', '-f', '-t', '5', '-T', '2', '-s', '/bin/true'], {
      check: false,
      timeoutMs: 30_000,
    });
    assert.equal(client.code, 0, client.stderr + client.stdout);

    await waitUntil(() => (got.some((l) => l.includes('DHCPACK on')) ? true : undefined), { timeoutMs: 10_000, what: 'DHCPACK in syslog' });
    const lines = got.map(parse);
    assert.ok(lines.every((l) => l !== undefined), `every datagram has the glibc syslog shape:\n${got.join('\n')}`);
    const parsed = lines.filter((l): l is NonNullable<typeof l> => l !== undefined);
    assert.ok(parsed.every((l) => l.pid === pid), 'every line carries the daemon\'s pid');
    const find = (re: RegExp) => parsed.find((l) => re.test(l.msg));
    // Before the config is read: facility daemon (3*8 + info 6 = 30), as ISC's initial openlog.
    assert.equal(find(/^dhcpd-ts DHCP Server /)?.pri, 30);
    // After: local7 (23*8 + 6 = 190).
    assert.equal(find(/^Server starting service\.$/)?.pri, 190);
    assert.equal(find(new RegExp(`^DHCPDISCOVER from ${mac} via ${IF}$`))?.pri, 190);
    assert.equal(find(new RegExp(`^DHCPOFFER on 10\\.81\\.0\\.\\d+ to ${mac} via ${IF}$`))?.pri, 190);
    assert.equal(find(new RegExp(`^DHCPREQUEST for 10\\.81\\.0\\.\\d+ \\(10\\.81\\.0\\.1\\) from ${mac} via ${IF}$`))?.pri, 190);
    assert.equal(find(new RegExp(`^DHCPACK on 10\\.81\\.0\\.\\d+ to ${mac} via ${IF}$`))?.pri, 190);

    process.kill(pid, 'SIGTERM');
    await waitUntil(() => (processAlive(pid) ? undefined : true), { timeoutMs: 15_000, what: 'daemon exit' });
    assert.equal(existsSync(pidFile), false);
  });
});
