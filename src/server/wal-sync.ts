/**
 * Durability of the server's group commits off the event loop.
 *
 * better-sqlite3 is synchronous: a COMMIT with synchronous=FULL blocks the event loop for the WAL's fsync
 * (1-30 ms on a shared disk), and during it no DISCOVER can be answered and no next turn decided. So the
 * server commits each turn with synchronous=NORMAL (`SqliteLeaseStore.writeWithoutSync`: the WAL frames are
 * written, and visible to the server's own reads at once) and then fsyncs the WAL file itself on libuv's
 * thread pool; the turn's ACKs go out only when that fsync has completed (RFC 2131 §4.3.1, ISC: the lease is
 * on disk before the ACK). fsync(2) flushes the file, whichever descriptor wrote it, so one descriptor of our
 * own on the `-wal` file is enough.
 *
 * Turns committed while an fsync runs wait for the next one, which then covers all of them: a group commit
 * whose size follows the disk's latency. Completion is in commit order.
 *
 * @module
 */
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LeaseStore, LeaseStoreWriter } from '../../leases/lease-store.js';

/** A lease store that can commit without its own fsync (leases/sqlite-lease-store.ts `writeWithoutSync`). */
export interface DeferredSyncStore extends LeaseStore {
  /** One transaction, written to the WAL (visible to reads at once) but not fsync'd: see {@link WalSync}. */
  writeWithoutSync(fn: (w: LeaseStoreWriter) => void): void;
  readonly walPath: string;
  /** False with dont-use-fsync: nothing to make durable then. */
  readonly fsyncsCommits: boolean;
}

/** `store` as a {@link DeferredSyncStore} when it is one (whether or not it fsyncs its commits). */
export function asDeferredSyncStore(store: LeaseStore): DeferredSyncStore | undefined {
  const d = store as Partial<DeferredSyncStore>;
  return typeof d.writeWithoutSync === 'function' && typeof d.walPath === 'string' && typeof d.fsyncsCommits === 'boolean'
    ? (store as DeferredSyncStore)
    : undefined;
}

const perStore = new WeakMap<LeaseStore, WalSync>();

/**
 * The one {@link WalSync} of a store: the DHCP server's turns and the failover relationships' commits share
 * it, so one fsync of the WAL covers both (two descriptors would fsync the same file twice). Closed with the
 * store at the latest (a server that stops closes it first, after its failover relationships have stopped;
 * the next user of the store gets a new one). Throws when the WAL cannot be opened (not in WAL mode).
 */
export function sharedWalSync(store: DeferredSyncStore): WalSync {
  let sync = perStore.get(store);
  if (sync === undefined || sync.isClosed) {
    const created = new WalSync(store.walPath);
    store.onClose(() => void created.close());
    perStore.set(store, created);
    sync = created;
  }
  return sync;
}

/** Called once the commits made before {@link WalSync.afterDurable} are on disk (or the fsync failed). */
export type DurableCallback = (error: Error | null) => void;

/** One fsync at a time of a SQLite WAL file; callers wait for the first fsync that starts after their commit. */
export class WalSync {
  private fd: number;
  private running = false;
  private waiting: DurableCallback[] = [];
  private closing: (() => void) | undefined;
  private closed: Promise<void> | undefined;

  /** Whether {@link close} has been called. */
  get isClosed(): boolean {
    return this.closed !== undefined;
  }
  /** fsyncs completed (for tests and stats). */
  syncs = 0;

  /**
   * Opens `walPath` (it must exist: SQLite creates it when a WAL-mode database is opened) and fsyncs its
   * directory once, so that the WAL's directory entry is durable too (SQLite's FULL mode does that at its first
   * sync of the file; with this class SQLite never syncs the file itself between checkpoints).
   */
  constructor(readonly walPath: string) {
    this.fd = openSync(walPath, 'r');
    try {
      const dir = openSync(dirname(walPath), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
      fsyncSync(this.fd);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  /** Number of callers waiting (running fsync included). */
  get pending(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /** A promise of {@link afterDurable}. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => this.afterDurable((e) => (e === null ? resolve() : reject(e))));
  }

  /** Calls `done` once an fsync of the WAL that started after this call has completed. */
  afterDurable(done: DurableCallback): void {
    if (this.fd < 0) {
      done(new Error('lease database closed'));
      return;
    }
    this.waiting.push(done);
    if (!this.running) this.start();
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    fsync(this.fd, (err) => {
      this.running = false;
      this.syncs++;
      const error = err === null ? null : new Error(`fsync ${this.walPath}: ${err.message}`);
      for (const cb of batch) cb(error);
      if (this.waiting.length > 0 && this.fd >= 0) this.start();
      else if (this.closing !== undefined) this.closing();
    });
  }

  /** Waits for the running fsync (and those queued behind it), then closes the descriptor. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.fd < 0) return;
      if (this.running) await new Promise<void>((r) => (this.closing = r));
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
    })();
    return this.closed;
  }
}
