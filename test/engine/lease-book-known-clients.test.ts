/**
 * The lease book's filter of known clients (KnownClients in src/engine/lease-book.ts) on a real SQLite store:
 * once its background scan is done, a client the store has no lease for is answered without a store lookup,
 * and every client the store has a lease for (written before the scan, during it, or after it, by a commit)
 * is still found; identities are told apart by hardware type and by uid vs hardware address. Also the
 * never-used address search of a range with built queues asks the store nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLeaseStore, type SqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { emptyLease, type Lease } from '../../leases/lease.js';
import { LeaseBook } from '../../src/engine/lease-book.js';

const BASE = 0x0a000000;

function bound(i: number): Lease {
  const l = emptyLease(BASE + i);
  l.bindingState = 'active';
  l.starts = 1_764_000_000;
  l.ends = 1_764_003_600;
  l.hardware = { htype: 1, address: Buffer.from([0, 0x0c, 0, 0, (i >>> 8) & 255, i & 255]) };
  l.uid = Buffer.from([1, 0, 0x0c, 0, 0, (i >>> 8) & 255, i & 255]);
  return l;
}

/** The store as the book sees it, counting the point lookups made through it. */
function counting(store: SqliteLeaseStore): { view: SqliteLeaseStore; calls: { uid: number; hw: number; addr: number } } {
  const calls = { uid: 0, hw: 0, addr: 0 };
  const view = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'getByUid') return (u: Buffer) => (calls.uid++, target.getByUid(u));
      if (prop === 'getByHardware') return (h: { htype: number; address: Buffer }) => (calls.hw++, target.getByHardware(h));
      if (prop === 'getByAddress') return (a: number) => (calls.addr++, target.getByAddress(a));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { view, calls };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('known clients: new clients need no store lookup once scanned; every stored client is still found', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'known-clients-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    // More than a page of the scan (4,096) and more keys than the first size (65,536 / 2 keys a lease x 2).
    store.write((w) => {
      for (let i = 0; i < 9_000; i++) w.putLease(bound(i));
    });
    const { view, calls } = counting(store);
    const book = new LeaseBook(view);
    // Written while the scan may be running.
    store.commit([bound(9_000)]);
    for (let i = 0; i < 100; i++) {
      await settle();
      const before = calls.uid;
      book.byUid(bound(50_000 + i).uid!);
      if (calls.uid === before) break; // answered without the store: the filter is complete
    }
    await settle();
    const u0 = calls.uid;
    const h0 = calls.hw;
    for (let i = 20_000; i < 20_200; i++) {
      assert.deepEqual(book.byUid(bound(i).uid!), []);
      assert.deepEqual(book.byHardware(1, bound(i).hardware!.address), []);
    }
    // A Bloom filter may say "maybe" for a few; most new clients cost no lookup.
    assert.ok(calls.uid - u0 < 10, `uid lookups for 200 new clients: ${calls.uid - u0}`);
    assert.ok(calls.hw - h0 < 10, `hardware lookups for 200 new clients: ${calls.hw - h0}`);
    for (const i of [0, 1, 4_095, 4_096, 8_999, 9_000]) {
      assert.deepEqual(book.byUid(bound(i).uid!).map((l) => l.address), [BASE + i], `uid of ${i}`);
      assert.deepEqual(book.byHardware(1, bound(i).hardware!.address).map((l) => l.address), [BASE + i], `hardware of ${i}`);
    }
    // The same octets under another hardware type, or as a uid, are other identities.
    assert.deepEqual(book.byHardware(6, bound(5).hardware!.address), []);
    assert.deepEqual(book.byUid(bound(5).hardware!.address), []);
    // A commit after the scan: found at once.
    store.commit([bound(30_000)]);
    assert.deepEqual(book.byUid(bound(30_000).uid!).map((l) => l.address), [BASE + 30_000]);
    assert.deepEqual(book.byHardware(1, bound(30_000).hardware!.address).map((l) => l.address), [BASE + 30_000]);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('never-used addresses of a range with built queues: no store lookup, recorded ones (committed later too) skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'known-clients-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    store.write((w) => {
      for (const i of [0, 1, 2, 5]) w.putLease(bound(i));
    });
    const { view, calls } = counting(store);
    const book = new LeaseBook(view);
    book.primeQueues(BASE, BASE + 99);
    const a0 = calls.addr;
    assert.equal(book.firstUnrecorded(BASE, BASE + 99), BASE + 3);
    store.commit([bound(3), bound(4)]); // by another writer than this book (failover, OMAPI)
    assert.equal(book.firstUnrecorded(BASE, BASE + 99), BASE + 6);
    assert.equal(book.isRecorded(BASE + 4), true);
    assert.equal(book.isRecorded(BASE + 7), false);
    assert.equal(calls.addr - a0, 0, 'no store lookup');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
