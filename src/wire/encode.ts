/**
 * DHCPv4 encoder: {@link DhcpPacket} → bytes, laid out the way ISC dhcpd 4.4.3 builds replies
 * (`common/options.c` cons_options + store_options, `server/dhcp.c` dhcp_reply), so that a client sees
 * the same option order and the same overload/split decisions from dhcpd-ts as from ISC.
 *
 * Option order (ISC's priority list, duplicates removed, first occurrence wins):
 * 1. dhcp-message-type (53), dhcp-server-identifier (54), dhcp-lease-time (51), dhcp-renewal-time (58),
 *    dhcp-rebinding-time (59), dhcp-message (56), dhcp-requested-address (50), associated-ip (92);
 * 2. with a parameter request list (55): subnet-selection (118) when present, dhcp-client-identifier
 *    (61) when `echoClientId`, then the PRL codes in the client's order (82 skipped), then fqdn (81),
 *    then subnet-mask (1);
 *    without one: subnet-mask (1), routers (3), domain-name-servers (6), host-name (12), fqdn (81), then
 *    the packet's other options in insertion order, then vendor-encapsulated-options (43);
 * 3. RFC 2132 §3.3: if routers (3) would precede subnet-mask (1), the two swap places;
 * 4. any option of the packet not yet placed, in insertion order. (ISC only sends options on its
 *    priority list: deciding *which* options go in a reply is the engine's job; the encoder orders.)
 * Then, after the options of the main field: option-overload (52) when file/sname were used, the relay
 * agent information (82) copied from the packet, and end (255) if there is room.
 *
 * Fitting (store_options): an option goes whole into the options field if it leaves 5 octets spare
 * (2 for the last option of the list when nothing was overloaded), else whole into file, else whole into
 * sname, else it is split (RFC 3396) into the space left in options, file, sname in that order; an option
 * that does not fit even split is left out (reported in `dropped`). Options longer than 255 octets are
 * always split in 255-octet pieces. file/sname are only used when the packet leaves them empty. Options
 * with empty values are never sent (ISC skips zero-length option values). Relay agent options do not
 * count against the client's limit (ISC adds their size to it, capped at 1500-octet messages). The
 * message is zero-padded to at least 300 octets (ISC `BOOTP_MIN_LEN`).
 *
 * @module
 */
import { Writer } from './writer.js';
import {
  BOOTP_MIN_LEN,
  CHADDR_LEN,
  DHCP_MTU_MAX,
  DHCP_MTU_MIN,
  type DhcpPacket,
  DhcpOption,
  FILE_LEN,
  FIXED_HEADER_LEN,
  IP_UDP_OVERHEAD,
  MAGIC_COOKIE,
  SNAME_LEN,
} from './packet.js';

/** How to lay out an encoded packet. */
export interface EncodeOptions {
  /**
   * Maximum DHCP message size in option-57 units (IP + UDP headers + DHCP message). Values below 576
   * are raised to 576 (RFC 2132 §9.10; ISC cons_options). Default 576. See {@link iscReplyMaxSize}.
   */
  maxSize?: number;
  /**
   * Size of the options field itself (cookie included), overriding `maxSize`: ISC's BOOTP rule (64
   * octets, or what the request carried). See {@link iscBootpOptionSpace}.
   */
  optionSpace?: number;
  /** The client's parameter request list (option 55 value), giving the order of requested options. */
  parameterRequestList?: Uint8Array | readonly number[];
  /** ISC `echo-client-id`: place dhcp-client-identifier (61) right after the mandatory options. */
  echoClientId?: boolean;
  /** Allow option overload into empty file/sname fields (default true, as ISC). */
  overload?: boolean;
  /** Minimum message length, zero-padded (default 300, ISC `BOOTP_MIN_LEN`). */
  minLength?: number;
  /**
   * ISC `MS_NULL_TERMINATION`: when the client's host-name arrived with trailing NULs, ISC appends a NUL
   * to every text-format option of the reply (store_options `terminate`). Return true for the codes to
   * terminate (the engine knows the formats from the option table). The NUL counts in the option length
   * and rides in the last RFC 3396 piece.
   */
  nulTerminate?: (code: number) => boolean;
}

