/**
 * Address choice as ISC dhcpd 4.4 makes it (server/dhcp.c `find_lease` and `allocate_lease`): a fixed
 * address from a host declaration, else the lease at the address the client asks for (ciaddr or option
 * 50) when it may have it, else its lease by client identifier, else by hardware address, else the least
 * recently used free lease of a pool that admits it (ISC sorts free leases by `ends`; never-used
 * addresses first, in ISC's hash-walk order), abandoned leases as the last resort. Pure over a {@link LeaseLookup}.
 *
 * @module
 */
import type { Host, Pool, SharedNetwork } from '../config/model.js';
import { emptyLease, type Lease } from '../../leases/lease.js';
import type { FailoverPolicy } from '../engine/ports.js';
import { type AddressResolver, type FixedAddress, findHosts, fixedAddressOn, type HostMatch } from './hosts.js';
import type { AddressIndex } from './network.js';
import { type PermitFacts, poolAdmits } from './permits.js';
import type { Config } from '../config/model.js';
import { type DhcpPacket, DhcpOption, DHCPDISCOVER, DHCPREQUEST, optionUint32 } from '../wire/packet.js';

/** Lease reads the allocator needs; the engine's lease book implements it (store + this turn's changes). */
export interface LeaseLookup {
  byAddress(address: number): Lease | undefined;
  byUid(uid: Buffer): Lease[];
  byHardware(htype: number, address: Buffer): Lease[];
  /** The recorded leases with first <= address <= last, in address order. */
  inRange(first: number, last: number): Iterable<Lease>;
  /** Recorded leases in [first, last] that are not active (free, backup, expired, released, reset, abandoned). */
  inactiveInRange(first: number, last: number): Iterable<Lease>;
  /** Whether any lease record exists for an address (a never-used address has none). */
  isRecorded(address: number): boolean;
  /**
   * Optional fast path: the lowest address in [lo, hi] for which {@link isRecorded} is false and that is
   * not in `exclude` (the engine's lease book keeps a cursor per segment, so this is O(1) amortised).
   */
  firstUnrecorded?(lo: number, hi: number, exclude?: ReadonlySet<number>): number | undefined;
  /**
   * Optional fast path: the inactive leases of [first, last] as ISC's per-pool free queues (free, backup,
   * expired/released/reset, abandoned), each sorted in allocation order, so that the allocator looks at
   * queue heads as ISC allocate_lease does instead of reading every inactive record per DISCOVER.
   */
  inactiveQueues?(first: number, last: number): readonly InactiveQueue[] | undefined;
}

/** One free queue of a range (see {@link LeaseLookup.inactiveQueues}). */
export interface InactiveQueue {
  readonly group: 'free' | 'backup' | 'other' | 'abandoned' | 'pending';
  /** In allocation order (`ends`, then ISC's hash walk): the first usable lease is the queue's answer. */
  readonly sorted: boolean;
  readonly leases: Iterable<Lease>;
}

/** Everything the allocator decides with. */
export interface AllocationContext {
  readonly config: Config;
  readonly index: AddressIndex;
  readonly leases: LeaseLookup;
  readonly failover: FailoverPolicy;
  readonly now: number;
  readonly resolve?: AddressResolver;
}

/** The lease's pool, when its address is in a range. */
export function poolOf(ctx: AllocationContext, address: number): Pool | undefined {
  return ctx.index.rangeOf(address)?.pool;
}

/**
 * Whether a non-active lease may be (re)allocated by us now (ISC lease_mine_to_reallocate; without
 * failover every free, expired, released or reset lease is; an active lease whose time has run out has
 * expired).
 */
export function mineToReallocate(ctx: AllocationContext, lease: Lease, pool: Pool | undefined): boolean {
  if (pool?.failoverPeer != null && !pool.noFailover) return ctx.failover.mayAllocate(pool.failoverPeer, lease, ctx.now);
  switch (lease.bindingState) {
    case 'free':
    case 'expired':
    case 'released':
    case 'reset':
    case 'backup':
      return true;
    case 'active':
    case 'bootp':
      return lease.ends !== null && lease.ends !== 0 && lease.ends <= ctx.now;
    default:
      return false;
  }
}

