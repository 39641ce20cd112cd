/**
 * Free/backup counts of one failover pool over the lease store (ISC keeps `free_leases`/`backup_leases` per
 * pool; load balancing's "peer has free leases" check and the pool-balance messages read them).
 *
 * Built at start from SQL-side counts ({@link LeaseStore.countByState}) and the addresses of the recorded
 * leases that are not free ({@link LeaseStore.addresses}), never decoding a lease; then kept by the store's
 * commit listener. To adjust the counts on a write the previous state group of the address must be known:
 * it is kept in one byte per address of each range (a 1,000,000-address pool: 1 MB), not in a map of objects.
 *
 * @module
 */
import type { BindingState } from '../../leases/lease.js';
import type { LeaseStore } from '../../leases/lease-store.js';

/** An inclusive address range (uint32) of a pool. */
export interface CountedRange {
  readonly first: number;
  readonly last: number;
}

/** State groups as kept per address: never-used addresses read as free (0), the default of a typed array. */
const FREE = 0;
const BACKUP = 1;
const OTHER = 2;
type Group = typeof FREE | typeof BACKUP | typeof OTHER;

/** The states that count neither as free nor as backup (every state the store can record but those two). */
const OTHER_STATES: readonly BindingState[] = ['active', 'expired', 'released', 'abandoned', 'reset', 'reserved', 'bootp'];

/** Larger ranges keep their non-free addresses in a sparse map instead of one byte per address. */
const DENSE_LIMIT = 1 << 24;

function groupOf(state: string): Group {
  return state === 'free' ? FREE : state === 'backup' ? BACKUP : OTHER;
}

/** The state group of every address of one range. */
class RangeGroups {
  private readonly dense: Uint8Array | undefined;
  private readonly sparse: Map<number, Group> | undefined;

  constructor(readonly range: CountedRange) {
    const size = range.last - range.first + 1;
    if (size <= DENSE_LIMIT) this.dense = new Uint8Array(size);
    else this.sparse = new Map();
  }

  get(address: number): Group {
    if (this.dense) return this.dense[address - this.range.first] as Group;
    return this.sparse?.get(address) ?? FREE;
  }

  set(address: number, g: Group): void {
    if (this.dense) this.dense[address - this.range.first] = g;
    else if (g === FREE) this.sparse?.delete(address);
    else this.sparse?.set(address, g);
  }
}

/** Free/backup counts of one pool (never-used addresses count as free), kept current by commit listening. */
export class PoolCounters {
  private free = 0;
  private backup = 0;
  private readonly groups: RangeGroups[];

  constructor(ranges: readonly CountedRange[], store: LeaseStore) {
    this.groups = ranges.map((r) => new RangeGroups(r));
    for (const g of this.groups) {
      const { first, last } = g.range;
      const counts = store.countByState({ from: first, to: last });
      let recorded = 0;
      for (const n of Object.values(counts)) recorded += n ?? 0;
      this.free += (counts.free ?? 0) + (last - first + 1 - recorded);
      this.backup += counts.backup ?? 0;
      if (store.addresses) {
        for (const a of store.addresses({ from: first, to: last, states: ['backup'] })) g.set(a, BACKUP);
        for (const a of store.addresses({ from: first, to: last, states: OTHER_STATES })) g.set(a, OTHER);
      } else {
        // A store without the address scan: decode the non-free leases (slower, same result).
        for (const l of store.leases({ from: first, to: last })) g.set(l.address, groupOf(l.bindingState));
      }
    }
    const ref = new WeakRef(this);
    const off = store.onCommit((info) => {
      const self = ref.deref();
      if (self === undefined) return void off();
      for (const l of info.leases) self.update(l.address, l.bindingState);
      // CommitInfo keeps writes and deletions apart, so their order within the transaction is lost (a
      // deletion then a write of one address leaves a record): a deleted address reads its final state
      // back from the store (none: never used, free). Deletions are rare, so this costs little.
      for (const a of info.deletedLeases) if (self.rangeOf(a)) self.update(a, store.getByAddress(a)?.bindingState ?? 'free');
    });
  }

  private rangeOf(address: number): RangeGroups | undefined {
    return this.groups.find((g) => address >= g.range.first && address <= g.range.last);
  }

  private update(address: number, state: string): void {
    const g = this.rangeOf(address);
    if (g === undefined) return;
    const old = g.get(address);
    const now = groupOf(state);
    if (old === now) return;
    if (old === FREE) this.free--;
    else if (old === BACKUP) this.backup--;
    if (now === FREE) this.free++;
    else if (now === BACKUP) this.backup++;
    g.set(address, now);
  }

  /** The pool's current free and backup counts. */
  counts(): { free: number; backup: number } {
    return { free: this.free, backup: this.backup };
  }
}
