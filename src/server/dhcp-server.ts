/**
 * The DHCPv4 server: transport + codec + engine + lease store, wired together (used by src/cli/main.ts).
 *
 * Event-loop turns and group commit: datagrams are queued as they arrive and handled together in one
 * `setImmediate` turn. Every decision of the turn is taken first, then all binding changes are committed
 * to the lease store in ONE transaction (one fsync), and only then are the replies of the turn sent
 * (RFC 2131 §4.3.1; ISC commits dhcpd.leases before dhcp_reply). A ping-check (ISC `ping-check`, default
 * on) delays an OFFER by ping-timeout; its result is fed back as a job of a later turn.
 *
 * Interfaces (ISC discover_interfaces): the ones named on the command line, else every non-loopback
 * interface with an IPv4 address; each must be attached to a subnet declaration ("No subnet declaration
 * for IFACE (ADDR)." otherwise, and it is not served); with none left, start-up fails with "Not configured
 * to listen on any interfaces!".
 *
 * Bad input never stops the server: a datagram that does not decode is counted, logged (rate-limited) and
 * dropped; an exception while handling one request is logged and that request dropped.
 *
 * @module
 */
import { decodePacket } from '../wire/decode.js';
import { encodePacket } from '../wire/encode.js';
import { DHCPNAK, DHCPOFFER, DhcpOption, ipv4FromString, ipv4ToString } from '../wire/packet.js';
import type { Config } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { createRateLimiter } from '../log/logger.js';
import type { LeaseStore } from '../../leases/lease-store.js';
import type { Lease } from '../../leases/lease.js';
import type { InboundDatagram, NetInterface, OutboundDatagram, Transport } from '../net/transport.js';
import { DhcpEngine, type EngineInterface, type InboundRequest, type Outcome, type OutboundReply } from '../engine/dhcp-engine.js';
import * as L from '../engine/log-lines.js';
import { type Clock, type FailoverPolicy, noFailover, noPingCheck, type PingCheck, systemClock } from '../engine/ports.js';
import type { AddressResolver } from '../policy/hosts.js';
import { AddressIndex, interfaceSharedNetwork } from '../policy/network.js';
import type { FailoverPeer, FailoverRuntime } from '../failover/engine.js';
import type { TransitionContext, TransitionResult } from '../../leases/expiry.js';
import { DEFAULT_SHEDDING, peekMessageType, RequestQueue, type SheddingOptions } from '../engine/load-shedding.js';
import { preciseNow, tracerFromEnv, type TurnRecord } from './turn-trace.js';
import { asDeferredSyncStore, sharedWalSync, WAL_AUTOCHECKPOINT_BACKSTOP, type WalSync } from './wal-sync.js';
import { WARMUP_ENV, warmUp } from './warm-up.js';

/** How to start a server. Everything but `config` and `logger` has a real default. */
export interface DhcpServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** An open lease store; when absent one is opened at `dbFile` (and closed on stop). */
  readonly leaseStore?: LeaseStore;
  /** SQLite database path (used when `leaseStore` is absent). */
  readonly dbFile?: string;
  /** ISC lease file path (informational here; import/export is leases/commands.ts). */
  readonly leaseFile?: string;
  /** A transport; when absent a LinuxTransport on the chosen interfaces is created. */
  readonly transport?: Transport;
  /** Interfaces named on the command line; empty/absent = every interface with a subnet declaration. */
  readonly interfaces?: readonly string[];
  /** Server port (67, or -p); clients are answered on port + 1. */
  readonly port?: number;
  /** `-s ADDR`: send what would be broadcast to this address instead (ISC testing aid). */
  readonly broadcastOverride?: string;
  /** `-q`: no "Listening on"/"Sending on" lines. */
  readonly quiet?: boolean;
  readonly clock?: Clock;
  /** Ping-check implementation; default: the ICMP PingChecker of src/net (ISC's ping-check). */
  readonly pingCheck?: PingCheck;
  /**
   * Failover hooks (src/failover). Default: when the config declares `failover peer`s, they are started
   * over the lease store (src/server/failover-wiring.ts) and their policy is used; else standalone.
   */
  readonly failover?: FailoverPolicy;
  /** Set false to serve failover pools without starting the failover relationships (tests). */
  readonly startFailover?: boolean;
  /** Reverse lookup for `get-lease-hostnames`; default: the system resolver (src/server/lease-hostnames.ts). */
  readonly reverseLookup?: (address: number) => Promise<string | undefined>;
  /** Host-name resolver for fixed-address/next-server names (a primed cache). */
  readonly resolveAddresses?: AddressResolver;
  /** Called once every socket is bound (privilege drop). */
  readonly afterBind?: () => void;
  /** Interface enumeration (tests); default src/net listInterfaces(). */
  readonly listInterfaces?: () => NetInterface[];
  /** Seconds between expiry passes (default 60; the next lease end is used when sooner). */
  readonly expiryIntervalSeconds?: number;
  /** Called after each committed turn with the leases written (failover wiring, tests). */
  readonly onCommitted?: (leases: readonly Lease[]) => void;
  /**
   * Path of the local operator control socket (src/server/control-socket.ts; the CLI passes
   * `<pid file>.ctl`): `dhcpd-ts partner-down` on a running server. Absent = none.
   */
  readonly controlSocket?: string;
  /** Owner to give the control socket (the `-user`/`-group` the server drops to). */
  readonly controlSocketOwner?: { uid?: number | undefined; gid?: number | undefined };
  /**
   * Overload policy (src/engine/load-shedding.ts): requests older than `maxAgeMs` are dropped, and a
   * backlogged turn takes `turnBudget` requests, REQUESTs first, newest first. `false` = ISC's plain
   * arrival order with no shedding. Default {@link DEFAULT_SHEDDING}.
   */
  readonly shedding?: Partial<SheddingOptions> | false;
  /**
   * Make each turn's group commit durable off the event loop (default true when the store supports it:
   * synchronous=NORMAL commit, then an fsync of the WAL on the thread pool before the turn's ACKs are sent;
   * src/server/wal-sync.ts). false = the commit fsyncs on the event loop.
   */
  readonly deferredSync?: boolean;
  /** Run the JIT warm-up before opening the socket (src/server/warm-up.ts); default: with a real transport. */
  readonly warmUp?: boolean;
}