/** Active and not yet ended. */
export function isActive(lease: Lease, now: number): boolean {
  return (lease.bindingState === 'active' || lease.bindingState === 'bootp') && (lease.ends === null || lease.ends > now);
}

/** The lease is bound to this client: its uid when it has one, else its hardware address. */
export function leaseMatchesClient(lease: Lease, uid: Buffer | undefined, htype: number, chaddr: Buffer): boolean {
  if (lease.uid !== null && lease.uid.length > 0) return uid !== undefined && lease.uid.equals(uid);
  return lease.hardware !== null && lease.hardware.htype === htype && lease.hardware.address.equals(chaddr);
}

/** What {@link findLease} found. */
export interface FoundLease {
  /** The lease to give (a synthetic one for a fixed address). */
  readonly lease: Lease | undefined;
  /** Set when the lease is a host's fixed address. */
  readonly fixed: FixedAddress | undefined;
  /** ISC `ours`: the requested address is ours, so a REQUEST we cannot honour is NAKed. */
  readonly ours: boolean;
  /** The matching host declarations (for `known` and host options). */
  readonly hostMatch: HostMatch | undefined;
  /** The requested address (ciaddr, else option 50), 0 when none. */
  readonly requested: number;
  /** Why nothing was found (ISC's dhcp_message), for NAK option 56. */
  readonly message?: string;
  /** The requested lease was abandoned and is being reclaimed (ISC logs it). */
  readonly reclaimedAbandoned?: boolean;
}

/**
 * ISC find_lease for DISCOVER, REQUEST and BOOTP. `facts` must already hold the client's classes and
 * `known`. The returned lease object is the current record (not a copy); callers clone before changing.
 */
