/**
 * The DHCPv4 packet model (RFC 2131 §2 fixed header + RFC 2132 options), shared by the whole server.
 *
 * Representation decisions (stable contract, see the wire report):
 * - IPv4 addresses (ciaddr, yiaddr, siaddr, giaddr) are **unsigned 32-bit integers in host order**
 *   (`0xc0a80101` is 192.168.1.1). Numbers are cheap to compare and to do pool arithmetic with, and the
 *   config model keeps ranges as uint32 intervals too. Convert with {@link ipv4ToString} /
 *   {@link ipv4FromString} / {@link ipv4FromBytes}.
 * - `chaddr` is the whole 16-byte field as received (ISC echoes all 16 bytes in replies); the hardware
 *   address proper is its first `hlen` bytes: {@link hardwareAddress}.
 * - `sname` and `file` hold the field contents up to the first NUL (ISC treats them as C strings).
 *   When the decoder consumed a field for option overload (option 52), that field is empty.
 * - `options` maps option code to its raw value bytes, after RFC 3396 concatenation of every instance
 *   of the code (options field, then file, then sname: RFC 3396 §5). Pad (0) and end (255) never
 *   appear. Typed accessors decode values on demand. Decoded values may be views into the buffer given
 *   to `decodePacket`; copy them if that buffer is reused.
 *
 * @module
 */
import ipaddr from 'ipaddr.js';

/** BOOTP op codes (RFC 951, RFC 2131 §2). */
export const BOOTREQUEST = 1;
/** BOOTP op code of a server reply. */
export const BOOTREPLY = 2;

/** Hardware type of Ethernet (RFC 1700 / IANA ARP hardware types), the only one ISC's LPF path sends. */
export const HTYPE_ETHER = 1;

/** RFC 2131 §2: the chaddr field is 16 octets. */
export const CHADDR_LEN = 16;
/** RFC 2131 §2: the sname field is 64 octets. */
export const SNAME_LEN = 64;
/** RFC 2131 §2: the file field is 128 octets. */
export const FILE_LEN = 128;
/** Size of the fixed BOOTP header before the options field (ISC `DHCP_FIXED_NON_UDP`). */
export const FIXED_HEADER_LEN = 236;
/** Offsets of the fixed fields (RFC 2131 §2 figure 1). */
export const OFFSET = {
  op: 0,
  htype: 1,
  hlen: 2,
  hops: 3,
  xid: 4,
  secs: 8,
  flags: 10,
  ciaddr: 12,
  yiaddr: 16,
  siaddr: 20,
  giaddr: 24,
  chaddr: 28,
  sname: 44,
  file: 108,
  options: 236,
} as const;
/** RFC 2131 §3: the options field starts with the magic cookie 99.130.83.99. */
export const MAGIC_COOKIE = 0x63825363;
/** ISC `BOOTP_MIN_LEN`: replies are padded with zeros to at least 300 octets (RFC 951 BOOTP size). */
export const BOOTP_MIN_LEN = 300;
/** RFC 2131 §2 / RFC 2132 §9.10: every host must accept 576-octet IP datagrams; option 57 may not be below. */
export const DHCP_MTU_MIN = 576;
/** ISC `DHCP_MTU_MAX`: ISC never builds messages longer than 1500 octets. */
export const DHCP_MTU_MAX = 1500;
/** IPv4 (20, no options) + UDP (8) header octets, counted by option 57 (ISC `DHCP_UDP_OVERHEAD`). */
export const IP_UDP_OVERHEAD = 28;
/** RFC 2131 §2: the broadcast bit of `flags`. */
export const BROADCAST_FLAG = 0x8000;

/**
 * Values of option 53 (RFC 2132 §9.6, RFC 4388 leasequery, RFC 6926 bulk leasequery). A request with no
 * option 53 is BOOTP: {@link BOOTP} (0) is what {@link messageType} returns then, as ISC's
 * `packet_type == 0` selects `bootp()`.
 */
export const MessageType = {
  BOOTP: 0,
  DHCPDISCOVER: 1,
  DHCPOFFER: 2,
  DHCPREQUEST: 3,
  DHCPDECLINE: 4,
  DHCPACK: 5,
  DHCPNAK: 6,
  DHCPRELEASE: 7,
  DHCPINFORM: 8,
  DHCPFORCERENEW: 9,
  DHCPLEASEQUERY: 10,
  DHCPLEASEUNASSIGNED: 11,
  DHCPLEASEUNKNOWN: 12,
  DHCPLEASEACTIVE: 13,
} as const;
/** A value of {@link MessageType}. */
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];
/** Pseudo message type of a packet without option 53 (BOOTP, RFC 1542). */
export const BOOTP = MessageType.BOOTP;
export const DHCPDISCOVER = MessageType.DHCPDISCOVER;
export const DHCPOFFER = MessageType.DHCPOFFER;
export const DHCPREQUEST = MessageType.DHCPREQUEST;
export const DHCPDECLINE = MessageType.DHCPDECLINE;
export const DHCPACK = MessageType.DHCPACK;
export const DHCPNAK = MessageType.DHCPNAK;
export const DHCPRELEASE = MessageType.DHCPRELEASE;
export const DHCPINFORM = MessageType.DHCPINFORM;

