/**
 * The DHCPv4 request path of ISC dhcpd 4.4 (server/dhcp.c `dhcp()`, `dhcpdiscover`, `dhcprequest`,
 * `dhcprelease`, `dhcpdecline`, `dhcpinform`, `ack_lease`, `nak_lease`; server/bootp.c `bootp`) as a chain
 * of small handlers in the CoreDHCP manner: each step reads and extends one {@link RequestState} and
 * either continues or stops.
 *
 * The engine is synchronous and does no I/O: it reads leases through a {@link LeaseView}, records every
 * binding change of the current event-loop turn in its {@link LeaseBook}, and returns the replies. The
 * server commits {@link DhcpEngine.takeCommits} in ONE store transaction and only then sends the replies
 * of that turn (RFC 2131 §4.3.1; ISC commits before dhcp_reply). An OFFER that needs a ping-check comes
 * back as a {@link PingRequest} whose `resume` yields the OFFER (or nothing) once the ping is done.
 *
 * @module
 */
import { type Config, type Host, type Pool, type Scope, type SharedNetwork, type Subnet, scopeChain as buildScopeChain } from '../config/model.js';
import { cloneLease, emptyLease, snapshotLease, type Lease } from '../../leases/lease.js';
import {
  BOOTREPLY,
  BROADCAST_FLAG,
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  type DhcpPacket,
  DhcpOption,
  AgentSubOption,
  EMPTY,
  ipv4ToBytes,
  MessageType,
  messageType as packetMessageType,
  messageTypeName,
  optionUint32,
  optionUint16,
} from '../wire/packet.js';
import { encodeSubOptions, parseSubOptions } from '../wire/agent-information.js';
import type { EncodeOptions } from '../wire/encode.js';
import { iscBootpOptionSpace, iscReplyMaxSize } from '../wire/encode.js';
import { type DeferredStatements, type EvalContext, executeStatements, OptionState } from './evaluate.js';
import { onBodyText, runOnStatements } from './on-statements.js';
import { createRateLimiter, logRateLimited } from '../log/logger.js';
import { LeaseBook } from './lease-book.js';
import * as L from './log-lines.js';
import { type EnginePorts, type LeaseView } from './ports.js';
import { type ReplyKind, type ReplyRoute, replyDestination } from './reply-destination.js';
import { allocateLease, type AllocationContext, findLease, isActive, leaseMatchesClient, poolOf } from '../policy/allocate.js';
import { type ClassMembership, classify, membershipByName } from '../policy/classify.js';
import { type AddressResolver, findHosts, type HostMatch, hostWithoutFixedAddress } from '../policy/hosts.js';
import { AddressIndex, interfaceSharedNetwork, locateNetwork } from '../policy/network.js';
import type { PermitFacts } from '../policy/permits.js';
import { applyLeaseHostname, type HostnameLookupRequest, wantsLeaseHostname } from '../policy/lease-hostnames.js';
import { siteOptionSpaceUnknown, topLevelOptions } from '../policy/site-option-space.js';
import { LeaseReuse, SV_CACHE_THRESHOLD } from '../policy/lease-reuse.js';
import { answerLeasequery, keepVendorClass } from '../policy/leasequery.js';
import { notOurServerId, serverIdCheckEnabled } from '../policy/server-id-check.js';
import { chooseLeaseTime, DEFAULT_ABANDON_LEASE_TIME, INFINITE_LEASE_TIME, leaseExpiry } from '../policy/lease-time.js';

/**
 * The config's scopeChain, remembered per scope (a config is immutable once compiled; the chain was built
 * anew, an array per scope level, for every reply). Callers only read the array.
 */
function scopeChain(scope: Scope): Scope[] {
  let chain = scopeChains.get(scope);
  if (chain === undefined) scopeChains.set(scope, (chain = buildScopeChain(scope)));
  return chain;
}
const scopeChains = new WeakMap<Scope, Scope[]>();

/** Server-space option codes (ISC server/stables.c) the engine reads after running the scopes. */
export const SV = {
  defaultLeaseTime: 1,
  maxLeaseTime: 2,
  minLeaseTime: 3,
  dynamicBootpLeaseCutoff: 4,
  dynamicBootpLeaseLength: 5,
  bootUnknownClients: 6,
  dynamicBootp: 7,
  allowBootp: 8,
  allowBooting: 9,
  oneLeasePerClient: 10,
  getLeaseHostnames: 11,
  useHostDeclNames: 12,
  minSecs: 14,
  filename: 15,
  serverName: 16,
  nextServer: 17,
  authoritative: 18,
  vendorOptionSpace: 19,
  alwaysBroadcast: 22,
  declines: 29,
  stashAgentOptions: 37,
  pingCheck: 42,
  pingTimeout: 46,
  echoClientId: 85,
  abandonLeaseTime: 89,
  pingClttSecs: 99,
  pingTimeoutMs: 100,
} as const;

/** An interface the engine serves (uint32 addresses, primary first). */
export interface EngineInterface {
  readonly name: string;
  readonly ifindex: number;
  readonly addresses: readonly number[];
  /** Link-layer unicast to chaddr is possible (Ethernet with AF_PACKET; ISC can_unicast_without_arp). */
  readonly canUnicastWithoutArp: boolean;
}

/** One decoded request. */
export interface InboundRequest {
  readonly packet: DhcpPacket;
  /** The bytes as received (for `packet(offset, len)` expressions and BOOTP sizing). */
  readonly raw: Buffer;
  readonly iface: EngineInterface;
  readonly sourceAddress: number;
  readonly sourcePort: number;
}

/** One reply to send. */
export interface OutboundReply {
  readonly packet: DhcpPacket;
  readonly route: ReplyRoute;
  /** The arrival interface (broadcast and link-layer replies leave through it). */
  readonly iface: EngineInterface;
  /** IP source address of the reply (the server identifier). */
  readonly sourceAddress: number;
  /** How to lay the packet out (max size, PRL order, BOOTP option space). */
  readonly encode: EncodeOptions;
  /**
   * With {@link DhcpEngineOptions.deferAckLog}: the info lines of this DHCPACK (ISC's DHCPREQUEST and DHCPACK
   * lines), for the server to log when it sends the reply, i.e. after the lease is on disk (ISC ack_lease logs
   * them after commit_leases, just before dhcp_reply).
   */
  readonly logLines?: readonly string[];
}

/** A DHCPOFFER waiting for ISC's ping-check. */
export interface PingRequest {
  readonly address: number;
  readonly timeoutMs: number;
  /** Call with the ping's result: gives the OFFER, or nothing when the address answered. */
  resume(inUse: boolean): Outcome;
}

/** What handling one request produced. */
export interface Outcome {
  readonly replies: OutboundReply[];
  readonly ping?: PingRequest;
  /** A reply waiting for the PTR name of its address (`get-lease-hostnames`; src/policy/lease-hostnames.ts). */
  readonly hostnameLookup?: HostnameLookupRequest<Outcome>;
}

/** Options of {@link DhcpEngine}. */
export interface DhcpEngineOptions {
  readonly config: Config;
  readonly leases: LeaseView;
  readonly ports: EnginePorts;
  /** Resolver for host names in `fixed-address`, `next-server`, option values (primed cache). */
  readonly resolveAddresses?: AddressResolver;
  /** Server port (67, or -p); replies to relays go there. */
  readonly serverPort?: number;
  /** Client port (68, or -p + 1). */
  readonly clientPort?: number;
  /**
   * Hand a DHCPACK's log lines to the caller on the reply ({@link OutboundReply.logLines}) instead of logging
   * them at decision time: a server whose commit becomes durable later logs them when the ACK leaves.
   */
  readonly deferAckLog?: boolean;
}

/** Everything one request accumulates on its way through the chain. */
interface RequestState {
  readonly req: InboundRequest;
  readonly packet: DhcpPacket;
  readonly type: number;
  readonly now: number;
  readonly uid: Buffer | undefined;
  readonly chaddr: Buffer;
  interfaceNetwork?: SharedNetwork;
  share?: SharedNetwork;
  hostMatch?: HostMatch;
  known: boolean;
  readonly classes: Set<string>;
  memberships: ClassMembership[];
  readonly replies: OutboundReply[];
  ping?: PingRequest;
  hostnameLookup?: HostnameLookupRequest<Outcome>;
  /** Relay agent options recorded on the lease of a unicast renewal (ISC agent_options_stashed). */
  stashedAgent?: Buffer;
}

type Step = (s: RequestState) => 'continue' | 'stop';

const MIN_OFFER_HOLD = 120;

