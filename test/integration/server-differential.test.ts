/**
 * Differential test against real ISC dhcpd 4.4.3: the same dhcpd.conf is served first by ISC dhcpd, then by
 * dhcpd-ts, in the same namespaces (a local LAN and a relayed LAN behind real ISC dhcrelay with option 82),
 * and every client (ISC dhclient with its own request list and send statements) must receive the same
 * address, options and lease time from both. The config covers host reservations, classes (vendor class,
 * PXE boot file per client architecture, relay agent circuit-id), shared networks, static routes (options
 * 121 and 249 defined in the config), domain-search, and permits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createTopology,
  dhclientArgs,
  integrationSkipReason,
  type NsProcess,
  startIscDhcpd,
  type Topology,
} from '../support/netns.js';
import { serverCommand } from '../engine/server-process.js';
import { protocolLines } from '../engine/differential.js';

const skip = integrationSkipReason();

const CONFIG = `
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 900;
max-lease-time 7200;
option domain-name "example.org";
option domain-search "example.org", "lab.example.org";
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
option ms-classless-static-routes code 249 = array of unsigned integer 8;

class "pxe-bios" { match if option pxe-system-type = 00:00; filename "pxelinux.0"; next-server 10.60.0.1; }
class "pxe-efi" { match if option pxe-system-type = 00:07; filename "grubx64.efi"; next-server 10.60.0.1; }
class "vendor-lab" {
  match if substring(option vendor-class-identifier, 0, 7) = "lab-box";
  option domain-name "lab.example.org";
  default-lease-time 1200;
}
option space ubnt;
option ubnt.unifi-address code 1 = ip-address;
class "ubnt" {
  match if substring(option vendor-class-identifier, 0, 4) = "ubnt";
  vendor-option-space ubnt;
  option ubnt.unifi-address 10.60.0.5;
}
class "relayed" { match if exists agent.circuit-id; option ntp-servers 10.61.0.5; }

subnet 10.60.0.0 netmask 255.255.255.0 {
  option routers 10.60.0.1;
  option domain-name-servers 10.60.0.1, 10.60.0.2;
  option rfc3442-classless-static-routes 24, 10, 70, 0, 10, 60, 0, 1, 0, 10, 60, 0, 1;
  option ms-classless-static-routes 24, 10, 70, 0, 10, 60, 0, 1;
  pool {
    range 10.60.0.100 10.60.0.150;
  }
}

shared-network remote {
  option domain-name "remote.example.org";
  subnet 10.61.0.0 netmask 255.255.255.0 {
    option routers 10.61.0.1;
    max-lease-time 600;
    range 10.61.0.100 10.61.0.120;
  }
  subnet 10.62.0.0 netmask 255.255.255.0 {
    option routers 10.62.0.1;
    range 10.62.0.100 10.62.0.110;
  }
}

host fixed1 {
  hardware ethernet 52:54:00:0a:00:01;
  fixed-address 10.60.0.10;
  option host-name "fixed-one";
  default-lease-time 3000;
}
host dyn-with-options {
  hardware ethernet 52:54:00:0a:00:02;
  option domain-name-servers 10.60.0.53;
}
`;

/** What every client asks for (dhclient.conf). */
const REQUEST = `
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
option ms-classless-static-routes code 249 = array of unsigned integer 8;
request subnet-mask, broadcast-address, time-offset, routers, domain-name, domain-name-servers, domain-search,
  host-name, ntp-servers, rfc3442-classless-static-routes, ms-classless-static-routes, interface-mtu,
  vendor-encapsulated-options;
`;

interface ClientSpec {
  readonly name: string;
  readonly mac: string;
  readonly lan: 'local' | 'remote';
  /** Extra dhclient.conf statements. */
  readonly conf?: string;
}

const CLIENTS: readonly ClientSpec[] = [
  { name: 'plain', mac: '52:54:00:0a:00:10', lan: 'local' },
  { name: 'fixed', mac: '52:54:00:0a:00:01', lan: 'local' },
  { name: 'hostopt', mac: '52:54:00:0a:00:02', lan: 'local' },
  { name: 'pxebios', mac: '52:54:00:0a:00:11', lan: 'local', conf: 'send pxe-system-type 0;\n' },
  { name: 'pxeefi', mac: '52:54:00:0a:00:12', lan: 'local', conf: 'send pxe-system-type 7;\n' },
  { name: 'vendor', mac: '52:54:00:0a:00:13', lan: 'local', conf: 'send vendor-class-identifier "lab-box-2";\n' },
  { name: 'unifi', mac: '52:54:00:0a:00:15', lan: 'local', conf: 'send vendor-class-identifier "ubnt";\n' },
  { name: 'asklease', mac: '52:54:00:0a:00:14', lan: 'local', conf: 'send dhcp-lease-time 5000;\n' },
  { name: 'remote1', mac: '52:54:00:0b:00:01', lan: 'remote' },
  { name: 'remote2', mac: '52:54:00:0b:00:02', lan: 'remote', conf: 'send vendor-class-identifier "lab-box";\n' },
];

/** The part of a dhclient lease that must be equal: address, file/server fields, every option but times. */
function leaseSummary(text: string): string[] {
  const blocks = text.split('lease {').slice(1);
  const last = blocks[blocks.length - 1] ?? '';
  return last
    .split('\n')
    .map((l) => l.trim().replace(/;$/, ''))
    .filter((l) => /^(fixed-address|filename|server-name|option) /.test(l))
    .filter((l) => !/^option (dhcp-renewal-time|dhcp-rebinding-time) /.test(l))
    .sort();
}

