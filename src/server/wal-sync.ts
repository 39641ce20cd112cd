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
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LeaseStore, LeaseStoreWriter } from '../../leases/lease-store.js';

/** A lease store that can commit without its own fsync (leases/sqlite-lease-store.ts `writeWithoutSync`). */
export interface DeferredSyncStore extends LeaseStore {
  /** One transaction, written to the WAL (visible to reads at once) but not fsync'd: see {@link WalSync}. */
  writeWithoutSync(fn: (w: LeaseStoreWriter) => void): void;
  readonly walPath: string;
  /** False with dont-use-fsync: nothing to make durable then. */
  readonly fsyncsCommits: boolean;
  /** SQLite's wal_autocheckpoint of the store's connection (see {@link WalSync.startCheckpointer}). */
  setWalAutoCheckpoint?(pages: number): void;
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

/** An fsync on the thread pool and the callers it covers. */
type InflightSync = { batch: DurableCallback[]; done: boolean; error: Error | null };

/**
 * fsyncs of a SQLite WAL file, one at a time (or {@link setPipelineDepth} at a time); callers wait for the
 * first fsync that starts after their commit; callbacks in call order.
 */
export class WalSync {
  private fd: number;
  private inflight: InflightSync[] = [];
  private depth = 1;
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

  /** Number of callers waiting (each running fsync counted once). */
  get pending(): number {
    return this.waiting.length + this.inflight.length;
  }

  /** Whether an fsync started now would run at once (fewer than the pipeline depth in flight, none queued). */
  get canStartNow(): boolean {
    return this.waiting.length === 0 && this.inflight.length < this.depth;
  }

  /**
   * How many fsyncs may run at once (default 1). With 2, a commit made while an fsync runs gets its own fsync
   * at once instead of waiting for the running one to end first: its ACKs wait about one fsync instead of up
   * to two. Callbacks still come in call order (a later fsync that ends first waits for the earlier ones).
   */
  setPipelineDepth(depth: number): void {
    this.depth = Math.max(1, Math.floor(depth));
  }

  private get running(): boolean {
    return this.inflight.length > 0;
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
    if (this.inflight.length < this.depth) this.start();
  }

  private start(): void {
    const sync: InflightSync = { batch: this.waiting, done: false, error: null };
    this.waiting = [];
    this.inflight.push(sync);
    fsync(this.fd, (err) => {
      this.syncs++;
      sync.done = true;
      sync.error = err === null ? null : new Error(`fsync ${this.walPath}: ${err.message}`);
      // in call order: an fsync that ended before an earlier one waits for it
      while (this.inflight.length > 0 && this.inflight[0]!.done) {
        const first = this.inflight.shift()!;
        for (const cb of first.batch) cb(first.error);
      }
      if (this.waiting.length > 0 && this.fd >= 0 && this.inflight.length < this.depth) this.start();
      else if (this.closing !== undefined && this.inflight.length === 0) this.closing();
      if (err === null) this.maybeCheckpoint();
    });
  }