export function findLease(
  ctx: AllocationContext,
  packet: DhcpPacket,
  messageType: number,
  share: SharedNetwork,
  facts: PermitFacts,
  hostMatch: HostMatch | undefined,
): FoundLease {
  const uid = packet.options.get(DhcpOption.CLIENT_IDENTIFIER);
  const hlen = Math.min(packet.hlen, 16);
  const chaddr = packet.chaddr.subarray(0, hlen);
  const cip = packet.ciaddr !== 0 ? packet.ciaddr : (optionUint32(packet, DhcpOption.REQUESTED_ADDRESS) ?? 0);
  let ours = false;

  const onShare = (l: Lease): Pool | undefined => {
    const pool = poolOf(ctx, l.address);
    return pool !== undefined && pool.sharedNetwork === share ? pool : undefined;
  };
  const admits = (l: Lease): boolean => {
    const pool = poolOf(ctx, l.address);
    return pool !== undefined && poolAdmits(pool, facts);
  };

  const fixed = hostMatch !== undefined ? fixedAddressOn(ctx.index, hostMatch.hosts, share, ctx.resolve) : undefined;
  if (messageType === DHCPREQUEST && fixed !== undefined && fixed.address !== cip) {
    return { lease: undefined, fixed: undefined, ours: true, hostMatch, requested: cip, message: 'requested address is incorrect' };
  }

  // Leases by client identifier, then by hardware address (first usable one of each).
  let uidLease: Lease | undefined;
  if (uid !== undefined) {
    for (const l of ctx.leases.byUid(uid)) {
      const pool = onShare(l);
      if (!isActive(l, ctx.now) && !mineToReallocate(ctx, l, poolOf(ctx, l.address))) continue;
      if (pool === undefined || !poolAdmits(pool, facts)) continue;
      uidLease = l;
      break;
    }
  }
  let hwLease: Lease | undefined;
  for (const l of ctx.leases.byHardware(packet.htype, chaddr)) {
    if (!isActive(l, ctx.now) && !mineToReallocate(ctx, l, poolOf(ctx, l.address))) continue;
    if (
      l.bindingState !== 'free' &&
      l.bindingState !== 'backup' &&
      l.uid !== null &&
      l.uid.length > 0 &&
      (uid === undefined || !l.uid.equals(uid))
    ) {
      continue;
    }
    const pool = onShare(l);
    if (pool === undefined || !poolAdmits(pool, facts)) continue;
    hwLease = l;
    break;
  }

  // The lease at the requested address (a never-used address in a range reads as a fresh free lease).
  let ipLease: Lease | undefined;
  if (cip !== 0) {
    ipLease = ctx.leases.byAddress(cip);
    if (ipLease === undefined && poolOf(ctx, cip) !== undefined) ipLease = emptyLease(cip);
  }
  if (ipLease !== undefined) ours = true;
  if (ipLease !== undefined && onShare(ipLease) === undefined) ipLease = undefined;
  if (ipLease !== undefined && !leaseMatchesClient(ipLease, uid, packet.htype, chaddr) && (ipLease.uid !== null || ipLease.hardware !== null)) {
    const free = ipLease.bindingState === 'free' || ipLease.bindingState === 'backup' || mineToReallocate(ctx, ipLease, poolOf(ctx, ipLease.address));
    if (!free || ipLease.bindingState === 'active' && isActive(ipLease, ctx.now)) {
      if (!isActive(ipLease, ctx.now)) ours = false;
      ipLease = undefined;
    }
  }
  if (
    ipLease !== undefined &&
    (uidLease !== undefined || hwLease !== undefined) &&
    !isActive(ipLease, ctx.now) &&
    !mineToReallocate(ctx, ipLease, poolOf(ctx, ipLease.address)) &&
    messageType === DHCPDISCOVER
  ) {
    ipLease = undefined;
  }
  if (ipLease !== undefined && isActive(ipLease, ctx.now) && ipLease.uid !== null && ipLease !== uidLease) {
    if (uid !== undefined && ipLease.uid.equals(uid)) uidLease = ipLease;
    if (ipLease !== uidLease) ipLease = undefined;
  }
  if (hwLease !== undefined && uidLease !== undefined && hwLease.address === uidLease.address) hwLease = undefined;
  if (ipLease !== undefined && hwLease !== undefined && ipLease.address === hwLease.address) hwLease = undefined;
  if (ipLease !== undefined && uidLease !== undefined && ipLease.address === uidLease.address) uidLease = undefined;
  if (ipLease !== undefined && !admits(ipLease)) ipLease = undefined;

  if (messageType === DHCPREQUEST && ipLease === undefined && fixed === undefined) {
    return { lease: undefined, fixed: undefined, ours, hostMatch, requested: cip, message: 'requested address not available' };
  }

  let lease: Lease | undefined;
  if (fixed !== undefined) {
    const l = emptyLease(fixed.address);
    l.bindingState = 'active';
    l.hardware = { htype: packet.htype, address: Buffer.from(chaddr) };
    if (uid !== undefined) l.uid = Buffer.from(uid);
    return { lease: l, fixed, ours, hostMatch, requested: cip };
  }
  if (ipLease !== undefined) lease = ipLease;
  else if (uidLease !== undefined) lease = uidLease;
  else if (hwLease !== undefined) {
    // ISC: a hardware lease with a uid goes only to that uid (or to a BOOTP client without one).
    if (hwLease.uid === null || hwLease.uid.length === 0 || (uid !== undefined ? hwLease.uid.equals(uid) : messageType === 0)) lease = hwLease;
  }

  let reclaimedAbandoned = false;
  if (lease !== undefined && lease.bindingState === 'abandoned') {
    if (lease === ipLease && messageType === DHCPREQUEST) reclaimedAbandoned = true;
    else {
      ours = true;
      lease = undefined;
    }
  }
  return { lease, fixed: undefined, ours, hostMatch, requested: cip, reclaimedAbandoned };
}

