/**
 * Option and server-parameter values: ISC's format-driven parsing of the tokens between the option name
 * and the `;` (common/parse.c parse_option_data / parse_option_token), producing wire bytes, or an
 * expression when part of the value is only known at run time (host names in `I` fields).
 *
 * Works on a small token interface so that it does not depend on the lexer's classes; the config compiler
 * adapts the grammar's tokens to it.
 *
 * Decisions (documented ISC behaviour, matched):
 * - ip-address fields accept host names; they become a `host-lookup` expression resolved when the option
 *   is evaluated (ISC make_host_lookup). In a single `I` field (not an array) only the first address is
 *   used (ISC make_limit 4 bytes); in arrays (`IA`) every address of the name is used.
 * - Integers: C base detection (0x hex, leading 0 octal) and ISC's range check and messages.
 * - text accepts a quoted string or one identifier; string (`X`) a quoted string or colon-hex.
 */
import type { Expr, OptionValue, SourceLoc } from '../config/model.js';
import { ENUMERATIONS, ENUMERATION_WIDTHS, type OptionDefinition, type OptionFormat } from './option-table.js';
import { domainNameToWire, encodeDomainList } from './dns-name.js';
import { isIPv6 } from 'node:net';

/** Token classes as ISC's lexer produces them (GRAMMAR.md §1.2). */
export type ValueTokenType =
  | 'string' // quoted string; `bytes` holds its unescaped value
  | 'number' // all decimal digits (optionally leading '-')
  | 'number-or-name' // hex-looking word
  | 'name' // other word
  | 'keyword' // a reserved word (still an identifier)
  | 'punct'; // one punctuation character, in `image`

export interface ValueToken {
  type: ValueTokenType;
  /** Source text of the token (for strings: without quotes, escapes not processed is fine). */
  image: string;
  /** For strings: the unescaped bytes. */
  bytes?: Uint8Array;
  loc: SourceLoc;
  /** Lower-cased keyword name when type === 'keyword'. */
  keyword?: string;
}

export interface ValueError {
  loc: SourceLoc;
  message: string;
  /** Index of the token ISC stops at (tokens.length = the terminating `;`). */
  index: number;
}

export type ValueResult = { ok: true; value: OptionValue } | { ok: false; error: ValueError };

const isIdentifier = (t: ValueToken | undefined): boolean =>
  !!t && (t.type === 'name' || t.type === 'number-or-name' || t.type === 'keyword');
const isPunct = (t: ValueToken | undefined, p: string): boolean => !!t && t.type === 'punct' && t.image === p;

class Fail extends Error {
  constructor(readonly loc: SourceLoc, message: string) {
    super(message);
  }
}

/**
 * ISC convert_num(): `base` 0 = detect. Returns the encoded big-endian bytes of `bits` width.
 * Throws Fail with ISC's wording on bad digits or overflow.
 */
export function convertNumber(text: string, base: number, bits: 8 | 16 | 32, loc: SourceLoc): Uint8Array {
  let p = 0;
  let negative = false;
  if (text[p] === '-') {
    negative = true;
    p++;
  }
  if (!base) {
    if (text[p] === '0') {
      if (text[p + 1] === 'x') {
        base = 16;
        p += 2;
      } else if (text[p + 1] !== undefined && text[p + 1] >= '0' && text[p + 1] <= '9') {
        base = 8;
        p += 1;
      } else base = 10;
    } else base = 10;
  }
  let val = 0;
  // do { } while (*ptr): at least one character is examined (an empty tail reads the NUL -> "Bogus").
  do {
    const ch = text.charCodeAt(p++);
    let tval: number;
    if (Number.isNaN(ch)) tval = -1;
    else if (ch >= 0x61) tval = ch - 0x61 + 10;
    else if (ch >= 0x41) tval = ch - 0x41 + 10;
    else if (ch >= 0x30) tval = ch - 0x30;
    else tval = -1;
    if (tval < 0) throw new Fail(loc, `Bogus number: ${text}.`);
    if (tval >= base) throw new Fail(loc, `Bogus number ${text}: digit ${tval} not in base ${base}`);
    val = (Math.imul(val, base) + tval) >>> 0;
  } while (p < text.length);
  // ISC computes max in a C int; for 32 bits the unsigned max wraps to 0xffffffff (never exceeded).
  const max = negative ? 2 ** (bits - 1) : bits === 32 ? 0xffffffff : 2 ** bits - 1;
  if (val > max) {
    const shown = base === 8 ? val.toString(8) : base === 16 ? val.toString(16) : val.toString(10);
    const maxShown = bits === 32 && !negative ? -1 : negative && bits === 32 ? -2147483648 : max;
    throw new Fail(loc, `${negative ? '-' : ''}${shown} exceeds max (${maxShown}) for precision.`);
  }
  const v = negative ? (-val >>> 0) : val;
  const out = new Uint8Array(bits / 8);
  for (let i = 0; i < out.length; i++) out[i] = (v >>> (8 * (out.length - 1 - i))) & 0xff;
  return out;
}

