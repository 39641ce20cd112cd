/**
 * The WAL checkpoint worker (src/server/wal-sync.ts startCheckpointer): with the store connection's automatic
 * checkpoint off, the worker's PASSIVE checkpoints copy committed pages into the database file (they no longer
 * run inside a commit on the event loop), the data stays readable and complete, and the worker stops with
 * the WalSync. Real SQLite files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CHECKPOINT_EVERY_SYNCS, WalSync } from '../../src/server/wal-sync.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { emptyLease, type Lease } from '../../leases/lease.js';

function lease(address: number): Lease {
  return { ...emptyLease(address), starts: 1_800_000_000, ends: 1_800_003_600, bindingState: 'active', nextBindingState: 'free' };
}

test('checkpoint worker: committed pages reach the database file without a checkpoint in the commits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wal-ckpt-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  const ws = new WalSync(store.walPath);
  try {
    store.setWalAutoCheckpoint(0); // no checkpoint inside a commit at all: only the worker's
    const failures: Error[] = [];
    assert.equal(ws.startCheckpointer(store.path, (e) => failures.push(e)), true);
    const before = statSync(store.path).size;
    // group commits as the server makes them: a transaction, then an fsync of the WAL
    let address = 0x0a000001;
    for (let i = 0; i < CHECKPOINT_EVERY_SYNCS + 8; i++) {
      store.writeWithoutSync((w) => {
        for (let k = 0; k < 20; k++) w.putLease(lease(address++));
      });
      await ws.durable();
    }
    // the worker was asked after CHECKPOINT_EVERY_SYNCS fsyncs; one more, explicitly, to be sure it is done
    await ws.checkpointNow();
    assert.ok(ws.checkpoints >= 1, `checkpoints ${ws.checkpoints}`);
    assert.deepEqual(failures, []);
    const after = statSync(store.path).size;
    assert.ok(after > before + 100_000, `database file ${before} -> ${after} bytes: pages were copied out of the WAL`);
    // a reader of the database file alone (the WAL is checkpointed) sees every row
    const n = address - 0x0a000001;
    assert.equal(store.leaseCount(), n);
    const other = new Database(store.path, { readonly: true });
    try {
      const row = other.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { busy: number; log: number; checkpointed: number };
      assert.equal(row.checkpointed, row.log, 'nothing left to copy');
      assert.equal((other.prepare('SELECT count(*) AS n FROM lease4').get() as { n: number }).n, n);
    } finally {
      other.close();
    }
  } finally {
    await ws.close();
    assert.equal(ws.checkpoints, 0, 'the worker is gone once the WalSync is closed');
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint worker: a database it cannot open reports a failure instead of throwing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wal-ckpt-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  const ws = new WalSync(store.walPath);
  try {
    const failed = new Promise<Error>((resolve) => ws.startCheckpointer(join(dir, 'missing.sqlite'), resolve));
    const e = await failed;
    assert.match(e.message, /unable to open|does not exist|missing/i);
    await assert.rejects(ws.checkpointNow(), /no checkpointer/);
  } finally {
    await ws.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fsync pipeline: depth 2 starts a second fsync at once, callbacks stay in call order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wal-pipe-'));
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    for (const depth of [1, 2]) {
      const ws = new WalSync(store.walPath);
      ws.setPipelineDepth(depth);
      const order: string[] = [];
      const all = ['a', 'b', 'c'].map(
        (name) =>
          new Promise<void>((resolve, reject) => {
            store.writeWithoutSync((w) => w.putLease(lease(0x0a000100 + name.charCodeAt(0) + depth * 8)));
            ws.afterDurable((e) => {
              order.push(name);
              if (e === null) resolve();
              else reject(e);
            });
          }),
      );
      // depth 1: a's fsync runs, b and c wait for the next one together (pending 1 + 2); depth 2: a's and
      // b's run, c waits (2 + 1); the fsync count at the end tells them apart
      assert.equal(ws.pending, 3);
      assert.equal(ws.canStartNow, false);
      await Promise.all(all);
      assert.deepEqual(order, ['a', 'b', 'c']);
      assert.equal(ws.syncs, depth === 1 ? 2 : 3, `fsyncs at depth ${depth}`);
      assert.equal(ws.canStartNow, true);
      await ws.close();
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