/** Result of {@link allocateLease}. */
export interface Allocation {
  readonly lease: Lease | undefined;
  /** True when the chosen lease was abandoned (ISC logs "Reclaiming abandoned lease"). */
  readonly reclaimed: boolean;
  /** Failover: free leases exist but belong to the peer. */
  readonly peerHasLeases: boolean;
}

/** Sort key of ISC's free queue: `ends` (0 for never used). */
function endsKey(l: Lease): number {
  return l.ends === null ? Number.MAX_SAFE_INTEGER : l.ends;
}

/**
 * ISC allocate_lease: over the pools of the shared network that admit the client, the head of each free
 * queue (the lease that ended longest ago; never-used addresses first, in ISC's start-up order),
 * preferring leases no client ever had, and abandoned leases only when nothing else is left.
 * `exclude` holds addresses not to give now (e.g. found in use by ping-check this turn).
 */
export function allocateLease(
  ctx: AllocationContext,
  share: SharedNetwork,
  facts: PermitFacts,
  exclude: ReadonlySet<number> = new Set(),
): Allocation {
  let best: Lease | undefined;
  let peerHasLeases = false;
  for (const pool of share.pools) {
    if (!poolAdmits(pool, facts)) continue;
    const cand = poolCandidate(ctx, pool, exclude);
    if (cand.peerHasLeases) peerHasLeases = true;
    const c = cand.lease;
    if (c === undefined) continue;
    if (best === undefined) {
      best = c;
      continue;
    }
    const bestAbandoned = best.bindingState === 'abandoned';
    const cAbandoned = c.bindingState === 'abandoned';
    if (bestAbandoned && (!cAbandoned || endsKey(c) < endsKey(best))) {
      best = c;
      continue;
    }
    if (cAbandoned) continue;
    const used = (l: Lease): boolean => (l.uid !== null && l.uid.length > 0) || l.hardware !== null;
    if (used(best) && (!used(c) || endsKey(c) < endsKey(best))) {
      best = c;
      continue;
    }
    if (used(c)) continue;
    if (endsKey(c) < endsKey(best)) best = c;
  }
  return { lease: best, reclaimed: best?.bindingState === 'abandoned', peerHasLeases };
}

/**
 * ISC builds its free queues at start-up by walking the lease-address hash table (LEASE_HASH_SIZE 100003
 * buckets, bucket = address mod 100003, newest entry first in a bucket) and appending in that order, so
 * never-used addresses come out by `address mod 100003`, ascending, and for equal buckets the range declared
 * later first. Verified against ISC dhcpd 4.4.3 by test/integration/server-differential.test.ts.
 */
const ISC_LEASE_HASH_SIZE = 100003;

/** Free-queue order key: ends, then ISC's hash walk order. */
function queueBefore(a: Lease, aRange: number, b: Lease, bRange: number): boolean {
  const ea = endsKey(a);
  const eb = endsKey(b);
  if (ea !== eb) return ea < eb;
  const ha = a.address % ISC_LEASE_HASH_SIZE;
  const hb = b.address % ISC_LEASE_HASH_SIZE;
  if (ha !== hb) return ha < hb;
  return aRange > bRange;
}

/** A range's segments in ISC's hash-walk order, computed once per range object. */
const segmentCache = new WeakMap<object, ReadonlyArray<readonly [number, number]>>();

/**
 * The address segments of a range in the order ISC's start-up hash walk puts its never-used addresses in:
 * addresses ascend with their bucket except across a multiple of the table size, where buckets wrap to 0.
 */
