import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DhcpEngine, type EngineInterface, type Outcome } from '../../src/engine/dhcp-engine.js';
import {
  BROADCAST_FLAG,
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  DhcpOption,
  messageType,
  optionUint32,
} from '../../src/wire/packet.js';
import { FakeClock, LOC, TestConfig, flag, ip, opt, ports, request, seedConfig, tempStore, u32 } from './fixtures.js';

const ETH0: EngineInterface = { name: 'eth0', ifindex: 2, addresses: [ip('192.168.102.100')], canUnicastWithoutArp: true };
const MAC = '52:54:00:02:bf:f8';

function setup(config = seedConfig()) {
  const clock = new FakeClock();
  const p = ports(clock);
  const { store, cleanup } = tempStore();
  const engine = new DhcpEngine({ config, leases: store, ports: p });
  /** One event-loop turn as the server runs it: decide, commit once, then "send". */
  const turn = (pkt: ReturnType<typeof request>, extra: { sourceAddress?: number } = {}): Outcome => {
    const out = engine.handle({ packet: pkt, raw: Buffer.alloc(300), iface: ETH0, sourceAddress: extra.sourceAddress ?? 0, sourcePort: 68 });
    store.commit(engine.takeCommits());
    return out;
  };
  return { clock, p, store, cleanup, engine, turn };
}

const PRL = (codes: number[]): [number, Buffer] => [DhcpOption.PARAMETER_REQUEST_LIST, Buffer.from(codes)];

/** Completes a ping-check as "nobody answered". */
function noAnswer(o: Outcome): Outcome {
  return o.ping !== undefined ? o.ping.resume(false) : o;
}

test('seed DORA: OFFER (after ping-check) then ACK, lease committed before the reply, ISC log lines', () => {
  const t = setup();
  try {
    const d = t.turn(request(DHCPDISCOVER, MAC, { options: [PRL([1, 28, 3, 6, 15, 51])] }));
    assert.ok(d.ping, 'ISC pings a never-used address before offering it (ping-check default on)');
    assert.equal(d.ping.timeoutMs, 1000);
    assert.equal(d.replies.length, 0);
    const o = d.ping.resume(false);
    assert.equal(o.replies.length, 1);
    const offer = o.replies[0]!;
    assert.equal(messageType(offer.packet), DHCPOFFER);
    const yiaddr = offer.packet.yiaddr;
    assert.ok(yiaddr >= ip('192.168.102.110') && yiaddr <= ip('192.168.102.210'));
    assert.equal(optionUint32(offer.packet, DhcpOption.LEASE_TIME), 3600);
    assert.equal(optionUint32(offer.packet, DhcpOption.SERVER_IDENTIFIER), ip('192.168.102.100'));
    assert.equal(optionUint32(offer.packet, DhcpOption.ROUTERS), ip('192.168.102.1'));
    assert.equal(optionUint32(offer.packet, DhcpOption.SUBNET_MASK), ip('255.255.255.0'));
    assert.equal(offer.packet.options.has(DhcpOption.DOMAIN_NAME_SERVERS), true);
    assert.deepEqual(offer.route, { kind: 'link-layer', address: yiaddr, port: 68 });
    assert.equal(t.store.getByAddress(yiaddr), undefined, 'ISC does not write offers to the lease database');

    const a = t.turn(
      request(DHCPREQUEST, MAC, {
        options: [
          [DhcpOption.REQUESTED_ADDRESS, u32(yiaddr)],
          [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))],
          PRL([1, 3, 6, 51]),
        ],
      }),
    );
    assert.equal(a.replies.length, 1);
    const ack = a.replies[0]!;
    assert.equal(messageType(ack.packet), DHCPACK);
    assert.equal(ack.packet.yiaddr, yiaddr);
    assert.equal(optionUint32(ack.packet, DhcpOption.LEASE_TIME), 3600);
    const lease = t.store.getByAddress(yiaddr);
    assert.ok(lease, 'the ACKed binding is in the SQLite store');
    assert.equal(lease.bindingState, 'active');
    assert.equal(lease.ends, t.clock.t + 3600);
    assert.equal(lease.hardware?.address.toString('hex'), '525400 02bff8'.replace(' ', ''));

    const y = offer.packet.yiaddr;
    const dotted = `192.168.102.${y & 255}`;
    assert.deepEqual(
      t.p.logger.lines.map((l) => l.message),
      [
        'DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0',
        `DHCPOFFER on ${dotted} to 52:54:00:02:bf:f8 via eth0`,
        `DHCPREQUEST for ${dotted} (192.168.102.100) from 52:54:00:02:bf:f8 via eth0`,
        `DHCPACK on ${dotted} to 52:54:00:02:bf:f8 via eth0`,
      ],
    );
  } finally {
    t.cleanup();
  }
});