/** Result of {@link encodePacketDetailed}. */
export interface EncodeResult {
  /** The DHCP message (UDP payload). */
  buffer: Buffer;
  /** Option codes that did not fit and were left out (ISC drops them the same way). */
  dropped: number[];
  /** Option overload bits used (1 = file, 2 = sname), 0 if none. */
  overload: number;
}

/** ISC's protocol-mandatory options, sent first (cons_options). */
const MANDATORY: readonly number[] = [
  DhcpOption.MESSAGE_TYPE,
  DhcpOption.SERVER_IDENTIFIER,
  DhcpOption.LEASE_TIME,
  DhcpOption.RENEWAL_TIME,
  DhcpOption.REBINDING_TIME,
  DhcpOption.MESSAGE,
  DhcpOption.REQUESTED_ADDRESS,
  DhcpOption.ASSOCIATED_IP,
];
/** ISC's high-priority list when the client sent no PRL. */
const NO_PRL_FIRST: readonly number[] = [
  DhcpOption.SUBNET_MASK,
  DhcpOption.ROUTERS,
  DhcpOption.DOMAIN_NAME_SERVERS,
  DhcpOption.HOST_NAME,
  DhcpOption.FQDN,
];
/** ISC PRIORITY_COUNT. */
const PRIORITY_COUNT = 300;
/** ISC DHCP_MAX_OPTION_LEN: options field limit once agent options are added. */
const DHCP_MAX_OPTION_LEN = DHCP_MTU_MAX - FIXED_HEADER_LEN - IP_UDP_OVERHEAD;

const seen = new Uint8Array(256);

/**
 * The order in which {@link encodePacket} places the options of `options` (ISC's priority list; see the
 * module comment). Excludes pad, end, option-overload and agent information, which the encoder manages.
 */
export function optionOrder(
  options: ReadonlyMap<number, Uint8Array>,
  parameterRequestList?: Uint8Array | readonly number[],
  echoClientId = false,
): number[] {
  const list: number[] = [];
  seen.fill(0);
  for (let i = 0; i < MANDATORY.length; i++) add(list, MANDATORY[i]!);
  if (parameterRequestList !== undefined && parameterRequestList.length > 0) {
    // `raw` counts entries as ISC's priority_len does, before duplicates are removed: ISC truncates the
    // PRL to the room left in its 300-entry list, and adds fqdn/subnet-mask only while there is room.
    let raw = MANDATORY.length;
    if (options.has(DhcpOption.SUBNET_SELECTION)) {
      add(list, DhcpOption.SUBNET_SELECTION);
      raw++;
    }
    if (echoClientId) {
      add(list, DhcpOption.CLIENT_IDENTIFIER);
      raw++;
    }
    const n = Math.min(parameterRequestList.length, PRIORITY_COUNT - raw);
    for (let i = 0; i < n; i++) {
      const c = parameterRequestList[i]!;
      if (c === DhcpOption.AGENT_INFORMATION) continue;
      add(list, c);
      raw++;
    }
    if (raw < PRIORITY_COUNT) {
      add(list, DhcpOption.FQDN);
      raw++;
    }
    if (raw < PRIORITY_COUNT) add(list, DhcpOption.SUBNET_MASK);
  } else {
    for (let i = 0; i < NO_PRL_FIRST.length; i++) add(list, NO_PRL_FIRST[i]!);
    for (const c of options.keys()) if (c !== DhcpOption.VENDOR_ENCAPSULATED_OPTIONS) add(list, c);
    add(list, DhcpOption.VENDOR_ENCAPSULATED_OPTIONS);
  }
  // Options the packet carries that the list did not place: after everything else.
  for (const c of options.keys()) add(list, c);
  // RFC 2132 §3.3: subnet mask before routers (ISC store_options swaps them).
  if (seen[DhcpOption.SUBNET_MASK] !== 0 && seen[DhcpOption.ROUTERS] !== 0) {
    const im = list.indexOf(DhcpOption.SUBNET_MASK);
    const ir = list.indexOf(DhcpOption.ROUTERS);
    if (ir < im) {
      list[ir] = DhcpOption.SUBNET_MASK;
      list[im] = DhcpOption.ROUTERS;
    }
  }
  return list;
}

