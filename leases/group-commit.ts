/**
 * Group commit: everything queued during one event-loop turn is written in ONE durable transaction.
 *
 * ISC's equivalent is `delayed-ack` (dhcpd.conf(5)): replies wait until one fsync covers all their leases.
 * Here the engine calls {@link GroupCommitter.commit} (or {@link GroupCommitter.enqueue}) per request and
 * awaits it before sending the reply; the flush runs in a `setImmediate` callback, i.e. after every I/O
 * callback of the current turn, so all requests read from the socket in that turn share one fsync.
 *
 * @module
 */
import type { Lease } from './lease.js';
import type { LeaseStore, LeaseStoreWriter } from './lease-store.js';

interface Pending {
  fn: (w: LeaseStoreWriter) => void;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Counters for the benchmark and the status log. */
export interface GroupCommitStats {
  /** Transactions committed. */
  transactions: number;
  /** Operations (enqueue/commit calls) committed. */
  operations: number;
  /** Largest number of operations in one transaction. */
  largestBatch: number;
}

/** Batches the writes of one event-loop turn into one {@link LeaseStore.write}. */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  readonly stats: GroupCommitStats = { transactions: 0, operations: 0, largestBatch: 0 };

  constructor(private readonly store: LeaseStore) {}

  /** Resolves once these leases are durable (together with everything else queued this turn). */
  commit(leases: readonly Lease[]): Promise<void> {
    return this.enqueue((w) => {
      for (const l of leases) w.putLease(l);
    });
  }

  /**
   * Queues arbitrary writes (leases, failover state, hosts). `fn` runs inside the shared transaction; if
   * any queued `fn` throws, the whole batch rolls back and every caller of the batch gets the error (none
   * of their replies may be sent).
   */
  enqueue(fn: (w: LeaseStoreWriter) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Number of operations waiting for the next flush. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued now (synchronously), then settles the callers' promises. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    try {
      this.store.write((w) => {
        for (const p of batch) p.fn(w);
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    this.stats.transactions++;
    this.stats.operations += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    for (const p of batch) p.resolve();
  }
}
