/**
 * Receive path of LinuxTransport in namespaces: DISCOVERs from real clients (busybox udhcpc, ISC dhclient)
 * arrive with the ifindex/ifname of the server interface they came in on (IP_PKTINFO), as broadcasts from
 * 0.0.0.0:68; a DISCOVER on an interface outside the serving set is dropped (reported as ignored only).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTopology, dhclientArgs, integrationSkipReason, udhcpcArgs, type LanInfo, type Topology } from '../support/netns.js';
import { TransportAgent } from '../net/fixtures/agent-handle.js';
import type { AgentEvent, DatagramSummary } from '../net/fixtures/transport-agent.js';

const skip = integrationSkipReason();
const MAC_A = '52:54:00:41:00:0a';
const MAC_B = '52:54:00:41:00:0b';
const MAC_C = '52:54:00:41:00:0c';

let topo: Topology;
let lanA: LanInfo;
let lanB: LanInfo;
let lanC: LanInfo;
let agent: TransportAgent;

before(async () => {
  if (skip) return;
  topo = await createTopology('nt-recv');
  lanA = await topo.lan('a', [{ name: 'srv', address: '10.241.1.1/24' }, { name: 'ca', mac: MAC_A }]);
  lanB = await topo.lan('b', [{ name: 'srv', address: '10.241.2.1/24' }, { name: 'cb', mac: MAC_B }]);
  lanC = await topo.lan('c', [{ name: 'srv', address: '10.241.3.1/24' }, { name: 'cc', mac: MAC_C }]);
  agent = await TransportAgent.start(topo, topo.nsOf('srv'), { interfaces: ['eth0', 'eth1'] });
});

after(async () => {
  if (skip) return;
  await agent?.stop();
  await topo?.destroy();
});

type Seen = DatagramSummary & { event: 'datagram' | 'ignored' };
const from = (kind: 'datagram' | 'ignored', mac: string) => (e: AgentEvent): e is Seen =>
  e.event === kind && (e as Seen).chaddr === mac;

test('the served set is what was asked for', { skip }, () => {
  const ready = agent.ofKind('ready')[0]!;
  assert.deepEqual(
    ready.served.map((s) => [s.name, s.ifindex, s.addresses]),
    [
      ['eth0', lanA.host('srv').ifindex, ['10.241.1.1']],
      ['eth1', lanB.host('srv').ifindex, ['10.241.2.1']],
    ],
  );
  assert.equal(ready.port, 67);
});

test('udhcpc DISCOVER arrives with the arrival interface', { skip, timeout: 15_000 }, async () => {
  const client = lanA.host('ca').spawn('udhcpc', udhcpcArgs('eth0', { quitAfterLease: false }));
  const d = await agent.waitFor(from('datagram', MAC_A), 8000);
  await client.stop();
  assert.equal(d.ifname, 'eth0');
  assert.equal(d.ifindex, lanA.host('srv').ifindex);
  assert.equal(d.messageType, 1); // DHCPDISCOVER
  assert.equal(d.sourceAddress, '0.0.0.0');
  assert.equal(d.sourcePort, 68);
  assert.equal(d.destinationAddress, '255.255.255.255');
});

test('dhclient DISCOVER on the second interface reports that interface', { skip, timeout: 15_000 }, async () => {
  const dir = await topo.tempDir();
  const client = lanB.host('cb').spawn('dhclient', dhclientArgs(dir, 'eth0'));
  const d = await agent.waitFor(from('datagram', MAC_B), 10_000);
  await client.stop();
  assert.equal(d.ifname, 'eth1');
  assert.equal(d.ifindex, lanB.host('srv').ifindex);
  assert.notEqual(d.ifindex, lanA.host('srv').ifindex);
  assert.equal(d.messageType, 1);
  assert.equal(d.destinationAddress, '255.255.255.255');
});

test('a DISCOVER on an interface outside the serving set is ignored', { skip, timeout: 15_000 }, async () => {
  const client = lanC.host('cc').spawn('udhcpc', udhcpcArgs('eth0', { tries: 2, quitAfterLease: false }));
  const ignored = await agent.waitFor(from('ignored', MAC_C), 8000);
  await client.stop();
  assert.equal(ignored.ifname, 'eth2');
  assert.equal(ignored.ifindex, lanC.host('srv').ifindex);
  assert.equal(agent.events.filter(from('datagram', MAC_C)).length, 0, 'never delivered to the engine');
});

test('SO_BINDTODEVICE mode hears only its device', { skip, timeout: 15_000 }, async () => {
  // A second socket on port 67 (both use SO_REUSEADDR, so broadcasts reach both) bound to eth0 only.
  const bound = await TransportAgent.start(topo, topo.nsOf('srv'), { interfaces: ['eth0'], bindToDevice: 'eth0' });
  try {
    const mark = agent.events.length;
    const onB = lanB.host('cb').spawn('udhcpc', udhcpcArgs('eth0', { tries: 2, quitAfterLease: false }));
    // The wildcard socket hears the new DISCOVER on eth1, so the kernel had it for the bound socket too.
    await agent.waitFor((e) => from('datagram', MAC_B)(e) && agent.events.indexOf(e) >= mark, 8000);
    const onA = lanA.host('ca').spawn('udhcpc', udhcpcArgs('eth0', { tries: 2, quitAfterLease: false }));
    const d = await bound.waitFor(from('datagram', MAC_A), 8000);
    await Promise.all([onA.stop(), onB.stop()]);
    assert.equal(d.ifname, 'eth0');
    assert.equal(bound.events.filter(from('datagram', MAC_B)).length, 0, 'nothing from eth1 reached the bound socket');
    assert.equal(bound.events.filter(from('ignored', MAC_B)).length, 0, 'not even as ignored: the kernel filtered it');
  } finally {
    await bound.stop();
  }
});
