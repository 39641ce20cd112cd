/**
 * Failover wire codec: 12-byte header + TLV options (FAILOVER.md §1.2–§1.4), with ISC's receive rules.
 *
 * `decodeMessage` never throws: hostile bytes become a {@link FailoverDecodeError}. Every error it returns
 * is one on which ISC drops the connection (`fatal`), except where noted.
 *
 * @module
 */
import {
  EMIT_ORDER,
  FIELD_BY_CODE,
  FTM_MAX,
  FTO,
  FTO_MAX,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  OPTION_INFO,
  optionName,
  type FailoverFields,
  type FailoverMessage,
  type RawOption,
} from './messages.js';

/** Why a message could not be decoded. ISC drops the connection on every one of these. */
export interface FailoverDecodeError {
  readonly code:
    | 'short-header'
    | 'bad-length'
    | 'truncated'
    | 'bad-payoff'
    | 'option-overflow'
    | 'invalid-type'
    | 'duplicate-option'
    | 'option-size'
    | 'digest-not-last';
  /** ISC-style log text, e.g. `FAILOVER: duplicate option relationship-name`. */
  readonly message: string;
}

export type DecodeResult = { ok: true; message: FailoverMessage } | { ok: false; error: FailoverDecodeError };

const FIXED_SIZE: Readonly<Record<string, number>> = { u8: 1, u16: 2, u32: 4, ip: 4 };

function fail(code: FailoverDecodeError['code'], message: string): { ok: false; error: FailoverDecodeError } {
  return { ok: false, error: { code, message } };
}

/**
 * Reads the 2-byte length prefix of a message at the start of `buf` (for stream framing). Returns undefined
 * if fewer than 2 bytes are present, or the length (which the caller must check against 12..2048).
 */
export function peekLength(buf: Buffer): number | undefined {
  return buf.length < 2 ? undefined : buf.readUInt16BE(0);
}

/** Applies ISC's rules to an option value and stores it in `fields`. Returns an error text or undefined. */
function setField(fields: FailoverFields, code: number, data: Buffer): string | undefined {
  const info = OPTION_INFO[code];
  const key = FIELD_BY_CODE[code];
  if (!info || !key) return undefined;
  const want = FIXED_SIZE[info.kind];
  if (want !== undefined && data.length !== want) {
    return `FAILOVER: option size (${data.length}:${want}), option ${info.name}`;
  }
  const f = fields as Record<string, unknown>;
  switch (info.kind) {
    case 'u8':
      f[key] = data[0];
      break;
    case 'u16':
      f[key] = data.readUInt16BE(0);
      break;
    case 'u32':
    case 'ip':
      f[key] = data.readUInt32BE(0);
      break;
    case 'text':
      f[key] = data.toString('latin1');
      break;
    case 'bytes':
    case 'ddns':
      f[key] = Buffer.from(data);
      break;
  }
  return undefined;
}

/**
 * Decodes exactly one message occupying all of `buf` (the framing layer cuts the stream by the length
 * field). ISC's rules (§1.4): length 12..2048 and equal to the buffer; payload offset ≥ 12; every option
 * inside the message; type ≤ 12 when there are options; no duplicate known option; fixed-size options of
 * exactly their size; message-digest last. Unknown option codes (0, > 29) are kept raw but not interpreted.
 */
export function decodeMessage(buf: Buffer): DecodeResult {
  if (buf.length < HEADER_LENGTH) return fail('short-header', `message length wait: ${buf.length} bytes, need ${HEADER_LENGTH}`);
  const length = buf.readUInt16BE(0);
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    return fail('bad-length', `message length wait: bad length ${length}`);
  }
  if (length !== buf.length) return fail('truncated', `message length ${length} does not match ${buf.length} bytes received`);
  const type = buf[2]!;
  const payoff = buf[3]!;
  if (payoff < HEADER_LENGTH || payoff > length) return fail('bad-payoff', `FAILOVER: bad payload offset ${payoff}`);
  const time = buf.readUInt32BE(4);
  const xid = buf.readUInt32BE(8);
  const options: RawOption[] = [];
  const fields: FailoverFields = {};
  let seen = 0; // bit per known option code (1..29)
  let pos = payoff;
  let digestSeen = false;
  while (pos < length) {
    if (pos + 4 > length) return fail('option-overflow', `FAILOVER: message overflow at ${pos}`);
    const code = buf.readUInt16BE(pos);
    const olen = buf.readUInt16BE(pos + 2);
    if (pos + 4 + olen > length) return fail('option-overflow', `FAILOVER: message overflow at ${pos}`);
    if (type > FTM_MAX) return fail('invalid-type', `FAILOVER: invalid message type: ${type}`);
    if (digestSeen) return fail('digest-not-last', 'FAILOVER: message digest not last option');
    const data = Buffer.from(buf.subarray(pos + 4, pos + 4 + olen));
    options.push({ code, data });
    pos += 4 + olen;
    if (code === 0 || code > FTO_MAX) continue; // unknown: skipped silently
    if ((seen & (1 << code)) !== 0) return fail('duplicate-option', `FAILOVER: duplicate option ${optionName(code)}`);
    seen |= 1 << code;
    if (code === FTO.MESSAGE_DIGEST) digestSeen = true;
    const err = setField(fields, code, data);
    if (err) return fail('option-size', err);
  }
  const message: FailoverMessage =
    payoff > HEADER_LENGTH
      ? { type, payoff, headerExtra: Buffer.from(buf.subarray(HEADER_LENGTH, payoff)), time, xid, options, fields }
      : { type, payoff, time, xid, options, fields };
  return { ok: true, message };
}

