import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DhcpEngine } from '../../src/engine/dhcp-engine.js';
import { DHCPDISCOVER, DHCPREQUEST, DhcpOption, messageType } from '../../src/wire/packet.js';
import { configFromText } from './config-text.js';
import { FakeClock, ip, ports, request, tempStore, u32 } from './fixtures.js';

test('spawned classes with a lease limit: one binding per vendor string, billed on the lease (ISC bill_class)', async () => {
  const config = await configFromText(`
ping-check false;
class "per-vendor" {
  spawn with option vendor-class-identifier;
  lease limit 1;
}
subnet 10.70.0.0 netmask 255.255.255.0 { range 10.70.0.100 10.70.0.120; }
`);
  const { store, cleanup } = tempStore();
  const p = ports(new FakeClock());
  const engine = new DhcpEngine({ config, leases: store, ports: p });
  const iface = { name: 'eth0', ifindex: 2, addresses: [ip('10.70.0.1')], canUnicastWithoutArp: true };
  const dora = (mac: string, vendor: string): number | undefined => {
    const vci: [number, Buffer] = [DhcpOption.VENDOR_CLASS_IDENTIFIER, Buffer.from(vendor)];
    const o = engine.handle({ packet: request(DHCPDISCOVER, mac, { options: [vci] }), raw: Buffer.alloc(300), iface, sourceAddress: 0, sourcePort: 68 });
    store.commit(engine.takeCommits());
    const y = o.replies[0]?.packet.yiaddr;
    if (y === undefined) return undefined;
    const a = engine.handle({ packet: request(DHCPREQUEST, mac, { options: [vci, [DhcpOption.REQUESTED_ADDRESS, u32(y)]] }), raw: Buffer.alloc(300), iface, sourceAddress: 0, sourcePort: 68 });
    store.commit(engine.takeCommits());
    return a.replies[0] !== undefined && messageType(a.replies[0].packet) === 5 ? y : undefined;
  };
  try {
    const first = dora('02:00:00:00:00:01', 'acme');
    assert.ok(first !== undefined);
    assert.deepEqual(store.getByAddress(first)!.billingClass, { kind: 'subclass', name: 'per-vendor', data: Buffer.from('acme') });
    assert.equal(dora('02:00:00:00:00:02', 'acme'), undefined, 'the second "acme" client is over the limit');
    assert.ok(p.logger.lines.some((l) => /no available billing: lease limit reached in all matching classes \(last: 'per-vendor'\)$/.test(l.message)));
    assert.ok(dora('02:00:00:00:00:03', 'other') !== undefined, 'another vendor string is its own class');
    assert.equal(dora('02:00:00:00:00:01', 'acme'), first, 'the billed client keeps its lease');
  } finally {
    cleanup();
  }
});
