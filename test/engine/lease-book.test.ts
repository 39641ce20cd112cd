/**
 * LeaseBook's never-used-address cursor (firstUnrecorded) against the plain walk it replaces (the first
 * address from `lo` for which isRecorded is false), over random offer / expiry / drop / bind / commit
 * sequences on a real SQLite store; and offer expiry by `until` (an offer held longer does not keep
 * expired ones behind it alive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { emptyLease, type Lease } from '../../leases/lease.js';
import { LeaseBook } from '../../src/engine/lease-book.js';

const LO = 0x0a000010;
const HI = LO + 11;

function walk(book: LeaseBook, lo: number, hi: number, exclude: ReadonlySet<number>): number | undefined {
  for (let a = lo; a <= hi; a++) if (!exclude.has(a) && !book.isRecorded(a)) return a;
  return undefined;
}

function offered(address: number, until: number): Lease {
  const l = emptyLease(address);
  l.hardware = { htype: 1, address: Buffer.from([0, 1, 2, 3, 4, address & 0xff]) };
  l.ends = until;
  return l;
}

type Op =
  | { kind: 'offerFirst' }
  | { kind: 'offerAt'; i: number; hold: number }
  | { kind: 'drop'; i: number }
  | { kind: 'bind'; i: number }
  | { kind: 'commit' }
  | { kind: 'tick'; s: number }
  | { kind: 'query'; exclude: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'offerFirst' }),
  fc.record({ kind: fc.constant('offerAt' as const), i: fc.integer({ min: 0, max: 11 }), hold: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('drop' as const), i: fc.integer({ min: 0, max: 11 }) }),
  fc.record({ kind: fc.constant('bind' as const), i: fc.integer({ min: 0, max: 11 }) }),
  fc.constant<Op>({ kind: 'commit' }),
  fc.record({ kind: fc.constant('tick' as const), s: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('query' as const), exclude: fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }) }),
);

test('firstUnrecorded gives the same address as the walk from the range start, whatever happened before', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lease-book-'));
  let run = 0;
  try {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const store = openSqliteLeaseStore(join(dir, `l${run++}.sqlite`));
        try {
          const book = new LeaseBook(store);
          let now = 1_800_000_000;
          book.setNow(now);
          for (const op of ops) {
            switch (op.kind) {
              case 'offerFirst': {
                const a = book.firstUnrecorded(LO, HI);
                assert.equal(a, walk(book, LO, HI, new Set()));
                if (a !== undefined) book.offer(offered(a, now + 120), now + 120);
                break;
              }
              case 'offerAt':
                book.offer(offered(LO + op.i, now + op.hold), now + op.hold);
                break;
              case 'drop':
                book.dropOffer(LO + op.i);
                break;
              case 'bind': {
                const l = offered(LO + op.i, now + 3600);
                l.bindingState = 'active';
                book.put(l);
                break;
              }
              case 'commit':
                store.commit(book.takePending());
                break;
              case 'tick':
                now += op.s;
                book.setNow(now);
                break;
              case 'query': {
                const ex = new Set(op.exclude.map((i) => LO + i));
                assert.equal(book.firstUnrecorded(LO, HI, ex), walk(book, LO, HI, ex));
                break;
              }
            }
          }
          assert.equal(book.firstUnrecorded(LO, HI), walk(book, LO, HI, new Set()));
        } finally {
          store.close();
        }
      }),
      { numRuns: 150 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an offer held for long does not keep shorter offers made after it alive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lease-book-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    const book = new LeaseBook(store);
    const now = 1_800_000_000;
    book.setNow(now);
    book.offer(offered(LO, now + 3600), now + 3600); // e.g. an active lease offered again until its end
    book.offer(offered(LO + 1, now + 120), now + 120);
    assert.equal(book.firstUnrecorded(LO, HI), LO + 2);
    assert.equal(book.byHardware(1, Buffer.from([0, 1, 2, 3, 4, (LO + 1) & 0xff])).length, 1);
    book.setNow(now + 121);
    assert.equal(book.byHardware(1, Buffer.from([0, 1, 2, 3, 4, (LO + 1) & 0xff])).length, 0);
    assert.equal(book.firstUnrecorded(LO, HI), LO + 1);
    assert.equal(book.isRecorded(LO), true);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("this turn's writes are found by client identity, and only under their current identity", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lease-book-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    const book = new LeaseBook(store);
    const now = 1_800_000_000;
    book.setNow(now);
    const hwA = Buffer.from([2, 0, 0, 0, 0, 0xa]);
    const hwB = Buffer.from([2, 0, 0, 0, 0, 0xb]);
    const a = emptyLease(LO);
    a.bindingState = 'active';
    a.ends = now + 3600;
    a.hardware = { htype: 1, address: hwA };
    a.uid = Buffer.from([1, 2, 3]);
    book.put(a);
    assert.deepEqual(book.byHardware(1, hwA).map((l) => l.address), [LO]);
    assert.deepEqual(book.byUid(Buffer.from([1, 2, 3])).map((l) => l.address), [LO]);
    // The same address written again for another client (e.g. released, then given away in the same turn).
    const b = { ...a, hardware: { htype: 1, address: hwB }, uid: null };
    book.put(b);
    assert.deepEqual(book.byHardware(1, hwA), []);
    assert.deepEqual(book.byUid(Buffer.from([1, 2, 3])), []);
    assert.deepEqual(book.byHardware(1, hwB).map((l) => l.address), [LO]);
    store.commit(book.takePending());
    // Committed: now found through the store.
    assert.deepEqual(book.byHardware(1, hwB).map((l) => l.address), [LO]);
    assert.deepEqual(book.byHardware(1, hwA), []);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client the store had no lease for is found once any writer commits one for it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lease-book-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    const book = new LeaseBook(store);
    const now = 1_800_000_000;
    book.setNow(now);
    const hw = Buffer.from([2, 0, 0, 0, 0, 0xc]);
    const uid = Buffer.from([1, 9, 9]);
    assert.deepEqual(book.byHardware(1, hw), []);
    assert.deepEqual(book.byUid(uid), []);
    assert.deepEqual(book.byHardware(1, hw), [], 'asked twice: still none');
    // Written by another writer of the same store (failover, expiry), not through the book.
    const l = emptyLease(LO + 3);
    l.bindingState = 'active';
    l.ends = now + 600;
    l.hardware = { htype: 1, address: hw };
    l.uid = uid;
    store.commit([l]);
    assert.deepEqual(book.byHardware(1, hw).map((x) => x.address), [LO + 3]);
    assert.deepEqual(book.byUid(uid).map((x) => x.address), [LO + 3]);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
