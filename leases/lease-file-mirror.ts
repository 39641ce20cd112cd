/**
 * Keeps `-lf FILE` current as an ISC-format view of the lease database while the server runs, so that
 * dhcpd-pools, scripts that parse dhcpd.leases and `dhcpd -T` keep working against it.
 *
 * After each committed write the file is rewritten within `debounceMs` (default 2 s; a burst of commits is
 * one rewrite), via a temporary file renamed into place; and once more at {@link LeaseFileMirror.close}.
 * The database stays the source of truth: the file is never read back while running.
 *
 * @module
 */
import type { LeaseStore } from './lease-store.js';
import { formatStoreAsLeaseFile, type LeaseFileFormatOptions } from './isc-lease-file.js';
import { writeFileAtomically } from './atomic-write.js';

export interface LeaseFileMirrorOptions {
  /** Longest delay between a commit and the rewrite (ms). Default 2000. */
  debounceMs?: number;
  format?: LeaseFileFormatOptions;
  /** Called when a rewrite fails (the server logs it; the next commit retries). */
  onError?: (e: unknown) => void;
}

/** Mirrors a {@link LeaseStore} into an ISC dhcpd.leases file. */
export class LeaseFileMirror {
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private readonly unsubscribe: () => void;
  private closed = false;
  /** Number of rewrites done (for tests and the status log). */
  writes = 0;

  constructor(
    private readonly store: LeaseStore,
    readonly path: string,
    private readonly options: LeaseFileMirrorOptions = {},
  ) {
    this.unsubscribe = store.onCommit(() => this.changed());
  }

  /** Marks the view stale and schedules a rewrite (first change of a burst starts the clock). */
  changed(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.options.debounceMs ?? 2000);
    this.timer.unref();
  }

  /** Rewrites the file now if anything changed since the last rewrite (or `force`). */
  flush(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    try {
      const text = formatStoreAsLeaseFile(this.store, this.options.format);
      writeFileAtomically(this.path, Buffer.from(text, 'latin1'));
      this.writes++;
    } catch (e) {
      this.dirty = true;
      this.options.onError?.(e);
    }
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
