/**
 * Typed runtime configuration of dhcpd-ts: what a dhcpd.conf means once it has been parsed, compiled and
 * checked. Produced by `loadConfig()` (src/config/load.ts), consumed by the engine, failover and CLI.
 *
 * Conventions:
 * - IPv4 addresses, network numbers and masks are unsigned 32-bit integers (`number`, host order,
 *   0..0xffffffff); `formatIp()` in src/config/ip.ts turns them back into dotted quads.
 * - Scopes keep their statements in source order, exactly what ISC's `execute_statements_in_scope`
 *   walks; the engine evaluates them outer to inner (global > shared-network > subnet > pool > group(s)
 *   > host/class), later (inner) settings overriding earlier ones.
 * - Option values whose bytes are known at load time are pre-encoded (`OptionValue.kind === 'const'`);
 *   everything else (host names to resolve, `= expr` forms) is an expression the engine evaluates.
 *
 * Contract file: add fields, never rename.
 */

/** Where something was written: file name as given to dhcpd / in the include statement, 1-based line. */
export interface SourceLoc {
  file: string;
  line: number;
  column: number;
}

// ---------------------------------------------------------------------------------------------------
// Expressions (evaluation-ready form of dhcp-eval(5); mirrors ISC's expr_op kinds)
// ---------------------------------------------------------------------------------------------------

/** Every expression node. `type` tells the evaluator what the node yields. */
export type Expr = BooleanExpr | DataExpr | NumericExpr | AnyExpr;

/** Expressions yielding a boolean. */
export type BooleanExpr =
  | { op: 'equal' | 'not-equal'; left: Expr; right: Expr }
  | { op: 'regex-match' | 'iregex-match'; left: Expr; pattern: Expr }
  | { op: 'and' | 'or'; left: Expr; right: Expr }
  | { op: 'not'; operand: Expr }
  | { op: 'exists'; space: string; name: string; code: number }
  | { op: 'known' }
  | { op: 'static' }
  | { op: 'variable-exists'; name: string }
  | { op: 'check'; className: string }
  | { op: 'const-bool'; value: boolean };

/** Expressions yielding bytes (ISC "data"). */
export type DataExpr =
  | { op: 'const-data'; data: Uint8Array }
  | { op: 'option'; space: string; name: string; code: number }
  | { op: 'config-option'; space: string; name: string; code: number }
  | { op: 'hardware' }
  | { op: 'packet'; offset: Expr; length: Expr }
  | { op: 'substring'; data: Expr; offset: Expr; length: Expr }
  | { op: 'suffix'; data: Expr; length: Expr }
  | { op: 'lcase' | 'ucase'; data: Expr }
  | { op: 'concat'; parts: Expr[] }
  | { op: 'pick-first-value'; values: Expr[] }
  | { op: 'binary-to-ascii'; base: Expr; width: Expr; separator: Expr; data: Expr }
  | { op: 'encode-int'; value: Expr; width: 8 | 16 | 32 }
  | { op: 'reverse'; width: Expr; data: Expr }
  | { op: 'leased-address' }
  | { op: 'host-decl-name' }
  | { op: 'filename' }
  | { op: 'server-name' }
  | { op: 'gethostname' }
  /**
   * A DNS name to resolve to IPv4 addresses (4 bytes each) at evaluation time (ISC expr_host_lookup).
   * `limit`: keep only the first N bytes (ISC make_limit; 4 for a single ip-address field).
   */
  | { op: 'host-lookup'; hostname: string; limit?: number }
  | { op: 'null' }
  | { op: 'v6relay'; relay: Expr; data: Expr }
  /** `encapsulate SPACE`: the options of SPACE the server would send, encoded (ISC expr_encapsulate). */
  | { op: 'encapsulate'; space: string };

/** Expressions yielding an unsigned 32-bit number. */
export type NumericExpr =
  | { op: 'const-int'; value: number }
  | { op: 'extract-int'; data: Expr; width: 8 | 16 | 32 }
  | { op: 'lease-time' }
  | { op: 'client-state' }
  | { op: 'add' | 'subtract' | 'multiply' | 'divide' | 'remainder' | 'binary-and' | 'binary-or' | 'binary-xor'; left: Expr; right: Expr };

