/**
 * `on release` with a real client (dhcp-eval(5)): dhcpd-ts started with dhcpd's command line
 * (bin/dhcpd-ts -cf -lf -pf IFACE) on a config whose pool has `on release { log (info, …); }`; BusyBox
 * udhcpc (in a namespace this test creates) gets a lease, then releases it (SIGUSR2): the server logs ISC's
 * DHCPRELEASE line and the line of the `on release` statement, once. While the lease is active, the
 * database export (ISC's dhcpd.leases syntax) carries the statement with the lease, as ISC's file does.
 *
 * Needs `make build`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTopology, integrationSkipReason, type LanInfo, type Topology, udhcpcArgs, waitUntil } from '../support/netns.js';
import { DHCPD_TS } from '../support/seed-scenario.js';

const skip = integrationSkipReason();

const CONF = `authoritative;
ddns-update-style none;
ping-check false;
subnet 10.246.0.0 netmask 255.255.255.0 {
  pool {
    range 10.246.0.50 10.246.0.60;
    default-lease-time 600;
    on release {
      log (info, concat ("on release: ", binary-to-ascii (10, 8, ".", leased-address), " from ",
                         binary-to-ascii (16, 8, ":", substring (hardware, 1, 6))));
    }
  }
}
`;

function exportDb(db: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(DHCPD_TS, ['export', '-db', db, '-lf', '-'], { encoding: 'utf8', timeout: 20_000 }, (err, out, errText) => (err ? reject(new Error(`${err.message}\n${errText}`)) : resolve(out)));
  });
}

describe('on release with a real client', { skip }, () => {
  let topo: Topology;
  let lan: LanInfo;

  before(async () => {
    topo = await createTopology('onrel');
    lan = await topo.lan('lan', [
      { name: 'srv', address: '10.246.0.1/24' },
      { name: 'cli', mac: '52:54:00:f6:00:01' },
    ]);
  });
  after(async () => {
    await topo?.destroy();
  });

  test('udhcpc release runs the lease\'s on release statements, logged once', { timeout: 60_000 }, async () => {
    const dir = await topo.tempDir();
    const conf = join(dir, 'dhcpd.conf');
    const leases = join(dir, 'dhcpd.leases');
    await writeFile(conf, CONF);
    await writeFile(leases, '');
    const srv = lan.host('srv').spawn(DHCPD_TS, ['-4', '-d', '-cf', conf, '-lf', leases, '-pf', join(dir, 'dhcpd.pid'), lan.host('srv').ifname]);
    try {
      await srv.waitFor('Server starting service.', { timeoutMs: 20_000 });
      const cli = lan.host('cli');
      const p = cli.spawn('udhcpc', udhcpcArgs(cli.ifname, { quitAfterLease: false, tries: 5, timeoutS: 2 }));
      try {
        const m = await p.waitFor(/lease of (\d+\.\d+\.\d+\.\d+) obtained/, { timeoutMs: 20_000 });
        const addr = m[1]!;
        await srv.waitFor(`DHCPACK on ${addr} to 52:54:00:f6:00:01 via ${lan.host('srv').ifname}`, { timeoutMs: 5000 });
        const exported = await exportDb(`${leases}.sqlite`);
        const rec = new RegExp(`lease ${addr.replace(/\./g, '\\.')} \\{[^}]*binding state active;[\\s\\S]*?on release \\{\\s+log \\(info, concat \\("on release: "`);
        assert.match(exported, rec, exported);
        assert.doesNotMatch(srv.output, /on release: /);

        // udhcpc's script did not configure the address; give it one so its unicast RELEASE can be sent.
        await cli.exec('ip', ['addr', 'add', `${addr}/24`, 'dev', cli.ifname]);
        process.kill(p.pid, 'SIGUSR2');
        await srv.waitFor(new RegExp(`DHCPRELEASE of ${addr.replace(/\./g, '\\.')} from 52:54:00:f6:00:01 via \\S+ \\(found\\)`), { timeoutMs: 10_000 });
        const line = `on release: ${addr} from 52:54:0:f6:0:1`;
        await waitUntil(() => (srv.output.includes(line) ? true : undefined), { timeoutMs: 5000, intervalMs: 100, what: `"${line}" in the server log` });
        assert.equal(srv.output.split(line).length - 1, 1, srv.output);
        const after = await exportDb(`${leases}.sqlite`);
        assert.doesNotMatch(after, /on release/, 'the statements are dropped once run (ISC release_lease)');
      } finally {
        await p.stop();
      }
    } finally {
      await srv.stop('SIGTERM', 3000);
    }
  });
});
