/**
 * Keeps `-lf FILE` current as an ISC-format view of the lease database while the server runs, so that
 * dhcpd-pools, scripts that parse dhcpd.leases and `dhcpd -T` keep working against it.
 *
 * Every write of the file is a temporary file renamed into place: a reader opens the old file or the new
 * one, never a half-written one, and the file always parses.
 *
 * - Flush (within about `debounceMs` of a commit, default 1 s): the current file is copied to
 *   `FILE.<pid>.flush.tmp` in the kernel (copy_file_range, or a reflink where the filesystem has them; no
 *   JavaScript per record), the records changed since the last flush are appended to the copy, which is
 *   fsynced and renamed over FILE. ISC's own format allows repeated records for one address and its reader
 *   (and dhcpd-pools) takes the last one, which is also how ISC itself appends to dhcpd.leases (server/db.c).
 *   Flushes never overlap, a flush starts at most every `debounceMs`, and after a slow flush (a large file)
 *   the mirror waits at least as long as that flush took before the next: the copying stays below half of
 *   the time whatever the file's size.
 * - Compaction: when the repeated records outnumber the records of the last whole write (or after
 *   `rewriteEveryMs`, ISC's hourly LEASE_REWRITE_PERIOD, or after a deletion, which no appended record can
 *   say), the file is written whole from the database to `FILE.<pid>.tmp`, in slices of ~`sliceMs` between
 *   event-loop turns (a 1,000,000-lease file takes tens of seconds and must not stop the server answering).
 *   Flushes go on meanwhile; the records committed since the compaction began are appended to its file
 *   before that is renamed into place.
 *
 * Unlike ISC, the file is not rewritten at every start: the database records the file's size, mtime and
 * hash as we last wrote it (leases/lease-file-fingerprint.ts), and a file that is still as we wrote it is
 * only appended to. Before each rename the size (and hash) of the coming file is noted as `pending`, so a
 * crash between the rename and the final note is not taken for an administrator's edit at the next start.
 * At close, what is pending is flushed at once (a whole rewrite only when one is owed, e.g. a deletion, or
 * completing a compaction under way).
 *
 * The database stays the source of truth while running: the file is never read back then (an edit made
 * while the server is stopped is read at the next start, by leases/commands.ts openServerLeaseStore).
 *
 * @module
 */
