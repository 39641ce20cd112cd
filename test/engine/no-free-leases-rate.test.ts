/**
 * Under a DISCOVER storm on an exhausted pool, ISC's "network X: no free leases" line (once per
 * DHCPDISCOVER in ISC) is rate-limited: a burst of 5, then one a second preceded by the count suppressed.
 * Server with a fake transport, a real SQLite store, a real config file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDhcpServer } from '../../src/server/dhcp-server.js';
import { FakeTransport } from '../../src/net/fake-transport.js';
import { createMemoryLogger } from '../../src/log/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket } from '../../src/wire/encode.js';
import { DHCPDISCOVER, DHCPREQUEST, DhcpOption } from '../../src/wire/packet.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ETH0, FakeClock, ip, request, u32 } from './fixtures.js';

test('"no free leases" is rate-limited under a DISCOVER storm, with the count suppressed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nofree-'));
  const confFile = join(dir, 'dhcpd.conf');
  writeFileSync(confFile, 'authoritative;\nsubnet 192.168.102.0 netmask 255.255.255.0 {\n  range 192.168.102.110 192.168.102.110;\n}\n');
  const loaded = loadConfig(confFile);
  assert.ok(loaded.ok);
  const store = openSqliteLeaseStore(join(dir, 'leases.sqlite'));
  const transport = new FakeTransport({ interfaces: [ETH0] });
  const logger = createMemoryLogger();
  const server = await startDhcpServer({ config: loaded.config, logger, leaseStore: store, transport, clock: new FakeClock(), pingCheck: { inUse: async () => false } });
  try {
    // The only address goes to one client.
    transport.deliver(encodePacket(request(DHCPDISCOVER, '52:54:00:00:00:01')));
    await server.idle();
    const offer = decodePacket(transport.sent[0]!.data);
    assert.ok(offer.ok);
    transport.deliver(encodePacket(request(DHCPREQUEST, '52:54:00:00:00:01', { options: [[DhcpOption.REQUESTED_ADDRESS, u32(offer.packet.yiaddr)], [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))]] })));
    await server.idle();
    // A storm of 200 other clients.
    for (let i = 0; i < 200; i++) transport.deliver(encodePacket(request(DHCPDISCOVER, `52:54:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`)));
    await server.idle();
    const noFree = (): string[] => logger.lines.map((l) => l.message).filter((m) => m.includes('no free leases'));
    const first = noFree();
    // 5 at once (more only if the storm took seconds on a slow machine), never one per DISCOVER.
    assert.ok(first.length >= 5 && first.length <= 10, first.join('\n'));
    assert.match(first[0]!, /^DHCPDISCOVER from 52:54:00:01:00:00 via eth0: network 192\.168\.102\.0\/24: no free leases$/);
    // A second later one more is logged, after the count of what was suppressed.
    await new Promise((r) => setTimeout(r, 1100));
    transport.deliver(encodePacket(request(DHCPDISCOVER, '52:54:00:02:00:01')));
    await server.idle();
    const after = noFree().slice(first.length);
    assert.equal(after.length, 2, after.join('\n'));
    const suppressed = Number(/^(\d+) similar messages suppressed: network 192\.168\.102\.0\/24: no free leases$/.exec(after[0]!)?.[1]);
    const loggedOfStorm = first.filter((m) => m.startsWith('DHCPDISCOVER')).length;
    assert.equal(suppressed + loggedOfStorm, 200 - first.filter((m) => / similar messages suppressed/.test(m)).reduce((n, m) => n + Number(m.split(' ')[0]), 0));
    assert.equal(after[1], 'DHCPDISCOVER from 52:54:00:02:00:01 via eth0: network 192.168.102.0/24: no free leases');
  } finally {
    await server.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
