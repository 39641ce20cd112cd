/**
 * Relay path of LinuxTransport with a real ISC dhcrelay between two LANs: the relayed DISCOVER/REQUEST
 * arrives from the relay's port 67 with giaddr set, the reply goes to giaddr:67 from port 67 (RFC 2131 §4.1)
 * through the routing table, and the client behind the relay obtains the lease.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTopology, integrationSkipReason, startCapture, udhcpcArgs, type LanInfo, type Topology } from '../support/netns.js';
import { TransportAgent } from '../net/fixtures/agent-handle.js';
import type { AgentEvent, DatagramSummary } from '../net/fixtures/transport-agent.js';

const skip = integrationSkipReason();
const MAC = '52:54:00:43:00:0c';
const GIADDR = (10 << 24) | (243 << 16) | (1 << 8) | 1; // 10.243.1.1, the relay's client-side address

let topo: Topology;
let clientLan: LanInfo;
let serverLan: LanInfo;
let agent: TransportAgent;

before(async () => {
  if (skip) return;
  topo = await createTopology('nt-relay');
  clientLan = await topo.lan('c', [{ name: 'cli', mac: MAC }, { name: 'rly', address: '10.243.1.1/24' }]);
  serverLan = await topo.lan('s', [{ name: 'rly', address: '10.243.2.1/24' }, { name: 'srv', address: '10.243.2.2/24' }]);
  await topo.addRoute('srv', '10.243.1.0/24', '10.243.2.1');
  agent = await TransportAgent.start(topo, topo.nsOf('srv'), {
    interfaces: ['eth0'],
    respond: { route: 'auto', yiaddr: '10.243.1.60', prefixLength: 24 },
  });
  const relay = topo.spawn(topo.nsOf('rly'), 'dhcrelay', ['-4', '-d', '--no-pid', '-id', 'eth0', '-iu', 'eth1', '10.243.2.2']);
  await relay.waitFor(/Sending on\s+Socket\/fallback/, { timeoutMs: 8000 });
});

after(async () => {
  if (skip) return;
  await agent?.stop();
  await topo?.destroy();
});

test('a client behind dhcrelay gets its lease; replies go to giaddr:67', { skip, timeout: 20_000 }, async () => {
  const cap = await startCapture(serverLan.host('srv').ns, 'eth0', 'udp port 67', { topology: topo });
  const r = await clientLan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 4 }), { check: false });
  const lines = await cap.stop();
  assert.match(r.stdout + r.stderr, /lease of 10\.243\.1\.60 obtained/);

  const relayed = agent.events.filter(
    (e: AgentEvent): e is DatagramSummary & { event: 'datagram' } => e.event === 'datagram' && (e as DatagramSummary).chaddr === MAC,
  );
  assert.ok(relayed.length >= 2, JSON.stringify(agent.events));
  for (const d of relayed) {
    assert.equal(d.giaddr, GIADDR);
    assert.equal(d.sourcePort, 67);
    assert.equal(d.sourceAddress, '10.243.2.1');
    assert.equal(d.destinationAddress, '10.243.2.2');
    assert.equal(d.ifname, 'eth0');
  }
  assert.deepEqual([...new Set(agent.ofKind('replied').map((x) => x.kind))], ['relay']);
  const text = lines.join('\n');
  assert.match(text, /10\.243\.2\.2\.67 > 10\.243\.1\.1\.67:/, text);
});
