/**
 * One failover relationship at run time: the TCP link, the state machine and the lease side (BNDUPD/BNDACK
 * queues, UPDREQ/UPDREQALL bursts, pool balancing), plus the policy the DHCP engine consults
 * (`mayAnswer`, `mayAllocate`, `leaseTimeFor`, `onBindingChange`; src/engine/ports.ts `FailoverPolicy`).
 *
 * @module
 */
import type { FailoverPolicy, FailoverRequestContext } from '../engine/ports.js';
import type { FailoverPeer as ConfigFailoverPeer } from '../config/model.js';
import type { FailoverStateRecord as StoreStateRecord } from '../../leases/lease.js';
import {
  applyBndupd,
  balancePool,
  bndupdFields,
  checkTransition,
  incomingWins,
  ipString,
  leaseHashKey,
  mayReallocate,
  mcltLeaseTime,
  ownFreeState,
  peerFreeState,
  timeValue,
  validateBndupd,
  type BindingReject,
} from './binding-updates.js';
import { FailoverConnection, type FailoverLog, type LinkConfig, type LinkParams } from './connection.js';
import { bucketIsMine, hbaFromSplit, isMine, type FailoverRole } from './load-balance.js';
import {
  FTM,
  FTR,
  IP_FLAG_BOOTP,
  IP_FLAG_RESERVE,
  bindingStatusFromWire,
  isStateName,
  rejectReasonText,
  stateToWire,
  type FailoverMessage,
  type FailoverStateName,
} from './messages.js';
import type { FailoverLease, FailoverPool, FailoverStore } from './ports.js';
import { FailoverStateMachine, type FailoverStateRecord, type FsmAction, type FsmTimer } from './state-machine.js';

/** Everything one relationship needs. */
export interface FailoverPeerOptions {
  readonly link: LinkConfig;
  /** Primary: MCLT (s). The secondary learns it from CONNECT. */
  readonly mclt: number;
  /** Primary: the HBA (32 bytes). The secondary learns it from CONNECT. */
  readonly hba?: Uint8Array;
  /** `load balance max seconds` (0 = load balancing off, ISC's default). */
  readonly loadBalanceMaxSeconds: number;
  readonly maxLeaseMisbalance?: number;
  readonly maxLeaseOwnership?: number;
  readonly minBalance?: number;
  readonly maxBalance?: number;
  readonly autoPartnerDown?: number;
  readonly store: FailoverStore;
  readonly log: FailoverLog;
  /** Seconds now; default the system clock. */
  readonly clock?: () => number;
  /** See {@link FailoverHooks}. */
  readonly hooks?: FailoverHooks;
}

/** What the rest of the server does when failover moves a lease (the wiring implements it). */
export interface FailoverHooks {
  /**
   * A lease left active/expired for free or backup through the partner (ISC process_state_transition with
   * a peer: the expiry event happens here, not at active → expired): run its `on expiry` statements and drop
   * its client-specific bindings. `lease` already has its new state; `from` is the one it left. Mutate it.
   */
  onExpiryDone?(lease: FailoverLease, from: 'active' | 'expired', now: number): void;
}

/** dotted quad from uint32. */
function dotted(a: number): string {
  return ipString(a >>> 0);
}

/**
 * Builds {@link FailoverPeerOptions} from the config model's `failover peer` (src/config/model.ts).
 * Host names in `address`/`peer address` must be resolved by the caller (pass `resolved`).
 */
export function peerOptionsFromConfig(
  peer: ConfigFailoverPeer,
  store: FailoverStore,
  log: FailoverLog,
  resolved?: { address?: string; peerAddress?: string },
): FailoverPeerOptions {
  const addr = (e: ConfigFailoverPeer['me'], r: string | undefined): string => {
    if (r) return r;
    if (e.address?.kind === 'address') return dotted(e.address.address);
    if (e.address === null) return '0.0.0.0';
    throw new Error(`failover peer ${peer.name}: host name ${e.address.hostname} must be resolved first`);
  };
  const hba = peer.hba ?? (peer.split !== null ? hbaFromSplit(peer.split) : undefined);
  return {
    link: {
      name: peer.name,
      role: peer.role,
      address: addr(peer.me, resolved?.address),
      port: peer.me.port,
      peerAddress: addr(peer.peer, resolved?.peerAddress),
      peerPort: peer.peer.port,
      maxResponseDelay: peer.me.maxResponseDelay,
      maxUnackedUpdates: peer.me.maxUnackedUpdates,
      ...(peer.role === 'primary' ? { mclt: peer.mclt, ...(hba ? { hba } : {}) } : {}),
    },
    mclt: peer.mclt,
    ...(hba ? { hba } : {}),
    loadBalanceMaxSeconds: peer.loadBalanceMaxSeconds,
    maxLeaseMisbalance: peer.maxLeaseMisbalance,
    maxLeaseOwnership: peer.maxLeaseOwnership,
    minBalance: peer.minBalance,
    maxBalance: peer.maxBalance,
    autoPartnerDown: peer.autoPartnerDown,
    store,
    log,
  };
}

