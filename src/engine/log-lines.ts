/**
 * ISC dhcpd 4.4's exact log lines for the DHCPv4 server path (server/dhcp.c, server/bootp.c), so that
 * existing log tooling keeps working. Pure string builders; the engine decides when to log them.
 *
 * Common shape: `<WHAT> from <client> <(hostname) >via <relay-or-interface>` where
 * - <client> is the chaddr as `print_hw_addr` prints it when htype is non-zero, else the lease's client
 *   identifier (print_hex_1, limit 60) or `<no identifier>`;
 * - `(hostname) ` appears when the lease has a client hostname that is printable and at most 64 chars,
 *   otherwise `(Hostname Unsuitable for Printing) `;
 * - the relay is giaddr (dotted quad) when set, else the arrival interface's name.
 *
 * @module
 */
import { formatHardwareAddress, ipv4ToString } from '../wire/packet.js';

/** Who a line is about: the request's header fields and, when found, its lease's identity. */
export interface LogClient {
  readonly htype: number;
  readonly hlen: number;
  readonly chaddr: Uint8Array;
  readonly giaddr: number;
  /** The arrival interface's name. */
  readonly ifname: string;
  /** The lease's client hostname (ISC prints it only from a lease). */
  readonly hostname?: string;
  /** The lease's client identifier (printed when htype is 0). */
  readonly uid?: Uint8Array;
}

/** ISC print_hex_or_string: text in double quotes when all printable ASCII, else hex octets with ':'. */
export function printHex(data: Uint8Array, limit = 60): string {
  if (limit < 3) return '';
  let printable = true;
  for (let i = 0; i < limit - 3 && i < data.length; i++) {
    const c = data[i]!;
    if (c < 0x20 || c > 0x7e) {
      printable = false;
      break;
    }
  }
  if (printable) {
    const n = Math.min(data.length, limit - 3);
    return `"${Buffer.from(data.subarray(0, n)).toString('latin1')}"`;
  }
  // print_hex_only: empty when it would not fit (len * 3 > limit).
  if (data.length === 0 || data.length * 3 > limit) return '';
  return formatHardwareAddress(data);
}

/** ISC db_printable: every character printable ASCII (space included). */
function dbPrintable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** The client as ISC names it: MAC when htype is set, else the lease's uid, else `<no identifier>`. */
export function clientName(c: LogClient): string {
  if (c.htype !== 0) return formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16)));
  if (c.uid !== undefined) return printHex(c.uid, 60);
  return '<no identifier>';
}

/** `(hostname) ` or '' (note the trailing space, as in ISC's `%s%s%svia`). */
export function hostnamePart(hostname: string | undefined): string {
  if (hostname === undefined) return '';
  const s = hostname.length <= 64 && dbPrintable(hostname) ? hostname : 'Hostname Unsuitable for Printing';
  return `(${s}) `;
}

/** giaddr as a dotted quad when set, else the interface name. */
export function viaPart(c: { giaddr: number; ifname: string }): string {
  return c.giaddr !== 0 ? ipv4ToString(c.giaddr) : c.ifname;
}

/** `DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0` */
export function discoverLine(c: LogClient): string {
  return `DHCPDISCOVER from ${clientName(c)} ${hostnamePart(c.hostname)}via ${viaPart(c)}`;
}

/** `DHCPREQUEST for 192.168.102.160 (192.168.102.100) from 52:54:00:02:bf:f8 via eth0` */
export function requestLine(c: LogClient, requested: number, serverIdentifier: number | undefined): string {
  const sid = serverIdentifier !== undefined ? ` (${ipv4ToString(serverIdentifier)})` : '';
  return `DHCPREQUEST for ${ipv4ToString(requested)}${sid} from ${clientName(c)} ${hostnamePart(c.hostname)}via ${viaPart(c)}`;
}

/** `DHCPRELEASE of 10.0.0.5 from 52:54:… via eth0 (found)` / `(not found)`. */
export function releaseLine(c: LogClient, ciaddr: number, found: boolean): string {
  return `DHCPRELEASE of ${ipv4ToString(ciaddr)} from ${clientName(c)} ${hostnamePart(c.hostname)}via ${viaPart(c)} (${found ? '' : 'not '}found)`;
}

/** ISC's note when a RELEASE carries option 50 (logged before the release line). */
export function releaseWithRequestedAddressLine(c: LogClient): string {
  return `DHCPRELEASE from ${formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16)))} specified requested-address.`;
}

