import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configHostNames, resolveConfigNames } from '../../src/server/resolver.js';
import { DhcpEngine } from '../../src/engine/dhcp-engine.js';
import { createMemoryLogger } from '../../src/log/logger.js';
import { DHCPDISCOVER } from '../../src/wire/packet.js';
import { configFromText } from './config-text.js';
import { FakeClock, ip, ports, request, tempStore } from './fixtures.js';

test('host names of the config are resolved at start (next-server, option values, fixed-address)', async () => {
  const config = await configFromText(`
ping-check false;
subnet 127.0.0.0 netmask 255.0.0.0 {
  next-server localhost;
  option domain-name-servers localhost;
  range 127.0.0.100 127.0.0.110;
}
host h { hardware ethernet 52:54:00:00:00:01; fixed-address localhost; }
host unresolvable { hardware ethernet 52:54:00:00:00:02; fixed-address no-such-host.invalid; }
`);
  assert.deepEqual([...configHostNames(config)].sort(), ['localhost', 'no-such-host.invalid']);
  const logger = createMemoryLogger();
  const resolve = await resolveConfigNames(config, logger, 2000);
  assert.deepEqual(resolve('localhost'), [ip('127.0.0.1')]);
  assert.equal(resolve('no-such-host.invalid'), undefined);
  assert.ok(logger.lines.some((l) => l.message.startsWith('no-such-host.invalid: host unknown.')));

  const { store, cleanup } = tempStore();
  try {
    const engine = new DhcpEngine({ config, leases: store, ports: ports(new FakeClock()), resolveAddresses: resolve });
    const iface = { name: 'lo0', ifindex: 9, addresses: [ip('127.0.0.1')], canUnicastWithoutArp: false };
    const o = engine.handle({ packet: request(DHCPDISCOVER, '52:54:00:00:00:01'), raw: Buffer.alloc(300), iface, sourceAddress: 0, sourcePort: 68 });
    const p = o.replies[0]!.packet;
    assert.equal(p.yiaddr, ip('127.0.0.1'), 'fixed-address by name');
    assert.equal(p.siaddr, ip('127.0.0.1'), 'next-server by name');
    assert.equal(p.options.get(6)!.readUInt32BE(0), ip('127.0.0.1'), 'option value by name');
  } finally {
    cleanup();
  }
});
