import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DhcpEngine, type EngineInterface } from '../../src/engine/dhcp-engine.js';
import { DHCPDISCOVER, DHCPREQUEST, DhcpOption, optionUint32 } from '../../src/wire/packet.js';
import { FakeClock, LOC, TestConfig, flag, ip, opt, ports, request, tempStore, u32 } from './fixtures.js';

const ETH0: EngineInterface = { name: 'eth0', ifindex: 2, addresses: [ip('10.60.0.1')], canUnicastWithoutArp: true };

test('relay agent options: echoed to the relay, stored on the lease, and used for a unicast renewal (ISC stash)', () => {
  const tc = new TestConfig();
  tc.set(tc.global, opt('server', 'ping-check', 42, flag(false)));
  const scope = tc.b.newScope('class', tc.global, 'relayed', LOC);
  tc.set(scope, opt('dhcp', 'ntp-servers', 42, u32(ip('10.61.0.5'))));
  tc.b.registerClass({
    name: 'relayed', kind: 'class', parent: null, matchData: null,
    matchIf: { op: 'exists', space: 'agent', name: 'circuit-id', code: 1 },
    submatch: null, spawn: false, leaseLimit: null, scope, loc: LOC,
  });
  tc.subnet('10.60.0.0', '255.255.255.0', (s) => tc.range(s, '10.60.0.100', '10.60.0.110'));
  tc.subnet('10.61.0.0', '255.255.255.0', (s) => tc.range(s, '10.61.0.100', '10.61.0.110'));
  const { store, cleanup } = tempStore();
  const clock = new FakeClock();
  const engine = new DhcpEngine({ config: tc.done(), leases: store, ports: ports(clock) });
  const agent = Buffer.from([1, 4, 0x65, 0x74, 0x68, 0x31]); // circuit-id "eth1"
  const turn = (pkt: ReturnType<typeof request>) => {
    const o = engine.handle({ packet: pkt, raw: Buffer.alloc(300), iface: ETH0, sourceAddress: 0, sourcePort: 67 });
    store.commit(engine.takeCommits());
    engine.committed();
    return o;
  };
  try {
    const MAC = '52:54:00:0b:00:01';
    const offer = turn(request(DHCPDISCOVER, MAC, { giaddr: '10.61.0.1', options: [[DhcpOption.AGENT_INFORMATION, agent]] })).replies[0]!;
    assert.deepEqual(offer.packet.options.get(DhcpOption.AGENT_INFORMATION), agent, 'option 82 echoed to the relay');
    assert.equal(optionUint32(offer.packet, 42), ip('10.61.0.5'));
    const y = offer.packet.yiaddr;
    turn(request(DHCPREQUEST, MAC, { giaddr: '10.61.0.1', options: [[DhcpOption.AGENT_INFORMATION, agent], [DhcpOption.REQUESTED_ADDRESS, u32(y)]] }));
    assert.deepEqual(store.getByAddress(y)!.agentOptions.map((o) => [o.code, o.data.toString()]), [[1, 'eth1']]);
    clock.advance(600);
    const renew = turn(request(DHCPREQUEST, MAC, { ciaddr: `10.61.0.${y & 255}` })).replies[0]!;
    assert.equal(renew.route.kind, 'unicast');
    assert.equal(optionUint32(renew.packet, 42), ip('10.61.0.5'), 'class still matches from the stashed agent options');
    assert.equal(renew.packet.options.has(DhcpOption.AGENT_INFORMATION), false, 'not echoed on a direct unicast reply');
    assert.deepEqual(store.getByAddress(y)!.agentOptions.map((o) => o.code), [1], 'kept on the lease');
  } finally {
    cleanup();
  }
});