/** `DHCPDECLINE of 10.0.0.5 from 52:54:… via eth0` (followed by `: abandoned` / `: not found` / `: ignored`). */
export function declineLine(c: LogClient, address: number): string {
  return `DHCPDECLINE of ${ipv4ToString(address)} from ${clientName(c)} ${hostnamePart(c.hostname)}via ${viaPart(c)}`;
}

/** `DHCPINFORM from 10.0.0.5 via eth0` (address = ciaddr, or the source/relay address ISC falls back to). */
export function informLine(address: number, c: { giaddr: number; ifname: string }): string {
  return `DHCPINFORM from ${ipv4ToString(address)} via ${viaPart(c)}`;
}

/** `DHCPACK to 10.0.0.5 (52:54:…) via eth0` — the reply to an INFORM (via the relay when relayed without ciaddr). */
export function informAckLine(address: number, c: LogClient, viaRelay: boolean): string {
  const who = c.htype !== 0 && c.hlen !== 0 ? formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16))) : '<no client hardware address>';
  return `DHCPACK to ${ipv4ToString(address)} (${who}) via ${viaRelay ? ipv4ToString(c.giaddr) : c.ifname}`;
}

/** The kind of reply ISC's ack_lease() reports. */
export type ReplyWord = 'DHCPOFFER' | 'DHCPACK' | 'BOOTREPLY';

/**
 * `DHCPOFFER on 192.168.102.160 to 52:54:00:02:bf:f8 via eth0` (also DHCPACK / BOOTREPLY from ack_lease).
 * ISC prints the lease's hardware address here, or its uid when it has none.
 */
export function offerAckLine(
  word: ReplyWord,
  address: number,
  lease: { hardware?: { htype: number; address: Uint8Array }; uid?: Uint8Array; hostname?: string },
  via: { giaddr: number; ifname: string },
): string {
  const who =
    lease.hardware !== undefined && lease.hardware.address.length > 0
      ? formatHardwareAddress(lease.hardware.address)
      : printHex(lease.uid ?? new Uint8Array(0), 60);
  return `${word} on ${ipv4ToString(address)} to ${who} ${hostnamePart(lease.hostname)}via ${viaPart(via)}`;
}

/** `DHCPNAK on 10.0.0.5 to 52:54:… via eth0` (ISC nak_lease: no hostname part). */
export function nakLine(address: number, c: LogClient): string {
  return `DHCPNAK on ${ipv4ToString(address)} to ${formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16)))} via ${viaPart(c)}`;
}

/** `BOOTREQUEST from 52:54:… via eth0` (server/bootp.c). */
export function bootRequestLine(c: LogClient): string {
  return `BOOTREQUEST from ${formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16)))} via ${viaPart(c)}`;
}

/** `BOOTREPLY for 10.0.0.5 to hostname (52:54:…) via eth0` (server/bootp.c; `unknown` without a host). */
export function bootReplyLine(address: number, hostName: string | undefined, c: LogClient): string {
  return `BOOTREPLY for ${ipv4ToString(address)} to ${hostName ?? 'unknown'} (${formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16)))}) via ${viaPart(c)}`;
}

/** `DHCPDISCOVER from … via eth0: unknown network segment` — ISC dhcp()'s bad_packet line. */
export function badPacketLine(typeName: string, c: LogClient, reason: string): string {
  const who = c.htype !== 0 ? formatHardwareAddress(c.chaddr.subarray(0, Math.min(c.hlen, 16))) : '<no identifier>';
  return `${typeName} from ${who} via ${viaPart(c)}: ${reason}`;
}

/** ISC's suffixes after `<msgbuf>: ` in dhcpdiscover/dhcprequest/dhcpinform/dhcpdecline. */
export const Suffix = {
  wrongNetwork: 'wrong network.',
  notAuthoritative: 'ignored (not authoritative).',
  unknownSubnet: 'ignored (unknown subnet).',
  nullSource: 'ignored (null source address).',
  invalidSubnetSelection: 'ignored (invalid subnet selection option).',
  abandoned: 'abandoned',
  notFound: 'not found',
  ignored: 'ignored',
  bootpDisallowed: 'bootp disallowed',
  bootingDisallowed: 'booting disallowed',
  unknownClient: 'unknown client',
  networkUnknown: 'network unknown',
  noDynamicLeases: 'BOOTP from dynamic client and no dynamic leases',
} as const;