/** Untyped: variables and function calls. */
export type AnyExpr =
  | { op: 'variable-reference'; name: string }
  | { op: 'funcall'; name: string; args: Expr[] };

// ---------------------------------------------------------------------------------------------------
// Executable statements (what a scope contains, in source order)
// ---------------------------------------------------------------------------------------------------

/** How an option statement combines with what is already there (ISC statement op). */
export type OptionMode = 'option' | 'supersede' | 'default' | 'prepend' | 'append' | 'send';

/** An option (or server parameter) value. */
export type OptionValue =
  /** Wire bytes known at load time (no host names, no expressions). */
  | { kind: 'const'; data: Uint8Array }
  /** Computed when the statement is executed (host names to look up, `NAME = expr;`). */
  | { kind: 'expr'; expr: Expr };

/** Statements, mirroring ISC's `struct executable_statement` ops. Every one carries its source location. */
export type Statement =
  | OptionStatement
  | { kind: 'if'; loc: SourceLoc; branches: { condition: Expr; body: Statement[] }[]; otherwise: Statement[] | null }
  | { kind: 'switch'; loc: SourceLoc; value: Expr; cases: { value: Expr | null; body: Statement[] }[] }
  | { kind: 'on'; loc: SourceLoc; events: ('commit' | 'expiry' | 'release' | 'transmission')[]; body: Statement[] }
  | { kind: 'set' | 'define'; loc: SourceLoc; name: string; value: Expr }
  | { kind: 'define-function'; loc: SourceLoc; name: string; params: string[]; body: Statement[] }
  | { kind: 'unset'; loc: SourceLoc; name: string }
  | { kind: 'eval'; loc: SourceLoc; expr: Expr }
  | { kind: 'return'; loc: SourceLoc; expr: Expr }
  | { kind: 'log'; loc: SourceLoc; priority: 'fatal' | 'error' | 'info' | 'debug'; expr: Expr }
  | { kind: 'execute'; loc: SourceLoc; command: string; args: Expr[] }
  | { kind: 'add-class'; loc: SourceLoc; className: string }
  | { kind: 'break'; loc: SourceLoc }
  | { kind: 'parse-vendor-option'; loc: SourceLoc };

/** `option X v;`, `supersede X v;` … and every server parameter (ISC keeps parameters as `server`-space options). */
export interface OptionStatement {
  kind: 'option';
  loc: SourceLoc;
  mode: OptionMode;
  /** Option space name, lower case (`dhcp`, `agent`, `server`, user spaces …). */
  space: string;
  /** Option name as defined in the space (lower case). */
  name: string;
  code: number;
  value: OptionValue;
}

// ---------------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------------

export type ScopeKind = 'global' | 'shared-network' | 'subnet' | 'pool' | 'group' | 'host' | 'class';

/**
 * One scope (ISC `struct group`). `parent` is the lexically enclosing scope except for hosts, whose
 * parent is the enclosing group/global scope the host was declared in (ISC: hosts are global, but inherit
 * the statements of the group they were written in).
 */
export interface Scope {
  id: number;
  kind: ScopeKind;
  /** Name for named scopes (shared-network, group, host, class); subnet: "NET/MASK" dotted. */
  name: string | null;
  parent: Scope | null;
  statements: Statement[];
  loc: SourceLoc | null;
  /**
   * ISC's `group->authoritative` flag: copied from the parent when the scope is created (clone_group), then
   * set by `authoritative;` / `not authoritative;` written directly in it. So a global `authoritative;`
   * written after a subnet does not reach that subnet — exactly as in ISC. The engine uses the subnet's
   * (DHCPREQUEST/INFORM) or the shared network's flag like dhcp.c does.
   */
  authoritative: boolean;
}

