/**
 * The server's off-loop durability (src/server/wal-sync.ts + SqliteLeaseStore.writeWithoutSync): a turn's
 * commit is visible at once, its ACKs leave only after an fsync of the WAL that started after the commit,
 * and a store that cannot defer (or `deferredSync: false`) commits with its own fsync as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sharedWalSync, WalSync } from '../../src/server/wal-sync.js';
import { startDhcpServer } from '../../src/server/dhcp-server.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { FakeTransport } from '../../src/net/fake-transport.js';
import { createMemoryLogger } from '../../src/log/logger.js';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket } from '../../src/wire/encode.js';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DhcpOption, messageType } from '../../src/wire/packet.js';
import type { OutboundDatagram } from '../../src/net/transport.js';
import { ETH0, FakeClock, ip, request, seedConfig, u32 } from './fixtures.js';
import { emptyLease, type Lease } from '../../leases/lease.js';

function makeLease(address: number): Lease {
  return { ...emptyLease(address), starts: 1_800_000_000, ends: 1_800_003_600, bindingState: 'active', nextBindingState: 'free' };
}

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wal-sync-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('writeWithoutSync commits (visible to a second connection) with synchronous restored to FULL', async () => {
  const { dir, cleanup } = tempDir();
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  try {
    assert.equal(store.fsyncsCommits, true);
    assert.ok(existsSync(store.walPath), 'WAL exists once the store is open');
    store.writeWithoutSync((w) => w.putLease(makeLease(ip('10.0.0.5'))));
    assert.equal(store.getByAddress(ip('10.0.0.5'))?.bindingState, 'active');
    const other = new Database(store.path, { readonly: true });
    try {
      const n = other.prepare('SELECT count(*) AS n FROM lease4').get() as { n: number };
      assert.equal(n.n, 1);
    } finally {
      other.close();
    }
    // later ordinary commits still fsync (synchronous back to FULL = 2)
    const sync = (store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
    assert.equal(sync, 2);
  } finally {
    store.close();
    cleanup();
  }
});

test('WalSync: callbacks in commit order; calls made while an fsync runs share the next one; close waits', async () => {
  const { dir, cleanup } = tempDir();
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  const ws = new WalSync(store.walPath);
  try {
    const order: string[] = [];
    const done = (name: string) => new Promise<void>((resolve, reject) => ws.afterDurable((e) => (e ? reject(e) : (order.push(name), resolve()))));
    store.writeWithoutSync((w) => w.putLease(makeLease(ip('10.0.0.1'))));
    const a = done('a'); // starts fsync #1
    store.writeWithoutSync((w) => w.putLease(makeLease(ip('10.0.0.2'))));
    const b = done('b'); // waits for fsync #2 (its commit came after #1 started)
    const c = done('c'); // same batch as b
    assert.equal(ws.pending, 3);
    await Promise.all([a, b, c]);
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(ws.syncs, 2, 'b and c shared one fsync');
    const d = done('d');
    await ws.close();
    await d;
    assert.equal(ws.syncs, 3);
    await new Promise<void>((resolve) => ws.afterDurable((e) => (assert.match(String(e?.message), /closed/), resolve())));
  } finally {
    await ws.close();
    store.close();
    cleanup();
  }
});

test('sharedWalSync: one WalSync per store (the server and failover share one fsync stream); a closed one is replaced; closed with the store', async () => {
  const { dir, cleanup } = tempDir();
  const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
  const other = openSqliteLeaseStore(join(dir, 'm.sqlite'));
  try {
    const a = sharedWalSync(store);
    assert.equal(sharedWalSync(store), a, 'the same store gets the same WalSync');
    assert.notEqual(sharedWalSync(other), a, 'another store gets its own');
    store.writeWithoutSync((w) => w.putLease(makeLease(ip('10.0.0.7'))));
    await a.durable();
    assert.ok(a.syncs >= 1, 'durable() waited for an fsync');
    await a.close();
    assert.equal(a.isClosed, true);
    await assert.rejects(a.durable(), /lease database closed/, 'a closed WalSync refuses new commits');
    const b = sharedWalSync(store);
    assert.notEqual(b, a, 'a server started again on the same store gets a new WalSync');
    await b.durable();
    store.close();
    assert.equal(b.isClosed, true, 'closed with the store');
    await b.close();
  } finally {
    other.close();
    cleanup();
  }
});

test('WalSync refuses a missing WAL (the server then fsyncs on the loop)', () => {
  const { dir, cleanup } = tempDir();
  try {
    assert.throws(() => new WalSync(join(dir, 'none.sqlite-wal')), /ENOENT/);
  } finally {
    cleanup();
  }
});

/** A transport that notes the server's fsync count and the lease's stored state at each send. */
class WatchingTransport extends FakeTransport {
  readonly seen: Array<{ type: number; walSyncs: number; commits: number }> = [];
  watch: (() => { walSyncs: number; commits: number }) | undefined;
  override async send(d: OutboundDatagram): Promise<void> {
    const p = decodePacket(d.data);
    const s = this.watch?.() ?? { walSyncs: -1, commits: -1 };
    this.seen.push({ type: p.ok ? (messageType(p.packet) ?? 0) : 0, ...s });
    return super.send(d);
  }
}

for (const deferred of [true, false]) {
  test(`DORA with deferredSync ${deferred}: the ACK leaves after the commit ${deferred ? 'and a WAL fsync off the loop' : 'with its own fsync'}`, async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteLeaseStore(join(dir, 'l.sqlite'));
    const transport = new WatchingTransport({ interfaces: [ETH0] });
    const server = await startDhcpServer({
      config: seedConfig(),
      logger: createMemoryLogger(),
      leaseStore: store,
      transport,
      clock: new FakeClock(),
      pingCheck: { inUse: async () => false },
      deferredSync: deferred,
    });
    transport.watch = () => ({ walSyncs: server.stats.walSyncs, commits: server.stats.commits });
    try {
      const macs = ['52:54:00:aa:00:01', '52:54:00:aa:00:02', '52:54:00:aa:00:03'];
      for (const m of macs) transport.deliver(encodePacket(request(DHCPDISCOVER, m, { xid: 1 })));
      await server.idle();
      const offers = transport.sent.map((d) => decodePacket(d.data)).filter((p) => p.ok && messageType(p.packet) === DHCPOFFER);
      assert.equal(offers.length, 3);
      // three REQUESTs in three separate turns: later turns are decided while earlier fsyncs run
      for (const [i, m] of macs.entries()) {
        const o = offers[i]!;
        assert.ok(o.ok);
        transport.deliver(encodePacket(request(DHCPREQUEST, m, { xid: 2, options: [[DhcpOption.REQUESTED_ADDRESS, u32(o.packet.yiaddr)], [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))]] })));
        await new Promise((r) => setImmediate(r));
      }
      await server.idle();
      const acks = transport.seen.filter((s) => s.type === DHCPACK);
      assert.equal(acks.length, 3);
      for (const a of acks) {
        assert.ok(a.commits >= 1, `ACK sent after ${a.commits} durable commits`);
        if (deferred) assert.ok(a.walSyncs >= 1, 'an fsync of the WAL completed before the ACK');
        else assert.equal(a.walSyncs, 0);
      }
      for (const o of offers) assert.ok(o.ok && store.getByAddress(o.packet.yiaddr)?.bindingState === 'active');
    } finally {
      await server.stop();
      store.close();
      cleanup();
    }
  });
}