function toStoreRecord(name: string, r: FailoverStateRecord): StoreStateRecord {
  return {
    peer: name,
    myState: r.myState,
    myStateTime: r.myStateTime,
    partnerState: r.partnerState,
    partnerStateTime: r.partnerStateTime,
    mclt: r.mclt ?? null,
  };
}

function fromStoreRecord(r: StoreStateRecord | undefined, now: number): FailoverStateRecord | undefined {
  if (!r || !isStateName(r.myState)) return undefined;
  const partner = isStateName(r.partnerState) ? r.partnerState : 'unknown-state';
  return {
    myState: r.myState as FailoverStateName,
    myStateTime: r.myStateTime ?? now,
    partnerState: partner as FailoverStateName,
    partnerStateTime: r.partnerStateTime ?? 0,
    ...(r.mclt !== null ? { mclt: r.mclt } : {}),
  };
}

const DHCPDISCOVER = 1;
const DHCPREQUEST = 3;

/** Free and backup leases of a pool (the pool's counters when it has them, else a count of its leases). */
function poolCounts(pool: FailoverPool): { free: number; backup: number } {
  if (pool.stateCounts) return pool.stateCounts();
  let free = 0;
  let backup = 0;
  for (const l of pool.leases()) {
    if (l.bindingState === 'free') free++;
    else if (l.bindingState === 'backup') backup++;
  }
  return { free, backup };
}

