/**
 * The boundary between the DHCP engine and the network (CONTRACT: add, don't rename).
 *
 * A {@link Transport} delivers every DHCP datagram that arrived on the server port together with the
 * interface it came in on, and sends replies to one of the four destinations of RFC 2131 §4.1 as ISC dhcpd's
 * `dhcp_reply()` chooses them (the choice itself is the engine's; the transport only carries it out):
 *
 * 1. giaddr set → {@link RelayDestination}: UDP to giaddr:67 from port 67;
 * 2. ciaddr set (RENEWING/REBINDING/INFORM) → {@link UnicastDestination}: UDP to ciaddr:68, routed normally;
 * 3. broadcast flag set, or no usable chaddr → {@link BroadcastDestination}: 255.255.255.255:68 out the
 *    arrival interface with the server's address as source;
 * 4. otherwise → {@link LinkLayerDestination}: an IPv4/UDP datagram to yiaddr:68 in a frame addressed to
 *    chaddr, without ARP (the client has no address yet, so it could not answer ARP), leaving no neighbour
 *    entry behind (ISC's LPF path does the same).
 *
 * Inbound addresses are dotted-quad strings. Outbound addresses are {@link Ipv4}: a dotted quad or a uint32
 * (the wire codec's representation). MAC addresses are 6-byte buffers or "aa:bb:cc:dd:ee:ff" strings.
 */

/** An IPv4 address: dotted quad ("10.0.0.1") or unsigned 32-bit integer in host order (0x0a000001). */
export type Ipv4 = string | number;

/** The well-known ports (RFC 2131 §4.1). */
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/** A datagram received on the server port. */
export interface InboundDatagram {
  /** The UDP payload (a DHCP message, not yet decoded). */
  readonly data: Buffer;
  /** Index of the interface it arrived on (IP_PKTINFO ipi_ifindex). */
  readonly ifindex: number;
  /** Name of that interface ("" if it vanished before the name could be looked up). */
  readonly ifname: string;
  /** IP source address of the sender (0.0.0.0 for a client without an address). */
  readonly sourceAddress: string;
  /** UDP source port of the sender (68 for clients, 67 for relays). */
  readonly sourcePort: number;
  /**
   * The IP header's destination address (IP_PKTINFO ipi_addr): 255.255.255.255 for broadcasts, one of our
   * addresses for unicasts from relays and renewing clients.
   */
  readonly destinationAddress: string;
  /** {@link sourceAddress} as a uint32 in host order, when the transport has it (saves a parse per packet). */
  readonly sourceAddressValue?: number;
  /**
   * When the datagram arrived, in ms since the epoch: the kernel's receive timestamp (SO_TIMESTAMPNS) when
   * available, else the time the transport read it. The server sheds requests that waited too long.
   */
  readonly receivedAt?: number;
}

/** Fields every outbound datagram has. */
interface OutboundBase {
  /** The UDP payload (an encoded DHCP message). */
  readonly data: Buffer;
}

/** RFC 2131 §4.1: a reply to a relay agent goes to giaddr on the server port, from the server port. */
export interface RelayDestination extends OutboundBase {
  readonly kind: 'relay';
  /** The relay's address (the request's giaddr). */
  readonly giaddr: Ipv4;
  /** Destination port; default 67 (ISC uses its own local port; `-p` changes both). */
  readonly port?: number;
}

/** RFC 2131 §4.1: a client that has an address (ciaddr) gets a normal routed unicast to port 68. */
export interface UnicastDestination extends OutboundBase {
  readonly kind: 'unicast';
  /** The client's address (the request's ciaddr). */
  readonly ciaddr: Ipv4;
  /** Destination port; default 68. */
  readonly port?: number;
}

/** RFC 2131 §4.1: a broadcast to 255.255.255.255:68 out exactly one interface. */
export interface BroadcastDestination extends OutboundBase {
  readonly kind: 'broadcast';
  /** The interface to send it out of (normally the arrival interface). */
  readonly ifindex: number;
  /** The IP source address to use (the server identifier on that interface). */
  readonly sourceAddress: Ipv4;
  /** Destination port; default 68. */
  readonly port?: number;
}

