/**
 * Which shared network and subnet a request belongs to (ISC `locate_network`, `find_subnet`,
 * `find_grouped_subnet`), and an index from addresses to ranges/pools/subnets. Pure over the config.
 *
 * @module
 */
import type { AddressRange, Config, Pool, SharedNetwork, Subnet } from '../config/model.js';

/** A range with its pool (every range belongs to exactly one pool, explicit or implicit). */
export interface RangeEntry {
  readonly range: AddressRange;
  readonly pool: Pool;
}

/** Address lookups over a config, built once per config. */
export class AddressIndex {
  /** Ranges sorted by first address. */
  private readonly ranges: RangeEntry[];
  /** Subnets sorted by prefix length, longest first (most specific match wins, as ISC's find_subnet). */
  private readonly subnets: Subnet[];

  constructor(readonly config: Config) {
    this.ranges = [];
    for (const pool of config.pools) for (const range of pool.ranges) this.ranges.push({ range, pool });
    this.ranges.sort((a, b) => a.range.first - b.range.first);
    this.subnets = [...config.subnets].sort((a, b) => b.prefixLength - a.prefixLength);
  }

  /** The range (and pool) containing `address`, if any. */
  rangeOf(address: number): RangeEntry | undefined {
    const a = address >>> 0;
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]!.range.first <= a) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Ranges do not overlap in a valid config, but scan back a little in case they do.
    for (let i = found; i >= 0 && i >= found - 4; i--) {
      const e = this.ranges[i]!;
      if (e.range.first <= a && a <= e.range.last) return e;
    }
    return undefined;
  }

  /** ISC find_subnet: the subnet containing `address` (most specific first). */
  subnetOf(address: number): Subnet | undefined {
    const a = address >>> 0;
    for (const s of this.subnets) if (((a & s.netmask) >>> 0) === s.network >>> 0) return s;
    return undefined;
  }

  /** ISC find_grouped_subnet: a subnet of `share` containing `address`. */
  groupedSubnetOf(share: SharedNetwork, address: number): Subnet | undefined {
    const a = address >>> 0;
    let best: Subnet | undefined;
    for (const s of share.subnets) {
      if (((a & s.netmask) >>> 0) === s.network >>> 0 && (best === undefined || s.prefixLength > best.prefixLength)) best = s;
    }
    return best;
  }

  /** Every range entry of a shared network's pools, in pool order. */
  rangesOf(share: SharedNetwork): RangeEntry[] {
    const out: RangeEntry[] = [];
    for (const pool of share.pools) for (const range of pool.ranges) out.push({ range, pool });
    return out;
  }
}

/** An interface as the policy needs it: name and IPv4 addresses (uint32, primary first). */
export interface PolicyInterface {
  readonly name: string;
  readonly addresses: readonly number[];
}

/**
 * The shared network an interface is attached to (ISC discover_interfaces: the subnet whose network
 * contains one of the interface's addresses, or a subnet/shared-network that names it with
 * `interface NAME;`).
 */
export function interfaceSharedNetwork(index: AddressIndex, iface: PolicyInterface): SharedNetwork | undefined {
  for (const share of index.config.sharedNetworks) {
    if (share.interface === iface.name) return share;
    for (const s of share.subnets) if (s.interface === iface.name) return share;
  }
  for (const a of iface.addresses) {
    const s = index.subnetOf(a);
    if (s !== undefined) return s.sharedNetwork;
  }
  return undefined;
}

/** The facts of a request {@link locateNetwork} uses. */
export interface LocateInput {
  readonly giaddr: number;
  /** agent.link-selection (RFC 3527), when present and 4 octets. */
  readonly linkSelection?: number;
  /** subnet-selection option 118 (RFC 3011), when present and 4 octets. */
  readonly subnetSelection?: number;
  /** The arrival interface's shared network. */
  readonly interfaceNetwork: SharedNetwork | undefined;
}

/**
 * ISC locate_network: link-selection sub-option, else subnet-selection option, else the arrival
 * interface's network when giaddr is 0, else the subnet containing giaddr.
 */
export function locateNetwork(index: AddressIndex, input: LocateInput): SharedNetwork | undefined {
  const selector = input.linkSelection ?? input.subnetSelection;
  if (selector === undefined && input.giaddr === 0) return input.interfaceNetwork;
  const addr = selector ?? input.giaddr;
  return index.subnetOf(addr)?.sharedNetwork;
}
