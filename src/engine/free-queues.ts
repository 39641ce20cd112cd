/**
 * ISC's per-pool free queues (`pool->free`, `pool->backup`, `pool->abandoned`), kept in memory over the
 * lease store: the inactive leases of each range, one queue per binding-state group, each sorted in ISC's
 * allocation order (`ends` ascending, then the lease-hash walk order). The allocator then looks at queue
 * heads, as ISC `allocate_lease` does, instead of reading every inactive record of the range per DISCOVER
 * (O(pool) SQLite reads per packet: a failover pair starting from a balanced 65,278-lease snapshot spent
 * ~0.2-0.5 s per DISCOVER and answered nothing at 250/s).
 *
 * Built lazily per range from one store scan, then kept current by the store's commit listener (every
 * writer commits through the store: engine, failover, expiry, OMAPI). An offered lease moves to the back
 * of its queue while the offer lives, as ISC sets `ends = now + 120` on an offer (see {@link setOffered}).
 *
 * @module
 */
import type { BindingState, Lease } from '../../leases/lease.js';
import type { CommitListener, LeaseStore } from '../../leases/lease-store.js';

/** ISC LEASE_HASH_SIZE: never-used leases come out of ISC's start-up hash walk by `address mod` this. */
const HASH = 100003;

/** The binding states that {@link queueGroup} puts in a queue. */
const INACTIVE_STATES: readonly BindingState[] = ['free', 'backup', 'expired', 'released', 'reset', 'abandoned'];

/** The queue a binding state belongs to. */
export type QueueGroup = 'free' | 'backup' | 'other' | 'abandoned';

/** Group of an inactive state (undefined for active ones). */
export function queueGroup(state: BindingState): QueueGroup | undefined {
  switch (state) {
    case 'free':
      return 'free';
    case 'backup':
      return 'backup';
    case 'abandoned':
      return 'abandoned';
    case 'expired':
    case 'released':
    case 'reset':
      return 'other';
    default:
      return undefined;
  }
}

interface Entry {
  readonly address: number;
  /** `ends` as the queue orders it (never = 0xffffffff, none = 0), or the offer's end while offered. */
  readonly ends: number;
  readonly hash: number;
  readonly group: QueueGroup;
  /** Removed: left in place (its key still orders the array) until the next compaction. */
  dead: boolean;
}

function before(a: Entry, b: Entry): boolean {
  if (a.ends !== b.ends) return a.ends < b.ends;
  if (a.hash !== b.hash) return a.hash < b.hash;
  return a.address < b.address;
}

/**
 * A sorted array of entries. Removal marks the entry dead (O(1)); the scan starts at `head`, the first
 * live entry, and the array is compacted when half of it is dead, so that taking leases off the front (every
 * allocation) costs no memmove of the whole queue. Insertion is a binary search and a splice into the array
 * while it is small; into a large one it goes to a small sorted side array, merged in when that has
 * {@link SIDE_MAX} entries, and {@link live} walks both in order: an insertion near the head of a queue of
 * tens of thousands (an ended offer filed back; a lease returning to free) was one memmove of the whole
 * array each (15-23 % of a failover primary's CPU at 2,000 DORA/s offered, bench/results/FAILOVER-SPEED-3.md).
 */
const DIRECT_MAX = 2048;
const SIDE_MAX = 256;

class SortedQueue {
  private items: Entry[] = [];
  private head = 0;
  private dead = 0;
  private side: Entry[] = [];