/** `<msg>: network <shared-network>: no free leases` (ISC dhcpdiscover, logged at error level). */
export function noFreeLeasesLine(msg: string, sharedNetworkName: string): string {
  return `${msg}: network ${sharedNetworkName}: no free leases`;
}

/** `<msg>: peer holds all free leases` (failover). */
export function peerHoldsAllFreeLeasesLine(msg: string): string {
  return `${msg}: peer holds all free leases`;
}

/** `<msg>: lease 10.0.0.5 unavailable.` */
export function leaseUnavailableLine(msg: string, address: number): string {
  return `${msg}: lease ${ipv4ToString(address)} unavailable.`;
}

/** `<msg>: unknown lease 10.0.0.5.` */
export function unknownLeaseLine(msg: string, address: number): string {
  return `${msg}: unknown lease ${ipv4ToString(address)}.`;
}

/** `Packet from unknown subnet: <giaddr>` (DISCOVER with no shared network). */
export function unknownSubnetPacketLine(giaddr: number): string {
  return `Packet from unknown subnet: ${ipv4ToString(giaddr)}`;
}

/** `<msg>: unknown subnet for client address 10.0.0.5` (INFORM; addrType client/source/relay/selected). */
export function informUnknownSubnetLine(msg: string, addrType: string, address: number): string {
  return `${msg}: unknown subnet for ${addrType} address ${ipv4ToString(address)}`;
}

/** `<msg>: not authoritative for subnet 10.0.0.0` and the advice ISC prints with it. */
export function informNotAuthoritativeLines(msg: string, subnetNet: number, withAdvice: boolean): string[] {
  const lines = [`${msg}: not authoritative for subnet ${ipv4ToString(subnetNet)}`];
  if (withAdvice) {
    lines.push(
      'If this DHCP server is authoritative for that subnet,',
      "please write an `authoritative;' directive either in the",
      'subnet declaration or in some scope that encloses the',
      'subnet declaration - for example, write it at the top',
      'of the dhcpd.conf file.',
    );
  }
  return lines;
}

/** `Abandoning IP address 10.0.0.5: declined.` (ISC abandon_lease, logged at error level). */
export function abandoningLine(address: number, reason: string): string {
  return `Abandoning IP address ${ipv4ToString(address)}: ${reason}`;
}

/** `Reclaiming abandoned lease 10.0.0.5.` (ISC allocate_lease when only abandoned leases are left). */
export function reclaimingAbandonedLine(address: number): string {
  return `Reclaiming abandoned lease ${ipv4ToString(address)}.`;
}

/** `Reclaiming REQUESTed abandoned IP address 10.0.0.5.` */
export function reclaimingRequestedAbandonedLine(address: number): string {
  return `Reclaiming REQUESTed abandoned IP address ${ipv4ToString(address)}.`;
}

/** `ICMP Echo reply while lease 10.0.0.5 valid.` (ISC ping-check found the address in use). */
export function icmpEchoReplyLine(address: number): string {
  return `ICMP Echo reply while lease ${ipv4ToString(address)} valid.`;
}

/** `No subnet declaration for eth1 (10.0.0.1).` and ISC's four following advice lines. */
export function noSubnetDeclarationLines(ifname: string, address: string | undefined): string[] {
  return [
    '',
    `No subnet declaration for ${ifname} (${address ?? 'no IPv4 addresses'}).`,
    `** Ignoring requests on ${ifname}.  If this is not what`,
    '   you want, please write a subnet declaration',
    '   in your dhcpd.conf file for the network segment',
    `   to which interface ${ifname} is attached. **`,
    '',
  ];
}

/** ISC's fatal start-up error when no interface is left to serve. */
export const NOT_CONFIGURED_TO_LISTEN = 'Not configured to listen on any interfaces!';

/**
 * dhcpd-ts only (ISC has no load shedding): requests dropped unanswered because they waited too long in an
 * overloaded server's queue; logged at most every few seconds while it happens.
 */
export function shedLine(count: number, maxAgeMs: number, total: number): string {
  return `Overloaded: dropped ${count} request${count === 1 ? '' : 's'} that waited more than ${maxAgeMs} ms (${total} in total); clients will retransmit.`;
}
