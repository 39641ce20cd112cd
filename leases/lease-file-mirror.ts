/**
 * Keeps `-lf FILE` current as an ISC-format view of the lease database while the server runs, so that
 * dhcpd-pools, scripts that parse dhcpd.leases and `dhcpd -T` keep working against it.
 *
 * It works the way ISC maintains dhcpd.leases (server/db.c): every committed change is appended as records
 * (a reader takes the last record for an address, as ISC's own reader does), and the file is rewritten
 * whole when the appended records outnumber the records of the last rewrite (or after `rewriteEveryMs`,
 * ISC's hourly LEASE_REWRITE_PERIOD). Appends are batched: they reach the file within `debounceMs`
 * (default 1 s) of the commit.
 *
 * Unlike ISC, the file is not rewritten at every start: the database records the file's size, mtime and
 * hash as we last wrote it (leases/lease-file-fingerprint.ts), and a file that is still as we wrote it
 * only gets appended to. When it must be rewritten (first start, a file we do not know), the rewrite runs
 * in slices of ~20 ms between event-loop turns, to a temporary file renamed into place, so a 1,000,000-lease
 * file (~290 MB) neither delays start-up nor stops the server answering; changes committed meanwhile are
 * appended after the rename. At close, pending records are appended (a whole rewrite only when one is
 * owed, e.g. a deletion, or a rewrite that was cut short).
 *
 * The database stays the source of truth while running: the file is never read back then (an edit made
 * while the server is stopped is read at the next start, by leases/commands.ts openServerLeaseStore).
 *
 * @module
 */