/** Cursor over the value tokens. `end` marks where the `;` (or end of statement) is. */
class Cursor {
  i = 0;
  constructor(readonly toks: ValueToken[], readonly endLoc: SourceLoc) {}
  peek(k = 0): ValueToken | undefined {
    return this.toks[this.i + k];
  }
  next(): ValueToken | undefined {
    return this.toks[this.i++];
  }
  locOf(t: ValueToken | undefined): SourceLoc {
    return t ? t.loc : this.endLoc;
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }
}

/** A part of the value being assembled: constant bytes or an expression. */
type Part = { kind: 'const'; data: Uint8Array } | { kind: 'expr'; expr: Expr };

/** parse_host_name(): identifier/number labels joined by dots, optional trailing dot; null if none. */
function parseHostName(c: Cursor): string | null {
  const labels: string[] = [];
  let trailingDot = false;
  for (;;) {
    const t = c.peek();
    if (!t || !(isIdentifier(t) || t.type === 'number')) break;
    c.next();
    labels.push(t.image);
    if (isPunct(c.peek(), '.')) {
      c.next();
      trailingDot = true;
    } else {
      trailingDot = false;
      break;
    }
  }
  if (!labels.length) return null;
  return labels.join('.') + (trailingDot ? '.' : '');
}

/** parse_numeric_aggregate for a dotted quad (base 10, 8-bit, exactly 4). */
function parseDottedQuad(c: Cursor): Uint8Array {
  const out = new Uint8Array(4);
  for (let n = 0; n < 4; n++) {
    if (n) {
      const sep = c.peek();
      if (!isPunct(sep, '.')) {
        if (sep && !isPunct(sep, '{') && !isPunct(sep, '}')) c.next();
        throw new Fail(c.locOf(sep), 'too few numbers.');
      }
      c.next();
    }
    const t = c.next();
    if (!t) throw new Fail(c.endLoc, 'unexpected end of file');
    if (t.type !== 'number') throw new Fail(t.loc, 'expecting numeric value.');
    out.set(convertNumber(t.image, 10, 8, t.loc), n);
  }
  return out;
}

/** parse_cshl(): colon-separated hex octets. */
export function parseColonHex(c: Cursor): Uint8Array {
  const out: number[] = [];
  for (;;) {
    const t = c.next();
    if (!t || (t.type !== 'number' && t.type !== 'number-or-name')) {
      throw new Fail(c.locOf(t), 'expecting hexadecimal number.');
    }
    out.push(convertNumber(t.image, 16, 8, t.loc)[0]);
    if (!isPunct(c.peek(), ':')) break;
    c.next();
  }
  return Uint8Array.from(out);
}

/** Adjacent tokens (no whitespace between) — used to glue IPv6 literals like ISC's raw tokens. */
function adjacent(a: ValueToken, b: ValueToken): boolean {
  return a.loc.file === b.loc.file && a.loc.line === b.loc.line && a.loc.column + a.image.length === b.loc.column;
}

function parseIp6(c: Cursor): Uint8Array {
  const first = c.peek();
  let text = '';
  let prev: ValueToken | undefined;
  for (;;) {
    const t = c.peek();
    if (!t) break;
    const ok =
      ((t.type === 'name' || t.type === 'number-or-name' || t.type === 'keyword') && /^[0-9a-fA-F]+$/.test(t.image)) ||
      t.type === 'number' || isPunct(t, '.') || isPunct(t, ':');
    if (!ok || (prev && !adjacent(prev, t))) break;
    text += t.image;
    prev = t;
    c.next();
  }
  if (!isIPv6(text)) throw new Fail(c.locOf(first), 'Invalid IPv6 address.');
  return ipv6Bytes(text);
}

