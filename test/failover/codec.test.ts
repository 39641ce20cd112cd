import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from './fixtures.js';
import fc from 'fast-check';
import { buildMessage, decodeMessage, encodeMessage, encodeFields } from '../../src/failover/codec.js';
import { FTM, FTO, messageTypeName, rejectReasonText, stateFromWire } from '../../src/failover/messages.js';

interface Vector {
  description: string;
  hex: string;
  decoded: {
    length: number;
    type: number;
    typeName: string;
    payoff: number;
    time: number;
    xid: number;
    options: { code: number; name: string; len: number; hex: string; value: string }[];
  };
}

const VECTORS = JSON.parse(readFixture('isc-vectors.json')) as Vector[];

test('every captured ISC vector decodes to its recorded fields and re-encodes byte for byte', () => {
  assert.ok(VECTORS.length >= 28);
  for (const v of VECTORS) {
    const buf = Buffer.from(v.hex, 'hex');
    const r = decodeMessage(buf);
    assert.ok(r.ok, `${v.description}: ${r.ok ? '' : r.error.message}`);
    const m = r.message;
    assert.equal(m.type, v.decoded.type, v.description);
    assert.equal(messageTypeName(m.type), v.decoded.typeName, v.description);
    assert.equal(m.payoff, v.decoded.payoff);
    assert.equal(m.time, v.decoded.time);
    assert.equal(m.xid, v.decoded.xid);
    assert.deepEqual(
      m.options.map((o) => [o.code, o.data.toString('hex')]),
      v.decoded.options.map((o) => [o.code, o.hex]),
      v.description,
    );
    assert.equal(encodeMessage(m).toString('hex'), v.hex, v.description);
    // Rebuilding from the typed fields alone gives ISC's option order back (our emit order = ISC's).
    assert.equal(encodeMessage(buildMessage(m.type, m.time, m.xid, m.fields)).toString('hex'), v.hex, `rebuild ${v.description}`);
  }
});

test('typed fields of the CONNECT, STATE and BNDUPD vectors', () => {
  const connect = VECTORS.find((v) => v.decoded.typeName === 'CONNECT')!;
  const c = decodeMessage(Buffer.from(connect.hex, 'hex'));
  assert.ok(c.ok);
  assert.equal(c.message.fields.relationshipName?.toString(), 'fo-test');
  assert.equal(c.message.fields.mclt, 1800);
  assert.equal(c.message.fields.maxUnackedBndupd, 10);
  assert.equal(c.message.fields.receiveTimer, 30);
  assert.equal(c.message.fields.hba?.length, 32);
  const st = VECTORS.find((v) => v.hex === '001e0a0c6b0babe30000000500180001fe0017000100001900046b0babdb')!;
  const s = decodeMessage(Buffer.from(st.hex, 'hex'));
  assert.ok(s.ok);
  assert.equal(stateFromWire(s.message.fields.serverState!), 'recover-wait');
  const b = decodeMessage(
    Buffer.from(
      '004f030c6b0bab9f0000001c000200040a4d006c000300010200040007010200007700510005000701020000770051000d00046b0bb2a7001200046b0bcb43001900046b0bab9f000600046b0bab9f',
      'hex',
    ),
  );
  assert.ok(b.ok);
  assert.equal(b.message.fields.assignedIpAddress, 0x0a4d006c);
  assert.equal(b.message.fields.clientIdentifier?.toString('hex'), '01020000770051');
  assert.equal(b.message.fields.chaddr?.toString('hex'), '01020000770051');
  assert.equal(b.message.fields.potentialExpirationTime, 1795935043);
  assert.equal(rejectReasonText(16), 'Less critical binding information.');
  assert.match(rejectReasonText(99), /^Undefined-99: This reason code is not defined/);
});