/** Encodes a message from its raw options (wire order kept); byte-exact inverse of {@link decodeMessage}. */
export function encodeMessage(
  msg: Pick<FailoverMessage, 'type' | 'time' | 'xid' | 'options'> & { payoff?: number; headerExtra?: Buffer },
): Buffer {
  const payoff = msg.payoff ?? HEADER_LENGTH;
  let length = payoff;
  for (const o of msg.options) length += 4 + o.data.length;
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`failover message of ${length} bytes exceeds ${MAX_MESSAGE_LENGTH}`);
  const out = Buffer.alloc(length);
  out.writeUInt16BE(length, 0);
  out[2] = msg.type & 0xff;
  out[3] = payoff & 0xff;
  out.writeUInt32BE(msg.time >>> 0, 4);
  out.writeUInt32BE(msg.xid >>> 0, 8);
  if (msg.headerExtra) msg.headerExtra.copy(out, HEADER_LENGTH, 0, Math.max(0, payoff - HEADER_LENGTH));
  let pos = payoff;
  for (const o of msg.options) {
    out.writeUInt16BE(o.code, pos);
    out.writeUInt16BE(o.data.length, pos + 2);
    o.data.copy(out, pos + 4);
    pos += 4 + o.data.length;
  }
  return out;
}

/** Encodes one typed field value as option data. */
function fieldData(code: number, value: unknown): Buffer {
  const info = OPTION_INFO[code]!;
  switch (info.kind) {
    case 'u8':
      return Buffer.from([Number(value) & 0xff]);
    case 'u16': {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(Number(value) & 0xffff);
      return b;
    }
    case 'u32':
    case 'ip': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Number(value) >>> 0);
      return b;
    }
    case 'text':
      return Buffer.from(String(value), 'latin1');
    case 'bytes':
    case 'ddns':
      return Buffer.from(value as Uint8Array);
  }
}

/**
 * Builds a message from typed fields, writing options in ISC's emit order for the type (§2.1), then any
 * other fields given in code order. Never emits an option twice.
 */
export function buildMessage(type: number, time: number, xid: number, fields: FailoverFields): FailoverMessage {
  const order = [...(EMIT_ORDER[type] ?? [])];
  for (let c = 1; c <= FTO_MAX; c++) if (!order.includes(c)) order.push(c);
  const options: RawOption[] = [];
  const f = fields as Record<string, unknown>;
  for (const code of order) {
    const key = FIELD_BY_CODE[code];
    if (!key) continue;
    const v = f[key];
    if (v === undefined) continue;
    options.push({ code, data: fieldData(code, v) });
  }
  return { type, payoff: HEADER_LENGTH, time: time >>> 0, xid: xid >>> 0, options, fields: { ...fields } };
}

/** Per message type: the emit order of {@link buildMessage} with each code's field name and kind, built once. */
const ENCODE_PLAN = new Map<number, ReadonlyArray<{ code: number; key: string; kind: string }>>();

function encodePlan(type: number): ReadonlyArray<{ code: number; key: string; kind: string }> {
  let plan = ENCODE_PLAN.get(type);
  if (plan === undefined) {
    const order = [...(EMIT_ORDER[type] ?? [])];
    for (let c = 1; c <= FTO_MAX; c++) if (!order.includes(c)) order.push(c);
    plan = order.flatMap((code) => {
      const key = FIELD_BY_CODE[code];
      const info = OPTION_INFO[code];
      return key && info ? [{ code, key, kind: info.kind }] : [];
    });
    if (type >= 0 && type <= 255) ENCODE_PLAN.set(type, plan);
  }
  return plan;
}

/**
 * Builds and encodes in one step: the same bytes as `encodeMessage(buildMessage(...))`, written straight into
 * one buffer (the link encodes one to three messages per DORA in a pair; the two-step path allocated a
 * buffer per option, the option list and a copy of the fields).
 */
export function encodeFields(type: number, time: number, xid: number, fields: FailoverFields): Buffer {
  const plan = encodePlan(type);
  const f = fields as Record<string, unknown>;
  let length = HEADER_LENGTH;
  for (const p of plan) {
    const v = f[p.key];
    if (v === undefined) continue;
    length += 4 + valueSize(p.kind, v);
  }
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`failover message of ${length} bytes exceeds ${MAX_MESSAGE_LENGTH}`);
  const out = Buffer.allocUnsafe(length);
  out.writeUInt16BE(length, 0);
  out[2] = type & 0xff;
  out[3] = HEADER_LENGTH;
  out.writeUInt32BE(time >>> 0, 4);
  out.writeUInt32BE(xid >>> 0, 8);
  let pos = HEADER_LENGTH;
  for (const p of plan) {
    const v = f[p.key];
    if (v === undefined) continue;
    const size = valueSize(p.kind, v);
    out.writeUInt16BE(p.code, pos);
    out.writeUInt16BE(size, pos + 2);
    pos += 4;
    switch (p.kind) {
      case 'u8':
        out[pos] = Number(v) & 0xff;
        break;
      case 'u16':
        out.writeUInt16BE(Number(v) & 0xffff, pos);
        break;
      case 'u32':
      case 'ip':
        out.writeUInt32BE(Number(v) >>> 0, pos);
        break;
      case 'text':
        out.write(String(v), pos, 'latin1');
        break;
      default:
        out.set(v as Uint8Array, pos);
    }
    pos += size;
  }
  return out;
}

/** Option data size of a field value (as {@link fieldData} would encode it). */
function valueSize(kind: string, v: unknown): number {
  switch (kind) {
    case 'u8':
      return 1;
    case 'u16':
      return 2;
    case 'u32':
    case 'ip':
      return 4;
    case 'text':
      return Buffer.byteLength(String(v), 'latin1');
    default:
      return (v as Uint8Array).length;
  }
}
