import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DhcpEngine, type EngineInterface } from '../../src/engine/dhcp-engine.js';
import type { FailoverPolicy } from '../../src/engine/ports.js';
import { capLeaseTimeByMclt } from '../../src/policy/lease-time.js';
import { cloneLease, type Lease } from '../../leases/lease.js';
import { DHCPDISCOVER, DHCPREQUEST, DhcpOption, optionUint32 } from '../../src/wire/packet.js';
import { FakeClock, TestConfig, ip, opt, ports, request, tempStore, u32, flag } from './fixtures.js';

const ETH0: EngineInterface = { name: 'eth0', ifindex: 2, addresses: [ip('192.168.102.100')], canUnicastWithoutArp: true };

test('seed steps 4-5 through the FailoverPolicy port: first ACK capped at MCLT, renewal after the peer acked gets default-lease-time', () => {
  const tc = new TestConfig();
  tc.subnet('192.168.102.0', '255.255.255.0', (s) => {
    tc.set(s.scope, opt('server', 'ping-check', 42, flag(false)));
    tc.pool(s, [['192.168.102.110', '192.168.102.210']], (p, scope) => {
      p.failoverPeer = 'dhcp-failover';
      tc.set(scope, opt('server', 'default-lease-time', 1, u32(3600)), opt('server', 'max-lease-time', 2, u32(86400)));
    });
  });
  const clock = new FakeClock();
  const { store, cleanup } = tempStore();
  const notified: Lease[] = [];
  const MCLT = 1800;
  const policy: FailoverPolicy = {
    mayAnswer: () => ({ answer: true }),
    mayAllocate: (_p, l) => l.bindingState === 'free',
    leaseTimeFor: (_p, lease, desired, now, isAck) => {
      const r = capLeaseTimeByMclt({ desired, mclt: MCLT, tsfp: lease.tsfp ?? 0, now, isAck, tstp: lease.tstp ?? 0 });
      return { leaseTime: r.leaseTime, tstp: r.tstp };
    },
    onBindingChange: (_p, lease) => notified.push(lease),
  };
  const p = { ...ports(clock), failover: policy };
  const engine = new DhcpEngine({ config: tc.done(), leases: store, ports: p });
  const turn = (pkt: ReturnType<typeof request>) => {
    const before = notified.length;
    const o = engine.handle({ packet: pkt, raw: Buffer.alloc(300), iface: ETH0, sourceAddress: 0, sourcePort: 68 });
    const writes = engine.takeCommits();
    assert.equal(notified.length, before, 'no binding update before the commit');
    store.commit(writes);
    engine.committed();
    return o;
  };
  try {
    const MAC = '52:54:00:02:bf:f8';
    const offer = turn(request(DHCPDISCOVER, MAC)).replies[0]!.packet;
    assert.equal(optionUint32(offer, DhcpOption.LEASE_TIME), 1800, 'OFFER: MCLT (00 00 07 08)');
    const y = offer.yiaddr;
    const ack = turn(request(DHCPREQUEST, MAC, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(y)], [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))]] })).replies[0]!.packet;
    assert.equal(optionUint32(ack, DhcpOption.LEASE_TIME), 1800, 'first ACK: MCLT');
    assert.equal(notified.length, 1, 'binding update after the commit');
    const bound = store.getByAddress(y)!;
    assert.equal(bound.nextBindingState, 'expired', 'failover pools expire to expired, not free');
    assert.equal(bound.tstp, clock.t + 3600 + 900);
    // The peer acknowledges (the failover engine records tsfp = the acked tstp).
    const acked = cloneLease(bound);
    acked.tsfp = bound.tstp;
    store.commit([acked]);
    clock.advance(900); // T1
    const renew = turn(request(DHCPREQUEST, MAC, { ciaddr: `192.168.102.${y & 255}` })).replies[0]!.packet;
    assert.equal(optionUint32(renew, DhcpOption.LEASE_TIME), 3600, 'renewal: default-lease-time (00 00 0e 10)');
    assert.equal(optionUint32(renew, DhcpOption.SERVER_IDENTIFIER), ip('192.168.102.100'));
  } finally {
    cleanup();
  }
});
