/**
 * Wires ISC failover (src/failover) to the lease store and the DHCP engine: one {@link FailoverStore} per
 * `failover peer` over the SQLite {@link LeaseStore}, and {@link startFailover} whose policy goes into the
 * engine's ports. Used by {@link import('./dhcp-server.js').startDhcpServer} when the config declares
 * failover peers.
 *
 * @module
 */
import type { Config, FailoverPeer as ConfigFailoverPeer, Pool } from '../config/model.js';
import { emptyLease, type FailoverStateRecord, type Lease } from '../../leases/lease.js';
import type { LeaseStore } from '../../leases/lease-store.js';
import type { Logger } from '../log/logger.js';
import type { FailoverPool, FailoverStore, AddressOwner } from '../failover/ports.js';
import type { FailoverRuntime } from '../failover/engine.js';
import { AddressIndex } from '../policy/network.js';

/** The pools of one relationship and their leases, over the lease store (never-used addresses as fresh leases). */
export function failoverStoreFor(config: Config, store: LeaseStore, peerName: string): FailoverStore {
  const index = new AddressIndex(config);
  const usesPeer = (p: Pool | undefined): boolean => p !== undefined && p.failoverPeer === peerName && !p.noFailover;
  const pools: FailoverPool[] = config.pools.filter(usesPeer).map((pool) => ({
    id: `pool-${pool.index}`,
    label: pool.sharedNetwork.name,
    *leases(): Iterable<Lease> {
      for (const r of pool.ranges) {
        const recorded = new Map<number, Lease>();
        for (const l of store.leases({ from: r.first, to: r.last })) recorded.set(l.address, l);
        for (let a = r.first; a <= r.last; a++) yield recorded.get(a) ?? emptyLease(a);
      }
    },
  }));
  return {
    pools: () => pools,
    get(address: number): Lease | undefined {
      const pool = index.rangeOf(address)?.pool;
      if (!usesPeer(pool)) return undefined;
      return store.getByAddress(address) ?? emptyLease(address);
    },
    ownerOf(address: number): AddressOwner {
      const pool = index.rangeOf(address)?.pool;
      if (pool === undefined) return 'unknown';
      return usesPeer(pool) ? 'this-relationship' : 'other-relationship';
    },
    commit: (leases) => store.commit(leases),
    loadState: (peer) => store.getFailoverState(peer),
    saveState: (record: FailoverStateRecord) => store.write((w) => w.putFailoverState(record)),
  };
}

/** Starts every failover relationship of the config (or returns undefined when there is none). */
export async function startConfiguredFailover(config: Config, store: LeaseStore, logger: Logger): Promise<FailoverRuntime | undefined> {
  if (config.failoverPeers.size === 0) return undefined;
  const { startFailover } = await import('../failover/engine.js');
  return startFailover(
    config.failoverPeers as ReadonlyMap<string, ConfigFailoverPeer>,
    (peer) => failoverStoreFor(config, store, peer.name),
    logger,
  );
}