/** Append `code` to the priority list unless already there, not encodable here, or the list is full. */
function add(list: number[], code: number): void {
  if (code < 1 || code > 254 || code === DhcpOption.AGENT_INFORMATION || code === DhcpOption.OPTION_OVERLOAD) return;
  if (seen[code] !== 0 || list.length >= PRIORITY_COUNT) return;
  seen[code] = 1;
  list.push(code);
}

/**
 * ISC's maximum reply size (cons_options): the smaller of the configured `max-message-size`/
 * `dhcp-max-message-size` and the client's option 57, raised to 576 and capped at 1500. `undefined`
 * values mean "not given". Pass the result as {@link EncodeOptions.maxSize}.
 */
export function iscReplyMaxSize(clientMaxMessageSize?: number, configuredMaxMessageSize?: number): number {
  let mms = configuredMaxMessageSize ?? 0;
  if (clientMaxMessageSize !== undefined && (mms === 0 || clientMaxMessageSize < mms)) mms = clientMaxMessageSize;
  if (mms === 0 || mms < DHCP_MTU_MIN) return DHCP_MTU_MIN;
  return mms > DHCP_MTU_MAX ? DHCP_MTU_MAX : mms;
}

/**
 * ISC's option space for a BOOTP reply with no option 57 (cons_options): 64 octets, or as many as the
 * request's own options area had if that was larger. Pass as {@link EncodeOptions.optionSpace}.
 */
export function iscBootpOptionSpace(requestLength: number): number {
  return requestLength >= 64 + FIXED_HEADER_LEN ? requestLength - FIXED_HEADER_LEN : 64;
}

/** Encode a packet; see {@link encodePacketDetailed}. Throws only on programming errors (never on data). */
export function encodePacket(packet: DhcpPacket, options: EncodeOptions = {}): Buffer {
  return encodePacketDetailed(packet, options).buffer;
}

// Scratch areas reused across calls (encoding is synchronous).
let mainScratch = Buffer.alloc(2048);
const fileScratch = Buffer.alloc(FILE_LEN);
const snameScratch = Buffer.alloc(SNAME_LEN);

