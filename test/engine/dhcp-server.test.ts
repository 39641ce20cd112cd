import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDhcpServer, selectInterfaces, StartupError } from '../../src/server/dhcp-server.js';
import { FakeTransport } from '../../src/net/fake-transport.js';
import { createMemoryLogger } from '../../src/log/logger.js';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket } from '../../src/wire/encode.js';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DhcpOption, messageType, optionUint32 } from '../../src/wire/packet.js';
import type { NetInterface } from '../../src/net/transport.js';
import { ETH0, FakeClock, ip, request, seedConfig, tempStore, u32 } from './fixtures.js';
import { configFromText } from './config-text.js';

async function setup() {
  const transport = new FakeTransport({ interfaces: [ETH0] });
  const logger = createMemoryLogger();
  const { store, cleanup } = tempStore();
  const commits: number[] = [];
  const server = await startDhcpServer({
    config: seedConfig(),
    logger,
    leaseStore: store,
    transport,
    clock: new FakeClock(),
    pingCheck: { inUse: async () => false },
    onCommitted: (l) => commits.push(l.length),
  });
  return { transport, logger, store, server, commits, cleanup: async () => { await server.stop(); cleanup(); } };
}

test('DORA through codec, fake transport and SQLite; replies only after the commit', async () => {
  const t = await setup();
  try {
    t.transport.deliver(encodePacket(request(DHCPDISCOVER, '52:54:00:02:bf:f8', { xid: 7 })));
    await t.server.idle();
    assert.equal(t.transport.sent.length, 1);
    const offer = decodePacket(t.transport.sent[0]!.data);
    assert.ok(offer.ok);
    assert.equal(messageType(offer.packet), DHCPOFFER);
    assert.equal(offer.packet.xid, 7);
    assert.equal(t.transport.sent[0]!.kind, 'link-layer');
    const y = offer.packet.yiaddr;
    t.transport.deliver(encodePacket(request(DHCPREQUEST, '52:54:00:02:bf:f8', { xid: 8, options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)], [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))]] })));
    await t.server.idle();
    const ack = decodePacket(t.transport.sent[1]!.data);
    assert.ok(ack.ok);
    assert.equal(messageType(ack.packet), DHCPACK);
    assert.equal(optionUint32(ack.packet, DhcpOption.LEASE_TIME), 3600);
    assert.equal(t.store.getByAddress(y)?.bindingState, 'active');
    assert.deepEqual(t.commits, [1]);
  } finally {
    await t.cleanup();
  }
});

test('one turn, many clients: a single group commit for all their ACKs', async () => {
  const t = await setup();
  try {
    const macs = Array.from({ length: 20 }, (_, i) => `52:54:00:00:01:${(i + 16).toString(16)}`);
    for (const m of macs) t.transport.deliver(encodePacket(request(DHCPDISCOVER, m)));
    await t.server.idle();
    const offers = t.transport.sent.map((s) => decodePacket(s.data)).map((r) => (r.ok ? r.packet : undefined));
    assert.equal(offers.length, 20);
    assert.equal(new Set(offers.map((o) => o!.yiaddr)).size, 20, 'twenty different addresses within one turn');
    for (const [i, m] of macs.entries()) {
      t.transport.deliver(encodePacket(request(DHCPREQUEST, m, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(offers[i]!.yiaddr)]] })));
    }
    await t.server.idle();
    assert.equal(t.transport.sent.length, 40);
    assert.deepEqual(t.commits, [20], 'all twenty bindings in one transaction');
  } finally {
    await t.cleanup();
  }
});

