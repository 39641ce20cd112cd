/**
 * Builds the runtime Config while the compiler walks the syntax tree in source order, applying ISC
 * dhcpd 4.4.3's semantics and load-time checks (server/confpars.c, server/mdb.c, server/failover.c):
 * implicit shared networks, ad-hoc pools for bare ranges, pool merging, scope inheritance by cloning
 * the enclosing group, host/class/group registries and failover peer defaults.
 *
 * Diagnostics are collected in order with ISC's wording. `fatal` ones (ISC log_fatal) stop processing;
 * ISC prints them without a position (line 0).
 */
import type {
  AddressRange, ClassDecl, Config, DnsZone, FailoverPeer, Host, Permit, Pool, Scope, ScopeKind, SharedNetwork,
  SourceLoc, Statement, Subnet, TsigKey,
} from './model.js';
import { hardwareKey, hexKey, hostIdentifierKey } from './model.js';
import { OptionTable } from '../options/option-table.js';
import type { ConfigError } from '../../grammar/errors.js';
import { formatIp, prefixLength } from './ip.js';
import type { CanonicalHost } from '../../grammar/host-fast-path.js';
import type { OptionDefinition } from '../options/option-table.js';
import { canonicalHostName, DeferredHosts } from './deferred-hosts.js';
import { AddressCover } from './address-cover.js';

/** One diagnostic in ISC's terms. */
export interface Diagnostic {
  /** Position of the token ISC blames; null for position-less messages (log_error/log_fatal). */
  loc: SourceLoc | null;
  message: string;
  severity: 'error' | 'warning';
  /** ISC stops reading at a log_fatal. */
  fatal: boolean;
  /** The error exactly as ISC prints it, when the parser could build it (position, caret, echo). */
  exact?: ConfigError;
}

/** Thrown to stop the walk at a fatal error. */
export class FatalConfigError extends Error {}

/** A pool while its declaration is being read. */
export interface PoolDraft {
  pool: Pool;
  /** Whether any range was added (ISC's lpchain). */
  hasRange: boolean;
  /** True once a statement was added to its scope (ISC compares statement-list identity for merging). */
  explicit: true;
}

const permitEq = (a: Permit, b: Permit): boolean =>
  a.type === b.type &&
  (a.type !== 'class' || (b.type === 'class' && a.className === b.className)) &&
  (a.type !== 'after' || (b.type === 'after' && a.time === b.time));

/** ISC permit_list_match(lhs, rhs): every permit of lhs is in rhs. */
function permitListIncluded(lhs: Permit[], rhs: Permit[]): boolean {
  return lhs.every((p) => rhs.some((q) => permitEq(p, q)));
}

export class ConfigBuilder {
  readonly diagnostics: Diagnostic[] = [];
  readonly table: OptionTable;
  readonly config: Config;
  private nextScopeId = 0;
  private hostWarningGiven = false;
  /** Every scope made, in id order, except those of deferred hosts (Config.scopes once they are built). */
  private scopeList: Scope[];
  /** Top-level fast-path hosts not built yet (see {@link deferCanonicalHost}). */
  private deferred: DeferredHosts | null = null;

  constructor(file: string) {
    this.table = OptionTable.builtin();
    const global = this.makeScope('global', null, null, null);
    this.scopeList = [global];
    this.config = {
      file,
      global,
      scopes: this.scopeList,
      sharedNetworks: [],
      subnets: [],
      pools: [],
      hosts: [],
      hostsByHardware: new Map(),
      hostsByClientId: new Map(),
      hostsByIdentifier: new Map(),
      hostsByName: new Map(),
      groups: new Map(),
      classes: new Map(),
      subclasses: new Map(),
      failoverPeers: new Map(),
      keys: new Map(),
      zones: new Map(),
      options: this.table,
    };
    indexHostsOnFirstUse(this.config);
  }

  // ------------------------------------------------------------------ diagnostics

  /** ISC parse_warn: an error at a position; parsing continues. */
  error(loc: SourceLoc, message: string): void {
    this.diagnostics.push({ loc, message, severity: 'error', fatal: false });
  }

  /** An error already in ISC's printed form (built by the parser's position bookkeeping). */
  errorExact(e: ConfigError): void {
    this.diagnostics.push({ loc: { file: e.file, line: e.line, column: e.column }, message: e.message, severity: 'error', fatal: false, exact: e });
  }