/** Encode a packet and report which options were dropped and whether overload was used. */
export function encodePacketDetailed(packet: DhcpPacket, opts: EncodeOptions = {}): EncodeResult {
  const options: ReadonlyMap<number, Uint8Array> = packet.options;
  const maxSize = Math.min(Math.max(opts.maxSize ?? DHCP_MTU_MIN, DHCP_MTU_MIN), 65535);
  const baseSize = opts.optionSpace !== undefined ? Math.max(4, opts.optionSpace) : maxSize - FIXED_HEADER_LEN - IP_UDP_OVERHEAD;

  // Relay agent information rides on top of the client's limit (cons_options).
  const agent = options.get(DhcpOption.AGENT_INFORMATION);
  const agentSize = agent === undefined || agent.length === 0 ? 0 : agent.length + 2 * Math.ceil(agent.length / 255);
  let mbSize = baseSize;
  if (agentSize > 0) {
    mbSize += agentSize;
    const cap = Math.max(baseSize, DHCP_MAX_OPTION_LEN);
    if (mbSize > cap) mbSize = cap;
  }
  const mbMax = mbSize > agentSize ? mbSize - agentSize : mbSize;
  const mainCap = Math.max(0, mbMax - 4); // after the cookie
  if (mainScratch.length < mbSize) mainScratch = Buffer.alloc(mbSize + 1024);
  const main = mainScratch;

  const allowOverload = opts.overload !== false;
  const haveFile = allowOverload && packet.file.length === 0;
  const haveSname = allowOverload && packet.sname.length === 0;

  const order = optionOrder(options, opts.parameterRequestList, opts.echoClientId === true);
  const nulTerminate = opts.nulTerminate;
  const dropped: number[] = [];
  // Indexes are relative to the start of each area (main starts after the cookie), as in store_options.
  let bufix = 0;
  let six = 0;
  let tix = 0;
  const last = order.length - 1;
  for (let i = 0; i < order.length; i++) {
    const code = order[i]!;
    const value = options.get(code);
    if (value === undefined || value.length === 0) continue;
    const tto = nulTerminate !== undefined && nulTerminate(code);
    let length = value.length + (tto ? 1 : 0);
    let splitup = length > 255;
    let ix = 0;
    const optstart = bufix;
    const soptstart = six;
    const toptstart = tix;
    while (length > 0) {
      let incr = length;
      let area: 0 | 1 | 2;
      if (!splitup && ((six === 0 && tix === 0 && i === last && bufix + 2 + length < mainCap) || bufix + 5 + length < mainCap)) {
        area = 0;
      } else if (!splitup && haveFile && six + 3 + length < FILE_LEN) {
        area = 1;
      } else if (!splitup && haveSname && tix + 3 + length < SNAME_LEN) {
        area = 2;
      } else {
        splitup = true;
        if (bufix + 6 < mainCap) {
          incr = mainCap - bufix - 5;
          area = 0;
        } else if (haveFile && six + 4 < FILE_LEN) {
          incr = FILE_LEN - six - 3;
          area = 1;
        } else if (haveSname && tix + 4 < SNAME_LEN) {
          incr = SNAME_LEN - tix - 3;
          area = 2;
        } else {
          bufix = optstart;
          six = soptstart;
          tix = toptstart;
          dropped.push(code);
          break;
        }
      }
      if (incr > length) incr = length;
      if (incr > 255) incr = 255;
      const base = area === 0 ? main : area === 1 ? fileScratch : snameScratch;
      let at = area === 0 ? 4 + bufix : area === 1 ? six : tix;
      base[at++] = code;
      base[at++] = incr;
      if (tto && incr === length) {
        copyBytes(value, ix, base, at, incr - 1);
        base[at + incr - 1] = 0;
      } else {
        copyBytes(value, ix, base, at, incr);
      }
      if (area === 0) bufix += 2 + incr;
      else if (area === 1) six += 2 + incr;
      else tix += 2 + incr;
      length -= incr;
      ix += incr;
    }
  }

  let overload = 0;
  if (six > 0) {
    fileScratch[six] = DhcpOption.END;
    fileScratch.fill(0, six + 1);
    overload |= 1;
  }
  if (tix > 0) {
    snameScratch[tix] = DhcpOption.END;
    snameScratch.fill(0, tix + 1);
    overload |= 2;
  }
  let index = 4 + bufix;
  if (overload !== 0) {
    main[index++] = DhcpOption.OPTION_OVERLOAD;
    main[index++] = 1;
    main[index++] = overload;
  }
  if (agentSize > 0 && agent !== undefined) {
    if (mbSize - index >= agentSize) {
      for (let off = 0; off < agent.length; off += 255) {
        const n = Math.min(255, agent.length - off);
        main[index++] = DhcpOption.AGENT_INFORMATION;
        main[index++] = n;
        copyBytes(agent, off, main, index, n);
        index += n;
      }
    } else {
      dropped.push(DhcpOption.AGENT_INFORMATION); // ISC: "Unable to store relay agent information in reply packet."
    }
  }
  if (index < mbSize) main[index++] = DhcpOption.END;

  const total = FIXED_HEADER_LEN + index;
  // allocUnsafe takes a slice of Node's shared pool (Buffer.alloc makes a fresh ArrayBuffer per call,
  // a fifth of the encode time); the explicit fill gives the zero padding ISC sends.
  const out = Buffer.allocUnsafe(Math.max(total, opts.minLength ?? BOOTP_MIN_LEN)).fill(0);
  const w = new Writer(out);
  w.u8(packet.op).u8(packet.htype).u8(packet.hlen).u8(packet.hops);
  w.u32(packet.xid).u16(packet.secs).u16(packet.flags);
  w.u32(packet.ciaddr).u32(packet.yiaddr).u32(packet.siaddr).u32(packet.giaddr);
  w.field(packet.chaddr, CHADDR_LEN);
  w.field(overload & 2 ? snameScratch : packet.sname, SNAME_LEN);
  w.field(overload & 1 ? fileScratch : packet.file, FILE_LEN);
  main.writeUInt32BE(MAGIC_COOKIE, 0);
  main.copy(out, FIXED_HEADER_LEN, 0, index);
  return { buffer: out, dropped, overload };
}

/** Copy n octets without allocating a view (short values byte by byte: cheaper than a native call). */
function copyBytes(src: Uint8Array, from: number, dst: Buffer, at: number, n: number): void {
  if (n < 32) {
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
  } else {
    dst.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), at);
  }
}
