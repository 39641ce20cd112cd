/**
 * The real {@link Transport} on Linux, over the dhcpsock addon (STACK.md §1.6):
 *
 * - receive: one UDP socket on 0.0.0.0:67 with IP_PKTINFO; a datagram whose arrival ifindex is not in the
 *   serving set is dropped here (counted, optionally reported), as ISC ignores interfaces it does not serve;
 * - relay and ciaddr replies: ordinary sends from the same port-67 socket (routed by the kernel);
 * - broadcast: an IPv4/UDP datagram to 255.255.255.255 built here and sent with AF_PACKET to
 *   ff:ff:ff:ff:ff:ff on the chosen interface, exactly as ISC's LPF path sends it (TOS 0x10, TTL 128, id 0,
 *   no DF; checked against ISC dhcpd 4.4.3 in test/integration/net-reply.test.ts). Interfaces without a
 *   MAC address (or `broadcastVia: 'socket'`) use sendmsg with IP_PKTINFO naming the interface and source
 *   address instead; either way it leaves through that interface only;
 * - link-layer unicast: an IPv4/UDP datagram built here, sent with AF_PACKET to chaddr (no ARP, no
 *   neighbour entry; the same frame ISC's LPF path sends).
 *
 * Relay and ciaddr replies are kernel-built, as ISC sends those through its "fallback" UDP socket.
 */
import { isErrnoError, loadAddon, type DhcpSockAddon, type ErrnoError, type NativePacketSocket, type NativeUdpSocket } from '../native/index.js';
import { listInterfaces } from './interfaces.js';
import { formatIpv4, toMac, toUint32 } from './ipv4-address.js';
import { buildIpv4Udp } from '../wire/ipv4-udp.js';
import {
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  type InboundDatagram,
  type NetInterface,
  type OutboundDatagram,
  type Transport,
  type TransportError,
} from './transport.js';

const LIMITED_BROADCAST = 0xffffffff;
const BROADCAST_MAC = Buffer.alloc(6, 0xff);
/** Default receive buffer: about 3,000 queued 300-octet requests (each costs ~1.2 KiB of skb truesize), so
 * that a flood does not crowd REQUESTs out of the kernel queue while a turn runs (see load-shedding). */
const DEFAULT_RECEIVE_BUFFER = 4 << 20;
/** How long a reply may wait for socket buffer space before the send fails. */
const SEND_RETRY_LIMIT_MS = 250;

/** A full send buffer: worth retrying shortly. */
function isTransient(e: unknown): boolean {
  return isErrnoError(e) && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK' || e.code === 'ENOBUFS');
}

/** Options of {@link LinuxTransport}. */
export interface LinuxTransportOptions {
  /**
   * Names of the interfaces to serve (the engine's choice: the command line's, or those with a subnet
   * declaration). Datagrams arriving elsewhere are dropped. Must not be empty.
   */
  readonly interfaces: readonly string[];
  /** Server port (default 67; dhcpd `-p`). */
  readonly port?: number;
  /** Client port used as default destination of non-relay replies (default 68). */
  readonly clientPort?: number;
  /** Local address to bind (default 0.0.0.0; anything else does not receive broadcasts). */
  readonly bindAddress?: string;
  /**
   * Bind the socket to this one device (SO_BINDTODEVICE), for hosts where another daemon serves DHCP on
   * other interfaces so a wildcard socket would collide. Only valid with a single served interface.
   */
  readonly bindToDevice?: string;
  /**
   * Receive buffer in bytes (default 1 MiB): the kernel queues bursts there while JS is busy. 0 keeps the
   * kernel default (net.core.rmem_default, about 208 KiB).
   */
  readonly receiveBufferSize?: number;
  /**
   * How broadcasts are sent: 'packet' (default) builds the frame like ISC's LPF path and sends it with
   * AF_PACKET; 'socket' uses the UDP socket with IP_PKTINFO (kernel-built headers). Interfaces without a
   * MAC address always use 'socket'.
   */
  readonly broadcastVia?: 'packet' | 'socket';
  /** Called for each datagram dropped because its interface is not served (for debug logging). */
  readonly onIgnored?: (datagram: InboundDatagram) => void;
  /** The addon (for tests); default {@link loadAddon}(). */
  readonly addon?: DhcpSockAddon;
}

/** An error thrown by {@link LinuxTransport.start} when a served interface does not exist. */
export class InterfaceNotFoundError extends Error {
  readonly code = 'ENODEV';
  constructor(readonly interfaceName: string) {
    super(`interface ${interfaceName} not found`);
    this.name = 'InterfaceNotFoundError';
  }
}