/** One failover relationship (ISC `dhcp_failover_state`). */
export class FailoverPeer {
  readonly name: string;
  readonly role: FailoverRole;
  readonly fsm: FailoverStateMachine;
  readonly connection: FailoverConnection;
  private hba: Uint8Array;
  private readonly opts: FailoverPeerOptions;
  private readonly log: FailoverLog;
  private readonly store: FailoverStore;
  private partnerMaxUnacked = 0;
  /** Addresses waiting to be sent (ISC update_queue), in order. */
  private readonly pending = new Set<number>();
  /** Sent, not yet acked (ISC ack_queue); its size is ISC's cur_unacked_updates. */
  private readonly inflight = new Set<number>();
  /**
   * ISC `lease->last_xid`: the xid of the last BNDUPD sent for an address, cleared when the lease leaves the
   * ack queue by an ack, a newer change of ours or a duelling update the partner won (a late BNDACK then
   * finds none and is dropped silently), but kept when un-acked updates go back to the send queue (a late
   * BNDACK for them still counts). A BNDACK is matched by address AND this xid (FAILOVER.md §1.5).
   */
  private readonly lastXid = new Map<number, number>();
  /**
   * Lease writes of this turn, committed together (one transaction, one fsync) in a microtask at the end
   * of the current callback: every BNDUPD of a TCP read, every binding change of a DHCP turn. Reads go
   * through {@link lease} so that they see these writes first.
   */
  private batch = new Map<number, FailoverLease>();
  private batchWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void; rethrow: boolean; durable: boolean }> = [];
  private flushScheduled = false;
  /** Writes handed to an asynchronous store commit that has not resolved yet. */
  private committing = new Map<number, FailoverLease>();
  /** The UPDREQ/UPDREQALL being answered. */
  private burst: { xid: number; remaining: Set<number> } | undefined;
  private readonly timers = new Map<FsmTimer | 'pool', NodeJS.Timeout>();
  private persistChain: Promise<void> = Promise.resolve();
  private started = false;
  private stopping = false;

  constructor(options: FailoverPeerOptions) {
    this.opts = options;
    this.name = options.link.name;
    this.role = options.link.role;
    this.log = options.log;
    this.store = options.store;
    this.hba = options.hba ?? new Uint8Array(32);
    this.fsm = new FailoverStateMachine({
      name: this.name,
      role: this.role,
      mclt: options.mclt,
      autoPartnerDown: options.autoPartnerDown ?? 0,
    });
    const self = this;
    this.connection = new FailoverConnection(
      { ...options.link, ...(options.clock ? { clock: options.clock } : {}) },
      {
        linkUp: (p) => self.onLinkUp(p),
        message: (m) => self.onMessage(m),
        linkDown: () => self.onLinkDown(),
      },
      options.log,
    );
  }

  /** Seconds now. */
  now(): number {
    return Math.floor(this.opts.clock ? this.opts.clock() : Date.now() / 1000);
  }

  /** Our state (ISC name; `startup` while starting). */
  get state(): FailoverStateName {
    return this.fsm.state;
  }

  /** The partner's last known state. */
  get partnerState(): FailoverStateName {
    return this.fsm.partnerState;
  }

  /** Current MCLT (learned from CONNECT on the secondary). */
  get mclt(): number {
    return this.fsm.mclt;
  }

  /** Starts: state from the store, startup, listener and connector. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.opts.loadBalanceMaxSeconds === 0) {
      this.log.info(`WARNING: load balancing will be disabled for failover peer, ${this.name}, because its load balance max secs is 0`);
    }
    const now = this.now();
    this.run(this.fsm.start(now, fromStoreRecord(this.store.loadState(this.name), now)));
    await this.connection.start();
  }

  /** Stops timers and the link (like ISC on SIGTERM: no DISCONNECT, the peer sees the close). */
  async stop(): Promise<void> {
    // Like a process exit: the link just goes away; no state change is recorded (§4.7).
    this.stopping = true;
    this.flushNow();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.connection.stop();
    await this.persistChain;
  }

  /** Operator command: put this server into partner-down (ISC: OMAPI `local-state 4`). */
  setPartnerDown(): void {
    this.run(this.fsm.setLocalState(this.now(), 'partner-down'));
  }

  /** Operator command: move to any state (OMAPI `failover-state` `local-state`). */
  setLocalState(state: FailoverStateName): void {
    this.run(this.fsm.setLocalState(this.now(), state));
  }

  // ---------------------------------------------------------------------------------------------
  // Policy for the DHCP engine

  /**
   * ISC: whether to answer a client at all (§5.1 service state, §7.3 load balancing for DISCOVER, and
   * "lease owned by peer" for a REQUEST of a free lease of the partner, "lease in transition state" and
   * "lease reset by administrator"). `reason` is the ISC log suffix; `nak` asks for a DHCPNAK.
   */
  mayAnswer(ctx: FailoverRequestContext): { answer: true } | { answer: false; reason: string; nak?: boolean } {
    const svc = this.fsm.service();
    if (!svc.responding) return { answer: false, reason: `not responding (${svc.suffix})` };
    if (ctx.messageType === DHCPDISCOVER && svc.cooperating) {
      const mine = isMine({ clientIdentifier: ctx.hashKey, chaddr: ctx.hashKey, hlen: ctx.hashKey.length, secs: ctx.secs }, this.role, this.hba, this.opts.loadBalanceMaxSeconds);
      if (!mine) {
        if (this.peerFreeLeases() === 0) {
          this.log.debug(`cancel load balance to peer ${this.name} - no free leases`);
          return { answer: true };
        }
        return { answer: false, reason: `load balance to peer ${this.name}` };
      }
    }
    if (ctx.messageType === DHCPREQUEST) {
      // ISC 4.4 dhcprequest(), in this order (FAILOVER.md §6.2).
      const l = ctx.lease;
      const now = this.now();
      if ((l.bindingState === 'free' || l.bindingState === 'backup') && !this.mayAllocate(l, now)) {
        return { answer: false, reason: 'lease owned by peer' };
      }
      // A released/expired lease whose change the partner has not acknowledged yet (the acked state,
      // rewind binding state, is not active) can be renewed only if it may be rewound to our own free
      // state: otherwise ISC ignores the REQUEST ("lease in transition state ...", debug).
      if ((l.bindingState === 'released' || l.bindingState === 'expired') && l.rewindBindingState !== 'active' && !this.mayAllocate(l, now)) {
        return { answer: false, reason: `lease in transition state ${l.bindingState}` };
      }
      // ISC NAKs a lease in the reset state (set by an administrator) unless it is ours to reallocate.
      if (l.bindingState === 'reset' && !this.mayAllocate(l, now)) {
        return { answer: false, reason: 'lease reset by administrator', nak: true };
      }
    }
    return { answer: true };
  }

  /** ISC `lease_mine_to_reallocate` (§6.2). */
  mayAllocate(lease: FailoverLease, now: number): boolean {
    return mayReallocate(lease, { role: this.role, partnerDown: this.fsm.state === 'partner-down', stos: this.fsm.stos, mclt: this.fsm.mclt, now });
  }

  /** The MCLT rule (§6.4). On an ACK the returned tstp must be stored on the lease before onBindingChange. */
  leaseTimeFor(lease: FailoverLease, desired: number, now: number, isAck: boolean): { leaseTime: number; tstp?: number } {
    return mcltLeaseTime(desired, timeValue(lease.tsfp), this.fsm.mclt, now, isAck);
  }

  /** The DHCP engine committed a binding change: queue a BNDUPD (§6.5). */
  onBindingChange(lease: FailoverLease): void {
    if (lease.bindingState === 'released' && timeValue(lease.tstp) < timeValue(lease.ends)) lease.tstp = lease.ends;
    // ISC ack_lease: a smaller promise than the acknowledged one also lowers tsfp (§6.4).
    if (lease.bindingState === 'active' && timeValue(lease.tstp) < timeValue(lease.tsfp)) lease.tsfp = lease.tstp;
    this.queueUpdate(lease.address);
    this.scheduleSend();
  }

  private peerFreeCache: { at: number; count: number } | undefined;
  private peerFreeLeases(): number {
    const now = this.now();
    if (this.peerFreeCache && this.peerFreeCache.at === now) return this.peerFreeCache.count;
    const st = peerFreeState(this.role);
    let count = 0;
    for (const p of this.store.pools()) count += poolCounts(p)[st];
    this.peerFreeCache = { at: now, count };
    return count;
  }

  // ---------------------------------------------------------------------------------------------
  // Link events

  private onLinkUp(p: LinkParams): void {
    this.partnerMaxUnacked = p.partnerMaxUnacked;
    if (this.role === 'secondary') {
      if (p.hba) this.hba = p.hba;
      if (p.mclt !== undefined) this.run(this.fsm.setMclt(p.mclt));
    }
    this.run(this.fsm.onLinkUp());
  }

  private onLinkDown(): void {
    if (this.stopping) return;
    this.requeueUnacked();
    this.burst = undefined;
    this.run(this.fsm.onLinkDown(this.now()));
  }

  private onMessage(m: FailoverMessage): void {
    const f = m.fields;
    switch (m.type) {
      case FTM.STATE:
        this.run(this.fsm.onPeerState(this.now(), f.serverState ?? 0, f.serverFlags ?? 0));
        break;
      case FTM.UPDDONE:
        this.run(this.fsm.onUpdateDone(this.now()));
        break;
      case FTM.UPDREQALL:
      case FTM.UPDREQ:
        this.onUpdateRequest(m);
        break;
      case FTM.BNDUPD:
        this.onBndupd(m);
        break;
      case FTM.BNDACK:
        this.onBndack(m);
        break;
      case FTM.POOLREQ: {
        const n = this.balance(false);
        this.connection.send(FTM.POOLRESP, { addressesTransferred: n }, { xid: m.xid });
        if (n === 0) this.log.info(`peer ${this.name}: Got POOLREQ, answering negatively!  Peer may be out of leases or database inconsistent.`);
        this.sendUpdates();
        break;
      }
      case FTM.POOLRESP:
        this.log.info(`pool response: ${f.addressesTransferred ?? 0} leases`);
        break;
      default:
        break; // CONTACT: only resets the receive timer
    }
  }

  private onUpdateRequest(m: FailoverMessage): void {
    this.flushNow();
    const all = m.type === FTM.UPDREQALL;
    if (this.burst) this.log.info('Received update request while old update still flying!  Silently discarding old request.');
    const remaining = new Set<number>();
    for (const p of this.store.pools()) {
      for (const l of p.leases()) {
        if (all || timeValue(l.tstp) > timeValue(l.atsfp) || l.bindingState === 'expired') remaining.add(l.address);
      }
    }
    const what = all ? 'Update request all' : 'Update request';
    if (remaining.size === 0) {
      this.log.info(`${what} from ${this.name}: nothing pending`);
      this.burst = undefined;
      this.connection.send(FTM.UPDDONE, {}, { xid: m.xid });
      this.log.info(`Sent update done message to ${this.name}`);
      return;
    }
    this.log.info(`${what} from ${this.name}: sending update`);
    this.burst = { xid: m.xid, remaining };
    for (const a of remaining) if (!this.inflight.has(a)) this.pending.add(a);
    this.sendUpdates();
  }

  private finishBurstItem(address: number): void {
    const b = this.burst;
    if (!b) return;
    b.remaining.delete(address);
    if (b.remaining.size === 0) {
      this.burst = undefined;
      this.connection.send(FTM.UPDDONE, {}, { xid: b.xid });
      this.log.info(`Sent update done message to ${this.name}`);
    }
  }

  private onBndupd(m: FailoverMessage): void {
    const f = m.fields;
    const now = this.now();
    const ack = (reject?: BindingReject): void => {
      // ISC logs nothing for an accepted update (one line per BNDUPD was ~1 % of a pair's CPU); a reject is
      // logged by the sender when it gets the BNDACK, and here at debug level.
      if (reject) this.log.debug(`bind update on ${ipString(f.assignedIpAddress ?? 0)} state ${f.bindingStatus ?? '?'} from ${this.name}: rejected: ${reject.message}`);
      this.connection.send(
        FTM.BNDACK,
        reject ? { assignedIpAddress: f.assignedIpAddress ?? 0, rejectReason: reject.reason, message: reject.message } : { assignedIpAddress: f.assignedIpAddress! },
        { xid: m.xid },
      );
    };
    const invalid = validateBndupd(f);
    if (invalid) return ack(invalid);
    const ip = f.assignedIpAddress!;
    const owner = this.store.ownerOf(ip);
    if (owner === 'unknown') return ack({ reason: FTR.ILLEGAL_IP_ADDR, message: 'unknown IP address' });
    if (owner === 'other-relationship') return ack({ reason: FTR.ILLEGAL_IP_ADDR, message: 'IP address is covered by a different failover relationship state' });
    const lease = this.lease(ip);
    if (!lease) return ack({ reason: FTR.ILLEGAL_IP_ADDR, message: 'unknown IP address' });
    const requested = bindingStatusFromWire(f.bindingStatus!)!;
    let duelLost = false;
    if (this.inflight.has(ip)) {
      if (!incomingWins(lease, requested, f.cltt ?? 0, this.role)) {
        return ack({ reason: FTR.LESS_CRIT_BIND_INFO, message: 'incoming update is less critical than outgoing update' });
      }
      // ISC: off the ack queue, so that our late BNDACK is ignored ("spurious ACKs").
      this.ackQueueRemove(ip);
      duelLost = true;
    }
    const bad = checkTransition(lease, requested, f, this.role, this.fsm.state === 'normal', now);
    if (bad) return ack(bad);
    const own = ownFreeState(this.role);
    if (lease.bindingState === own && requested !== own) {
      if ((f.ipFlags ?? 0) & IP_FLAG_RESERVE && !lease.reserved) return ack({ reason: FTR.IP_NOT_RESERVED, message: 'Address is not reserved.' });
      if ((f.ipFlags ?? 0) & IP_FLAG_BOOTP && !lease.dynamicBootp) return ack({ reason: FTR.MISC_REJECT, message: 'Address is not reserved.' });
    }
    const from = lease.bindingState;
    applyBndupd(lease, requested, f);
    if ((from === 'active' || from === 'expired') && (lease.bindingState === 'free' || lease.bindingState === 'backup')) {
      this.opts.hooks?.onExpiryDone?.(lease, from, now);
    }
    this.peerFreeCache = undefined;
    void this.commit([lease], true).then(
      () => {
        ack();
        // The partner now has what we would have sent: an update still queued for it is moot.
        if ((this.pending.delete(ip) || duelLost) && !this.inflight.has(ip)) this.finishBurstItem(ip);
        if (requested === 'expired' || requested === 'released' || requested === 'reset') this.affinity(lease);
      },
      () => ack({ reason: FTR.MISC_REJECT, message: 'database update failed' }),
    );
  }

  /** ISC dhcp_failover_process_bind_ack (FAILOVER.md §1.5, §4.6). */
  private onBndack(m: FailoverMessage): void {
    const f = m.fields;
    if (f.assignedIpAddress === undefined) return;
    const ip = f.assignedIpAddress;
    const lease = this.lease(ip);
    if (!lease) {
      this.log.info(`bind update on ${ipString(ip)} got ack from ${this.name}: no such lease.`);
      return;
    }
    if (f.rejectReason !== undefined) {
      this.log.error(`bind update on ${ipString(ip)} from ${this.name} rejected: ${f.message ?? rejectReasonText(f.rejectReason)}`);
      this.unqueueAcked(ip);
      return;
    }
    const last = this.lastXid.get(ip);
    // An ack for an update we no longer wait for (acked already, or superseded): dropped silently.
    if (last === undefined) {
      this.unqueueAcked(ip);
      return;
    }
    if (last !== m.xid) {
      this.log.info(`bind update on ${ipString(ip)} got ack from ${this.name}: xid mismatch.`);
      return;
    }
    const before = `${String(lease.tsfp)} ${String(lease.atsfp)} ${lease.bindingState} ${lease.rewindBindingState}`;
    lease.tsfp = lease.tstp;
    lease.atsfp = lease.tstp;
    let returned = false;
    if (lease.bindingState === 'expired' || lease.bindingState === 'released' || lease.bindingState === 'reset') {
      const from = lease.bindingState;
      lease.bindingState = 'free';
      lease.nextBindingState = 'free';
      returned = true;
      // ISC: the expiry event of a failover lease is its return to free, after the partner's ack.
      if (from === 'expired') this.opts.hooks?.onExpiryDone?.(lease, from, this.now());
    }
    lease.rewindBindingState = lease.bindingState;
    this.peerFreeCache = undefined;
    // Never-used leases acked after an UPDREQALL do not change: ISC does not write them either.
    // ISC dhcp_failover_process_bind_ack: a lease back to free is committed at once; otherwise the lease is
    // written and the commit follows within 2 s (commit_leases_timeout), so no fsync is started for an ack.
    if (before !== `${String(lease.tsfp)} ${String(lease.atsfp)} ${lease.bindingState} ${lease.rewindBindingState}`) void this.commit([lease], false, returned);
    this.unqueueAcked(ip);
    if (returned) this.affinity(lease);
  }

  /** After a BNDACK: off the ack queue, the UPDREQ burst may be done, and there is room for more. */
  private unqueueAcked(ip: number): void {
    this.ackQueueRemove(ip);
    this.finishBurstItem(ip);
    this.scheduleSend();
  }

  /** ISC dhcp_failover_ack_queue_remove: last_xid is forgotten only when the lease was on the ack queue. */
  private ackQueueRemove(ip: number): void {
    if (this.inflight.delete(ip)) this.lastXid.delete(ip);
  }

  /** ISC dhcp_failover_queue_update: a changed lease goes (once) to the send queue, off the ack queue. */
  private queueUpdate(address: number): void {
    if (this.pending.has(address)) return;
    this.ackQueueRemove(address);
    this.pending.add(address);
  }

  /** The lease as this relationship last wrote it (this turn's writes first), else from the store. */
  private lease(address: number): FailoverLease | undefined {
    return this.batch.get(address) ?? this.committing.get(address) ?? this.store.get(address);
  }

  private sendScheduled = false;
  /** Sends queued updates once the current callback is done (after this turn's other changes queued). */
  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    queueMicrotask(() => {
      this.sendScheduled = false;
      this.sendUpdates();
    });
  }

  /** Sends queued BNDUPDs while the partner's max-unacked allows (§4.6). */
  private sendUpdates(): void {
    if (!this.connection.isUp || this.fsm.state === 'startup') return;
    const max = Math.max(0, this.partnerMaxUnacked);
    const changed: FailoverLease[] = [];
    for (const address of this.pending) {
      if (this.inflight.size >= max) break;
      this.pending.delete(address);
      const lease = this.lease(address);
      if (!lease) {
        this.finishBurstItem(address);
        continue;
      }
      const xid = this.connection.send(FTM.BNDUPD, bndupdFields(lease), { nonZeroXid: true });
      if (xid === undefined) {
        this.pending.add(address);
        break;
      }
      this.inflight.add(address);
      this.lastXid.set(address, xid);
      if (lease.atsfp !== 0) {
        // ISC clears atsfp when it propagates a change, so that a restart or an UPDREQ sends the lease again
        // (`tstp > atsfp`). When the stored lease is selected by that rule already (a new promise, or expired),
        // the cleared atsfp changes nothing on disk, and writing it was one SQLite write per BNDUPD sent.
        const selected = timeValue(lease.tstp) > timeValue(lease.atsfp) || lease.bindingState === 'expired';
        lease.atsfp = 0;
        if (!selected) changed.push(lease);
      }
    }
    // Not waited for (ISC writes it with the lease and commits later): lazy durability.
    if (changed.length) void this.commit(changed, false, false);
  }

  /**
   * MAC address affinity (§8): on the primary, a lease that has just returned to free and whose last client
   * hashes to the secondary goes to the secondary as backup, while the secondary is not hoarding
   * (`(free - backup) / 2 > -hold` in its pool).
   */
  private affinity(lease: FailoverLease): void {
    if (this.role !== 'primary' || lease.bindingState !== 'free') return;
    const key = leaseHashKey(lease);
    if (!key || bucketIsMine(key, 'primary', this.hba)) return;
    const pool = this.store.pools().find((p) => (p.contains ? p.contains(lease.address) : [...p.leases()].some((l) => l.address === lease.address)));
    if (!pool) return;
    const { free, backup } = poolCounts(pool);
    const hold = Math.trunc(((free + backup) * (this.opts.maxLeaseOwnership ?? 10) + 50) / 100);
    if (Math.trunc((free - backup) / 2) <= -hold) return;
    const now = this.now();
    lease.bindingState = 'backup';
    lease.nextBindingState = 'backup';
    lease.tstp = now;
    lease.starts = now;
    void this.commit([lease]);
    this.queueUpdate(lease.address);
    this.scheduleSend();
  }

  /** ISC dhcp_failover_rescind_updates: un-acked updates go back to the front of the send queue. */
  private requeueUnacked(): void {
    if (this.inflight.size === 0) return;
    const rest = [...this.pending];
    this.pending.clear();
    for (const a of this.inflight) this.pending.add(a);
    for (const a of rest) this.pending.add(a);
    this.inflight.clear();
  }

  /**
   * Queues leases for this turn's commit (see {@link batch}). Never rejects: a failed write is logged (the
   * BNDUPD path passes `rethrow` to turn it into a BNDACK reject, as ISC answers `database update failed`).
   */
  private commit(leases: FailoverLease[], rethrow = false, durable = true): Promise<void> {
    for (const l of leases) this.batch.set(l.address, l);
    return new Promise<void>((resolve, reject) => {
      this.batchWaiters.push({ resolve, reject, rethrow, durable });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flushNow());
      }
    });
  }

  /** Commits this turn's writes in one store transaction now, then settles their waiters. */
  private flushNow(): void {
    this.flushScheduled = false;
    if (this.batch.size === 0 && this.batchWaiters.length === 0) return;
    const writes = this.batch;
    const waiters = this.batchWaiters;
    this.batch = new Map();
    this.batchWaiters = [];
    const done = (): void => {
      for (const w of waiters) w.resolve();
    };
    const failed = (e: unknown): void => {
      this.log.error(`failover peer ${this.name}: lease commit failed: ${String(e)}`);
      for (const w of waiters) (w.rethrow ? w.reject : w.resolve)(e);
    };
    let r: void | Promise<void>;
    try {
      const durable = waiters.some((w) => w.durable);
      r = writes.size > 0 ? this.store.commit([...writes.values()], durable ? undefined : { durable: false }) : undefined;
    } catch (e) {
      failed(e);
      return;
    }
    if (r === undefined) return done();
    for (const [a, l] of writes) this.committing.set(a, l);
    const forget = (): void => {
      for (const [a, l] of writes) if (this.committing.get(a) === l) this.committing.delete(a);
    };
    r.then(
      () => {
        forget();
        done();
      },
      (e: unknown) => {
        forget();
        failed(e);
      },
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Pool balancing (§8)

  /** Runs the balance over every pool; returns how many leases were queued to the peer. */
  balance(timerDriven: boolean): number {
    if (this.fsm.state !== 'normal') return 0;
    this.flushNow();
    const now = this.now();
    let queued = 0;
    let requestPeer = false;
    const changed: FailoverLease[] = [];
    for (const pool of this.store.pools()) {
      const r = balancePool(pool.leases(), {
        role: this.role,
        hba: this.hba,
        maxLeaseMisbalance: this.opts.maxLeaseMisbalance ?? 15,
        maxLeaseOwnership: this.opts.maxLeaseOwnership ?? 10,
      });
      const panic = r.thresh === 0 ? -1 : -2 * r.thresh;
      const poolReq = timerDriven && r.lts < panic;
      if (poolReq) requestPeer = true;
      this.log.info(
        `balancing pool ${pool.id} ${pool.label}  total ${r.total}  free ${r.free}  backup ${r.backup}  lts ${r.lts}  max-own (+/-)${r.hold}` +
          (poolReq ? '  (requesting peer rebalance!)' : ''),
      );
      const peerState = peerFreeState(this.role);
      for (const l of r.give) {
        l.bindingState = peerState;
        l.nextBindingState = peerState;
        l.tstp = now;
        l.starts = now;
        l.clientHostname = null;
        this.queueUpdate(l.address);
        changed.push(l);
      }
      queued += r.give.length;
      const own = ownFreeState(this.role);
      const free = r.free + (own === 'free' ? -r.give.length : r.give.length);
      const backup = r.backup + (own === 'backup' ? -r.give.length : r.give.length);
      const line = `pool ${pool.id} ${pool.label}  total ${r.total}  free ${free}  backup ${backup}  lts ${r.ltsAfter}  max-misbal ${r.thresh}`;
      if (r.ltsAfter > r.thresh) this.log.error(`IMBALANCED ${line}`);
      else this.log.info(`balanced ${line}`);
    }
    if (changed.length) {
      this.peerFreeCache = undefined;
      void this.commit(changed);
    }
    if (requestPeer) this.connection.send(FTM.POOLREQ, {});
    this.schedulePoolCheck();
    return queued;
  }

  private schedulePoolCheck(): void {
    const old = this.timers.get('pool');
    if (old) clearTimeout(old);
    const min = this.opts.minBalance ?? 60;
    const max = this.opts.maxBalance ?? 3600;
    // Simplified ISC dhcp_failover_pool_check: next run between min-balance and max-balance, plus 0–4 s.
    const delay = Math.max(min, Math.min(max, min * 2)) + Math.floor(Math.random() * 5);
    const t = setTimeout(() => {
      this.timers.delete('pool');
      this.balance(true);
      this.sendUpdates();
    }, delay * 1000);
    t.unref?.();
    this.timers.set('pool', t);
  }

  // ---------------------------------------------------------------------------------------------
  // State machine actions

  private run(actions: FsmAction[]): void {
    for (const a of actions) this.act(a);
  }

  private act(a: FsmAction): void {
    switch (a.kind) {
      case 'log':
        if (a.level === 'error') this.log.error(a.text);
        else this.log.info(a.text);
        break;
      case 'fatal':
        // ISC exits here (log_fatal); a server process must not die for one relationship: log, shut down.
        this.log.error(a.text);
        this.run(this.fsm.setLocalState(this.now(), 'shutdown'));
        break;
      case 'send-state': {
        const ws = this.fsm.wireState();
        this.connection.send(FTM.STATE, { serverState: stateToWire(ws.state), serverFlags: ws.flags, startTimeOfState: this.fsm.stos });
        break;
      }
      case 'send-updreqall':
        if (this.connection.send(FTM.UPDREQALL, {}) !== undefined) this.log.info(`Sent update request all message to ${this.name}`);
        break;
      case 'send-updreq':
        if (this.connection.send(FTM.UPDREQ, {}) !== undefined) this.log.info(`Sent update request message to ${this.name}`);
        break;
      case 'persist': {
        const rec = toStoreRecord(this.name, this.fsm.record());
        this.persistChain = this.persistChain
          .then(() => this.store.saveState(rec))
          .catch((e: unknown) => this.log.error(`failover peer ${this.name}: cannot save state: ${String(e)}`));
        break;
      }
      case 'timer':
        this.setTimer(a.timer, a.at);
        break;
      case 'requeue-unacked':
        this.requeueUnacked();
        break;
      case 'enter-normal': {
        this.flushNow();
        this.balance(false);
        let queued = this.pending.size;
        for (const p of this.store.pools()) {
          for (const l of p.leases()) {
            if ((timeValue(l.tstp) > timeValue(l.atsfp) || l.bindingState === 'expired') && !this.inflight.has(l.address) && !this.pending.has(l.address)) {
              this.pending.add(l.address);
              queued++;
            }
          }
        }
        if (queued > 0) this.log.info(`Sending updates to ${this.name}.`);
        this.sendUpdates();
        break;
      }
      case 'pool-check':
        this.schedulePoolCheck();
        break;
      case 'enter-partner-down': {
        this.flushNow();
        const changed: FailoverLease[] = [];
        for (const p of this.store.pools()) {
          for (const l of p.leases()) {
            if (l.bindingState === 'expired' || l.bindingState === 'released' || l.bindingState === 'reset') {
              l.tsfp = this.fsm.stos + this.fsm.mclt;
              changed.push(l);
              this.queueUpdate(l.address);
            }
          }
        }
        if (changed.length) void this.commit(changed);
        break;
      }
      case 'send-pending-updates':
        this.sendUpdates();
        break;
    }
  }

  private setTimer(timer: FsmTimer, at: number | null): void {
    const old = this.timers.get(timer);
    if (old) clearTimeout(old);
    this.timers.delete(timer);
    if (at === null) return;
    const ms = Math.max(0, (at - this.now()) * 1000);
    const t = setTimeout(() => {
      this.timers.delete(timer);
      const now = this.now();
      if (timer === 'startup') this.run(this.fsm.onStartupTimeout(now));
      else if (timer === 'recover-wait') this.run(this.fsm.onRecoverWaitTimer(now));
      else this.run(this.fsm.onAutoPartnerDownTimer(now));
    }, Math.min(ms, 0x7fffffff));
    t.unref?.();
    this.timers.set(timer, t);
  }
}

/** What {@link startFailover} returns. */
export interface FailoverRuntime {
  /** One FailoverPeer per `failover peer` of the config, by name. */
  readonly peers: ReadonlyMap<string, FailoverPeer>;
  /** The policy to put in the DHCP engine's ports (src/engine/ports.ts `EnginePorts.failover`). */
  readonly policy: FailoverPolicy;
  /** Stops every relationship (no state change recorded, like ISC on SIGTERM). */
  stop(): Promise<void>;
  /**
   * A reloaded config (SIGHUP): relationships whose declaration changed are restarted (stopped as on
   * SIGTERM, started again from the stored state, as ISC after a restart), removed ones stopped, new ones
   * started; the others keep running untouched (link, state, queues). `keyOf` tells whether a declaration
   * changed (default: the rule given to {@link startFailover}); the wiring adds the pools using it.
   */
  reconfigure(
    peers: ReadonlyMap<string, ConfigFailoverPeer>,
    storeFor: (peer: ConfigFailoverPeer) => FailoverStore,
    keyOf?: (peer: ConfigFailoverPeer) => string,
  ): Promise<{ kept: string[]; restarted: string[]; started: string[]; stopped: string[] }>;
}

/** What identifies a `failover peer` declaration (everything but its source position and saved state). */
export function failoverPeerKey(peer: ConfigFailoverPeer): string {
  const { loc: _loc, state: _state, hba, ...rest } = peer;
  return JSON.stringify({ ...rest, hba: hba ? Buffer.from(hba).toString('hex') : null });
}

/**
 * Starts every failover relationship of a loaded config. `storeFor` gives the lease/state port of one
 * relationship (the lead's adapter over the SQLite LeaseStore); `resolve` resolves host names in
 * `address`/`peer address` when the config used them.
 */
export async function startFailover(
  peers: ReadonlyMap<string, ConfigFailoverPeer>,
  storeFor: (peer: ConfigFailoverPeer) => FailoverStore,
  log: FailoverLog,
  resolve?: (peer: ConfigFailoverPeer) => { address?: string; peerAddress?: string },
  keyOf: (peer: ConfigFailoverPeer) => string = failoverPeerKey,
  hooks?: FailoverHooks,
): Promise<FailoverRuntime> {
  const running = new Map<string, FailoverPeer>();
  const keys = new Map<string, string>();
  for (const [name, cfg] of peers) {
    const p = new FailoverPeer({ ...peerOptionsFromConfig(cfg, storeFor(cfg), log, resolve?.(cfg)), ...(hooks ? { hooks } : {}) });
    running.set(name, p);
    keys.set(name, keyOf(cfg));
  }
  try {
    for (const p of running.values()) await p.start();
  } catch (e) {
    await Promise.all([...running.values()].map((p) => p.stop()));
    throw e;
  }
  return {
    // The policy reads this map on every call: a reconfigure takes effect for the next packet.
    peers: running,
    policy: createFailoverPolicy(running),
    stop: async () => void (await Promise.all([...running.values()].map((p) => p.stop()))),
    async reconfigure(next, nextStoreFor, nextKeyOf = keyOf) {
      const out = { kept: [] as string[], restarted: [] as string[], started: [] as string[], stopped: [] as string[] };
      for (const [name, p] of [...running]) {
        if (next.has(name)) continue;
        await p.stop();
        running.delete(name);
        keys.delete(name);
        out.stopped.push(name);
        log.info(`failover peer ${name}: removed from the configuration, stopped`);
      }
      for (const [name, cfg] of next) {
        const key = nextKeyOf(cfg);
        const old = running.get(name);
        if (old !== undefined && keys.get(name) === key) {
          out.kept.push(name);
          continue;
        }
        if (old !== undefined) {
          await old.stop();
          running.delete(name);
          log.info(`failover peer ${name}: declaration changed, restarting the relationship`);
        }
        const p = new FailoverPeer({ ...peerOptionsFromConfig(cfg, nextStoreFor(cfg), log, resolve?.(cfg)), ...(hooks ? { hooks } : {}) });
        await p.start();
        running.set(name, p);
        keys.set(name, key);
        (old !== undefined ? out.restarted : out.started).push(name);
      }
      return out;
    },
  };
}

/**
 * The {@link FailoverPolicy} the DHCP engine uses (src/engine/ports.ts), over every relationship of the
 * config. Pools naming an unknown peer are served as without failover.
 */
export function createFailoverPolicy(peers: ReadonlyMap<string, FailoverPeer>): FailoverPolicy {
  return {
    mayAnswer: (ctx) => peers.get(ctx.peerName)?.mayAnswer(ctx) ?? { answer: true },
    mayAllocate: (peerName, lease, now) => {
      const p = peers.get(peerName);
      if (p) return p.mayAllocate(lease, now);
      return lease.bindingState === 'free' || lease.bindingState === 'expired' || lease.bindingState === 'released';
    },
    leaseTimeFor: (peerName, lease, desired, now, isAck) => peers.get(peerName)?.leaseTimeFor(lease, desired, now, isAck) ?? { leaseTime: desired },
    onBindingChange: (peerName, lease) => peers.get(peerName)?.onBindingChange(lease),
  };
}

