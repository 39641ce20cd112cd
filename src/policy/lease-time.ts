/**
 * Lease duration rules of ISC dhcpd 4.4 `ack_lease()` (server/dhcp.c), pure.
 *
 * @module
 */

/** ISC DEFAULT_DEFAULT_LEASE_TIME (includes/dhcpd.h): 12 hours. */
export const DEFAULT_DEFAULT_LEASE_TIME = 43200;
/** ISC DEFAULT_MAX_LEASE_TIME: 1 day. */
export const DEFAULT_MAX_LEASE_TIME = 86400;
/** ISC DEFAULT_MIN_LEASE_TIME: 5 minutes. */
export const DEFAULT_MIN_LEASE_TIME = 300;
/** ISC DEFAULT_ABANDON_LEASE_TIME: 1 day. */
export const DEFAULT_ABANDON_LEASE_TIME = 86400;
/** 0xffffffff: an infinite lease (RFC 2131 §3.3). */
export const INFINITE_LEASE_TIME = 0xffffffff;

/** The configured values in the scope of the lease (undefined = not configured). */
export interface LeaseTimeSettings {
  readonly defaultLeaseTime?: number;
  readonly maxLeaseTime?: number;
  readonly minLeaseTime?: number;
}

/**
 * The lease time ISC gives, before failover:
 * 1. the client's requested time (option 51, when exactly 4 octets), else default-lease-time;
 * 2. capped at max-lease-time;
 * 3. raised to min-lease-time (ISC's default minimum is 300 s, itself capped at max-lease-time; a
 *    configured min of 0 falls back to default-lease-time).
 */
export function chooseLeaseTime(settings: LeaseTimeSettings, requested: number | undefined): number {
  const defaultLeaseTime = settings.defaultLeaseTime ?? DEFAULT_DEFAULT_LEASE_TIME;
  const maxLeaseTime = settings.maxLeaseTime ?? DEFAULT_MAX_LEASE_TIME;
  let leaseTime = requested !== undefined ? requested : defaultLeaseTime;
  if (leaseTime < 0 || leaseTime > maxLeaseTime) leaseTime = maxLeaseTime;
  let minLeaseTime = DEFAULT_MIN_LEASE_TIME;
  if (minLeaseTime > maxLeaseTime) minLeaseTime = maxLeaseTime;
  if (settings.minLeaseTime !== undefined) minLeaseTime = settings.minLeaseTime;
  if (leaseTime < minLeaseTime) leaseTime = minLeaseTime !== 0 ? minLeaseTime : defaultLeaseTime;
  return leaseTime;
}

/** Inputs of the failover MCLT rule. */
export interface McltCapInput {
  /** The lease time {@link chooseLeaseTime} gave. */
  readonly desired: number;
  /** The peer's maximum client lead time. */
  readonly mclt: number;
  /** Time the peer was last told of this lease's expiry (`tsfp`, ISC lease field), 0 if never. */
  readonly tsfp: number;
  readonly now: number;
  /** DHCPACK (updates tstp) vs DHCPOFFER (keeps the lease's tstp). */
  readonly isAck: boolean;
  /** The lease's current tstp (kept on OFFER). */
  readonly tstp?: number;
}

/**
 * ISC's failover lease time rule (ack_lease, FAILOVER_PROTOCOL block; draft-ietf-dhc-failover §4.3): a
 * server may hand out at most MCLT beyond what the peer knows. Returns the lease time to give and the
 * new tstp (potential expiry to tell the peer: desired + half the given time, ISC's renewal estimate).
 * Exported for src/failover's {@link import('../engine/ports.js').FailoverPolicy.leaseTimeFor}.
 */
export function capLeaseTimeByMclt(input: McltCapInput): { leaseTime: number; tstp: number | undefined; tsfp: number } {
  const { desired, mclt, now } = input;
  let tsfp = input.tsfp;
  let leaseTime = desired;
  if (desired > mclt) {
    if (tsfp <= now) leaseTime = mclt;
    else if (now + desired > tsfp + mclt) leaseTime = tsfp - now + mclt;
  }
  let tstp: number | undefined;
  if (input.isAck) {
    tstp = desired === INFINITE_LEASE_TIME ? 0xffffffff : Math.min(now + desired + Math.floor(leaseTime / 2), 0xfffffffe);
    if (tstp < tsfp) tsfp = tstp;
  } else {
    tstp = input.tstp;
  }
  return { leaseTime, tstp, tsfp };
}

/** Expiry time for a lease of `leaseTime` seconds starting `now` (ISC leaseTimeCheck: no wrap). */
export function leaseExpiry(now: number, leaseTime: number): number {
  if (leaseTime === INFINITE_LEASE_TIME) return 0xffffffff;
  return Math.min(now + leaseTime, 0xfffffffe);
}
