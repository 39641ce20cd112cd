/**
 * Lease-side failover policy, pure (FAILOVER.md §6, §8): the MCLT rule, who may allocate what, the BNDUPD
 * fields ISC sends, the binding transitions ISC accepts in a received BNDUPD, duelling updates, and the
 * pool-balancing arithmetic.
 *
 * @module
 */
import type { BindingState, LeaseTime } from '../../leases/lease.js';
import { BindingStatus, FTR, IP_FLAG_BOOTP, IP_FLAG_RESERVE, bindingStatusFromWire, type BindingStatusName, type FailoverFields } from './messages.js';
import { bucketIsMine, type FailoverRole } from './load-balance.js';
import type { FailoverLease } from './ports.js';

/** ISC's "infinite" lease time on the wire. */
export const INFINITE_TIME = 0x7fffffff;

/** A lease time as a number: `never` (null) is ISC's infinite time on the wire. */
export function timeValue(t: LeaseTime | undefined): number {
  return t === null ? INFINITE_TIME : (t ?? 0);
}

/**
 * ISC's lease-time computation under failover (§6.4): a lease may run at most MCLT beyond the potential
 * expiry the partner acknowledged (tsfp). On an ACK, the new potential expiry to tell the partner is
 * `now + desired + granted/2`.
 */
export function mcltLeaseTime(
  desired: number,
  tsfp: number,
  mclt: number,
  now: number,
  isAck: boolean,
): { leaseTime: number; tstp?: number } {
  let granted = desired;
  if (desired > mclt) {
    if (tsfp <= now) granted = mclt;
    else if (now + desired > tsfp + mclt) granted = tsfp + mclt - now;
  }
  if (!isAck) return { leaseTime: granted };
  const tstp = desired >= INFINITE_TIME ? INFINITE_TIME : now + desired + Math.floor(granted / 2);
  return { leaseTime: granted, tstp };
}

/** A server's own free state (§6.1): free for the primary, backup for the secondary. */
export function ownFreeState(role: FailoverRole): 'free' | 'backup' {
  return role === 'primary' ? 'free' : 'backup';
}

/** The peer's free state. */
export function peerFreeState(role: FailoverRole): 'free' | 'backup' {
  return role === 'primary' ? 'backup' : 'free';
}

/** What {@link mayReallocate} needs to know about the relationship. */
export interface AllocationContext {
  readonly role: FailoverRole;
  /** True when our service state is partner-down. */
  readonly partnerDown: boolean;
  /** Our stos (when we entered partner-down). */
  readonly stos: number;
  readonly mclt: number;
  readonly now: number;
}

/** ISC `lease_mine_to_reallocate` (§6.2): may this server give `lease` to a new client? */
export function mayReallocate(lease: FailoverLease, ctx: AllocationContext): boolean {
  const tsfp = timeValue(lease.tsfp);
  const mcltSafe = ctx.partnerDown && (tsfp < ctx.stos ? ctx.stos : tsfp) + ctx.mclt < ctx.now;
  const pdExpired = ctx.partnerDown && tsfp < ctx.now;
  const own = ownFreeState(ctx.role);
  switch (lease.bindingState) {
    case 'free':
    case 'backup':
      return lease.bindingState === own ? true : mcltSafe;
    case 'abandoned':
      return true; // last resort; the allocator orders it last
    case 'expired':
    case 'released':
      return lease.rewindBindingState === own ? true : pdExpired;
    case 'reset':
      return pdExpired;
    default:
      return false;
  }
}

/** Maps an engine binding state to the wire binding-status. */
export function bindingStatusFor(state: BindingState): number {
  switch (state) {
    case 'reserved':
    case 'bootp':
      return BindingStatus.active;
    default:
      return BindingStatus[state];
  }
}

/** The BNDUPD fields ISC sends for a lease (§2.1 order, §6.5 values). */
export function bndupdFields(lease: FailoverLease): FailoverFields {
  const f: FailoverFields = {
    assignedIpAddress: lease.address >>> 0,
    bindingStatus: bindingStatusFor(lease.bindingState),
  };
  const abandoned = lease.bindingState === 'abandoned';
  if (lease.uid && lease.uid.length > 0 && !abandoned) f.clientIdentifier = lease.uid;
  if (lease.hardware && !abandoned) f.chaddr = Buffer.concat([Buffer.from([lease.hardware.htype & 0xff]), lease.hardware.address]);
  f.leaseExpirationTime = timeValue(lease.ends) >>> 0;
  f.potentialExpirationTime = timeValue(lease.tstp) >>> 0;
  f.startTimeOfState = timeValue(lease.starts) >>> 0;
  if (lease.cltt) f.cltt = timeValue(lease.cltt) >>> 0;
  let flags = 0;
  if (lease.reserved || lease.bindingState === 'reserved') flags |= IP_FLAG_RESERVE;
  if (lease.dynamicBootp || lease.bindingState === 'bootp') flags |= IP_FLAG_BOOTP;
  if (flags) f.ipFlags = flags;
  return f;
}