  private static lowerBound(items: readonly Entry[], e: Entry): number {
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(items[mid]!, e)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(e: Entry): void {
    if (this.items.length - this.head <= DIRECT_MAX) {
      const i = SortedQueue.lowerBound(this.items, e);
      this.items.splice(i, 0, e);
      if (i <= this.head) this.head = i;
      return;
    }
    this.side.splice(SortedQueue.lowerBound(this.side, e), 0, e);
    if (this.side.length >= SIDE_MAX) this.compact();
  }

  remove(e: Entry): void {
    if (e.dead) return;
    e.dead = true;
    this.dead++;
    while (this.head < this.items.length && this.items[this.head]!.dead) this.head++;
    if (this.dead > 1024 && this.dead * 2 > this.items.length + this.side.length) this.compact();
  }

  /** One array of the live entries of both, in order. */
  private compact(): void {
    const out: Entry[] = [];
    for (const e of this.live()) out.push(e);
    this.items = out;
    this.side = [];
    this.head = 0;
    this.dead = 0;
  }

  /** Live entries in order. */
  *live(): Iterable<Entry> {
    const items = this.items;
    const side = this.side;
    let i = this.head;
    let j = 0;
    for (;;) {
      while (i < items.length && items[i]!.dead) i++;
      while (j < side.length && side[j]!.dead) j++;
      if (i >= items.length && j >= side.length) return;
      if (j >= side.length || (i < items.length && before(items[i]!, side[j]!))) yield items[i++]!;
      else yield side[j++]!;
    }
  }
}

function endsKey(l: Lease): number {
  return l.ends === null ? 0xffffffff : l.ends;
}

/** The queues of one range. */
class RangeQueues {
  readonly byAddress = new Map<number, Entry>();
  readonly queues: Record<QueueGroup, SortedQueue> = { free: new SortedQueue(), backup: new SortedQueue(), other: new SortedQueue(), abandoned: new SortedQueue() };
  /** Offer ends by address (an offer may come before the range is indexed, or for a lease not yet inactive). */
  constructor(
    readonly first: number,
    readonly last: number,
  ) {}

  upsert(l: Lease, offeredUntil: number | undefined): void {
    const old = this.byAddress.get(l.address);
    if (old !== undefined) {
      this.queues[old.group].remove(old);
      this.byAddress.delete(l.address);
    }
    const group = queueGroup(l.bindingState);
    if (group === undefined) return;
    const e: Entry = { address: l.address, ends: offeredUntil ?? endsKey(l), hash: l.address % HASH, group, dead: false };
    this.byAddress.set(l.address, e);
    this.queues[group].insert(e);
  }

  remove(address: number): void {
    const old = this.byAddress.get(address);
    if (old === undefined) return;
    this.queues[old.group].remove(old);
    this.byAddress.delete(address);
  }

  /** Re-keys an entry (offer start/end) keeping its group. */
  rekey(address: number, ends: number): void {
    const e = this.byAddress.get(address);
    if (e === undefined || e.ends === ends) return;
    this.queues[e.group].remove(e);
    const moved: Entry = { ...e, ends, dead: false };
    this.byAddress.set(address, moved);
    this.queues[e.group].insert(moved);
  }
}

/** The store as the queues need it: a range scan, point lookups and the commit listener. */
export type QueueStore = Pick<LeaseStore, 'leases' | 'getByAddress' | 'onCommit' | 'addresses'>;

/** Whether a lease view can keep free queues (it has a commit listener). */
export function canKeepQueues(store: object): store is QueueStore {
  return typeof (store as { onCommit?: unknown }).onCommit === 'function';
}

/** Free queues for every range the allocator asked about. */
export class FreeQueues {
  private readonly ranges = new Map<string, RangeQueues>();
  /** Ranges sorted by first address (to find the ranges of a committed lease). */
  private list: RangeQueues[] = [];
  /** Live offers: address → until (ISC: an offered lease sorts at `ends = now + 120`). */
  private readonly offered = new Map<number, number>();
  /**
   * Offers ended whose entry still sorts at the offer's end: re-keyed to the lease's own `ends` before the
   * queues are next read, unless a commit of the address (nearly always: the ACK of that offer makes the
   * lease active) re-files it first. Re-keying at once put a never-used lease back at the head of a queue
   * of tens of thousands, one splice of the whole array per ACK, only for the ACK's commit to take it out
   * again (23 % of a failover primary's CPU at 2,000 DORA/s offered; failover engineer's measurement).
   */
  private readonly unoffered = new Set<number>();
  private unsubscribe: (() => void) | undefined;