import { appendFileSync, closeSync, fsync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { CommitInfo, LeaseStore } from './lease-store.js';
import {
  formatFailoverStateRecord,
  formatHostRecord,
  formatLease,
  leaseFileParts,
  storeContents,
  writeLeaseFile,
  type LeaseFileFormatOptions,
} from './isc-lease-file.js';
import { readFingerprint, statFile, writeFingerprint, type FingerprintStore, type LeaseFileFingerprint } from './lease-file-fingerprint.js';

export interface LeaseFileMirrorOptions {
  /** Longest delay between a commit and its records reaching the file (ms). Default 1000. */
  debounceMs?: number;
  /** Rewrite the whole file at least this often while changes are being appended (ms). Default 1 h. */
  rewriteEveryMs?: number;
  /** Longest run of a background rewrite before it yields to the event loop (ms). Default 20. */
  sliceMs?: number;
  format?: LeaseFileFormatOptions;
  /** Called when writing fails (the server logs it; the next change retries with a whole rewrite). */
  onError?: (e: unknown) => void;
}

/** What the mirror starts from (openServerLeaseStore checks the file against the database first). */
export interface LeaseFileMirrorStart {
  /**
   * The file is as the database's fingerprint says we wrote it: append to it, no rewrite. Otherwise the
   * first flush rewrites it.
   */
  known: boolean;
  /** The known file holds everything in the database (clean shutdown); otherwise the first flush rewrites it. */
  clean?: boolean;
}

interface BackgroundRewrite {
  fd: number;
  tmp: string;
  parts: Iterator<string>;
  hash: Hash;
  bytes: number;
  records: number;
  buf: Buffer;
  used: number;
  /** An fsync of `fd` is in flight (the descriptor must not be closed under it). */
  syncing: boolean;
}

/** Mirrors a {@link LeaseStore} into an ISC dhcpd.leases file. */
export class LeaseFileMirror {
  private timer: NodeJS.Timeout | null = null;
  private pending: string[] = [];
  private pendingRecords = 0;
  private needRewrite = false;
  private readonly unsubscribe: () => void;
  private closed = false;
  private recordsAtRewrite = 0;
  private appendedSinceRewrite = 0;
  private lastRewrite = Date.now();
  /** The file is as we wrote it (appends allowed). */
  private known = false;
  /** Running SHA-256 of the file's bytes, when known (after a rewrite or import in this process). */
  private hash: Hash | null = null;
  private size = 0;
  private background: BackgroundRewrite | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly fingerprints: FingerprintStore | null;
  /** Whole-file rewrites done (for tests and the status log). */
  writes = 0;
  /** Append batches written. */
  appends = 0;

  constructor(
    private readonly store: LeaseStore,
    readonly path: string,
    private readonly options: LeaseFileMirrorOptions = {},
    start: LeaseFileMirrorStart = { known: false },
  ) {
    const fs = store as Partial<FingerprintStore>;
    this.fingerprints = typeof fs.getMetaValue === 'function' && typeof fs.setMetaValue === 'function' ? (fs as FingerprintStore) : null;
    if (this.fingerprints) {
      const fp = readFingerprint(this.fingerprints);
      const st = statFile(path);
      if (start.known && fp !== null && st !== null) {
        this.known = true;
        this.size = st.size;
        this.recordsAtRewrite = fp.records;
        this.appendedSinceRewrite = fp.appended;
        this.needRewrite = start.clean !== true;
      }
      if (fp !== null) {
        // Running: until close says otherwise, the database may hold changes the file lacks (also when the
        // file was just imported: commits may come before the first write of the file).
        try {
          writeFingerprint(this.fingerprints, { ...fp, clean: false });
        } catch (e) {
          // e.g. a full disk: the server still starts; the next write of the file retries
          this.needRewrite = true;
          options.onError?.(e);
        }
      }
    }
    this.unsubscribe = store.onCommit((info) => this.changed(info));
  }

  /** True while a background rewrite is in progress. */
  get rewriting(): boolean {
    return this.background !== null;
  }

  /** Resolves when no background rewrite is in progress or scheduled by {@link start}. */
  idle(): Promise<void> {
    if (this.background === null && this.startTimer === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startTimer: NodeJS.Timeout | null = null;

  /**
   * Writes what is owed at start (a rewrite of a file we do not know, or after a crash) `delayMs` from now:
   * not during the server's own start-up, which it would slow down, but within seconds.
   */
  start(delayMs = 2000): void {
    if (this.closed || this.startTimer !== null) return;
    this.startTimer = setTimeout(() => {
      this.startTimer = null;
      this.flush();
      this.settle();
    }, delayMs);
    // Not unref'd: a process that opened the store either closes it (which clears this) or should get
    // its file written.
  }

  /** Takes a commit's changes: records to append, or a whole rewrite when they cannot be appended. */
  changed(info?: CommitInfo): void {
    if (this.closed) return;
    if (!info || info.deletedLeases.length > 0 || info.otherChanges) {
      // A deletion (or a class/group/meta change) cannot be expressed by appending a record.
      this.needRewrite = true;
    } else {
      const f = this.options.format;
      for (const h of info.hosts) this.pending.push(formatHostRecord(h));
      for (const s of info.failoverStates) this.pending.push(formatFailoverStateRecord(s, f));
      for (const l of info.leases) this.pending.push(formatLease(l, f));
      this.pendingRecords += info.hosts.length + info.failoverStates.length + info.leases.length;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.options.debounceMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Writes what is pending now: appends, or a whole rewrite when one is due (in the background), or with
   * `force` a whole rewrite at once (synchronous).
   */
  flush(force = false): void {
    if (this.closed) return;
    if (force) {
      this.cancelBackground();
      this.rewriteNow();
      return;
    }
    if (this.background !== null) return; // its end appends what came meanwhile
    const rewriteDue =
      this.needRewrite ||
      !this.known ||
      this.appendedSinceRewrite + this.pendingRecords > Math.max(1000, this.recordsAtRewrite) ||
      (this.pendingRecords > 0 && Date.now() - this.lastRewrite > (this.options.rewriteEveryMs ?? 3_600_000));
    if (rewriteDue) this.startBackground();
    else if (this.pending.length > 0) this.appendPending();
  }

  private fail(e: unknown): void {
    this.needRewrite = true;
    this.options.onError?.(e);
  }

  private recordFingerprint(fp: Omit<LeaseFileFingerprint, 'path' | 'clean'>, clean = false): void {
    if (!this.fingerprints) return;
    writeFingerprint(this.fingerprints, { path: resolvePath(this.path), ...fp, clean });
  }

  /** The fingerprint as it stands, with a pending write of `size`/`sha256` noted (before the write). */
  private notePending(size: number, sha256: string | null): void {
    const st = statFile(this.path);
    const current = this.fingerprints ? readFingerprint(this.fingerprints) : null;
    this.recordFingerprint({
      size: current?.size ?? st?.size ?? 0,
      mtimeNs: current?.mtimeNs ?? st?.mtimeNs ?? '0',
      sha256: current?.sha256 ?? null,
      records: this.recordsAtRewrite,
      appended: this.appendedSinceRewrite,
      pending: { size, sha256 },
    });
  }

  private noteWritten(sha256?: string): void {
    const st = statFile(this.path);
    if (st === null) return;
    this.size = st.size;
    this.recordFingerprint({
      size: st.size,
      mtimeNs: st.mtimeNs,
      sha256: sha256 ?? (this.hash ? this.hash.copy().digest('hex') : null),
      records: this.recordsAtRewrite,
      appended: this.appendedSinceRewrite,
      pending: null,
    });
  }

  private appendPending(): void {
    const data = Buffer.from(this.pending.join(''), 'latin1');
    const records = this.pendingRecords;
    try {
      const next = this.hash ? this.hash.copy().update(data) : null;
      this.notePending(this.size + data.length, next ? next.copy().digest('hex') : null);
      appendFileSync(this.path, data);
      this.hash = next;
      this.pending = [];
      this.pendingRecords = 0;
      this.appendedSinceRewrite += records;
      this.appends++;
      this.noteWritten();
    } catch (e) {
      this.hash = null;
      this.fail(e);
    }
  }

  /** A whole rewrite at once (synchronous): force, close, and the -user fallback. */
  private rewriteNow(): void {
    // Everything pending is in the database already: the rewrite covers it.
    this.pending = [];
    this.pendingRecords = 0;
    this.needRewrite = false;
    try {
      let r;
      const note = (bytes: number, sha256: string): void => this.notePending(bytes, sha256);
      try {
        r = writeLeaseFile(this.path, storeContents(this.store), this.options.format, false, note);
      } catch (e) {
        // Running as -user in a directory it cannot create files in (ISC's usual /var/lib/dhcp): the lease
        // file itself was chowned to us at start (as ISC does), so overwrite it in place.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EPERM') throw e;
        r = writeLeaseFile(this.path, storeContents(this.store), this.options.format, true, note);
      }
      // The fingerprint gets the hash of what was written; its running state is not kept here, so appends
      // after a synchronous rewrite leave the hash unknown (size and mtime still tell) until the next rewrite.
      this.hash = null;
      this.rewritten(r.records, r.sha256);
    } catch (e) {
      this.fail(e);
    }
  }

  private rewritten(records: number, sha256?: string): void {
    this.recordsAtRewrite = records;
    this.appendedSinceRewrite = 0;
    this.lastRewrite = Date.now();
    this.known = true;
    this.writes++;
    this.noteWritten(sha256);
  }

  private startBackground(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    let fd: number;
    try {
      fd = openSync(tmp, 'w', 0o664);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') this.rewriteNow(); // in place, synchronously
      else this.fail(e);
      return;
    }
    // From here every change is in the rewrite or, if it comes during it, appended after it.
    this.pending = [];
    this.pendingRecords = 0;
    this.needRewrite = false;
    this.background = {
      fd,
      tmp,
      parts: leaseFileParts(storeContents(this.store), this.options.format)[Symbol.iterator](),
      hash: createHash('sha256'),
      bytes: 0,
      records: -1,
      buf: Buffer.allocUnsafe(1 << 20),
      used: 0,
      syncing: false,
    };
    setImmediate(() => this.step());
  }

  private step(): void {
    const b = this.background;
    if (b === null) return;
    const until = Date.now() + (this.options.sliceMs ?? 20);
    try {
      const flushBuf = (): void => {
        let off = 0;
        while (off < b.used) off += writeSync(b.fd, b.buf, off, b.used - off);
        b.hash.update(b.buf.subarray(0, b.used));
        b.bytes += b.used;
        b.used = 0;
      };
      for (let n = 0; ; n++) {
        if ((n & 255) === 255 && Date.now() >= until) {
          setImmediate(() => this.step());
          return;
        }
        const next = b.parts.next();
        if (next.done) break;
        const part = next.value;
        b.records++;
        if (b.used + part.length > b.buf.length) {
          flushBuf();
          if (part.length > b.buf.length) b.buf = Buffer.allocUnsafe(part.length);
        }
        b.used += b.buf.write(part, b.used, 'latin1');
      }
      flushBuf();
    } catch (e) {
      this.cancelBackground();
      this.fail(e);
      return;
    }
    // fsync of a ~290 MB file can take a while: off the event loop, then rename into place.
    b.syncing = true;
    fsync(b.fd, (err) => {
      if (this.background !== b) {
        // Cancelled or finished by close meanwhile: the descriptor is closed here, not under the fsync.
        try {
          if (b.fd >= 0) closeSync(b.fd);
        } catch {
          // already closed
        }
        return;
      }
      b.syncing = false;
      try {
        if (err) throw err;
        closeSync(b.fd);
        b.fd = -1;
        const sha256 = b.hash.copy().digest('hex');
        this.notePending(b.bytes, sha256);
        renameSync(b.tmp, this.path);
        this.background = null;
        this.hash = b.hash;
        this.rewritten(b.records);
      } catch (e) {
        this.cancelBackground();
        this.fail(e);
      }
      this.settle();
      // Changes committed during the rewrite: appended now (or rewritten again if one was a deletion).
      if (this.pending.length > 0 || this.needRewrite) this.schedule();
    });
  }

  /** Completes a background rewrite at once (close): the rest of the records, fsync, rename. */
  private finishBackground(): void {
    const b = this.background;
    if (b === null) return;
    try {
      if (!b.syncing) {
        const flushBuf = (): void => {
          let off = 0;
          while (off < b.used) off += writeSync(b.fd, b.buf, off, b.used - off);
          b.hash.update(b.buf.subarray(0, b.used));
          b.bytes += b.used;
          b.used = 0;
        };
        for (let next = b.parts.next(); !next.done; next = b.parts.next()) {
          const part = next.value;
          b.records++;
          if (b.used + part.length > b.buf.length) {
            flushBuf();
            if (part.length > b.buf.length) b.buf = Buffer.allocUnsafe(part.length);
          }
          b.used += b.buf.write(part, b.used, 'latin1');
        }
        flushBuf();
      }
      fsyncSync(b.fd);
      if (!b.syncing) {
        closeSync(b.fd);
        b.fd = -1;
      } // else the pending fsync's callback closes it (this.background is no longer b by then)
      this.notePending(b.bytes, b.hash.copy().digest('hex'));
      renameSync(b.tmp, this.path);
      this.background = null;
      this.hash = b.hash;
      this.rewritten(b.records);
      this.settle();
    } catch (e) {
      this.cancelBackground();
      this.fail(e);
    }
  }

  private cancelBackground(): void {
    const b = this.background;
    if (b === null) return;
    this.background = null;
    // What the rewrite was to cover is not in the file: a whole rewrite is owed.
    this.needRewrite = true;
    try {
      if (b.fd >= 0 && !b.syncing) closeSync(b.fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(b.tmp);
    } catch {
      // renamed or never created
    }
    this.settle();
  }

  private settle(): void {
    if (this.background !== null || this.startTimer !== null) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /**
   * Shutdown: pending records appended (a whole rewrite if one is owed), then unsubscribe. Call before
   * closing the store.
   */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    this.finishBackground(); // a rewrite under way is completed (synchronously) rather than started over
    if (this.needRewrite || !this.known) this.rewriteNow();
    else if (this.pending.length > 0) this.appendPending();
    if (this.needRewrite) this.rewriteNow(); // the append failed
    // The file now holds everything: the next start need not rewrite it.
    if (!this.needRewrite && this.fingerprints) {
      try {
        const fp = readFingerprint(this.fingerprints);
        if (fp !== null && fp.pending === null) writeFingerprint(this.fingerprints, { ...fp, clean: true });
      } catch (e) {
        this.options.onError?.(e); // the next start then rewrites the file
      }
    }
    this.closed = true;
    this.unsubscribe();
    this.settle();
  }
}