test('renewal (ciaddr, no server id) is ACKed by unicast to ciaddr and extends the lease', () => {
  const t = setup();
  try {
    const o = noAnswer(t.turn(request(DHCPDISCOVER, MAC))).replies[0]!;
    const y = o.packet.yiaddr;
    t.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)], [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))]] }));
    t.clock.advance(1800);
    const r = t.turn(request(DHCPREQUEST, MAC, { ciaddr: `192.168.102.${y & 255}` }));
    assert.equal(r.replies.length, 1);
    assert.equal(messageType(r.replies[0]!.packet), DHCPACK);
    assert.deepEqual(r.replies[0]!.route, { kind: 'unicast', address: y, port: 68 });
    assert.equal(t.store.getByAddress(y)!.ends, t.clock.t + 3600);
  } finally {
    t.cleanup();
  }
});

test('the same client gets its address back on a new DISCOVER; another client gets a different one', () => {
  const t = setup();
  try {
    const y = noAnswer(t.turn(request(DHCPDISCOVER, MAC))).replies[0]!.packet.yiaddr;
    t.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)]] }));
    const again = t.turn(request(DHCPDISCOVER, MAC));
    assert.equal(again.ping, undefined, 'no ping for the client\'s own active lease');
    assert.equal(again.replies[0]!.packet.yiaddr, y);
    const other = noAnswer(t.turn(request(DHCPDISCOVER, '52:54:00:00:00:02'))).replies[0]!.packet.yiaddr;
    assert.notEqual(other, y);
  } finally {
    t.cleanup();
  }
});

test('INIT-REBOOT for a foreign address: NAK when authoritative (broadcast), silence when not', () => {
  const t = setup();
  try {
    const r = t.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(ip('10.9.9.9'))]] }));
    assert.equal(r.replies.length, 1);
    assert.equal(messageType(r.replies[0]!.packet), DHCPNAK);
    assert.equal(r.replies[0]!.route.kind, 'broadcast');
    assert.equal(r.replies[0]!.packet.flags & BROADCAST_FLAG, BROADCAST_FLAG);
    assert.deepEqual(t.p.logger.lines.map((l) => l.message).slice(-2), [
      'DHCPREQUEST for 10.9.9.9 from 52:54:00:02:bf:f8 via eth0: wrong network.',
      'DHCPNAK on 10.9.9.9 to 52:54:00:02:bf:f8 via eth0',
    ]);
  } finally {
    t.cleanup();
  }
  // Not authoritative (ISC's default): ignored.
  const tc = new TestConfig();
  tc.subnet('192.168.102.0', '255.255.255.0', (s) => tc.range(s, '192.168.102.110', '192.168.102.120'));
  const u = setup(tc.done());
  try {
    const r = u.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(ip('10.9.9.9'))]] }));
    assert.equal(r.replies.length, 0);
    assert.equal(u.p.logger.lines.at(-1)!.message, 'DHCPREQUEST for 10.9.9.9 from 52:54:00:02:bf:f8 via eth0: ignored (not authoritative).');
  } finally {
    u.cleanup();
  }
});