describe('differential: dhcpd-ts vs ISC dhcpd 4.4.3, same config, same topology', { skip }, () => {
  let topo: Topology;
  let relay: NsProcess;
  const results = new Map<string, { isc: string[]; ts: string[] }>();
  const logs = { isc: '', ts: '' };

  /** Runs every client once against whichever server is running; returns lease summaries by client. */
  async function runClients(tag: 'isc' | 'ts'): Promise<void> {
    // One client after the other, in a fixed order, so that both servers see the same sequence.
    for (const c of CLIENTS) {
      const ns = topo.nsOf(c.name);
      const dir = await topo.tempDir();
      await writeFile(join(dir, 'dhclient.conf'), REQUEST + (c.conf ?? ''));
      const p = topo.spawn(ns, 'dhclient', dhclientArgs(dir, 'eth0', { extra: ['-cf', join(dir, 'dhclient.conf')] }));
      try {
        await p.waitFor(/bound to \S+/, { timeoutMs: 30_000 });
      } finally {
        await p.stop();
      }
      const text = await readFile(join(dir, 'dhclient.leases'), 'utf8');
      const r = results.get(c.name) ?? { isc: [], ts: [] };
      r[tag] = leaseSummary(text);
      results.set(c.name, r);
      await rm(dir, { recursive: true, force: true });
    }
  }

  before(async () => {
    topo = await createTopology('srvdiff');
    await topo.lan('local', [
      { name: 'srv', address: '10.60.0.1/24' },
      { name: 'rly', address: '10.60.0.2/24' },
      ...CLIENTS.filter((c) => c.lan === 'local').map((c) => ({ name: c.name, mac: c.mac })),
    ]);
    await topo.lan('remote', [
      { name: 'rly', address: '10.61.0.1/24' },
      ...CLIENTS.filter((c) => c.lan === 'remote').map((c) => ({ name: c.name, mac: c.mac })),
    ]);
    await topo.addRoute('srv', '10.61.0.0/24', '10.60.0.2');
    await topo.enableForwarding('rly');
    // ISC dhcrelay: downstream eth1 (remote LAN), upstream eth0, adds option 82 (-a).
    relay = topo.spawn(topo.nsOf('rly'), 'dhcrelay', ['-4', '-d', '-a', '-id', 'eth1', '-iu', 'eth0', '10.60.0.1']);
    await relay.waitFor(/Sending on\s+Socket\/fallback/, { timeoutMs: 10_000 }).catch(() => undefined);

    // 1. ISC dhcpd.
    const isc = await startIscDhcpd({ ns: topo.nsOf('srv'), config: CONFIG, interfaces: ['eth0'], topology: topo });
    try {
      await runClients('isc');
    } finally {
      logs.isc = isc.process.output;
      await isc.stop();
    }

    // 2. dhcpd-ts, same namespaces, same config.
    const dir = await topo.tempDir();
    await writeFile(join(dir, 'dhcpd.conf'), CONFIG);
    const c = serverCommand(join(dir, 'dhcpd.conf'), join(dir, 'leases.sqlite'), ['eth0']);
    const ts = topo.spawn(topo.nsOf('srv'), c.cmd, c.args, { cwd: c.cwd });
    try {
      await ts.waitFor('Server starting service.', { timeoutMs: 20_000 });
      await runClients('ts');
    } finally {
      logs.ts = ts.output;
      await ts.stop();
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  for (const c of CLIENTS) {
    test(`${c.name} (${c.lan}) receives the same address, options and lease time`, () => {
      const r = results.get(c.name);
      assert.ok(r, 'client ran');
      assert.ok(r.isc.length > 0, `ISC gave a lease; ISC log:\n${logs.isc}`);
      assert.deepEqual(r.ts, r.isc, `dhcpd-ts log:\n${logs.ts}\nISC log:\n${logs.isc}`);
    });
  }

  test('the relay path was really used (both servers logged the relayed ACKs via the relay)', () => {
    assert.match(logs.isc, /DHCPACK on 10\.6[12]\.0\.\d+ to 52:54:00:0b:00:01 via 10\.61\.0\.1/);
    assert.match(logs.ts, /DHCPACK on 10\.6[12]\.0\.\d+ to 52:54:00:0b:00:01 via 10\.61\.0\.1/);
    assert.ok(relay.pid > 0);
  });

  test("the server's protocol log lines (local and relayed) are ISC's, line for line", () => {
    const want = protocolLines(logs.isc);
    assert.ok(want.some((l) => l.endsWith('via 10.61.0.1')), logs.isc);
    assert.deepEqual(protocolLines(logs.ts), want);
  });

  test('the compared leases exercise the config (as ISC answered: PXE file names, option 82 class, host, lease times)', () => {
    const isc = (name: string): string[] => results.get(name)?.isc ?? [];
    assert.ok(isc('pxebios').includes('filename "pxelinux.0"'), isc('pxebios').join('\n'));
    assert.ok(isc('pxeefi').includes('filename "grubx64.efi"'), isc('pxeefi').join('\n'));
    assert.ok(isc('remote1').includes('option ntp-servers 10.61.0.5'), isc('remote1').join('\n'));
    assert.ok(isc('fixed').includes('fixed-address 10.60.0.10'));
    assert.ok(isc('fixed').includes('option host-name "fixed-one"'));
    assert.ok(isc('fixed').includes('option dhcp-lease-time 3000'));
    assert.ok(isc('asklease').includes('option dhcp-lease-time 5000'));
    assert.ok(isc('vendor').includes('option domain-name "lab.example.org"'));
    assert.ok(isc('hostopt').includes('option domain-name-servers 10.60.0.53'));
    assert.ok(isc('unifi').some((l) => l.startsWith('option vendor-encapsulated-options 1:4:a:3c:0:5')), isc('unifi').join('\n'));
  });
});
