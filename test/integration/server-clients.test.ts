/**
 * The server (src/server/dhcp-server.ts, with the real Linux transport) on the seed scenario's subnet
 * without failover, in network namespaces this test creates, against real clients: ISC dhclient (DORA,
 * renew, release), BusyBox udhcpc (DORA, renew, release), dhcpcd (DORA, decline, inform).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { serverCommand } from '../engine/server-process.js';
import {
  createTopology,

  dhclientArgs,
  integrationSkipReason,
  type LanInfo,
  type NsProcess,
  type Topology,
  udhcpcArgs,
  waitUntil,
} from '../support/netns.js';

const skip = integrationSkipReason();

/** The seed primary's subnet, without the failover peer (ping-check off to keep the test fast). */
const SEED_CONFIG = `
authoritative;
ddns-update-style none;
ping-check false;
subnet 192.168.102.0 netmask 255.255.255.0 {
  option subnet-mask 255.255.255.0;
  option broadcast-address 192.168.102.255;
  option routers 192.168.102.1;
  option domain-name-servers 192.168.102.1;
  option domain-name "seed.example";
  pool {
    default-lease-time 3600;
    max-lease-time 86400;
    range 192.168.102.110 192.168.102.210;
  }
}
`;

/** A client script that appends its environment (one `KEY=VALUE` per line) and the reason to a file. */
async function envScript(dir: string): Promise<string> {
  const path = join(dir, 'client-script');
  await writeFile(path, `#!/bin/sh\n{ echo "=== $1 $reason"; env | sort; echo "=== end"; } >> "${dir}/client-env.log"\nexit 0\n`);
  await chmod(path, 0o755);
  return path;
}