  /** ISC log_error that fails the configuration later (e.g. failover sanity), no position. */
  plainError(message: string): void {
    this.diagnostics.push({ loc: null, message, severity: 'error', fatal: false });
  }

  /** ISC log_fatal: position-less, stops everything. */
  fatal(message: string): never {
    this.diagnostics.push({ loc: null, message, severity: 'error', fatal: true });
    throw new FatalConfigError(message);
  }

  warning(loc: SourceLoc | null, message: string): void {
    this.diagnostics.push({ loc, message, severity: 'warning', fatal: false });
  }

  get hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  // ------------------------------------------------------------------ scopes

  private makeScope(kind: ScopeKind, parent: Scope | null, name: string | null, loc: SourceLoc | null): Scope {
    const s: Scope = {
      id: this.nextScopeId++, kind, name, parent, statements: [], loc,
      authoritative: parent ? parent.authoritative : false,
    };
    return s;
  }

  /** A new scope under `parent` (ISC clone_group: inherits the authoritative flag at creation). */
  newScope(kind: ScopeKind, parent: Scope, name: string | null, loc: SourceLoc | null): Scope {
    const s = this.makeScope(kind, parent, name, loc);
    this.scopeList.push(s);
    return s;
  }

  addStatement(scope: Scope, st: Statement): void {
    scope.statements.push(st);
  }

  /** `authoritative;` / `not authoritative;` */
  setAuthoritative(scope: Scope, value: boolean, loc: SourceLoc): void {
    scope.authoritative = value;
    if (scope.kind === 'host') this.error(loc, 'authority makes no sense here.');
  }

  // ------------------------------------------------------------------ networks

  /** `shared-network NAME {` */
  beginSharedNetwork(parent: Scope, name: string, loc: SourceLoc, nameLoc: SourceLoc): SharedNetwork {
    if (name.length === 0) this.error(nameLoc, 'zero-length shared network name');
    const scope = this.newScope('shared-network', parent, name, loc);
    return { name, implicit: false, scope, subnets: [], pools: [], interface: null, failoverPeer: null, loc };
  }

  /** `}` of a shared-network: ISC requires at least one subnet. */
  endSharedNetwork(share: SharedNetwork, endLoc: SourceLoc): void {
    if (share.subnets.length === 0) {
      this.error(endLoc, 'empty shared-network decl');
      return;
    }
    this.config.sharedNetworks.push(share);
  }

  /**
   * `subnet NET netmask MASK {` — in `share`, or (share null) with an implicit shared network whose
   * scope is a clone of `parent`, as ISC does for a subnet outside any shared-network.
   */
  beginSubnet(parent: Scope, share: SharedNetwork | null, network: number, netmask: number, loc: SourceLoc, maskLoc: SourceLoc): Subnet {
    if ((network & ~netmask) >>> 0 !== 0) {
      this.error(maskLoc, `subnet ${formatIp(network)} netmask ${formatIp(netmask)}: bad subnet number/mask combination.`);
    }
    let sn = share;
    if (!sn) {
      const shareScope = this.newScope('shared-network', parent, null, loc);
      sn = { name: '', implicit: true, scope: shareScope, subnets: [], pools: [], interface: null, failoverPeer: null, loc };
    }
    const scope = this.newScope('subnet', sn.scope, `${formatIp(network)}/${formatIp(netmask)}`, loc);
    const subnet: Subnet = {
      network,
      netmask,
      prefixLength: prefixLength(netmask),
      sharedNetwork: sn,
      scope,
      interface: null,
      loc,
    };
    return subnet;
  }

  /** `}` of a subnet: register it (and its implicit shared network). */
  endSubnet(subnet: Subnet): void {
    const sn = subnet.sharedNetwork;
    subnet.interface = sn.interface;
    sn.subnets.push(subnet);
    this.config.subnets.push(subnet);
    if (sn.implicit) {
      // ISC names the implicit network after the subnet and copies the subnet's authoritative flag.
      sn.name = `${formatIp(subnet.network)}/${prefixLength(subnet.netmask)}`;
      sn.scope.name = sn.name;
      sn.scope.authoritative = subnet.scope.authoritative;
      this.config.sharedNetworks.push(sn);
    }
  }

  private readonly knownInterfaces = new Set<string>();

  /**
   * `interface NAME;` in a shared-network or subnet (mdb.c new_shared_network_interface): a network may be
   * bound once ("can't be connected to two interfaces", even to the same name); an interface already
   * named by an earlier network is not bound again — ISC silently leaves this network unbound.
   */
  setInterface(share: SharedNetwork, name: string, loc: SourceLoc): void {
    if (share.interface !== null) {
      this.error(loc, "A subnet or shared network can't be connected to two interfaces.");
      return;
    }
    if (this.knownInterfaces.has(name)) return;
    this.knownInterfaces.add(name);
    share.interface = name;
  }

