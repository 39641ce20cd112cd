/**
 * Wires ISC failover (src/failover) to the lease store and the DHCP engine: one {@link FailoverStore} per
 * `failover peer` over the SQLite {@link LeaseStore}, and {@link startFailover} whose policy goes into the
 * engine's ports. Used by {@link import('./dhcp-server.js').startDhcpServer} when the config declares
 * failover peers.
 *
 * @module
 */
import type { Config, FailoverPeer as ConfigFailoverPeer, Pool } from '../config/model.js';
import { cloneLease, emptyLease, type FailoverStateRecord, type Lease } from '../../leases/lease.js';
import type { LeaseStore } from '../../leases/lease-store.js';
import { asDeferredSyncStore, sharedWalSync, type DeferredSyncStore, type WalSync } from './wal-sync.js';
import type { Logger } from '../log/logger.js';
import type { FailoverPool, FailoverStore, AddressOwner } from '../failover/ports.js';
import type { FailoverHooks, FailoverRuntime } from '../failover/engine.js';

/** The config in use by each runtime's hooks (updated by a reload). */
const configOf = new WeakMap<FailoverRuntime, { config: Config }>();
import { AddressIndex } from '../policy/network.js';
import { PoolCounters } from '../failover/pool-counters.js';

/**
 * The last written copy of recently changed leases, from the store's commit listener: the failover engine
 * reads a lease for every BNDUPD it sends and every BNDUPD/BNDACK it receives, nearly always one just
 * written, and a SQLite read + decode per message was ~9 % of a pair's failover CPU. Bounded (oldest out).
 */
class RecentLeases {
  private readonly map = new Map<number, Lease>();

  constructor(store: LeaseStore, private readonly limit = 16_384) {
    store.onCommit((info) => {
      for (const a of info.deletedLeases) this.map.delete(a);
      for (const l of info.leases) {
        this.map.delete(l.address);
        this.map.set(l.address, l);
      }
      while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as number);
    });
  }

  /** A private copy (callers change the lease they get), or undefined when not cached. */
  get(address: number): Lease | undefined {
    const l = this.map.get(address);
    return l === undefined ? undefined : cloneLease(l);
  }
}

/** One per lease store, shared by its relationships (a reload starts them again on the same store). */
const perStore = new WeakMap<LeaseStore, { unsynced: DeferredSyncStore | undefined; recent: RecentLeases }>();

function storeHelpers(store: LeaseStore): { unsynced: DeferredSyncStore | undefined; recent: RecentLeases } {
  let h = perStore.get(store);
  if (h === undefined) {
    const deferrable = asDeferredSyncStore(store);
    h = { unsynced: deferrable?.fsyncsCommits === true ? deferrable : undefined, recent: new RecentLeases(store) };
    perStore.set(store, h);
  }
  return h;
}

/**
 * Failover commits are written with synchronous=NORMAL and made durable by the store's shared group fsync of
 * the WAL on libuv's pool (src/server/wal-sync.ts, the same one as the DHCP server's turns): a
 * synchronous=FULL commit blocked the event loop for the fsync (measured: 22-25 % of each server's wall time
 * in a pair at 2,000 DORA/s offered), and a pair has a commit for nearly every BNDUPD and BNDACK. A BNDUPD is
 * still acknowledged only after its lease is on disk (ISC: the binding is written and committed before the
 * BNDACK). Undefined (commits stay synchronous) when the store has no WAL to sync.
 */
function walSyncOf(unsynced: DeferredSyncStore): WalSync | undefined {
  try {
    return sharedWalSync(unsynced);
  } catch {
    return undefined;
  }
}

/** WAL syncs with a lazy fsync already scheduled. */
const lazySyncs = new WeakSet<WalSync>();

/**
 * Writes nobody waits for (the sender's bookkeeping after a BNDACK) reach the disk with the next fsync of the
 * WAL, which a DHCP turn or a received BNDUPD nearly always starts within milliseconds, and at the latest 2 s
 * later: ISC writes such a lease and commits the lease file on a 2 s timer (commit_leases_timeout), instead of
 * an fsync per BNDACK. A crash before then only makes the lease look un-acked (tstp > atsfp), so it is sent
 * again after the restart, as with ISC.
 */
function syncLater(sync: WalSync): void {
  if (lazySyncs.has(sync)) return;
  lazySyncs.add(sync);
  setTimeout(() => {
    lazySyncs.delete(sync);
    if (!sync.isClosed) sync.afterDurable(() => undefined);
  }, 2000).unref();
}