/** Counters for tests and monitoring. */
export interface ServerStats {
  received: number;
  decodeErrors: number;
  handlerErrors: number;
  repliesSent: number;
  sendErrors: number;
  turns: number;
  commits: number;
  commitErrors: number;
  pings: number;
  /** Requests dropped unanswered because they waited longer than the shedding bound (overload). */
  shed: number;
  /** Turns that had more requests waiting than their budget (overload: REQUESTs and newest went first). */
  backloggedTurns: number;
  /** fsyncs of the lease database's WAL completed off the event loop (src/server/wal-sync.ts; 0 when not used). */
  walSyncs: number;
}

/** A running server. */
export interface DhcpServer {
  /** Stops receiving, waits for pending sends, closes what it opened. Idempotent. */
  stop(): Promise<void>;
  /** Switches to a new, already checked configuration (SIGHUP); names in it are resolved first. */
  reload(config: Config): Promise<void>;
  readonly stats: ServerStats;
  /** The served interfaces. */
  servedInterfaces(): readonly NetInterface[];
  /** The lease store in use. */
  readonly leaseStore: LeaseStore;
  /** Resolves once every queued request has been handled and its replies sent (tests). */
  idle(): Promise<void>;
}

/** Thrown when the server cannot start (ISC log_fatal wording). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

type DatagramJob = { kind: 'datagram'; datagram: InboundDatagram; receivedAt: number; messageType: number };
type Job = DatagramJob | { kind: 'resume'; run: () => Outcome };

/**
 * fsyncs of the WAL that may run at once (WalSync.setPipelineDepth), from `DHCPD_TS_FSYNC_PIPELINE` (1-8),
 * default 1: one at a time, turns decided meanwhile share the next commit. Depth 2 (a group commit made while
 * an fsync runs gets its own at once) was measured in session 4 (bench/results/IO-SPEED-4.md): no better at
 * 500-1000 DORA/s, and at 2000/s p99 650-670 ms against 65-91 ms (smaller batches, more transactions on the
 * loop). Kept as a knob for other disks.
 */
function fsyncPipelineDepth(): number {
  const v = Number(process.env['DHCPD_TS_FSYNC_PIPELINE'] ?? '1');
  return Number.isInteger(v) && v >= 1 && v <= 8 ? v : 1;
}

/** SQLite's default wal_autocheckpoint (pages), restored when the checkpoint worker stops or fails. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** How often (at most) the shedding counter is logged while requests are being shed. */
const SHED_LOG_INTERVAL_MS = 5000;

/** An OFFER or a NAK: a reply that no lease write stands behind (sendable before the turn's commit). */
function bindsNothing(r: OutboundReply): boolean {
  const t = r.packet.options.get(DhcpOption.MESSAGE_TYPE)?.[0];
  return t === DHCPOFFER || t === DHCPNAK;
}

function toEngineInterface(i: NetInterface): EngineInterface {
  return {
    name: i.name,
    ifindex: i.ifindex,
    addresses: i.addresses.map((a) => ipv4FromString(a.address) ?? 0),
    canUnicastWithoutArp: i.hardwareType === 1 && !i.loopback && i.mac !== undefined,
  };
}