/** A BNDUPD rejection: reason code and ISC's message text. */
export interface BindingReject {
  readonly reason: number;
  readonly message: string;
}

/** Dotted quad of a uint32. */
export function ipString(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Checks of §6.3 "Other BNDUPD rejects" that need no lease (required options, chaddr rules). */
export function validateBndupd(f: FailoverFields): BindingReject | undefined {
  if (f.assignedIpAddress === undefined || f.bindingStatus === undefined) {
    return { reason: FTR.MISSING_BINDINFO, message: 'binding update lacks required options' };
  }
  const status = bindingStatusFromWire(f.bindingStatus);
  if (!status) return { reason: FTR.MISC_REJECT, message: `unknown binding state ${f.bindingStatus}` };
  if ((status === 'active' || status === 'expired' || status === 'released') && !f.chaddr) {
    return { reason: FTR.MISSING_BINDINFO, message: 'BNDUPD without CHADDR' };
  }
  if (status === 'abandoned' && f.chaddr) return { reason: FTR.MISC_REJECT, message: 'BNDUPD to ABANDONED with a CHADDR' };
  if (status === 'abandoned' && f.clientIdentifier) return { reason: FTR.MISC_REJECT, message: 'BNDUPD to ABANDONED with client-id' };
  if (f.chaddr && f.chaddr.length > 17) return { reason: FTR.MISC_REJECT, message: 'chaddr too long' };
  return undefined;
}

function wireState(s: BindingState): BindingStatusName {
  return s === 'reserved' || s === 'bootp' ? 'active' : s;
}

/**
 * ISC's acceptance table for a received binding transition (§6.3). `cooperating` = our state is normal.
 * Returns undefined when accepted, or the reject.
 */
export function checkTransition(
  lease: FailoverLease,
  requested: BindingStatusName,
  f: FailoverFields,
  role: FailoverRole,
  cooperating: boolean,
  now: number,
): BindingReject | undefined {
  const cur = wireState(lease.bindingState);
  const pexp = f.potentialExpirationTime ?? 0;
  const toFree = requested === 'free' || requested === 'backup';
  let ok: boolean;
  if (cur === requested) ok = true;
  else if (cooperating) {
    switch (cur) {
      case 'free':
      case 'abandoned':
      case 'released':
      case 'backup':
        ok = true;
        break;
      case 'active':
        if (role === 'primary') ok = requested === 'released' || requested === 'abandoned';
        else if (toFree) ok = pexp <= now;
        else if (requested === 'expired') ok = timeValue(lease.ends) - 65 <= now;
        else ok = requested === 'released' || requested === 'abandoned' || requested === 'reset';
        break;
      case 'expired':
      case 'reset':
        ok = toFree ? pexp <= now : true;
        break;
      default:
        ok = true;
    }
  } else if (cur !== 'active') ok = true;
  else if (toFree) ok = false;
  else if (requested === 'expired') ok = timeValue(lease.ends) - 65 <= now;
  else ok = requested === 'released' || requested === 'reset' || requested === 'abandoned';
  if (ok) return undefined;
  return { reason: FTR.FATAL_CONFLICT, message: `${ipString(lease.address)}: invalid state transition: ${cur} to ${requested}` };
}

/**
 * Duelling updates (§6.7): we have an un-acked BNDUPD for this lease and receive one. True when the
 * incoming update wins.
 */
export function incomingWins(lease: FailoverLease, requested: BindingStatusName, incomingCltt: number, role: FailoverRole): boolean {
  const local = wireState(lease.bindingState);
  if (local === 'active' && requested === 'active') {
    const mine = timeValue(lease.cltt);
    if (incomingCltt !== mine) return incomingCltt > mine;
    return role === 'secondary';
  }
  if (local === 'active' && requested === 'expired') return true;
  if (requested === 'active') return true;
  return role === 'secondary';
}

/** Applies an accepted BNDUPD to the lease, as ISC does (§6.3 "After acceptance"). */
export function applyBndupd(lease: FailoverLease, requested: BindingStatusName, f: FailoverFields): void {
  const stored: BindingState = requested === 'expired' || requested === 'released' || requested === 'reset' ? 'free' : requested;
  lease.bindingState = stored;
  lease.rewindBindingState = stored;
  if (f.startTimeOfState !== undefined) lease.starts = f.startTimeOfState;
  if (f.leaseExpirationTime !== undefined) lease.ends = f.leaseExpirationTime >= INFINITE_TIME ? null : f.leaseExpirationTime;
  if (f.potentialExpirationTime !== undefined) {
    lease.tsfp = f.potentialExpirationTime;
    lease.atsfp = f.potentialExpirationTime;
  }
  if (f.chaddr && f.chaddr.length >= 1) lease.hardware = { htype: f.chaddr[0]!, address: Buffer.from(f.chaddr.subarray(1)) };
  if (f.clientIdentifier) lease.uid = Buffer.from(f.clientIdentifier);
  else if (requested !== 'free' && requested !== 'backup' && requested !== 'reset') lease.uid = null;
  lease.reserved = ((f.ipFlags ?? 0) & IP_FLAG_RESERVE) !== 0;
  lease.dynamicBootp = ((f.ipFlags ?? 0) & IP_FLAG_BOOTP) !== 0;
  lease.nextBindingState = stored === 'active' ? 'expired' : stored;
  // cltt is not copied (§12.13).
}

/** Hash key of the client that last held a lease (uid, else hardware address without htype; §7.2). */
export function leaseHashKey(lease: FailoverLease): Uint8Array | undefined {
  if (lease.uid && lease.uid.length > 0) return lease.uid;
  if (lease.hardware && lease.hardware.address.length > 0) return lease.hardware.address;
  return undefined;
}

/** Pool balance parameters (`max-lease-misbalance`, `max-lease-ownership` in percent). */
export interface BalanceParams {
  readonly role: FailoverRole;
  readonly hba: Uint8Array;
  readonly maxLeaseMisbalance: number;
  readonly maxLeaseOwnership: number;
}

/** Result of one pool balancing run (§8). */
export interface BalanceResult {
  readonly total: number;
  readonly free: number;
  readonly backup: number;
  /** lts before giving leases away. */
  readonly lts: number;
  readonly hold: number;
  readonly thresh: number;
  /** Leases to hand to the peer (their state must become the peer's free state). */
  readonly give: FailoverLease[];
  /** lts after giving. */
  readonly ltsAfter: number;
}

/** C integer division (truncates toward 0). */
const cdiv = (a: number, b: number): number => Math.trunc(a / b);

/** ISC `dhcp_failover_pool_dobalance` arithmetic for one pool (§8). */
export function balancePool(leases: Iterable<FailoverLease>, p: BalanceParams): BalanceResult {
  const own = ownFreeState(p.role);
  const mine: FailoverLease[] = [];
  let free = 0;
  let backup = 0;
  for (const l of leases) {
    if (l.bindingState === 'free') free++;
    else if (l.bindingState === 'backup') backup++;
    if (l.bindingState === own) mine.push(l);
  }
  const total = free + backup;
  const lts = p.role === 'primary' ? cdiv(free - backup, 2) : cdiv(backup - free, 2);
  const thresh = cdiv(total * p.maxLeaseMisbalance + 50, 100);
  const hold = cdiv(total * p.maxLeaseOwnership + 50, 100);
  // Oldest first by ends (never-used leases have ends 0), then by address for a stable order.
  mine.sort((a, b) => timeValue(a.ends) - timeValue(b.ends) || a.address - b.address);
  const give: FailoverLease[] = [];
  let cur = lts;
  const peerRole: FailoverRole = p.role === 'primary' ? 'secondary' : 'primary';
  if (cur > thresh) {
    for (const l of mine) {
      if (cur <= -hold) break;
      const key = leaseHashKey(l);
      if (key && bucketIsMine(key, peerRole, p.hba)) {
        give.push(l);
        cur--;
      }
    }
    for (const l of mine) {
      if (give.includes(l)) continue;
      if (timeValue(l.ends) !== 0 ? cur <= hold : cur <= 0) continue;
      give.push(l);
      cur--;
    }
  }
  return { total, free, backup, lts, hold, thresh, give, ltsAfter: cur };
}
