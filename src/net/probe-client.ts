/**
 * `dhcpd-ts probe`: ask a DHCP server one question the way a relay agent would, and wait for its answer.
 *
 * The probe sends a DHCPDISCOVER (or DHCPREQUEST) with giaddr set to one of this host's addresses, from
 * port 67 to the server's port 67, and waits for the BOOTREPLY with the same xid, which RFC 2131 §4.1 sends
 * to giaddr:67. Because replies go to giaddr, it works across routers and needs no broadcast, no raw socket
 * and no client port: a plain UDP socket suffices, so node:dgram through `dgram-as-promised` is used here.
 *
 * Why dgram-as-promised is sound here and not for the server (STACK.md §1.7): it listens for 'message' only
 * while a `recv()` is pending, so datagrams that arrive while the caller is busy are lost. A probe has at
 * most one exchange in flight, and the `recv()` is started *before* the request is sent and re-armed
 * synchronously after each stray datagram, so no reply can fall into the gap. Two quirks are worked around:
 * a recv timeout leaves a stale TimeoutError that fails the socket's next operation (so every attempt uses
 * a fresh socket), and `getSendBufferSize()` recurses forever (never called).
 */
import DgramAsPromised, { TimeoutError, type SocketAsPromised } from 'dgram-as-promised';
import { randomBytes } from 'node:crypto';
import { decodePacket } from '../wire/decode.js';
import { encodePacket } from '../wire/encode.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DHCPDISCOVER,
  DHCPREQUEST,
  DhcpOption,
  HTYPE_ETHER,
  emptyPacket,
  ipv4ToBytes,
  messageType,
  type DhcpPacket,
} from '../wire/packet.js';
import { formatIpv4, toMac, toUint32 } from './ipv4-address.js';
import { DHCP_SERVER_PORT, type Ipv4 } from './transport.js';

/** What to ask. */
export interface ProbeOptions {
  /** The DHCP server to ask. */
  readonly server: Ipv4;
  /** Its port (default 67). */
  readonly serverPort?: number;
  /**
   * The relay address to claim (giaddr). It must be an address of this host: the server answers to it.
   * It also selects the subnet the server allocates from.
   */
  readonly giaddr: Ipv4;
  /** Local port to send from and receive on (default 67, where servers send relay replies). */
  readonly localPort?: number;
  /** The client hardware address to ask for (Ethernet). */
  readonly chaddr: Buffer | string;
  /** DHCPDISCOVER (default) or DHCPREQUEST. */
  readonly messageType?: 'discover' | 'request';
  /** Option 50 (for a REQUEST in SELECTING state: the offered address). */
  readonly requestedAddress?: Ipv4;
  /** Option 54 (for a REQUEST in SELECTING state: the server that made the offer). */
  readonly serverIdentifier?: Ipv4;
  /** Transaction id (default random). */
  readonly xid?: number;
  /** Extra options (code → raw value), e.g. 61 client identifier or 82 agent information. */
  readonly options?: ReadonlyMap<number, Buffer>;
  /** How long to wait for the reply of one attempt, in ms (default 2000). */
  readonly timeoutMs?: number;
  /** Attempts before giving up (default 1). */
  readonly attempts?: number;
}

/** The answer. */
export interface ProbeResult {
  /** The decoded reply. */
  readonly reply: DhcpPacket;
  /** Its DHCP message type (2 = OFFER, 5 = ACK, 6 = NAK). */
  readonly messageType: number;
  /** The reply's offered/assigned address, dotted. */
  readonly yiaddr: string;
  /** Who sent it. */
  readonly from: { readonly address: string; readonly port: number };
  /** Milliseconds from sending the request to receiving the reply. */
  readonly elapsedMs: number;
  /** Attempt number that got the answer (1-based). */
  readonly attempt: number;
}

/** Thrown when no matching reply came in time. */
export class ProbeTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly attempts: number, readonly timeoutMs: number) {
    super(`no reply after ${attempts} attempt(s) of ${timeoutMs} ms`);
    this.name = 'ProbeTimeoutError';
  }
}

/** Builds the request a relay would forward (hops 1, giaddr set, broadcast flag clear). */
export function buildProbeRequest(o: ProbeOptions, xid: number): Buffer {
  const p = emptyPacket();
  p.op = BOOTREQUEST;
  p.htype = HTYPE_ETHER;
  p.hlen = 6;
  p.hops = 1;
  p.xid = xid >>> 0;
  p.giaddr = toUint32(o.giaddr);
  const chaddr = Buffer.alloc(16);
  toMac(o.chaddr).copy(chaddr);
  p.chaddr = chaddr;
  const type = o.messageType === 'request' ? DHCPREQUEST : DHCPDISCOVER;
  p.options.set(DhcpOption.MESSAGE_TYPE, Buffer.from([type]));
  if (o.requestedAddress !== undefined) p.options.set(DhcpOption.REQUESTED_ADDRESS, ipv4ToBytes(toUint32(o.requestedAddress)));
  if (o.serverIdentifier !== undefined) p.options.set(DhcpOption.SERVER_IDENTIFIER, ipv4ToBytes(toUint32(o.serverIdentifier)));
  for (const [code, value] of o.options ?? []) p.options.set(code, value);
  return encodePacket(p);
}

async function attemptOnce(o: ProbeOptions, xid: number, timeoutMs: number, attempt: number): Promise<ProbeResult | undefined> {
  const socket: SocketAsPromised = DgramAsPromised.createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await socket.bind(o.localPort ?? DHCP_SERVER_PORT, formatIpv4(toUint32(o.giaddr)));
    const request = buildProbeRequest(o, xid);
    const deadline = Date.now() + timeoutMs;
    socket.setTimeout(timeoutMs);
    // Arm the receive before sending: dgram-as-promised drops what arrives while no recv() is pending.
    let pending = socket.recv();
    const sentAt = Date.now();
    await socket.send(request, o.serverPort ?? DHCP_SERVER_PORT, formatIpv4(toUint32(o.server)));
    for (;;) {
      let incoming;
      try {
        incoming = await pending;
      } catch (e) {
        if (e instanceof TimeoutError) return undefined;
        throw e;
      }
      if (!incoming) return undefined; // socket closed
      const decoded = decodePacket(incoming.msg);
      if (decoded.ok && decoded.packet.op === BOOTREPLY && decoded.packet.xid === xid >>> 0) {
        return {
          reply: decoded.packet,
          messageType: messageType(decoded.packet),
          yiaddr: formatIpv4(decoded.packet.yiaddr),
          from: { address: incoming.rinfo.address, port: incoming.rinfo.port },
          elapsedMs: Date.now() - sentAt,
          attempt,
        };
      }
      // A stray datagram (another exchange, garbage): wait for the rest of this attempt's time.
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      socket.setTimeout(remaining);
      pending = socket.recv();
    }
  } finally {
    // A timed-out recv leaves the socket in an error state; always start the next attempt afresh.
    await socket.close().catch(() => undefined);
  }
}

/**
 * Sends one relay-style DHCP request and resolves with the server's reply.
 * @throws {@link ProbeTimeoutError} when no reply with the request's xid arrives in time;
 *   an Error with `code` (EADDRNOTAVAIL, EACCES, EADDRINUSE, …) when the socket cannot be bound.
 */
export async function probe(o: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const attempts = Math.max(1, o.attempts ?? 1);
  const xid = o.xid ?? randomBytes(4).readUInt32BE(0);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const r = await attemptOnce(o, xid, timeoutMs, attempt);
    if (r) return r;
  }
  throw new ProbeTimeoutError(attempts, timeoutMs);
}