test('REQUEST for an address of ours held by another client is NAKed (lease unavailable)', () => {
  const t = setup();
  try {
    const y = noAnswer(t.turn(request(DHCPDISCOVER, MAC))).replies[0]!.packet.yiaddr;
    t.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)]] }));
    const r = t.turn(request(DHCPREQUEST, '52:54:00:00:00:09', { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)]] }));
    assert.equal(messageType(r.replies[0]!.packet), DHCPNAK);
    assert.match(t.p.logger.lines.at(-2)!.message, /: lease 192\.168\.102\.\d+ unavailable\.$/);
  } finally {
    t.cleanup();
  }
});

test('RELEASE frees the lease (logged found); DECLINE abandons it for abandon-lease-time', () => {
  const t = setup();
  try {
    const y = noAnswer(t.turn(request(DHCPDISCOVER, MAC))).replies[0]!.packet.yiaddr;
    t.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)]] }));
    const dotted = `192.168.102.${y & 255}`;
    t.turn(request(DHCPRELEASE, MAC, { ciaddr: dotted }));
    assert.equal(t.store.getByAddress(y)!.bindingState, 'free');
    assert.equal(t.p.logger.lines.at(-1)!.message, `DHCPRELEASE of ${dotted} from 52:54:00:02:bf:f8 via eth0 (found)`);

    t.turn(request(DHCPDECLINE, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)]] }));
    const l = t.store.getByAddress(y)!;
    assert.equal(l.bindingState, 'abandoned');
    assert.equal(l.ends, t.clock.t + 86400);
    assert.equal(t.p.logger.lines.at(-1)!.message, `DHCPDECLINE of ${dotted} from 52:54:00:02:bf:f8 via eth0: abandoned`);
    // The abandoned address is not offered again while free ones remain.
    const next = noAnswer(t.turn(request(DHCPDISCOVER, MAC))).replies[0]!.packet.yiaddr;
    assert.notEqual(next, y);
  } finally {
    t.cleanup();
  }
});

test('INFORM: ACK without lease time, unicast to ciaddr, ISC lines', () => {
  const t = setup();
  try {
    const r = t.turn(request(DHCPINFORM, MAC, { ciaddr: '192.168.102.50', options: [PRL([1, 3, 6])] }));
    assert.equal(r.replies.length, 1);
    const ack = r.replies[0]!;
    assert.equal(messageType(ack.packet), DHCPACK);
    assert.equal(ack.packet.options.has(DhcpOption.LEASE_TIME), false);
    assert.equal(ack.packet.yiaddr, 0);
    assert.deepEqual(ack.route, { kind: 'unicast', address: ip('192.168.102.50'), port: 68 });
    assert.deepEqual(t.p.logger.lines.map((l) => l.message), [
      'DHCPINFORM from 192.168.102.50 via eth0',
      'DHCPACK to 192.168.102.50 (52:54:00:02:bf:f8) via eth0',
    ]);
  } finally {
    t.cleanup();
  }
});

test('ping-check finds the address in use: abandoned, no OFFER; the next DISCOVER gets another address', () => {
  const t = setup();
  try {
    const d = t.turn(request(DHCPDISCOVER, MAC));
    const first = d.ping!.address;
    const r = d.ping!.resume(true);
    assert.equal(r.replies.length, 0);
    t.store.commit(t.engine.takeCommits());
    assert.equal(t.store.getByAddress(first)!.bindingState, 'abandoned');
    const d2 = t.turn(request(DHCPDISCOVER, MAC));
    assert.notEqual(d2.ping!.address, first);
  } finally {
    t.cleanup();
  }
});