/**
 * Chooses the interfaces to serve as ISC does and logs its messages for those without a subnet. Throws
 * {@link StartupError} when none is left.
 */
export function selectInterfaces(config: Config, all: readonly NetInterface[], named: readonly string[], logger: Logger): NetInterface[] {
  const index = new AddressIndex(config);
  let candidates: NetInterface[];
  if (named.length > 0) {
    candidates = [];
    for (const n of named) {
      const i = all.find((x) => x.name === n);
      if (i === undefined) {
        // ISC treats a named interface it cannot find like one with no IPv4 address: the "No subnet
        // declaration" block, and the fatal error only when nothing else is left to serve.
        for (const line of L.noSubnetDeclarationLines(n, undefined)) logger.error(line);
        continue;
      }
      if (!candidates.includes(i)) candidates.push(i);
    }
  } else {
    candidates = all.filter((i) => !i.loopback && !i.pointToPoint && i.addresses.length > 0);
  }
  const served: NetInterface[] = [];
  for (const i of candidates) {
    const addrs = i.addresses.map((a) => ipv4FromString(a.address) ?? 0);
    if (interfaceSharedNetwork(index, { name: i.name, addresses: addrs }) === undefined) {
      for (const line of L.noSubnetDeclarationLines(i.name, i.addresses[0]?.address)) logger.error(line);
      continue;
    }
    served.push(i);
  }
  if (served.length === 0) {
    logger.info('');
    throw new StartupError(L.NOT_CONFIGURED_TO_LISTEN);
  }
  return served;
}

