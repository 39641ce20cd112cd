import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeLeaseRecord, encodeLeaseRecord, BINDING_CODE_ORDER } from '../../leases/lease-record-codec.js';
import { parseLeaseFileText } from '../../grammar/leases-parser.js';
import { formatLease, printTime } from '../../leases/isc-lease-file.js';
import type { Lease, ScopeValue } from '../../leases/lease.js';

const latin1 = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));
const time = fc.oneof(fc.constant(0), fc.constant(null), fc.integer({ min: 1, max: 2_000_000_000 }));
const state = fc.constantFrom(...BINDING_CODE_ORDER);
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const scopeValue: fc.Arbitrary<ScopeValue> = fc.oneof(
  bytes(40).map((value) => ({ kind: 'data' as const, value })),
  fc.integer({ min: -1e9, max: 1e9 }).map((value) => ({ kind: 'number' as const, value })),
  fc.boolean().map((value) => ({ kind: 'boolean' as const, value })),
);

const leaseArb: fc.Arbitrary<Lease> = fc
  .record({
  address: fc.integer({ min: 0, max: 0xffffffff }),
  starts: time,
  ends: time,
  tstp: time,
  tsfp: time,
  atsfp: time,
  cltt: time,
  bindingState: state,
  nextBindingState: state,
  rewindBindingState: state,
  reserved: fc.boolean(),
  dynamicBootp: fc.boolean(),
  hardware: fc.option(fc.record({ htype: fc.integer({ min: 0, max: 255 }), address: bytes(20) }, { noNullPrototype: true }), { nil: null }),
  uid: fc.option(bytes(64), { nil: null }),
  clientHostname: fc.option(latin1(60), { nil: null }),
  hostname: fc.option(latin1(60), { nil: null }),
  scope: fc.array(fc.tuple(latin1(20), scopeValue), { maxLength: 5 }).map((e) => new Map(e)),
  agentOptions: fc.array(fc.record({ code: fc.integer({ min: 0, max: 255 }), data: bytes(300) }, { noNullPrototype: true }), { maxLength: 4 }),
  billingClass: fc.option(
    fc.oneof(
      latin1(20).map((name) => ({ kind: 'class' as const, name })),
      fc.tuple(latin1(20), bytes(10)).map(([name, data]) => ({ kind: 'subclass' as const, name, data })),
    ),
    { nil: null },
  ),
  on: fc.record({ expiry: latin1(200), release: latin1(200), commit: latin1(50), expiryOrRelease: fc.constant(true as const) }, { requiredKeys: [], noNullPrototype: true }),
  }, { noNullPrototype: true });

it('packed lease records decode to the lease that was encoded', () => {
  fc.assert(
    fc.property(leaseArb, (l) => {
      const back = decodeLeaseRecord(l.address, encodeLeaseRecord(l));
      assert.deepEqual(back, l);
    }),
    { numRuns: 500 },
  );
});

it('ISC text written for any ordinary lease parses back to the same lease', () => {
  // Leases as ISC keeps them: ISC states only, printable host names, no legacy flags-as-states.
  const iscLease = leaseArb.map((l) => {
    const fix = (s: Lease['bindingState']): Lease['bindingState'] => (s === 'reserved' || s === 'bootp' ? 'active' : s);
    const out: Lease = { ...l, bindingState: fix(l.bindingState), nextBindingState: fix(l.nextBindingState), rewindBindingState: fix(l.rewindBindingState) };
    out.hostname = null; // database only
    out.clientHostname = l.clientHostname?.replace(/[^\x21\x23-\x5b\x5d-\x7e ]/g, 'x') || null;
    out.uid = l.uid && l.uid.length > 0 ? l.uid : null;
    out.tstp = l.tstp; // written whenever non-zero
    if (out.tstp === 0) out.tstp = out.ends; // ISC: no tstp in the file means tstp = ends
    out.hardware = l.hardware ? { htype: [1, 6, 8, 32][l.hardware.htype % 4]!, address: l.hardware.address } : null;
    out.scope = new Map([...l.scope].map(([k, v], i) => [`v${i}-${k.replace(/[^a-z]/g, '')}`, v.kind === 'number' ? { kind: 'number', value: Math.abs(Math.trunc(v.value)) } : v]));
    out.agentOptions = [];
    out.billingClass = null;
    out.on = {};
    return out;
  });
  fc.assert(
    fc.property(iscLease, (l) => {
      const text = formatLease(l, { now: 0 });
      const p = parseLeaseFileText(text, 'p.leases', { now: 0 });
      assert.deepEqual(p.diagnostics, [], text);
      assert.deepEqual(p.leases.get(l.address >>> 0), l, text);
    }),
    { numRuns: 300 },
  );
});

it('printTime agrees with gmtime (Date) for any time', () => {
  const ref = (t: number): string => {
    const d = new Date(t * 1000);
    const p = (n: number): string => String(n).padStart(2, '0');
    return `${d.getUTCDay()} ${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())};`;
  };
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (t) => {
      assert.equal(printTime(t), ref(t));
    }),
    { numRuns: 20_000 },
  );
  for (const t of [0, 86_399, 86_400, 951_782_400, 951_868_800, 2_147_483_647]) assert.equal(printTime(t), ref(t));
});