const MESSAGE_TYPE_NAMES: readonly string[] = [
  'BOOTP',
  'DHCPDISCOVER',
  'DHCPOFFER',
  'DHCPREQUEST',
  'DHCPDECLINE',
  'DHCPACK',
  'DHCPNAK',
  'DHCPRELEASE',
  'DHCPINFORM',
  'DHCPFORCERENEW',
  'DHCPLEASEQUERY',
  'DHCPLEASEUNASSIGNED',
  'DHCPLEASEUNKNOWN',
  'DHCPLEASEACTIVE',
];

/** Name of a message type as ISC logs it (`DHCPDISCOVER`…), or `DHCP message type N` when unknown. */
export function messageTypeName(type: number): string {
  return MESSAGE_TYPE_NAMES[type] ?? `DHCP message type ${type}`;
}

/**
 * Option codes the server core uses (RFC 2132 and later; names follow ISC's dhcp option space, in
 * camelCase). The full table with formats is src/options/option-table.ts (config owner).
 */
export const DhcpOption = {
  PAD: 0,
  SUBNET_MASK: 1,
  TIME_OFFSET: 2,
  ROUTERS: 3,
  DOMAIN_NAME_SERVERS: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST_ADDRESS: 28,
  STATIC_ROUTES: 33,
  NTP_SERVERS: 42,
  VENDOR_ENCAPSULATED_OPTIONS: 43,
  REQUESTED_ADDRESS: 50,
  LEASE_TIME: 51,
  OPTION_OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_IDENTIFIER: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS_IDENTIFIER: 60,
  CLIENT_IDENTIFIER: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  USER_CLASS: 77,
  FQDN: 81,
  AGENT_INFORMATION: 82,
  CLIENT_LAST_TRANSACTION_TIME: 91,
  ASSOCIATED_IP: 92,
  CLIENT_SYSTEM_ARCHITECTURE: 93,
  CLIENT_NDI: 94,
  UUID_GUID: 97,
  SUBNET_SELECTION: 118,
  DOMAIN_SEARCH: 119,
  CLASSLESS_STATIC_ROUTE: 121,
  VIVCO: 124,
  VIVSO: 125,
  END: 255,
} as const;

/** Sub-options of relay agent information (RFC 3046 §2.0, RFC 3527, RFC 5107, RFC 3993). */
export const AgentSubOption = {
  CIRCUIT_ID: 1,
  REMOTE_ID: 2,
  AGENT_ID: 3,
  DOCSIS_DEVICE_CLASS: 4,
  LINK_SELECTION: 5,
  SUBSCRIBER_ID: 6,
  RELAY_PORT: 19,
  SERVER_ID_OVERRIDE: 11,
} as const;

/**
 * A BOOTP/DHCPv4 message. Field names are RFC 2131's. See the module comment for the representation of
 * addresses, chaddr, sname/file and options.
 */
export interface DhcpPacket {
  /** Message op code: {@link BOOTREQUEST} or {@link BOOTREPLY}. */
  op: number;
  /** Hardware address type (1 = Ethernet). */
  htype: number;
  /** Hardware address length as sent (the decoder rejects > 16 like ISC's "bogus hlen"). */
  hlen: number;
  /** Relay hop count. */
  hops: number;
  /** Transaction id, uint32. */
  xid: number;
  /** Seconds since the client began acquisition. */
  secs: number;
  /** Flags (bit 15 = {@link BROADCAST_FLAG}). */
  flags: number;
  /** Client IP address (uint32). */
  ciaddr: number;
  /** "Your" (client) IP address (uint32). */
  yiaddr: number;
  /** Next server IP address (uint32). */
  siaddr: number;
  /** Relay agent IP address (uint32). */
  giaddr: number;
  /** The 16-octet chaddr field (encoder zero-pads shorter buffers). */
  chaddr: Buffer;
  /** Server host name field contents up to the first NUL (≤ 64 octets). */
  sname: Buffer;
  /** Boot file name field contents up to the first NUL (≤ 128 octets). */
  file: Buffer;
  /** Option code → value bytes (RFC 3396-concatenated). Insertion order is kept. */
  options: Map<number, Buffer>;
}

/** Where in a packet an error was found. */
export type PacketField = 'header' | 'options' | 'file' | 'sname';

/** Machine-readable decode failure reasons. */
export type DecodeErrorCode =
  | 'truncated-header'
  | 'bad-hlen'
  | 'option-missing-length'
  | 'option-overrun'
  | 'bad-overload'
  | 'overload-loop';

/**
 * Why a packet could not be decoded. Deliberately not an `Error` subclass: a hostile flood must not pay
 * for stack traces, and decode errors are values (counted, logged, dropped), never thrown.
 */
