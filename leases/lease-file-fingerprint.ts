/**
 * What the database knows about the -lf file as dhcpd-ts last wrote (or imported) it: size, modification
 * time and SHA-256, so that at start an edit made to dhcpd.leases while the server was stopped is noticed
 * and read back (an admin moving off ISC expects the file to be the truth, as it is for ISC dhcpd), while
 * the file we wrote ourselves is not read again (start-up stays O(1) in the number of leases).
 *
 * Crash windows are covered: before the mirror renames a new file into place (a flush: a copy with records
 * appended; a compaction: a whole rewrite) or, in the `-user` fallback, appends to it in place, the size
 * (and hash, when known) it is about to produce is recorded as `pending`; a file matching `pending` (the
 * rename completed, its final note did not) is ours, and so is the previous file still in place (the
 * rename never happened: it matches the recorded size and mtime). A file lying between the recorded and
 * the pending size with the recorded content before it (an in-place append cut short) is damaged, never
 * an admin's edit.
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';

/** The fingerprint kept in the database's meta table under {@link FINGERPRINT_KEY}. */
export interface LeaseFileFingerprint {
  /** Absolute path of the file it describes. */
  path: string;
  size: number;
  /** st_mtime in nanoseconds (decimal string: beyond 2^53). */
  mtimeNs: string;
  /** SHA-256 (hex) of the whole file, or null when not known (appends after a start that did not hash it). */
  sha256: string | null;
  /** Records in the file at its last whole write (the mirror's rewrite policy). */
  records: number;
  /** Records appended since. */
  appended: number;
  /** A write in progress: the size (and hash, when known) the file will have once it is done. */
  pending: { size: number; sha256: string | null } | null;
  /**
   * The file holds everything the database holds (set at a clean shutdown and by an import). False while
   * a server runs: after a crash the file may lack the last changes (they are appended within a second),
   * so the next start rewrites it from the database.
   */
  clean: boolean;
}

export const FINGERPRINT_KEY = 'lease-file';

/** Where fingerprints are kept (SqliteLeaseStore's meta table). */
export interface FingerprintStore {
  getMetaValue(key: string): string | null;
  setMetaValue(key: string, value: string | null): void;
}

export function readFingerprint(store: FingerprintStore): LeaseFileFingerprint | null {
  const v = store.getMetaValue(FINGERPRINT_KEY);
  if (v === null) return null;
  try {
    const o = JSON.parse(v) as LeaseFileFingerprint;
    return typeof o.path === 'string' && typeof o.size === 'number' && typeof o.mtimeNs === 'string' ? o : null;
  } catch {
    return null;
  }
}

export function writeFingerprint(store: FingerprintStore, fp: LeaseFileFingerprint | null): void {
  store.setMetaValue(FINGERPRINT_KEY, fp === null ? null : JSON.stringify(fp));
}

/** Size and mtime (ns) of a file, or null when it does not exist. */
export function statFile(path: string): { size: number; mtimeNs: string } | null {
  try {
    const st = statSync(path, { bigint: true });
    return { size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
  } catch {
    return null;
  }
}

/** SHA-256 of a file's bytes, and of its first `prefix` bytes when asked (one pass, 1 MB at a time). */
export function hashFile(path: string, prefix?: number): { sha256: string; prefixSha256: string | null; size: number } {
  const fd = openSync(path, 'r');
  const h = createHash('sha256');
  let prefixSha256: string | null = null;
  let size = 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      let want = buf.length;
      if (prefix !== undefined && prefixSha256 === null) {
        want = Math.min(want, prefix - size);
        if (want <= 0) {
          prefixSha256 = h.copy().digest('hex');
          continue;
        }
      }
      const n = readSync(fd, buf, 0, want, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), prefixSha256, size };
}

/** The state of the -lf file at start, against the recorded fingerprint. */
export type LeaseFileState =
  /** The file is as we last wrote it (or a write of ours completed after the last record). */
  | { kind: 'ours'; size: number; mtimeNs: string; sha256: string | null }
  /** A write of ours was cut short (crash): the file must be rewritten from the database, not read. */
  | { kind: 'damaged' }
  /** Changed since we wrote it: an edit to read back. */
  | { kind: 'edited'; was: { size: number; mtimeNs: string }; now: { size: number; mtimeNs: string } }
  /** Nothing to compare with (no fingerprint, another path, or no file): the database is the truth. */
  | { kind: 'unknown' };

/** Compares the file at `path` with the fingerprint recorded for it. */
export function checkLeaseFile(path: string, fp: LeaseFileFingerprint | null): LeaseFileState {
  const st = statFile(path);
  if (fp === null || fp.path !== path || st === null) return { kind: 'unknown' };
  if (st.size === fp.size && st.mtimeNs === fp.mtimeNs) return { kind: 'ours', ...st, sha256: fp.sha256 };
  // Shorter and not newer than our last write: our own last appends never reached the disk (power loss,
  // disk fault; they are not fsynced), not an edit: rewrite it from the database instead of importing it.
  if (st.size < fp.size && BigInt(st.mtimeNs) <= BigInt(fp.mtimeNs)) return { kind: 'damaged' };
  const p = fp.pending;
  // Cheap cases first: a pending write whose size matches, hash unknown (appends after a start that did
  // not hash the file): the write completed before its final record.
  if (p !== null && p.sha256 === null && st.size === p.size) return { kind: 'ours', ...st, sha256: null };
  const needPrefix = p !== null && st.size > fp.size && st.size < p.size;
  if (fp.sha256 === null && !needPrefix && (p === null || p.sha256 === null)) {
    return { kind: 'edited', was: { size: fp.size, mtimeNs: fp.mtimeNs }, now: st };
  }
  const h = hashFile(path, needPrefix ? fp.size : undefined);
  if (fp.sha256 !== null && h.sha256 === fp.sha256) return { kind: 'ours', size: h.size, mtimeNs: st.mtimeNs, sha256: h.sha256 }; // touched only
  if (p !== null && p.sha256 !== null && h.sha256 === p.sha256) return { kind: 'ours', size: h.size, mtimeNs: st.mtimeNs, sha256: h.sha256 };
  // An append cut short: our recorded content, then part of the pending append.
  if (needPrefix && fp.sha256 !== null && h.prefixSha256 === fp.sha256) return { kind: 'damaged' };
  if (needPrefix && fp.sha256 === null) return { kind: 'damaged' };
  return { kind: 'edited', was: { size: fp.size, mtimeNs: fp.mtimeNs }, now: st };
}
