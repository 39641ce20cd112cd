/**
 * Send paths of LinuxTransport with real clients completing a lease:
 * - broadcast (client asks with the broadcast flag, udhcpc -B): 255.255.255.255:68 leaves through the
 *   arrival interface only, with the server's address on that interface as source (AF_PACKET by default,
 *   IP_PKTINFO with broadcastVia 'socket');
 * - unicast to ciaddr (a RENEWING client): an ordinary routed datagram to ciaddr:68 from port 67;
 * - link-layer unicast (broadcast flag clear, plain udhcpc): the frame goes to the client's MAC and yiaddr
 *   with ISC's header values and a correct UDP checksum, the client accepts it, and the server namespace
 *   keeps no neighbour entry (no ARP was involved);
 * - both AF_PACKET frames carry the IP header fields a real ISC dhcpd 4.4.3 sends in the same topology.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createTopology,
  integrationSkipReason,
  neighbours,
  startCapture,
  startIscDhcpd,
  udhcpcArgs,
  type LanInfo,
  type Topology,
} from '../support/netns.js';
import { TransportAgent } from '../net/fixtures/agent-handle.js';

const skip = integrationSkipReason();
const MAC_A = '52:54:00:42:00:0a';
const MAC_B = '52:54:00:42:00:0b';
const MAC_R = '52:54:00:42:00:0e';

let topo: Topology;
let lanA: LanInfo;
let lanB: LanInfo;
let agent: TransportAgent;
/** IP header fields of our frames, kept for the comparison with ISC dhcpd. */
let ourUnicastHeaders: string[] = [];
let ourBroadcastHeaders: string[] = [];

/** "tos 0x10, ttl 128, id 0, offset 0, flags [none], proto UDP (17)" from a tcpdump -v packet line. */
function ipHeaderFields(line: string): string {
  const m = /\((tos [^,]+, ttl \d+, id \d+, offset \d+, flags \[[^\]]*\], proto UDP \(17\))/.exec(line);
  assert.ok(m, `no IP header in: ${line}`);
  return m[1]!;
}

before(async () => {
  if (skip) return;
  topo = await createTopology('nt-reply');
  lanA = await topo.lan('a', [
    { name: 'srv', address: '10.242.1.1/24' },
    { name: 'ca', mac: MAC_A },
    { name: 'cr', address: '10.242.1.77/24', mac: MAC_R },
  ]);
  lanB = await topo.lan('b', [{ name: 'srv', address: '10.242.2.1/24' }, { name: 'cb', mac: MAC_B }]);
  agent = await TransportAgent.start(topo, topo.nsOf('srv'), {
    interfaces: ['eth0', 'eth1'],
    respond: { route: 'auto', yiaddr: '10.242.1.50', prefixLength: 24, leaseTime: 600 },
  });
});

after(async () => {
  if (skip) return;
  await agent?.stop();
  await topo?.destroy();
});

test('broadcast reply leaves through the arrival interface only', { skip, timeout: 20_000 }, async () => {
  const capA = await startCapture(lanA.host('ca').ns, 'eth0', 'udp src port 67', { topology: topo });
  const capB = await startCapture(lanB.host('cb').ns, 'eth0', 'udp src port 67', { topology: topo });
  const r = await lanA.host('ca').exec('udhcpc', udhcpcArgs('eth0', { broadcast: true }), { check: false });
  const linesA = await capA.stop();
  const linesB = await capB.stop();
  assert.match(r.stdout + r.stderr, /lease of 10\.242\.1\.50 obtained/);
  const replied = agent.ofKind('replied');
  assert.ok(replied.length >= 2 && replied.every((x) => x.kind === 'broadcast'), JSON.stringify(replied));
  const frames = linesA.filter((l) => /10\.242\.1\.1\.67 > 255\.255\.255\.255\.68/.test(l));
  assert.ok(frames.length >= 2, `OFFER and ACK seen on LAN a:\n${linesA.join('\n')}`);
  assert.ok(frames.every((l) => /> ff:ff:ff:ff:ff:ff/.test(l)), 'link-layer broadcast');
  ourBroadcastHeaders = frames.map(ipHeaderFields);
  assert.deepEqual(linesB.filter((l) => /\.67 > /.test(l)), [], `nothing leaked to LAN b:\n${linesB.join('\n')}`);
});

test('link-layer unicast reaches a client with no address, without ARP', { skip, timeout: 20_000 }, async () => {
  const before = agent.ofKind('replied').length;
  const cap = await startCapture(lanA.host('ca').ns, 'eth0', 'udp or arp', { topology: topo });
  const r = await lanA.host('ca').exec('udhcpc', udhcpcArgs('eth0'), { check: false });
  const lines = await cap.stop();
  assert.match(r.stdout + r.stderr, /lease of 10\.242\.1\.50 obtained/);
  const replied = agent.ofKind('replied').slice(before);
  assert.deepEqual(replied.map((x) => x.kind), ['link-layer', 'link-layer']);
  // tcpdump -e -vv: "<srcmac> > 52:54:00:42:00:0a, ethertype IPv4 … (tos 0x10, ttl 128, id 0, …) 10.242.1.1.67 > 10.242.1.50.68: [udp sum ok]"
  const text = lines.join('\n');
  const unicast = lines.filter((l) => l.includes(`> ${MAC_A}, ethertype IPv4`));
  assert.equal(unicast.length, 2, text);
  for (const l of unicast) {
    assert.match(l, /tos 0x10, ttl 128, id 0/);
  }
  ourUnicastHeaders = unicast.map(ipHeaderFields);
  assert.match(text, /10\.242\.1\.1\.67 > 10\.242\.1\.50\.68: \[udp sum ok\]/);
  assert.doesNotMatch(text, /ARP, Request who-has 10\.242\.1\.50/, 'the server never ARPed for the client');
  const neigh = await neighbours(lanA.host('srv').ns);
  assert.deepEqual(neigh.filter((l) => l.startsWith('10.242.1.50 ')), [], `no neighbour entry: ${neigh.join('; ')}`);
});

