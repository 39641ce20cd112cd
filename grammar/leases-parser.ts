/**
 * dhcpd.leases parser (GRAMMAR.md §10), following what ISC dhcpd 4.4's lease_file_subparse /
 * parse_lease_declaration accept (facts from ISC's confpars.c/parse.c, not code), on the shared ISC
 * tokenizer (grammar/tokens.ts `tokenizeConfig`).
 *
 * It reads everything ISC 4.x writes: lease records (dates `W YYYY/MM/DD HH:MM:SS [TZOFF]`, `epoch N`,
 * `never`; octal-escaped or hex uids; `set`, `on`, agent options, billing class, abandoned/backup/reserved/
 * bootp), host/group/class/subclass records (incl. `deleted;`), failover peer state, server-duid,
 * authoring-byte-order; DHCPv6 IA records are skipped (reported). Repeated records for one address: the last
 * wins, as in ISC.
 *
 * Diagnostics are ISC's: message text as ISC words it, at the line ISC reports (the line of the last token
 * ISC's lexer had read when it complained). ISC logs them and carries on (skipping the bad statement or
 * lease); this parser does the same and returns every diagnostic, so callers can decide (the importer
 * refuses a file with any).
 *
 * @module
 */
import { tokenizeConfig, type Tok } from './tokens.js';
import {
  emptyLease,
  ipv4ToString,
  NEVER_THRESHOLD,
  type AgentSubOption,
  type BindingState,
  type ClassRecord,
  type FailoverStateName,
  type FailoverStateRecord,
  type GroupRecord,
  type HardwareAddress,
  type HostRecord,
  type Lease,
  type LeaseTime,
  FAILOVER_STATE_NAMES,
} from '../leases/lease.js';

/** One diagnostic, positioned as ISC positions it. */
export interface LeaseFileDiagnostic {
  file: string;
  /** ISC's line (1-based). */
  line: number;
  /** 1-based column of the token ISC had last read. */
  column: number;
  message: string;
  /** The source line, for the caret display. */
  sourceLine: string;
}

/** `FILE line N: message` exactly as ISC's parse_warn prints its first line. */
export function formatLeaseDiagnostic(d: LeaseFileDiagnostic): string {
  return `${d.file} line ${d.line}: ${d.message}`;
}

/** A record the importer did not take, and why. */
export interface SkippedRecord {
  line: number;
  what: string;
  reason: string;
}

/** What the configuration says, for the checks ISC makes against it (all optional). */
export interface LeaseParseContext {
  /** Current time (seconds) for ISC's derived binding state when a lease has none. Default: now. */
  now?: number;
  /** Failover peers declared in dhcpd.conf with this server's role; when given, unknown peers are errors. */
  failoverPeers?: ReadonlyMap<string, 'primary' | 'secondary'>;
  /** Class names declared in dhcpd.conf; when given, `billing class` of an unknown class is an error. */
  classes?: ReadonlySet<string>;
  /** Host names declared in dhcpd.conf (a lease-file host with one of these names "already exists"). */
  hosts?: ReadonlySet<string>;
}

/** Everything read from one dhcpd.leases. */
export interface ParsedLeaseFile {
  file: string;
  /** Leases, one per address (the last record wins), in order of their last record. */
  leases: Map<number, Lease>;
  /** Host records by name, as ISC's host table stands after the file (deleted dynamic hosts are gone). */
  hosts: Map<string, HostRecord>;
  groups: Map<string, GroupRecord>;
  /** Class/subclass records, keyed by `name` or `name\0hex(data)`. */
  classes: Map<string, ClassRecord>;
  failoverStates: Map<string, FailoverStateRecord>;
  serverDuid: Buffer | null;
  authoringByteOrder: 'little-endian' | 'big-endian' | null;
  /** Number of lease records that were superseded by a later record for the same address. */
  supersededLeaseRecords: number;
  skipped: SkippedRecord[];
  diagnostics: LeaseFileDiagnostic[];
}

const BINDING_WORDS: Record<string, { state: BindingState; flag?: 'reserved' | 'bootp' }> = {
  abandoned: { state: 'abandoned' },
  free: { state: 'free' },
  active: { state: 'active' },
  expired: { state: 'expired' },
  released: { state: 'released' },
  reset: { state: 'reset' },
  backup: { state: 'backup' },
  // Legacy words: active plus a flag (ISC parse_lease_declaration).
  reserved: { state: 'active', flag: 'reserved' },
  bootp: { state: 'active', flag: 'bootp' },
};

const HARDWARE_WORDS: Record<string, number> = { ethernet: 1, 'token-ring': 6, fddi: 8, infiniband: 32 };

/** ISC's agent option space (server/stables.c): name → code and format. */
export const AGENT_OPTIONS: readonly { name: string; code: number; format: 'X' | 'I' | 'L' | 'Z' }[] = [
  { name: 'circuit-id', code: 1, format: 'X' },
  { name: 'remote-id', code: 2, format: 'X' },
  { name: 'agent-id', code: 3, format: 'I' },
  { name: 'DOCSIS-device-class', code: 4, format: 'L' },
  { name: 'link-selection', code: 5, format: 'I' },
  { name: 'relay-port', code: 19, format: 'Z' },
];

