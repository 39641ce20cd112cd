/**
 * IPv4 + UDP datagrams for the AF_PACKET send path (a reply unicast to a client's MAC before it has an
 * address, RFC 2131 §4.1), built in TS so the native addon stays a thin system-call layer. Header fields
 * match ISC's LPF path (`common/packet.c` assemble_udp_ip_header): version 4, IHL 5, TOS 0x10
 * (IPTOS_LOWDELAY), id 0, no fragmentation flags, TTL 128, protocol 17. Checksums are RFC 1071 one's
 * complement sums; the UDP checksum covers the RFC 768 pseudo-header, and a computed 0 is sent as
 * 0xffff (RFC 768; ISC would send 0, i.e. "no checksum").
 *
 * @module
 */

/** IPv4 header length without options. */
export const IPV4_HEADER_LEN = 20;
/** UDP header length. */
export const UDP_HEADER_LEN = 8;
/** IPPROTO_UDP. */
export const IPPROTO_UDP = 17;

/** What to put in the IPv4 and UDP headers. Addresses are uint32 host order, like `DhcpPacket`. */
export interface Ipv4UdpHeader {
  source: number;
  destination: number;
  sourcePort: number;
  destinationPort: number;
  /** Default 128 (ISC). */
  ttl?: number;
  /** Default 0x10 (ISC: IPTOS_LOWDELAY). */
  tos?: number;
  /** IP identification, default 0 (ISC). */
  id?: number;
}

/**
 * RFC 1071 sum of `buf[start, end)` added to `initial` (not complemented, folded to 16 bits). An odd
 * trailing octet is the high byte of a final word.
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Build an IPv4 datagram carrying `payload` in UDP, with both checksums filled in. */
export function buildIpv4Udp(header: Ipv4UdpHeader, payload: Uint8Array): Buffer {
  const udpLen = UDP_HEADER_LEN + payload.length;
  const totalLen = IPV4_HEADER_LEN + udpLen;
  if (totalLen > 0xffff) throw new RangeError(`IPv4 datagram of ${totalLen} octets is too long`);
  const out = Buffer.allocUnsafe(totalLen);
  out[0] = 0x45;
  out[1] = header.tos ?? 0x10;
  out.writeUInt16BE(totalLen, 2);
  out.writeUInt16BE((header.id ?? 0) & 0xffff, 4);
  out.writeUInt16BE(0, 6);
  out[8] = header.ttl ?? 128;
  out[9] = IPPROTO_UDP;
  out.writeUInt16BE(0, 10);
  out.writeUInt32BE(header.source >>> 0, 12);
  out.writeUInt32BE(header.destination >>> 0, 16);
  out.writeUInt16BE(~onesComplementSum(out, 0, IPV4_HEADER_LEN) & 0xffff, 10);

  const u = IPV4_HEADER_LEN;
  out.writeUInt16BE(header.sourcePort & 0xffff, u);
  out.writeUInt16BE(header.destinationPort & 0xffff, u + 2);
  out.writeUInt16BE(udpLen, u + 4);
  out.writeUInt16BE(0, u + 6);
  out.set(payload, u + UDP_HEADER_LEN);
  // Pseudo-header: source, destination, zero + protocol, UDP length (RFC 768).
  const pseudo = onesComplementSum(out, 12, 20, IPPROTO_UDP + udpLen);
  let sum = ~onesComplementSum(out, u, totalLen, pseudo) & 0xffff;
  if (sum === 0) sum = 0xffff;
  out.writeUInt16BE(sum, u + 6);
  return out;
}

/** A parsed IPv4/UDP datagram (for tests and captures). */
export interface ParsedIpv4Udp {
  source: number;
  destination: number;
  sourcePort: number;
  destinationPort: number;
  ttl: number;
  tos: number;
  id: number;
  /** True when the IPv4 header checksum verifies. */
  headerChecksumOk: boolean;
  /** True when the UDP checksum verifies, or is 0 (not computed, RFC 768). */
  udpChecksumOk: boolean;
  /** The UDP checksum field as sent. */
  udpChecksum: number;
  /** The UDP payload (a view). */
  payload: Buffer;
}

/** Parse an IPv4 datagram carrying UDP; returns a reason string when it is not one. Never throws. */
export function parseIpv4Udp(buf: Buffer): { ok: true; datagram: ParsedIpv4Udp } | { ok: false; reason: string } {
  if (buf.length < IPV4_HEADER_LEN) return { ok: false, reason: 'shorter than an IPv4 header' };
  if (buf[0]! >> 4 !== 4) return { ok: false, reason: 'not IPv4' };
  const ihl = (buf[0]! & 15) * 4;
  if (ihl < IPV4_HEADER_LEN || buf.length < ihl) return { ok: false, reason: 'bad IHL' };
  const totalLen = buf.readUInt16BE(2);
  if (totalLen < ihl + UDP_HEADER_LEN || totalLen > buf.length) return { ok: false, reason: 'bad total length' };
  if (buf[9] !== IPPROTO_UDP) return { ok: false, reason: 'not UDP' };
  if ((buf.readUInt16BE(6) & 0x3fff) !== 0) return { ok: false, reason: 'fragment' };
  const udpLen = buf.readUInt16BE(ihl + 4);
  if (udpLen < UDP_HEADER_LEN || ihl + udpLen > totalLen) return { ok: false, reason: 'bad UDP length' };
  const udpChecksum = buf.readUInt16BE(ihl + 6);
  const pseudo = onesComplementSum(buf, 12, 20, IPPROTO_UDP + udpLen);
  const udpSum = onesComplementSum(buf, ihl, ihl + udpLen, pseudo);
  return {
    ok: true,
    datagram: {
      source: buf.readUInt32BE(12),
      destination: buf.readUInt32BE(16),
      sourcePort: buf.readUInt16BE(ihl),
      destinationPort: buf.readUInt16BE(ihl + 2),
      ttl: buf[8]!,
      tos: buf[1]!,
      id: buf.readUInt16BE(4),
      headerChecksumOk: onesComplementSum(buf, 0, ihl) === 0xffff,
      udpChecksumOk: udpChecksum === 0 || udpSum === 0xffff,
      udpChecksum,
      payload: buf.subarray(ihl + UDP_HEADER_LEN, ihl + udpLen),
    },
  };
}