  // ------------------------------------------------------------------ pools and ranges

  /** `pool {` inside a subnet (subnet given) or a shared network. */
  beginPool(share: SharedNetwork, _lexicalParent: Scope, loc: SourceLoc): PoolDraft {
    // ISC clones the pool group from the *shared network's* group (not the subnet's): the pool's parent
    // scope is the shared network, and its authoritative flag comes from there.
    const scope = this.newScope('pool', share.scope, null, loc);
    const pool: Pool = {
      index: -1, implicit: false, scope, sharedNetwork: share, ranges: [], dynamicBootp: false,
      permitList: [], prohibitList: [], failoverPeer: share.failoverPeer, noFailover: false, loc,
    };
    return { pool, hasRange: false, explicit: true };
  }

  /** `failover peer "NAME";` in a pool. */
  setPoolFailoverPeer(draft: PoolDraft, name: string, loc: SourceLoc): void {
    const peer = this.config.failoverPeers.get(name);
    if (!peer) {
      draft.pool.failoverPeer = null;
      this.error(loc, `failover peer ${name}: not found`);
      return;
    }
    draft.pool.failoverPeer = name;
    draft.pool.noFailover = false;
    this.poolCounts.set(name, (this.poolCounts.get(name) ?? 0) + 1);
  }

  /** `no failover peer;` */
  clearPoolFailoverPeer(draft: PoolDraft): void {
    draft.pool.failoverPeer = null;
    draft.pool.noFailover = true;
  }

  /** `allow|deny PERMIT;` in a pool. */
  addPermit(draft: PoolDraft, allow: boolean, permit: Permit, loc: SourceLoc): void {
    if (permit.type === 'class' && !this.config.classes.has(permit.className)) {
      this.error(loc, `no such class: ${permit.className}`);
      return;
    }
    if (permit.type === 'after') {
      const lists = [...draft.pool.permitList, ...draft.pool.prohibitList];
      if (lists.some((p) => p.type === 'after')) {
        this.error(loc, 'duplicate "after" clause.');
        return;
      }
    }
    (allow ? draft.pool.permitList : draft.pool.prohibitList).push(permit);
  }

  /**
   * `range [dynamic-bootp] LOW [HIGH];` — in a subnet (`subnet` given, `draft` null: ISC's ad-hoc pool
   * logic) or in a pool (draft given; the subnet is looked up in the pool's shared network).
   */
  addRange(
    ctx: { subnet: Subnet | null; share: SharedNetwork; draft: PoolDraft | null },
    low: number, high: number, dynamicBootp: boolean, loc: SourceLoc, endLoc: SourceLoc,
  ): void {
    let subnet = ctx.subnet;
    const share = ctx.share;
    if (!subnet) {
      subnet = share.subnets.find((s) => ((low & s.netmask) >>> 0) === s.network) ?? null;
      if (!subnet) {
        this.error(endLoc, `address range not on network ${share.name}`);
        this.plainWarning('Be sure to place pool statement after related subnet declarations.');
        return;
      }
    }
    let pool: Pool;
    if (ctx.draft) {
      pool = ctx.draft.pool;
    } else {
      // ISC: bare ranges go to an anonymous pool that prohibits dynamic-bootp clients (or, for a
      // dynamic-bootp range, permits all clients); an existing matching pool is reused — but ISC then
      // picks the pool *before* the match (its `last` pointer) unless the match is the first pool.
      // Reproduced as is: it decides which pool (and permit list) such a range lands in.
      let found: Pool | null = null;
      let last: Pool | null = null;
      for (const p of share.pools) {
        const bootpDenied = p.permitList.length === 0 && p.prohibitList.length === 1 && p.prohibitList[0].type === 'dynamic-bootp-clients';
        const allPermitted = p.prohibitList.length === 0 && p.permitList.length === 1 && p.permitList[0].type === 'all-clients';
        if ((!dynamicBootp && bootpDenied) || (dynamicBootp && allPermitted)) {
          found = p;
          break;
        }
        last = p;
      }
      if (!found) {
        const scope = this.newScope('pool', share.scope, null, loc);
        pool = {
          index: this.config.pools.length, implicit: true, scope, sharedNetwork: share, ranges: [], dynamicBootp: false,
          permitList: dynamicBootp ? [{ type: 'all-clients' }] : [],
          prohibitList: dynamicBootp ? [] : [{ type: 'dynamic-bootp-clients' }],
          failoverPeer: null, noFailover: false, loc,
        };
        share.pools.push(pool);
        this.config.pools.push(pool);
      } else {
        pool = last ?? share.pools[0];
      }
    }
    if (pool.failoverPeer && dynamicBootp) {
      this.error(endLoc, 'dynamic-bootp flag is not permitted for address');
    }
    // mdb.c new_address_range: both ends must be in the subnet (fatal, no position).
    for (const a of [low, high]) {
      if (((a & subnet.netmask) >>> 0) !== subnet.network) {
        this.fatal(`bad range, address ${formatIp(a)} not in subnet ${formatIp(subnet.network)} netmask ${formatIp(subnet.netmask)}`);
      }
    }
    const [first, last] = low <= high ? [low, high] : [high, low];
    // mdb.c new_address_range: every address gets a lease in one global table; an address that already
    // has one in a pool is "declared twice" (ISC warns per address; the first is the lowest).
    const dup = this.covered.firstCovered(first, last);
    this.covered.add(first, last);
    if (dup >= 0) this.error(endLoc, `lease ${formatIp(dup)} is declared twice!`);
    const range: AddressRange = { first, last, dynamicBootp, subnet, loc };
    pool.ranges.push(range);
    if (dynamicBootp) pool.dynamicBootp = true;
    if (ctx.draft) ctx.draft.hasRange = true;
  }