/** The scopes from outermost to `scope` itself (the order ISC executes statements in). */
export function scopeChain(scope: Scope): Scope[] {
  const chain: Scope[] = [];
  for (let s: Scope | null = scope; s; s = s.parent) chain.push(s);
  return chain.reverse();
}

/**
 * ISC's execute_statements_in_scope(group, limiting_group) order: the scopes from the outermost ancestor
 * of `scope` down to `scope`, leaving out every scope that is `limit` or one of its ancestors.
 * The engine builds a reply's option state like dhcp.c ack_lease:
 *   executionScopes(subnet.scope, null), then executionScopes(pool.scope, pool.sharedNetwork.scope),
 *   then for each matched class (last matched first) executionScopes(class.scope, pool?.scope ?? subnet.scope),
 *   then executionScopes(host.scope, pool?.scope ?? subnet.scope).
 */
export function executionScopes(scope: Scope, limit: Scope | null): Scope[] {
  const excluded = new Set<Scope>();
  for (let s = limit; s; s = s.parent) excluded.add(s);
  const chain: Scope[] = [];
  for (let s: Scope | null = scope; s && !excluded.has(s); s = s.parent) chain.push(s);
  return chain.reverse();
}

// ---------------------------------------------------------------------------------------------------
// Networks, subnets, pools
// ---------------------------------------------------------------------------------------------------

export interface SharedNetwork {
  /** Name as written; for the implicit network of a bare subnet ISC's `NET/LEN` (e.g. `10.0.0.0/24`). */
  name: string;
  /** True when dhcpd created it for a subnet declared outside any shared-network. */
  implicit: boolean;
  /**
   * The network's scope. For an implicit network it is a statement-less clone of the enclosing scope
   * (ISC clones the group) and the subnet's scope is its child.
   */
  scope: Scope;
  subnets: Subnet[];
  pools: Pool[];
  /** Interface bound with `interface NAME;` (in the network or, for an implicit one, its subnet). */
  interface: string | null;
  /** `failover peer "X";` given at shared-network level (applies to its pools). */
  failoverPeer: string | null;
  loc: SourceLoc | null;
}

export interface Subnet {
  /** Network number (uint32). */
  network: number;
  /** Netmask (uint32). */
  netmask: number;
  /** Prefix length derived from the mask. */
  prefixLength: number;
  sharedNetwork: SharedNetwork;
  scope: Scope;
  interface: string | null;
  loc: SourceLoc;
}

/** A `[first, last]` inclusive uint32 address interval. */
export interface AddressRange {
  first: number;
  last: number;
  /** `range dynamic-bootp ...` */
  dynamicBootp: boolean;
  /** The subnet containing both ends. */
  subnet: Subnet;
  loc: SourceLoc;
}

/** One entry of a pool's allow/deny list (ISC `struct permit`). */
export type Permit =
  | { type: 'known-clients' }
  | { type: 'unknown-clients' }
  | { type: 'authenticated-clients' }
  | { type: 'unauthenticated-clients' }
  | { type: 'all-clients' }
  | { type: 'dynamic-bootp-clients' }
  | { type: 'class'; className: string }
  /** `after DATE`: the permit matches once the clock passes `time` (epoch seconds, UTC). */
  | { type: 'after'; time: number };

export interface Pool {
  /** Index in Config.pools. */
  index: number;
  /** True for ranges written directly in a subnet (ISC makes an anonymous pool for them). */
  implicit: boolean;
  /** Pool scope; its parent is the shared network's scope (ISC clones the pool group from it). */
  scope: Scope;
  sharedNetwork: SharedNetwork;
  ranges: AddressRange[];
  /** True when any range is `dynamic-bootp` (ISC: the pool admits BOOTP clients). */
  dynamicBootp: boolean;
  permitList: Permit[];
  prohibitList: Permit[];
  /** Failover peer name (own `failover peer "X";` or inherited from the shared network); null if none. */
  failoverPeer: string | null;
  /** `no failover peer;` */
  noFailover: boolean;
  loc: SourceLoc;
}

