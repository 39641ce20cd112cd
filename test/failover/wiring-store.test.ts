/**
 * The failover store over a real SQLite lease store (src/server/failover-wiring.ts `failoverStoreFor`):
 * commits are written without SQLite's own fsync and resolve once a group fsync of the WAL has completed
 * (several commits share one); a read returns the lease as last committed, a private copy; after the store
 * closed, a commit fails (the engine turns that into BNDACK reject "database update failed").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { failoverStoreFor } from '../../src/server/failover-wiring.js';
import { asDeferredSyncStore, sharedWalSync } from '../../src/server/wal-sync.js';

const ip = (s: string): number => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

test('failover store: group-fsynced commits, reads of the last committed lease as private copies, commits fail after close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fo-wiring-'));
  try {
    writeFileSync(
      join(dir, 'd.conf'),
      'failover peer "fo" { primary; address 127.0.0.1; port 18700; peer address 127.0.0.2; peer port 18700; mclt 600; split 128; }\n' +
        'subnet 10.79.0.0 netmask 255.255.255.0 { pool { failover peer "fo"; range 10.79.0.10 10.79.0.50; } }\n',
    );
    const r = loadConfig(join(dir, 'd.conf'));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const store = openSqliteLeaseStore(join(dir, 'leases.sqlite'));
    const fs = failoverStoreFor(r.config, store, 'fo');
    const now = Math.floor(Date.now() / 1000);
    const leases = [10, 11, 12].map((n) => Object.assign(fs.get(ip(`10.79.0.${n}`))!, { bindingState: 'active' as const, nextBindingState: 'expired' as const, starts: now, ends: now + 600, tstp: now + 900, cltt: now }));
    // Three commits in one turn: each resolves (they may share one fsync).
    const done = await Promise.all(leases.map((l) => fs.commit([l])));
    assert.equal(done.length, 3);
    // What is read back is what was committed, and a private copy.
    const a = fs.get(ip('10.79.0.11'))!;
    assert.equal(a.bindingState, 'active');
    assert.equal(a.ends, now + 600);
    a.bindingState = 'free';
    assert.equal(fs.get(ip('10.79.0.11'))!.bindingState, 'active', 'changing a read lease does not change the next read');
    assert.equal(store.getByAddress(ip('10.79.0.11'))!.bindingState, 'active', 'stored in SQLite');
    // A later commit of the same address wins in reads.
    await fs.commit([Object.assign(fs.get(ip('10.79.0.11'))!, { bindingState: 'released' as const, ends: now + 5 })]);
    assert.equal(fs.get(ip('10.79.0.11'))!.bindingState, 'released');
    assert.equal(store.getByAddress(ip('10.79.0.11'))!.bindingState, 'released');
    // A never-used address reads as a fresh free lease.
    assert.equal(fs.get(ip('10.79.0.40'))!.bindingState, 'free');
    store.close();
    // Reopened from disk: every committed lease is there.
    const again = openSqliteLeaseStore(join(dir, 'leases.sqlite'));
    assert.deepEqual([10, 11, 12].map((n) => again.getByAddress(ip(`10.79.0.${n}`))!.bindingState), ['active', 'released', 'active']);
    again.close();
    // The closed store: a commit is refused, never reported as done.
    await assert.rejects(async () => fs.commit([leases[0]!]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('failover store: a commit nobody waits for (durable: false) is written and readable at once, starts no fsync, and is fsynced within 2 s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fo-wiring-'));
  try {
    writeFileSync(
      join(dir, 'd.conf'),
      'failover peer "fo" { primary; address 127.0.0.1; port 18701; peer address 127.0.0.2; peer port 18701; mclt 600; split 128; }\n' +
        'subnet 10.79.0.0 netmask 255.255.255.0 { pool { failover peer "fo"; range 10.79.0.10 10.79.0.50; } }\n',
    );
    const r = loadConfig(join(dir, 'd.conf'));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const store = openSqliteLeaseStore(join(dir, 'leases.sqlite'));
    const fs = failoverStoreFor(r.config, store, 'fo');
    await fs.commit([Object.assign(fs.get(ip('10.79.0.20'))!, { bindingState: 'backup' as const })]);
    const sync = sharedWalSync(asDeferredSyncStore(store)!);
    const before = sync.syncs;
    const now = Math.floor(Date.now() / 1000);
    const l = Object.assign(fs.get(ip('10.79.0.20'))!, { tsfp: now + 900, atsfp: now + 900 });
    assert.equal(fs.commit([l], { durable: false }), undefined, 'nothing to wait for');
    assert.equal(fs.get(ip('10.79.0.20'))!.atsfp, now + 900, 'read back at once');
    assert.equal(store.getByAddress(ip('10.79.0.20'))!.atsfp, now + 900, 'in SQLite at once');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(sync.syncs, before, 'no fsync started for it');
    await new Promise((res) => setTimeout(res, 2200));
    assert.ok(sync.syncs > before, 'fsynced by the 2 s timer');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