  private plainWarning(message: string): void {
    this.diagnostics.push({ loc: null, message, severity: 'warning', fatal: false });
  }

  /** `}` of a pool: ISC's merge with an identical earlier pool, and the no-range check. */
  endPool(draft: PoolDraft, endLoc: SourceLoc): void {
    const pool = draft.pool;
    const share = pool.sharedNetwork;
    const merged = share.pools.find(
      (pp) =>
        pp.scope.statements.length === 0 &&
        pool.scope.statements.length === 0 &&
        pp.failoverPeer === pool.failoverPeer &&
        permitListIncluded(pp.permitList, pool.permitList) &&
        permitListIncluded(pool.permitList, pp.permitList) &&
        permitListIncluded(pp.prohibitList, pool.prohibitList) &&
        permitListIncluded(pool.prohibitList, pp.prohibitList),
    );
    if (merged) {
      merged.ranges.push(...pool.ranges);
      if (pool.dynamicBootp) merged.dynamicBootp = true;
    } else {
      pool.index = this.config.pools.length;
      share.pools.push(pool);
      this.config.pools.push(pool);
    }
    if (!draft.hasRange) {
      this.error(endLoc, 'Pool declaration with no address range.');
    }
  }

  // ------------------------------------------------------------------ hosts, groups, classes

  /** Host scope under the scope it is written in; warns once when written in a subnet/shared-network. */
  beginHost(parent: Scope, name: string, loc: SourceLoc): Host {
    if (!this.hostWarningGiven && (parent.kind === 'subnet' || parent.kind === 'shared-network')) {
      this.hostWarningGiven = true;
      this.warning(null, 'WARNING: Host declarations are global.  They are not limited to the scope you declared them in.');
    }
    const scope = this.newScope('host', parent, name, loc);
    return {
      name, scope, hardware: null, clientId: null, hostIdentifier: null, fixedAddresses: [], groupName: null,
      dynamic: false, deleted: false, loc,
    };
  }

  /** `group NAME;` inside a host. */
  attachNamedGroup(host: Host, name: string, loc: SourceLoc): void {
    const g = this.config.groups.get(name);
    if (!g) {
      this.error(loc, `unknown group ${name} in host ${host.name}`);
      return;
    }
    host.groupName = name;
  }

  /** `}` of a host: ISC enter_host (duplicate names are an error at the closing brace). */
  endHost(host: Host, endLoc: SourceLoc): void {
    // The hosts read before this one are built first (a `deleted` host removes an earlier one by name).
    this.buildDeferred();
    if (host.groupName) {
      // ISC links the host's group to the named group (host->group->next = named group).
      const g = this.config.groups.get(host.groupName);
      if (g) host.scope.parent = g;
    }
    if (host.deleted) {
      const existing = this.config.hostsByName.get(host.name);
      if (existing) this.removeHost(existing);
      return;
    }
    const byName = this.config.hostsByName;
    if (byName.has(host.name)) {
      this.error(endLoc, `host ${host.name}: already exists`);
      return;
    }
    this.config.hosts.push(host);
    byName.set(host.name, host);
    // hostsByHardware/ClientId/Identifier are built from config.hosts in one pass when first read
    // (indexHostsOnFirstUse): `dhcpd -t` never reads them, and three map inserts and a key string per
    // host were a third of compiling 50,000 hosts.
  }