test('unicast to ciaddr is an ordinary routed datagram from port 67', { skip, timeout: 20_000 }, async () => {
  const cap = await startCapture(lanA.host('cr').ns, 'eth0', 'udp port 68', { topology: topo });
  const r = await agent.request({ cmd: 'send', datagram: { kind: 'unicast', ciaddr: '10.242.1.77', data: Buffer.from('renew-ack').toString('base64') } });
  assert.ok(r.ok, r.error);
  const lines = await cap.stop();
  const text = lines.join('\n');
  const hit = lines.filter((l) => /10\.242\.1\.1\.67 > 10\.242\.1\.77\.68: /.test(l));
  assert.equal(hit.length, 1, text);
  assert.match(hit[0]!, new RegExp(`> ${MAC_R}, ethertype IPv4`));
  // Kernel-built: its own TTL (64), not the AF_PACKET path's ISC values.
  assert.match(hit[0]!, /ttl 64/);
  // And a send the kernel refuses comes back as an errno-coded error (no route in this namespace).
  const bad = await agent.request({ cmd: 'send', datagram: { kind: 'unicast', ciaddr: '192.0.2.9', data: 'AA==' } });
  assert.equal(bad.ok, false);
  assert.equal(bad.code, 'ENETUNREACH');
});

test("broadcastVia 'socket': kernel-built broadcast, still only out the chosen interface", { skip, timeout: 20_000 }, async () => {
  // A second agent on another port, so it does not answer clients; it only sends what it is told.
  const sock = await TransportAgent.start(topo, topo.nsOf('srv'), { interfaces: ['eth0', 'eth1'], port: 1067, broadcastVia: 'socket' });
  try {
    const capA = await startCapture(lanA.host('ca').ns, 'eth0', 'udp src port 1067', { topology: topo });
    const capB = await startCapture(lanB.host('cb').ns, 'eth0', 'udp src port 1067', { topology: topo });
    const r = await sock.request({
      cmd: 'send',
      datagram: { kind: 'broadcast', ifindex: lanA.host('srv').ifindex, sourceAddress: '10.242.1.1', data: Buffer.from('x'.repeat(300)).toString('base64') },
    });
    assert.ok(r.ok, r.error);
    const linesA = await capA.stop();
    const linesB = await capB.stop();
    assert.equal(linesA.length, 1, linesA.join('\n'));
    assert.match(linesA[0]!, /> ff:ff:ff:ff:ff:ff, ethertype IPv4/);
    assert.match(linesA[0]!, /10\.242\.1\.1\.1067 > 255\.255\.255\.255\.68: /);
    assert.doesNotMatch(linesA[0]!, /tos 0x10, ttl 128/, 'kernel headers, not the AF_PACKET ones');
    assert.deepEqual(linesB, []);
  } finally {
    await sock.stop();
  }
});

test('broadcast and link-layer frames carry the same IP header fields as ISC dhcpd 4.4.3 sends', { skip, timeout: 20_000 }, async () => {
  assert.ok(ourUnicastHeaders.length > 0 && ourBroadcastHeaders.length > 0, 'the earlier tests ran');
  await agent.stop(); // ISC takes over port 67 in the server namespace
  await startIscDhcpd({
    ns: lanA.host('srv').ns,
    topology: topo,
    interfaces: ['eth0'],
    config: 'ping-check false;\nsubnet 10.242.1.0 netmask 255.255.255.0 { range 10.242.1.60 10.242.1.60; }\n',
  });
  const cap = await startCapture(lanA.host('ca').ns, 'eth0', 'udp src port 67', { topology: topo });
  const r1 = await lanA.host('ca').exec('udhcpc', udhcpcArgs('eth0'), { check: false });
  const r2 = await lanA.host('ca').exec('udhcpc', udhcpcArgs('eth0', { broadcast: true }), { check: false });
  const lines = await cap.stop();
  assert.match(r1.stdout + r1.stderr, /lease of 10\.242\.1\.60 obtained/);
  assert.match(r2.stdout + r2.stderr, /lease of 10\.242\.1\.60 obtained/);
  const iscUnicast = lines.filter((l) => l.includes(`> ${MAC_A}, ethertype IPv4`)).map(ipHeaderFields);
  const iscBroadcast = lines.filter((l) => l.includes('> ff:ff:ff:ff:ff:ff, ethertype IPv4')).map(ipHeaderFields);
  assert.equal(iscUnicast.length, 2, lines.join('\n'));
  assert.equal(iscBroadcast.length, 2, lines.join('\n'));
  assert.deepEqual(ourUnicastHeaders, iscUnicast);
  assert.deepEqual(ourBroadcastHeaders, iscBroadcast);
});