function ipv6Bytes(text: string): Uint8Array {
  // Expand :: and an IPv4 tail.
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (v4) {
    tail = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, null];
  const h = head ? head.split(':') : [];
  const r = rest !== null && rest ? rest.split(':') : [];
  const fill = rest !== null ? 8 - h.length - r.length : 0;
  const groups = [...h, ...Array(fill).fill('0'), ...r].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

function parseToken(c: Cursor, fmt: OptionFormat, idx: number, uniform: boolean, lookups: boolean): Part | null {
  const atom = fmt.fields[idx];
  const optional = fmt.optional[idx];
  switch (atom.kind) {
    case 'space-name': {
      const t = c.next();
      if (!isIdentifier(t)) {
        if (!optional) throw new Fail(c.locOf(t), 'expecting identifier.');
        return null;
      }
      return { kind: 'const', data: Buffer.from(t!.image, 'latin1') };
    }
    case 'encapsulate':
    case 'string': {
      const t = c.peek();
      if (t && (t.type === 'number' || t.type === 'number-or-name')) return { kind: 'const', data: parseColonHex(c) };
      c.next();
      if (t && t.type === 'string') return { kind: 'const', data: t.bytes ?? Buffer.from(t.image, 'latin1') };
      if (!optional) throw new Fail(c.locOf(t), 'expecting string or hexadecimal data.');
      return null;
    }
    case 'domain-list': {
      const names: Uint8Array[] = [];
      for (;;) {
        const t = c.next();
        if (!t || t.type !== 'string') throw new Fail(c.locOf(t), 'Expecting a domain string.');
        names.push(t.bytes ?? Buffer.from(t.image, 'latin1'));
        if (!isPunct(c.peek(), ',')) break;
        c.next();
      }
      const data = encodeDomainList(names, atom.compressed);
      if (!data) throw new Fail(c.locOf(c.toks[c.i - 1]), `Error ${atom.compressed ? 'compressing' : 'assembling'} domain list: Message too long`);
      return { kind: 'const', data };
    }
    case 'domain-name': {
      const start = c.peek();
      const name = parseHostName(c);
      if (name === null) throw new Fail(c.locOf(start), 'not a valid domain name.');
      const data = domainNameToWire(name);
      if (!data) throw new Fail(c.locOf(start), 'Error assembling domain name: Message too long');
      return { kind: 'const', data };
    }
    case 'text': {
      const t = c.next();
      if (!t || (t.type !== 'string' && !isIdentifier(t))) {
        if (!optional) throw new Fail(c.locOf(t), 'expecting string.');
        return null;
      }
      return { kind: 'const', data: t.type === 'string' ? (t.bytes ?? Buffer.from(t.image, 'latin1')) : Buffer.from(t.image, 'latin1') };
    }
    case 'key-name': {
      const t = c.peek();
      if (t && t.type === 'string') {
        c.next();
        return { kind: 'const', data: t.bytes ?? Buffer.from(t.image, 'latin1') };
      }
      const name = parseHostName(c);
      if (name === null) throw new Fail(c.locOf(t), 'not a valid key name.');
      return { kind: 'const', data: Buffer.from(name, 'latin1') };
    }
    case 'enumeration': {
      const t = c.next();
      if (!isIdentifier(t)) throw new Fail(c.locOf(t), 'identifier expected');
      const values = ENUMERATIONS[atom.enumName] ?? {};
      const v = Object.hasOwn(values, t!.image) ? values[t!.image] : undefined;
      if (v === undefined) throw new Fail(t!.loc, 'unknown value');
      const width = ENUMERATION_WIDTHS[atom.enumName] ?? 1;
      return { kind: 'const', data: width === 2 ? Uint8Array.of(v >> 8, v & 0xff) : Uint8Array.of(v) };
    }
    case 'ip-address': {
      const t = c.peek();
      if (t && t.type === 'number') {
        const t1 = c.peek(1);
        const t2 = c.peek(2);
        if (isPunct(t1, '.') && t2 && t2.type === 'number') return { kind: 'const', data: parseDottedQuad(c) };
      }
      if (lookups && t && (isIdentifier(t) || t.type === 'number')) {
        const name = parseHostName(c)!;
        const expr: Expr = uniform ? { op: 'host-lookup', hostname: name } : { op: 'host-lookup', hostname: name, limit: 4 };
        return { kind: 'expr', expr };
      }
      if (!lookups) return { kind: 'const', data: parseDottedQuad(c) };
      if (t && !isPunct(t, '{') && !isPunct(t, '}')) c.next();
      // ISC prints the token's text and its internal token number (includes/dhctoken.h: punctuation is its
      // character code, STRING 262); only non-identifier tokens can get here.
      const num = !t ? 59 : t.type === 'string' ? 262 : t.image.charCodeAt(0);
      throw new Fail(c.locOf(t), `${t ? t.image : ';'} (${num}): expecting IP address or hostname`);
    }
    case 'ip6-address':
      return { kind: 'const', data: parseIp6(c) };
    case 'lease-time': {
      const t = c.peek();
      if (t && t.type === 'keyword' && t.image.toLowerCase() === 'infinite') {
        c.next();
        return { kind: 'const', data: Uint8Array.of(0xff, 0xff, 0xff, 0xff) };
      }
      return parseInteger(c, 32, optional);
    }
    case 'integer':
      return parseInteger(c, atom.bits, optional);
    case 'boolean': {
      const t = c.next();
      if (!isIdentifier(t)) {
        if (!optional) throw new Fail(c.locOf(t), 'expecting identifier.');
        return null;
      }
      const v = t!.image.toLowerCase();
      const b = v === 'true' || v === 'on' ? 1 : v === 'false' || v === 'off' ? 0 : v === 'ignore' ? 2 : -1;
      if (b < 0) {
        if (!optional) throw new Fail(t!.loc, 'expecting boolean.');
        return null;
      }
      return { kind: 'const', data: Uint8Array.of(b) };
    }
    case 'zerolen': {
      const t = c.peek();
      if (t) throw new Fail(t.loc, 'semicolon expected.');
      return { kind: 'const', data: new Uint8Array(0) };
    }
    case 'implicit-flag':
      return { kind: 'const', data: new Uint8Array(0) };
  }
}

function parseInteger(c: Cursor, bits: 8 | 16 | 32, optional: boolean): Part | null {
  const t = c.next();
  if (!t || (t.type !== 'number' && t.type !== 'number-or-name')) {
    if (!optional) throw new Fail(c.locOf(t), 'expecting number.');
    return null;
  }
  return { kind: 'const', data: convertNumber(t.image, 0, bits, t.loc) };
}

/**
 * Parse an option's value tokens (everything between the option name and the `;`, exclusive) against
 * its definition, like ISC's parse_option_data. `endLoc` is where the `;` is (for errors at the end).
 * `lookups` false forbids host names in ip-address fields (ISC uses that for lease files).
 */
export function parseOptionValue(def: OptionDefinition, tokens: ValueToken[], endLoc: SourceLoc, lookups = true): ValueResult {
  const c = new Cursor(tokens, endLoc);
  const fmt = def.format;
  const parts: Part[] = [];
  try {
    if (fmt.fields.length === 0) {
      // Formats like nwip's "illegal-N" (empty): nothing may follow.
      if (!c.atEnd()) throw new Fail(c.peek()!.loc, 'semicolon expected.');
    } else {
      // One iteration per record (A) / per trailing element (a).
      let startIdx = 0;
      const uniformAll = fmt.fields.length === 1 && fmt.array !== 'none';
      for (;;) {
        const uniform = uniformAll || (fmt.array === 'last' && startIdx === fmt.fields.length - 1);
        for (let idx = startIdx; idx < fmt.fields.length; idx++) {
          if (fmt.optional[idx] && c.atEnd()) continue;
          const p = parseToken(c, fmt, idx, uniform, true);
          if (p) parts.push(p);
        }
        if (fmt.array === 'none') break;
        if (isPunct(c.peek(), ',')) {
          c.next();
          startIdx = fmt.array === 'record' ? 0 : fmt.fields.length - 1;
          continue;
        }
        if (fmt.array === 'last' && startIdx === 0 && fmt.fields.length > 1 && !c.atEnd()) {
          // ISC "a": after the record, the last field repeats (comma separated) — handled above.
        }
        break;
      }
      if (!c.atEnd()) throw new Fail(c.peek()!.loc, 'semicolon expected.');
    }
  } catch (e) {
    if (e instanceof Fail) {
      const i = tokens.findIndex((t) => t.loc === e.loc);
      return { ok: false, error: { loc: e.loc, message: e.message, index: i < 0 ? tokens.length : i } };
    }
    throw e;
  }
  return { ok: true, value: foldParts(parts) };
}

/** Constant-fold the parts into one value: const bytes when possible, else a concat expression. */
function foldParts(parts: Part[]): OptionValue {
  // One constant part (a text option, one address, one number): every part is freshly built for this
  // value, so it can be the value itself — no second copy per option statement.
  if (parts.length === 1 && parts[0].kind === 'const' && parts[0].data.constructor === Uint8Array) {
    return { kind: 'const', data: parts[0].data };
  }
  if (parts.every((p) => p.kind === 'const')) {
    const total = parts.reduce((n, p) => n + (p as { data: Uint8Array }).data.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      const d = (p as { data: Uint8Array }).data;
      out.set(d, o);
      o += d.length;
    }
    return { kind: 'const', data: out };
  }
  const exprs: Expr[] = [];
  let pending: number[] = [];
  for (const p of parts) {
    if (p.kind === 'const') pending.push(...p.data);
    else {
      if (pending.length) exprs.push({ op: 'const-data', data: Uint8Array.from(pending) });
      pending = [];
      exprs.push(p.expr);
    }
  }
  if (pending.length) exprs.push({ op: 'const-data', data: Uint8Array.from(pending) });
  return { kind: 'expr', expr: exprs.length === 1 ? exprs[0] : { op: 'concat', parts: exprs } };
}

/** Cursor-level helpers other config parts reuse (hardware addresses, uid, subclass data, hba). */
export const valueParsing = {
  Cursor,
  Fail,
  parseColonHex,
  parseDottedQuad,
  parseHostName,
};