  /**
   * A top-level fast-path host whose options were checked (`defs`, the first `defCount` of them, its
   * options' definitions in order): its Host and scope are built when Config.hosts, hostsByName or scopes
   * is first read (see deferred-hosts.ts), with the scope id reserved now. A duplicate name is reported
   * here, as {@link endHost} would (the caller then reads the file again without the fast path).
   */
  deferCanonicalHost(h: CanonicalHost, parent: Scope, defs: readonly OptionDefinition[], defCount: number): void {
    let d = this.deferred;
    if (d === null) {
      d = this.deferred = new DeferredHosts(this.config.hosts, this.config.hostsByName, h.table.count);
      this.installDeferredAccessors();
    }
    if ((d.byName.size > 0 && d.byName.has(canonicalHostName(h))) || !d.add(h, parent, this.nextScopeId, defs, defCount)) {
      this.error({ file: h.file, line: h.line, column: h.column }, `host ${canonicalHostName(h)}: already exists`);
      return;
    }
    this.nextScopeId++;
  }

  /** Config.hosts, hostsByName and scopes build the deferred hosts when first read (or written). */
  private installDeferredAccessors(): void {
    const config = this.config;
    for (const key of ['scopes', 'hosts', 'hostsByName'] as const) {
      Object.defineProperty(config, key, {
        get: () => {
          this.buildDeferred();
          return config[key];
        },
        set: (value: never) => {
          this.buildDeferred();
          config[key] = value;
        },
        enumerable: true,
        configurable: true,
      });
    }
  }