// ---------------------------------------------------------------------------------------------------
// Hosts and classes
// ---------------------------------------------------------------------------------------------------

export interface HardwareAddress {
  /** ARP hardware type: ethernet 1, token-ring 6, fddi 8, infiniband 32, unknown-N -> N. */
  htype: number;
  address: Uint8Array;
}

export interface Host {
  name: string;
  scope: Scope;
  hardware: HardwareAddress | null;
  /** `uid` value (client identifier bytes). */
  clientId: Uint8Array | null;
  /** `host-identifier option SPACE.NAME VALUE;` */
  hostIdentifier: { space: string; name: string; code: number; data: Uint8Array } | null;
  /**
   * `fixed-address` entries, in order. Literals are resolved; names are kept for DNS lookup at use time
   * (ISC resolves them when the host is matched).
   */
  fixedAddresses: ({ kind: 'address'; address: number } | { kind: 'hostname'; hostname: string })[];
  /** `group "NAME";` attached named group, if any. */
  groupName: string | null;
  dynamic: boolean;
  deleted: boolean;
  loc: SourceLoc;
}

export interface ClassDecl {
  name: string;
  /** 'class', or 'subclass' with `parent` and `matchData`. */
  kind: 'class' | 'subclass';
  parent: string | null;
  /** Subclass value (bytes) the parent's submatch result is compared with. */
  matchData: Uint8Array | null;
  /** `match if BOOLEAN;` */
  matchIf: Expr | null;
  /** `match DATA;` or `spawn with DATA;` */
  submatch: Expr | null;
  spawn: boolean;
  /** `lease limit N;` (null = unlimited) */
  leaseLimit: number | null;
  scope: Scope;
  loc: SourceLoc;
}

// ---------------------------------------------------------------------------------------------------
// Failover
// ---------------------------------------------------------------------------------------------------

export interface FailoverEndpoint {
  /** Address literal (uint32) or a host name to resolve; null when omitted (allowed for `address`). */
  address: { kind: 'address'; address: number } | { kind: 'hostname'; hostname: string } | null;
  port: number;
  maxResponseDelay: number;
  maxUnackedUpdates: number;
}

/** `failover peer "NAME" { ... }` with ISC's defaults filled in (server/confpars.c, includes/failover.h). */
export interface FailoverPeer {
  name: string;
  role: 'primary' | 'secondary';
  /** This server. Defaults: port 647, max-response-delay 20, max-unacked-updates 100. */
  me: FailoverEndpoint;
  /** The partner. Defaults: port 647; delay/unacked 0 when not given (ISC leaves them unset). */
  peer: FailoverEndpoint;
  /** Maximum client lead time, seconds (0 when not given: only legal on the secondary). */
  mclt: number;
  /** Load balancing hash bucket mask, 32 bytes = 256 bits (bit i of byte i/8, LSB first); null if none. */
  hba: Uint8Array | null;
  /** The `split` value when written as split (for display), else null. */
  split: number | null;
  loadBalanceMaxSeconds: number;
  /** Default 15 (percent). */
  maxLeaseMisbalance: number;
  /** Default 10 (percent). */
  maxLeaseOwnership: number;
  /** Default 3600 s. */
  maxBalance: number;
  /** Default 60 s. */
  minBalance: number;
  /** 0 = disabled. */
  autoPartnerDown: number;
  /** State record from `failover peer "X" state { ... }` in the config, if any. */
  state: FailoverStateRecord | null;
  loc: SourceLoc;
}

export interface FailoverStateRecord {
  myState: string | null;
  myStateTime: number | null;
  partnerState: string | null;
  partnerStateTime: number | null;
  mclt: number | null;
}

// ---------------------------------------------------------------------------------------------------
// Keys, zones, option spaces
// ---------------------------------------------------------------------------------------------------

export interface TsigKey {
  name: string;
  /** Normalised like ISC: `hmac-md5` -> `hmac-md5.SIG-ALG.REG.INT.`, others get a trailing dot. */
  algorithm: string | null;
  secret: Uint8Array | null;
  loc: SourceLoc;
}