/** Counters for monitoring and tests. */
export interface TransportCounters {
  received: number;
  ignored: number;
  receiveErrors: number;
  sent: number;
  sendErrors: number;
}

/**
 * An inbound datagram as the addon delivers it: the dotted-quad strings are made only when read (under a
 * flood every datagram is read from the kernel, most are shed unanswered, and none needs its strings).
 */
class ReceivedDatagram implements InboundDatagram {
  private source: string | undefined;
  private destination: string | undefined;
  constructor(
    readonly data: Buffer,
    readonly ifindex: number,
    readonly ifname: string,
    readonly sourceAddressValue: number,
    readonly sourcePort: number,
    private readonly destinationValue: number,
    readonly receivedAt: number,
  ) {}
  get sourceAddress(): string {
    return (this.source ??= formatIpv4(this.sourceAddressValue));
  }
  get destinationAddress(): string {
    return (this.destination ??= formatIpv4(this.destinationValue));
  }
  /** Plain-object form (JSON, structured clone and spreads see the addresses as fields). */
  toJSON(): Omit<InboundDatagram, 'data'> & { data: Buffer } {
    return {
      data: this.data,
      ifindex: this.ifindex,
      ifname: this.ifname,
      sourceAddress: this.sourceAddress,
      sourcePort: this.sourcePort,
      destinationAddress: this.destinationAddress,
      sourceAddressValue: this.sourceAddressValue,
      receivedAt: this.receivedAt,
    };
  }
}

/** {@link Transport} over the dhcpsock addon. */
export class LinuxTransport implements Transport {
  /** Running counts (never reset). */
  readonly counters: TransportCounters = { received: 0, ignored: 0, receiveErrors: 0, sent: 0, sendErrors: 0 };
  private readonly options: LinuxTransportOptions;
  private udp: NativeUdpSocket | undefined;
  private packet: NativePacketSocket | undefined;
  private served = new Map<number, NetInterface>();
  private closed = false;
  /** Sends waiting for buffer space, in order (see {@link send}). */
  private backlog: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(options: LinuxTransportOptions) {
    if (options.interfaces.length === 0) throw new Error('LinuxTransport: no interfaces to serve');
    if (options.bindToDevice !== undefined && options.interfaces.length !== 1) {
      throw new Error('LinuxTransport: bindToDevice needs exactly one served interface');
    }
    this.options = options;
  }

  /** The local port actually bound (after start). */
  get localPort(): number {
    if (!this.udp) throw new Error('transport not started');
    return this.udp.localPort();
  }

