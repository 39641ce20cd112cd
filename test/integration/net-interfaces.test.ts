/**
 * Interface enumeration inside a namespace (src/net/interfaces.ts reads getifaddrs + /sys/class/net of the
 * namespace it runs in): ifindex, MAC, MTU, flags, addresses in kernel order (primary first, secondary with a
 * label folded into its interface), interfaces without addresses; the subnet rule; and LinuxTransport
 * refusing a serving set that names a missing interface.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTopology, integrationSkipReason, run, type LanInfo, type Topology } from '../support/netns.js';
import { fixtureCommand } from '../net/fixtures/agent-handle.js';
import type { NetInterface } from '../../src/net/transport.js';

const skip = integrationSkipReason();
let topo: Topology;
let lan: LanInfo;

interface Dump {
  all: NetInterface[];
  resolved: { found: NetInterface[]; missing: string[] };
  inSubnets: Array<[string, number]>;
  start: { ok: boolean; code?: string; message?: string; served?: string[] };
}

async function dump(names: string[], subnets: Array<{ network: string; prefixLength: number }>): Promise<Dump> {
  const c = fixtureCommand('interfaces-dump', [JSON.stringify(names), JSON.stringify(subnets)]);
  const p = topo.spawn(topo.nsOf('srv'), c.cmd, c.args, { cwd: c.cwd });
  const st = await p.exited;
  assert.equal(st.code, 0, p.stderr);
  return JSON.parse(p.stdout.trim()) as Dump;
}

before(async () => {
  if (skip) return;
  topo = await createTopology('nt-ifaces');
  lan = await topo.lan('a', [{ name: 'srv', address: '10.246.0.1/24', mac: '52:54:00:46:00:01' }]);
  await topo.lan('b', [{ name: 'srv', mac: '52:54:00:46:00:02' }]);
  const ns = topo.nsOf('srv');
  await run('ip', ['-n', ns, 'addr', 'add', '10.246.5.1/16', 'dev', 'eth0', 'label', 'eth0:1']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth1', 'mtu', '1400']);
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

test('listInterfaces reports what the namespace has', { skip, timeout: 15_000 }, async () => {
  const d = await dump(['eth0', 'eth1'], [{ network: '10.246.0.0', prefixLength: 16 }, { network: '10.246.0.0', prefixLength: 24 }]);
  assert.deepEqual(d.all.map((i) => i.name), ['lo', 'eth0', 'eth1']);
  const lo = d.all[0]!;
  assert.equal(lo.loopback, true);
  assert.equal(lo.hardwareType, 772);
  const eth0 = d.all.find((i) => i.name === 'eth0')!;
  assert.equal(eth0.ifindex, lan.host('srv').ifindex);
  assert.equal(eth0.mac, '52:54:00:46:00:01');
  assert.equal(eth0.mtu, 1500);
  assert.equal(eth0.hardwareType, 1);
  assert.equal(eth0.up, true);
  assert.equal(eth0.broadcast, true);
  assert.equal(eth0.loopback, false);
  assert.deepEqual(eth0.addresses, [
    { address: '10.246.0.1', prefixLength: 24 },
    { address: '10.246.5.1', prefixLength: 16 },
  ]);
  const eth1 = d.all.find((i) => i.name === 'eth1')!;
  assert.deepEqual(eth1.addresses, []);
  assert.equal(eth1.mtu, 1400);
  assert.equal(eth1.mac, '52:54:00:46:00:02');
  // Subnet rule: eth0 has an address in 10.246.0.0/16 (first subnet); eth1 has none; lo is never picked.
  assert.deepEqual(d.inSubnets, [['eth0', 0]]);
  assert.deepEqual(d.start, { ok: true, served: ['eth0', 'eth1'] });
});

test('a missing interface is reported by name', { skip, timeout: 15_000 }, async () => {
  const d = await dump(['eth0', 'nosuch0'], []);
  assert.deepEqual(d.resolved.missing, ['nosuch0']);
  assert.deepEqual(d.resolved.found.map((i) => i.name), ['eth0']);
  assert.equal(d.start.ok, false);
  assert.equal(d.start.code, 'ENODEV');
  assert.match(d.start.message ?? '', /nosuch0/);
});