/** Starts the DHCP server. */
export async function startDhcpServer(options: DhcpServerOptions): Promise<DhcpServer> {
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const port = options.port ?? 67;
  const stats: ServerStats = {
    received: 0,
    decodeErrors: 0,
    handlerErrors: 0,
    repliesSent: 0,
    sendErrors: 0,
    turns: 0,
    commits: 0,
    commitErrors: 0,
    pings: 0,
    shed: 0,
    backloggedTurns: 0,
    walSyncs: 0,
  };
  const shedding: SheddingOptions | undefined = options.shedding === false ? undefined : { ...DEFAULT_SHEDDING, ...options.shedding };
  const closers: Array<() => void | Promise<void>> = [];

  // Lease store.
  let store = options.leaseStore;
  if (store === undefined) {
    if (options.dbFile === undefined) throw new StartupError('no lease database given');
    const { openSqliteLeaseStore } = await import('../../leases/sqlite-lease-store.js');
    const opened = openSqliteLeaseStore(options.dbFile);
    store = opened;
    closers.push(() => opened.close());
  }
  const leaseStore = store;
  // Group commits made durable off the event loop (src/server/wal-sync.ts) when the store can commit without
  // its own fsync; else each turn's commit fsyncs on the loop.
  let walSync: WalSync | undefined;
  const deferrable = options.deferredSync !== false ? asDeferredSyncStore(leaseStore) : undefined;
  const deferredStore = deferrable?.fsyncsCommits === true ? deferrable : undefined;
  if (deferredStore !== undefined) {
    try {
      // Shared with the failover relationships on this store (one fsync stream). Closed before the store (the
      // closers run in reverse), after the failover relationships have stopped.
      const ws = sharedWalSync(deferredStore);
      walSync = ws;
      closers.push(() => ws.close());
      ws.setPipelineDepth(fsyncPipelineDepth());
      // Checkpoints from a worker thread, not inside a commit on the event loop (wal-sync.ts startCheckpointer).
      // `DHCPD_TS_WAL_CHECKPOINT_WORKER=0` leaves them to SQLite (A/B measurements; a way out if a platform
      // cannot run the worker).
      const setAuto = deferredStore.setWalAutoCheckpoint?.bind(deferredStore);
      if (setAuto !== undefined && process.env['DHCPD_TS_WAL_CHECKPOINT_WORKER'] !== '0') {
        const restore = (): void => {
          try {
            setAuto(SQLITE_DEFAULT_AUTOCHECKPOINT);
          } catch {
            /* the store is closed already */
          }
        };
        const dbPath = deferredStore.walPath.replace(/-wal$/, '');
        const started = ws.startCheckpointer(dbPath, (e) => {
          logger.debug(`WAL checkpoints run in the commits: ${e.message}`);
          restore();
        });
        if (started) {
          setAuto(WAL_AUTOCHECKPOINT_BACKSTOP);
          closers.push(restore);
        }
      }
    } catch (e) {
      logger.debug(`Lease commits fsync on the event loop: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // Interfaces and transport.
  let transport = options.transport;
  let served: NetInterface[];
  if (transport === undefined) {
    const list = options.listInterfaces ?? (await import('../net/interfaces.js')).listInterfaces;
    served = selectInterfaces(options.config, list(), options.interfaces ?? [], logger);
    const { LinuxTransport } = await import('../net/linux-transport.js');
    transport = new LinuxTransport({
      interfaces: served.map((i) => i.name),
      port,
      clientPort: port === 67 ? 68 : port + 1,
      onIgnored: (d) => logger.debug(`Ignoring a packet from ${d.sourceAddress} on ${d.ifname || `interface ${d.ifindex}`}, which is not served.`),
    });
  } else {
    served = [];
  }

  // Ping-check.
  let pingCheck = options.pingCheck;
  if (pingCheck === undefined) {
    if (options.transport !== undefined) pingCheck = noPingCheck;
    else {
      const { PingChecker } = await import('../net/ping-check.js');
      const checker = new PingChecker();
      // Open the raw ICMP socket now, before afterBind drops privileges (-user/-group): ISC opens its ICMP
      // socket at start-up too (icmp_startup, before the setuid). Opened on first use it failed with EPERM
      // as nobody and every check said "free": a squatter's address was leased (reliability-privileges).
      // Without CAP_NET_RAW (not root) it is opened on first use, as before.
      try {
        checker.open();
      } catch {
        /* not permitted now; check() tries again and fails as "free", as ISC does without its socket */
      }
      pingCheck = {
        inUse: async (address, timeoutMs) => {
          try {
            return (await checker.check(ipv4ToString(address), timeoutMs)) === 'in-use';
          } catch {
            return false; // ISC: a ping that cannot be sent does not hold the offer back.
          }
        },
      };
      closers.push(() => checker.close());
    }
  }
  const ping = pingCheck;

  // Failover: the given policy, else every `failover peer` of the config started over the lease store.
  let failover = options.failover;
  let failoverPeers: ReadonlyMap<string, FailoverPeer> = new Map();
  let failoverRuntime: FailoverRuntime | undefined;
  const managesFailover = failover === undefined && options.startFailover !== false;
  if (managesFailover && options.config.failoverPeers.size > 0) {
    const { startConfiguredFailover } = await import('./failover-wiring.js');
    const runtime = await startConfiguredFailover(options.config, leaseStore, logger);
    if (runtime !== undefined) {
      failover = runtime.policy;
      failoverPeers = runtime.peers;
      failoverRuntime = runtime;
    }
  }
  closers.push(async () => void (await failoverRuntime?.stop()));
  // The operator's control socket (before the privilege drop, which may forbid creating it).
  if (options.controlSocket !== undefined) {
    const { startControlSocket } = await import('./control-socket.js');
    try {
      const ctl = await startControlSocket({ path: options.controlSocket, peers: () => failoverPeers, logger, ...(options.controlSocketOwner ? { owner: options.controlSocketOwner } : {}) });
      closers.push(() => ctl.close());
    } catch (e) {
      logger.error(`Can't open the control socket ${options.controlSocket}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const ports = { clock, logger, pingCheck: ping, failover: failover ?? noFailover };
  // Host names of the config, resolved once (ISC resolves at evaluation time; Node's DNS is asynchronous).
  const { resolveConfigNames } = await import('./resolver.js');
  let resolveAddresses = options.resolveAddresses ?? (await resolveConfigNames(options.config, logger));
  const makeEngine = (config: Config): DhcpEngine =>
    new DhcpEngine({ config, leases: leaseStore, ports, resolveAddresses, serverPort: port, clientPort: port === 67 ? 68 : port + 1, deferAckLog: true });
  let engine = makeEngine(options.config);
  (await import('../engine/on-statements.js')).primeOnStatementSources(options.config);

  /** Per-packet timing trace (DHCPD_TS_TRACE=file; src/server/turn-trace.ts), written at stop. */
  const tracer = tracerFromEnv();
  if (tracer !== undefined) closers.push(() => tracer.flush());
  const decodeLimiter = createRateLimiter({ burst: 5, intervalMs: 1000 });
  const commitErrorLimiter = createRateLimiter({ burst: 5, intervalMs: 1000 });
  let servedByIndex = new Map<number, EngineInterface>();
  /** Ping/lookup resumptions, and datagrams too when shedding is off (plain arrival order). */
  const queue: Job[] = [];
  /** Datagrams waiting, under the overload policy (when shedding is on). */
  const requests = shedding !== undefined ? new RequestQueue<DatagramJob>(shedding) : undefined;
  let scheduled = false;
  let stopped = false;
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  const checkIdle = (): void => {
    if (queue.length === 0 && (requests?.length ?? 0) === 0 && !scheduled && inFlight === 0 && stash.length === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };

  // Addresses go to the transport as uint32 (the Transport contract takes either; no format/parse per reply).
  const toOutbound = (r: OutboundReply, data: Buffer): OutboundDatagram => {
    const src = r.sourceAddress >>> 0;
    switch (r.route.kind) {
      case 'relay':
        return { kind: 'relay', data, giaddr: r.route.address >>> 0, port: r.route.port };
      case 'unicast':
        return { kind: 'unicast', data, ciaddr: r.route.address >>> 0, port: r.route.port };
      case 'broadcast':
        if (options.broadcastOverride !== undefined) return { kind: 'unicast', data, ciaddr: options.broadcastOverride, port: r.route.port };
        return { kind: 'broadcast', data, ifindex: r.iface.ifindex, sourceAddress: src, port: r.route.port };
      case 'link-layer':
        return {
          kind: 'link-layer',
          data,
          ifindex: r.iface.ifindex,
          sourceAddress: src,
          yiaddr: r.route.address >>> 0,
          chaddr: Buffer.from(r.packet.chaddr.subarray(0, Math.min(r.packet.hlen, 16))),
          port: r.route.port,
          sourcePort: port,
        };
    }
  };

  const sendFailed = (e: unknown, length: number, ifname: string): void => {
    stats.sendErrors++;
    logger.error(`Failed to send ${length} byte long packet over ${ifname} interface: ${e instanceof Error ? e.message : String(e)}`);
  };

  const send = (replies: readonly OutboundReply[]): void => {
    const tx = transport!;
    for (const r of replies) {
      // A DHCPACK's lines are logged as it leaves (after its lease is on disk), as ISC does.
      if (r.logLines !== undefined) for (const line of r.logLines) logger.info(line);
      let data: Buffer;
      try {
        // encodePacket returns a Buffer of its own (a slice of Node's pool): no copy needed
        data = encodePacket(r.packet, r.encode);
      } catch (e) {
        stats.sendErrors++;
        logger.error(`Failed to build a reply: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      // The transport's synchronous path when it has one: no Promise, no microtasks per reply.
      let waiting: Promise<void> | undefined;
      try {
        waiting = tx.trySend !== undefined ? tx.trySend(toOutbound(r, data)) : tx.send(toOutbound(r, data));
      } catch (e) {
        sendFailed(e, data.length, r.iface.name);
        continue;
      }
      if (waiting === undefined) {
        stats.repliesSent++;
        continue;
      }
      inFlight++;
      waiting
        .then(
          () => {
            stats.repliesSent++;
          },
          (e: unknown) => sendFailed(e, data.length, r.iface.name),
        )
        .finally(() => {
          inFlight--;
          checkIdle();
        });
    }
  };

  const handleDatagram = (d: InboundDatagram, outcomes: Outcome[]): void => {
    const iface = servedByIndex.get(d.ifindex);
    if (iface === undefined) return;
    const decoded = decodePacket(d.data);
    if (!decoded.ok) {
      stats.decodeErrors++;
      const rd = decodeLimiter.check('decode');
      if (rd.allow) {
        const more = rd.suppressed > 0 ? ` (${rd.suppressed} similar messages suppressed)` : '';
        logger.info(`Dropped a malformed packet from ${d.sourceAddress} via ${iface.name}: ${decoded.error.toString()}${more}`);
      }
      return;
    }
    outcomes.push(
      engine.handle({
        packet: decoded.packet,
        raw: d.data,
        iface,
        sourceAddress: d.sourceAddressValue ?? ipv4FromString(d.sourceAddress) ?? 0,
        sourcePort: d.sourcePort,
      } satisfies InboundRequest),
    );
  };

  const runTurn = (): void => {
    scheduled = false;
    if (stopped) {
      queue.length = 0;
      requests?.clear();
      checkIdle();
      return;
    }
    stats.turns++;
    const trace = tracer?.begin();
    const jobs = takeJobs();
    const outcomes: Outcome[] = [];
    for (const job of jobs) {
      try {
        if (job.kind === 'datagram') {
          stats.received++;
          trace?.packets.push(job.receivedAt, job.messageType);
          handleDatagram(job.datagram, outcomes);
        } else outcomes.push(job.run());
      } catch (e) {
        stats.handlerErrors++;
        logger.error(`Error handling a packet: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
    // One group commit for every decision of this turn, BEFORE any reply that depends on it is sent. OFFERs
    // and NAKs bind nothing (ISC sends an OFFER without writing dhcpd.leases), so they go out first and do
    // not wait for the fsync.
    if (walSync !== undefined && canStash()) {
      // Durability off the event loop (src/server/wal-sync.ts). While an fsync runs, this turn's writes stay in
      // the engine's lease book (every later decision sees them) and the turn waits; when the fsync completes,
      // the writes of all the turns that waited are committed in one transaction and covered by one fsync.
      const pendingWrites = engine.pendingCommitCount();
      if (trace !== undefined) {
        trace.decided = preciseNow();
        trace.writes = pendingWrites;
      }
      if (pendingWrites === 0 && stash.length === 0) {
        finishTurn(outcomes, undefined, trace);
        return;
      }
      const early = outcomes.map((o) => {
        const now = o.replies.filter(bindsNothing);
        if (now.length > 0) send(now);
        return now;
      });
      stash.push({ outcomes, early, trace });
      if (walSync.canStartNow) flushStash();
      return;
    }
    const writes = engine.takeCommits();
    if (trace !== undefined) {
      trace.decided = preciseNow();
      trace.writes = writes.length;
    }
    let early: OutboundReply[][] | undefined;
    if (writes.length > 0) {
      early = outcomes.map((o) => {
        const now = o.replies.filter(bindsNothing);
        if (now.length > 0) send(now);
        return now;
      });
    }
    if (writes.length > 0) {
      try {
        if (trace !== undefined) trace.commitStart = preciseNow();
        if (walSync !== undefined) deferredStore!.writeWithoutSync((w) => {
          for (const l of writes) w.putLease(l);
        });
        else leaseStore.commit(writes);
        if (trace !== undefined) trace.commitEnd = preciseNow();
      } catch (e) {
        commitFailed(e);
        return;
      }
      if (walSync !== undefined) {
        // Committed but not yet on disk (failover configured: committed every turn, so that the partner's
        // updates and ours never interleave with uncommitted writes); the ACKs leave after the fsync.
        const eng = engine;
        const notices = eng.takeDurableNotices();
        inFlight++;
        walSync.afterDurable((err) => {
          inFlight--;
          stats.walSyncs = walSync!.syncs;
          if (err !== null) {
            commitFailed(err);
            return;
          }
          stats.commits++;
          eng.notifyDurable(notices);
          options.onCommitted?.(writes);
          finishTurn(outcomes, early, trace);
        });
        return;
      }
      stats.commits++;
      engine.committed();
      options.onCommitted?.(writes);
    }
    finishTurn(outcomes, early, trace);
  };

  /** Turns decided while an fsync ran, waiting for the next commit (deferred durability, standalone). */
  type StashedTurn = { outcomes: Outcome[]; early: OutboundReply[][]; trace: TurnRecord | undefined };
  let stash: StashedTurn[] = [];
  /** Standalone only: with failover, the partner's binding updates are written as they come. */
  const canStash = (): boolean => failoverRuntime === undefined && options.failover === undefined;

  /** Commits the lease book's pending writes (every stashed turn's) in one transaction and fsyncs them. */
  const flushStash = (): void => {
    const batch = stash;
    stash = [];
    if (batch.length === 0) return;
    const writes = engine.takeCommits();
    const t0 = preciseNow();
    try {
      if (writes.length > 0) deferredStore!.writeWithoutSync((w) => {
        for (const l of writes) w.putLease(l);
      });
    } catch (e) {
      commitFailed(e);
      return;
    }
    const t1 = preciseNow();
    for (const b of batch) {
      if (b.trace !== undefined) {
        b.trace.commitStart = t0;
        b.trace.commitEnd = t1;
      }
    }
    const eng = engine;
    const notices = eng.takeDurableNotices();
    inFlight++;
    walSync!.afterDurable((err) => {
      inFlight--;
      stats.walSyncs = walSync!.syncs;
      if (err !== null) commitFailed(err);
      else {
        if (writes.length > 0) {
          stats.commits++;
          eng.notifyDurable(notices);
          options.onCommitted?.(writes);
        }
        for (const b of batch) finishTurn(b.outcomes, b.early, b.trace);
      }
      // the turns that waited for this fsync: their commit, and the next fsync
      if (!stopped) flushStash();
      checkIdle();
    });
  };

  const commitFailed = (e: unknown): void => {
    stats.commitErrors++;
    // Loud but bounded: a full disk fails every turn, and one line a turn would flood the log.
    const rd = commitErrorLimiter.check('commit');
    if (rd.allow) {
      const more = rd.suppressed > 0 ? ` (${rd.suppressed} similar messages suppressed)` : '';
      logger.error(`Lease database update failed, no replies sent for this turn: ${e instanceof Error ? e.message : String(e)}${more}`);
    }
    checkIdle();
  };

  /** Sends a turn's replies (those not sent before its commit) and starts its pings and lookups. */
  const finishTurn = (outcomes: readonly Outcome[], early: OutboundReply[][] | undefined, trace: TurnRecord | undefined): void => {
    if (stopped) {
      checkIdle();
      return;
    }
    for (const [i, o] of outcomes.entries()) {
      const sent = early?.[i];
      send(sent === undefined || sent.length === 0 ? o.replies : o.replies.filter((r) => !sent.includes(r)));
      if (o.ping !== undefined) startPing(o.ping);
      if (o.hostnameLookup !== undefined) startHostnameLookup(o.hostnameLookup);
    }
    if (trace !== undefined) trace.sent = preciseNow();
    checkIdle();
  };

  // Overload (src/engine/load-shedding.ts): stale requests are dropped, a backlog is served REQUESTs and
  // newest first; what does not fit in this turn stays queued. Ping resumptions always run.
  let shedSinceLog = 0;
  let lastShedLog = 0;
  const takeJobs = (): Job[] => {
    const resumes = queue.splice(0, queue.length);
    if (requests === undefined || shedding === undefined) return resumes;
    const now = Date.now();
    const plan = requests.takeTurn(now);
    if (requests.length > 0) {
      stats.backloggedTurns++;
      schedule();
    }
    if (plan.stale.length > 0) {
      stats.shed += plan.stale.length;
      stats.received += plan.stale.length;
      shedSinceLog += plan.stale.length;
      if (now - lastShedLog >= SHED_LOG_INTERVAL_MS) {
        logger.info(L.shedLine(shedSinceLog, shedding.maxAgeMs, stats.shed));
        shedSinceLog = 0;
        lastShedLog = now;
      }
    }
    return resumes.length === 0 ? plan.run : [...resumes, ...plan.run];
  };

  const schedule = (): void => {
    if (!scheduled && !stopped) {
      scheduled = true;
      setImmediate(runTurn);
    }
  };

  const startPing = (p: NonNullable<Outcome['ping']>): void => {
    stats.pings++;
    inFlight++;
    ping
      .inUse(p.address, p.timeoutMs)
      .catch(() => false)
      .then((inUse) => {
        if (!stopped) {
          queue.push({ kind: 'resume', run: () => p.resume(inUse) });
          schedule();
        }
      })
      .finally(() => {
        inFlight--;
        checkIdle();
      });
  };

  // execute() statements: their programs run in this process's executor (src/server/execute.ts).
  const { createProcessExecutor } = await import('./execute.js');
  const { setStatementExecutor } = await import('../policy/execute-hook.js');
  setStatementExecutor(createProcessExecutor({ logger }).execute);
  if ((await import('../policy/server-id-check.js')).serverIdCheckEnabled(options.config)) logger.info('Setting server-id-check true');

  // get-lease-hostnames (src/server/lease-hostnames.ts): the reply resumes in a later turn with the name.
  const reverseLookup = options.reverseLookup ?? (await import('./lease-hostnames.js')).systemReverseLookup();
  const startHostnameLookup = (h: NonNullable<Outcome['hostnameLookup']>): void => {
    inFlight++;
    reverseLookup(h.address)
      .catch(() => undefined)
      .then((name) => {
        if (!stopped) {
          queue.push({ kind: 'resume', run: () => h.resume(name) });
          schedule();
        }
      })
      .finally(() => {
        inFlight--;
        checkIdle();
      });
  };

  // Expiry (ISC pool_timer): move leases whose time ran out to their next state, in its own turn.
  const expiryEvery = (options.expiryIntervalSeconds ?? 60) * 1000;
  const runExpiry = async (): Promise<void> => {
    // Writes of turns waiting for an fsync are committed first: the expiry pass reads the store.
    flushStash();
    try {
      const { expireDueLeases } = await import('../../leases/expiry.js');
      const { runOnStatements } = await import('../engine/on-statements.js');
      const index = engine.addressIndex();
      const config = engine.config;
      const now = clock.now();
      const peerOf = (lease: Lease): string | undefined => {
        const pool = index.rangeOf(lease.address)?.pool;
        return pool?.failoverPeer != null && !pool.noFailover ? pool.failoverPeer : undefined;
      };
      const results = expireDueLeases(
        leaseStore,
        now,
        (lease) => expiryContext(lease, peerOf(lease), failoverPeers, now),
        // ISC make_binding_state_transition: the lease's stored `on expiry` (or `on release`) statements
        // run before the new state is written; their `set`s stay in the lease's scope.
        (r: TransitionResult) => {
          if (r.statements !== null && r.event !== null) runOnStatements({ config, lease: r.lease, event: r.event, text: r.statements, logger, now });
        },
      );
      // Failover (ISC): every binding change goes to the partner (BNDUPD expired → BNDACK → free).
      for (const r of results) {
        const peer = peerOf(r.lease);
        if (peer !== undefined) failover?.onBindingChange(peer, r.lease);
      }
    } catch (e) {
      logger.error(`Lease expiry failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const expiryTimer = setInterval(() => void runExpiry(), expiryEvery);
  expiryTimer.unref();

  // JIT warm-up (src/server/warm-up.ts): synthetic DORAs on a private in-memory store before the socket opens,
  // so that the first real clients are not served by unoptimised code. Only for a real transport (tests on a
  // fake one start at once); DHCPD_TS_WARMUP=0 or `warmUp: false` turns it off.
  if (options.warmUp ?? (options.transport === undefined && process.env[WARMUP_ENV] !== '0')) {
    const first = served[0];
    if (first !== undefined) {
      await warmUp({ config: options.config, iface: toEngineInterface(first), clock, resolveAddresses, serverPort: port, clientPort: port === 67 ? 68 : port + 1 });
    }
  }
  await transport.start(
    (d) => {
      const job: DatagramJob = { kind: 'datagram', datagram: d, receivedAt: d.receivedAt ?? Date.now(), messageType: peekMessageType(d.data) };
      if (requests !== undefined) requests.push(job);
      else queue.push(job);
      schedule();
    },
    (e) => logger.error(`receive_packet failed: ${e.message}`),
  );
  if (served.length === 0) served = [...transport.servedInterfaces()];
  servedByIndex = new Map(served.map((i) => [i.ifindex, toEngineInterface(i)]));
  options.afterBind?.();

  if (options.quiet !== true) {
    const index = engine.addressIndex();
    for (const i of served) {
      const share = interfaceSharedNetwork(index, { name: i.name, addresses: i.addresses.map((a) => ipv4FromString(a.address) ?? 0) });
      const id = `LPF/${i.name}/${i.mac ?? ''}/${share?.name ?? ''}`;
      logger.info(`Listening on ${id}`);
      logger.info(`Sending on   ${id}`);
    }
    logger.info('Sending on   Socket/fallback/fallback-net');
  }
  void runExpiry();

  let stopping: Promise<void> | undefined;
  return {
    stats,
    leaseStore,
    servedInterfaces: () => served,
    async reload(config: Config): Promise<void> {
      if (options.resolveAddresses === undefined) resolveAddresses = await resolveConfigNames(config, logger);
      // Failover: relationships whose declaration or pools changed restart, the others keep running.
      if (managesFailover && (failoverRuntime !== undefined || config.failoverPeers.size > 0)) {
        const { reloadConfiguredFailover } = await import('./failover-wiring.js');
        failoverRuntime = await reloadConfiguredFailover(failoverRuntime, config, leaseStore, logger);
        if (failoverRuntime !== undefined) {
          ports.failover = failoverRuntime.policy;
          failoverPeers = failoverRuntime.peers;
        }
      }
      flushStash(); // the old engine's lease book holds the waiting turns' writes
      engine = makeEngine(config);
      // `on expiry`/`on release` text is taken from the config's source at commit: read the files again.
      (await import('../engine/on-statements.js')).primeOnStatementSources(config);
    },
    idle(): Promise<void> {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    stop(): Promise<void> {
      if (stopping !== undefined) return stopping;
      stopping = (async () => {
        stopped = true;
        clearInterval(expiryTimer);
        await transport!.close();
        const deadline = Date.now() + 2000;
        while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        for (const c of closers.reverse()) await c();
      })();
      return stopping;
    },
  };
}

/**
 * ISC pool_timer's rules for which due lease may change now (FAILOVER.md §6.6): without failover, all; in a
 * failover pool, active leases expire except on a secondary in normal state; transitional ones
 * (expired/released/reset) go free only through the partner's ack, except in partner-down, where they go at
 * max(ends, tsfp) — tsfp being stos + MCLT from the move to partner-down.
 */
export function expiryContext(lease: Lease, peerName: string | undefined, peers: ReadonlyMap<string, FailoverPeer>, now: number): TransitionContext | null {
  if (peerName === undefined) return { failover: false };
  const peer = peers.get(peerName);
  if (peer === undefined) return { failover: true };
  const state = peer.state;
  const partnerDown = state === 'partner-down';
  const reuse = partnerDown ? { partnerDownReuseTime: peer.fsm.stos + peer.mclt } : {};
  if (lease.bindingState === 'active') {
    if (state === 'normal' && peer.role === 'secondary') return null;
    return { failover: true, ...reuse };
  }
  if (lease.bindingState === 'expired' || lease.bindingState === 'released' || lease.bindingState === 'reset') {
    if (!partnerDown) return null;
    if (now < Math.max(lease.ends ?? 0, lease.tsfp ?? 0)) return null;
    return { failover: true, ...reuse };
  }
  return { failover: true, ...reuse };
}