test("a turn's OFFERs go out before its commit, its ACKs only after it", async () => {
  const transport = new FakeTransport({ interfaces: [ETH0] });
  const { store, cleanup } = tempStore();
  const sentAtCommit: number[][] = [];
  const types = (): number[] => transport.sent.map((s) => decodePacket(s.data)).map((r) => (r.ok ? messageType(r.packet) : -1));
  // ping-check off: every OFFER is decided and sent in its own turn.
  const config = await configFromText('authoritative;\nping-check false;\nsubnet 192.168.102.0 netmask 255.255.255.0 {\n  range 192.168.102.110 192.168.102.210;\n}\n');
  const server = await startDhcpServer({
    config,
    logger: createMemoryLogger(),
    leaseStore: store,
    transport,
    clock: new FakeClock(),
    pingCheck: { inUse: async () => false },
    onCommitted: () => sentAtCommit.push(types()),
  });
  try {
    transport.deliver(encodePacket(request(DHCPDISCOVER, '52:54:00:00:03:01')));
    await server.idle();
    const offer = decodePacket(transport.sent[0]!.data);
    assert.ok(offer.ok);
    // One turn: client 1 REQUESTs its offer (a binding to commit), client 2 DISCOVERs.
    transport.deliver(encodePacket(request(DHCPREQUEST, '52:54:00:00:03:01', { options: [[DhcpOption.REQUESTED_ADDRESS, u32(offer.packet.yiaddr)]] })));
    transport.deliver(encodePacket(request(DHCPDISCOVER, '52:54:00:00:03:02')));
    await server.idle();
    assert.deepEqual(sentAtCommit, [[DHCPOFFER, DHCPOFFER]], 'at the commit: the first OFFER and the second, not the ACK');
    assert.deepEqual(types(), [DHCPOFFER, DHCPOFFER, DHCPACK]);
    assert.equal(store.getByAddress(offer.packet.yiaddr)?.bindingState, 'active');
  } finally {
    await server.stop();
    cleanup();
  }
});

test('hostile packets are counted, logged and dropped; the server keeps serving', async () => {
  const t = await setup();
  try {
    const good = encodePacket(request(DHCPDISCOVER, '52:54:00:02:bf:f8'));
    const bad: Buffer[] = [
      Buffer.alloc(10),
      good.subarray(0, 200),
      (() => { const b = Buffer.from(good); b.writeUInt32BE(0xdeadbeef, 236); return b; })(),
      (() => { const b = Buffer.from(good); b[2] = 200; return b; })(),
      (() => { const b = Buffer.from(good); b[240] = 53; b[241] = 250; return b; })(),
    ];
    for (const b of bad) t.transport.deliver(b);
    t.transport.deliver(good);
    await t.server.idle();
    assert.ok(t.server.stats.decodeErrors >= 4, `decode errors counted: ${t.server.stats.decodeErrors}`);
    assert.equal(t.server.stats.handlerErrors, 0);
    assert.ok(t.logger.lines.some((l) => l.message.startsWith('Dropped a malformed packet from 0.0.0.0 via eth0')));
    assert.equal(t.transport.sent.filter((s) => { const d = decodePacket(s.data); return d.ok && messageType(d.packet) === DHCPOFFER; }).length, 1);
  } finally {
    await t.cleanup();
  }
});

test('interface selection: ISC messages for interfaces without a subnet; none left is fatal', () => {
  const logger = createMemoryLogger();
  const eth1: NetInterface = { ...ETH0, name: 'eth1', ifindex: 3, addresses: [{ address: '10.5.5.5', prefixLength: 24 }] };
  const lo: NetInterface = { ...ETH0, name: 'lo', ifindex: 1, addresses: [{ address: '127.0.0.1', prefixLength: 8 }], loopback: true };
  const served = selectInterfaces(seedConfig(), [lo, ETH0, eth1], [], logger);
  assert.deepEqual(served.map((i) => i.name), ['eth0']);
  assert.deepEqual(logger.lines.map((l) => l.message), [
    '',
    'No subnet declaration for eth1 (10.5.5.5).',
    '** Ignoring requests on eth1.  If this is not what',
    '   you want, please write a subnet declaration',
    '   in your dhcpd.conf file for the network segment',
    '   to which interface eth1 is attached. **',
    '',
  ]);
  assert.throws(() => selectInterfaces(seedConfig(), [lo, ETH0, eth1], ['eth1'], createMemoryLogger()), (e: unknown) => e instanceof StartupError && e.message === 'Not configured to listen on any interfaces!');
  // A named interface that does not exist: ISC's "no IPv4 addresses" block, then fatal if nothing is left.
  const missing = createMemoryLogger();
  assert.throws(() => selectInterfaces(seedConfig(), [ETH0], ['nope0'], missing), (e: unknown) => e instanceof StartupError && e.message === 'Not configured to listen on any interfaces!');
  assert.ok(missing.lines.some((l) => l.message === 'No subnet declaration for nope0 (no IPv4 addresses).'), JSON.stringify(missing.lines));
  assert.deepEqual(selectInterfaces(seedConfig(), [ETH0], ['nope0', 'eth0'], createMemoryLogger()).map((i) => i.name), ['eth0']);
});