  /** Builds the deferred hosts, in order, into Config.hosts, hostsByName and scopes (plain properties again). */
  private buildDeferred(): void {
    const d = this.deferred;
    if (d === null) return;
    this.deferred = null;
    const hosts = d.builtHosts;
    const byName = d.byName;
    // Scopes by id: the others' and the hosts' (reserved ids) merged.
    const made = this.scopeList;
    const scopes: Scope[] = [];
    let m = 0;
    const scopeOf = (id: number, kind: 'host', parent: Scope, name: string, loc: SourceLoc, authoritative: boolean): Scope => {
      while (m < made.length && made[m]!.id < id) scopes.push(made[m++]!);
      const s: Scope = { id, kind, name, parent, statements: [], loc, authoritative };
      scopes.push(s);
      return s;
    };
    for (let k = 0; k < d.count; k++) {
      const host = d.build(k, scopeOf);
      hosts.push(host);
      byName.set(host.name, host);
    }
    while (m < made.length) scopes.push(made[m++]!);
    this.scopeList = scopes;
    const config = this.config;
    for (const [key, value] of [['scopes', scopes], ['hosts', hosts], ['hostsByName', byName]] as const) {
      Object.defineProperty(config, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }

  private removeHost(host: Host): void {
    this.config.hosts = this.config.hosts.filter((h) => h !== host);
    this.config.hostsByName.delete(host.name);
    // Indexes built before this point (none are, during a compile) are rebuilt on their next use.
    indexHostsOnFirstUse(this.config);
  }

  /** Named group registry. */
  registerGroup(name: string, scope: Scope): void {
    this.config.groups.set(name, scope);
  }

  /** Class registry (re-declaring a class extends the existing one in ISC). */
  findClass(name: string): ClassDecl | undefined {
    return this.config.classes.get(name);
  }

  registerClass(c: ClassDecl): void {
    if (c.kind === 'subclass' && c.parent !== null && c.matchData) {
      let m = this.config.subclasses.get(c.parent);
      if (!m) this.config.subclasses.set(c.parent, (m = new Map()));
      m.set(hexKey(c.matchData), c);
    } else {
      this.config.classes.set(c.name, c);
    }
  }

  // ------------------------------------------------------------------ failover, keys, zones

  private readonly poolCounts = new Map<string, number>();
  private readonly covered = new AddressCover();

  registerFailoverPeer(peer: FailoverPeer, loc: SourceLoc): void {
    if (this.config.failoverPeers.has(peer.name)) {
      this.error(loc, `redeclaration of failover peer ${peer.name}`);
      return;
    }
    this.config.failoverPeers.set(peer.name, peer);
  }

  registerKey(key: TsigKey): void {
    this.config.keys.set(key.name, key);
  }

  registerZone(zone: DnsZone): void {
    this.config.zones.set(zone.name, zone);
  }

  // ------------------------------------------------------------------ end of configuration

  /**
   * Post-parse checks dhcpd makes before `-t` exits (server/failover.c dhcp_failover_sanity_check):
   * every failover peer must be referred to by a pool.
   */
  finish(): Config {
    this.postconf();
    let failed = false;
    // ISC keeps peers in a list with the newest first (enter_failover_peer), so it reports them in
    // reverse declaration order.
    for (const peer of [...this.config.failoverPeers.values()].reverse()) {
      if (!this.poolCounts.get(peer.name)) {
        this.plainError(
          `ERROR: Failover peer, ${peer.name}, has no referring pools. You must refer to each peer in at least one pool declaration.`,
        );
        failed = true;
      }
      if (peer.loadBalanceMaxSeconds === 0) {
        this.plainWarning(`WARNING: load balancing will be disabled for failover peer, ${peer.name}, because its load balance max secs is 0`);
      }
    }
    if (failed) this.fatal('Failover configuration sanity check failed');
    return this.config;
  }

  /**
   * dhcpd.c postconf_initialization: evaluates the global scope once and fails on an unknown OMAPI key
   * or the removed ad-hoc DDNS style (both log_fatal, no position). Only unconditional constant
   * statements are considered (top-level `if`s see no packet and normally evaluate false).
   */
  private postconf(): void {
    let omapiKey: Uint8Array | null = null;
    let ddnsStyle: number | null = null;
    for (const st of this.config.global.statements) {
      if (st.kind !== 'option' || st.space !== 'server' || st.value.kind !== 'const') continue;
      if (st.name === 'omapi-key') omapiKey = st.value.data;
      if (st.name === 'ddns-update-style') ddnsStyle = st.value.data[0] ?? null;
    }
    if (omapiKey) {
      const name = Buffer.from(omapiKey).toString('latin1');
      if (!this.config.keys.has(name)) this.fatal(`OMAPI key ${name}: not found`);
    }
    if (ddnsStyle === 1) this.fatal('ddns-update-style ad_hoc no longer supported');
  }

  /** Shared-network level `failover peer "X";` reference (ISC: binds the network's later pools). */
  referenceFailoverPeerFromNetwork(share: SharedNetwork, name: string, loc: SourceLoc): void {
    if (!this.config.failoverPeers.has(name)) {
      this.error(loc, `reference to unknown failover peer ${name}`);
      return;
    }
    share.failoverPeer = name;
  }
}

const HOST_INDEXES = ['hostsByHardware', 'hostsByClientId', 'hostsByIdentifier'] as const;

/**
 * Makes Config.hostsByHardware, hostsByClientId and hostsByIdentifier lazy: the first read of any of them
 * builds all three from `config.hosts` (in host order, as ISC's hash buckets list them) and replaces the
 * accessors with plain properties. {@link indexHosts} in model.ts forces it (the server, before serving).
 */
function indexHostsOnFirstUse(config: Config): void {
  const build = (): void => {
    const byHardware = new Map<string, Host[]>();
    const byClientId = new Map<string, Host[]>();
    const byIdentifier = new Map<string, Host[]>();
    for (const host of config.hosts) {
      if (host.hardware) push(byHardware, hardwareKey(host.hardware), host);
      if (host.clientId) push(byClientId, hexKey(host.clientId), host);
      if (host.hostIdentifier) {
        const h = host.hostIdentifier;
        push(byIdentifier, hostIdentifierKey(h.space, h.code, h.data), host);
      }
    }
    const built = { hostsByHardware: byHardware, hostsByClientId: byClientId, hostsByIdentifier: byIdentifier };
    for (const key of HOST_INDEXES) {
      Object.defineProperty(config, key, { value: built[key], writable: true, enumerable: true, configurable: true });
    }
  };
  for (const key of HOST_INDEXES) {
    Object.defineProperty(config, key, {
      get() {
        build();
        return config[key];
      },
      set(value: Map<string, Host[]>) {
        Object.defineProperty(config, key, { value, writable: true, enumerable: true, configurable: true });
      },
      enumerable: true,
      configurable: true,
    });
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
