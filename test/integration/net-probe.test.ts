/**
 * src/net/probe-client.ts (dgram-as-promised request/response) against a real ISC dhcpd 4.4.3 and against
 * our own LinuxTransport, from a "relay" namespace: DISCOVER → OFFER and REQUEST → ACK come back to
 * giaddr:67, ISC logs the exchange "via <giaddr>", and a probe to a silent address times out cleanly.
 *
 * Topology: LAN s = srv 10.245.0.1 (dhcpd) + prb 10.245.0.2; LAN r = prb 10.245.9.1 alone (the relayed
 * subnet the probe claims as giaddr); srv routes 10.245.9.0/24 via prb.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTopology, integrationSkipReason, startIscDhcpd, type IscDhcpd, type Topology } from '../support/netns.js';
import { fixtureCommand, TransportAgent } from '../net/fixtures/agent-handle.js';

const skip = integrationSkipReason();
const MAC = '52:54:00:45:00:01';
const MAC2 = '52:54:00:45:00:02';

let topo: Topology;
let dhcpd: IscDhcpd;

interface ProbeOutput {
  ok: boolean;
  messageType?: number;
  yiaddr?: string;
  giaddr?: string;
  from?: { address: string; port: number };
  elapsedMs?: number;
  serverIdentifier?: string;
  leaseTime?: number;
  code?: string;
  message?: string;
}

async function runProbe(options: Record<string, unknown>): Promise<ProbeOutput> {
  const c = fixtureCommand('probe-runner', [JSON.stringify(options)]);
  const p = topo.spawn(topo.nsOf('prb'), c.cmd, c.args, { cwd: c.cwd });
  const done = await p.exited;
  const line = p.stdout.trim().split('\n').pop() ?? '';
  assert.equal(done.code, 0, `probe exited ${done.code}: ${p.stderr}`);
  return JSON.parse(line) as ProbeOutput;
}

before(async () => {
  if (skip) return;
  topo = await createTopology('nt-probe');
  await topo.lan('s', [{ name: 'srv', address: '10.245.0.1/24' }, { name: 'prb', address: '10.245.0.2/24' }]);
  await topo.lan('r', [{ name: 'prb', address: '10.245.9.1/24' }]);
  await topo.addRoute('srv', '10.245.9.0/24', '10.245.0.2');
  dhcpd = await startIscDhcpd({
    ns: topo.nsOf('srv'),
    topology: topo,
    interfaces: ['eth0'],
    config: [
      'default-lease-time 600;',
      'max-lease-time 7200;',
      'ping-check false;',
      'authoritative;',
      'subnet 10.245.0.0 netmask 255.255.255.0 { }',
      'subnet 10.245.9.0 netmask 255.255.255.0 {',
      '  range 10.245.9.100 10.245.9.110;',
      '}',
      '',
    ].join('\n'),
  });
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

test('probe DISCOVER then REQUEST against ISC dhcpd', { skip, timeout: 20_000 }, async () => {
  const offer = await runProbe({ server: '10.245.0.1', giaddr: '10.245.9.1', chaddr: MAC, timeoutMs: 3000 });
  assert.equal(offer.ok, true, offer.message);
  assert.equal(offer.messageType, 2); // DHCPOFFER
  assert.match(offer.yiaddr!, /^10\.245\.9\.(10\d|110)$/);
  assert.equal(offer.giaddr, '10.245.9.1');
  assert.deepEqual(offer.from, { address: '10.245.0.1', port: 67 });
  assert.equal(offer.serverIdentifier, '10.245.0.1');
  await dhcpd.process.waitFor(`DHCPOFFER on ${offer.yiaddr} to ${MAC} via 10.245.9.1`, { timeoutMs: 2000 });

  const ack = await runProbe({
    server: '10.245.0.1',
    giaddr: '10.245.9.1',
    chaddr: MAC,
    messageType: 'request',
    requestedAddress: offer.yiaddr,
    serverIdentifier: offer.serverIdentifier,
    timeoutMs: 3000,
  });
  assert.equal(ack.ok, true, ack.message);
  assert.equal(ack.messageType, 5); // DHCPACK
  assert.equal(ack.yiaddr, offer.yiaddr);
  assert.equal(ack.leaseTime, 600);
  await dhcpd.process.waitFor(`DHCPACK on ${offer.yiaddr} to ${MAC} via 10.245.9.1`, { timeoutMs: 2000 });
  assert.match(await dhcpd.readLeases(), new RegExp(`lease ${offer.yiaddr!.replace(/\./g, '\\.')} \\{[^}]*hardware ethernet ${MAC};`));
});

test('probe to a silent address times out with ETIMEDOUT', { skip, timeout: 10_000 }, async () => {
  const r = await runProbe({ server: '10.245.0.3', giaddr: '10.245.9.1', chaddr: MAC, timeoutMs: 400, attempts: 2 });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'ETIMEDOUT');
});

test('probe claiming an address the host does not have fails to bind', { skip, timeout: 10_000 }, async () => {
  const r = await runProbe({ server: '10.245.0.1', giaddr: '10.245.77.1', chaddr: MAC, timeoutMs: 400 });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'EADDRNOTAVAIL');
});

test('probe against our LinuxTransport: relayed request in, reply to giaddr:67', { skip, timeout: 20_000 }, async () => {
  await dhcpd.stop(); // free port 67 in srv for the agent
  const agent = await TransportAgent.start(topo, topo.nsOf('srv'), {
    interfaces: ['eth0'],
    respond: { route: 'auto', yiaddr: '10.245.9.42', prefixLength: 24 },
  });
  try {
    const offer = await runProbe({ server: '10.245.0.1', giaddr: '10.245.9.1', chaddr: MAC2, timeoutMs: 3000 });
    assert.equal(offer.ok, true, offer.message);
    assert.equal(offer.messageType, 2);
    assert.equal(offer.yiaddr, '10.245.9.42');
    assert.deepEqual(offer.from, { address: '10.245.0.1', port: 67 });
    const seen = agent.ofKind('datagram').find((d) => d.chaddr === MAC2);
    assert.ok(seen, JSON.stringify(agent.events));
    assert.equal(seen.sourceAddress, '10.245.9.1'); // the probe sends from the giaddr it binds
    assert.equal(seen.sourcePort, 67);
    assert.equal(seen.destinationAddress, '10.245.0.1');
    assert.equal(seen.giaddr, ((10 << 24) | (245 << 16) | (9 << 8) | 1) >>> 0);
    assert.deepEqual(agent.ofKind('replied').map((r) => r.kind), ['relay']);
  } finally {
    await agent.stop();
  }
});
