/**
 * The failover TCP link (FAILOVER.md §1, §4): listener on `address:port` that accepts only the configured
 * peer address, connector from `address` to `peer address:peer port` with ISC's 5 s retry, the
 * CONNECT/CONNECTACK handshake with ISC's checks and reject reasons, CONTACT keepalives, the receive timer,
 * DISCONNECT, and stream framing with bounded buffers and timeouts.
 *
 * The link knows nothing of leases or states: once up it hands every message to {@link LinkHandler}.
 *
 * @module
 */
import net from 'node:net';
import { decodeMessage, encodeFields, peekLength } from './codec.js';
import {
  FTM,
  FTR,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  VENDOR_CLASS,
  messageTypeName,
  rejectReasonText,
  type FailoverFields,
  type FailoverMessage,
} from './messages.js';

import type { FailoverRole } from './load-balance.js';

/** The longest delay setTimeout honours (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * listen(2) backlog of the failover listener. Node's default is 511: 1,000 connections opened at once (issue
 * 8's hostile peer) overflowed the accept queue, the kernel dropped their SYNs or final ACKs
 * (TcpExtListenOverflows), and each came back only on a SYN or SYN-ACK retransmission (1, 3, 7, 15, 31 s
 * later when the process was busy). A client whose final ACK was dropped believes it is connected while the
 * server never sees the connection: an idle one is then never ended by the link start-up timer. The kernel
 * caps the value at net.core.somaxconn (4096 by default since Linux 5.4).
 */
export const FAILOVER_LISTEN_BACKLOG = 4096;