  /** Waits for the running fsync (and those queued behind it), then closes the descriptor. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.checkpointer?.stop();
      this.checkpointer = undefined;
      if (this.fd < 0) return;
      if (this.running) await new Promise<void>((r) => (this.closing = r));
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
    })();
    return this.closed;
  }

  private checkpointer: WalCheckpointer | undefined;
  private syncsAtCheckpoint = 0;
  private lastCheckpoint = 0;

  /**
   * Checkpoints the WAL from a worker thread from now on (its own SQLite connection, PASSIVE: never blocks
   * the writer), after every {@link CHECKPOINT_EVERY_SYNCS} fsyncs or {@link CHECKPOINT_EVERY_MS} with any.
   * SQLite's automatic checkpoint runs inside the commit that crosses 1000 pages of WAL: on the event loop, a
   * copy of ~4 MB into the database and two fsyncs (5-10 ms on a quiet disk, tens of ms on a busy one),
   * every second or two at 1000 DORA/s. The caller raises the store connection's wal_autocheckpoint to a
   * backstop (see {@link WAL_AUTOCHECKPOINT_BACKSTOP}); `onFailure` is called if the worker cannot run (the
   * caller then restores SQLite's default). Returns false when it cannot start.
   */
  startCheckpointer(databasePath: string, onFailure: (error: Error) => void): boolean {
    if (this.checkpointer !== undefined || this.fd < 0) return this.checkpointer !== undefined;
    try {
      this.checkpointer = new WalCheckpointer(databasePath, (e) => {
        this.checkpointer = undefined;
        onFailure(e);
      });
      this.lastCheckpoint = Date.now();
      return true;
    } catch (e) {
      onFailure(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  }

  /** Checkpoints the worker completed (0 without {@link startCheckpointer}). */
  get checkpoints(): number {
    return this.checkpointer?.completed ?? 0;
  }

  /** A promise of the next checkpoint the worker completes (tests); rejects without a checkpointer. */
  checkpointNow(): Promise<void> {
    const c = this.checkpointer;
    if (c === undefined) return Promise.reject(new Error('no checkpointer'));
    this.syncsAtCheckpoint = this.syncs;
    this.lastCheckpoint = Date.now();
    return c.request();
  }

  /** After an fsync: asks the worker for a checkpoint when enough has been committed since the last. */
  private maybeCheckpoint(): void {
    const c = this.checkpointer;
    if (c === undefined || c.busy) return;
    const n = this.syncs - this.syncsAtCheckpoint;
    if (n >= CHECKPOINT_EVERY_SYNCS || (n > 0 && Date.now() - this.lastCheckpoint >= CHECKPOINT_EVERY_MS)) {
      this.syncsAtCheckpoint = this.syncs;
      this.lastCheckpoint = Date.now();
      void c.request().catch(() => undefined);
    }
  }
}

/** fsyncs (group commits) between two checkpoint requests to the worker. */
export const CHECKPOINT_EVERY_SYNCS = 64;
/** ... or this long, when there was any commit. */
export const CHECKPOINT_EVERY_MS = 1000;
/**
 * wal_autocheckpoint of the store's connection while the worker checkpoints: only if the worker falls far
 * behind does a commit checkpoint itself (SQLite's default is 1000 pages).
 */
export const WAL_AUTOCHECKPOINT_BACKSTOP = 16384;

/**
 * The worker's code (CommonJS, run with `eval`): its own better-sqlite3 connection, one PASSIVE checkpoint a
 * request. PASSIVE copies what it can without waiting for (or blocking) the server's writes; synchronous=FULL
 * so that the WAL is synced before the copy and the database after it, as SQLite's own checkpoint does.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db, checkpoint;
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
  db.pragma('synchronous = FULL');
  checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
} catch (e) {
  parentPort.postMessage({ fatal: String((e && e.message) || e) });
  process.exit(1); // ends this thread only
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    checkpoint.get();
    parentPort.postMessage({ done: true });
  } catch (e) {
    parentPort.postMessage({ done: true, error: String((e && e.message) || e) });
  }
});
parentPort.postMessage({ ready: true });
`;

type WorkerReply = { ready?: true; done?: true; closed?: true; error?: string; fatal?: string };

/** The checkpoint worker of {@link WalSync.startCheckpointer}: one request at a time. */
class WalCheckpointer {
  private readonly worker: Worker;
  private waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private closedWaiter: (() => void) | undefined;
  private failed = false;
  completed = 0;

  constructor(databasePath: string, onFailure: (error: Error) => void) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: databasePath } });
    // never keeps the process alive; a crash of the worker only ends the checkpointing
    this.worker.unref();
    const fail = (e: Error): void => {
      if (this.failed) return;
      this.failed = true;
      for (const w of this.waiting.splice(0)) w.reject(e);
      this.closedWaiter?.();
      onFailure(e);
    };
    this.worker.on('message', (m: WorkerReply) => {
      if (m.done === true) {
        const w = this.waiting.shift();
        if (m.error !== undefined) w?.reject(new Error(m.error));
        else {
          this.completed++;
          w?.resolve();
        }
      } else if (m.closed === true) this.closedWaiter?.();
      else if (m.fatal !== undefined) fail(new Error(`WAL checkpoint worker: ${m.fatal}`));
    });
    // an error thrown in the worker arrives serialised (a SqliteError may come without its class or message)
    this.worker.on('error', (e: unknown) => {
      const m = typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : '';
      fail(new Error(`WAL checkpoint worker: ${m || String(e)}`));
    });
    this.worker.on('exit', (code) => {
      this.closedWaiter?.();
      if (this.closedWaiter === undefined) fail(new Error(`WAL checkpoint worker exited (${code})`));
    });
  }

  /** True while a checkpoint is running. */
  get busy(): boolean {
    return this.waiting.length > 0;
  }

  request(): Promise<void> {
    if (this.failed) return Promise.reject(new Error('WAL checkpoint worker failed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage('check');
    });
  }

  /** Closes the worker's connection (after a running checkpoint) and ends the thread. */
  async stop(): Promise<void> {
    if (this.failed) return;
    const closed = new Promise<void>((r) => (this.closedWaiter = r));
    this.worker.postMessage('close');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }
}
