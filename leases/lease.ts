/**
 * The lease record and the other records ISC dhcpd 4.4 keeps in dhcpd.leases (CONTRACT: add, don't rename).
 *
 * Conventions (the same as src/wire/packet.ts and src/engine/ports.ts):
 * - IPv4 addresses are uint32 numbers in host order (10.0.0.1 = 0x0a000001). Convert with
 *   {@link ipv4ToString} / {@link ipv4FromString}.
 * - Times are whole seconds since the Unix epoch (ISC's `TIME`). In a {@link LeaseTime}:
 *   `0` means "not set" (ISC keeps 0 and does not write the field), `null` means `never` (ISC's MAX_TIME,
 *   written `never;`). ISC reads any date in 2038 or later as never, and so do we.
 * - Binary values (uid, hardware address, agent options, `set` data) are Buffers.
 *
 * @module
 */

/**
 * ISC binding states, spelled as dhcpd.leases spells them (`binding_state_names` in ISC's tables.c).
 * `reserved` and `bootp` are legacy words ISC accepts on read (it maps them to `active` plus a flag);
 * the union keeps them so the engine's `BindingState` (src/engine/ports.ts) is assignable to this one.
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

/** The seven states ISC writes (FTS_FREE .. FTS_BACKUP), in ISC's numbering order (1..7). */
export const BINDING_STATES: readonly BindingState[] = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
];

/** A time field: epoch seconds, `0` = not set, `null` = never. */
export type LeaseTime = number | null;

/** A hardware address as ISC keeps it on a lease or host (`hardware ethernet 52:54:00:…;`). */
export interface HardwareAddress {
  /** ARP hardware type: 1 ethernet, 6 token-ring, 8 fddi, 32 infiniband (the four names ISC parses). */
  readonly htype: number;
  /** The address octets (hlen of them); may be empty (ISC accepts `hardware ethernet;` in a lease). */
  readonly address: Buffer;
}

/**
 * A value in a binding scope (`set NAME = VALUE;`). ISC persists three kinds (write_binding_scope in
 * server/db.c): data (written as a quoted string with octal escapes), numeric (`%N`) and boolean.
 */
export type ScopeValue =
  | { readonly kind: 'data'; readonly value: Buffer }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean };

/** The class a lease is billed to (`billing class "N";` or `billing subclass "N" DATA;`). */
export type BillingClass =
  | { readonly kind: 'class'; readonly name: string }
  | { readonly kind: 'subclass'; readonly name: string; readonly data: Buffer };

/**
 * Deferred statements attached to a lease (`on expiry { … }`, `on release { … }`, `on commit { … }`),
 * kept as the statement text between the braces (one statement per line, lines trimmed), so that they
 * can be written back and run by the engine when the event happens. `on expiry or release` sets both
 * `expiry` and `release` to the same text and {@link OnStatements.expiryOrRelease} true.
 */
export interface OnStatements {
  expiry?: string;
  release?: string;
  commit?: string;
  /** The lease file said `on expiry or release { … }` (one shared block, ISC writes it that way). */
  expiryOrRelease?: boolean;
}

/**
 * One relay-agent sub-option stashed on a lease (ISC's `lease->agent_options`, written as
 * `option agent.NAME VALUE;`). Kept as code + raw bytes; names are ISC's agent space names.
 */
export interface AgentSubOption {
  readonly code: number;
  readonly data: Buffer;
}

/**
 * One IPv4 lease with every field ISC dhcpd 4.4 keeps for it (struct lease in ISC's dhcpd.h, as written
 * by write_lease in server/db.c).
 */