/** Minimal logger (src/log/logger.ts `Logger` satisfies it). */
export interface FailoverLog {
  info(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** Link configuration: the `failover peer` statement's wire part (§4.1). */
export interface LinkConfig {
  readonly name: string;
  readonly role: FailoverRole;
  /** Local listen address (dotted quad) and the source address of outgoing connects. */
  readonly address: string;
  readonly port: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  /** Our `max-response-delay` (sent as receive-timer; our receive timeout). */
  readonly maxResponseDelay: number;
  /** Our `max-unacked-updates` (sent as max-unacked-bndupd). */
  readonly maxUnackedUpdates: number;
  /** Primary: MCLT to send in CONNECT. */
  readonly mclt?: number;
  /** Primary: the 32-byte HBA to send in CONNECT. */
  readonly hba?: Uint8Array;
  /** Current time in seconds (header time, skew checks); default Date.now()/1000. */
  readonly clock?: () => number;
  /** Reconnect delay after a disconnect or a refused connect (ISC: 5 s). */
  readonly reconnectMs?: number;
  /** How long a new TCP connection may wait for CONNECT/CONNECTACK (ISC: 15 s). */
  readonly linkStartupMs?: number;
  /** Do not connect out (listen only); for tests. */
  readonly listenOnly?: boolean;
}

/** What the partner told us in the handshake. */
export interface LinkParams {
  /** Partner's max-unacked-bndupd (0 if it did not send it, as ISC). */
  readonly partnerMaxUnacked: number;
  /** Partner's receive-timer in seconds (0 if absent). */
  readonly partnerReceiveTimer: number;
  /** MCLT from the primary's CONNECT (secondary only). */
  readonly mclt?: number;
  /** HBA from the primary's CONNECT (secondary only). */
  readonly hba?: Buffer;
  readonly vendorClass?: string;
}

/** The consumer of an up link (the failover engine). */
export interface LinkHandler {
  /** CONNECT/CONNECTACK accepted. The handler now sends STATE. */
  linkUp(params: LinkParams): void;
  /** Any message after the handshake. */
  message(msg: FailoverMessage): void;
  /** The up link is gone (closed, timed out, protocol error). */
  linkDown(reason: string): void;
}

const TIME_SKEW_LIMIT = 60;

type Phase = 'handshake' | 'up' | 'closed';

/** One TCP connection carrying the failover protocol. */
class LinkSocket {
  phase: Phase = 'handshake';
  /** ISC: each link object has its own xid counter, starting at 0. */
  private xid = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private startupTimer: NodeJS.Timeout | undefined;
  private contactTimer: NodeJS.Timeout | undefined;
  private receiveTimer: NodeJS.Timeout | undefined;
  private contactIntervalMs = 0;

  constructor(
    readonly owner: FailoverConnection,
    readonly socket: net.Socket,
    readonly outgoing: boolean,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
    this.startupTimer = setTimeout(() => {
      if (this.phase !== 'handshake') return;
      owner.log.info('failover: link startup timeout');
      this.destroy();
    }, owner.linkStartupMs);
    this.startupTimer.unref?.();
  }

  /** Next xid for a message we originate; `nonZero` for BNDUPD (ISC skips 0). */
  nextXid(nonZero = false): number {
    if (nonZero && this.xid === 0) this.xid = 1;
    const x = this.xid;
    this.xid = (this.xid + 1) >>> 0;
    return x;
  }

  /** Messages of this turn not yet written: sent as ONE write (several BNDUPD/BNDACK per TCP segment). */
  private out: Buffer[] = [];
  private outScheduled = false;

  send(type: number, fields: FailoverFields, xid: number): void {
    if (this.phase === 'closed' || this.socket.destroyed) return;
    this.out.push(encodeFields(type, this.owner.now(), xid, fields));
    if (!this.outScheduled) {
      this.outScheduled = true;
      setImmediate(() => this.flushOut());
    }
    this.armContact();
  }

  /** Writes what {@link send} collected (also right before a close, so that a reject still goes out). */
  flushOut(): void {
    this.outScheduled = false;
    if (this.out.length === 0) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    if (!this.socket.destroyed) this.socket.write(data);
  }

  startUp(partnerReceiveTimer: number): void {
    this.phase = 'up';
    if (this.startupTimer) clearTimeout(this.startupTimer);
    // CONTACT every partner receive-timer / 3 s (integer division, §4.5); at least 1 s so a peer that
    // omitted receive-timer cannot make us spin.
    // At most setTimeout's limit (~24.8 days): a larger delay overflows and Node fires it after 1 ms, which
    // let a hostile peer announcing receive-timer 0xffffffff make us send CONTACT in a tight loop.
    this.contactIntervalMs = Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(partnerReceiveTimer / 3)) * 1000);
    this.armContact();
    this.armReceive();
  }

  private armContact(): void {
    if (this.phase !== 'up') return;
    // Re-armed after every message sent: refresh() moves the one timer instead of a clear + new timer per
    // message (a pair sends one to three messages per DORA).
    if (this.contactTimer) {
      this.contactTimer.refresh();
      return;
    }
    this.contactTimer = setTimeout(() => this.send(FTM.CONTACT, {}, this.nextXid()), this.contactIntervalMs);
    this.contactTimer.unref?.();
  }

  private armReceive(): void {
    if (this.phase !== 'up') return;
    if (this.receiveTimer) {
      this.receiveTimer.refresh();
      return;
    }
    const ms = Math.max(1, this.owner.config.maxResponseDelay) * 1000;
    this.receiveTimer = setTimeout(() => {
      this.owner.log.error(`timeout waiting for failover peer ${this.owner.config.name}`);
      this.destroy();
    }, ms);
    this.receiveTimer.unref?.();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    // Bounded: we never hold more than one partial message (≤ 2048 bytes) plus one chunk.
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while ((this.phase as Phase) !== 'closed') {
      const len = peekLength(this.buffer);
      if (len === undefined) break;
      if (len < HEADER_LENGTH || len > MAX_MESSAGE_LENGTH) {
        this.owner.log.error(`message length wait: bad length ${len}`);
        this.destroy();
        return;
      }
      if (this.buffer.length < len) break;
      const frame = this.buffer.subarray(0, len);
      this.buffer = this.buffer.subarray(len);
      // decodeMessage copies what it keeps (option data, header extra): no copy of the frame first.
      const r = decodeMessage(frame);
      if (!r.ok) {
        this.owner.decodeErrors++;
        this.owner.log.error(r.error.message);
        this.destroy();
        return;
      }
      this.armReceive();
      try {
        this.owner.onMessage(this, r.message);
      } catch (e) {
        // A bug or a storage failure while handling one message must not take the server down.
        this.owner.log.error(`failover: error handling ${messageTypeName(r.message.type)}: ${String(e)}`);
        this.destroy();
        return;
      }
    }
  }

