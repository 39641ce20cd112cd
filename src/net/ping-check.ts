/**
 * ISC dhcpd's `ping-check`: before offering an address that is not already bound to the client, send one
 * ICMP echo request to it and wait `ping-timeout` seconds (default 1). An echo reply means someone uses the
 * address (ISC then abandons the lease and logs "Abandoning IP address X: pinged before offer"); silence
 * means it is free. (dhcpd.conf(5), "ping-check" and "ping-timeout"; server/dhcp.c.)
 *
 * Like ISC, any echo reply from the address counts, whatever its identifier: it proves the address is alive.
 * One raw ICMP socket (opened on first use) serves every concurrent check.
 */
import { loadAddon, type DhcpSockAddon, type NativeIcmpSocket } from '../native/index.js';
import { formatIpv4, toUint32 } from './ipv4-address.js';
import { onesComplementSum } from '../wire/ipv4-udp.js';
import type { Ipv4 } from './transport.js';

/** Outcome of a ping check. */
export type PingResult = 'in-use' | 'free';

/** ISC's default ping-timeout, in seconds. */
export const DEFAULT_PING_TIMEOUT_SECONDS = 1;

const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;

/** Builds an ICMP echo request (RFC 792) with checksum. */
export function buildEchoRequest(identifier: number, sequence: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b[0] = ICMP_ECHO_REQUEST;
  b[1] = 0;
  b.writeUInt16BE(identifier & 0xffff, 4);
  b.writeUInt16BE(sequence & 0xffff, 6);
  payload.copy(b, 8);
  b.writeUInt16BE(~onesComplementSum(b, 0, b.length) & 0xffff, 2); // RFC 792 checksum
  return b;
}

/** If `ipDatagram` (IP header included) is an ICMP echo reply, its identifier and sequence. */
export function parseEchoReply(ipDatagram: Buffer): { identifier: number; sequence: number } | undefined {
  if (ipDatagram.length < 20 || ipDatagram[0]! >> 4 !== 4) return undefined;
  const ihl = (ipDatagram[0]! & 0x0f) * 4;
  if (ihl < 20 || ipDatagram.length < ihl + 8 || ipDatagram[9] !== 1) return undefined;
  if (ipDatagram[ihl] !== ICMP_ECHO_REPLY) return undefined;
  return { identifier: ipDatagram.readUInt16BE(ihl + 4), sequence: ipDatagram.readUInt16BE(ihl + 6) };
}

/** Options of {@link PingChecker}. */
export interface PingCheckerOptions {
  /** The addon (for tests); default {@link loadAddon}(). */
  readonly addon?: DhcpSockAddon;
}

interface Pending {
  resolve: (r: PingResult) => void;
  timer: NodeJS.Timeout;
}

/** Runs ping checks; share one per server. */
export class PingChecker {
  private socket: NativeIcmpSocket | undefined;
  private readonly pending = new Map<number, Set<Pending>>();
  private sequence = 0;
  private readonly identifier = process.pid & 0xffff;
  private closed = false;

  constructor(private readonly options: PingCheckerOptions = {}) {}

  /**
   * Opens the raw ICMP socket now (idempotent). Call it at start-up, before dropping privileges with
   * `-user`/`-group`: a raw socket needs CAP_NET_RAW (ISC also opens its ICMP socket before it drops them).
   * Otherwise it is opened by the first {@link check}.
   */
  open(): void {
    this.socketOrOpen();
  }

  private socketOrOpen(): NativeIcmpSocket {
    if (this.closed) throw new Error('ping checker closed');
    if (this.socket) return this.socket;
    const addon = this.options.addon ?? loadAddon();
    const s = new addon.IcmpSocket();
    s.start(
      (datagram, source) => {
        if (!parseEchoReply(datagram)) return;
        const waiting = this.pending.get(source);
        if (!waiting) return;
        this.pending.delete(source);
        for (const p of waiting) {
          clearTimeout(p.timer);
          p.resolve('in-use');
        }
      },
      () => {
        /* a receive error loses at most a reply; the check then times out as "free", as in ISC */
      },
    );
    // Pending timers keep the process alive while a check runs; the socket itself must not.
    s.setRef(false);
    this.socket = s;
    return s;
  }

  /**
   * Sends one echo request to `address` and resolves "in-use" on an echo reply from it, "free" after
   * `timeoutMs` (default 1000, ISC's ping-timeout of 1 s). Rejects with an ErrnoError when the request
   * cannot be sent at all (e.g. ENETUNREACH; ISC then treats the address as free, the caller decides).
   */
  check(address: Ipv4, timeoutMs = DEFAULT_PING_TIMEOUT_SECONDS * 1000): Promise<PingResult> {
    if (this.closed) return Promise.reject(new Error('ping checker closed'));
    let addr: number;
    let socket: NativeIcmpSocket;
    try {
      addr = toUint32(address);
      socket = this.socketOrOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<PingResult>((resolve, reject) => {
      const entry: Pending = {
        resolve,
        timer: setTimeout(() => {
          const set = this.pending.get(addr);
          set?.delete(entry);
          if (set && set.size === 0) this.pending.delete(addr);
          resolve('free');
        }, timeoutMs),
      };
      const set = this.pending.get(addr) ?? new Set<Pending>();
      set.add(entry);
      this.pending.set(addr, set);
      try {
        this.sequence = (this.sequence + 1) & 0xffff;
        socket.send(buildEchoRequest(this.identifier, this.sequence, Buffer.from(`dhcpd-ts ${formatIpv4(addr)}`)), addr);
      } catch (e) {
        clearTimeout(entry.timer);
        set.delete(entry);
        if (set.size === 0) this.pending.delete(addr);
        reject(e);
      }
    });
  }

  /** Closes the socket; pending checks resolve "free" at once. */
  close(): void {
    this.closed = true;
    for (const set of this.pending.values()) {
      for (const p of set) {
        clearTimeout(p.timer);
        p.resolve('free');
      }
    }
    this.pending.clear();
    this.socket?.close();
    this.socket = undefined;
  }
}

/** One-shot convenience: a {@link PingChecker} per call. Prefer a shared checker in the server. */
export async function pingCheck(address: Ipv4, timeoutMs = DEFAULT_PING_TIMEOUT_SECONDS * 1000): Promise<PingResult> {
  const c = new PingChecker();
  try {
    return await c.check(address, timeoutMs);
  } finally {
    c.close();
  }
}
