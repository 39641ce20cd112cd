import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bucketIsMine, hbaBit, hbaFromSplit, isMine, loadBalanceHash, loadBalanceKey } from '../../src/failover/load-balance.js';
import { decodeMessage } from '../../src/failover/codec.js';
import { readFixture } from './fixtures.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');

test('hash buckets observed with ISC 4.4.3 (FAILOVER.md §7.2)', () => {
  assert.equal(loadBalanceHash(hex('02:00:00:77:00:50')), 67);
  assert.equal(loadBalanceHash(hex('02:00:00:77:00:54')), 201);
  assert.equal(loadBalanceHash(hex('02:00:00:77:00:51')), 55);
  assert.equal(loadBalanceHash(hex('01:02:00:00:77:00:51')), 219);
  assert.equal(loadBalanceHash(Buffer.concat([Buffer.from([0]), Buffer.from('cid-test-6')])), 196);
  assert.equal(loadBalanceHash(Buffer.concat([Buffer.from([0]), Buffer.from('cid-test-1')])), 107);
});

test('split 128 HBA equals the one ISC sent in its CONNECT', () => {
  const v = (JSON.parse(readFixture('isc-vectors.json')) as { hex: string }[])[0]!;
  const r = decodeMessage(Buffer.from(v.hex, 'hex'));
  assert.ok(r.ok);
  assert.ok(hbaFromSplit(128).equals(r.message.fields.hba!));
  assert.equal(hbaFromSplit(200).toString('hex'), 'ff'.repeat(25) + '00'.repeat(7));
  assert.ok(hbaFromSplit(0).equals(Buffer.alloc(32)));
  assert.ok(hbaFromSplit(256).equals(Buffer.alloc(32, 0xff)));
});

test('ISC decisions of lab/run4-lb (split 128, load balance max seconds 3)', () => {
  const hba = hbaFromSplit(128);
  const probes = readFixture('run4-lb-probes.jsonl')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { chaddr: string; secs: number; cid: string | null; offers: { from: string }[] });
  assert.equal(probes.length, 7);
  for (const p of probes) {
    const req = { chaddr: hex(p.chaddr), hlen: 6, secs: p.secs, clientIdentifier: p.cid ? hex(p.cid) : undefined };
    const iscPrimary = p.offers.some((o) => o.from === '10.77.0.1');
    const iscSecondary = p.offers.some((o) => o.from === '10.77.0.2');
    assert.equal(isMine(req, 'primary', hba, 3), iscPrimary, JSON.stringify(p));
    assert.equal(isMine(req, 'secondary', hba, 3), iscSecondary, JSON.stringify(p));
  }
});

test('exactly one server owns each key when secs is low; max seconds 0 disables balancing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 16 }), fc.integer({ min: 0, max: 256 }), (mac, split) => {
      const hba = hbaFromSplit(split);
      const req = { chaddr: Buffer.from(mac), hlen: 6, secs: 0 };
      assert.notEqual(isMine(req, 'primary', hba, 5), isMine(req, 'secondary', hba, 5));
      assert.ok(isMine(req, 'primary', hba, 0) && isMine(req, 'secondary', hba, 0));
      assert.equal(bucketIsMine(loadBalanceKey(req), 'primary', hba), loadBalanceHash(mac.subarray(0, 6)) < split);
      assert.equal(hbaBit(hba, loadBalanceHash(mac.subarray(0, 6))), loadBalanceHash(mac.subarray(0, 6)) < split);
    }),
  );
  // check-secs-byte-order: 0x0a00 from a little-endian client means 10 seconds.
  const req = { chaddr: hex('02:00:00:77:00:50'), hlen: 6, secs: 0x0300 };
  assert.equal(isMine(req, 'secondary', hbaFromSplit(128), 3, true), false);
  assert.equal(isMine(req, 'secondary', hbaFromSplit(128), 3, false), true);
});