export class DecodeError {
  constructor(
    /** Reason code, stable for counters. */
    readonly code: DecodeErrorCode,
    /**
     * Human-readable reason. Where ISC 4.4.3 logs the same drop, this is ISC's exact line
     * (`Discarding packet with bogus hlen.`, `parse_option_buffer: malformed option dhcp.<unknown> (code N):
     * option length exceeds option buffer length.`); ISC drops short packets silently.
     */
    readonly message: string,
    /** Byte offset in the DHCP payload where the problem was found. */
    readonly offset: number,
    /** Which area of the packet. */
    readonly field: PacketField = 'header',
    /** Option code involved, when there is one. */
    readonly optionCode?: number,
  ) {}

  /** `reason at offset N (field)` for logs. */
  toString(): string {
    return `${this.message} at offset ${this.offset} (${this.field})`;
  }
}

/** Result of `decodePacket`: never throws, so callers branch on `ok`. */
export type DecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DecodeError };

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Empty buffer shared by packets with empty sname/file (never write into it). */
export const EMPTY = Buffer.alloc(0);

/** A new packet with every field zero and no options (chaddr 16 zero octets). */
export function emptyPacket(): DhcpPacket {
  return {
    op: BOOTREQUEST,
    htype: HTYPE_ETHER,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: 0,
    chaddr: Buffer.alloc(CHADDR_LEN),
    sname: EMPTY,
    file: EMPTY,
    options: new Map(),
  };
}

/** Option 53 value, or {@link BOOTP} (0) when the packet has no (or an empty) option 53. */
export function messageType(packet: DhcpPacket): number {
  const v = packet.options.get(DhcpOption.MESSAGE_TYPE);
  return v !== undefined && v.length > 0 ? v[0]! : BOOTP;
}

/** The hardware address proper: the first min(hlen, 16) octets of chaddr. */
export function hardwareAddress(packet: DhcpPacket): Buffer {
  return packet.chaddr.subarray(0, Math.min(packet.hlen, CHADDR_LEN, packet.chaddr.length));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** ISC `print_hw_addr`: lower-case two-digit hex octets joined by ':' (`52:54:00:02:bf:f8`). */
export function formatHardwareAddress(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (i === 0 ? '' : ':') + HEX[bytes[i]!]!;
  return s;
}

/** uint32 (host order) → dotted quad. */
export function ipv4ToString(addr: number): string {
  return `${(addr >>> 24) & 255}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Dotted quad → uint32, or `undefined` if the text is not a strict four-part decimal IPv4 address. */
export function ipv4FromString(text: string): number | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const o = ipaddr.IPv4.parse(text).octets;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

/** Four network-order octets at `offset` → uint32. */
export function ipv4FromBytes(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** uint32 → 4-octet network-order Buffer (an option value such as 54 or 50). */
export function ipv4ToBytes(addr: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(addr >>> 0, 0);
  return b;
}

/** Option value as uint32 (4 octets), or `undefined` if absent or shorter than 4 octets. */
export function optionUint32(packet: DhcpPacket, code: number): number | undefined {
  const v = packet.options.get(code);
  return v !== undefined && v.length >= 4 ? ipv4FromBytes(v, 0) : undefined;
}

/** Option value as uint16, or `undefined` if absent or shorter than 2 octets (e.g. option 57). */
export function optionUint16(packet: DhcpPacket, code: number): number | undefined {
  const v = packet.options.get(code);
  return v !== undefined && v.length >= 2 ? (v[0]! << 8) | v[1]! : undefined;
}

/** Option value as a latin1 string (ISC keeps option text as raw octets), or `undefined`. */
export function optionText(packet: DhcpPacket, code: number): string | undefined {
  const v = packet.options.get(code);
  return v === undefined ? undefined : v.toString('latin1');
}

/** Parameter request list (option 55) as the codes in the client's order; empty when absent. */
export function parameterRequestList(packet: DhcpPacket): Uint8Array {
  return packet.options.get(DhcpOption.PARAMETER_REQUEST_LIST) ?? EMPTY;
}

/**
 * The client's maximum DHCP message size (option 57) when it is a valid 2-octet value, else `undefined`.
 * Values below 576 are returned as sent; encoders raise them to 576 (RFC 2132 §9.10, ISC cons_options).
 */
export function maxMessageSize(packet: DhcpPacket): number | undefined {
  return optionUint16(packet, DhcpOption.MAX_MESSAGE_SIZE);
}

/** Set a uint32 option value (addresses, times) on a packet. */
export function setOptionUint32(packet: DhcpPacket, code: number, value: number): void {
  packet.options.set(code, ipv4ToBytes(value));
}

/**
 * ISC parse-time rule for text-format options (common/options.c save_option_buffer, RFC 2132 §2): trailing
 * NULs are removed (down to `minLength`) and remembered, so that replies to such (Microsoft) clients can
 * NUL-terminate text options again (see `EncodeOptions.nulTerminate`). The decoder does not know option
 * formats; the caller applies this to the text-format options (from the option table) it reads, notably
 * host-name (12), whose trailing NULs set ISC's MS_NULL_TERMINATION.
 */
export function trimTrailingNuls(value: Buffer, minLength = 0): { value: Buffer; hadNulls: boolean } {
  let n = value.length;
  while (n > minLength && value[n - 1] === 0) n--;
  return n === value.length ? { value, hadNulls: false } : { value: value.subarray(0, n), hadNulls: true };
}