/** Decodes an ISC string token image with ISC's read_string rules, reporting its warnings. */
export function decodeLeaseString(image: string): { bytes: Buffer; warnings: string[] } {
  const warnings: string[] = [];
  const out: number[] = [];
  // image starts with '"'; may lack the closing quote (eof).
  let bs = 0;
  let hex = false;
  let value = 0;
  for (let i = 1; i < image.length; i++) {
    const ch = image[i]!;
    const c = image.charCodeAt(i);
    if (bs === 1) {
      switch (ch) {
        case 't':
          out.push(9);
          break;
        case 'r':
          out.push(13);
          break;
        case 'n':
          out.push(10);
          break;
        case 'b':
          out.push(8);
          break;
        case '0':
        case '1':
        case '2':
        case '3':
          hex = false;
          value = c - 48;
          bs = 2;
          continue;
        case 'x':
          hex = true;
          value = 0;
          bs = 2;
          continue;
        default:
          out.push(c & 0xff);
      }
      bs = 0;
    } else if (bs > 1) {
      if (hex) {
        const d = /[0-9a-fA-F]/.test(ch) ? parseInt(ch, 16) : -1;
        if (d < 0) {
          warnings.push(`invalid hex digit: ${c.toString(16)}`);
          bs = 0;
          continue;
        }
        value = value * 16 + d;
        if (++bs === 4) {
          out.push(value & 0xff);
          bs = 0;
        }
      } else {
        if (c >= 48 && c <= 55) {
          value = value * 8 + (c - 48);
        } else if (value !== 0) {
          warnings.push(`invalid octal digit ${c.toString(16)}`);
          continue;
        } else {
          // ISC stores a NUL and treats the next char as an escape (its bs counter wraps to 1).
          out.push(0);
          bs = 0;
        }
        if (++bs === 4) {
          out.push(value & 0xff);
          bs = 0;
        }
      }
    } else if (ch === '\\') {
      bs = 1;
    } else if (ch === '"') {
      break;
    } else {
      out.push(c & 0xff);
    }
  }
  return { bytes: Buffer.from(out), warnings };
}