test('ISC receive rules: length, overflow, duplicate, sizes, type, digest', () => {
  const good = encodeFields(FTM.STATE, 100, 1, { serverState: 2, serverFlags: 0, startTimeOfState: 5 });
  assert.ok(decodeMessage(good).ok);
  const err = (b: Buffer): string => {
    const r = decodeMessage(b);
    assert.equal(r.ok, false);
    return r.ok ? '' : r.error.code;
  };
  assert.equal(err(good.subarray(0, 5)), 'short-header');
  const big = Buffer.from(good);
  big.writeUInt16BE(2049, 0);
  assert.equal(err(big), 'bad-length');
  const small = Buffer.from(good);
  small.writeUInt16BE(11, 0);
  assert.equal(err(small), 'bad-length');
  assert.equal(err(good.subarray(0, good.length - 1)), 'truncated');
  // option length running past the message
  const over = Buffer.from(good);
  over.writeUInt16BE(200, 14);
  assert.equal(err(over), 'option-overflow');
  // duplicate option
  const dup = encodeMessage({
    type: FTM.BNDACK,
    time: 1,
    xid: 1,
    options: [
      { code: FTO.ASSIGNED_IP_ADDRESS, data: Buffer.from([10, 0, 0, 1]) },
      { code: FTO.ASSIGNED_IP_ADDRESS, data: Buffer.from([10, 0, 0, 2]) },
    ],
  });
  const d = decodeMessage(dup);
  assert.ok(!d.ok && d.error.message === 'FAILOVER: duplicate option assigned-IP-address');
  // wrong fixed size
  const sz = encodeMessage({ type: FTM.STATE, time: 1, xid: 1, options: [{ code: FTO.SERVER_STATE, data: Buffer.from([0, 2]) }] });
  const s = decodeMessage(sz);
  assert.ok(!s.ok && s.error.message === 'FAILOVER: option size (2:1), option server-state');
  // type above 12 with an option; without options ISC does not check
  assert.equal(err(encodeMessage({ type: 13, time: 1, xid: 1, options: [{ code: 16, data: Buffer.from('x') }] })), 'invalid-type');
  assert.ok(decodeMessage(encodeMessage({ type: 13, time: 1, xid: 1, options: [] })).ok);
  // unknown option codes skipped
  const unk = decodeMessage(encodeMessage({ type: FTM.CONTACT, time: 1, xid: 1, options: [{ code: 0, data: Buffer.alloc(3) }, { code: 300, data: Buffer.alloc(1) }] }));
  assert.ok(unk.ok && Object.keys(unk.message.fields).length === 0);
  // digest must be last
  assert.equal(
    err(encodeMessage({ type: FTM.CONTACT, time: 1, xid: 1, options: [{ code: 17, data: Buffer.alloc(16) }, { code: 16, data: Buffer.from('x') }] })),
    'digest-not-last',
  );
  // payload offset below 12
  const po = Buffer.from(good);
  po[3] = 8;
  assert.equal(err(po), 'bad-payoff');
});

const fieldsArb = fc.record(
  {
    assignedIpAddress: fc.nat({ max: 0xffffffff }),
    bindingStatus: fc.integer({ min: 1, max: 7 }),
    clientIdentifier: fc.uint8Array({ minLength: 0, maxLength: 40 }).map((a) => Buffer.from(a)),
    chaddr: fc.uint8Array({ minLength: 1, maxLength: 17 }).map((a) => Buffer.from(a)),
    leaseExpirationTime: fc.nat({ max: 0xffffffff }),
    potentialExpirationTime: fc.nat({ max: 0xffffffff }),
    startTimeOfState: fc.nat({ max: 0xffffffff }),
    cltt: fc.nat({ max: 0xffffffff }),
    ipFlags: fc.nat({ max: 0xffff }),
    rejectReason: fc.nat({ max: 255 }),
    message: fc.string({ maxLength: 100 }).map((s) => Buffer.from(s, 'latin1').toString('latin1')),
    relationshipName: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    hba: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a)),
    serverState: fc.nat({ max: 255 }),
  },
  { requiredKeys: [] },
);

test('fast-check: build → encode → decode round trip', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fieldsArb, (type, time, xid, fields) => {
      const buf = encodeFields(type, time, xid, fields);
      const r = decodeMessage(buf);
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      assert.equal(r.message.type, type);
      assert.equal(r.message.time, time);
      assert.equal(r.message.xid, xid);
      for (const [k, v] of Object.entries(fields)) {
        const got: unknown = (r.message.fields as Record<string, unknown>)[k];
        if (Buffer.isBuffer(v)) assert.ok(Buffer.isBuffer(got) && got.equals(v), k);
        else assert.equal(got, v, k);
      }
      assert.ok(encodeMessage(r.message).equals(buf));
    }),
    { numRuns: 500 },
  );
});

test('fast-check: encodeFields (one-buffer encoder) writes the same bytes as encodeMessage(buildMessage())', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fieldsArb, (type, time, xid, fields) => {
      assert.deepEqual(encodeFields(type, time, xid, fields), encodeMessage(buildMessage(type, time, xid, fields)));
    }),
    { numRuns: 1000 },
  );
});

test('fast-check mutation fuzzer: decode never throws on mutated vectors or random bytes', () => {
  const bases = VECTORS.map((v) => Buffer.from(v.hex, 'hex'));
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: bases.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 8 }),
      fc.integer({ min: -20, max: 20 }),
      (i, flips, cut) => {
        const b = Buffer.from(bases[i]!);
        for (const [pos, val] of flips) b[pos % b.length] = val;
        const m = cut < 0 ? b.subarray(0, Math.max(0, b.length + cut)) : Buffer.concat([b, Buffer.alloc(cut, 0xee)]);
        const r = decodeMessage(m);
        if (r.ok) assert.ok(encodeMessage(r.message).equals(m), 'a decoded message re-encodes to the same bytes');
      },
    ),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2100 }), (a) => {
      decodeMessage(Buffer.from(a));
    }),
    { numRuns: 2000 },
  );
});
