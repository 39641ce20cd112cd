import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeTransport, FAKE_ETH0 } from '../../src/net/fake-transport.js';
import type { InboundDatagram } from '../../src/net/transport.js';

test('FakeTransport delivers on served interfaces only and records sends', async () => {
  const eth1 = { ...FAKE_ETH0, name: 'eth1', ifindex: 3, addresses: [{ address: '10.0.0.1', prefixLength: 8 }] };
  const t = new FakeTransport({ interfaces: [FAKE_ETH0, eth1] });
  const got: InboundDatagram[] = [];
  assert.equal(t.deliver(Buffer.from([1])), false, 'not started yet');
  await t.start((d) => got.push(d));
  assert.equal(t.deliver(Buffer.from([1, 2]), { ifindex: 3 }), true);
  assert.equal(t.deliver(Buffer.from([3]), { ifindex: 9 }), false);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.ifname, 'eth1');
  assert.equal(got[0]!.destinationAddress, '255.255.255.255');
  assert.equal(t.ignored.length, 1);
  const wait = t.waitForSent(2, 500);
  await t.send({ kind: 'relay', data: Buffer.from([9]), giaddr: '10.1.2.3' });
  t.failNextSend('ENETUNREACH');
  await assert.rejects(t.send({ kind: 'unicast', data: Buffer.alloc(1), ciaddr: '10.0.0.5' }), { code: 'ENETUNREACH' });
  await t.send({ kind: 'broadcast', data: Buffer.alloc(1), ifindex: 3, sourceAddress: '10.0.0.1' });
  const sent = await wait;
  assert.deepEqual(sent.map((s) => s.kind), ['relay', 'broadcast']);
  await t.close();
  assert.equal(t.deliver(Buffer.from([1])), false);
  await assert.rejects(t.send({ kind: 'relay', data: Buffer.alloc(1), giaddr: '10.1.2.3' }), { code: 'EBADF' });
});
