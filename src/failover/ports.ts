/**
 * What the failover engine needs from the rest of the server (CONTRACT for the lead's wiring): lease access
 * for the pools of one relationship, and persistence of the failover state record.
 *
 * The lease shape is the DHCP engine's {@link EngineLease} (src/engine/ports.ts) plus the one field failover
 * alone needs (`rewindBindingState`), so the same objects flow between engine, failover and store.
 *
 * @module
 */
import type { FailoverStateRecord, Lease } from '../../leases/lease.js';

/**
 * A lease as failover sees it: the lease store's record (leases/lease.ts), which is also the DHCP engine's
 * `EngineLease`. Failover reads and writes tstp/tsfp/atsfp/cltt, bindingState, rewindBindingState,
 * starts/ends, hardware, uid, reserved/dynamicBootp.
 */
export type FailoverLease = Lease;
export type { FailoverStateRecord };

/** One `pool { failover peer "NAME"; ... }` (pool balancing works per pool, §8). */
export interface FailoverPool {
  /** Stable identifier (used as ISC's HEXPTR in the balancing log lines). */
  readonly id: string;
  /** Shared-network name for log lines (`10.77.0.0/24` for a bare subnet). */
  readonly label: string;
  /** The pool's leases (every address of its ranges, including never-used ones). */
  leases(): Iterable<FailoverLease>;
  /**
   * Optional fast path: how many leases of the pool are free and backup (never-used addresses count as
   * free), without reading every lease (ISC keeps these as pool counters). Without it, {@link leases} is
   * counted.
   */
  stateCounts?(): { free: number; backup: number };
  /** Optional: whether an address is in one of the pool's ranges. */
  contains?(address: number): boolean;
}

/** Where an address belongs, for BNDUPD validation (§6.3 reject reason 1). */
export type AddressOwner = 'this-relationship' | 'other-relationship' | 'unknown';

/** Lease and state storage for one failover relationship (implemented by the lead over the SQLite store). */
export interface FailoverStore {
  /** The pools that use this relationship. */
  pools(): readonly FailoverPool[];
  /** The lease for an address of those pools (a never-used one too), or undefined. */
  get(address: number): FailoverLease | undefined;
  /** Which relationship an address belongs to. */
  ownerOf(address: number): AddressOwner;
  /**
   * Persists changed leases (durable before it returns/resolves; LeaseStore.commit fits). The objects
   * passed are the ones returned by get()/pools(), mutated in place. With `durable: false` the leases must
   * be written (visible to get() at once) but may reach the disk later (ISC's `commit_leases_timeout`,
   * within 2 s): nothing waits for them.
   */
  commit(leases: readonly FailoverLease[], options?: { readonly durable?: boolean }): void | Promise<void>;
  /** The saved `failover peer "NAME" state { ... }` record (LeaseStore.getFailoverState fits). */
  loadState(peer: string): FailoverStateRecord | undefined;
  /** Persists the state record (ISC writes it on every transition and every accepted peer STATE). */
  saveState(record: FailoverStateRecord): void | Promise<void>;
}
