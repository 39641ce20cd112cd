/**
 * PoolCounters (src/failover/pool-counters.ts) over a real SQLite lease store: the free/backup counts at start
 * (never-used addresses count as free, leases outside the pool's ranges do not count) and after writes and
 * deletions that move addresses between states. Every count is also checked against a scan of the store
 * itself, address by address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { emptyLease, type BindingState, type Lease } from '../../leases/lease.js';
import type { LeaseStore } from '../../leases/lease-store.js';
import { PoolCounters, type CountedRange } from '../../src/failover/pool-counters.js';

const ip = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

const RANGES: readonly CountedRange[] = [
  { first: ip('10.0.0.10'), last: ip('10.0.0.59') }, // 50 addresses
  { first: ip('10.0.1.0'), last: ip('10.0.1.19') }, // 20 addresses
];

function lease(address: number, state: BindingState): Lease {
  return { ...emptyLease(address), bindingState: state, nextBindingState: state };
}

/** The counts as the store's own records say, address by address. */
function scan(store: LeaseStore, ranges: readonly CountedRange[]): { free: number; backup: number } {
  let free = 0;
  let backup = 0;
  for (const r of ranges) {
    for (let a = r.first; a <= r.last; a++) {
      const s = store.getByAddress(a)?.bindingState ?? 'free';
      if (s === 'free') free++;
      else if (s === 'backup') backup++;
    }
  }
  return { free, backup };
}

function withStore(fn: (store: LeaseStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fo-pc-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    fn(store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Range 1: 10 active, 5 free, 8 backup, 2 expired (25 never used); range 2: 3 backup, 1 abandoned; 5 backup outside. */
function seed(store: LeaseStore): void {
  const a = RANGES[0]!.first;
  const b = RANGES[1]!.first;
  const leases: Lease[] = [];
  for (let i = 0; i < 10; i++) leases.push(lease(a + i, 'active'));
  for (let i = 10; i < 15; i++) leases.push(lease(a + i, 'free'));
  for (let i = 15; i < 23; i++) leases.push(lease(a + i, 'backup'));
  for (let i = 23; i < 25; i++) leases.push(lease(a + i, 'expired'));
  for (let i = 0; i < 3; i++) leases.push(lease(b + i, 'backup'));
  leases.push(lease(b + 3, 'abandoned'));
  for (let i = 0; i < 5; i++) leases.push(lease(ip('10.0.2.0') + i, 'backup'));
  store.commit(leases);
}

/** The same store without its optional address scan (the fallback that decodes leases). */
function withoutAddressScan(store: LeaseStore): LeaseStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'addresses') return undefined;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

for (const [name, view] of [
  ['address scan', (s: LeaseStore) => s],
  ['decoding fallback', withoutAddressScan],
] as const) {
  test(`pool counters at start and after writes (${name})`, () => {
    withStore((store) => {
      seed(store);
      const counters = new PoolCounters(RANGES, view(store));
      // 50 - 10 active - 8 backup - 2 expired = 30 free; 20 - 3 backup - 1 abandoned = 16 free.
      assert.deepEqual(counters.counts(), { free: 46, backup: 11 });
      assert.deepEqual(counters.counts(), scan(store, RANGES));

      const a = RANGES[0]!.first;
      const b = RANGES[1]!.first;
      const steps: [string, () => void, { free: number; backup: number }][] = [
        ['backup -> active', () => store.commit([lease(a + 15, 'active')]), { free: 46, backup: 10 }],
        ['free -> backup', () => store.commit([lease(a + 10, 'backup')]), { free: 45, backup: 11 }],
        ['never used -> active', () => store.commit([lease(a + 40, 'active')]), { free: 44, backup: 11 }],
        ['never used -> free (recorded)', () => store.commit([lease(a + 41, 'free')]), { free: 44, backup: 11 }],
        ['active -> free', () => store.commit([lease(a + 0, 'free')]), { free: 45, backup: 11 }],
        ['expired -> backup', () => store.commit([lease(a + 23, 'backup')]), { free: 45, backup: 12 }],
        ['backup deleted (never used again)', () => store.write((w) => w.deleteLease(b + 0)), { free: 46, backup: 11 }],
        ['active deleted', () => store.write((w) => w.deleteLease(a + 1)), { free: 47, backup: 11 }],
        ['free deleted', () => store.write((w) => w.deleteLease(a + 11)), { free: 47, backup: 11 }],
        ['outside the ranges', () => store.commit([lease(ip('10.0.2.0'), 'active'), lease(ip('10.0.2.50'), 'backup')]), { free: 47, backup: 11 }],
        [
          'one address twice in a transaction (backup -> active -> released)',
          () => store.commit([lease(b + 1, 'active'), lease(b + 1, 'released')]),
          { free: 47, backup: 10 },
        ],
        [
          'rolled back',
          () =>
            assert.throws(() =>
              store.write((w) => {
                w.putLease(lease(a + 2, 'backup'));
                throw new Error('abort');
              }),
            ),
          { free: 47, backup: 10 },
        ],
        ['abandoned -> free, last address of range 2', () => store.commit([lease(b + 3, 'free'), lease(b + 19, 'backup')]), { free: 47, backup: 11 }],
        [
          'backup deleted then written active in one transaction',
          () =>
            store.write((w) => {
              w.deleteLease(b + 2);
              w.putLease(lease(b + 2, 'active'));
            }),
          { free: 47, backup: 10 },
        ],
        [
          'active written backup then deleted in one transaction',
          () =>
            store.write((w) => {
              w.putLease(lease(a + 5, 'backup'));
              w.deleteLease(a + 5);
            }),
          { free: 48, backup: 10 },
        ],
      ];
      for (const [what, step, expected] of steps) {
        step();
        assert.deepEqual(counters.counts(), expected, what);
        assert.deepEqual(counters.counts(), scan(store, RANGES), `${what} (store scan)`);
      }
    });
  });
}

test('pool counters follow random writes and deletions (fast-check)', () => {
  const small: readonly CountedRange[] = [
    { first: ip('192.168.5.0'), last: ip('192.168.5.15') },
    { first: ip('192.168.5.32'), last: ip('192.168.5.39') },
  ];
  const states: BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];
  const op = fc.record({
    address: fc.integer({ min: ip('192.168.5.0'), max: ip('192.168.5.47') }),
    state: fc.option(fc.constantFrom(...states), { nil: undefined }), // undefined = delete the record
  });
  withStore((store) => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 15 }), (initial, batches) => {
        store.write((w) => {
          for (let a = ip('192.168.5.0'); a <= ip('192.168.5.47'); a++) w.deleteLease(a);
          for (const o of initial) if (o.state !== undefined) w.putLease(lease(o.address, o.state));
        });
        const counters = new PoolCounters(small, store);
        assert.deepEqual(counters.counts(), scan(store, small));
        for (const batch of batches) {
          store.write((w) => {
            for (const o of batch) {
              if (o.state === undefined) w.deleteLease(o.address);
              else w.putLease(lease(o.address, o.state));
            }
          });
          assert.deepEqual(counters.counts(), scan(store, small));
        }
      }),
      { numRuns: 100 },
    );
  });
});