/** The engine. One per configuration; replace it on reload. */
export class DhcpEngine {
  readonly config: Config;
  private readonly index: AddressIndex;
  private readonly book: LeaseBook;
  private readonly ports: EnginePorts;
  private readonly resolveAddresses: AddressResolver | undefined;
  private readonly serverPort: number;
  private readonly clientPort: number;
  private readonly chain: Step[];
  private informAdviceCount = 0;
  /** Failover binding-change notifications of this turn, sent only after the commit (ISC: BNDUPD after commit). */
  private pendingNotify: Array<[string, Lease]> = [];
  /**
   * ISC logs "no free leases" once per DHCPDISCOVER; under a DISCOVER storm on a full pool that floods
   * syslog, so it is rate-limited per shared network (a burst, then one a second, then a count of what
   * was suppressed).
   */
  private readonly exhaustedLog = createRateLimiter({ burst: 5, intervalMs: 1000 });
  private readyNotify: Array<[string, Lease]> = [];
  /** dhcp-space codes that may be built from an encapsulated space (see {@link encapsulate}). */
  private encapsulationCandidates: number[] | undefined;
  /** ISC's per-lease cannot_reuse flags (dhcp-cache-threshold). */
  private readonly reuse = new LeaseReuse();
  private readonly deferAckLog: boolean;

  constructor(options: DhcpEngineOptions) {
    this.config = options.config;
    this.index = new AddressIndex(options.config);
    // (the filters of the book are sized for as many leases as the ranges hold)
    let addresses = 0;
    for (const share of options.config.sharedNetworks) for (const pool of share.pools) for (const r of pool.ranges) addresses += r.last - r.first + 1;
    this.book = new LeaseBook(options.leases, Math.min(addresses, 1 << 24));
    // Free queues of every range built right after start-up, not by the first DISCOVER (a store scan).
    setTimeout(() => {
      try {
        for (const share of this.config.sharedNetworks) for (const pool of share.pools) for (const r of pool.ranges) this.book.primeQueues(r.first, r.last);
      } catch {
        // the store closed meanwhile (a short-lived engine): the queues get built when first needed
      }
    }, 0).unref();
    this.ports = options.ports;
    this.deferAckLog = options.deferAckLog === true;
    this.resolveAddresses = options.resolveAddresses;
    this.serverPort = options.serverPort ?? 67;
    this.clientPort = options.clientPort ?? 68;
    this.chain = [
      (s) => this.locate(s),
      (s) => this.identify(s),
      (s) => this.classifyStep(s),
      (s) => this.dispatch(s),
    ];
  }

  /** The address index of the config (for the server's interface checks). */
  addressIndex(): AddressIndex {
    return this.index;
  }

  /** The shared network an interface serves (ISC: interface address inside a subnet declaration). */
  sharedNetworkOf(iface: { name: string; addresses: readonly number[] }): SharedNetwork | undefined {
    return interfaceSharedNetwork(this.index, iface);
  }

  /**
   * {@link sharedNetworkOf} for the arrival interface, remembered per interface object (the server's served
   * interfaces are immutable records, replaced when the interfaces change; the config is the engine's own).
   */
  private interfaceNetworkOf(iface: EngineInterface): SharedNetwork | undefined {
    const known = this.interfaceNetworks.get(iface);
    if (known !== undefined) return known === null ? undefined : known;
    const share = this.sharedNetworkOf(iface);
    this.interfaceNetworks.set(iface, share ?? null);
    return share;
  }
  private readonly interfaceNetworks = new WeakMap<EngineInterface, SharedNetwork | null>();

  /** Handles one request. Never throws on packet contents. */
  handle(req: InboundRequest): Outcome {
    const now = this.ports.clock.now();
    this.book.setNow(now);
    const packet = req.packet;
    const hlen = Math.min(packet.hlen, 16);
    const s: RequestState = {
      req,
      packet,
      type: packetMessageType(packet),
      now,
      uid: packet.options.get(DhcpOption.CLIENT_IDENTIFIER),
      chaddr: Buffer.from(packet.chaddr.subarray(0, hlen)),
      known: false,
      classes: new Set(),
      memberships: [],
      replies: [],
    };
    if (packet.op !== 1) return { replies: [] }; // BOOTREPLY sent to the server port: not for us.
    this.stashAgentOptions(s);
    for (const step of this.chain) if (step(s) === 'stop') break;
    const out: Outcome = s.ping !== undefined ? { replies: s.replies, ping: s.ping } : { replies: s.replies };
    return s.hostnameLookup !== undefined ? { ...out, hostnameLookup: s.hostnameLookup } : out;
  }

  /**
   * Number of binding changes decided and not yet taken by {@link takeCommits}. They stay visible to every
   * later decision (the lease book's overlay), so a server may leave them for a later turn's commit.
   */
  pendingCommitCount(): number {
    return this.book.pendingCount();
  }

  /** The binding changes of this turn (to commit in one transaction), clearing them. */
  takeCommits(): Lease[] {
    this.readyNotify = this.pendingNotify;
    this.pendingNotify = [];
    return this.book.takePending();
  }

  /**
   * Call once the leases from {@link takeCommits} are durable: tells the failover engine about the binding
   * changes (it sends BNDUPD), as ISC does after commit_leases.
   */
  committed(): void {
    const list = this.readyNotify;
    this.readyNotify = [];
    this.notifyDurable(list);
  }

  /**
   * For a server whose commits become durable after the next turn has begun (src/server/wal-sync.ts): the
   * failover notices of the leases just taken by {@link takeCommits}, to hand to {@link notifyDurable} once
   * they are on disk (a later turn's {@link takeCommits} would otherwise replace them).
   */
  takeDurableNotices(): Array<[string, Lease]> {
    const list = this.readyNotify;
    this.readyNotify = [];
    return list;
  }