/** ISC's parse_date_core arithmetic (UTC, ISC's own leap-year rule), for `W YYYY/MM/DD HH:MM:SS [tz]`. */
export function iscDateToEpoch(yearIn: number, month: number, mday: number, hour: number, min: number, sec: number, tzoff = 0): LeaseTime {
  const months = [31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
  let year = yearIn;
  if (year > 1900) year -= 1900;
  if (year >= 138) return null;
  const mon = month - 1;
  const days =
    365 * (year - 70) + Math.trunc((year - 69) / 4) + (mon > 0 ? (months[mon - 1] ?? 0) : 0) + (mon > 1 && ((year - 72) & 3) === 0 ? 1 : 0) + mday - 1;
  return ((days * 24 + hour) * 60 + min) * 60 + sec + tzoff;
}

/** Parses dhcpd.leases text (a latin1 string: one char a byte). Never throws on bad input. */
export function parseLeaseFileText(text: string, file: string, ctx: LeaseParseContext = {}): ParsedLeaseFile {
  const p = new LeaseFileParser(file, ctx);
  p.feed(text, tokenizeConfig(text, file).tokens, 0);
  return p.result();
}

/** Called for every lease record, in file order, by a parser given a sink (the caller keeps the last). */
export type LeaseRecordSink = (lease: Lease, line: number) => void;

/**
 * The parser itself, fed whole top-level records at a time (grammar/leases-stream.ts drives it over a big
 * file; {@link parseLeaseFileText} over one text). Not for other uses.
 */
export class LeaseFileParser {
  private toks: Tok[] = [];
  private text = '';
  private pos = 0;
  /** Index of the furthest token lexed (ISC's lexline follows peeks too). */
  private lexed = 0;
  private readonly now: number;
  private readonly out: ParsedLeaseFile;
  private readonly stringWarned = new Set<number>();
  private readonly leaseClasses = new Set<string>();
  private authoringSeen = false;
  private dynamicHosts = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly ctx: LeaseParseContext,
    /** When given, leases go here instead of into `out.leases`. */
    private readonly sink?: LeaseRecordSink,
  ) {
    this.now = ctx.now ?? Math.floor(Date.now() / 1000);
    this.out = {
      file,
      leases: new Map(),
      hosts: new Map(),
      groups: new Map(),
      classes: new Map(),
      failoverStates: new Map(),
      serverDuid: null,
      authoringByteOrder: null,
      supersededLeaseRecords: 0,
      skipped: [],
      diagnostics: [],
    };
  }

  /**
   * Parses the top-level records of `text` (whole records; `toks` its tokens ending with an eof token).
   * `lineBase` is the number of lines before `text` in the file: token lines become file lines.
   */
  feed(text: string, toks: Tok[], lineBase: number): void {
    if (lineBase !== 0) for (const t of toks) t.line += lineBase;
    this.text = text;
    this.toks = toks;
    this.pos = 0;
    this.lexed = 0;
    this.stringWarned.clear();
    this.run();
  }

  result(): ParsedLeaseFile {
    return this.out;
  }

  // ---- token access (ISC's next_token / peek_token / skip_token) ----

  private peek(): Tok {
    const t = this.toks[this.pos]!;
    this.touch(this.pos);
    return t;
  }

  private next(): Tok {
    const t = this.toks[this.pos]!;
    this.touch(this.pos);
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private touch(i: number): void {
    if (i > this.lexed) this.lexed = i;
    const t = this.toks[i]!;
    if (t.kind === 'string' && !this.stringWarned.has(i)) {
      this.stringWarned.add(i);
      for (const w of decodeLeaseString(t.image).warnings) this.warnAt(t, w);
      if (t.unterminated) this.warnAt(t, 'eof in string constant');
    }
  }

  private warn(message: string): void {
    this.warnAt(this.toks[this.lexed]!, message);
  }

  /** The text line a token starts on. */
  private sourceLine(t: Tok): string {
    const text = this.text;
    const at = Math.min(t.offset, text.length);
    const start = at > 0 ? text.lastIndexOf('\n', at - 1) + 1 : 0;
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    return text.slice(start, end);
  }

  private warnAt(t: Tok, message: string): void {
    this.out.diagnostics.push({
      file: this.file,
      line: t.line,
      column: t.column,
      message,
      sourceLine: this.sourceLine(t),
    });
  }

  private isPunct(t: Tok, c: string): boolean {
    return t.kind === 'punct' && t.image === c;
  }

  private kw(t: Tok, k: string): boolean {
    return t.keyword === k;
  }

  /** ISC is_identifier: any word that is not a plain NUMBER. */
  private isIdentifier(t: Tok): boolean {
    return t.kind === 'name' || t.kind === 'numberOrName';
  }

  private stringBytes(t: Tok): Buffer {
    return decodeLeaseString(t.image).bytes;
  }

  /** ISC skip_to_rbrace(brace_count). */
  private skipToRbrace(braceCount: number): void {
    let t: Tok;
    do {
      t = this.peek();
      if (this.isPunct(t, '}')) {
        if (braceCount > 0) braceCount--;
        if (braceCount === 0) {
          this.next();
          return;
        }
      } else if (this.isPunct(t, '{')) {
        braceCount++;
      } else if (this.isPunct(t, ';') && braceCount === 0) {
        this.next();
        return;
      }
      t = this.next();
    } while (t.kind !== 'eof');
  }

  private skipToSemi(): void {
    this.skipToRbrace(0);
  }

  /** ISC parse_semi. */
  private parseSemi(): boolean {
    const t = this.next();
    if (!this.isPunct(t, ';')) {
      this.warn('semicolon expected.');
      this.skipToSemi();
      return false;
    }
    return true;
  }

  /** ISC convert_num for one byte-sized or larger value; returns the value. */
  private convertNum(str: string, base: number, size: number): number {
    let s = str;
    let negative = false;
    if (s.startsWith('-')) {
      negative = true;
      s = s.slice(1);
    }
    let val = 0;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      let d: number;
      if (ch >= 97) d = ch - 97 + 10;
      else if (ch >= 65) d = ch - 65 + 10;
      else if (ch >= 48) d = ch - 48;
      else {
        this.warn(`Bogus number: ${str}.`);
        break;
      }
      if (d >= base) {
        this.warn(`Bogus number ${str}: digit ${d} not in base ${base}`);
        break;
      }
      val = val * base + d;
    }
    const max = negative ? 2 ** (size - 1) : 2 ** size - 1;
    if (val > max) {
      const shown = base === 8 ? val.toString(8) : base === 16 ? val.toString(16) : String(val);
      this.warn(`${negative ? '-' : ''}${shown} exceeds max (${max}) for precision.`);
    }
    return negative ? -val : val;
  }

  /**
   * ISC parse_numeric_aggregate with separator `sep`; `max` 0 = any count. Returns the numbers or null
   * after a diagnostic.
   */
  private numericAggregate(sep: string, base: number, max: number): number[] | null {
    const vals: number[] = [];
    let count = 0;
    do {
      if (count) {
        const t = this.peek();
        if (!this.isPunct(t, sep)) {
          if (!max) break;
          let tt = t;
          if (!this.isPunct(t, '}') && !this.isPunct(t, '{')) tt = this.next();
          this.warn('too few numbers.');
          if (!this.isPunct(tt, ';')) this.skipToSemi();
          return null;
        }
        this.next();
      }
      const t = this.next();
      if (t.kind === 'eof') {
        this.warn('unexpected end of file');
        break;
      }
      if (t.kind !== 'number' && (base !== 16 || t.kind !== 'numberOrName')) {
        this.warn('expecting numeric value.');
        this.skipToSemi();
        return null;
      }
      vals.push(this.convertNum(t.text, base, 8));
    } while (++count !== max);
    return vals;
  }

  /** ISC parse_X / parse_cshl-style value: a string or colon-separated hex bytes. */
  private parseX(): Buffer | null {
    const t = this.peek();
    if (t.kind === 'numberOrName' || t.kind === 'number') {
      const bytes: number[] = [];
      let tt: Tok;
      do {
        const n = this.next();
        if (n.kind !== 'number' && n.kind !== 'numberOrName') {
          this.warn('expecting hexadecimal constant.');
          this.skipToSemi();
          return null;
        }
        bytes.push(this.convertNum(n.text, 16, 8) & 0xff);
        tt = this.peek();
        if (this.isPunct(tt, ':')) this.next();
      } while (this.isPunct(tt, ':'));
      return Buffer.from(bytes);
    }
    if (t.kind === 'string') {
      this.next();
      return this.stringBytes(t);
    }
    this.warn('expecting string or hexadecimal data');
    this.skipToSemi();
    return null;
  }

  /** ISC parse_date (date + `;`). Returns undefined after a diagnostic (ISC's 0). */
  private parseDate(): LeaseTime | undefined {
    const v = this.parseDateCore();
    if (!this.parseSemi()) return undefined;
    return v;
  }

  private parseDateCore(): LeaseTime | undefined {
    let t = this.peek();
    if (this.kw(t, 'never')) {
      this.next();
      return null;
    }
    if (this.kw(t, 'epoch')) {
      this.next();
      t = this.peek();
      if (t.kind !== 'number') {
        if (!this.isPunct(t, ';')) this.next();
        this.warn('Seconds since epoch expected.');
        return undefined;
      }
      this.next();
      const v = Number.parseInt(t.text, 10) | 0; // atoi into an int
      return v;
    }
    const want = (pred: (x: Tok) => boolean, msg: string): Tok | undefined => {
      const x = this.peek();
      if (!pred(x)) {
        if (!this.isPunct(x, ';')) this.next();
        this.warn(msg);
        return undefined;
      }
      this.next();
      return x;
    };
    const num = (x: Tok): boolean => x.kind === 'number';
    if (!want(num, 'numeric day of week expected.')) return undefined;
    const y = want(num, 'numeric year expected.');
    if (!y) return undefined;
    if (!want((x) => this.isPunct(x, '/'), 'expected slash separating year from month.')) return undefined;
    const mo = want(num, 'numeric month expected.');
    if (!mo) return undefined;
    if (!want((x) => this.isPunct(x, '/'), 'expected slash separating month from day.')) return undefined;
    const d = want(num, 'numeric day of month expected.');
    if (!d) return undefined;
    const h = want(num, 'numeric hour expected.');
    if (!h) return undefined;
    if (!want((x) => this.isPunct(x, ':'), 'expected colon separating hour from minute.')) return undefined;
    const mi = want(num, 'numeric minute expected.');
    if (!mi) return undefined;
    if (!want((x) => this.isPunct(x, ':'), 'expected colon separating minute from second.')) return undefined;
    const s = want(num, 'numeric second expected.');
    if (!s) return undefined;
    let tz = 0;
    const z = this.peek();
    if (z.kind === 'number') {
      this.next();
      tz = Number.parseInt(z.text, 10);
    } else if (!this.isPunct(z, ';')) {
      this.next();
      this.warn('Time zone offset or semicolon expected.');
      return undefined;
    }
    const atoi = (x: Tok): number => Number.parseInt(x.text, 10);
    const v = iscDateToEpoch(atoi(y), atoi(mo), atoi(d), atoi(h), atoi(mi), atoi(s), tz);
    return v !== null && v >= NEVER_THRESHOLD ? null : v;
  }

  /** ISC parse_hardware_param. Returns the address, or null after a diagnostic. */
  private parseHardware(): HardwareAddress | null {
    const t = this.next();
    let htype: number;
    const k = t.keyword ?? t.text.toLowerCase();
    if (HARDWARE_WORDS[k] !== undefined) htype = HARDWARE_WORDS[k];
    else if (t.text.startsWith('unknown-')) htype = Number.parseInt(t.text.slice(8), 10) || 0;
    else {
      this.warn('expecting a network hardware type');
      this.skipToSemi();
      return null;
    }
    let addr: number[] = [];
    if (!this.isPunct(this.peek(), ';')) {
      const v = this.numericAggregate(':', 16, 0);
      if (v === null) return { htype, address: Buffer.alloc(0) };
      if (v.length + 1 > 21) {
        this.warn('hardware address too long');
      } else addr = v;
    }
    const s = this.next();
    if (!this.isPunct(s, ';')) {
      this.warn('expecting semicolon.');
      this.skipToSemi();
    }
    return { htype, address: Buffer.from(addr.map((b) => b & 0xff)) };
  }

  /** ISC parse_host_name: dotted identifiers/numbers. */
  private parseHostName(): string | null {
    const parts: string[] = [];
    let trailingDot = false;
    for (;;) {
      const t = this.peek();
      if (!this.isIdentifier(t) && t.kind !== 'number') break;
      this.next();
      parts.push(t.text);
      if (this.isPunct(this.peek(), '.')) {
        this.next();
        trailingDot = true;
      } else {
        trailingDot = false;
        break;
      }
    }
    if (parts.length === 0) return null;
    return parts.join('.') + (trailingDot ? '.' : '');
  }

  /** Raw source text between token indexes [from, to) (statements kept verbatim, lines trimmed). */
  private rawText(from: number, to: number): string {
    if (to <= from) return '';
    const a = this.toks[from]!.offset;
    const b = this.toks[to - 1]!.end;
    return this.text
      .slice(a, b)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .join('\n');
  }

  /** Skips one statement (to `;`, or a balanced `{ … }` block) and returns its token range. */
  private skipStatement(): [number, number] {
    const start = this.pos;
    this.skipToSemi();
    return [start, this.pos];
  }

  // ---- top level (ISC lease_file_subparse) ----

  private run(): void {
    {
      for (;;) {
        const t = this.next();
        if (t.kind === 'eof') break;
        const k = t.keyword;
        if (k === 'lease') {
          const l = this.parseLease(t);
          if (l) this.enterLease(l, t.line);
          else this.warn('possibly corrupt lease file');
        } else if (k === 'ia-na' || k === 'ia-ta' || k === 'ia-pd') {
          this.skipV6(t);
        } else if (k === 'class' || k === 'subclass') {
          this.parseClass(k === 'subclass');
        } else if (k === 'host') {
          this.parseHost();
        } else if (k === 'group') {
          this.parseGroup();
        } else if (k === 'failover') {
          this.parseFailoverState();
        } else if (k === 'server-duid') {
          this.parseServerDuid();
        } else if (k === 'authoring-byte-order') {
          this.parseAuthoringByteOrder();
        } else {
          // ISC: log_error("Corrupt lease file - possible data loss!") (no line); we name the line.
          this.warnAt(t, 'Corrupt lease file - possible data loss!');
          this.skipToSemi();
        }
      }
    }
  }

  private enterLease(l: Lease, line: number): void {
    if (this.sink) {
      this.sink(l, line);
      return;
    }
    if (this.out.leases.has(l.address)) {
      this.out.leases.delete(l.address);
      this.out.supersededLeaseRecords++;
    }
    this.out.leases.set(l.address, l);
  }

  private skipV6(t: Tok): void {
    const start = this.pos;
    // `ia-xx IAID_DUID { … }`: skip_to_rbrace(0) passes the whole block (it stops at its closing brace).
    this.skipToRbrace(0);
    this.out.skipped.push({ line: t.line, what: `${t.keyword ?? t.text} ${this.toks[start]?.image ?? ''}`.trim(), reason: 'DHCPv6 lease; dhcpd-ts serves DHCPv4 only' });
  }

  // ---- lease ----

  private parseLease(leaseTok: Tok): Lease | null {
    const addr = this.numericAggregate('.', 10, 4);
    if (!addr) return null;
    const address = (((addr[0]! & 255) << 24) | ((addr[1]! & 255) << 16) | ((addr[2]! & 255) << 8) | (addr[3]! & 255)) >>> 0;
    const lb = this.next();
    if (!this.isPunct(lb, '{')) {
      this.warn('expecting left brace.');
      this.skipToSemi();
      return null;
    }
    const l = emptyLease(address);
    let seenmask = 0;
    let sawTstp = false;
    for (;;) {
      const t = this.next();
      if (this.isPunct(t, '}')) break;
      if (t.kind === 'eof') {
        this.warn('unexpected end of file');
        break;
      }
      const tbuf = t.text.slice(0, 31);
      let seenbit = 0;
      const k = t.keyword;
      switch (k) {
        case 'starts':
        case 'ends':
        case 'timestamp':
        case 'tstp':
        case 'tsfp':
        case 'atsfp':
        case 'cltt': {
          const v = this.parseDate();
          const tv: LeaseTime = v === undefined ? 0 : v;
          if (k === 'starts') {
            seenbit = 1;
            l.starts = tv;
          } else if (k === 'ends') {
            seenbit = 2;
            l.ends = tv;
          } else if (k === 'tstp') {
            seenbit = 65536;
            l.tstp = tv;
            sawTstp = true;
          } else if (k === 'tsfp') {
            seenbit = 131072;
            l.tsfp = tv;
          } else if (k === 'atsfp') {
            seenbit = 262144;
            l.atsfp = tv;
          } else if (k === 'cltt') {
            seenbit = 524288;
            l.cltt = tv;
          } else {
            // `timestamp` is parsed and ignored by ISC 4.4 (it falls into the seenbit of the previous case).
            seenbit = 0;
          }
          break;
        }
        case 'uid': {
          seenbit = 8;
          const p = this.peek();
          if (p.kind === 'string') {
            this.next();
            const u = this.stringBytes(p);
            l.uid = u.length > 0 ? u : null; // ISC: uid_len 0 is "no uid" (never written back)
          } else {
            const v = this.numericAggregate(':', 16, 0);
            if (!v) return null;
            if (v.length === 0) {
              this.warn('zero-length uid');
              seenbit = 0;
              this.parseSemi();
              break;
            }
            l.uid = Buffer.from(v.map((b) => b & 0xff));
          }
          this.parseSemi();
          break;
        }
        case 'class': {
          seenbit = 32;
          const n = this.next();
          if (!this.isIdentifier(n)) {
            if (!this.isPunct(n, ';')) this.skipToRbrace(1);
            return null;
          }
          this.parseSemi();
          break;
        }
        case 'hardware': {
          seenbit = 64;
          const hw = this.parseHardware();
          if (hw) l.hardware = hw;
          break;
        }
        case 'reserved':
          l.reserved = true;
          this.parseSemi();
          break;
        case 'dynamic-bootp':
          l.dynamicBootp = true;
          this.parseSemi();
          break;
        case 'abandoned':
          seenbit = 256;
          l.bindingState = 'abandoned';
          l.nextBindingState = 'abandoned';
          this.parseSemi();
          break;
        case 'next':
        case 'rewind':
        case 'binding': {
          seenbit = k === 'next' ? 128 : k === 'rewind' ? 512 : 256;
          if (k !== 'binding') {
            const b = this.next();
            if (!this.kw(b, 'binding')) {
              this.warn("expecting 'binding'");
              this.skipToSemi();
              break;
            }
          }
          const st = this.next();
          if (!this.kw(st, 'state')) {
            this.warn("expecting 'state'");
            this.skipToSemi();
            break;
          }
          const w = this.next();
          const bw = w.keyword !== undefined ? BINDING_WORDS[w.keyword] : undefined;
          if (!bw) {
            this.warn(`${w.text}: expecting a binding state.`);
            this.skipToSemi();
            return null;
          }
          if (bw.flag === 'reserved') l.reserved = true;
          if (bw.flag === 'bootp') l.dynamicBootp = true;
          if (seenbit === 256) {
            l.bindingState = bw.state;
            if (!(seenmask & 128)) l.nextBindingState = bw.state;
            if (!(seenmask & 512)) l.rewindBindingState = bw.state;
          } else if (seenbit === 128) l.nextBindingState = bw.state;
          else l.rewindBindingState = bw.state;
          this.parseSemi();
          break;
        }
        case 'client-hostname': {
          seenbit = 1024;
          const p = this.peek();
          if (p.kind === 'string') {
            this.next();
            l.clientHostname = this.stringBytes(p).toString('latin1');
            if (!this.parseSemi()) return null;
          } else {
            const name = this.parseHostName();
            if (name !== null) {
              l.clientHostname = name;
              this.parseSemi();
            } else {
              this.warn('expecting a hostname.');
              this.skipToSemi();
              return null;
            }
          }
          break;
        }
        case 'billing': {
          seenbit = 2048;
          const b = this.next();
          if (this.kw(b, 'class')) {
            const n = this.next();
            if (n.kind !== 'string') {
              this.warn('expecting string');
              if (!this.isPunct(n, ';')) this.skipToSemi();
              break;
            }
            const name = this.stringBytes(n).toString('latin1');
            if (!this.classKnown(name)) this.warn(`unknown class ${name}`);
            this.parseSemi();
            l.billingClass = { kind: 'class', name };
          } else if (this.kw(b, 'subclass')) {
            const n = this.next();
            if (n.kind !== 'string') {
              this.warn('Expecting class name');
              this.skipToSemi();
              break;
            }
            const name = this.stringBytes(n).toString('latin1');
            if (!this.classKnown(name)) {
              this.warn(`no class named ${name}`);
              this.skipToSemi();
              break;
            }
            const data = this.parseX();
            if (!data) break;
            this.parseSemi();
            l.billingClass = { kind: 'subclass', name, data };
          } else {
            this.warn('expecting "class"');
            if (!this.isPunct(b, ';')) this.skipToSemi();
          }
          break;
        }
        case 'on': {
          if (!this.parseOn(l)) {
            this.skipToRbrace(1);
            return null;
          }
          seenbit = 0;
          break;
        }
        case 'option':
        case 'supersede': {
          const o = this.parseAgentOption();
          if (o) l.agentOptions.push(o);
          break;
        }
        case 'set': {
          const n = this.next();
          if (n.kind !== 'name' && n.kind !== 'numberOrName') {
            this.warn(`${n.text} can't be a variable name`);
            this.skipToSemi();
            return null;
          }
          if (!this.parseSetValue(l, n.text, false)) return null;
          break;
        }
        default: {
          const lower = t.text.toLowerCase();
          if (lower === 'ddns-fwd-name' || lower === 'ddns-rev-name') {
            seenbit = lower === 'ddns-fwd-name' ? 4096 : 8192;
            if (!this.parseSetValue(l, t.text, true)) return null;
            break;
          }
          this.warn('Unexpected configuration directive.');
          this.skipToSemi();
          return null;
        }
      }
      if (seenmask & seenbit) {
        this.warn(`Too many ${tbuf} parameters in lease ${ipv4ToString(address)}\n`.trimEnd());
      } else seenmask |= seenbit;
    }
    // No binding state: derived as ISC does (a failover pool would give expired; we have no pool here).
    if (!(seenmask & 256)) {
      const endsLater = l.ends === null || (l.ends !== null && l.ends > this.now);
      l.bindingState = endsLater || l.on.expiry !== undefined || l.on.release !== undefined ? 'active' : 'free';
      l.nextBindingState = l.bindingState === 'active' ? 'free' : l.bindingState;
      l.rewindBindingState = l.bindingState;
    }
    if (!sawTstp) l.tstp = l.ends;
    void leaseTok;
    return l;
  }

  private classKnown(name: string): boolean {
    if (this.leaseClasses.has(name)) return true;
    if (!this.ctx.classes) return true;
    return this.ctx.classes.has(name);
  }

  /** `set NAME = VALUE;` (or the legacy `ddns-fwd-name "…";`): ISC parse_binding_value. */
  private parseSetValue(l: Lease, name: string, noequal: boolean): boolean {
    if (!noequal) {
      const e = this.next();
      if (!this.isPunct(e, '=')) {
        this.warn("expecting '=' in set statement.");
        this.skipToSemi();
        return false;
      }
    }
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      l.scope.set(name, { kind: 'data', value: this.stringBytes(t) });
    } else if (t.kind === 'numberOrName') {
      const v = this.numericAggregate(':', 16, 0);
      if (!v) {
        this.skipToSemi();
        return false;
      }
      l.scope.set(name, { kind: 'data', value: Buffer.from(v.map((b) => b & 0xff)) });
    } else if (this.isPunct(t, '%')) {
      this.next();
      const n = this.next();
      if (n.kind !== 'number') {
        this.warn('expecting decimal number.');
        if (!this.isPunct(n, ';')) this.skipToSemi();
        return false;
      }
      l.scope.set(name, { kind: 'number', value: Number.parseInt(n.text, 10) });
    } else if (t.kind === 'name') {
      const n = this.next();
      const lower = n.text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') {
        this.warn('expecting true or false');
        if (!this.isPunct(n, ';')) this.skipToSemi();
        return false;
      }
      l.scope.set(name, { kind: 'boolean', value: lower === 'true' });
    } else {
      this.warn('expecting a constant value.');
      if (!this.isPunct(t, ';')) this.skipToSemi();
      return false;
    }
    this.parseSemi();
    return true;
  }

  /** `on EVENT [or EVENT …] { statements }`: the statements are kept as text. */
  private parseOn(l: Lease): boolean {
    const events: string[] = [];
    let t: Tok;
    do {
      t = this.next();
      const k = t.keyword;
      if (k === 'expiry' || k === 'commit' || k === 'release' || k === 'transmission') events.push(k);
      else {
        this.warn('expecting a lease event type');
        this.skipToSemi();
        return false;
      }
      t = this.next();
    } while (this.kw(t, 'or'));
    if (this.isPunct(t, ';')) return true;
    if (!this.isPunct(t, '{')) {
      this.warn('left brace expected.');
      this.skipToSemi();
      return false;
    }
    const start = this.pos;
    let depth = 1;
    for (;;) {
      const x = this.peek();
      if (x.kind === 'eof') {
        this.warn('right brace expected.');
        return false;
      }
      if (this.isPunct(x, '{')) depth++;
      if (this.isPunct(x, '}') && --depth === 0) break;
      this.next();
    }
    const body = this.rawText(start, this.pos);
    this.next(); // the closing brace
    if (body.length === 0) return true;
    // ISC keeps only the expiry and release statements of a lease (`on commit` parses but is dropped).
    if (events.includes('expiry')) l.on.expiry = body;
    if (events.includes('release')) l.on.release = body;
    if (events.includes('expiry') && events.includes('release')) l.on.expiryOrRelease = true;
    else delete l.on.expiryOrRelease;
    return true;
  }

  /** `option agent.NAME VALUE;` (ISC parse_option_decl restricted to what a lease may hold). */
  private parseAgentOption(): AgentSubOption | null {
    const first = this.next();
    if (!this.isIdentifier(first)) {
      this.warn('expecting identifier after option keyword.');
      if (!this.isPunct(first, ';')) this.skipToSemi();
      return null;
    }
    let space = 'dhcp';
    let name = first.text;
    if (this.isPunct(this.peek(), '.')) {
      this.next();
      const n = this.next();
      if (!this.isIdentifier(n)) {
        this.warn('expecting identifier after option keyword.');
        if (!this.isPunct(n, ';')) this.skipToSemi();
        return null;
      }
      space = first.text;
      name = n.text;
    }
    if (space !== 'agent') {
      this.warn('agent option expected.');
      this.skipToSemi();
      return null;
    }
    let def = AGENT_OPTIONS.find((o) => o.name === name);
    if (!def) {
      const m = /^unknown-(\d+)$/i.exec(name);
      if (!m) {
        this.warn(`no option named ${name} in space agent`);
        this.skipToSemi();
        return null;
      }
      def = { name, code: Number(m[1]), format: 'X' };
    }
    let data: Buffer | null;
    switch (def.format) {
      case 'X':
        data = this.parseX();
        if (!data) return null;
        break;
      case 'I': {
        const v = this.numericAggregate('.', 10, 4);
        if (!v) return null;
        data = Buffer.from(v.map((b) => b & 0xff));
        break;
      }
      case 'L': {
        const n = this.next();
        if (n.kind !== 'number') {
          this.warn('expecting number.');
          if (!this.isPunct(n, ';')) this.skipToSemi();
          return null;
        }
        data = Buffer.alloc(4);
        data.writeUInt32BE(Number.parseInt(n.text, 10) >>> 0);
        break;
      }
      default:
        data = Buffer.alloc(0);
    }
    if (!this.parseSemi()) return null;
    return { code: def.code, data };
  }

  // ---- host / group / class ----

  private parseHost(): void {
    const startTok = this.toks[this.pos - 1]!;
    const name = this.parseHostName();
    if (name === null) {
      this.warn('expecting a name for host declaration.');
      this.skipToSemi();
      return;
    }
    const lb = this.next();
    if (!this.isPunct(lb, '{')) {
      this.warn('expecting left brace.');
      this.skipToSemi();
      return;
    }
    const h: HostRecord = { name, dynamic: false, deleted: false, hardware: null, uid: null, fixedAddresses: [], group: null, statements: '' };
    const other: string[] = [];
    for (;;) {
      const t = this.peek();
      if (this.isPunct(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') {
        this.next();
        this.warn('unexpected end of file');
        break;
      }
      const k = t.keyword;
      if (k === 'dynamic') {
        this.next();
        h.dynamic = true;
        this.parseSemi();
      } else if (k === 'deleted') {
        this.next();
        h.deleted = true;
        this.parseSemi();
      } else if (k === 'hardware') {
        this.next();
        const hw = this.parseHardware();
        if (hw) h.hardware = hw;
      } else if (k === 'uid') {
        this.next();
        const v = this.parseX();
        if (v) {
          h.uid = v;
          this.parseSemi();
        }
      } else if (k === 'group') {
        this.next();
        const g = this.next();
        if (g.kind !== 'string' && !this.isIdentifier(g)) {
          this.warn('expecting string or identifier.');
          this.skipToRbrace(1);
          return;
        }
        h.group = g.kind === 'string' ? this.stringBytes(g).toString('latin1') : g.text;
        this.parseSemi();
      } else if (k === 'fixed-address') {
        const s = this.pos;
        this.next();
        const addrs: number[] = [];
        let ok = true;
        let named = false;
        for (;;) {
          if (this.peek().kind !== 'number') {
            // A host name (ISC parse_ip_addr_or_hostname): resolved at run time, so kept as statement text.
            if (this.parseHostName() === null) {
              this.warn('expecting IP address or hostname');
              this.skipToSemi();
              ok = false;
              break;
            }
            named = true;
          } else {
            const v = this.numericAggregate('.', 10, 4);
            if (!v || v.length !== 4) {
              ok = false;
              break;
            }
            addrs.push((((v[0]! & 255) << 24) | ((v[1]! & 255) << 16) | ((v[2]! & 255) << 8) | (v[3]! & 255)) >>> 0);
          }
          const sep = this.next();
          if (this.isPunct(sep, ',')) continue;
          if (!this.isPunct(sep, ';')) {
            this.warn('semicolon expected.');
            this.skipToSemi();
            ok = false;
          }
          break;
        }
        if (ok && !named) h.fixedAddresses.push(...addrs);
        else other.push(this.rawText(s, this.pos));
      } else {
        const [a, b] = this.skipStatement();
        other.push(this.rawText(a, b));
      }
    }
    h.statements = other.join('\n');
    if (h.deleted) {
      // ISC delete_host: a host the lease file created dynamically is simply gone; a deleted dhcpd.conf
      // host stays recorded as deleted.
      if (this.dynamicHosts.has(name)) {
        this.out.hosts.delete(name);
        this.dynamicHosts.delete(name);
      } else {
        this.out.hosts.set(name, { ...h, hardware: null, uid: null, fixedAddresses: [], group: null, statements: '' });
      }
      return;
    }
    const existing = this.out.hosts.get(name);
    if ((existing && !existing.deleted) || (!existing && this.ctx.hosts?.has(name))) {
      this.warn(`host ${name}: already exists`);
      return;
    }
    if (h.dynamic) this.dynamicHosts.add(name);
    this.out.hosts.set(name, h);
    void startTok;
  }

  private parseGroup(): void {
    const n = this.next();
    if (n.kind !== 'string' && !this.isIdentifier(n)) {
      this.warn('expecting name.');
      this.skipToSemi();
      return;
    }
    const name = n.kind === 'string' ? this.stringBytes(n).toString('latin1') : n.text;
    const lb = this.next();
    if (!this.isPunct(lb, '{')) {
      this.warn('expecting left brace.');
      this.skipToSemi();
      return;
    }
    const g: GroupRecord = { name, dynamic: false, static: false, deleted: false, statements: '' };
    const other: string[] = [];
    for (;;) {
      const t = this.peek();
      if (this.isPunct(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') {
        this.next();
        this.warn('unexpected end of file');
        break;
      }
      if (t.keyword === 'dynamic' || t.keyword === 'static' || t.keyword === 'deleted') {
        this.next();
        g[t.keyword] = true;
        this.parseSemi();
      } else {
        const [a, b] = this.skipStatement();
        other.push(this.rawText(a, b));
      }
    }
    g.statements = other.join('\n');
    this.out.groups.set(name, g);
  }

  private parseClass(subclass: boolean): void {
    const n = this.next();
    if (n.kind !== 'string') {
      this.warn('Expecting class name');
      this.skipToSemi();
      return;
    }
    const name = this.stringBytes(n).toString('latin1');
    let data: Buffer | null = null;
    if (subclass) {
      if (!this.classKnown(name)) {
        this.warn(`no class named ${name}`);
        this.skipToSemi();
        return;
      }
      data = this.parseX();
      if (!data) return;
    }
    const rec: ClassRecord = { name, subclassData: data, dynamic: false, deleted: false, leaseLimit: null, statements: '' };
    const key = data ? `${name}\0${data.toString('hex')}` : name;
    const t = this.next();
    if (subclass && this.isPunct(t, ';')) {
      this.out.classes.set(key, rec);
      return;
    }
    if (!this.isPunct(t, '{')) {
      this.warn('expecting left brace.');
      this.skipToSemi();
      return;
    }
    const other: string[] = [];
    for (;;) {
      const x = this.peek();
      if (this.isPunct(x, '}')) {
        this.next();
        break;
      }
      if (x.kind === 'eof') {
        this.next();
        this.warn('unexpected end of file');
        break;
      }
      if (x.keyword === 'dynamic' || x.keyword === 'deleted') {
        this.next();
        rec[x.keyword] = true;
        this.parseSemi();
      } else if (x.keyword === 'lease') {
        const s = this.pos;
        this.next();
        const lim = this.next();
        const num = this.next();
        if (this.kw(lim, 'limit') && num.kind === 'number') {
          rec.leaseLimit = Number.parseInt(num.text, 10);
          this.parseSemi();
        } else {
          this.skipToSemi();
          other.push(this.rawText(s, this.pos));
        }
      } else {
        const [a, b] = this.skipStatement();
        other.push(this.rawText(a, b));
      }
    }
    rec.statements = other.join('\n');
    if (!subclass) this.leaseClasses.add(name);
    this.out.classes.set(key, rec);
  }

  // ---- failover / server-duid / byte order ----

  private parseFailoverState(): void {
    const p = this.next();
    if (!this.kw(p, 'peer')) {
      this.warn('expecting "peer"');
      this.skipToSemi();
      return;
    }
    const n = this.next();
    if (!this.isIdentifier(n) && n.kind !== 'string') {
      this.warn('expecting failover peer name.');
      this.skipToSemi();
      return;
    }
    const peer = n.kind === 'string' ? this.stringBytes(n).toString('latin1') : n.text;
    const role = this.ctx.failoverPeers?.get(peer);
    if (this.ctx.failoverPeers && !role) {
      this.warn(`unknown failover peer: ${peer}`);
      this.skipToSemi();
      return;
    }
    const st = this.next();
    if (!this.kw(st, 'state')) {
      this.warn("expecting 'state'");
      if (!this.isPunct(st, ';')) this.skipToSemi();
      return;
    }
    const lb = this.next();
    if (!this.isPunct(lb, '{')) {
      this.warn('expecting left brace');
      if (!this.isPunct(lb, ';')) this.skipToSemi();
      return;
    }
    const rec: FailoverStateRecord = this.out.failoverStates.get(peer) ?? {
      peer,
      myState: 'unknown-state',
      myStateTime: 0,
      partnerState: 'unknown-state',
      partnerStateTime: 0,
      mclt: null,
    };
    const bogus = (): void => {
      this.skipToRbrace(1);
    };
    for (;;) {
      const t = this.next();
      if (this.isPunct(t, '}')) break;
      if (this.kw(t, 'my') || this.kw(t, 'partner')) {
        const s = this.next();
        if (!this.kw(s, 'state')) {
          this.warn("expecting 'state'");
          bogus();
          this.out.failoverStates.set(peer, rec);
          return;
        }
        const r = this.parseFailoverStateValue();
        if (r) {
          if (this.kw(t, 'my')) {
            rec.myState = r.state;
            rec.myStateTime = r.time;
          } else {
            rec.partnerState = r.state;
            rec.partnerStateTime = r.time;
          }
        }
      } else if (this.kw(t, 'mclt')) {
        if (role === 'primary') {
          this.warn('mclt not valid for primary');
          bogus();
          this.out.failoverStates.set(peer, rec);
          return;
        }
        const v = this.next();
        if (v.kind !== 'number') {
          this.warn('expecting a number.');
          bogus();
          this.out.failoverStates.set(peer, rec);
          return;
        }
        rec.mclt = Number.parseInt(v.text, 10);
        this.parseSemi();
      } else {
        this.warn('expecting state setting.');
        bogus();
        this.out.failoverStates.set(peer, rec);
        return;
      }
    }
    this.out.failoverStates.set(peer, rec);
  }

  private parseFailoverStateValue(): { state: FailoverStateName; time: LeaseTime } | null {
    const t = this.next();
    const w = t.keyword ?? '';
    const state = FAILOVER_STATE_NAMES.find((s) => s === w);
    if (!state) {
      this.warn('unknown failover state');
      this.skipToSemi();
      return null;
    }
    const a = this.next();
    if (this.isPunct(a, ';')) return { state, time: this.now };
    if (!this.kw(a, 'at')) {
      this.warn('expecting "at"');
      this.skipToSemi();
      return null;
    }
    const d = this.parseDate();
    if (d === undefined || d === 0) return null;
    return { state, time: d };
  }

  private parseServerDuid(): void {
    const v = this.parseX();
    if (v === null) return;
    if (v.length <= 2) {
      this.warn('Invalid duid contents');
      this.skipToSemi();
      return;
    }
    this.out.serverDuid = v;
    this.parseSemi();
  }

  private parseAuthoringByteOrder(): void {
    if (this.authoringSeen) {
      this.warn('authoring-byte-order specified too late.\nIt must occur before the first lease in file\n'.split('\n')[0]!);
      this.skipToSemi();
      return;
    }
    this.authoringSeen = true;
    const t = this.next();
    if (this.kw(t, 'little-endian')) this.out.authoringByteOrder = 'little-endian';
    else if (this.kw(t, 'big-endian')) this.out.authoringByteOrder = 'big-endian';
    else {
      this.warn('authoring-byte-order is invalid:  it must be big-endian or little-endian.');
      this.skipToSemi();
      return;
    }
    const s = this.next();
    if (!this.isPunct(s, ';')) {
      this.warn('corrupt lease file; expecting a semicolon');
      this.skipToSemi();
    }
  }
}