export interface Lease {
  /** The leased address (uint32, host order). Primary key. */
  address: number;
  /** Start of the current binding (`starts`). */
  starts: LeaseTime;
  /** End of the binding (`ends`); 0 for a lease never used. */
  ends: LeaseTime;
  /** Failover: potential expiry this server told its peer (`tstp`). */
  tstp: LeaseTime;
  /** Failover: potential expiry the peer told us / acknowledged (`tsfp`). */
  tsfp: LeaseTime;
  /** Failover: the last tsfp the peer acknowledged (`atsfp`); 0 = not acked since the last change. */
  atsfp: LeaseTime;
  /** Client last transaction time (`cltt`). */
  cltt: LeaseTime;
  bindingState: BindingState;
  /** State after `ends` (`next binding state`); ISC writes it only when it differs from bindingState. */
  nextBindingState: BindingState;
  /**
   * Last state the failover peer is known to have (`rewind binding state`); ISC writes it only when it
   * differs from bindingState. When a file has none, it equals bindingState.
   */
  rewindBindingState: BindingState;
  /** `reserved;` flag (RESERVED_LEASE). */
  reserved: boolean;
  /** `dynamic-bootp;` flag (BOOTP_LEASE). */
  dynamicBootp: boolean;
  hardware: HardwareAddress | null;
  /** Client identifier (option 61 bytes). */
  uid: Buffer | null;
  /** `client-hostname` (option 12 of the client), as ISC keeps it. */
  clientHostname: string | null;
  /**
   * Host declaration name when the lease was given under one (`use-host-decl-names`). Database only: ISC
   * does not write it to dhcpd.leases.
   */
  hostname: string | null;
  /**
   * Binding scope (`set NAME = VALUE;`), in write order. DDNS state lives here as ISC keeps it:
   * `ddns-fwd-name`, `ddns-rev-name`, `ddns-txt`, `ddns-dhcid`, `ddns-client-fqdn`; the legacy
   * `ddns-fwd-name "…";` form is read into the same names. See {@link ddnsFields}.
   */
  scope: Map<string, ScopeValue>;
  /** Stashed relay agent sub-options (option 82) of the binding request, in order. */
  agentOptions: AgentSubOption[];
  billingClass: BillingClass | null;
  on: OnStatements;
}

/** Failover states as dhcpd.leases spells them (FAILOVER.md §5.1; `unknown-state` before any STATE). */
export type FailoverStateName =
  | 'unknown-state'
  | 'partner-down'
  | 'normal'
  | 'communications-interrupted'
  | 'conflict-done'
  | 'resolution-interrupted'
  | 'potential-conflict'
  | 'recover'
  | 'recover-wait'
  | 'recover-done'
  | 'shutdown'
  | 'paused'
  | 'startup';

export const FAILOVER_STATE_NAMES: readonly FailoverStateName[] = [
  'unknown-state',
  'partner-down',
  'normal',
  'communications-interrupted',
  'conflict-done',
  'resolution-interrupted',
  'potential-conflict',
  'recover',
  'recover-wait',
  'recover-done',
  'shutdown',
  'paused',
  'startup',
];

/**
 * The persisted state of one failover relationship (`failover peer "NAME" state { … }`, FAILOVER.md §9.2).
 */
export interface FailoverStateRecord {
  /** The `failover peer` name from dhcpd.conf. */
  peer: string;
  myState: FailoverStateName;
  /** When this server entered myState (its stos). */
  myStateTime: LeaseTime;
  partnerState: FailoverStateName;
  /** When this server received the partner's state. */
  partnerStateTime: LeaseTime;
  /** MCLT learned from CONNECT; ISC writes it only on the secondary (null = not written). */
  mclt: number | null;
}

/**
 * A host declaration in the lease file: added at run time (OMAPI `dynamic;`), or a dhcpd.conf host that
 * was deleted at run time (`deleted;`).
 */
export interface HostRecord {
  name: string;
  dynamic: boolean;
  deleted: boolean;
  hardware: HardwareAddress | null;
  uid: Buffer | null;
  /** `fixed-address` addresses (uint32), in order. */
  fixedAddresses: number[];
  /** `group "G";` named group the host belongs to. */
  group: string | null;
  /** Any other statements of the host (options, parameters), one per line, as text. */
  statements: string;
}

/** A named group declared at run time (`group NAME { dynamic; static; deleted; … }`). */
export interface GroupRecord {
  name: string;
  dynamic: boolean;
  static: boolean;
  deleted: boolean;
  statements: string;
}

/** A spawned/billing class (`class "N" { dynamic; … }` or `subclass "N" DATA { dynamic; … }`). */
export interface ClassRecord {
  /** `class` name, or the superclass name of a `subclass`. */
  name: string;
  /** For a subclass: the hash string (the spawned value). */
  subclassData: Buffer | null;
  dynamic: boolean;
  deleted: boolean;
  leaseLimit: number | null;
  /** Other statements (match/spawn/options) as text. */
  statements: string;
}

/** Everything other than leases that a dhcpd.leases / the database carries. */
export interface LeaseFileMeta {
  /** `authoring-byte-order` (ISC writes the host's order: little-endian on x86). */
  authoringByteOrder: 'little-endian' | 'big-endian' | null;
  /** `server-duid` (DHCPv6 DUID) bytes, when present. */
  serverDuid: Buffer | null;
}