  /** Tells the failover engine about binding changes now on disk (it sends BNDUPD), as ISC after commit_leases. */
  notifyDurable(list: ReadonlyArray<readonly [string, Lease]>): void {
    for (const [peer, lease] of list) {
      try {
        this.ports.failover.onBindingChange(peer, lease);
      } catch (e) {
        this.ports.logger.error(`failover peer ${peer}: binding update failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Chain steps

  /**
   * ISC dhcp(): a unicast renewal (REQUEST with ciaddr, no giaddr) carries no relay agent options, so the
   * ones recorded on the client's unexpired lease are used for classification and expressions as if the
   * relay had sent them (they are not echoed: the reply does not pass the relay).
   */
  private stashAgentOptions(s: RequestState): void {
    const p = s.packet;
    if (s.type !== DHCPREQUEST || p.ciaddr === 0 || p.giaddr !== 0 || p.options.has(DhcpOption.AGENT_INFORMATION)) return;
    const lease = this.book.byAddress(p.ciaddr);
    if (lease === undefined || lease.agentOptions.length === 0) return;
    if (lease.ends !== null && lease.ends < s.now) return;
    if (!leaseMatchesClient(lease, s.uid, p.htype, s.chaddr)) return;
    s.stashedAgent = encodeSubOptions(lease.agentOptions.map((o) => ({ code: o.code, data: o.data })));
  }

  /** ISC locate_network: the arrival interface's network, or the relay's / selected subnet's. */
  private locate(s: RequestState): 'continue' {
    s.interfaceNetwork = this.interfaceNetworkOf(s.req.iface);
    const agent = s.packet.options.get(DhcpOption.AGENT_INFORMATION);
    let linkSelection: number | undefined;
    if (agent !== undefined) {
      const ls = parseSubOptions(agent)?.find((o) => o.code === AgentSubOption.LINK_SELECTION);
      if (ls !== undefined && ls.data.length === 4) linkSelection = ls.data.readUInt32BE(0);
    }
    const sel = s.packet.options.get(DhcpOption.SUBNET_SELECTION);
    s.share = locateNetwork(this.index, {
      giaddr: s.packet.giaddr,
      linkSelection,
      subnetSelection: sel !== undefined && sel.length === 4 ? sel.readUInt32BE(0) : undefined,
      interfaceNetwork: s.interfaceNetwork,
    });
    return 'continue';
  }

  /** Host declarations (ISC: uid, then hardware, then host-identifier): sets `known`. */
  private identify(s: RequestState): 'continue' {
    s.hostMatch = findHosts(this.config, s.packet);
    s.known = s.hostMatch !== undefined;
    return 'continue';
  }

  /** ISC classify_client. */
  private classifyStep(s: RequestState): 'continue' {
    if (this.config.classes.size === 0) return 'continue';
    const ctx = this.evalContext(s, new OptionState(), undefined, undefined);
    s.memberships = classify(this.config, ctx, s.classes);
    return 'continue';
  }

  private dispatch(s: RequestState): 'stop' {
    // ISC dhcp(): without a network segment only REQUEST and INFORM go on (they may be answered anyway).
    if (s.share === undefined && s.type !== DHCPREQUEST && s.type !== DHCPINFORM && s.type !== 0 && s.type !== MessageType.DHCPLEASEQUERY) {
      if (s.type >= 1 && s.type <= 8) this.ports.logger.info(L.badPacketLine(messageTypeName(s.type), this.logClient(s, undefined), 'unknown network segment'));
      return 'stop';
    }
    switch (s.type) {
      case 0:
        this.bootp(s);
        break;
      case DHCPDISCOVER:
        this.discover(s);
        break;
      case DHCPREQUEST:
        this.request(s);
        break;
      case DHCPRELEASE:
        this.release(s);
        break;
      case DHCPDECLINE:
        this.decline(s);
        break;
      case DHCPINFORM:
        this.inform(s);
        break;
      case MessageType.DHCPLEASEQUERY: {
        // RFC 4388 as ISC's dhcpleasequery (src/policy/leasequery.ts): scopes of giaddr's subnet, classes.
        const r = answerLeasequery({
          packet: s.packet,
          now: s.now,
          logger: this.ports.logger,
          leases: this.book,
          interfaceAddress: s.req.iface.addresses[0] ?? 0,
          inRange: (a) => this.index.rangeOf(a) !== undefined,
          relayOptions: () => {
            const opts = new OptionState();
            const ctx = this.evalContext(s, opts, undefined, undefined);
            const subnet = this.index.subnetOf(s.packet.giaddr);
            this.runClassScopes(s, ctx, this.runScopes(ctx, [scopeChain(subnet !== undefined ? subnet.scope : this.config.global)]));
            return opts;
          },
        });
        if (r !== undefined) {
          const loopback = s.packet.giaddr >>> 24 === 127;
          const route: ReplyRoute = { kind: 'relay', address: s.packet.giaddr, port: loopback ? this.clientPort : (this.relayPort(s) ?? this.serverPort) };
          s.replies.push({ packet: r.packet, route, iface: s.req.iface, sourceAddress: r.source, encode: { maxSize: iscReplyMaxSize(optionUint16(s.packet, DhcpOption.MAX_MESSAGE_SIZE)) } });
        }
        break;
      }
      case DHCPOFFER:
      case DHCPACK:
      case DHCPNAK:
        break;
      default:
        this.ports.logger.info(L.badPacketLine(`type ${s.type}`, this.logClient(s, undefined), 'unknown packet type'));
    }
    return 'stop';
  }

  // ------------------------------------------------------------------------------------------------
  // Message handlers

  private discover(s: RequestState): void {
    const share = s.share!;
    const found = findLease(this.allocCtx(s.now), s.packet, DHCPDISCOVER, share, this.facts(s), s.hostMatch);
    let lease = found.lease;
    const msg = L.discoverLine(this.logClient(s, lease));
    if (lease !== undefined && found.fixed === undefined) {
      const pool = poolOf(this.allocCtx(s.now), lease.address);
      if (pool?.failoverPeer != null && !pool.noFailover) {
        if (!(isActive(lease, s.now) || this.ports.failover.mayAllocate(pool.failoverPeer, lease, s.now))) lease = undefined;
      }
    }
    if (lease === undefined) {
      const a = allocateLease(this.allocCtx(s.now), share, this.facts(s));
      if (a.lease === undefined) {
        const key = a.peerHasLeases ? `network ${share.name}: peer holds all free leases` : `network ${share.name}: no free leases`;
        logRateLimited(this.exhaustedLog, key, a.peerHasLeases ? L.peerHoldsAllFreeLeasesLine(msg) : L.noFreeLeasesLine(msg, share.name), (m) => this.ports.logger.error(m));
        return;
      }
      if (a.reclaimed) this.ports.logger.error(L.reclaimingAbandonedLine(a.lease.address));
      lease = a.lease;
    }
    if (!this.failoverAllows(s, lease, msg)) return;
    this.ackLease(s, lease, DHCPOFFER, msg, found.fixed !== undefined ? found.fixed.host : undefined, found.fixed?.subnet);
  }

  private request(s: RequestState): void {
    const packet = s.packet;
    const requested = optionUint32(packet, DhcpOption.REQUESTED_ADDRESS);
    const haveRequested = requested !== undefined;
    const cip = requested ?? packet.ciaddr;
    const sid = optionUint32(packet, DhcpOption.SERVER_IDENTIFIER);
    const ctx = this.allocCtx(s.now);
    let subnet = this.index.subnetOf(cip);
    let found = subnet !== undefined ? findLease(ctx, packet, DHCPREQUEST, subnet.sharedNetwork, this.facts(s), s.hostMatch) : undefined;
    const lease = found?.lease;
    const msg = L.requestLine(this.logClient(s, lease), cip, sid);

    // ISC dhcprequest: a failover lease reset by an administrator and not ours to reallocate is NAKed.
    if (lease !== undefined && found?.fixed === undefined && !this.failoverAllows(s, lease, msg, () => this.nak(s, cip, subnet))) return;
    // ISC server-id-check (src/policy/server-id-check.ts): on a failover pool, a REQUEST naming another server is not ours.
    if (lease !== undefined && found?.fixed === undefined && sid !== undefined && serverIdCheckEnabled(this.config)) {
      const pool = poolOf(ctx, lease.address);
      const ours = (): number => {
        const o = new OptionState();
        const ectx = this.evalContext(s, o, undefined, undefined);
        const first = s.share?.subnets[0];
        const firstPool = s.share?.pools[0];
        this.runScopes(ectx, [first !== undefined ? scopeChain(first.scope) : s.share !== undefined ? scopeChain(s.share.scope) : [this.config.global], ...(firstPool !== undefined ? [scopeChain(firstPool.scope)] : [])]);
        return this.serverIdentifier(o, s.req.iface);
      };
      if (notOurServerId(this.config, pool?.failoverPeer != null && !pool.noFailover, sid, ours)) {
        this.ports.logger.debug(`${msg}: not our server id`);
        return;
      }
    }

    // ISC: a REQUEST from a network we do not know, or that claims another network, is NAKed when
    // authoritative and ignored otherwise.
    if (s.share === undefined || (packet.ciaddr !== 0 && packet.giaddr !== 0) || (haveRequested && packet.ciaddr === 0)) {
      if (s.share === undefined) {
        if (subnet !== undefined && subnet.scope.authoritative) {
          this.ports.logger.info(`${msg}: ${L.Suffix.wrongNetwork}`);
          this.nak(s, cip, subnet);
          return;
        }
        this.ports.logger.info(`${msg}: ignored (${subnet !== undefined ? 'not authoritative' : 'unknown subnet'}).`);
        return;
      }
      subnet = this.index.groupedSubnetOf(s.share, cip);
      if (subnet === undefined) {
        if (s.share.scope.authoritative) {
          this.ports.logger.info(`${msg}: ${L.Suffix.wrongNetwork}`);
          this.nak(s, cip, undefined);
          return;
        }
        this.ports.logger.info(`${msg}: ${L.Suffix.notAuthoritative}`);
        return;
      }
    }
    if (lease === undefined && found?.ours === true) {
      // ISC nak_lease is sent regardless of `authoritative` here ("lease unavailable").
      this.ports.logger.info(L.leaseUnavailableLine(msg, cip));
      this.nak(s, cip, subnet);
      return;
    }
    if (lease !== undefined) {
      if (found?.reclaimedAbandoned === true) this.ports.logger.error(L.reclaimingRequestedAbandonedLine(lease.address));
      this.ackLease(s, lease, DHCPACK, msg, found?.fixed?.host, found?.fixed?.subnet ?? subnet);
      return;
    }
    found = undefined;
    this.ports.logger.info(L.unknownLeaseLine(msg, cip));
  }

  private release(s: RequestState): void {
    const packet = s.packet;
    if (packet.options.has(DhcpOption.REQUESTED_ADDRESS)) this.ports.logger.info(L.releaseWithRequestedAddressLine(this.logClient(s, undefined)));
    let lease: Lease | undefined;
    if (s.uid !== undefined) lease = this.book.byUid(s.uid).find((l) => l.address === packet.ciaddr);
    if (lease === undefined) lease = this.book.byAddress(packet.ciaddr);
    // ISC: no release unless the hardware address matches.
    if (lease !== undefined && (lease.hardware === null || lease.hardware.htype !== packet.htype || !lease.hardware.address.equals(s.chaddr))) lease = undefined;
    const msg = L.releaseLine(this.logClient(s, lease), packet.ciaddr, lease !== undefined);
    if (lease !== undefined) {
      const pool = poolOf(this.allocCtx(s.now), lease.address);
      if (pool?.failoverPeer != null && !pool.noFailover) {
        const ok = this.ports.failover.mayAnswer({ peerName: pool.failoverPeer, lease, messageType: DHCPRELEASE, hashKey: s.uid ?? s.chaddr, secs: packet.secs });
        if (!ok.answer) {
          this.ports.logger.info(`${pool.failoverPeer}: ignored${ok.reason}`);
          return;
        }
      }
      if (lease.ends === null || lease.ends > s.now) this.releaseLease(lease, s.now, pool, s);
    }
    this.ports.logger.info(msg);
  }

  /** ISC release_lease: the lease ends now and goes to released (failover) or free. */
  private releaseLease(lease: Lease, now: number, pool: Pool | undefined, s: RequestState): void {
    const l = cloneLease(lease);
    const failover = pool?.failoverPeer != null && !pool.noFailover;
    l.ends = now;
    l.bindingState = failover ? 'released' : 'free';
    l.nextBindingState = 'free';
    l.cltt = now;
    // ISC keeps hardware and uid on a released lease (so the same client gets it back first).
    this.runOnRelease(l, s);
    this.book.put(l);
    if (failover) this.pendingNotify.push([pool!.failoverPeer!, l]);
  }

  private decline(s: RequestState): void {
    const packet = s.packet;
    const cip = optionUint32(packet, DhcpOption.REQUESTED_ADDRESS);
    if (cip === undefined) return;
    const lease = this.book.byAddress(cip);
    const msg = L.declineLine(this.logClient(s, lease), cip);
    // `declines` (ISC SV_DECLINES): evaluated in the lease's subnet scope and the client's classes.
    const subnet = lease !== undefined ? this.index.subnetOf(lease.address) : undefined;
    const opts = new OptionState();
    const ctx = this.evalContext(s, opts, lease, undefined);
    if (subnet !== undefined) this.runScopes(ctx, [scopeChain(subnet.scope)]);
    this.runClassScopes(s, ctx, new Set());
    const declines = boolParam(opts, SV.declines);
    if (declines === 2) return; // ignore: not even logged
    let status: string;
    if (declines === 0) status = L.Suffix.ignored;
    else if (lease !== undefined && this.index.rangeOf(lease.address) !== undefined) {
      const pool = poolOf(this.allocCtx(s.now), lease.address);
      if (pool?.failoverPeer != null && !pool.noFailover) {
        const ok = this.ports.failover.mayAnswer({ peerName: pool.failoverPeer, lease, messageType: DHCPDECLINE, hashKey: s.uid ?? s.chaddr, secs: packet.secs });
        if (!ok.answer) {
          this.ports.logger.info(`${pool.failoverPeer}: ignored${ok.reason}`);
          return;
        }
      }
      this.abandon(lease, s.now, 'declined.', numParam(opts, SV.abandonLeaseTime) ?? DEFAULT_ABANDON_LEASE_TIME, pool);
      status = L.Suffix.abandoned;
    } else if (lease === undefined && this.index.rangeOf(cip) !== undefined) {
      // A never-used address of our ranges: ISC has a lease structure for it, so it is abandoned too.
      const pool = poolOf(this.allocCtx(s.now), cip);
      this.abandon(emptyLease(cip), s.now, 'declined.', numParam(opts, SV.abandonLeaseTime) ?? DEFAULT_ABANDON_LEASE_TIME, pool);
      status = L.Suffix.abandoned;
    } else status = L.Suffix.notFound;
    this.ports.logger.info(`${msg}: ${status}`);
  }

  /** ISC abandon_lease: abandoned for abandon-lease-time, client identity dropped. */
  private abandon(lease: Lease, now: number, reason: string, abandonTime: number, pool: Pool | undefined): void {
    const l = cloneLease(lease);
    l.bindingState = 'abandoned';
    // ISC: an abandoned lease becomes free again when abandon-lease-time has passed.
    l.nextBindingState = 'free';
    l.starts = now;
    l.ends = abandonTime === INFINITE_LEASE_TIME ? null : leaseExpiry(now, abandonTime);
    l.cltt = now;
    l.hardware = null;
    l.uid = null;
    l.clientHostname = null;
    this.ports.logger.error(L.abandoningLine(l.address, reason));
    this.book.put(l);
    if (pool?.failoverPeer != null && !pool.noFailover) this.pendingNotify.push([pool.failoverPeer, l]);
  }

  private inform(s: RequestState): void {
    const packet = s.packet;
    let cip = packet.ciaddr;
    let addrType = 'client';
    if (cip === 0) {
      cip = s.req.sourceAddress;
      addrType = 'source';
    }
    let sip = cip;
    if (packet.giaddr !== 0 && packet.ciaddr === 0) {
      addrType = 'relay';
      sip = packet.giaddr;
    }
    const msg = L.informLine(cip, { giaddr: packet.giaddr, ifname: s.req.iface.name });
    if (cip === 0) {
      this.ports.logger.info(`${msg}: ${L.Suffix.nullSource}`);
      return;
    }
    const agent = packet.options.get(DhcpOption.AGENT_INFORMATION);
    const ls = agent !== undefined ? parseSubOptions(agent)?.find((o) => o.code === AgentSubOption.LINK_SELECTION) : undefined;
    const sel = ls?.data ?? packet.options.get(DhcpOption.SUBNET_SELECTION);
    if (sel !== undefined) {
      if (sel.length !== 4) {
        this.ports.logger.info(`${msg}: ${L.Suffix.invalidSubnetSelection}`);
        return;
      }
      sip = sel.readUInt32BE(0);
      addrType = packet.ciaddr === 0 && packet.giaddr !== 0 ? 'relay link select' : 'selected';
    }
    const subnet = this.index.subnetOf(sip);
    if (subnet === undefined) {
      this.ports.logger.info(L.informUnknownSubnetLine(msg, addrType, sip));
      return;
    }
    if (!subnet.scope.authoritative) {
      const advice = this.informAdviceCount === 0;
      for (const line of L.informNotAuthoritativeLines(msg, subnet.network, advice)) this.ports.logger.info(line);
      if (this.informAdviceCount++ === 100) this.informAdviceCount = 0;
      return;
    }
    // Options: subnet scope, classes, then a host declaration without fixed-address (ISC dhcpinform).
    const opts = new OptionState();
    const variables = new Map();
    const host = s.hostMatch !== undefined ? (s.hostMatch.hosts.find((h) => h.fixedAddresses.length === 0) ?? s.hostMatch.hosts[0]) : undefined;
    const ctx = this.evalContext(s, opts, undefined, host, variables);
    const done = this.runScopes(ctx, [scopeChain(subnet.scope)]);
    this.runClassScopes(s, ctx, done);
    if (host !== undefined) this.runScopes(ctx, [scopeChain(host.scope)], done);
    if (siteOptionSpaceUnknown(this.config.options, opts, this.ports.logger)) return; // ISC: logged, no reply
    this.ports.logger.info(msg);

    const reply = this.replySkeleton(s, DHCPACK);
    reply.ciaddr = packet.ciaddr;
    const nextServer = opts.get('server', SV.nextServer);
    if (nextServer !== undefined && nextServer.length >= 4) reply.siaddr = nextServer.readUInt32BE(0);
    const serverId = this.serverIdentifier(opts, s.req.iface);
    this.fillOptions(s, reply, opts, DHCPACK, serverId, subnet, undefined);
    // RFC 2131 §3.4: no lease time options in an ACK to INFORM.
    reply.options.delete(DhcpOption.LEASE_TIME);
    reply.options.delete(DhcpOption.RENEWAL_TIME);
    reply.options.delete(DhcpOption.REBINDING_TIME);
    const d = replyDestination({
      kind: 'inform-ack',
      giaddr: packet.giaddr,
      ciaddr: packet.ciaddr,
      yiaddr: 0,
      flags: packet.flags,
      canUnicastWithoutArp: s.req.iface.canUnicastWithoutArp,
      sourceAddress: cip,
      serverPort: this.serverPort,
      clientPort: this.clientPort,
    });
    reply.flags = d.flags;
    this.ports.logger.info(L.informAckLine(cip, this.logClient(s, undefined), d.route.kind === 'relay'));
    s.replies.push({ packet: reply, route: d.route, iface: s.req.iface, sourceAddress: serverId, encode: this.encodeOptions(s, opts) });
  }

  private bootp(s: RequestState): void {
    const client = this.logClient(s, undefined);
    const msg = L.bootRequestLine(client);
    if (s.share === undefined) {
      this.ports.logger.info(`${msg}: ${L.Suffix.networkUnknown}`);
      return;
    }
    const found = findLease(this.allocCtx(s.now), s.packet, 0, s.share, this.facts(s), s.hostMatch);
    let lease = found.lease;
    if (lease === undefined) {
      // ISC bootp(): dynamic BOOTP from a dynamic-bootp range, when allowed.
      const a = allocateLease(this.allocCtx(s.now), s.share, this.facts(s));
      if (a.lease === undefined) {
        this.ports.logger.info(`${msg}: ${L.Suffix.noDynamicLeases}`);
        return;
      }
      lease = a.lease;
    }
    this.ackLease(s, lease, 0, msg, found.fixed?.host, found.fixed?.subnet);
  }

  // ------------------------------------------------------------------------------------------------
  // ack_lease / nak_lease

  /**
   * ISC ack_lease + dhcp_reply: options from the scopes, lease time, the new binding (recorded for the
   * group commit on ACK, held in memory on OFFER), and the reply with its RFC 2131 §4.1 destination.
   * `offer` is DHCPOFFER, DHCPACK or 0 (BOOTREPLY).
   */
  private ackLease(s: RequestState, lease: Lease, offer: number, msg: string, fixedHost: Host | undefined, fixedSubnet: Subnet | undefined): void {
    const packet = s.packet;
    const isFixed = fixedHost !== undefined;
    const rangeEntry = this.index.rangeOf(lease.address);
    const pool = isFixed ? undefined : rangeEntry?.pool;
    const subnet = fixedSubnet ?? rangeEntry?.range.subnet ?? this.index.subnetOf(lease.address);
    if (subnet === undefined) return;
    const host = fixedHost ?? (s.hostMatch !== undefined ? hostWithoutFixedAddress(s.hostMatch.hosts) : undefined);

    // Statements: subnet/pool chain, classes (last matched first, so the first has the last word), host.
    const opts = new OptionState();
    const variables = new Map(lease.scope);
    const deferred: DeferredStatements = { commit: [], release: [], expiry: [] };
    const ctx = this.evalContext(s, opts, lease, host, variables, deferred, isFixed);
    // ISC: the subnet's scope chain, then the pool's (implicit pools hang off the shared network).
    const done = this.runScopes(ctx, pool !== undefined ? [scopeChain(subnet.scope), scopeChain(pool.scope)] : [scopeChain(subnet.scope)]);
    this.runClassScopes(s, ctx, done);
    if (host !== undefined) this.runScopes(ctx, [scopeChain(host.scope)], done);

    // ISC's access checks after the scopes ran.
    if (!s.known && boolParam(opts, SV.bootUnknownClients) === 0) {
      this.ports.logger.info(`${msg}: ${L.Suffix.unknownClient}`);
      return;
    }
    if (offer === 0 && boolParam(opts, SV.allowBootp) === 0) {
      this.ports.logger.info(`${msg}: ${L.Suffix.bootpDisallowed}`);
      return;
    }
    if (boolParam(opts, SV.allowBooting) === 0) {
      this.ports.logger.info(`${msg}: ${L.Suffix.bootingDisallowed}`);
      return;
    }

    // ISC: an OFFER waits until the client has been trying for min-secs seconds.
    const minSecs = opts.get('server', SV.minSecs);
    if (offer === DHCPOFFER && minSecs !== undefined && minSecs.length > 0 && packet.secs < minSecs[0]!) {
      this.ports.logger.info(`${msg}: configured min-secs value (${minSecs[0]}) is greater than secs field (${packet.secs}).  message dropped.`);
      return;
    }

    // Lease limits (ISC bill_class): a new binding needs room in a limited class.
    let billing: ClassMembership | undefined;
    if (!isFixed && offer !== DHCPOFFER) {
      const limited = s.memberships.filter((m) => m.leaseLimit !== null);
      if (limited.length > 0 && !(lease.billingClass !== null && isActive(lease, s.now) && limited.some((m) => billedTo(lease, m)))) {
        billing = limited.find((m) => this.billedCount(m, s.now) < m.leaseLimit!);
        if (billing === undefined) {
          this.ports.logger.info(`${msg}: no available billing: lease limit reached in all matching classes (last: '${limited[limited.length - 1]!.name}')`);
          return;
        }
      }
    }

    // Lease time (ISC ack_lease; failover MCLT cap through the port).
    let leaseTime: number;
    let tstp: number | undefined;
    if (offer !== 0) {
      const requested = packet.options.get(DhcpOption.LEASE_TIME);
      leaseTime = chooseLeaseTime(
        {
          defaultLeaseTime: numParam(opts, SV.defaultLeaseTime),
          maxLeaseTime: numParam(opts, SV.maxLeaseTime),
          minLeaseTime: numParam(opts, SV.minLeaseTime),
        },
        requested !== undefined && requested.length === 4 ? requested.readUInt32BE(0) : undefined,
      );
      if (pool?.failoverPeer != null && !pool.noFailover) {
        const r = this.ports.failover.leaseTimeFor(pool.failoverPeer, lease, leaseTime, s.now, offer === DHCPACK);
        leaseTime = r.leaseTime;
        tstp = r.tstp;
      }
    } else {
      // Dynamic BOOTP: infinite unless dynamic-bootp-lease-length / -cutoff say otherwise.
      leaseTime = numParam(opts, SV.dynamicBootpLeaseLength) ?? INFINITE_LEASE_TIME;
      const cutoff = numParam(opts, SV.dynamicBootpLeaseCutoff);
      if (cutoff !== undefined && cutoff > s.now && (leaseTime === INFINITE_LEASE_TIME || s.now + leaseTime > cutoff)) leaseTime = cutoff - s.now;
    }

    // ISC dhcp-cache-threshold (src/policy/lease-reuse.ts): a young active lease of the same client is
    // answered unaltered (what is left of it), without a database write or a failover update.
    const hostnameSent = packet.options.get(DhcpOption.HOST_NAME);
    const reused = isFixed
      ? undefined
      : this.reuse.decide(
          { lease, isOffer: offer === DHCPOFFER, now: s.now, threshold: opts.get('server', SV_CACHE_THRESHOLD), uid: s.uid, htype: packet.htype, chaddr: s.chaddr, clientHostname: hostnameSent !== undefined ? stripNul(hostnameSent) : undefined, billingChanged: billing !== undefined },
          this.ports.logger,
        );
    if (reused !== undefined) leaseTime = reused;

    // The new binding.
    // A copy sharing the old lease's Buffers (never written into) with `variables` as its scope; chaddr is
    // this request's own copy (handle), the client id a view into the datagram, so copied.
    const next = snapshotLease(lease, variables);
    const hostnameOpt = packet.options.get(DhcpOption.HOST_NAME);
    next.hardware = { htype: packet.htype, address: s.chaddr };
    next.uid = s.uid !== undefined ? Buffer.from(s.uid) : null;
    if (hostnameOpt !== undefined) next.clientHostname = stripNul(hostnameOpt);
    if (host !== undefined && boolParam(opts, SV.useHostDeclNames) === 1) next.hostname = host.name;
    keepVendorClass(next.scope, packet);
    const agent = packet.options.get(DhcpOption.AGENT_INFORMATION);
    const sub = agent !== undefined ? parseSubOptions(agent) : undefined;
    if (sub !== undefined) next.agentOptions = sub.map((o) => ({ code: o.code, data: Buffer.from(o.data) }));
    if (offer === DHCPOFFER) {
      const when = Math.max(s.now + MIN_OFFER_HOLD, lease.ends ?? 0);
      if (!isActive(lease, s.now)) next.ends = when;
      if (tstp !== undefined) next.tstp = tstp;
      if (!isFixed) this.book.offer(next, when);
    } else {
      next.starts = s.now;
      next.ends = leaseExpiry(s.now, leaseTime);
      if (offer === 0 && leaseTime === INFINITE_LEASE_TIME) next.ends = null;
      next.cltt = s.now;
      next.bindingState = 'active';
      next.dynamicBootp = offer === 0;
      const failover = pool?.failoverPeer != null && !pool.noFailover;
      next.nextBindingState = failover ? 'expired' : 'free';
      if (tstp !== undefined) next.tstp = tstp;
      if (billing !== undefined) {
        next.billingClass = billing.data !== undefined ? { kind: 'subclass', name: billing.name, data: Buffer.from(billing.data) } : { kind: 'class', name: billing.name };
      }
      if (!isFixed) {
        // ISC one-lease-per-client: a client that gets a lease by REQUEST without ciaddr gives up the others.
        if (boolParam(opts, SV.oneLeasePerClient) === 1 && offer === DHCPACK && packet.ciaddr === 0) this.releaseOthers(s, next);
        if (deferred.commit.length > 0) this.runDeferred(ctx, next, deferred.commit);
        next.on = storedOnStatements(next.on, deferred);
        if (reused === undefined) {
          this.book.put(next);
          if (failover) this.pendingNotify.push([pool!.failoverPeer!, next]);
        }
      }
    }

    // ISC ack_lease: an unknown site-option-space is logged and no reply is sent (the binding stands).
    if (siteOptionSpaceUnknown(this.config.options, opts, this.ports.logger)) return;

    // The reply.
    const reply = this.replySkeleton(s, offer === 0 ? 0 : offer);
    reply.yiaddr = next.address;
    reply.ciaddr = packet.ciaddr;
    const nextServer = opts.get('server', SV.nextServer);
    if (nextServer !== undefined && nextServer.length >= 4) reply.siaddr = nextServer.readUInt32BE(0);
    const filename = opts.get('server', SV.filename);
    if (filename !== undefined) reply.file = stripNulBuf(filename).subarray(0, 128);
    const serverName = opts.get('server', SV.serverName);
    if (serverName !== undefined) reply.sname = stripNulBuf(serverName).subarray(0, 64);
    const serverId = this.serverIdentifier(opts, s.req.iface);
    if (offer !== 0) {
      reply.options.set(DhcpOption.LEASE_TIME, u32Value(leaseTime));
      this.fillOptions(s, reply, opts, offer, serverId, subnet, leaseTime);
      if (host !== undefined && boolParam(opts, SV.useHostDeclNames) === 1 && !reply.options.has(DhcpOption.HOST_NAME) && this.requested(s, opts, DhcpOption.HOST_NAME)) {
        reply.options.set(DhcpOption.HOST_NAME, Buffer.from(host.name, 'latin1'));
      }
    } else {
      this.fillOptions(s, reply, opts, 0, serverId, subnet, undefined);
    }

    let flags = packet.flags;
    if (boolParam(opts, SV.alwaysBroadcast) === 1) flags |= BROADCAST_FLAG;
    const kind: ReplyKind = offer === DHCPOFFER ? 'offer' : offer === DHCPACK ? 'ack' : 'bootreply';
    const d = replyDestination({
      kind,
      giaddr: packet.giaddr,
      ciaddr: packet.ciaddr,
      yiaddr: next.address,
      flags,
      gotServerIdentifier: packet.options.has(DhcpOption.SERVER_IDENTIFIER),
      sameSharedNetwork: s.share === subnet.sharedNetwork,
      canUnicastWithoutArp: s.req.iface.canUnicastWithoutArp,
      relayPort: this.relayPort(s),
      serverPort: this.serverPort,
      clientPort: this.clientPort,
    });
    reply.flags = d.flags;
    const out: OutboundReply = { packet: reply, route: d.route, iface: s.req.iface, sourceAddress: serverId, encode: this.encodeOptions(s, opts) };
    const word: L.ReplyWord = offer === DHCPOFFER ? 'DHCPOFFER' : offer === DHCPACK ? 'DHCPACK' : 'BOOTREPLY';
    const via = { giaddr: packet.giaddr, ifname: s.req.iface.name };
    const send = (): OutboundReply[] => {
      if (this.deferAckLog && offer === DHCPACK) {
        const line = L.offerAckLine(word, next.address, { hardware: next.hardware ?? undefined, uid: next.uid ?? undefined, hostname: next.clientHostname ?? undefined }, via);
        return [{ packet: out.packet, route: out.route, iface: out.iface, sourceAddress: out.sourceAddress, encode: out.encode, logLines: [msg, line] }];
      }
      this.ports.logger.info(msg);
      // ISC: a BOOTP reply for a host's fixed address is bootp.c's "BOOTREPLY for … to NAME (MAC)"; a dynamic
      // BOOTP lease goes through ack_lease and is logged "BOOTREPLY on … to MAC via …".
      if (offer === 0 && isFixed) this.ports.logger.info(L.bootReplyLine(next.address, host?.name, this.logClient(s, next)));
      else this.ports.logger.info(L.offerAckLine(word, next.address, { hardware: next.hardware ?? undefined, uid: next.uid ?? undefined, hostname: next.clientHostname ?? undefined }, via));
      return [out];
    };

    // The reply steps after the options: ping-check, then send (run at once, or after the host name lookup).
    const tail = (t: { replies: OutboundReply[]; ping?: PingRequest }): void => {
      // ISC do_ping_check: only OFFERs of leases that are neither active nor static.
      if (offer === DHCPOFFER && !isFixed && !isActive(lease, s.now) && boolParam(opts, SV.pingCheck) !== 0) {
        const sameClient = leaseMatchesClient(lease, s.uid, packet.htype, s.chaddr);
        const cltt = lease.cltt ?? 0;
        const clttSecs = numParam(opts, SV.pingClttSecs) ?? 60;
        if (!(sameClient && cltt !== 0 && lease.bindingState !== 'abandoned' && s.now - cltt < clttSecs)) {
          const ms = numParam(opts, SV.pingTimeoutMs);
          const timeoutMs = ms !== undefined && ms > 0 ? ms : (numParam(opts, SV.pingTimeout) ?? 1) * 1000;
          const abandonTime = numParam(opts, SV.abandonLeaseTime) ?? DEFAULT_ABANDON_LEASE_TIME;
          t.ping = {
            address: next.address,
            timeoutMs,
            resume: (inUse: boolean): Outcome => {
              if (inUse) {
                // ISC: "ICMP Echo reply while lease X valid." and the address is abandoned; no OFFER.
                this.ports.logger.debug(L.icmpEchoReplyLine(next.address));
                this.book.dropOffer(next.address);
                this.abandon(lease, this.ports.clock.now(), 'pinged before offer', abandonTime, pool);
                return { replies: [] };
              }
              return { replies: send() };
            },
          };
          return;
        }
      }
      t.replies.push(...send());
    };
    // ISC ack_lease: get-lease-hostnames looks the leased address up before the reply is logged and sent.
    const hostNameFacts = { getLeaseHostnames: boolParam(opts, SV.getLeaseHostnames), hostNameConfigured: opts.has('dhcp', DhcpOption.HOST_NAME), hostDeclNameApplies: host !== undefined && boolParam(opts, SV.useHostDeclNames) === 1, fixedBootp: offer === 0 && isFixed };
    if (wantsLeaseHostname(hostNameFacts)) {
      const prl = opts.get('dhcp', DhcpOption.PARAMETER_REQUEST_LIST) ?? packet.options.get(DhcpOption.PARAMETER_REQUEST_LIST);
      s.hostnameLookup = {
        address: next.address,
        resume: (name: string | undefined): Outcome => {
          applyLeaseHostname(reply, next.address, name, prl, this.ports.logger);
          const t: { replies: OutboundReply[]; ping?: PingRequest } = { replies: [] };
          tail(t);
          return t.ping !== undefined ? { replies: t.replies, ping: t.ping } : { replies: t.replies };
        },
      };
      return;
    }
    tail(s);
  }

  /** ISC nak_lease: DHCPNAK with server identifier and a message, broadcast bit set. */
  private nak(s: RequestState, cip: number, subnet: Subnet | undefined): void {
    const packet = s.packet;
    const opts = new OptionState();
    const ctx = this.evalContext(s, opts, undefined, undefined);
    if (subnet !== undefined) this.runScopes(ctx, [scopeChain(subnet.scope)]);
    else if (s.share !== undefined) this.runScopes(ctx, [scopeChain(s.share.scope)]);
    const reply = this.replySkeleton(s, DHCPNAK);
    const serverId = this.serverIdentifier(opts, s.req.iface);
    reply.options.set(DhcpOption.SERVER_IDENTIFIER, ipv4ToBytes(serverId));
    reply.options.set(DhcpOption.MESSAGE, Buffer.from('requested address not available', 'latin1'));
    const agent = packet.options.get(DhcpOption.AGENT_INFORMATION);
    if (agent !== undefined) reply.options.set(DhcpOption.AGENT_INFORMATION, agent);
    const d = replyDestination({
      kind: 'nak',
      giaddr: packet.giaddr,
      ciaddr: packet.ciaddr,
      yiaddr: 0,
      flags: packet.flags,
      canUnicastWithoutArp: s.req.iface.canUnicastWithoutArp,
      relayPort: this.relayPort(s),
      serverPort: this.serverPort,
      clientPort: this.clientPort,
    });
    reply.flags = d.flags;
    reply.ciaddr = 0;
    this.ports.logger.info(L.nakLine(cip, this.logClient(s, undefined)));
    s.replies.push({ packet: reply, route: d.route, iface: s.req.iface, sourceAddress: serverId, encode: { maxSize: 576 } });
  }

  // ------------------------------------------------------------------------------------------------
  // Helpers

  private allocCtx(now: number): AllocationContext {
    // One object per second, not several per request (everything in it but `now` is the engine's own).
    const c = this.allocContext;
    if (c !== undefined && c.now === now) return c;
    return (this.allocContext = { config: this.config, index: this.index, leases: this.book, failover: this.ports.failover, now, resolve: this.resolveAddresses });
  }
  private allocContext: AllocationContext | undefined;

  private facts(s: RequestState): PermitFacts {
    return { known: s.known, bootp: s.type === 0, classes: s.classes, now: s.now };
  }

  private evalContext(
    s: RequestState,
    options: OptionState,
    lease: Lease | undefined,
    host: Host | undefined,
    variables: Map<string, import('../../leases/lease.js').ScopeValue> = new Map(),
    deferred?: DeferredStatements,
    isStatic = false,
  ): EvalContext {
    let packet = s.packet;
    if (s.stashedAgent !== undefined) {
      const options = new Map(s.packet.options);
      options.set(DhcpOption.AGENT_INFORMATION, s.stashedAgent);
      packet = { ...s.packet, options };
    }
    return {
      config: this.config,
      packet,
      raw: s.req.raw,
      lease,
      host,
      known: s.known,
      isStatic,
      classes: s.classes,
      options,
      variables,
      logger: this.ports.logger,
      now: s.now,
      resolveHost: (name) => {
        const a = this.resolveAddresses?.(name);
        if (a === undefined || a.length === 0) return undefined;
        return Buffer.concat(a.map((x) => ipv4ToBytes(x)));
      },
      addClass: (name) => {
        if (s.classes.has(name)) return;
        const m = membershipByName(this.config, name);
        if (m !== undefined) {
          s.classes.add(name);
          s.memberships.push(m);
        }
      },
      deferred,
    };
  }

  /** Executes scope chains outer→inner, skipping scopes already run (ISC's limiting group). */
  private runScopes(ctx: EvalContext, chains: Scope[][], done: Set<number> = new Set()): Set<number> {
    for (const chain of chains) {
      for (const scope of chain) {
        if (done.has(scope.id)) continue;
        done.add(scope.id);
        executeStatements(scope.statements, ctx);
      }
    }
    return done;
  }

  /** ISC runs class scopes from the last class matched to the first, after the pool/subnet scopes. */
  private runClassScopes(s: RequestState, ctx: EvalContext, done: Set<number>): void {
    for (let i = s.memberships.length - 1; i >= 0; i--) {
      for (const scope of s.memberships[i]!.scopes) {
        executeStatements(scope.statements, ctx);
        done.add(scope.id);
      }
    }
  }

  private runDeferred(ctx: EvalContext, lease: Lease, body: readonly import('../config/model.js').Statement[]): void {
    const c: EvalContext = { ...ctx, lease, variables: lease.scope };
    executeStatements(body, c);
  }

  /**
   * ISC release_lease: the lease's stored `on release` statements run with the DHCPRELEASE (their `set`s
   * land in the lease's scope); then both `on release` and `on expiry` are dropped ("a released lease
   * can't expire").
   */
  private runOnRelease(l: Lease, s: RequestState): void {
    const text = l.on.release;
    if (text !== undefined) {
      l.scope = new Map(l.scope);
      runOnStatements({ config: this.config, lease: l, event: 'release', text, logger: this.ports.logger, now: s.now, packet: s.packet, raw: s.req.raw });
    }
    l.on = l.on.commit !== undefined ? { commit: l.on.commit } : {};
  }

  private releaseOthers(s: RequestState, keep: Lease): void {
    const others = [...(s.uid !== undefined ? this.book.byUid(s.uid) : []), ...this.book.byHardware(s.packet.htype, s.chaddr)];
    const seen = new Set<number>([keep.address]);
    for (const l of others) {
      if (seen.has(l.address)) continue;
      seen.add(l.address);
      if (isActive(l, s.now) && leaseMatchesClient(l, s.uid, s.packet.htype, s.chaddr)) this.releaseLease(l, s.now, poolOf(this.allocCtx(s.now), l.address), s);
    }
  }

  private billedCount(m: ClassMembership, now: number): number {
    let n = 0;
    for (const share of this.config.sharedNetworks) {
      for (const pool of share.pools) {
        for (const r of pool.ranges) {
          for (const l of this.book.inRange(r.first, r.last)) {
            if (billedTo(l, m) && isActive(l, now)) n++;
          }
        }
      }
    }
    return n;
  }

  private failoverAllows(s: RequestState, lease: Lease, msg: string, onNak?: () => void): boolean {
    const pool = poolOf(this.allocCtx(s.now), lease.address);
    if (pool?.failoverPeer == null || pool.noFailover) return true;
    const r = this.ports.failover.mayAnswer({ peerName: pool.failoverPeer, lease, messageType: s.type, hashKey: s.uid ?? s.chaddr, secs: s.packet.secs });
    if (!r.answer) {
      this.ports.logger.debug(`${msg}: ${r.reason}`);
      if (r.nak === true) onNak?.();
      return false;
    }
    return true;
  }

  /** Configured server-identifier, else the arrival interface's primary address (ISC). */
  private serverIdentifier(opts: OptionState, iface: EngineInterface): number {
    const v = opts.get('dhcp', DhcpOption.SERVER_IDENTIFIER);
    if (v !== undefined && v.length === 4) return v.readUInt32BE(0);
    return iface.addresses[0] ?? 0;
  }

  private relayPort(s: RequestState): number | undefined {
    const agent = s.packet.options.get(DhcpOption.AGENT_INFORMATION);
    if (agent === undefined || s.packet.giaddr === 0) return undefined;
    const rp = parseSubOptions(agent)?.find((o) => o.code === AgentSubOption.RELAY_PORT);
    return rp !== undefined ? s.req.sourcePort : undefined;
  }

  /** Whether an option is to be sent: no PRL = all; else in the (config's or client's) PRL. */
  private requested(s: RequestState, opts: OptionState, code: number): boolean {
    const prl = opts.get('dhcp', DhcpOption.PARAMETER_REQUEST_LIST) ?? s.packet.options.get(DhcpOption.PARAMETER_REQUEST_LIST);
    if (prl === undefined || prl.length === 0) return true;
    return prl.includes(code);
  }

  private replySkeleton(s: RequestState, type: number): DhcpPacket {
    const p = s.packet;
    const options = new Map<number, Buffer>();
    if (type !== 0) options.set(DhcpOption.MESSAGE_TYPE, messageTypeValue(type));
    return {
      op: BOOTREPLY,
      htype: p.htype,
      hlen: p.hlen,
      hops: p.hops,
      xid: p.xid,
      secs: p.secs,
      flags: p.flags,
      ciaddr: 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: p.giaddr,
      chaddr: Buffer.from(p.chaddr),
      sname: EMPTY,
      file: EMPTY,
      options,
    };
  }

  /**
   * The reply's options (ISC cons_options' choice): message type, server identifier, lease time first
   * (the encoder orders them); the subnet mask from the subnet declaration unless configured; then the
   * configured dhcp-space options the client asked for (all of them when it sent no PRL); renewal and
   * rebinding times only when shorter than the lease; relay agent information echoed.
   */
  private fillOptions(s: RequestState, reply: DhcpPacket, opts: OptionState, type: number, serverId: number, subnet: Subnet, leaseTime: number | undefined): void {
    const dhcp = opts.space('dhcp');
    if (type !== 0) reply.options.set(DhcpOption.SERVER_IDENTIFIER, u32Value(serverId));
    const prlOverride = dhcp.get(DhcpOption.PARAMETER_REQUEST_LIST);
    const prl = prlOverride ?? s.packet.options.get(DhcpOption.PARAMETER_REQUEST_LIST);
    const wanted = (code: number): boolean => prl === undefined || prl.length === 0 || prl.includes(code) || code === DhcpOption.SUBNET_MASK || code === DhcpOption.FQDN;
    if (!dhcp.has(DhcpOption.SUBNET_MASK)) reply.options.set(DhcpOption.SUBNET_MASK, u32Value(subnet.netmask));
    // ISC site-option-space: codes from the site space's minimum up come from that space (src/policy/site-option-space.ts).
    for (const [code, value] of topLevelOptions(this.config.options, opts, this.ports.logger)) {
      if (code === DhcpOption.MESSAGE_TYPE || code === DhcpOption.SERVER_IDENTIFIER || code === DhcpOption.LEASE_TIME) continue;
      if (code === DhcpOption.PARAMETER_REQUEST_LIST || code === DhcpOption.AGENT_INFORMATION) continue;
      if (code === DhcpOption.RENEWAL_TIME || code === DhcpOption.REBINDING_TIME) continue;
      if (!wanted(code)) continue;
      if (value.length === 0) continue;
      reply.options.set(code, value);
    }
    if (leaseTime !== undefined) {
      let limit = leaseTime;
      const t2 = dhcp.get(DhcpOption.REBINDING_TIME);
      if (t2 !== undefined && t2.length === 4 && t2.readUInt32BE(0) < limit) {
        reply.options.set(DhcpOption.REBINDING_TIME, t2);
        limit = t2.readUInt32BE(0);
      }
      const t1 = dhcp.get(DhcpOption.RENEWAL_TIME);
      if (t1 !== undefined && t1.length === 4 && t1.readUInt32BE(0) < limit) reply.options.set(DhcpOption.RENEWAL_TIME, t1);
    }
    this.encapsulate(reply, opts, prl);
    if (boolParam(opts, SV.echoClientId) === 1 && s.uid !== undefined) reply.options.set(DhcpOption.CLIENT_IDENTIFIER, s.uid);
    const agent = s.packet.options.get(DhcpOption.AGENT_INFORMATION);
    if (agent !== undefined && s.packet.giaddr !== 0) reply.options.set(DhcpOption.AGENT_INFORMATION, agent);
  }

  /**
   * ISC store_options: a dhcp option whose format encapsulates another space (`E<space>.`, e.g.
   * vendor-encapsulated-options 43 with `vendor-option-space`) and has no value of its own is built from
   * the configured options of that space as code/length/value sub-options. Only when requested (or no PRL).
   */
  private encapsulate(reply: DhcpPacket, opts: OptionState, prl: Buffer | undefined): void {
    // The candidate codes depend on the configuration only: computed once (this ran for every reply).
    let candidates = this.encapsulationCandidates;
    if (candidates === undefined) {
      const set = new Set<number>([DhcpOption.VENDOR_ENCAPSULATED_OPTIONS]);
      for (const sp of this.config.options.spaces.values()) {
        if (sp.encapsulatedBy !== null && sp.encapsulatedBy.space === 'dhcp') set.add(sp.encapsulatedBy.code);
      }
      set.delete(DhcpOption.AGENT_INFORMATION);
      set.delete(DhcpOption.FQDN);
      candidates = this.encapsulationCandidates = [...set];
    }
    for (const code of candidates) {
      if (reply.options.has(code)) continue;
      if (prl !== undefined && prl.length > 0 && !prl.includes(code)) continue;
      const def = this.config.options.lookupCode('dhcp', code);
      const first = def?.format.fields[0];
      if (first === undefined || first.kind !== 'encapsulate') continue;
      let spaceName = first.space;
      if (spaceName === null) {
        const v = opts.get('server', SV.vendorOptionSpace);
        spaceName = v !== undefined ? stripNul(v).toLowerCase() : null;
      }
      if (spaceName === null) continue;
      const space = this.config.options.space(spaceName);
      const values = opts.space(spaceName);
      if (space === undefined || values.size === 0) continue;
      const parts: Buffer[] = [];
      for (const [sub, value] of values) {
        const head = Buffer.alloc(space.codeWidth + space.lengthWidth);
        head.writeUIntBE(sub, 0, space.codeWidth);
        if (space.lengthWidth > 0) head.writeUIntBE(value.length, space.codeWidth, space.lengthWidth);
        parts.push(head, value);
      }
      const data = Buffer.concat(parts);
      if (data.length > 0) reply.options.set(code, data);
    }
  }

  private encodeOptions(s: RequestState, opts: OptionState): EncodeOptions {
    const prl = opts.get('dhcp', DhcpOption.PARAMETER_REQUEST_LIST) ?? s.packet.options.get(DhcpOption.PARAMETER_REQUEST_LIST);
    const mms = optionUint16(s.packet, DhcpOption.MAX_MESSAGE_SIZE);
    const configured = opts.get('dhcp', DhcpOption.MAX_MESSAGE_SIZE);
    const maxSize = iscReplyMaxSize(mms, configured !== undefined && configured.length === 2 ? configured.readUInt16BE(0) : undefined);
    const echoClientId = boolParam(opts, SV.echoClientId) === 1;
    if (s.type === 0 && mms === undefined) return { maxSize, echoClientId, optionSpace: iscBootpOptionSpace(s.req.raw.length) };
    return prl !== undefined ? { maxSize, echoClientId, parameterRequestList: prl } : { maxSize, echoClientId };
  }

  private logClient(s: RequestState, lease: Lease | undefined): L.LogClient {
    return {
      htype: s.packet.htype,
      hlen: s.packet.hlen,
      chaddr: s.packet.chaddr,
      giaddr: s.packet.giaddr,
      ifname: s.req.iface.name,
      hostname: lease?.clientHostname ?? undefined,
      uid: lease?.uid ?? undefined,
    };
  }
}

/** The lease is billed to this class (a subclass or spawned class by its match data too). */
function billedTo(lease: Lease, m: ClassMembership): boolean {
  const b = lease.billingClass;
  if (b === null || b.name !== m.name) return false;
  if (m.data === undefined) return b.kind === 'class';
  return b.kind === 'subclass' && b.data.equals(m.data);
}

/** A boolean (ISC 'f') server parameter: 0 false/deny, 1 true/allow, 2 ignore; undefined when unset. */
function boolParam(opts: OptionState, code: number): number | undefined {
  const v = opts.get('server', code);
  return v !== undefined && v.length >= 1 ? v[0]! : undefined;
}

/** A 32-bit (ISC 'T'/'L') server parameter. */
function numParam(opts: OptionState, code: number): number | undefined {
  const v = opts.get('server', code);
  if (v === undefined) return undefined;
  if (v.length === 4) return v.readUInt32BE(0);
  if (v.length === 2) return v.readUInt16BE(0);
  if (v.length === 1) return v[0]!;
  return undefined;
}

/** Option 53 values, one shared Buffer per type (option values are never written into). */
const MESSAGE_TYPE_VALUES: Buffer[] = [];
function messageTypeValue(type: number): Buffer {
  return (MESSAGE_TYPE_VALUES[type] ??= Buffer.from([type]));
}

/**
 * 4-octet values that repeat in every reply (server identifier, subnet mask, lease time), one shared Buffer
 * each; a bounded cache (cleared when full), as option values are never written into.
 */
const U32_VALUES = new Map<number, Buffer>();
function u32Value(v: number): Buffer {
  let b = U32_VALUES.get(v);
  if (b === undefined) {
    if (U32_VALUES.size >= 1024) U32_VALUES.clear();
    U32_VALUES.set(v, (b = ipv4ToBytes(v)));
  }
  return b;
}

function stripNul(b: Buffer): string {
  const i = b.indexOf(0);
  return (i >= 0 ? b.subarray(0, i) : b).toString('latin1');
}

function stripNulBuf(b: Buffer): Buffer {
  const i = b.indexOf(0);
  return i >= 0 ? b.subarray(0, i) : b;
}

/**
 * The `on expiry`/`on release` statements stored with a lease at commit (ISC ack_lease → supersede_lease
 * replaces the lease's on_star with the statements in effect now): their source text, as ISC writes it in
 * dhcpd.leases. `on commit` ran already and is kept only as before.
 */
function storedOnStatements(prev: Lease['on'], deferred: DeferredStatements): Lease['on'] {
  const on: Lease['on'] = prev.commit !== undefined ? { commit: prev.commit } : {};
  const expLoc = deferred.expiry.length > 0 ? deferred.locs?.expiry : undefined;
  const relLoc = deferred.release.length > 0 ? deferred.locs?.release : undefined;
  const expiry = expLoc !== undefined ? onBodyText(expLoc) : undefined;
  const release = relLoc !== undefined ? onBodyText(relLoc) : undefined;
  if (expiry !== undefined) on.expiry = expiry;
  if (release !== undefined) on.release = release;
  if (expLoc !== undefined && relLoc !== undefined && expLoc === relLoc && expiry !== undefined) on.expiryOrRelease = true;
  return on;
}
