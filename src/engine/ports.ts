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

/**
 * ISC binding states (dhcpd.leases `binding state`, failover draft §5.4.1). `bootp` is ISC's flag for
 * dynamic-BOOTP leases that never expire; it is kept as a state for simplicity.
 */
export type BindingState =
  | 'free'
  | 'active'
  | 'expired'
  | 'released'
  | 'abandoned'
  | 'reset'
  | 'backup'
  | 'reserved'
  | 'bootp';

/** A hardware address as ISC keeps it on a lease (`hardware ethernet 52:54:…`). */
export interface HardwareAddress {
  /** ARP hardware type (1 = Ethernet). */
  readonly htype: number;
  /** The address octets (hlen of them). */
  readonly address: Buffer;
}

/** A value in a lease's binding scope (`set name = …;` in dhcpd.conf, `set name = …;` in dhcpd.leases). */
export type ScopeValue = { readonly kind: 'data'; readonly value: Buffer } | { readonly kind: 'number'; readonly value: number } | { readonly kind: 'boolean'; readonly value: boolean };

/**
 * The engine's view of one lease: the fields ISC's allocation path reads and writes. The server adapts it
 * to and from the lease store's own record type.
 */
export interface EngineLease {
  /** The leased address (uint32). */
  address: number;
  bindingState: BindingState;
  /** State the lease moves to when it ends (`next binding state`), when known. */
  nextBindingState?: BindingState;
  /** Start of the current binding (seconds). */
  starts: number;
  /** End of the binding; 0 for a lease never used (ISC sorts free leases by this: oldest first). */
  ends: number;
  /** Client last transaction time. */
  cltt?: number;
  /** Failover: time sent to peer (potential expiry), time sent from peer, acked time. */
  tstp?: number;
  tsfp?: number;
  atsfp?: number;
  hardware?: HardwareAddress;
  /** Client identifier (option 61) as sent. */
  uid?: Buffer;
  /** The client's host-name option (12), for log lines and `get-lease-hostnames`. */
  clientHostname?: string;
  /** Host declaration name when the lease was given under one (`use-host-decl-names`). */
  hostname?: string;
  /** Relay agent information (option 82) of the request that bound the lease, echoed on renewals. */
  agentOptions?: Buffer;
  /** Vendor class identifier (60) of the binding request (ISC records it as `set vendor-class-identifier`). */
  vendorClassIdentifier?: Buffer;
  /** Name of the class whose `lease limit` this lease counts against (ISC `billing class`). */
  billingClass?: string;
  /** Binding scope variables. */
  scope?: Map<string, ScopeValue>;
}

/** A read-only view of all leases the engine may allocate from (kept in memory by the engine's table). */
export interface LeaseSource {
  /** Every lease known to the store, at start-up (ISC reads dhcpd.leases into memory the same way). */
  loadAll(): Iterable<EngineLease> | Promise<Iterable<EngineLease>>;
}

/**
 * Durable lease writes. `commit` receives every lease the engine changed during one event-loop turn and
 * must resolve only once they are durable: the server sends no reply of that turn before it resolves
 * (RFC 2131 §4.3.1: "the server MUST commit the binding … before sending the DHCPACK"; ISC writes and
 * fsyncs dhcpd.leases before `dhcp_reply`).
 */
export interface LeaseSink {
  commit(leases: readonly EngineLease[]): Promise<void>;
}

/** The engine's lease storage port (the store of leases/lease-store.ts, adapted by the server). */
export interface EngineLeaseStore extends LeaseSource, LeaseSink {}

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
   * load balancing for DISCOVER → the hash decides). Returns a reason for the debug log when it is no.
   */
  mayAnswer(ctx: FailoverRequestContext): { answer: true } | { answer: false; reason: string };
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
  mayAllocate: (_peer, lease) => lease.bindingState === 'free' || lease.bindingState === 'expired' || lease.bindingState === 'released',
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
