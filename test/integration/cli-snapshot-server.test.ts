/**
 * The server through bin/dhcpd-ts and its start-up snapshot (tools/build-startup.mjs): a foreground server
 * and a daemon (re-run by the parent with the same node options) are node processes deserialized from
 * dist/src/cli/dhcpd-ts.blob (their /proc/PID/cmdline), load the native addons after deserialization,
 * and answer a real client (BusyBox udhcpc) in network namespaces this test creates; so does a server in a
 * -chroot jail (a bundle has no per-file imports to preload). Needs `make build`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopology, integrationSkipReason, type LanInfo, type Topology, udhcpcArgs, waitUntil } from '../support/netns.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = import.meta.url.endsWith('.ts') ? join(here, '..', '..') : join(here, '..', '..', '..');
const LAUNCHER = join(repoRoot, 'bin', 'dhcpd-ts');
const BLOB = join(repoRoot, 'dist', 'src', 'cli', 'dhcpd-ts.blob');
// Run built (`make test`), a missing snapshot is a failure (test/cli/startup-snapshot says so); from source
// without one, skipped.
const skip = integrationSkipReason() ?? (existsSync(BLOB) || !import.meta.url.endsWith('.ts') ? false : 'no start-up snapshot in dist/ (run `make build`)');

const CONFIG = `
authoritative;
ddns-update-style none;
ping-check false;
subnet 192.168.117.0 netmask 255.255.255.0 {
  option routers 192.168.117.1;
  range 192.168.117.110 192.168.117.120;
}
`;

/** The node options of process `pid`, asserting they name the blob. */
function assertFromBlob(pid: number): void {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const i = cmdline.indexOf('--snapshot-blob');
  assert.ok(i > 0, `process ${pid}: ${cmdline.join(' ')}`);
  assert.equal(realpathSync(cmdline[i + 1]!), realpathSync(BLOB));
  // Never the check blob's --single-threaded (GC and compiles would pause the server's event loop).
  assert.ok(!cmdline.includes('--single-threaded'), `process ${pid}: ${cmdline.join(' ')}`);
  assert.equal(realpathSync(`/proc/${pid}/exe`), realpathSync(process.execPath));
}

describe('the server from the start-up snapshot', { skip }, () => {
  let topo: Topology;
  let lan: LanInfo;
  let dir: string;

  before(async () => {
    topo = await createTopology('clisnap');
    lan = await topo.lan('lan', [
      { name: 'srv', address: '192.168.117.100/24' },
      { name: 'c1', mac: '52:54:00:17:00:01' },
      { name: 'c2', mac: '52:54:00:17:00:02' },
    ]);
    dir = await topo.tempDir();
    await writeFile(join(dir, 'dhcpd.conf'), CONFIG);
  });
  after(async () => {
    await topo?.destroy();
  });

  /** udhcpc on host `name` gets a lease; returns the address. */
  async function lease(name: string): Promise<string> {
    const p = lan.host(name).spawn('udhcpc', udhcpcArgs('eth0', { tries: 5, timeoutS: 2 }));
    const m = await p.waitFor(/lease of (\d+\.\d+\.\d+\.\d+) obtained/, { timeoutMs: 30_000 });
    await p.exited;
    return m[1]!;
  }

  test('foreground (-d): deserialized from the blob, serves a DORA', { timeout: 60_000 }, async () => {
    const args = ['-d', '-cf', join(dir, 'dhcpd.conf'), '-lf', join(dir, 'fg.leases'), '-pf', join(dir, 'fg.pid'), '-db', join(dir, 'fg.sqlite'), 'eth0'];
    await writeFile(join(dir, 'fg.leases'), '');
    const server = lan.host('srv').spawn(LAUNCHER, args, { env: { DHCPD_TS_LAUNCH_DEBUG: '1', DHCPD_TS_SYSLOG_SOCKET: join(dir, 'no-syslog') } });
    await server.waitFor('Server starting service.', { timeoutMs: 30_000 });
    // `ip netns exec` and the launcher exec in place: the spawned PID is node's.
    assertFromBlob(server.child.pid!);
    assert.match(server.stderr, /^dhcpd-ts: running from snapshot --snapshot-blob \S+dhcpd-ts\.blob$/m);
    const addr = await lease('c1');
    await server.waitFor(`DHCPACK on ${addr} to 52:54:00:17:00:01 via eth0`, { timeoutMs: 10_000 });
    const { code } = await server.stop('SIGTERM', 5000);
    assert.equal(code, 0, server.output);
  });

  test('-chroot: the program is in the blob, the jail holds nothing of dhcpd-ts; serves, and the lease is in the jail', { timeout: 60_000 }, async () => {
    const jail = join(dir, 'jail');
    for (const d of ['run', 'var/lib/dhcp']) mkdirSync(join(jail, d), { recursive: true });
    await writeFile(join(jail, 'var/lib/dhcp/dhcpd.leases'), '');
    const args = ['-d', '-chroot', jail, '-cf', join(dir, 'dhcpd.conf'), '-lf', '/var/lib/dhcp/dhcpd.leases', '-pf', '/run/dhcpd.pid', 'eth0'];
    const server = lan.host('srv').spawn(LAUNCHER, args, { env: { DHCPD_TS_LAUNCH_DEBUG: '1' } });
    await server.waitFor('Server starting service.', { timeoutMs: 30_000 });
    assertFromBlob(server.child.pid!);
    assert.equal(readlinkSync(`/proc/${server.child.pid}/root`), jail);
    const addr = await lease('c1');
    await server.waitFor(`DHCPACK on ${addr} to 52:54:00:17:00:01 via eth0`, { timeoutMs: 10_000 });
    const { code } = await server.stop('SIGTERM', 5000);
    assert.equal(code, 0, server.output);
    assert.match(readFileSync(join(jail, 'var/lib/dhcp/dhcpd.leases'), 'utf8'), new RegExp(`^lease ${addr.replace(/\./g, '\\.')} \\{`, 'm'), server.output);
  });

  test('daemon: the child the parent re-runs is deserialized from the blob too, serves, stops on SIGTERM', { timeout: 60_000 }, async () => {
    const pidFile = join(dir, 'd.pid');
    const args = ['-cf', join(dir, 'dhcpd.conf'), '-lf', join(dir, 'd.leases'), '-pf', pidFile, '-db', join(dir, 'd.sqlite'), 'eth0'];
    await writeFile(join(dir, 'd.leases'), '');
    const parent = lan.host('srv').spawn(LAUNCHER, args, { env: { DHCPD_TS_SYSLOG_SOCKET: join(dir, 'no-syslog') } });
    const { code } = await parent.exited;
    assert.equal(code, 0, parent.output);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      assertFromBlob(pid);
      const addr = await lease('c2');
      assert.match(addr, /^192\.168\.117\.1(1\d|20)$/);
    } finally {
      process.kill(pid, 'SIGTERM');
      await waitUntil(() => (existsSync(`/proc/${pid}`) ? undefined : true), { timeoutMs: 10_000, what: `daemon ${pid} to exit` });
    }
  });
});