  /**
   * `onRecorded` hears every address the range scan finds a record for (the lease book's never-used address
   * search then needs no store lookup per recorded address: a pool imported whole would cost one lookup per
   * address at the first DISCOVER).
   */
  constructor(
    private readonly store: QueueStore,
    private readonly onRecorded?: (address: number) => void,
  ) {
    // The listener holds the queues weakly: an engine replaced by a reload must not keep them alive.
    const ref = new WeakRef(this);
    const listener: CommitListener = (info) => {
      const self = ref.deref();
      if (self === undefined) {
        off();
        return;
      }
      for (const l of info.leases) self.onWrite(l);
      for (const a of info.deletedLeases) self.unoffered.delete(a);
      // CommitInfo lists deletions apart from writes, so their order within the transaction is lost: a
      // deleted address takes its final state from the store (deletions are rare).
      for (const a of info.deletedLeases) {
        const now = store.getByAddress(a);
        if (now !== undefined) self.onWrite(now);
        else for (const r of self.rangesOf(a)) r.remove(a);
      }
    };
    const off = store.onCommit(listener);
    this.unsubscribe = off;
  }

  /** Stops following the store. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onWrite(l: Lease): void {
    this.unoffered.delete(l.address);
    for (const r of this.rangesOf(l.address)) r.upsert(l, this.offered.get(l.address));
  }

  private rangesOf(address: number): RangeQueues[] {
    const out: RangeQueues[] = [];
    for (const r of this.list) {
      if (r.first > address) break;
      if (address <= r.last) out.push(r);
    }
    return out;
  }

  private range(first: number, last: number): RangeQueues {
    const key = `${first}-${last}`;
    let r = this.ranges.get(key);
    if (r !== undefined) return r;
    r = new RangeQueues(first, last);
    const recorded = this.store.addresses?.({ from: first, to: last });
    if (recorded !== undefined) {
      // Which addresses are recorded needs no lease decoded; only inactive leases are queued. With 1,000,000
      // active leases this is ~0.7 s of start-up instead of ~15 s decoding every one.
      if (this.onRecorded !== undefined) for (const a of recorded) this.onRecorded(a);
      for (const l of this.store.leases({ from: first, to: last, states: INACTIVE_STATES })) r.upsert(l, this.offered.get(l.address));
    } else {
      for (const l of this.store.leases({ from: first, to: last })) {
        this.onRecorded?.(l.address);
        if (queueGroup(l.bindingState) !== undefined) r.upsert(l, this.offered.get(l.address));
      }
    }
    this.ranges.set(key, r);
    this.list = [...this.ranges.values()].sort((a, b) => a.first - b.first);
    return r;
  }

  /**
   * Whether the address lies in a range whose queues are built: its records were all seen by the range scan
   * (and every later write reaches the commit listener), so a caller that also follows commits knows every
   * recorded address of it without asking the store.
   */
  covers(address: number): boolean {
    for (const r of this.list) {
      if (r.first > address) return false;
      if (address <= r.last) return true;
    }
    return false;
  }

  /** Marks an address offered until `until` (moves it back in its queue) or, with undefined, no longer offered. */
  setOffered(address: number, until: number | undefined): void {
    if (until === undefined) {
      if (this.offered.delete(address)) this.unoffered.add(address);
      return;
    }
    this.unoffered.delete(address);
    this.offered.set(address, until);
    for (const r of this.rangesOf(address)) r.rekey(address, until);
  }

  /** Ended offers not re-filed by a commit go back to their lease's own place (see {@link unoffered}). */
  private refileUnoffered(): void {
    if (this.unoffered.size === 0) return;
    for (const address of this.unoffered) {
      for (const r of this.rangesOf(address)) {
        const l = this.store.getByAddress(address);
        if (l === undefined) r.remove(address);
        else r.rekey(address, endsKey(l));
      }
    }
    this.unoffered.clear();
  }

  /**
   * The inactive records of [first, last], one sorted sequence of addresses per group, in ISC queue order
   * (the caller reads each lease and stops at the first it can use).
   */
  queues(first: number, last: number): Record<QueueGroup, Iterable<{ readonly address: number }>> {
    this.refileUnoffered();
    const r = this.range(first, last);
    return { free: r.queues.free.live(), backup: r.queues.backup.live(), other: r.queues.other.live(), abandoned: r.queues.abandoned.live() };
  }
}