export interface DnsZone {
  /** With trailing dot. */
  name: string;
  primary: string[];
  secondary: string[];
  primary6: string[];
  secondary6: string[];
  keyName: string | null;
  loc: SourceLoc;
}

// Option space/definition types live in src/options/option-table.ts; re-exported here for convenience.
import type { OptionSpace, OptionDefinition, OptionTable } from '../options/option-table.js';
export type { OptionSpace, OptionDefinition, OptionTable };

// ---------------------------------------------------------------------------------------------------
// The whole configuration
// ---------------------------------------------------------------------------------------------------

export interface Config {
  /** Top-level file as given to loadConfig. */
  file: string;
  global: Scope;
  /** Every scope, by id (index = id). */
  scopes: Scope[];
  sharedNetworks: SharedNetwork[];
  /** All subnets, in declaration order. */
  subnets: Subnet[];
  /** All pools (explicit and implicit), in declaration order. */
  pools: Pool[];
  hosts: Host[];
  /** Lookup tables for hosts. Keys: see hardwareKey(), hexKey(), hostIdentifierKey(). */
  hostsByHardware: Map<string, Host[]>;
  hostsByClientId: Map<string, Host[]>;
  hostsByIdentifier: Map<string, Host[]>;
  hostsByName: Map<string, Host>;
  /** Named groups (`group NAME { }`). */
  groups: Map<string, Scope>;
  classes: Map<string, ClassDecl>;
  /** Subclasses by parent name, then by hexKey(matchData). */
  subclasses: Map<string, Map<string, ClassDecl>>;
  failoverPeers: Map<string, FailoverPeer>;
  keys: Map<string, TsigKey>;
  zones: Map<string, DnsZone>;
  /** Option spaces and definitions (built-ins plus the config's own `option space` / `code N =`). */
  options: OptionTable;
}

/**
 * Map key for a hardware address (Config.hostsByHardware): an opaque string, one char per byte
 * (htype then the address) — always build it with this function.
 */
export function hardwareKey(hw: HardwareAddress): string {
  const a = hw.address;
  // Ethernet (the 50,000-host case) without the spread's iterator; same string either way.
  if (a.length === 6) return String.fromCharCode(hw.htype & 0xff, a[0], a[1], a[2], a[3], a[4], a[5]);
  let s = String.fromCharCode(hw.htype & 0xff);
  for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
  return s;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of bytes, no separators (key of Config.hostsByClientId and subclass tables). */
export function hexKey(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += HEX[data[i]];
  return s;
}

/** Map key for a host-identifier: "space.code:hex". */
export function hostIdentifierKey(space: string, code: number, data: Uint8Array): string {
  return `${space}.${code}:${hexKey(data)}`;
}

/**
 * Builds the host lookup tables (hostsByHardware, hostsByClientId, hostsByIdentifier) now instead of at
 * their first use: the compiler leaves them to be built on first read, which `dhcpd -t` never does; a
 * server calls this before it answers its first packet.
 */
export function indexHosts(config: Config): void {
  void config.hostsByHardware;
}

// Typed accessors for the common server parameters, with ISC's defaults (see parameters.ts).
export type { ServerParameters, AllowDeny } from './parameters.js';
export { resolveServerParameters, DEFAULT_SERVER_PARAMETERS } from './parameters.js';

/** The subnet containing `address` (uint32), most specific first like ISC's find_subnet; null if none. */
export function subnetForAddress(config: Config, address: number): Subnet | null {
  let best: Subnet | null = null;
  for (const s of config.subnets) {
    if (((address & s.netmask) >>> 0) === s.network && (!best || s.prefixLength > best.prefixLength)) best = s;
  }
  return best;
}

/** The pool whose ranges contain `address`, or null. */
export function poolForAddress(config: Config, address: number): Pool | null {
  for (const p of config.pools) for (const r of p.ranges) if (address >= r.first && address <= r.last) return p;
  return null;
}