/**
 * RFC 2131 §4.1: "unicasts DHCPOFFER and DHCPACK messages to the client's hardware address and 'yiaddr'
 * address". The frame goes to `chaddr` on `ifindex`; no ARP resolution, no neighbour entry.
 */
export interface LinkLayerDestination extends OutboundBase {
  readonly kind: 'link-layer';
  /** The interface to send it out of (the arrival interface). */
  readonly ifindex: number;
  /** IP source address (the server identifier on that interface). */
  readonly sourceAddress: Ipv4;
  /** The address being offered/acknowledged (IP destination). */
  readonly yiaddr: Ipv4;
  /** The client's hardware address (Ethernet, 6 bytes) to address the frame to. */
  readonly chaddr: Buffer | string;
  /** Destination port; default 68. */
  readonly port?: number;
  /** Source port; default 67. */
  readonly sourcePort?: number;
}

/** Where and how to send a reply. */
export type OutboundDatagram = RelayDestination | UnicastDestination | BroadcastDestination | LinkLayerDestination;

/** The kinds of {@link OutboundDatagram}. */
export type OutboundKind = OutboundDatagram['kind'];

/** An IPv4 address configured on an interface. */
export interface InterfaceAddress {
  /** Dotted quad. */
  readonly address: string;
  /** Prefix length (e.g. 24). */
  readonly prefixLength: number;
}

/** What the engine may know about a local interface. */
export interface NetInterface {
  readonly name: string;
  readonly ifindex: number;
  /** IPv4 addresses in the kernel's order (the first is the primary one ISC uses as server identifier). */
  readonly addresses: readonly InterfaceAddress[];
  /** "aa:bb:cc:dd:ee:ff", or undefined for interfaces without a link-layer address (loopback, tun). */
  readonly mac: string | undefined;
  readonly mtu: number;
  /** ARP hardware type from /sys/class/net/X/type (1 = Ethernet, 772 = loopback). */
  readonly hardwareType: number;
  /** The interface is administratively up (IFF_UP). */
  readonly up: boolean;
  /** IFF_LOOPBACK. */
  readonly loopback: boolean;
  /** IFF_BROADCAST: the link can broadcast (ISC skips interfaces that cannot). */
  readonly broadcast: boolean;
  /** IFF_POINTOPOINT. */
  readonly pointToPoint: boolean;
}

/** A non-fatal error on the receive path (a datagram could not be read). */
export interface TransportError extends Error {
  /** errno name such as "ENOBUFS", when the error came from a system call. */
  readonly code?: string;
}

/**
 * Receives DHCP datagrams and sends replies. Implementations: {@link ./linux-transport.js} (the real one)
 * and {@link ./fake-transport.js} (in memory, for engine tests).
 */
export interface Transport {
  /**
   * Opens the sockets and starts delivering datagrams. Datagrams that arrive on an interface outside the
   * serving set are dropped by the transport and never reach `onDatagram`. `onError` (optional) hears
   * receive-path errors that do not stop the transport.
   */
  start(onDatagram: (datagram: InboundDatagram) => void, onError?: (error: TransportError) => void): Promise<void>;
  /** Sends one datagram. Rejects with an Error whose `code` is the errno name when the kernel refuses it. */
  send(datagram: OutboundDatagram): Promise<void>;
  /**
   * Optional fast path of {@link send} without a Promise per datagram (a busy server sends two a DORA):
   * hands the datagram to the kernel now and returns undefined, or, when it has to wait (a full socket
   * buffer, or earlier datagrams still waiting), returns the Promise {@link send} would have returned.
   * Throws what {@link send} would reject with.
   */
  trySend?(datagram: OutboundDatagram): Promise<void> | undefined;
  /** Closes every socket; idempotent. After close no callback is made. */
  close(): Promise<void>;
  /** The interfaces being served (after start). */
  servedInterfaces(): readonly NetInterface[];
}
