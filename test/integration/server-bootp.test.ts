/**
 * BOOTP (RFC 951/1542) from a real client (klibc ipconfig) against a `range dynamic-bootp`: dhcpd-ts
 * must answer exactly as ISC dhcpd 4.4.3 does (same address, mask, gateway, DNS, boot server and file),
 * and log ISC's BOOTREQUEST/BOOTREPLY lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTopology, integrationSkipReason, startIscDhcpd, type Topology } from '../support/netns.js';
import { serverCommand } from '../engine/server-process.js';

const IPCONFIG = '/usr/lib/klibc/bin/ipconfig';
const skip = integrationSkipReason() ?? (existsSync(IPCONFIG) ? undefined : `${IPCONFIG} not installed (Debian klibc-utils)`);

const CONFIG = `
ping-check false;
subnet 10.78.0.0 netmask 255.255.255.0 {
  range dynamic-bootp 10.78.0.100 10.78.0.200;
  option routers 10.78.0.1;
  option domain-name-servers 10.78.0.1, 10.78.0.2;
  next-server 10.78.0.1;
  filename "pxelinux.0";
}
`;

/** ipconfig's result lines without timing noise. */
function ipconfigResult(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(IP-Config: eth0 complete|address:|domain|rootserver:|filename|dns0|gateway)/.test(l))
    .map((l) => l.replace(/\s+/g, ' '));
}

describe('BOOTP with klibc ipconfig: dhcpd-ts answers like ISC dhcpd 4.4.3', { skip }, () => {
  let topo: Topology;
  let iscOut = '';
  let tsOut = '';
  let iscLog = '';
  let tsLog = '';

  before(async () => {
    topo = await createTopology('srvbootp');
    await topo.lan('lan', [{ name: 'srv', address: '10.78.0.1/24' }, { name: 'cli', mac: '52:54:00:78:00:0c' }]);
    const run = async (): Promise<string> => {
      const r = await topo.exec('cli', 'timeout', ['15', IPCONFIG, '-c', 'bootp', '-n', '-t', '5', '-d', 'eth0'], { check: false, timeoutMs: 20_000 });
      return r.stdout + r.stderr;
    };
    const isc = await startIscDhcpd({ ns: topo.nsOf('srv'), config: CONFIG, interfaces: ['eth0'], topology: topo });
    try {
      iscOut = await run();
    } finally {
      iscLog = isc.process.output;
      await isc.stop();
    }
    const dir = await topo.tempDir();
    await writeFile(join(dir, 'dhcpd.conf'), CONFIG);
    const c = serverCommand(join(dir, 'dhcpd.conf'), join(dir, 'leases.sqlite'), ['eth0']);
    const p = topo.spawn(topo.nsOf('srv'), c.cmd, c.args, { cwd: c.cwd });
    try {
      await p.waitFor('Server starting service.', { timeoutMs: 20_000 });
      tsOut = await run();
      await p.waitFor('BOOTREPLY', { timeoutMs: 2_000 }).catch(() => undefined);
    } finally {
      tsLog = p.output;
      await p.stop();
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  test('the client is configured identically', () => {
    const isc = ipconfigResult(iscOut);
    assert.ok(isc.some((l) => l.startsWith('address: 10.78.0.')), iscOut);
    assert.deepEqual(ipconfigResult(tsOut), isc, `dhcpd-ts:\n${tsOut}\n${tsLog}\nISC:\n${iscOut}`);
  });

  test("ISC's BOOTREQUEST/BOOTREPLY log lines", () => {
    const pick = (log: string): string[] => log.split('\n').filter((l) => l.startsWith('BOOTREQUEST') || l.startsWith('BOOTREPLY'));
    assert.ok(pick(iscLog).length >= 2, iscLog);
    assert.deepEqual(pick(tsLog), pick(iscLog), `dhcpd-ts:\n${tsLog}\nISC:\n${iscLog}`);
  });
});
