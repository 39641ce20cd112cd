/**
 * Differential test of the expression language and server parameters against real ISC dhcpd 4.4.3: the
 * same config (if/elsif/else on options, concat, binary-to-ascii, substring, suffix, ucase/lcase,
 * pick-first-value, leased-address, config-option, pool permits for a class, use-host-decl-names,
 * server-identifier, next-server, server-name, min-lease-time, renewal/rebinding times) served by ISC and
 * then by dhcpd-ts to the same dhclient runs; every lease must be equal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTopology, integrationSkipReason, startIscDhcpd, type Topology } from '../support/netns.js';
import { serverCommand } from '../engine/server-process.js';
import { type DiffClient, protocolLines, runDhclients } from '../engine/differential.js';

const skip = integrationSkipReason();

const CONFIG = `
authoritative;
ping-check false;
use-host-decl-names on;
server-identifier 10.80.0.1;
next-server 10.80.0.9;
server-name "boot.example";
min-lease-time 400;
default-lease-time 1000;
option dhcp-renewal-time 300;
option dhcp-rebinding-time 600;
option domain-name "eval.example";

class "gold" { match if option vendor-class-identifier = "gold"; option domain-name "gold.example"; }
class "named-by-mac" {
  match if substring(option vendor-class-identifier, 0, 4) = "name";
  option host-name = concat("h-", binary-to-ascii(16, 8, "-", substring(hardware, 1, 6)));
}

if exists user-class and option user-class = "iPXE" {
  filename "http://10.80.0.9/boot.ipxe";
} elsif option pxe-system-type = 00:07 {
  filename "efi.bin";
} else {
  filename "default.bin";
}
option root-path = concat("/srv/", binary-to-ascii(10, 8, ".", leased-address));
option merit-dump = pick-first-value(option vendor-class-identifier, "none");
option extensions-path = concat(ucase(suffix(config-option domain-name, 7)), "-", lcase("MiXeD"));

subnet 10.80.0.0 netmask 255.255.255.0 {
  option routers 10.80.0.1;
  pool {
    deny members of "gold";
    range 10.80.0.100 10.80.0.120;
  }
  pool {
    allow members of "gold";
    range 10.80.0.200 10.80.0.210;
  }
}

host named5 { hardware ethernet 52:54:00:0c:00:05; }
`;

const REQUEST = `request subnet-mask, routers, domain-name, host-name, root-path, merit-dump, extensions-path;\n`;
const CLIENTS: readonly DiffClient[] = [
  { name: 'plain', mac: '52:54:00:0c:00:01', conf: REQUEST },
  { name: 'ipxe', mac: '52:54:00:0c:00:02', conf: REQUEST + 'send user-class "iPXE";\n' },
  { name: 'efi', mac: '52:54:00:0c:00:03', conf: REQUEST + 'send pxe-system-type 7;\n' },
  { name: 'gold', mac: '52:54:00:0c:00:04', conf: REQUEST + 'send vendor-class-identifier "gold";\n' },
  { name: 'named', mac: '52:54:00:0c:00:05', conf: REQUEST },
  { name: 'bymac', mac: '52:54:00:0c:00:06', conf: REQUEST + 'send vendor-class-identifier "name-me";\n' },
  { name: 'short', mac: '52:54:00:0c:00:07', conf: REQUEST + 'send dhcp-lease-time 100;\n' },
  {
    name: 'moved',
    mac: '52:54:00:0c:00:08',
    conf: REQUEST,
    // A lease from another network: INIT-REBOOT asks for it, the authoritative server NAKs, then DORA.
    leases: 'lease {\n  interface "eth0";\n  fixed-address 10.66.0.42;\n  option subnet-mask 255.255.255.0;\n  option dhcp-lease-time 3600;\n  option dhcp-server-identifier 10.66.0.1;\n  renew 4 2037/01/01 00:00:00;\n  rebind 4 2037/01/01 00:00:00;\n  expire 4 2037/01/01 00:00:00;\n}\n',
  },
];

describe('differential (expressions and parameters): dhcpd-ts vs ISC dhcpd 4.4.3', { skip }, () => {
  let topo: Topology;
  let isc = new Map<string, string[]>();
  let ts = new Map<string, string[]>();
  const logs = { isc: '', ts: '' };

  before(async () => {
    topo = await createTopology('srvdeval');
    await topo.lan('lan', [{ name: 'srv', address: '10.80.0.1/24' }, ...CLIENTS.map((c) => ({ name: c.name, mac: c.mac }))]);
    const d = await startIscDhcpd({ ns: topo.nsOf('srv'), config: CONFIG, interfaces: ['eth0'], topology: topo });
    try {
      isc = await runDhclients(topo, CLIENTS);
    } finally {
      logs.isc = d.process.output;
      await d.stop();
    }
    const dir = await topo.tempDir();
    await writeFile(join(dir, 'dhcpd.conf'), CONFIG);
    const c = serverCommand(join(dir, 'dhcpd.conf'), join(dir, 'leases.sqlite'), ['eth0']);
    const p = topo.spawn(topo.nsOf('srv'), c.cmd, c.args, { cwd: c.cwd });
    try {
      await p.waitFor('Server starting service.', { timeoutMs: 20_000 });
      ts = await runDhclients(topo, CLIENTS);
    } finally {
      logs.ts = p.output;
      await p.stop();
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  for (const c of CLIENTS) {
    test(`${c.name}: same lease as from ISC`, () => {
      assert.ok((isc.get(c.name) ?? []).length > 0, logs.isc);
      assert.deepEqual(ts.get(c.name), isc.get(c.name), `dhcpd-ts log:\n${logs.ts}\nISC log:\n${logs.isc}`);
    });
  }

  test("the server's protocol log lines are ISC's, line for line (incl. the NAK for a foreign address)", () => {
    const want = protocolLines(logs.isc);
    assert.ok(want.includes('DHCPNAK on 10.66.0.42 to 52:54:00:0c:00:08 via eth0'), logs.isc);
    assert.deepEqual(protocolLines(logs.ts), want);
  });

  test('ISC really evaluated the expressions (the comparison is not vacuous)', () => {
    const get = (n: string): string[] => isc.get(n) ?? [];
    assert.ok(get('ipxe').includes('filename "http://10.80.0.9/boot.ipxe"'), get('ipxe').join('\n'));
    assert.ok(get('efi').includes('filename "efi.bin"'));
    assert.ok(get('plain').includes('filename "default.bin"'));
    assert.ok(get('gold').some((l) => /^fixed-address 10\.80\.0\.2\d\d$/.test(l)), get('gold').join('\n'));
    assert.ok(get('named').includes('option host-name "named5"'), get('named').join('\n'));
    assert.ok(get('bymac').includes('option host-name "h-52-54-0-c-0-6"'), get('bymac').join('\n'));
    assert.ok(get('short').includes('option dhcp-lease-time 400'), get('short').join('\n'));
    assert.ok(get('plain').some((l) => /^option root-path "\/srv\/10\.80\.0\.\d+"$/.test(l)), get('plain').join('\n'));
    assert.ok(get('plain').includes('option merit-dump "none"'), get('plain').join('\n'));
    assert.ok(get('gold').includes('option merit-dump "gold"'), get('gold').join('\n'));
    assert.ok(get('plain').includes('option extensions-path "EXAMPLE-mixed"'), get('plain').join('\n'));
    assert.ok(get('plain').includes('option dhcp-renewal-time 300'), get('plain').join('\n'));
  });
});
