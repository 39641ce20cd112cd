/**
 * What the DHCP engine needs from the outside world (CONTRACT: add, don't rename).
 *
 * The engine is pure decision logic over these ports, in the manner of Kea's allocation engine over its
 * `LeaseMgr` and CoreDHCP's allocator interface: it never opens a socket, a file or a database. The server
 * (src/server/dhcp-server.ts) plugs in the real implementations; unit tests plug in fakes.
 *
 * Time is whole seconds since the Unix epoch (ISC's `cur_time`). Addresses are uint32 in host order, as in
 * src/wire/packet.ts.
 *
 * @module
 */
import type { Logger } from '../log/logger.js';

import type { BindingState, Lease } from '../../leases/lease.js';
import type { LeaseStore } from '../../leases/lease-store.js';

export type { BindingState, Lease };

/**
 * The engine's view of one lease: the lease store's record itself (leases/lease.ts), so that decisions are
 * written back without translation. Times: 0 = unset, null = never.
 */
export type EngineLease = Lease;

/**
 * The lease queries the engine makes (a subset of {@link LeaseStore}; synchronous, as better-sqlite3 is).
 * The engine reads through it on every packet, so leases changed by others (failover updates, OMAPI) are
 * seen at once.
 */
export type LeaseView = Pick<LeaseStore, 'getByAddress' | 'getByHardware' | 'getByUid' | 'leases'>;

/**
 * The engine's lease storage port: the view plus the one group commit per event-loop turn. `commit`
 * returns only once the leases are durable: the server sends no reply of that turn before it returns
 * (RFC 2131 §4.3.1 "the server MUST commit the binding … before sending the DHCPACK"; ISC writes and
 * fsyncs dhcpd.leases before `dhcp_reply`).
 */
export type EngineLeaseStore = LeaseView & Pick<LeaseStore, 'commit'>;

/** Wall-clock time for lease decisions. Tests use a fake one. */
export interface Clock {
  /** Seconds since the Unix epoch (integer). */
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

/**
 * ICMP echo before offering an address (ISC `ping-check`, default on). `inUse` resolves true when
 * something answered within `timeoutMs`.
 */
export interface PingCheck {
  inUse(address: number, timeoutMs: number): Promise<boolean>;
}

/** A ping check that never finds anything (ping-check off, or no ICMP socket). */
export const noPingCheck: PingCheck = { inUse: async () => false };

/** What a failover policy needs to know to decide on a request. */
export interface FailoverRequestContext {
  /** Name of the `failover peer` of the pool the lease belongs to. */
  readonly peerName: string;
  /** The lease being offered/renewed (before this decision). */
  readonly lease: EngineLease;
  /** The DHCP message type of the request (option 53 value; 0 for BOOTP). */
  readonly messageType: number;
  /** The request's client identifier or else hardware address, for load balancing (RFC 3074 hash). */
  readonly hashKey: Buffer;
  /** Seconds field of the request (`load balance max seconds`). */
  readonly secs: number;
  /** True when the pool has no free lease left for us but the peer has (ISC's `peer_has_leases`). */
  readonly peerHasLeases?: boolean;
}

/**
 * The hooks a failover engine provides (src/failover/). Without failover the server uses
 * {@link noFailover}. Every pool that names a `failover peer` consults this policy.
 */
export interface FailoverPolicy {
  /**
   * Whether this server answers the request at all (ISC: peer not responding / startup state → no;
   * load balancing for DISCOVER → the hash decides). Returns a reason for the debug log when it is no;
   * `nak` when ISC answers a REQUEST with a DHCPNAK instead of silence (a lease in the reset state).
   */
  mayAnswer(ctx: FailoverRequestContext): { answer: true } | { answer: false; reason: string; nak?: boolean };
  /**
   * Whether a lease in `free`/`backup`/`expired`/`released` state is ours to allocate
   * (ISC `lease_mine_to_reallocate`).
   */
  mayAllocate(peerName: string, lease: EngineLease, now: number): boolean;
  /**
   * The lease time to give, given the desired one (ISC's MCLT rule, draft §4.3: at most MCLT beyond what
   * the peer acknowledged). Returns the time and the new `tstp` to record.
   */
  leaseTimeFor(peerName: string, lease: EngineLease, desired: number, now: number, isAck: boolean): { leaseTime: number; tstp?: number };
  /** Called after the engine committed a binding change of a failover pool's lease (send BNDUPD). */
  onBindingChange(peerName: string, lease: EngineLease): void;
}

/** Standalone server: always answer, every free lease is ours, no lease time cap. */
export const noFailover: FailoverPolicy = {
  mayAnswer: () => ({ answer: true }),
  mayAllocate: (_peer, lease) => lease.bindingState === 'free' || lease.bindingState === 'expired' || lease.bindingState === 'released' || lease.bindingState === 'backup',
  leaseTimeFor: (_peer, _lease, desired) => ({ leaseTime: desired }),
  onBindingChange: () => undefined,
};

/** Every port the engine uses, in one object. */
export interface EnginePorts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pingCheck: PingCheck;
  readonly failover: FailoverPolicy;
}
