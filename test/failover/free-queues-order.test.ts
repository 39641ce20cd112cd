/**
 * src/engine/free-queues.ts under a failover primary's load (changed by the failover engineer, see
 * bench/results/FAILOVER-SPEED-3.md): queues of thousands of leases (large enough for the side array of
 * `SortedQueue`), random offers, ended offers and commits on a real SQLite store; at every check each
 * queue must list exactly the inactive leases of its group in ISC's order (ends or the live offer's end,
 * then address mod 100003, then address), as a naive sort of the store gives them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { emptyLease, type BindingState } from '../../leases/lease.js';
import { FreeQueues, queueGroup } from '../../src/engine/free-queues.js';

test('free queues keep ISC order through offers, ended offers and commits (large queues)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fo-fq-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    const first = 0x0a000001;
    const N = 14_000;
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const states: BindingState[] = ['free', 'backup', 'active', 'expired', 'abandoned'];
    const leases = [];
    for (let i = 0; i < N; i++) {
      const l = emptyLease(first + i);
      l.bindingState = states[Math.floor(rnd() * 2.4)]!; // mostly free/backup: groups of ~5,800
      l.ends = rnd() < 0.5 ? 0 : 1_700_000_000 + Math.floor(rnd() * 1000);
      leases.push(l);
    }
    store.commit(leases);
    const fq = new FreeQueues(store);
    const offered = new Map<number, number>();
    const naive = (g: string): number[] => {
      const out: Array<{ a: number; k: number; h: number }> = [];
      for (const l of store.leases({ from: first, to: first + N - 1 })) {
        if (queueGroup(l.bindingState) !== g) continue;
        out.push({ a: l.address, k: offered.get(l.address) ?? (l.ends === null ? 0xffffffff : l.ends), h: l.address % 100003 });
      }
      out.sort((p, q) => p.k - q.k || p.h - q.h || p.a - q.a);
      return out.map((o) => o.a);
    };
    let checks = 0;
    for (let step = 0; step < 8000; step++) {
      const a = first + Math.floor(rnd() * N);
      const r = rnd();
      if (r < 0.3) {
        const until = 1_700_000_500 + Math.floor(rnd() * 2000);
        offered.set(a, until);
        fq.setOffered(a, until);
      } else if (r < 0.55) {
        offered.delete(a);
        fq.setOffered(a, undefined);
      } else {
        const l = store.getByAddress(a)!;
        l.bindingState = states[Math.floor(rnd() * states.length)]!;
        l.ends = 1_700_000_000 + Math.floor(rnd() * 3000);
        store.commit([l]);
      }
      if (step % 1000 === 999) {
        const q = fq.queues(first, first + N - 1);
        for (const g of ['free', 'backup', 'other', 'abandoned'] as const) {
          assert.deepEqual([...q[g]].map((e) => e.address), naive(g), `group ${g} after step ${step}`);
          checks++;
        }
      }
    }
    assert.equal(checks, 32);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
