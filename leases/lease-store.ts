/**
 * The lease store contract (CONTRACT: add, don't rename).
 *
 * A `LeaseStore` holds every lease, run-time host, group and class record, failover state record and the
 * server DUID; the SQLite implementation is leases/sqlite-lease-store.ts (`openSqliteLeaseStore`).
 *
 * Durability is ISC's promise (server/db.c `commit_leases` fsyncs before the reply goes out): every write
 * method is synchronous and, when it returns, the data is on disk (SQLite WAL + `synchronous=FULL`;
 * `dont-use-fsync` maps to `synchronous=NORMAL`, which survives a process crash but not a power loss).
 *
 * Group commit: the engine collects the decisions of one event-loop turn and writes them with ONE call to
 * {@link LeaseStore.write} (or {@link LeaseStore.commit}), i.e. one transaction and one fsync, then sends
 * the replies of that turn. {@link GroupCommitter} in leases/group-commit.ts does the collecting for
 * callers that prefer `await commit(leases)` per request.
 *
 * @module
 */
import type {
  BindingState,
  ClassRecord,
  FailoverStateRecord,
  GroupRecord,
  HardwareAddress,
  HostRecord,
  Lease,
  LeaseFileMeta,
} from './lease.js';

/** Which leases to iterate. All criteria combine with AND. */
export interface LeaseQuery {
  /** Lowest address (uint32, inclusive): a pool's or range's low end. */
  from?: number;
  /** Highest address (uint32, inclusive). */
  to?: number;
  /** Only leases in one of these binding states. */
  states?: readonly BindingState[];
}

/** The writes of one transaction. Everything written through it commits together or not at all. */
export interface LeaseStoreWriter {
  /** Inserts or replaces the lease for `lease.address`. */
  putLease(lease: Lease): void;
  /** Removes the lease record for an address (the address then reads as absent, i.e. never used). */
  deleteLease(address: number): void;
  /** Inserts or replaces a host record by name (a `deleted` host is kept as a record, as ISC does). */
  putHost(host: HostRecord): void;
  /** Removes a host record altogether. */
  deleteHost(name: string): void;
  putGroup(group: GroupRecord): void;
  /** Inserts or replaces a class record, keyed by name and subclass data. */
  putClass(cls: ClassRecord): void;
  /** Inserts or replaces the state record of one failover relationship. */
  putFailoverState(state: FailoverStateRecord): void;
  setServerDuid(duid: Buffer | null): void;
  setAuthoringByteOrder(order: LeaseFileMeta['authoringByteOrder']): void;
}

/** Counts of leases per binding state. */
export type StateCounts = Partial<Record<BindingState, number>>;

/** What one committed transaction changed (passed to {@link CommitListener}s). */
export interface CommitInfo {
  /** Leases written (copies taken at write time), in write order. */
  leases: readonly Lease[];
  /** Addresses whose lease record was deleted. */
  deletedLeases: readonly number[];
  hosts: readonly HostRecord[];
  failoverStates: readonly FailoverStateRecord[];
  /** Something else changed (deleted host, group, class, server-duid, byte order). */
  otherChanges: boolean;
}

/** Called after each committed transaction (the lease-file mirror appends or rewrites -lf from it). */
export type CommitListener = (info: CommitInfo) => void;

/** The lease database. All methods are synchronous (better-sqlite3); writes are durable when they return. */
export interface LeaseStore {
  /** The database file. */
  readonly path: string;

  /** The lease for an address, or undefined when none is recorded. */
  getByAddress(address: number): Lease | undefined;
  /** Leases whose hardware address matches (type and octets), in address order. */
  getByHardware(hardware: HardwareAddress): Lease[];
  /** Leases whose client identifier equals `uid`, by address. */
  getByUid(uid: Buffer): Lease[];
  /** Iterates leases in address order; use `from`/`to` for a pool or range, `states` for a state. */
  leases(query?: LeaseQuery): IterableIterator<Lease>;
  /**
   * Addresses of the lease records within the query, in address order, without decoding the leases: for a
   * scan that only needs to know which addresses are recorded (1,000,000 of them in well under a second,
   * where {@link leases} decodes every record: ~15 s). Optional so that other stores may leave it out.
   */
  addresses?(query?: LeaseQuery): Uint32Array;
  /** Number of leases per binding state within the query. */
  countByState(query?: LeaseQuery): StateCounts;
  /** Total number of lease records. */
  leaseCount(): number;

  /**
   * Leases whose `ends` has passed (`ends <= now`, never = not) and whose next binding state differs from
   * the binding state: those the expiry pass must move on (ISC `pool_timer`). In `ends` order.
   */
  expiredAt(now: number, limit?: number): Lease[];
  /** The earliest `ends` (> 0, not never) of a lease that would be picked by {@link expiredAt}; null if none. */
  nextExpiry(): number | null;

  hosts(): HostRecord[];
  getHost(name: string): HostRecord | undefined;
  groups(): GroupRecord[];
  classes(): ClassRecord[];
  failoverStates(): FailoverStateRecord[];
  getFailoverState(peer: string): FailoverStateRecord | undefined;
  meta(): LeaseFileMeta;

  /**
   * Runs `fn` in one transaction and commits it durably before returning (one fsync). If `fn` throws,
   * nothing is written and the error propagates. Nested calls join the outer transaction.
   */
  write(fn: (w: LeaseStoreWriter) => void): void;
  /** Shorthand: writes these leases in one durable transaction. */
  commit(leases: readonly Lease[]): void;

  /** Registers a listener called after every committed write; returns a function that removes it. */
  onCommit(listener: CommitListener): () => void;

  /** Registers a listener called at the start of {@link close} (while the store is still readable). */
  onClose(listener: () => void): () => void;

  /** Checkpoints the WAL and closes the database. */
  close(): void;
}

/** How to open a store. */
export interface LeaseStoreOptions {
  /**
   * `dont-use-fsync` from dhcpd.conf: synchronous=NORMAL instead of FULL (committed transactions survive a
   * process crash but may roll back after a power loss or OS crash).
   */
  dontUseFsync?: boolean;
  /** Open read-only (export, dhcpd-pools-like readers). The database must exist. */
  readOnly?: boolean;
  /** Create the database when it does not exist (default true unless readOnly). */
  create?: boolean;
  /**
   * Check the database at open: `'quick'` (default) runs `PRAGMA quick_check` (every page and record, O(N),
   * ~1.6 s for 1M leases here), `true` the full `integrity_check` (adds index cross-checks, ~10 s for 1M),
   * `false` none.
   */
  integrityCheck?: boolean | 'quick';
}

/** Thrown when a database cannot be used: corrupt, not ours, or newer than this code. Never auto-repaired. */
export class LeaseStoreError extends Error {
  constructor(
    /** The database path. */
    readonly path: string,
    message: string,
    /** Error category for callers deciding the exit status/log text. */
    readonly kind: 'corrupt' | 'not-a-lease-database' | 'too-new' | 'io',
  ) {
    super(`${path}: ${message}`);
    this.name = 'LeaseStoreError';
  }
}
