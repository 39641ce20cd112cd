/**
 * DHCPv4 decoder: bytes → {@link DhcpPacket}. Never throws; malformed input becomes a {@link DecodeError}
 * value with a reason code and the offset where it was found.
 *
 * Rules (ISC dhcpd 4.4.3 `common/discover.c` got_one, `common/options.c` do_packet / parse_options /
 * parse_option_buffer, unless noted):
 * - fewer than 236 octets: dropped (`truncated-header`);
 * - hlen > 16: dropped, ISC "Discarding packet with bogus hlen." (`bad-hlen`); hlen 0 is accepted;
 * - no magic cookie (packet shorter than 240 octets, or a different cookie): a BOOTP packet with no
 *   options, as ISC (`options_valid = 0`);
 * - options: pad (0) skipped, end (255) stops; a code without a length octet, or a length past the end of
 *   its field, drops the packet (ISC is only lenient with server replies);
 * - an empty host-name (12) instance is ignored, as ISC does for non-compliant clients;
 * - RFC 3396: all instances of a code are concatenated, in the order options field, file, sname
 *   (RFC 3396 §5; ISC parses file then sname too);
 * - option overload (52, RFC 2132 §9.3): bit 1 → file holds options, bit 2 → sname holds options; a
 *   52 of length 0 is `bad-overload`. A 52 inside file or sname (an "overload loop") is dropped as
 *   `overload-loop`: RFC 2131 allows 52 only in the options field and no client sends it elsewhere
 *   (ISC would silently concatenate it; we refuse hostile packets instead).
 *
 * @module
 */
import { Reader } from './reader.js';
import {
  CHADDR_LEN,
  DecodeError,
  type DecodeResult,
  type DhcpPacket,
  DhcpOption,
  EMPTY,
  FILE_LEN,
  FIXED_HEADER_LEN,
  MAGIC_COOKIE,
  OFFSET,
  type PacketField,
  SNAME_LEN,
} from './packet.js';

/**
 * Decode a BOOTP/DHCPv4 message (UDP payload). Never throws. Option values, chaddr, sname and file in the
 * result are views into `data` (no copies): do not reuse `data` while the packet is in use.
 */
export function decodePacket(data: Uint8Array): DecodeResult {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = buf.length;
  if (len < FIXED_HEADER_LEN) {
    return fail('truncated-header', `packet of ${len} octets is shorter than the ${FIXED_HEADER_LEN}-octet BOOTP header`, len);
  }
  const r = new Reader(buf, 0, len);
  const op = r.u8();
  const htype = r.u8();
  const hlen = r.u8();
  if (hlen > CHADDR_LEN) {
    return fail('bad-hlen', 'Discarding packet with bogus hlen.', OFFSET.hlen);
  }
  const hops = r.u8();
  const xid = r.u32();
  const secs = r.u16();
  const flags = r.u16();
  const ciaddr = r.u32();
  const yiaddr = r.u32();
  const siaddr = r.u32();
  const giaddr = r.u32();
  const chaddr = r.bytes(CHADDR_LEN);
  r.skip(SNAME_LEN + FILE_LEN);
  // The length check above makes an overrun impossible; the sticky reader still guards it.
  if (!r.ok) return fail('truncated-header', 'fixed header overrun', r.overrun);

  const options = new Map<number, Buffer>();
  const packet: DhcpPacket = {
    op,
    htype,
    hlen,
    hops,
    xid,
    secs,
    flags,
    ciaddr,
    yiaddr,
    siaddr,
    giaddr,
    chaddr,
    sname: cString(buf, OFFSET.sname, SNAME_LEN),
    file: cString(buf, OFFSET.file, FILE_LEN),
    options,
  };
  if (len < FIXED_HEADER_LEN + 4 || buf.readUInt32BE(OFFSET.options) !== MAGIC_COOKIE) {
    return { ok: true, packet }; // BOOTP without RFC 1048 vendor extensions
  }

  const extra: Extra = { more: undefined };
  let err = parseArea(buf, OFFSET.options + 4, len, 'options', options, extra);
  if (err !== undefined) return { ok: false, error: err };

  const ov = options.get(DhcpOption.OPTION_OVERLOAD);
  if (ov !== undefined) {
    // ISC reads the first octet of the (concatenated) value.
    const bits = firstOctet(buf, ov, extra.more?.get(DhcpOption.OPTION_OVERLOAD));
    if (bits < 0) {
      return fail('bad-overload', 'option overload (52) with no value', OFFSET.options, 'options', 52);
    }
    if (bits & 1) {
      err = parseArea(buf, OFFSET.file, OFFSET.file + FILE_LEN, 'file', options, extra);
      if (err !== undefined) return { ok: false, error: err };
      packet.file = EMPTY;
    }
    if (bits & 2) {
      err = parseArea(buf, OFFSET.sname, OFFSET.sname + SNAME_LEN, 'sname', options, extra);
      if (err !== undefined) return { ok: false, error: err };
      packet.sname = EMPTY;
    }
  }
  if (extra.more !== undefined) {
    // RFC 3396 §4/§5: one value per code, the concatenation of its instances in order. Done once at
    // the end from recorded offsets, so that thousands of tiny instances of one code cost linear time
    // and no per-instance allocation.
    for (const [code, ranges] of extra.more) options.set(code, concatRanges(buf, ranges));
  }
  return { ok: true, packet };
}