describe('server with real clients (seed subnet, no failover)', { skip }, () => {
  let topo: Topology;
  let lan: LanInfo;
  let dir: string;
  let server: NsProcess;

  before(async () => {
    topo = await createTopology('srvcli');
    lan = await topo.lan('lan', [
      { name: 'srv', address: '192.168.102.100/24' },
      { name: 'dhc', mac: '52:54:00:02:bf:f8' },
      { name: 'udh', mac: '52:54:00:02:00:02' },
      { name: 'dcd', mac: '52:54:00:02:00:03' },
    ]);
    dir = await topo.tempDir();
    await writeFile(join(dir, 'dhcpd.conf'), SEED_CONFIG);
    const c = serverCommand(join(dir, 'dhcpd.conf'), join(dir, 'leases.sqlite'), ['eth0']);
    server = topo.spawn(lan.host('srv').ns, c.cmd, c.args, { cwd: c.cwd });
    await server.waitFor('Server starting service.', { timeoutMs: 20_000 });
  });

  after(async () => {
    await topo?.destroy();
  });

  test('ISC dhclient: DORA with the seed log lines, then renew (unicast) and release', async () => {
    const h = lan.host('dhc');
    const cdir = await topo.tempDir();
    // An empty dhclient.conf: no host-name is sent, as for the seed client (Debian's default sends one).
    await writeFile(join(cdir, 'dhclient.conf'), '');
    const dargs = (extra: string[] = []): string[] => dhclientArgs(cdir, 'eth0', { extra: ['-cf', join(cdir, 'dhclient.conf'), ...extra] });
    // dhclient -d stays in the foreground once bound: wait for "bound to", then stop it (SIGTERM: no release).
    const first = h.spawn('dhclient', dargs());
    const bound = await first.waitFor(/bound to (192\.168\.102\.\d+)/, { timeoutMs: 30_000 });
    await first.stop();
    const addr = bound[1]!;
    const leases = await readFile(join(cdir, 'dhclient.leases'), 'utf8');
    assert.match(leases, new RegExp(`fixed-address ${addr.replace(/\./g, '\\.')};`));
    const n = Number(addr.split('.')[3]);
    assert.ok(n >= 110 && n <= 210);
    assert.match(leases, /option dhcp-lease-time 3600;/);
    assert.match(leases, /option routers 192\.168\.102\.1;/);
    assert.match(leases, /option dhcp-server-identifier 192\.168\.102\.100;/);
    assert.match(leases, /option domain-name "seed\.example";/);
    await server.waitFor(`DHCPACK on ${addr} to 52:54:00:02:bf:f8 via eth0`);
    const lines = server.output.split('\n');
    for (const want of [
      'DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0',
      `DHCPOFFER on ${addr} to 52:54:00:02:bf:f8 via eth0`,
      `DHCPREQUEST for ${addr} (192.168.102.100) from 52:54:00:02:bf:f8 via eth0`,
      `DHCPACK on ${addr} to 52:54:00:02:bf:f8 via eth0`,
    ]) {
      assert.ok(lines.includes(want), `missing log line ${JSON.stringify(want)} in:\n${server.output}`);
    }

    // INIT-REBOOT: a second dhclient run requests the remembered address (no server identifier).
    const second = h.spawn('dhclient', dargs());
    await second.waitFor(`bound to ${addr}`, { timeoutMs: 30_000 });
    await second.stop();
    assert.ok(server.output.includes(`DHCPREQUEST for ${addr} from 52:54:00:02:bf:f8 via eth0`), server.output);
    assert.equal(server.output.split(`DHCPACK on ${addr} to 52:54:00:02:bf:f8 via eth0`).length, 3, server.output);

    // Release (dhclient -r sends DHCPRELEASE from the lease file and exits).
    await h.exec('ip', ['addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    const rel = await h.exec('dhclient', dargs(['-r']), { timeoutMs: 30_000, check: false });
    await server.waitFor(`DHCPRELEASE of ${addr} from 52:54:00:02:bf:f8 via eth0 (found)`, { timeoutMs: 10_000 }).catch((e: unknown) => {
      throw new Error(`${String(e)}\ndhclient -r: ${rel.stdout}${rel.stderr}`);
    });
  });

  test('BusyBox udhcpc: DORA, renew (SIGUSR1) and release (SIGUSR2)', async () => {
    const h = lan.host('udh');
    const cdir = await topo.tempDir();
    const script = await envScript(cdir);
    const p = h.spawn('udhcpc', udhcpcArgs('eth0', { quitAfterLease: false, script, tries: 5, timeoutS: 2 }));
    await p.waitFor(/lease of (\d+\.\d+\.\d+\.\d+) obtained/, { timeoutMs: 20_000 });
    const addr = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(p.output)![1]!;
    const env = await waitUntil(async () => {
      const text = await readFile(join(cdir, 'client-env.log'), 'utf8').catch(() => '');
      const i = text.indexOf('=== bound');
      return i >= 0 && text.indexOf('=== end', i) > 0 ? text.slice(i, text.indexOf('=== end', i)) : undefined;
    });
    assert.match(env, /lease=3600/);
    assert.match(env, /router=192\.168\.102\.1/);
    assert.match(env, /serverid=192\.168\.102\.100/);
    assert.match(env, /subnet=255\.255\.255\.0/);
    await server.waitFor(`DHCPACK on ${addr} to 52:54:00:02:00:02 via eth0`);
    // udhcpc's script did not configure the address; give it one so the unicast renewal can be answered.
    await h.exec('ip', ['addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    process.kill(p.child.pid!, 'SIGUSR1');
    await waitUntil(() => (server.output.split(`DHCPACK on ${addr} to 52:54:00:02:00:02 via eth0`).length > 2 ? true : undefined), { timeoutMs: 15_000 });
    process.kill(p.child.pid!, 'SIGUSR2');
    await server.waitFor(`DHCPRELEASE of ${addr} from 52:54:00:02:00:02 via eth0 (found)`, { timeoutMs: 10_000 });
    await p.stop();
  });

  test('dhcpcd: DORA, then DECLINE when the address answers ARP, then INFORM', async () => {
    const h = lan.host('dcd');
    const cdir = await topo.tempDir();
    const script = await envScript(cdir);
    await writeFile(join(cdir, 'dhcpcd.conf'), 'noipv6rs\nipv4only\nnoarp\noption domain_name\n');
    const wrap = (inner: string): string[] => [
      '-c',
      `mount -t tmpfs tmpfs /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && : > /run/dhcpcd/resolv.conf && mount --bind /run/dhcpcd/resolv.conf /etc/resolv.conf && ${inner}`,
    ];
    const r = await h.exec('sh', wrap(`timeout 20 dhcpcd -B -1 -4 -f ${cdir}/dhcpcd.conf -c ${script} eth0`), { timeoutMs: 30_000, check: false });
    const env = await readFile(join(cdir, 'client-env.log'), 'utf8').catch(() => '');
    const addr = /new_ip_address=(\S+)/.exec(env)?.[1];
    assert.ok(addr, `dhcpcd got no lease: ${r.stdout}${r.stderr}\n${env}`);
    assert.match(env, /new_dhcp_lease_time=3600/);
    assert.match(env, /new_domain_name=seed\.example/);
    await server.waitFor(`DHCPACK on ${addr} to 52:54:00:02:00:03 via eth0`);

    // INFORM from a statically configured address.
    await h.exec('ip', ['addr', 'add', '192.168.102.60/24', 'dev', 'eth0']);
    await h.exec('sh', wrap(`timeout 8 dhcpcd -B -1 -4 -f ${cdir}/dhcpcd.conf -c ${script} --inform=192.168.102.60/24 eth0`), { timeoutMs: 20_000, check: false });
    await server.waitFor('DHCPINFORM from 192.168.102.60 via eth0', { timeoutMs: 10_000 });
    await server.waitFor('DHCPACK to 192.168.102.60 (52:54:00:02:00:03) via eth0');
    await h.exec('ip', ['addr', 'del', '192.168.102.60/24', 'dev', 'eth0']);
  });

});

describe('server DECLINE handling with real dhcpcd (ARP conflict)', { skip }, () => {
  let topo: Topology;
  let lan: LanInfo;
  let server: NsProcess;

  before(async () => {
    topo = await createTopology('srvdecl');
    // "squat" already uses 10.77.0.100, the address the server hands out first (ISC's order, see allocate.ts).
    lan = await topo.lan('lan', [
      { name: 'srv', address: '10.77.0.1/24' },
      { name: 'squat', address: '10.77.0.100/24' },
      { name: 'dcd', mac: '52:54:00:77:00:07' },
    ]);
    const dir = await topo.tempDir();
    await writeFile(
      join(dir, 'dhcpd.conf'),
      'authoritative;\nping-check false;\nsubnet 10.77.0.0 netmask 255.255.255.0 {\n  range 10.77.0.100 10.77.0.101;\n  option routers 10.77.0.1;\n}\n',
    );
    const c = serverCommand(join(dir, 'dhcpd.conf'), join(dir, 'leases.sqlite'), ['eth0']);
    server = topo.spawn(lan.host('srv').ns, c.cmd, c.args, { cwd: c.cwd });
    await server.waitFor('Server starting service.', { timeoutMs: 20_000 });
  });

  after(async () => {
    await topo?.destroy();
  });

  test('the declined address is abandoned and the client gets the other one', async () => {
    const h = lan.host('dcd');
    const cdir = await topo.tempDir();
    const script = await envScript(cdir);
    await writeFile(join(cdir, 'dhcpcd.conf'), 'noipv6rs\nipv4only\n');
    await h.exec(
      'sh',
      ['-c', `mount -t tmpfs tmpfs /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && : > /run/dhcpcd/resolv.conf && mount --bind /run/dhcpcd/resolv.conf /etc/resolv.conf && timeout 25 dhcpcd -B -1 -4 -f ${cdir}/dhcpcd.conf -c ${script} eth0`],
      { timeoutMs: 40_000, check: false },
    );
    await server.waitFor('DHCPDECLINE of 10.77.0.100 from 52:54:00:77:00:07 via eth0: abandoned', { timeoutMs: 5_000 });
    assert.ok(server.output.includes('Abandoning IP address 10.77.0.100: declined.'), server.output);
    await server.waitFor('DHCPACK on 10.77.0.101 to 52:54:00:77:00:07 via eth0', { timeoutMs: 5_000 });
  });
});