import { appendFileSync, close, closeSync, constants as fsConstants, copyFileSync, fdatasync, fsync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { copyFile, open as openAsync, unlink } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { CommitInfo, LeaseStore } from './lease-store.js';
import {
  formatFailoverStateRecord,
  formatHostRecord,
  formatLease,
  leaseFileParts,
  storeContents,
  writeLeaseFile,
  type LeaseFileContents,
  type LeaseFileFormatOptions,
} from './isc-lease-file.js';
import type { Lease } from './lease.js';
import { readFingerprint, statFile, writeFingerprint, type FingerprintStore, type LeaseFileFingerprint } from './lease-file-fingerprint.js';

export interface LeaseFileMirrorOptions {
  /**
   * Shortest interval between the starts of two flushes (ms), and so about the longest delay between a
   * commit and its records reaching the file, plus the flush itself. Default 1000.
   */
  debounceMs?: number;
  /** Rewrite the whole file at least this often while changes are flowing (ms). Default 1 h. */
  rewriteEveryMs?: number;
  /** Longest run of a compaction before it yields to the event loop (ms). Default 20. */
  sliceMs?: number;
  /**
   * fsync each new file (and its directory) before/after renaming it into place. Default true; false with
   * `dont-use-fsync` (the file is a view: the database is the durable copy either way).
   */
  fsync?: boolean;
  /**
   * With fsync: write compactions back this many bytes at a time, off the event loop (default 8 MiB; 0 =
   * in one go at the end). See {@link LeaseFileMirror} copyForFlush.
   */
  syncChunkBytes?: number;
  /**
   * With fsync: the same for flush copies (default 8 MiB; 0: copy_file_range, one fsync at the end).
   * Chunks keep the database commits' latency during a flush of a large file; in one go the flush can be
   * faster on a saturated disk. Measured at 1,000,000 leases with test/leases/lf-flush-bench.ts.
   */
  flushSyncChunkBytes?: number;
  format?: LeaseFileFormatOptions;
  /** Called when writing fails (the server logs it; the next change retries, with a whole rewrite). */
  onError?: (e: unknown) => void;
}

/** What the mirror starts from (openServerLeaseStore checks the file against the database first). */
export interface LeaseFileMirrorStart {
  /**
   * The file is as the database's fingerprint says we wrote it: flushes append to (a copy of) it, no
   * rewrite. Otherwise the first write is a whole rewrite.
   */
  known: boolean;
  /** The known file holds everything in the database (clean shutdown); otherwise it is rewritten soon. */
  clean?: boolean;
}

interface Compaction {
  fd: number;
  tmp: string;
  parts: Iterator<string>;
  hash: Hash;
  bytes: number;
  records: number;
  buf: Buffer;
  used: number;
  /** An fsync of `fd` is in flight (the descriptor must not be closed under it; its callback closes it). */
  syncing: boolean;
  /** Every record is written and fsynced: waiting for the records committed meanwhile and the rename. */
  ready: boolean;
  /** Bytes written back (fdatasync) so far. */
  syncedBytes: number;
  /** Every record of the database is written (the fsync and the rename may still be to come). */
  written: boolean;
  /**
   * The file needs it to be right (a deletion, a crash, a file we did not write), not only to shed
   * repeated records or for its age.
   */
  owed: boolean;
}

/** Longest back-off between attempts while writes keep failing (ms). */
const RETRY_MAX_MS = 10_000;

/** Default write-back unit of flush copies and compactions (see LeaseFileMirror.copyForFlush). */
const SYNC_CHUNK = 8 << 20;

interface InflightFlush {
  /** The records this flush appends (put back in front of the pending ones if close abandons it). */
  batch: string[];
  records: number;
  tmp: string;
}

/**
 * A set of IPv4 addresses as bits, in 8 KiB blocks of 65,536 addresses: the addresses a lease file has
 * records for cost a few bits each, not a Set entry each (a pool of 1,000,000 leases: 128 KiB).
 */
class AddressBits {
  private readonly blocks = new Map<number, Uint32Array>();
  /** Addresses in the set. */
  size = 0;

  /** Adds an address; false when it was in the set already. */
  add(address: number): boolean {
    const hi = address >>> 16;
    let b = this.blocks.get(hi);
    if (b === undefined) this.blocks.set(hi, (b = new Uint32Array(2048)));
    const i = (address & 0xffff) >>> 5;
    const m = 1 << (address & 31);
    const w = b[i]!;
    if ((w & m) !== 0) return false;
    b[i] = w | m;
    this.size++;
    return true;
  }
}

/** Mirrors a {@link LeaseStore} into an ISC dhcpd.leases file. */
export class LeaseFileMirror {
  private timer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null = null;
  /** Records committed and not yet taken by a flush. */
  private pending: string[] = [];
  private pendingRecords = 0;
  /** Records committed since the running compaction began (appended to its file before its rename). */
  private sinceCompaction: string[] | null = null;
  private sinceCompactionRecords = 0;
  private needRewrite = false;
  private readonly unsubscribe: () => void;
  private closed = false;
  private recordsAtRewrite = 0;
  private appendedSinceRewrite = 0;
  /**
   * The addresses the file has a lease record for, pending ones included, when this process wrote it whole
   * (null: a file from before, whose addresses are not known here), and how many records since that whole
   * write repeat an address already there (host and failover-state records count as repeats). A compaction
   * is due when the repeats outnumber the addresses, so records of new addresses (a pool filling up) no
   * longer make the whole file be rewritten again and again: ISC itself appends them and rewrites hourly.
   */
  private fileAddresses: AddressBits | null = null;
  private repeats = 0;
  /** The same for the file a compaction under way is writing. */
  private nextAddresses: AddressBits | null = null;
  private nextRepeats = 0;
  private lastRewrite = Date.now();
  /** The file is as we wrote it (flushes may copy and append to it). */
  private known = false;
  /** Running SHA-256 of the file's bytes, when known (after a whole write in this process). */
  private hash: Hash | null = null;
  private compaction: Compaction | null = null;
  /** The flush under way (copy, append, fsync, rename: one at a time). */
  private inflight: InflightFlush | null = null;
  /** Bumped by close: an asynchronous flush still running then drops its work. */
  private generation = 0;
  private lastFlushStart = -Infinity;
  private lastFlushEnd = -Infinity;
  private lastFlushMs = 0;
  private idleWaiters: Array<() => void> = [];
  /** Consecutive failed writes, and when the next attempt may start (see fail). */
  private failures = 0;
  private retryAt = 0;
  private readonly fingerprints: FingerprintStore | null;
  private readonly doFsync: boolean;
  /** Write-back units of compactions and flush copies (bytes; Infinity: at the end only). */
  private readonly syncChunk: number;
  private readonly flushSyncChunk: number;
  /** Whether the filesystem makes reflinks (unknown until the first flush tries one). */
  private reflinks: boolean | null = null;
  /** Whole-file writes done (compactions and synchronous rewrites; for tests and the status log). */
  writes = 0;
  /** Flushes done (records appended to a copy of the file, renamed into place). */
  appends = 0;
  /** Duration of the last flush (ms): copy, append, fsync, rename. */
  get lastFlushDurationMs(): number {
    return this.lastFlushMs;
  }

  constructor(
    private readonly store: LeaseStore,
    readonly path: string,
    private readonly options: LeaseFileMirrorOptions = {},
    start: LeaseFileMirrorStart = { known: false },
  ) {
    this.doFsync = options.fsync !== false;
    const unit = (bytes: number | undefined, otherwise: number): number => ((bytes ?? otherwise) === 0 ? Infinity : Math.max(1 << 20, bytes ?? otherwise));
    this.syncChunk = unit(options.syncChunkBytes, SYNC_CHUNK);
    this.flushSyncChunk = unit(options.flushSyncChunkBytes, SYNC_CHUNK);
    const fs = store as Partial<FingerprintStore>;
    this.fingerprints = typeof fs.getMetaValue === 'function' && typeof fs.setMetaValue === 'function' ? (fs as FingerprintStore) : null;
    if (this.fingerprints) {
      const fp = readFingerprint(this.fingerprints);
      const st = statFile(path);
      if (start.known && fp !== null && st !== null) {
        this.known = true;
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
    removeStaleTemporaries(path);
    this.unsubscribe = store.onCommit((info) => this.changed(info));
  }

  /** True while a compaction (whole rewrite in the background) is in progress. */
  get rewriting(): boolean {
    return this.compaction !== null;
  }

  /** True while a flush (copy, append, fsync, rename) is under way. */
  get flushing(): boolean {
    return this.inflight !== null;
  }

  /** Resolves when no compaction or flush is in progress and none is scheduled by {@link start}. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.compaction === null && this.startTimer === null && this.inflight === null;
  }

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
      const records: string[] = [];
      for (const h of info.hosts) records.push(formatHostRecord(h));
      for (const s of info.failoverStates) records.push(formatFailoverStateRecord(s, f));
      for (const l of info.leases) records.push(formatLease(l, f));
      const bits = this.fileAddresses;
      if (bits !== null) {
        this.repeats += info.hosts.length + info.failoverStates.length;
        for (const l of info.leases) if (!bits.add(l.address)) this.repeats++;
      }
      const next = this.sinceCompaction !== null ? this.nextAddresses : null;
      if (next !== null) {
        this.nextRepeats += info.hosts.length + info.failoverStates.length;
        for (const l of info.leases) if (!next.add(l.address)) this.nextRepeats++;
      }
      for (const r of records) this.pending.push(r);
      this.pendingRecords += records.length;
      if (this.sinceCompaction !== null) {
        // Committed after the compaction began: its rows may already be behind the compaction's cursor.
        for (const r of records) this.sinceCompaction.push(r);
        this.sinceCompactionRecords += records.length;
      }
    }
    this.schedule();
  }

  /** Arms the flush timer, paced: one flush start per `debounceMs`, and a rest as long as the last flush. */
  private schedule(): void {
    if (this.timer || this.closed) return;
    const now = Date.now();
    const wait = Math.max(0, this.lastFlushStart + (this.options.debounceMs ?? 1000) - now, this.lastFlushEnd + this.lastFlushMs - now, this.retryAt - now);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
    this.timer.unref();
  }

  /**
   * Writes what is pending now: a flush, and a compaction when one is due (in the background), or with
   * `force` a whole rewrite at once (synchronous).
   */
  flush(force = false): void {
    if (this.closed) return;
    if (force) {
      this.abandonFlush();
      this.cancelCompaction();
      this.rewriteNow();
      return;
    }
    if (this.inflight !== null) return; // its end comes back here
    if (this.compaction?.ready) this.finishCompaction();
    if (Date.now() < this.retryAt) {
      // Backing off after a failed write (see fail).
      this.schedule();
      return;
    }
    if (this.compaction === null && this.rewriteDue()) this.startCompaction();
    // Until a file we know is in place, there is nothing to append to: the compaction covers the records.
    if (this.known && this.pending.length > 0 && this.inflight === null) void this.flushAsync();
  }

  private rewriteDue(): boolean {
    const bits = this.fileAddresses;
    return (
      this.needRewrite ||
      !this.known ||
      (bits !== null ? this.repeats > Math.max(1000, bits.size) : this.appendedSinceRewrite + this.pendingRecords > Math.max(1000, this.recordsAtRewrite)) ||
      (this.pendingRecords > 0 && Date.now() - this.lastRewrite > (this.options.rewriteEveryMs ?? 3_600_000))
    );
  }

  /**
   * A write failed (full disk, read-only database or file, …): a whole rewrite is owed, retried after a
   * back-off (1, 2, 4, 8 then every 10 s while it keeps failing), so a disk in trouble gets one log line
   * per attempt, not one per change.
   */
  private fail(e: unknown): void {
    this.needRewrite = true;
    this.failures++;
    this.retryAt = Date.now() + Math.min(RETRY_MAX_MS, 1000 * 2 ** Math.min(this.failures - 1, 10));
    this.options.onError?.(e);
  }

  /** A write succeeded: retries go back to normal pacing. */
  private succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
  }

  private recordFingerprint(fp: Omit<LeaseFileFingerprint, 'path' | 'clean'>, clean = false): void {
    if (!this.fingerprints) return;
    writeFingerprint(this.fingerprints, { path: resolvePath(this.path), ...fp, clean });
  }

  /** The fingerprint as it stands, with a coming write of `size`/`sha256` noted (before the rename). */
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

  /**
   * {@link notePending}, durable before it resolves, without an fsync on the event loop where the store allows:
   * committed with `writeWithoutSync`, then the WAL fsynced on the thread pool (as the DHCP server makes its
   * ACKs durable). Otherwise (no fsync wanted, another store) as notePending.
   */
  private async notePendingOffLoop(size: number, sha256: string | null): Promise<void> {
    const s = this.store as { writeWithoutSync?: (fn: () => void) => void; walPath?: unknown; fsyncsCommits?: unknown };
    if (!this.doFsync || !this.fingerprints || typeof s.writeWithoutSync !== 'function' || typeof s.walPath !== 'string' || s.fsyncsCommits !== true) {
      this.notePending(size, sha256);
      return;
    }
    s.writeWithoutSync.call(this.store, () => this.notePending(size, sha256));
    const fh = await openAsync(s.walPath, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Notes the file as written. `durable` false (a flush's note): committed without waiting for the disk where
   * the store can (`writeWithoutSync`; the next group commit's fsync covers it): lost only with the machine,
   * and then the note made before the rename (`pending`, always durable) tells the next start that the file
   * is ours, which rewrites it. It was one fsync on the event loop a second, besides notePending's.
   */
  private noteWritten(sha256?: string, durable = true): void {
    const st = statFile(this.path);
    if (st === null) return this.succeeded();
    const note = (): void =>
      this.recordFingerprint({
        size: st.size,
        mtimeNs: st.mtimeNs,
        sha256: sha256 ?? (this.hash ? this.hash.copy().digest('hex') : null),
        records: this.recordsAtRewrite,
        appended: this.appendedSinceRewrite,
        pending: null,
      });
    const lazy = durable ? undefined : (this.store as { writeWithoutSync?: (fn: () => void) => void }).writeWithoutSync;
    if (lazy !== undefined) lazy.call(this.store, note);
    else note();
    this.succeeded();
  }

  /** Takes the pending records for a flush. */
  private take(): { batch: string[]; records: number; data: Buffer } {
    const batch = this.pending;
    const records = this.pendingRecords;
    this.pending = [];
    this.pendingRecords = 0;
    return { batch, records, data: Buffer.from(batch.join(''), 'latin1') };
  }

  /**
   * One flush, off the event loop: copy the file (in the kernel), append the pending records, fsync,
   * rename over the file, note it in the database.
   */
  private async flushAsync(): Promise<void> {
    const generation = this.generation;
    const { batch, records, data } = this.take();
    const tmp = `${this.path}.${process.pid}.flush.tmp`;
    const f: InflightFlush = { batch, records, tmp };
    this.inflight = f;
    const started = Date.now();
    this.lastFlushStart = started;
    const abandoned = (): boolean => generation !== this.generation || this.inflight !== f;
    let renamed = false;
    try {
      try {
        await this.copyForFlush(tmp, abandoned);
      } catch (e) {
        if (abandoned()) return;
        const code = (e as NodeJS.ErrnoException).code;
        this.inflight = null;
        if (code === 'EACCES' || code === 'EPERM') {
          // Running as -user in a directory it cannot create files in (ISC's usual /var/lib/dhcp): the
          // lease file itself was chowned to us at start (as ISC does), so append to it in place, as ISC.
          this.appendInPlace(data, records);
        } else if (code === 'ENOENT' && statFile(this.path) === null) {
          // The file was removed under us: written whole again (the database has every record).
          this.known = false;
          this.needRewrite = true;
        } else {
          this.fail(e);
        }
        return;
      }
      const fh = await openAsync(tmp, 'a');
      try {
        await fh.write(data);
        if (this.doFsync) await fh.sync();
      } finally {
        await fh.close();
      }
      if (abandoned()) return;
      const size = statSync(tmp).size;
      const next = this.hash ? this.hash.copy().update(data) : null;
      await this.notePendingOffLoop(size, next ? next.copy().digest('hex') : null);
      if (abandoned()) return;
      renameOver(tmp, this.path);
      renamed = true;
      this.inflight = null; // the batch is in the file now: close need not write it again
      this.hash = next;
      this.appendedSinceRewrite += records;
      this.appends++;
      if (this.doFsync) await fsyncDirectory(this.path);
      if (generation !== this.generation) return; // closed meanwhile: close noted the file as it left it
      this.noteWritten(undefined, false);
    } catch (e) {
      if (abandoned() && !renamed) return;
      this.hash = null;
      this.fail(e);
    } finally {
      if (!renamed) unlink(tmp).catch(() => undefined);
      if (generation === this.generation) {
        if (this.inflight === f) this.inflight = null;
        this.lastFlushEnd = Date.now();
        this.lastFlushMs = this.lastFlushEnd - started;
        if (this.compaction?.ready) this.finishCompaction();
        if (this.pending.length > 0 || (this.needRewrite && this.compaction === null)) this.schedule();
        this.settle();
      }
    }
  }

  /**
   * Copies the file to `tmp` for a flush. A reflink where the filesystem has them (btrfs, XFS: no data
   * written at all). Otherwise, with fsync, in chunks of `flushSyncChunkBytes` (8 MiB) each written back
   * (fdatasync, in the thread pool) before the next; without (`dont-use-fsync`, or a unit of 0),
   * copy_file_range in the kernel. Why chunks: on ext4 (data=ordered) a fsync of the lease database waits
   * for the data the filesystem allocated since its last commit, so the write-back of a whole 264 MB copy
   * holds up the commits (the ACKs) of that moment; in chunks a commit waits for one chunk at most.
   * Measured at 1,000,000 leases, load 6-9 on 2 cores: in one go, flush p50 0.73 s, commit p99 179 ms; by
   * 8 MiB, flush p50 0.77 s, commit p99 36 ms (no -lf at all: 72 ms). On a saturated disk (load 15-20)
   * chunks made flushes slower (3 s against 1.1 s).
   */
  private async copyForFlush(tmp: string, abandoned: () => boolean): Promise<void> {
    if (this.reflinks !== false) {
      try {
        await copyFile(this.path, tmp, fsConstants.COPYFILE_FICLONE_FORCE);
        this.reflinks = true;
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'ENOSPC') throw e;
        this.reflinks = false; // ENOTSUP, EXDEV, EINVAL, EOPNOTSUPP: not on this filesystem
        await unlink(tmp).catch(() => undefined);
      }
    }
    if (!this.doFsync || this.flushSyncChunk === Infinity) {
      await copyFile(this.path, tmp);
      return;
    }
    const src = await openAsync(this.path, 'r');
    try {
      const dst = await openAsync(tmp, 'w', (await src.stat()).mode & 0o7777);
      try {
        const buf = Buffer.allocUnsafe(this.flushSyncChunk);
        for (let pos = 0; ; ) {
          const { bytesRead } = await src.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          for (let off = 0; off < bytesRead; ) off += (await dst.write(buf, off, bytesRead - off, pos + off)).bytesWritten;
          pos += bytesRead;
          await dst.datasync();
          if (abandoned()) return;
        }
      } finally {
        await dst.close();
      }
    } finally {
      await src.close();
    }
  }

  /** The -user fallback: the records appended to the file itself (not atomic, as ISC's own appends). */
  private appendInPlace(data: Buffer, records: number): void {
    try {
      const next = this.hash ? this.hash.copy().update(data) : null;
      const st = statFile(this.path);
      this.notePending((st?.size ?? 0) + data.length, next ? next.copy().digest('hex') : null);
      appendFileSync(this.path, data);
      this.hash = next;
      this.appendedSinceRewrite += records;
      this.appends++;
      this.noteWritten();
    } catch (e) {
      this.hash = null;
      this.fail(e);
    }
  }

  /** The synchronous flush of close: the same steps as {@link flushAsync}, blocking. */
  private flushNow(): void {
    const { records, data } = this.take();
    const tmp = `${this.path}.${process.pid}.close.tmp`;
    try {
      copyFileSync(this.path, tmp, fsConstants.COPYFILE_FICLONE);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') this.appendInPlace(data, records);
      else this.fail(e);
      return;
    }
    try {
      const fd = openSync(tmp, 'a');
      try {
        let off = 0;
        while (off < data.length) off += writeSync(fd, data, off, data.length - off);
        if (this.doFsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const next = this.hash ? this.hash.copy().update(data) : null;
      this.notePending(statSync(tmp).size, next ? next.copy().digest('hex') : null);
      renameOver(tmp, this.path);
      this.hash = next;
      this.appendedSinceRewrite += records;
      this.appends++;
      if (this.doFsync) fsyncDirectorySync(this.path);
      this.noteWritten();
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // renamed or never created
      }
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
      let bits = new AddressBits();
      const contents = (): LeaseFileContents => {
        const c = storeContents(this.store);
        bits = new AddressBits();
        return { ...c, leases: notingAddresses(c.leases, bits, () => undefined) };
      };
      this.fileAddresses = null;
      try {
        r = writeLeaseFile(this.path, contents(), this.options.format, false, note);
      } catch (e) {
        // Running as -user in a directory it cannot create files in: overwrite the (chowned) file in place.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EPERM') throw e;
        r = writeLeaseFile(this.path, contents(), this.options.format, true, note);
      }
      this.fileAddresses = bits;
      this.repeats = 0;
      // The fingerprint gets the hash of what was written; its running state is not kept here, so flushes
      // after a synchronous rewrite leave the hash unknown (size and mtime still tell) until the next one.
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

  private startCompaction(): void {
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
    const owed = this.needRewrite || !this.known;
    this.needRewrite = false;
    if (!this.known) {
      // Nothing to append to until this is in place, and everything pending is in the database already.
      this.pending = [];
      this.pendingRecords = 0;
    }
    this.sinceCompaction = [];
    this.sinceCompactionRecords = 0;
    const contents = storeContents(this.store);
    const bits = new AddressBits();
    this.nextAddresses = bits;
    this.nextRepeats = 0;
    this.compaction = {
      fd,
      tmp,
      parts: leaseFileParts({ ...contents, leases: notingAddresses(contents.leases, bits, () => this.nextRepeats++) }, this.options.format)[Symbol.iterator](),
      hash: createHash('sha256'),
      bytes: 0,
      records: -1,
      buf: Buffer.allocUnsafe(1 << 20),
      used: 0,
      syncing: false,
      ready: false,
      syncedBytes: 0,
      written: false,
      owed,
    };
    setImmediate(() => this.step());
  }

  /**
   * Writes the compaction's records until `until` (ms timestamp) or, with `chunk`, until that many bytes
   * have been written since the last write-back; true when all are written.
   */
  private writeParts(c: Compaction, until: number, chunk = Infinity): boolean {
    const flushBuf = (): void => {
      let off = 0;
      while (off < c.used) off += writeSync(c.fd, c.buf, off, c.used - off);
      c.hash.update(c.buf.subarray(0, c.used));
      c.bytes += c.used;
      c.used = 0;
    };
    for (let n = 0; ; n++) {
      if ((n & 255) === 255 && (Date.now() >= until || c.bytes + c.used - c.syncedBytes >= chunk)) {
        flushBuf();
        return false;
      }
      const next = c.parts.next();
      if (next.done) break;
      const part = next.value;
      c.records++;
      if (c.used + part.length > c.buf.length) {
        flushBuf();
        if (part.length > c.buf.length) c.buf = Buffer.allocUnsafe(part.length);
      }
      c.used += c.buf.write(part, c.used, 'latin1');
    }
    flushBuf();
    return true;
  }

  private step(): void {
    const c = this.compaction;
    if (c === null || c.syncing || c.ready) return;
    try {
      if (!this.writeParts(c, Date.now() + (this.options.sliceMs ?? 20), this.doFsync ? this.syncChunk : Infinity)) {
        if (this.doFsync && c.bytes - c.syncedBytes >= this.syncChunk) {
          // Written back a chunk at a time, off the event loop (see copyForFlush: the database's commits
          // wait for at most one chunk), and without the kernel throttling a writeSync on the event loop.
          c.syncing = true;
          const upTo = c.bytes;
          fdatasync(c.fd, (err) => {
            if (!this.compactionSynced(c, err)) return;
            c.syncedBytes = upTo;
            this.step();
          });
          return;
        }
        setImmediate(() => this.step());
        return;
      }
      c.written = true;
    } catch (e) {
      this.cancelCompaction();
      this.fail(e);
      return;
    }
    // fsync of a ~290 MB file can take a while: off the event loop, then the rename (finishCompaction).
    const done = (err: Error | null): void => {
      if (!this.compactionSynced(c, err)) return;
      c.ready = true;
      // A flush under way renames first; its end finishes the compaction.
      if (this.inflight === null) this.finishCompaction();
    };
    if (this.doFsync) {
      c.syncing = true;
      fsync(c.fd, done);
    } else {
      setImmediate(() => done(null));
    }
  }

  /**
   * The end of a compaction (synchronous; never while a flush is under way): the records committed since it
   * began are appended (the last record of an address wins), then fsync and rename. At close, the records
   * not yet written are written first.
   */
  private finishCompaction(): void {
    const c = this.compaction;
    if (c === null) return;
    try {
      if (!c.written) this.writeParts(c, Infinity); // (beside a write-back in flight: that is fine)
      c.written = true;
      const tail = Buffer.from((this.sinceCompaction ?? []).join(''), 'latin1');
      c.records += this.sinceCompactionRecords;
      this.sinceCompaction = null;
      this.sinceCompactionRecords = 0;
      // Every pending record is either older than the compaction (in its rows) or in the tail.
      this.pending = [];
      this.pendingRecords = 0;
      let off = 0;
      while (off < tail.length) off += writeSync(c.fd, tail, off, tail.length - off);
      c.hash.update(tail);
      c.bytes += tail.length;
      if (this.doFsync || c.syncing) fsyncSync(c.fd);
      if (!c.syncing) {
        closeSync(c.fd);
        c.fd = -1;
      } // else the pending fsync's callback closes it (this.compaction is no longer c by then)
      this.notePending(c.bytes, c.hash.copy().digest('hex'));
      renameOver(c.tmp, this.path);
      this.compaction = null;
      this.hash = c.hash;
      this.fileAddresses = this.nextAddresses;
      this.repeats = this.nextRepeats;
      this.nextAddresses = null;
      if (this.doFsync) fsyncDirectory(this.path, true);
      this.rewritten(c.records);
    } catch (e) {
      this.cancelCompaction();
      this.fail(e);
    }
    this.settle();
    // Changes committed meanwhile (or a deletion during the compaction): written next.
    if (!this.closed && (this.pending.length > 0 || this.needRewrite)) this.schedule();
  }

  /** Drops the compaction under way; by default (a failure) a whole rewrite is owed then. */
  /**
   * The common end of a compaction's fdatasync/fsync: false when the compaction was cancelled or finished by
   * close meanwhile (its descriptor is closed here, not under the sync) or the sync failed (compaction
   * cancelled, failure reported); true to go on.
   */
  private compactionSynced(c: Compaction, err: Error | null): boolean {
    if (this.compaction !== c) {
      try {
        if (c.fd >= 0) closeSync(c.fd);
      } catch {
        // already closed
      }
      c.fd = -1;
      return false;
    }
    c.syncing = false;
    if (err) {
      this.cancelCompaction();
      this.fail(err);
      return false;
    }
    return true;
  }

  private cancelCompaction(owed = true): void {
    const c = this.compaction;
    if (c === null) return;
    this.compaction = null;
    this.sinceCompaction = null;
    this.sinceCompactionRecords = 0;
    this.nextAddresses = null;
    // What the compaction was to cover is not in the file: a whole rewrite is owed.
    if (owed) this.needRewrite = true;
    try {
      if (c.fd >= 0 && !c.syncing) closeSync(c.fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(c.tmp); // (synchronously: the next compaction reuses the name)
    } catch {
      // renamed or never created
    }
    this.settle();
  }

  /** Close or force: a flush under way is dropped, its records go back in front of the pending ones. */
  private abandonFlush(): void {
    const f = this.inflight;
    this.generation++;
    if (f === null) return;
    this.inflight = null;
    this.pending = [...f.batch, ...this.pending];
    this.pendingRecords += f.records;
    try {
      unlinkSync(f.tmp); // its copy may still be running: it then writes into an unlinked file
    } catch {
      // not created yet
    }
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /**
   * Shutdown: pending records flushed (a whole rewrite if one is owed; a compaction under way completed),
   * then unsubscribe. Synchronous. Call before closing the store.
   */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    this.abandonFlush();
    // A compaction under way only to shed repeated records (or for its age) is dropped: the flush below, a
    // copy of the file, is as right and much quicker (at 1,000,000 leases a compaction takes ~30 s). One
    // the file needs (a deletion, a crash, a file we did not write) is completed, synchronously, rather
    // than started over.
    if (this.compaction !== null && !this.compaction.owed && this.known) this.cancelCompaction(false);
    this.finishCompaction();
    if (this.needRewrite || !this.known) this.rewriteNow();
    else if (this.pending.length > 0) this.flushNow();
    if (this.needRewrite) this.rewriteNow(); // the flush failed
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unsubscribe();
    this.settle();
  }
}

/**
 * Renames `tmp` over `path`, releasing the replaced file off the event loop: it is held open across the
 * rename and closed in the thread pool, where its blocks are freed (for a 264 MB file ~100 ms on ext4,
 * measured; longer on a busy disk) instead of inside renameSync.
 */
function renameOver(tmp: string, path: string): void {
  let old = -1;
  try {
    old = openSync(path, 'r');
  } catch {
    // no file there yet
  }
  try {
    renameSync(tmp, path);
  } finally {
    if (old >= 0) close(old, () => undefined);
  }
}

/**
 * Removes the temporary files a killed dhcpd-ts left beside `path` (`path.PID.tmp`, `path.PID.flush.tmp`,
 * `path.PID.close.tmp` of a process that no longer exists). Never fails.
 */
export function removeStaleTemporaries(path: string): void {
  const base = basename(path);
  try {
    for (const name of readdirSync(dirname(path))) {
      if (!name.startsWith(`${base}.`)) continue;
      const m = /^\.(\d+)\.(?:flush\.|close\.)?tmp$/.exec(name.slice(base.length));
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || processExists(pid)) continue;
      try {
        unlinkSync(join(dirname(path), name));
      } catch {
        // gone already, or not ours to remove
      }
    }
  } catch {
    // an unreadable directory: nothing to clean
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/**
 * fsync of the directory holding `path`, so that a rename into it survives a power loss (without it, the
 * old file could come back after the database noted the new one). Errors are ignored: some filesystems
 * refuse fsync on a directory, and the file's own data is already synced.
 */
function fsyncDirectory(path: string, sync: true): void;
function fsyncDirectory(path: string): Promise<void>;
function fsyncDirectory(path: string, sync?: true): Promise<void> | void {
  if (sync) return fsyncDirectorySync(path);
  return openAsync(dirname(path), 'r').then(
    (fh) => fh.sync().catch(() => undefined).finally(() => fh.close()),
    () => undefined,
  );
}

function fsyncDirectorySync(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // see fsyncDirectory
  }
}

/** The leases as they are iterated, each address noted in `bits` (`repeat` called for one already there). */
function* notingAddresses(leases: Iterable<Lease>, bits: AddressBits, repeat: () => void): Generator<Lease> {
  for (const l of leases) {
    if (!bits.add(l.address)) repeat();
    yield l;
  }
}