  /** Graceful close: what we wrote is delivered, then FIN. */
  end(): void {
    if (this.phase === 'closed') return;
    this.flushOut();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref?.();
    this.clearTimers();
    const wasUp = this.phase === 'up';
    this.phase = 'closed';
    this.owner.onClosed(this, wasUp);
  }

  /** Force close. */
  destroy(): void {
    if (this.phase === 'closed') {
      this.socket.destroy();
      return;
    }
    const wasUp = this.phase === 'up';
    this.phase = 'closed';
    this.clearTimers();
    this.flushOut();
    this.socket.destroy();
    this.owner.onClosed(this, wasUp);
  }

  private onClose(): void {
    if (this.phase === 'closed') return;
    const wasUp = this.phase === 'up';
    this.phase = 'closed';
    this.clearTimers();
    this.owner.onClosed(this, wasUp);
  }

  private clearTimers(): void {
    for (const t of [this.startupTimer, this.contactTimer, this.receiveTimer]) if (t) clearTimeout(t);
  }
}

function normalizeAddress(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * The failover connection manager for one relationship: listener + connector + handshake. At most one link
 * is up at a time; {@link send} goes over it.
 */
export class FailoverConnection {
  readonly linkStartupMs: number;
  private readonly reconnectMs: number;
  private server: net.Server | undefined;
  private readonly sockets = new Set<LinkSocket>();
  private active: LinkSocket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting = false;
  private stopped = false;
  /** Messages dropped as undecodable (counted; each also closes its connection, as ISC does). */
  decodeErrors = 0;

  constructor(
    readonly config: LinkConfig,
    readonly handler: LinkHandler,
    readonly log: FailoverLog,
  ) {
    this.reconnectMs = config.reconnectMs ?? 5000;
    this.linkStartupMs = config.linkStartupMs ?? 15000;
  }

  /** Seconds now (header time). */
  now(): number {
    return Math.floor(this.config.clock ? this.config.clock() : Date.now() / 1000);
  }

  /** True when CONNECT/CONNECTACK have been exchanged on a connection. */
  get isUp(): boolean {
    return this.active !== undefined;
  }

  /** Starts listening and connecting. Resolves once the listener is bound. */
  async start(): Promise<void> {
    const server = net.createServer((s) => this.onAccept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.config.address, port: this.config.port, exclusive: true, backlog: FAILOVER_LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log.error(`failover: listener: ${String(e)}`));
    if (!this.config.listenOnly) this.connect();
  }

  /** Stops everything (no DISCONNECT is sent, like ISC on SIGTERM). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const s of [...this.sockets]) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /**
   * Sends a message over the up link. `xid` echoes a request (BNDACK, UPDDONE, POOLRESP); otherwise a new
   * xid is taken from the link's counter (`nonZeroXid` for BNDUPD). Returns the xid, or undefined if no
   * link is up.
   */
  send(type: number, fields: FailoverFields, options: { xid?: number; nonZeroXid?: boolean } = {}): number | undefined {
    const link = this.active;
    if (!link) return undefined;
    const xid = options.xid ?? link.nextXid(options.nonZeroXid ?? false);
    link.send(type, fields, xid);
    return xid;
  }

  /** Drops the current link (e.g. after a protocol violation found by the engine). */
  dropLink(): void {
    this.active?.destroy();
  }

  private onAccept(socket: net.Socket): void {
    const from = normalizeAddress(socket.remoteAddress);
    if (this.stopped || from !== this.config.peerAddress) {
      // ISC: only connections from a configured peer address are matched to a failover state.
      this.log.error('failover: listener: no matching state');
      socket.destroy();
      return;
    }
    this.adopt(socket, false);
  }

  private connect(): void {
    if (this.stopped || this.active || this.connecting) return;
    for (const s of this.sockets) if (s.phase === 'handshake') return;
    this.connecting = true;
    const socket = net.connect({ host: this.config.peerAddress, port: this.config.peerPort, localAddress: this.config.address });
    const onError = (): void => {
      this.connecting = false;
      socket.destroy();
      this.scheduleReconnect();
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      this.connecting = false;
      this.adopt(socket, true);
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.config.listenOnly || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, this.reconnectMs);
    this.reconnectTimer.unref?.();
  }

  private adopt(socket: net.Socket, outgoing: boolean): void {
    const link = new LinkSocket(this, socket, outgoing);
    this.sockets.add(link);
    // ISC: the primary sends CONNECT first on every new connection, whoever opened it (§1.1).
    if (this.config.role === 'primary') {
      link.send(
        FTM.CONNECT,
        {
          relationshipName: Buffer.from(this.config.name),
          maxUnackedBndupd: this.config.maxUnackedUpdates,
          receiveTimer: this.config.maxResponseDelay,
          vendorClassIdentifier: Buffer.from(VENDOR_CLASS),
          protocolVersion: 1,
          tlsRequest: 0,
          mclt: this.config.mclt ?? 0,
          hba: Buffer.from(this.config.hba ?? new Uint8Array(32)),
        },
        link.nextXid(),
      );
    }
  }

  /** Called by a LinkSocket when it closed. */
  onClosed(link: LinkSocket, wasUp: boolean): void {
    this.sockets.delete(link);
    if (link === this.active) {
      this.active = undefined;
      this.log.info(`peer ${this.config.name}: disconnected`);
      if (wasUp) this.handler.linkDown('disconnected');
    }
    if (!this.active) this.scheduleReconnect();
  }

  /** Called by a LinkSocket for every decoded message. */
  onMessage(link: LinkSocket, msg: FailoverMessage): void {
    if (link.phase === 'handshake') {
      this.handshake(link, msg);
      return;
    }
    if (link.phase !== 'up' || link !== this.active) return;
    if (msg.type === FTM.DISCONNECT) {
      this.log.error(`Failover DISCONNECT from ${this.config.name}: ${rejectReasonText(msg.fields.rejectReason ?? 0)}`);
      link.destroy();
      return;
    }
    if (msg.type === FTM.CONNECT || msg.type === FTM.CONNECTACK) {
      this.log.debug(`failover: ${messageTypeName(msg.type)} on an established link ignored`);
      return;
    }
    this.handler.message(msg);
  }

  private handshake(link: LinkSocket, msg: FailoverMessage): void {
    const cfg = this.config;
    const f = msg.fields;
    if (cfg.role === 'secondary') {
      if (msg.type !== FTM.CONNECT) {
        this.log.debug(`failover: ${messageTypeName(msg.type)} before CONNECT ignored`);
        return;
      }
      const name = f.relationshipName;
      const nameText = name?.toString('latin1') ?? '';
      const reject = (reason: number, text: string, full: boolean, graceful: boolean): void => {
        this.log.error(`Failover CONNECT from ${full ? cfg.name : nameText}: ${text}`);
        this.log.info(`failover: disconnect: ${text}`);
        const fields: FailoverFields = full
          ? {
              relationshipName: Buffer.from(cfg.name),
              maxUnackedBndupd: cfg.maxUnackedUpdates,
              receiveTimer: cfg.maxResponseDelay,
              vendorClassIdentifier: Buffer.from(VENDOR_CLASS),
              protocolVersion: 1,
              ...(f.tlsRequest !== undefined ? { tlsReply: 0 } : {}),
              rejectReason: reason,
              message: text,
            }
          : {
              ...(name ? { relationshipName: name } : {}),
              vendorClassIdentifier: Buffer.from(VENDOR_CLASS),
              protocolVersion: 1,
              ...(f.tlsRequest !== undefined ? { tlsReply: 0 } : {}),
              rejectReason: reason,
              message: text,
            };
        link.send(FTM.CONNECTACK, fields, msg.xid);
        if (graceful) link.end();
        else link.destroy();
      };
      if (!name) return reject(FTR.INVALID_PARTNER, 'missing relationship-name', false, true);
      if (!name.equals(Buffer.from(cfg.name))) return reject(FTR.INVALID_PARTNER, 'unknown failover relationship name', false, true);
      if (Math.abs(this.now() - msg.time) > TIME_SKEW_LIMIT) return reject(FTR.TIMEMISMATCH, 'time offset too large', true, true);
      if (!f.hba || f.hba.length !== 32) return reject(FTR.HBA_CONFLICT, 'invalid HBA', true, true);
      // ISC queues these two rejects and force-closes; we deliver them (a FIN after the reject).
      if (this.active) return reject(FTR.DUP_CONNECTION, 'already connected', true, true);
      if (f.mclt === undefined) return reject(FTR.INVALID_MCLT, 'no MCLT provided', true, true);
      link.send(
        FTM.CONNECTACK,
        {
          relationshipName: Buffer.from(cfg.name),
          maxUnackedBndupd: cfg.maxUnackedUpdates,
          receiveTimer: cfg.maxResponseDelay,
          vendorClassIdentifier: Buffer.from(VENDOR_CLASS),
          protocolVersion: 1,
          ...(f.tlsRequest !== undefined ? { tlsReply: 0 } : {}),
        },
        msg.xid,
      );
      this.goUp(link, {
        partnerMaxUnacked: f.maxUnackedBndupd ?? 0,
        partnerReceiveTimer: f.receiveTimer ?? 0,
        mclt: f.mclt,
        hba: f.hba,
        ...(f.vendorClassIdentifier ? { vendorClass: f.vendorClassIdentifier.toString('latin1') } : {}),
      });
      return;
    }
    // primary: expect CONNECTACK
    if (msg.type !== FTM.CONNECTACK) {
      this.log.debug(`failover: ${messageTypeName(msg.type)} before CONNECTACK ignored`);
      return;
    }
    const disconnect = (reason: number, text: string): void => {
      this.log.error(`Failover CONNECTACK from ${cfg.name}: ${text}`);
      link.send(FTM.DISCONNECT, { rejectReason: reason, message: text }, link.nextXid());
      link.end();
    };
    const name = f.relationshipName;
    if (!name) return disconnect(FTR.INVALID_PARTNER, 'missing relationship-name');
    if (f.rejectReason !== undefined) {
      this.log.error(`Failover CONNECT to ${cfg.name} rejected: ${rejectReasonText(f.rejectReason)}`);
      link.end();
      return;
    }
    if (!name.equals(Buffer.from(cfg.name))) {
      return disconnect(FTR.INVALID_PARTNER, `remote failover relationship name ${name.toString('latin1')} does not match`);
    }
    if (this.active) return disconnect(FTR.DUP_CONNECTION, 'already connected');
    if (Math.abs(this.now() - msg.time) > TIME_SKEW_LIMIT) return disconnect(FTR.TIMEMISMATCH, 'time offset too large');
    this.goUp(link, {
      partnerMaxUnacked: f.maxUnackedBndupd ?? 0,
      partnerReceiveTimer: f.receiveTimer ?? 0,
      ...(f.vendorClassIdentifier ? { vendorClass: f.vendorClassIdentifier.toString('latin1') } : {}),
    });
  }

  private goUp(link: LinkSocket, params: LinkParams): void {
    this.active = link;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
    link.startUp(params.partnerReceiveTimer);
    this.handler.linkUp(params);
  }
}
