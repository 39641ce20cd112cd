import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIpv4, prefixMask, toMac, toUint32 } from '../../src/net/ipv4-address.js';
import { inSubnet } from '../../src/net/interfaces.js';

test('toUint32/formatIpv4 round-trip every uint32', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      assert.equal(toUint32(formatIpv4(n)), n);
      assert.equal(toUint32(n), n);
    }),
  );
  assert.equal(toUint32('255.255.255.255'), 0xffffffff);
  assert.equal(formatIpv4(0x0a000001), '10.0.0.1');
});

test('toUint32 rejects what is not a dotted quad', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', ' 1.2.3.4', 'a.b.c.d', '1.2.3.4/24']) {
    assert.throws(() => toUint32(bad), TypeError, bad);
  }
  for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) assert.throws(() => toUint32(bad), TypeError, String(bad));
});

test('prefixMask and inSubnet', () => {
  assert.equal(prefixMask(0), 0);
  assert.equal(prefixMask(24), 0xffffff00);
  assert.equal(prefixMask(32), 0xffffffff);
  assert.equal(inSubnet('10.1.2.3', { network: '10.1.0.0', prefixLength: 16 }), true);
  assert.equal(inSubnet('10.2.2.3', { network: '10.1.0.0', netmask: '255.255.0.0' }), false);
  assert.equal(inSubnet(0x0a010203, { network: 0x0a010200, prefixLength: 24 }), true);
});

test('toMac accepts strings and buffers, refuses garbage', () => {
  assert.deepEqual(toMac('52:54:00:02:bf:f8'), Buffer.from([0x52, 0x54, 0, 2, 0xbf, 0xf8]));
  assert.deepEqual(toMac('52-54-00-02-BF-F8'), Buffer.from([0x52, 0x54, 0, 2, 0xbf, 0xf8]));
  const chaddr = Buffer.alloc(16, 7);
  assert.deepEqual(toMac(chaddr), Buffer.alloc(6, 7));
  assert.throws(() => toMac(Buffer.alloc(5)), TypeError);
  assert.throws(() => toMac('52:54:00:02:bf'), TypeError);
  assert.throws(() => toMac('52:54:00:02:bf:zz'), TypeError);
});