/** The pools of one relationship and their leases, over the lease store (never-used addresses as fresh leases). */
export function failoverStoreFor(config: Config, store: LeaseStore, peerName: string): FailoverStore {
  const index = new AddressIndex(config);
  const usesPeer = (p: Pool | undefined): boolean => p !== undefined && p.failoverPeer === peerName && !p.noFailover;
  const pools: FailoverPool[] = config.pools.filter(usesPeer).map((pool) => ({
    id: `pool-${pool.index}`,
    label: pool.sharedNetwork.name,
    *leases(): Iterable<Lease> {
      for (const r of pool.ranges) {
        // Merge the store's records (address order) with the never-used addresses between them.
        let next = r.first;
        for (const l of store.leases({ from: r.first, to: r.last })) {
          for (; next < l.address; next++) yield emptyLease(next);
          yield l;
          next = l.address + 1;
        }
        for (; next <= r.last; next++) yield emptyLease(next);
      }
    },
    stateCounts: () => counters(pool).counts(),
    contains: (address: number): boolean => pool.ranges.some((r) => address >= r.first && address <= r.last),
  }));
  // Pool counters (ISC keeps free/backup counts per pool): built once from the store, then kept by its
  // commit listener, so that load balancing's "peer has free leases" check costs nothing per DISCOVER.
  const counterMap = new Map<Pool, PoolCounters>();
  const counters = (pool: Pool): PoolCounters => {
    let c = counterMap.get(pool);
    if (c === undefined) {
      c = new PoolCounters(pool.ranges, store);
      counterMap.set(pool, c);
    }
    return c;
  };
  // Counted now (at start, like ISC's pool counters), not at the first DISCOVER of a busy server.
  for (const pool of config.pools) if (usesPeer(pool)) counters(pool);
  const { unsynced, recent } = storeHelpers(store);
  return {
    pools: () => pools,
    get(address: number): Lease | undefined {
      const pool = index.rangeOf(address)?.pool;
      if (!usesPeer(pool)) return undefined;
      return recent.get(address) ?? store.getByAddress(address) ?? emptyLease(address);
    },
    ownerOf(address: number): AddressOwner {
      const pool = index.rangeOf(address)?.pool;
      if (pool === undefined) return 'unknown';
      return usesPeer(pool) ? 'this-relationship' : 'other-relationship';
    },
    commit: (leases, options) => {
      const sync = unsynced === undefined ? undefined : walSyncOf(unsynced);
      if (unsynced === undefined || sync === undefined) return store.commit(leases);
      if (leases.length === 0) return;
      unsynced.writeWithoutSync((w) => {
        for (const l of leases) w.putLease(l);
      });
      if (options?.durable === false) {
        syncLater(sync);
        return;
      }
      return sync.durable();
    },
    loadState: (peer) => store.getFailoverState(peer),
    saveState: (record: FailoverStateRecord) => store.write((w) => w.putFailoverState(record)),
  };
}

/**
 * What identifies a relationship for a reload: its `failover peer` declaration and the ranges of the pools
 * that use it (a pool moved in or out changes what the relationship covers).
 */
export function relationshipKey(config: Config, peer: ConfigFailoverPeer, failoverPeerKey: (peer: ConfigFailoverPeer) => string): string {
  const ranges = config.pools
    .filter((p) => p.failoverPeer === peer.name && !p.noFailover)
    .flatMap((p) => p.ranges.map((r) => `${r.first}-${r.last}`))
    .sort();
  return `${failoverPeerKey(peer)} ${ranges.join(',')}`;
}

/**
 * SIGHUP with failover (ISC re-reads its config only by restart, which restarts every relationship): the
 * relationships whose declaration or pools changed restart, removed ones stop, new ones start, the others
 * keep running untouched. Returns the runtime to use from now on (a new one when the old config had no
 * `failover peer`; undefined when neither has).
 */
export async function reloadConfiguredFailover(
  runtime: FailoverRuntime | undefined,
  config: Config,
  store: LeaseStore,
  logger: Logger,
): Promise<FailoverRuntime | undefined> {
  if (runtime === undefined) return startConfiguredFailover(config, store, logger);
  const current = configOf.get(runtime);
  if (current) current.config = config;
  const { failoverPeerKey } = await import('../failover/engine.js');
  const r = await runtime.reconfigure(
    config.failoverPeers as ReadonlyMap<string, ConfigFailoverPeer>,
    (peer) => failoverStoreFor(config, store, peer.name),
    (peer) => relationshipKey(config, peer, failoverPeerKey),
  );
  if (r.kept.length > 0) logger.debug(`failover: unchanged, kept running: ${r.kept.join(', ')}`);
  return runtime;
}

/** Starts every failover relationship of the config (or returns undefined when there is none). */
export async function startConfiguredFailover(config: Config, store: LeaseStore, logger: Logger): Promise<FailoverRuntime | undefined> {
  if (config.failoverPeers.size === 0) return undefined;
  const { startFailover, failoverPeerKey } = await import('../failover/engine.js');
  const { makeBindingStateTransition } = await import('../../leases/expiry.js');
  const { runOnStatements } = await import('../engine/on-statements.js');
  const current = { config };
  const hooks: FailoverHooks = {
    // ISC process_state_transition with a peer: a lease going from active/expired to free or backup is the
    // expiry event: its `on expiry` statements run, client-specific bindings go, tstp = ends.
    onExpiryDone(lease, from, now) {
      const r = makeBindingStateTransition({ ...lease, bindingState: from, nextBindingState: lease.bindingState }, { failover: true });
      if (r.statements !== null && r.event !== null) runOnStatements({ config: current.config, lease: r.lease, event: r.event, text: r.statements, logger, now });
      Object.assign(lease, r.lease, { bindingState: lease.bindingState, nextBindingState: lease.nextBindingState });
    },
  };
  const runtime = await startFailover(
    config.failoverPeers as ReadonlyMap<string, ConfigFailoverPeer>,
    (peer) => failoverStoreFor(config, store, peer.name),
    logger,
    undefined,
    (peer) => relationshipKey(config, peer, failoverPeerKey),
    hooks,
  );
  configOf.set(runtime, current);
  return runtime;
}