interface Extra {
  /** Codes seen more than once → [start, end) offsets of every instance in order (first included). */
  more: Map<number, number[]> | undefined;
}

/** First octet of an option value that may have several instances, or -1 if all are empty. */
function firstOctet(buf: Buffer, first: Buffer, ranges: number[] | undefined): number {
  if (first.length > 0) return first[0]!;
  if (ranges !== undefined) for (let i = 0; i < ranges.length; i += 2) if (ranges[i + 1]! > ranges[i]!) return buf[ranges[i]!]!;
  return -1;
}

function concatRanges(buf: Buffer, ranges: number[]): Buffer {
  let total = 0;
  for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1]! - ranges[i]!;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const a = ranges[i]!;
    const b = ranges[i + 1]!;
    if (b - a < 32) for (let j = a; j < b; j++) out[o++] = buf[j]!;
    else o += buf.copy(out, o, a, b);
  }
  return out;
}

function fail(
  code: DecodeError['code'],
  message: string,
  offset: number,
  field: PacketField = 'header',
  optionCode?: number,
): DecodeResult {
  return { ok: false, error: new DecodeError(code, message, offset, field, optionCode) };
}

/**
 * ISC 4.4.3's exact log line for a malformed option (parse_option_buffer). ISC always prints the name as
 * `<unknown>` on these two paths (it drops its option reference before logging), so we do too.
 */
function iscMalformed(code: number, reason: string): string {
  return `parse_option_buffer: malformed option dhcp.<unknown> (code ${code}): ${reason}.`;
}

/** Contents of the fixed field buf[at, at + len) up to the first NUL (a view; EMPTY when empty). */
function cString(buf: Buffer, at: number, len: number): Buffer {
  let n = 0;
  while (n < len && buf[at + n] !== 0) n++;
  return n === 0 ? EMPTY : buf.subarray(at, at + n);
}

/** Parse one option area `buf[start, end)` into `options`; returns an error or undefined. */
function parseArea(
  buf: Buffer,
  start: number,
  end: number,
  field: PacketField,
  options: Map<number, Buffer>,
  extra: Extra,
): DecodeError | undefined {
  const r = new Reader(buf, start, end);
  while (r.remaining > 0) {
    const at = r.pos;
    const code = r.u8();
    if (code === DhcpOption.PAD) continue;
    if (code === DhcpOption.END) return undefined;
    const olen = r.u8();
    if (!r.ok) {
      return new DecodeError('option-missing-length', iscMalformed(code, 'code tag at end of buffer - missing length field'), at, field, code);
    }
    const vstart = r.pos;
    r.skip(olen);
    if (!r.ok) {
      return new DecodeError('option-overrun', iscMalformed(code, 'option length exceeds option buffer length'), at, field, code);
    }
    if (code === DhcpOption.OPTION_OVERLOAD && field !== 'options') {
      return new DecodeError('overload-loop', `option overload (52) inside the ${field} field`, at, field, code);
    }
    if (code === DhcpOption.HOST_NAME && olen === 0) continue; // ISC: "Ignoring empty DHO_HOST_NAME option"
    const prev = options.get(code);
    if (prev === undefined) {
      options.set(code, buf.subarray(vstart, vstart + olen));
    } else {
      const more = (extra.more ??= new Map());
      const ranges = more.get(code);
      if (ranges === undefined) {
        const p0 = prev.byteOffset - buf.byteOffset;
        more.set(code, [p0, p0 + prev.length, vstart, vstart + olen]);
      } else {
        ranges.push(vstart, vstart + olen);
      }
    }
  }
  return undefined;
}
