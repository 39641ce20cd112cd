/**
 * Keeps `-lf FILE` current as an ISC-format view of the lease database while the server runs, so that
 * dhcpd-pools, scripts that parse dhcpd.leases and `dhcpd -T` keep working against it.
 *
 * It works the way ISC maintains dhcpd.leases (server/db.c): the file is rewritten whole at start, then
 * every committed change is appended as records (a reader takes the last record for an address, as ISC's
 * own reader does), and the file is rewritten whole again when the appended records outnumber the records of
 * the last rewrite (or after `rewriteEveryMs`, ISC's hourly LEASE_REWRITE_PERIOD), and at close.
 * Appends are batched: they reach the file within `debounceMs` (default 1 s) of the commit. A whole rewrite
 * goes to a temporary file renamed into place, in bounded memory.
 *
 * The database stays the source of truth: the file is never read back while running.
 *
 * @module
 */
import { appendFileSync } from 'node:fs';
import type { CommitInfo, LeaseStore } from './lease-store.js';
import {
  formatFailoverStateRecord,
  formatHostRecord,
  formatLease,
  storeContents,
  writeLeaseFile,
  type LeaseFileFormatOptions,
} from './isc-lease-file.js';

export interface LeaseFileMirrorOptions {
  /** Longest delay between a commit and its records reaching the file (ms). Default 1000. */
  debounceMs?: number;
  /** Rewrite the whole file at least this often while changes are being appended (ms). Default 1 h. */
  rewriteEveryMs?: number;
  format?: LeaseFileFormatOptions;
  /** Called when writing fails (the server logs it; the next change retries with a whole rewrite). */
  onError?: (e: unknown) => void;
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
  private lastRewrite = 0;
  /** Whole-file rewrites done (for tests and the status log). */
  writes = 0;
  /** Append batches written. */
  appends = 0;

  constructor(
    private readonly store: LeaseStore,
    readonly path: string,
    private readonly options: LeaseFileMirrorOptions = {},
  ) {
    this.unsubscribe = store.onCommit((info) => this.changed(info));
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
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.options.debounceMs ?? 1000);
    this.timer.unref();
  }

  /** Writes what is pending now: appends, or a whole rewrite when one is due (or `force`). */
  flush(force = false): void {
    const rewriteDue =
      force ||
      this.needRewrite ||
      this.writes === 0 ||
      this.appendedSinceRewrite + this.pendingRecords > Math.max(1000, this.recordsAtRewrite) ||
      (this.pendingRecords > 0 && Date.now() - this.lastRewrite > (this.options.rewriteEveryMs ?? 3_600_000));
    try {
      if (rewriteDue) this.rewrite();
      else if (this.pending.length > 0) {
        appendFileSync(this.path, this.pending.join(''), 'latin1');
        this.appendedSinceRewrite += this.pendingRecords;
        this.pending = [];
        this.pendingRecords = 0;
        this.appends++;
      }
    } catch (e) {
      this.needRewrite = true;
      this.options.onError?.(e);
    }
  }

  private rewrite(): void {
    // Everything pending is in the database already: the rewrite covers it.
    this.pending = [];
    this.pendingRecords = 0;
    this.needRewrite = false;
    let r;
    try {
      r = writeLeaseFile(this.path, storeContents(this.store), this.options.format);
    } catch (e) {
      // Running as -user in a directory it cannot create files in (ISC's usual /var/lib/dhcp): the lease
      // file itself was chowned to us at start (as ISC does), so overwrite it in place.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw e;
      r = writeLeaseFile(this.path, storeContents(this.store), this.options.format, true);
    }
    this.recordsAtRewrite = r.records;
    this.appendedSinceRewrite = 0;
    this.lastRewrite = Date.now();
    this.writes++;
  }

  /** Final rewrite (shutdown) and unsubscribe. Call before closing the store. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush(true);
    this.closed = true;
    this.unsubscribe();
  }
}