/** A fresh lease for an address: free, never used, nothing set (what ISC builds for a pool range). */
export function emptyLease(address: number): Lease {
  return {
    address: address >>> 0,
    starts: 0,
    ends: 0,
    tstp: 0,
    tsfp: 0,
    atsfp: 0,
    cltt: 0,
    bindingState: 'free',
    nextBindingState: 'free',
    rewindBindingState: 'free',
    reserved: false,
    dynamicBootp: false,
    hardware: null,
    uid: null,
    clientHostname: null,
    hostname: null,
    scope: new Map(),
    agentOptions: [],
    billingClass: null,
    on: {},
  };
}

/** A deep copy of a lease (Buffers and the scope map copied). */
export function cloneLease(lease: Lease): Lease {
  const l = snapshotLease(lease);
  if (lease.hardware !== null) l.hardware = { htype: lease.hardware.htype, address: Buffer.from(lease.hardware.address) };
  if (lease.uid !== null) l.uid = Buffer.from(lease.uid);
  if (lease.agentOptions.length > 0) l.agentOptions = lease.agentOptions.map((o) => ({ code: o.code, data: Buffer.from(o.data) }));
  return l;
}

/**
 * A copy of a lease whose containers (scope map, agent option list, `on` record) are its own, sharing the
 * Buffers and the hardware address record, which no module writes into once a lease holds them: what a
 * commit listener or a later decision needs, at a fraction of {@link cloneLease}'s cost (it ran for every
 * lease a server commits). Written as one object literal so that every lease has the same hidden class.
 * `scope`, when given, becomes the copy's scope as it is (the caller's new map).
 */
export function snapshotLease(lease: Lease, scope?: Map<string, ScopeValue>): Lease {
  return {
    address: lease.address,
    starts: lease.starts,
    ends: lease.ends,
    tstp: lease.tstp,
    tsfp: lease.tsfp,
    atsfp: lease.atsfp,
    cltt: lease.cltt,
    bindingState: lease.bindingState,
    nextBindingState: lease.nextBindingState,
    rewindBindingState: lease.rewindBindingState,
    reserved: lease.reserved,
    dynamicBootp: lease.dynamicBootp,
    hardware: lease.hardware,
    uid: lease.uid,
    clientHostname: lease.clientHostname,
    hostname: lease.hostname,
    scope: scope ?? (lease.scope.size === 0 ? new Map() : new Map(lease.scope)),
    agentOptions: lease.agentOptions.length === 0 ? [] : lease.agentOptions.slice(),
    billingClass: lease.billingClass,
    on: { ...lease.on },
  };
}

/** The DDNS fields ISC keeps in a lease's scope (ddns.c), read out for convenience. */
export interface DdnsFields {
  fwdName: string | null;
  revName: string | null;
  txt: string | null;
  dhcid: string | null;
  clientFqdn: string | null;
}

/** Reads the DDNS variables out of a lease's scope. */
export function ddnsFields(lease: Lease): DdnsFields {
  const text = (name: string): string | null => {
    const v = lease.scope.get(name);
    return v && v.kind === 'data' ? v.value.toString('latin1') : null;
  };
  return {
    fwdName: text('ddns-fwd-name'),
    revName: text('ddns-rev-name'),
    txt: text('ddns-txt'),
    dhcid: text('ddns-dhcid'),
    clientFqdn: text('ddns-client-fqdn'),
  };
}

/** Whether a time field is in the past at `now` (never = no, unset = yes as ISC compares 0 < now). */
export function timeHasPassed(t: LeaseTime, now: number): boolean {
  return t !== null && t <= now;
}

/** ISC's MAX_TIME cut-over on read: a date with year >= 2038 is `never` (GRAMMAR.md §10.3). */
export const NEVER_THRESHOLD = Date.UTC(2038, 0, 1) / 1000;

/** Dotted quad of a uint32 address. */
export function ipv4ToString(address: number): string {
  const a = address >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** uint32 of a dotted quad; undefined when it is not one. */
export function ipv4FromString(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v >>> 0;
}

/** ISC's names for the hardware types it parses in `hardware TYPE …` (parse_hardware_param). */
export const HARDWARE_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'ethernet'],
  [6, 'token-ring'],
  [8, 'fddi'],
  [32, 'infiniband'],
]);

/** The hardware type name as ISC writes it (`unknown-N` for types without a name, as its table does). */
export function hardwareTypeName(htype: number): string {
  return HARDWARE_TYPE_NAMES.get(htype) ?? `unknown-${htype}`;
}