function hashWalkSegments(range: { readonly first: number; readonly last: number }): ReadonlyArray<readonly [number, number]> {
  const cached = segmentCache.get(range);
  if (cached !== undefined) return cached;
  const { first, last } = range;
  const firstWrap = first % ISC_LEASE_HASH_SIZE === 0 ? first : first + (ISC_LEASE_HASH_SIZE - (first % ISC_LEASE_HASH_SIZE));
  let segments: Array<[number, number]>;
  if (firstWrap <= last && firstWrap !== first) {
    // Walk from the lowest bucket: each wrap point starts at bucket 0; collect segments sorted by bucket.
    const starts: number[] = [first];
    for (let w = firstWrap; w <= last; w += ISC_LEASE_HASH_SIZE) starts.push(w);
    segments = starts.map((st, i) => [st, i + 1 < starts.length ? starts[i + 1]! - 1 : last] as [number, number]);
    segments.sort((x, y) => (x[0] % ISC_LEASE_HASH_SIZE) - (y[0] % ISC_LEASE_HASH_SIZE));
  } else segments = [[first, last]];
  segmentCache.set(range, segments);
  return segments;
}

/**
 * The never-used address of a range that comes first in ISC's hash walk, skipping `exclude`. Equal buckets
 * across segments are not interleaved here; ranges longer than 100003 addresses are rare.
 */
function firstVirgin(ctx: AllocationContext, range: { readonly first: number; readonly last: number }, exclude: ReadonlySet<number>): number | undefined {
  const leases = ctx.leases;
  for (const [lo, hi] of hashWalkSegments(range)) {
    if (leases.firstUnrecorded !== undefined) {
      const a = leases.firstUnrecorded(lo, hi, exclude.size > 0 ? exclude : undefined);
      if (a !== undefined) return a;
      continue;
    }
    for (let a = lo; a <= hi; a++) if (!exclude.has(a) && !leases.isRecorded(a)) return a;
  }
  return undefined;
}

/** The head of one pool's free queue, or its oldest abandoned lease. */
function poolCandidate(ctx: AllocationContext, pool: Pool, exclude: ReadonlySet<number>): { lease: Lease | undefined; peerHasLeases: boolean } {
  let free: Lease | undefined;
  let freeRange = -1;
  let abandoned: Lease | undefined;
  let peerHasLeases = false;
  const failover = pool.failoverPeer !== null && !pool.noFailover;
  pool.ranges.forEach((range, ri) => {
    // Never-used addresses (no record, ends 0) come first; ISC's start-up order among them.
    const v = firstVirgin(ctx, range, exclude);
    if (v !== undefined) {
      const virgin = emptyLease(v);
      if (failover && !mineToReallocate(ctx, virgin, pool)) peerHasLeases = true;
      else if (free === undefined || queueBefore(virgin, ri, free, freeRange)) {
        free = virgin;
        freeRange = ri;
      }
    }
    if (free !== undefined && endsKey(free) === 0 && v !== undefined) return;
    // Then the free queue proper: recorded leases that are not active. With sorted queues only each
    // queue's first usable lease counts (ISC allocate_lease looks at queue heads).
    const queues = ctx.leases.inactiveQueues?.(range.first, range.last) ?? [{ group: 'pending', sorted: false, leases: ctx.leases.inactiveInRange(range.first, range.last) }];
    for (const q of queues) {
      if (failover && q.group === 'other') continue; // expired/released/reset wait for the partner's ack
      for (const l of q.leases) {
        if (exclude.has(l.address)) continue;
        if (l.bindingState === 'abandoned') {
          if (abandoned === undefined || endsKey(l) < endsKey(abandoned)) abandoned = l;
          if (q.sorted) break;
          continue;
        }
        if (isActive(l, ctx.now)) continue;
        if (l.bindingState === 'free' || l.bindingState === 'backup' || !failover) {
          // A free lease whose ends is in the future was just offered to someone (ISC: ends = now + 120).
          if (l.ends !== null && l.ends > ctx.now) continue;
          if (!mineToReallocate(ctx, l, pool)) {
            peerHasLeases = true;
            if (q.sorted) break;
            continue;
          }
          if (free === undefined || queueBefore(l, ri, free, freeRange)) {
            free = l;
            freeRange = ri;
          }
          if (q.sorted) break;
        }
      }
    }
  });
  return { lease: free ?? abandoned, peerHasLeases };
}

/** The hosts matching a request (re-exported for the engine). */
export { findHosts };
/** A host (for the type). */
export type { Host };
