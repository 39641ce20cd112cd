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

/** Called once the commits made before {@link WalSync.afterDurable} are on disk (or the fsync failed). */
export type DurableCallback = (error: Error | null) => void;

/** One fsync at a time of a SQLite WAL file; callers wait for the first fsync that starts after their commit. */
export class WalSync {
  private fd: number;
  private running = false;
  private waiting: DurableCallback[] = [];
  private closing: (() => void) | undefined;
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
  async close(): Promise<void> {
    if (this.fd < 0) return;
    if (this.running) await new Promise<void>((r) => (this.closing = r));
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