  async start(onDatagram: (d: InboundDatagram) => void, onError?: (e: TransportError) => void): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    if (this.udp) throw new Error('transport already started');
    const addon = this.options.addon ?? loadAddon();
    this.refreshInterfaces();
    const udp = new addon.UdpSocket(
      this.options.port ?? DHCP_SERVER_PORT,
      toUint32(this.options.bindAddress ?? '0.0.0.0'),
      this.options.bindToDevice,
      this.options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER,
    );
    let packet: NativePacketSocket;
    try {
      packet = new addon.PacketSocket();
    } catch (e) {
      udp.close();
      throw e;
    }
    this.udp = udp;
    this.packet = packet;
    udp.start(
      (data, ifindex, src, srcPort, dst, arrivedMs) => {
        const iface = this.served.get(ifindex);
        const receivedAt = arrivedMs !== undefined && arrivedMs > 0 ? arrivedMs : Date.now();
        if (!iface) {
          this.counters.ignored++;
          const ignored = new ReceivedDatagram(data, ifindex, addon.interfaceName(ifindex) ?? '', src, srcPort, dst, receivedAt);
          if (this.options.onIgnored) this.safe(() => this.options.onIgnored!(ignored), onError);
          return;
        }
        this.counters.received++;
        const d = new ReceivedDatagram(data, ifindex, iface.name, src, srcPort, dst, receivedAt);
        try {
          onDatagram(d);
        } catch (e) {
          if (onError) onError(e instanceof Error ? e : new Error(String(e)));
          else throw e;
        }
      },
      (e: ErrnoError) => {
        this.counters.receiveErrors++;
        if (onError) this.safe(() => onError(e), undefined);
      },
    );
  }

  /** Calls `fn`; an exception from engine code is reported to `onError` instead of killing the loop. */
  private safe(fn: () => void, onError: ((e: TransportError) => void) | undefined): void {
    try {
      fn();
    } catch (e) {
      if (onError) onError(e instanceof Error ? e : new Error(String(e)));
      else throw e;
    }
  }

  /**
   * Re-reads the interfaces (names → ifindex) of the serving set; call after interfaces were recreated.
   * Throws {@link InterfaceNotFoundError} for a served name that does not exist.
   */
  refreshInterfaces(): void {
    const all = listInterfaces();
    const served = new Map<number, NetInterface>();
    for (const name of this.options.interfaces) {
      const i = all.find((x) => x.name === name);
      if (!i) throw new InterfaceNotFoundError(name);
      served.set(i.ifindex, i);
    }
    this.served = served;
  }

  servedInterfaces(): readonly NetInterface[] {
    return [...this.served.values()];
  }

  async send(d: OutboundDatagram): Promise<void> {
    const waiting = this.trySend(d);
    if (waiting !== undefined) await waiting;
  }

  trySend(d: OutboundDatagram): Promise<void> | undefined {
    // Keep replies in order: while an earlier send waits for buffer space, later ones queue behind it.
    if (this.queued === 0) {
      try {
        this.sendNow(d);
        this.counters.sent++;
        return undefined;
      } catch (e) {
        if (!isTransient(e)) {
          this.counters.sendErrors++;
          throw e;
        }
      }
    }
    return this.sendLater(d);
  }

  /** Queues `d` behind the sends waiting for buffer space. */
  private sendLater(d: OutboundDatagram): Promise<void> {
    this.queued++;
    const previous = this.backlog;
    const mine = (async () => {
      try {
        await previous;
        await this.sendWithRetry(d);
        this.counters.sent++;
      } catch (e) {
        this.counters.sendErrors++;
        throw e;
      } finally {
        if (--this.queued === 0) this.backlog = Promise.resolve();
      }
    })();
    this.backlog = mine.catch(() => undefined);
    return mine;
  }

  /** Retries a send that met a full socket buffer (EAGAIN/ENOBUFS), backing off up to ~250 ms in total. */
  private async sendWithRetry(d: OutboundDatagram): Promise<void> {
    const deadline = Date.now() + SEND_RETRY_LIMIT_MS;
    let wait = 1;
    for (;;) {
      try {
        this.sendNow(d);
        return;
      } catch (e) {
        if (!isTransient(e) || Date.now() + wait > deadline) throw e;
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 32);
    }
  }

  /** One synchronous send attempt; throws ErrnoError/TypeError. */
  private sendNow(d: OutboundDatagram): void {
    const udp = this.udp;
    const packet = this.packet;
    if (!udp || !packet || this.closed) {
      throw Object.assign(new Error('send on a transport that is not started'), { code: 'EBADF' });
    }
    const clientPort = this.options.clientPort ?? DHCP_CLIENT_PORT;
    // Throws ErrnoError from the kernel (ENETUNREACH, EMSGSIZE, …) or TypeError for a bad address.
    switch (d.kind) {
      case 'relay':
        udp.send(d.data, toUint32(d.giaddr), d.port ?? this.options.port ?? DHCP_SERVER_PORT);
        break;
      case 'unicast':
        udp.send(d.data, toUint32(d.ciaddr), d.port ?? clientPort);
        break;
      case 'broadcast': {
        const iface = this.served.get(d.ifindex);
        if (this.options.broadcastVia !== 'socket' && iface?.mac !== undefined) {
          const datagram = buildIpv4Udp(
            {
              source: toUint32(d.sourceAddress),
              destination: LIMITED_BROADCAST,
              sourcePort: this.options.port ?? DHCP_SERVER_PORT,
              destinationPort: d.port ?? clientPort,
            },
            d.data,
          );
          packet.send(d.ifindex, BROADCAST_MAC, datagram);
        } else {
          udp.send(d.data, LIMITED_BROADCAST, d.port ?? clientPort, d.ifindex, toUint32(d.sourceAddress));
        }
        break;
      }
      case 'link-layer': {
        // Header values as ISC's LPF path (TOS 0x10, TTL 128, id 0): src/wire/ipv4-udp.ts.
        const datagram = buildIpv4Udp(
          {
            source: toUint32(d.sourceAddress),
            destination: toUint32(d.yiaddr),
            sourcePort: d.sourcePort ?? this.options.port ?? DHCP_SERVER_PORT,
            destinationPort: d.port ?? clientPort,
          },
          d.data,
        );
        packet.send(d.ifindex, toMac(d.chaddr), datagram);
        break;
      }
      default: {
        const never: never = d;
        throw new TypeError(`unknown destination kind ${JSON.stringify(never)}`);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.udp?.close();
    this.packet?.close();
  }
}