test('host reservation: fixed-address and host options, no lease record, no ping', () => {
  const tc = new TestConfig();
  tc.b.setAuthoritative(tc.global, true, LOC);
  tc.subnet('192.168.102.0', '255.255.255.0', (s) => {
    tc.set(s.scope, opt('dhcp', 'domain-name', 15, Buffer.from('example.org')));
    tc.range(s, '192.168.102.110', '192.168.102.120');
  });
  tc.host('pc1', { mac: MAC, fixed: ['192.168.102.5'] }, opt('dhcp', 'domain-name', 15, Buffer.from('pc1.example.org')), opt('server', 'filename', 15, Buffer.from('pxelinux.0')));
  const t = setup(tc.done());
  try {
    const o = t.turn(request(DHCPDISCOVER, MAC));
    assert.equal(o.ping, undefined);
    const p = o.replies[0]!.packet;
    assert.equal(p.yiaddr, ip('192.168.102.5'));
    assert.equal(p.options.get(DhcpOption.DOMAIN_NAME)!.toString(), 'pc1.example.org');
    assert.equal(p.file.toString(), 'pxelinux.0');
    assert.equal(optionUint32(p, DhcpOption.LEASE_TIME), 43200, 'ISC default-lease-time');
    const a = t.turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(ip('192.168.102.5'))]] }));
    assert.equal(messageType(a.replies[0]!.packet), DHCPACK);
    assert.equal(t.store.getByAddress(ip('192.168.102.5')), undefined);
  } finally {
    t.cleanup();
  }
});

test('pool permits: deny unknown-clients keeps unknown clients out; known ones get in', () => {
  const tc = new TestConfig();
  tc.subnet('10.0.0.0', '255.255.255.0', (s) => {
    tc.pool(s, [['10.0.0.10', '10.0.0.20']], (p) => p.prohibitList.push({ type: 'unknown-clients' }));
  });
  tc.host('known', { mac: '02:00:00:00:00:01' });
  const t = setup(tc.done());
  const e10: EngineInterface = { name: 'eth1', ifindex: 3, addresses: [ip('10.0.0.1')], canUnicastWithoutArp: true };
  try {
    const unknown = t.engine.handle({ packet: request(DHCPDISCOVER, MAC), raw: Buffer.alloc(300), iface: e10, sourceAddress: 0, sourcePort: 68 });
    assert.equal(unknown.replies.length + (unknown.ping ? 1 : 0), 0);
    assert.equal(t.p.logger.lines.at(-1)!.message, 'DHCPDISCOVER from 52:54:00:02:bf:f8 via eth1: network 10.0.0.0/24: no free leases');
    const known = t.engine.handle({ packet: request(DHCPDISCOVER, '02:00:00:00:00:01'), raw: Buffer.alloc(300), iface: e10, sourceAddress: 0, sourcePort: 68 });
    assert.ok(known.ping);
  } finally {
    t.cleanup();
  }
});

test('relayed DISCOVER: giaddr selects the subnet, reply to the relay on port 67, logged via giaddr', () => {
  const tc = new TestConfig();
  tc.subnet('192.168.102.0', '255.255.255.0', (s) => tc.range(s, '192.168.102.110', '192.168.102.120'));
  tc.subnet('10.1.2.0', '255.255.255.0', (s) => {
    tc.set(s.scope, opt('dhcp', 'routers', 3, u32(ip('10.1.2.3'))), opt('server', 'ping-check', 42, flag(false)));
    tc.range(s, '10.1.2.100', '10.1.2.110');
  });
  const t = setup(tc.done());
  try {
    const r = t.turn(request(DHCPDISCOVER, MAC, { giaddr: '10.1.2.3' }));
    assert.equal(r.ping, undefined, 'ping-check false');
    const p = r.replies[0]!;
    assert.ok(p.packet.yiaddr >= ip('10.1.2.100') && p.packet.yiaddr <= ip('10.1.2.110'));
    assert.deepEqual(p.route, { kind: 'relay', address: ip('10.1.2.3'), port: 67 });
    assert.equal(t.p.logger.lines[0]!.message, 'DHCPDISCOVER from 52:54:00:02:bf:f8 via 10.1.2.3');
  } finally {
    t.cleanup();
  }
});
