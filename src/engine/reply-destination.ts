/**
 * Where a reply goes: RFC 2131 §4.1, in the order ISC dhcpd 4.4's `dhcp_reply()` (server/dhcp.c),
 * `nak_lease()`, `dhcpinform()` and `bootp()` apply it. Pure: the caller supplies the facts.
 *
 * @module
 */
import { BROADCAST_FLAG } from '../wire/packet.js';

/** INADDR_LOOPBACK: ISC answers a "relay" at 127.0.0.1 on the client port (its testing hack). */
const LOOPBACK = 0x7f000001;

/** The kind of reply being routed; each has its own rule in ISC. */
export type ReplyKind = 'offer' | 'ack' | 'nak' | 'inform-ack' | 'bootreply';

/** What {@link replyDestination} needs to know. All addresses uint32. */
export interface ReplyFacts {
  readonly kind: ReplyKind;
  readonly giaddr: number;
  readonly ciaddr: number;
  readonly yiaddr: number;
  /** The reply's flags (the request's flags, plus the broadcast bit when `always-broadcast` set it). */
  readonly flags: number;
  /** The request carried a server identifier (option 54); ISC `got_server_identifier`. */
  readonly gotServerIdentifier?: boolean;
  /**
   * The shared network the request arrived on is the lease's (ISC compares `state->shared_network` with
   * `lease->subnet->shared_network`); default true.
   */
  readonly sameSharedNetwork?: boolean;
  /** The arrival interface can send a frame to chaddr without ARP (ISC `can_unicast_without_arp`). */
  readonly canUnicastWithoutArp: boolean;
  /** For DHCPINFORM without ciaddr and giaddr: the IP source address of the request. */
  readonly sourceAddress?: number;
  /** The relay asked to be answered on its own port (RFC 8357 relay-port sub-option); its source port. */
  readonly relayPort?: number;
  /** The server's port (67 unless `-p`); a reply to a relay goes to it (ISC `local_port`). */
  readonly serverPort?: number;
  /** The client port (68 unless `-p`+1); ISC `remote_port`. */
  readonly clientPort?: number;
}

/**
 * A routing decision without the payload. The server turns it into an
 * {@link import('../net/transport.js').OutboundDatagram} on the arrival interface.
 */
export type ReplyRoute =
  | { readonly kind: 'relay'; readonly address: number; readonly port: number }
  | { readonly kind: 'unicast'; readonly address: number; readonly port: number }
  | { readonly kind: 'broadcast'; readonly port: number }
  | { readonly kind: 'link-layer'; readonly address: number; readonly port: number };

/** The route and the flags the reply must carry (NAK and relayed INFORM set the broadcast bit). */
export interface ReplyDecision {
  readonly route: ReplyRoute;
  readonly flags: number;
}

/**
 * Chooses the destination of a reply as ISC does:
 * - giaddr set → the relay, on the server port (RFC 2131 §4.1 ¶2). A NAK also sets the broadcast bit
 *   ("the server MUST set the broadcast bit in the DHCPNAK"); a relayed INFORM without ciaddr too.
 * - NAK without giaddr → broadcast (§4.1: "In all cases, when 'giaddr' is zero, the server broadcasts
 *   any DHCPNAK messages to 0xffffffff").
 * - INFORM → unicast to ciaddr, or to the IP source address when ciaddr is 0 (ISC dhcpinform()).
 * - ACK with ciaddr, unless (the client sent a server identifier or asked for broadcast) on its own
 *   shared network → unicast to ciaddr (RENEWING/REBINDING).
 * - broadcast bit clear and the interface can unicast without ARP → link-layer unicast to yiaddr at chaddr.
 * - otherwise broadcast.
 */
export function replyDestination(f: ReplyFacts): ReplyDecision {
  const serverPort = f.serverPort ?? 67;
  const clientPort = f.clientPort ?? 68;
  const broadcastBit = (f.flags & BROADCAST_FLAG) !== 0;
  const toRelay = (flags: number): ReplyDecision => ({
    route: {
      kind: 'relay',
      address: f.giaddr >>> 0,
      port: f.giaddr >>> 0 === LOOPBACK ? clientPort : (f.relayPort ?? serverPort),
    },
    flags,
  });

  switch (f.kind) {
    case 'nak':
      // ISC nak_lease(): flags |= BOOTP_BROADCAST, then giaddr or limited broadcast.
      if (f.giaddr !== 0) return toRelay(f.flags | BROADCAST_FLAG);
      return { route: { kind: 'broadcast', port: clientPort }, flags: f.flags | BROADCAST_FLAG };
    case 'inform-ack':
      if (f.ciaddr === 0 && f.giaddr !== 0) return toRelay(f.flags | BROADCAST_FLAG);
      return {
        route: { kind: 'unicast', address: (f.ciaddr !== 0 ? f.ciaddr : (f.sourceAddress ?? 0)) >>> 0, port: clientPort },
        flags: f.flags,
      };
    case 'bootreply':
      // ISC bootp(): relay, else unicast-without-ARP, else broadcast (no ciaddr rule).
      if (f.giaddr !== 0) return { route: { kind: 'relay', address: f.giaddr >>> 0, port: serverPort }, flags: f.flags };
      break;
    case 'offer':
    case 'ack':
      if (f.giaddr !== 0) return toRelay(f.flags);
      if (
        f.kind === 'ack' &&
        f.ciaddr !== 0 &&
        !((f.gotServerIdentifier === true || broadcastBit) && (f.sameSharedNetwork ?? true))
      ) {
        return { route: { kind: 'unicast', address: f.ciaddr >>> 0, port: clientPort }, flags: f.flags };
      }
      break;
  }
  if (!broadcastBit && f.canUnicastWithoutArp) {
    return { route: { kind: 'link-layer', address: f.yiaddr >>> 0, port: clientPort }, flags: f.flags };
  }
  return { route: { kind: 'broadcast', port: clientPort }, flags: f.flags };
}
