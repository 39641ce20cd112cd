/**
 * Fast path for the canonical top-level host declaration of generated dhcpd.conf files:
 *
 *     host NAME {
 *       hardware ethernet HEX:HEX:...;
 *       fixed-address A.B.C.D[, A.B.C.D ...];
 *       option NAME "STRING";
 *     }
 *
 * (any whitespace between tokens; the three statements in any order, each at most once except `option`).
 * A 50,000-host file is ~1.5 M tokens, almost all in such blocks; read through the Chevrotain lexer and
 * parser they cost ~1 s of CPU and ~300 MB of heap. {@link scanCanonicalHosts} recognizes these blocks
 * straight from the text and builds the very nodes the Chevrotain parser builds for them (same fields,
 * lines, columns, ISC caret columns and echo positions: test/grammar/host-fast-path.test.ts compares
 * both), and returns the text with those blocks blanked (same line and column of everything else), which
 * the Chevrotain parser then reads as usual.
 *
 * Only what is certain is taken: a block at brace depth 0 that starts its line, follows a `;` or `}` (or
 * the start of the file) and is not followed by `else`/`elsif`, without comments, with lower-case
 * keywords, a plain word name, one-line strings. Anything else stays with the Chevrotain parser. The fast
 * path only ever serves a file ISC accepts: the caller (src/config/load.ts) parses and compiles again
 * without it as soon as there is any diagnostic, so errors and warnings always come from the Chevrotain
 * parser.
 */
import type { FixedAddressStatement, HardwareStatement, HostDecl, Loc, OptionStatement, Statement } from './ast.js';
import { Ipv4Lit, RawTokens } from './ast-values.js';
import { IscPosition } from './token-stream.js';
import { decodeIscString, wordKind, type Tok } from './tokens.js';

/**
 * A canonical host block found by {@link scanCanonicalHosts}: a handle on its facts in the scan's
 * {@link HostTable}. Its node is built from the text when read (and kept), or afresh by
 * {@link CanonicalHost.materialize} without being kept; the compiler reads the facts instead
 * (src/config/compile.ts canonicalHost), so a 50,000-host file makes no syntax tree for its hosts.
 */
export class CanonicalHost implements HostDecl {
  // Fields declared, not defined (ES2022 class fields run an initializer that defines each one, 50,000
  // times in cold code): the constructor makes the three own properties; `kind` is on the prototype.
  declare readonly kind: 'host';
  /** The facts of the scan that found the block. */
  declare readonly table: HostTable;
  /** Index of the block in {@link table}. */
  declare readonly index: number;
  /** Line of the `host` keyword. */
  declare readonly line: number;
  private declare node: HostDecl | undefined;
  constructor(table: HostTable, index: number, line: number) {
    this.table = table;
    this.index = index;
    this.line = line;
  }
  static {
    Object.defineProperty(CanonicalHost.prototype, 'kind', { value: 'host', enumerable: true });
  }
  /** The file's text and name. */
  get text(): string {
    return this.table.text;
  }
  get file(): string {
    return this.table.file;
  }
  /** Column of the `host` keyword. */
  get column(): number {
    const r = this.index * REC;
    return this.table.rec[r + R_START]! - this.table.rec[r + R_LINE_START]! + 1;
  }
  /** The node, built now and not kept. */
  materialize(): HostDecl {
    const r = this.index * REC;
    const rec = this.table.rec;
    const sc = new BlockScanner(this.text, this.file);
    sc.pos = rec[r + R_START]!;
    sc.line = this.line;
    sc.lineStart = rec[r + R_LINE_START]!;
    sc.prevEnd = sc.pos;
    return sc.host();
  }
  private get n(): HostDecl {
    return (this.node ??= this.materialize());
  }
  get loc(): Loc {
    return this.n.loc;
  }
  get name(): string {
    return this.n.name;
  }
  get body(): Statement[] {
    return this.n.body;
  }
  get end(): HostDecl['end'] {
    return this.n.end;
  }
  toJSON(): HostDecl {
    return this.n;
  }
}

// A host's record in HostTable.rec (REC numbers each).
/** Offset of the `host` keyword, and the offset its line starts at. */
export const R_START = 0;
export const R_LINE_START = 1;
/** Offsets of the name (start, end). */
export const R_NAME = 2;
export const R_NAME_END = 3;
/** Hardware address: offset of its bytes in HostTable.hw, and its length (-1: no `hardware`). */
export const R_HW = 4;
export const R_HW_LEN = 5;
/** fixed-address: offset of its addresses in HostTable.fixed, and their number (0: none). */
export const R_FIXED = 6;
export const R_FIXED_COUNT = 7;
/** Options: offset of their records in HostTable.opts ({@link OPT} numbers each), and their number. */
export const R_OPTS = 8;
export const R_OPT_COUNT = 9;
/** Offset after the block's `}`, and the line there and the offset that line starts at. */
export const R_END = 10;
export const R_END_LINE = 11;
export const R_END_LINE_START = 12;
/** Numbers a host takes in HostTable.rec. */
export const REC = 13;
/**
 * An option's record in HostTable.opts: line and column of `option`, offsets of its name and of the
 * string's body (between the quotes, escapes not decoded), and the offset of the body's bytes in
 * HostTable.str (-1 when it has a `\\`: the compiler decodes it).
 */
export const O_LINE = 0;
export const O_COLUMN = 1;
export const O_NAME = 2;
export const O_NAME_END = 3;
export const O_STRING = 4;
export const O_STRING_END = 5;
export const O_BYTES = 6;
export const OPT = 7;

/**
 * The facts of the canonical host blocks of one scan, recorded while they are validated (one pass over
 * the text, no strings or objects made per block): what the compiler needs to build each Host directly.
 * Numbers of host `i` are at `rec[i * REC + R_...]`.
 */
export class HostTable {
  count = 0;
  rec: Int32Array = new Int32Array(1024);
  hw: Uint8Array = new Uint8Array(1024);
  hwUsed = 0;
  fixed: Uint32Array = new Uint32Array(256);
  fixedUsed = 0;
  opts: Int32Array = new Int32Array(1024);
  optsUsed = 0;
  /** The bytes of the options' strings (see {@link O_BYTES}). */
  str: Uint8Array = new Uint8Array(4096);
  strUsed = 0;
  constructor(
    readonly text: string,
    readonly file: string,
  ) {}
}

function grownI32(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** Result of {@link scanCanonicalHosts}. */
export interface CanonicalHosts {
  /** The text with each recognized block replaced by spaces (newlines kept: offsets, lines, columns unchanged). */
  readonly text: string;
  /**
   * What the lexer must read of the text (the rest is host blocks and whitespace): 4 numbers a part,
   * its start and end offsets and the line and line-start offset at its start.
   */
  segments: Int32Array;
  /** The recognized host declarations, in file order. */
  hosts: CanonicalHost[];
}

// Character classes: 1 whitespace (ISC isspace), 2 word char, 4 hex digit, 8 digit, 16 word start.
const CC = new Uint8Array(256);
for (const c of [9, 10, 11, 12, 13, 32]) CC[c] |= 1;
for (let c = 48; c <= 57; c++) CC[c] |= 2 | 4 | 8 | 16;
for (let c = 65; c <= 90; c++) CC[c] |= 2 | 16;
for (let c = 97; c <= 122; c++) CC[c] |= 2 | 16;
for (let c = 65; c <= 70; c++) CC[c] |= 4;
for (let c = 97; c <= 102; c++) CC[c] |= 4;
CC[45] |= 2 | 16; // -
CC[95] |= 2; // _

const cc = (text: string, i: number): number => (i < text.length ? CC[text.charCodeAt(i) & 0xff]! : 0);

/** Thrown (internally) when a block is not canonical; the block is left to the Chevrotain parser. */
const NOT_CANONICAL = new Error('not canonical');

// What the validation pass returns instead of nodes (never kept or read).
const DUMMY_LOC: Loc = { file: '', line: 0, column: 0 };
const DUMMY_TOK: Tok = { kind: 'eof', image: '', text: '', keyword: undefined, line: 0, column: 0, offset: 0, end: 0, iscChar: 0, readsAhead: false, unterminated: false };
const DUMMY_POS = new IscPosition('', 0, 0, 0, '', 0, true);
const DUMMY_STATEMENT: Statement = { kind: 'break', loc: DUMMY_LOC };
const NO_BODY: Statement[] = [];
const NO_NUMBERS: number[] = [];
const DUMMY_HOST: HostDecl = { kind: 'host', loc: DUMMY_LOC, name: '', body: NO_BODY, end: DUMMY_POS };

/**
 * Mirror of {@link IscCursor}'s peek/next bookkeeping (ISC's two line buffers), over the tokens of one
 * block, in the order the Chevrotain parser's rules call it. Only what the block's IscPos values need.
 */
class CursorSim {
  peeked = false;
  /** Line of the last consumed token (-1: none on this line, i.e. on an earlier line). */
  consumedLine = -1;
  parity = 1;
  /** Read position and ISC line-after of the furthest token read. */
  readPos = 0;
  readLineAfter = 0;
  reset(): void {
    this.peeked = false;
    this.consumedLine = -1;
    this.parity = 1;
  }
  peek(line: number, lineAfter: number, readPos: number): void {
    if (this.peeked) return;
    this.peeked = true;
    this.readPos = readPos;
    this.readLineAfter = lineAfter;
    if (this.consumedLine !== line) this.parity = (lineAfter - 1) & 1;
  }
  next(line: number, lineAfter: number, readPos: number): void {
    if (this.peeked) {
      if (this.consumedLine !== line) this.parity = lineAfter & 1;
    } else {
      this.readPos = readPos;
      this.readLineAfter = lineAfter;
      this.parity = lineAfter & 1;
    }
    this.peeked = false;
    this.consumedLine = line;
  }
  /** Whether ISC's echo is the current line (else the previous one). */
  get current(): boolean {
    return (this.readLineAfter & 1) === this.parity;
  }
}

/** One block scan: a cursor over the text with line/column tracking. */
class BlockScanner {
  pos = 0;
  line = 1;
  lineStart = 0;
  /** End offset of the previous token (for ISC's caret column). */
  prevEnd = 0;
  /** Whether the previous token reads one char ahead (names and numbers). */
  prevReadsAhead = false;
  /** Start of the token just read. */
  tokStart = 0;
  tokLine = 0;
  tokCol = 0;
  readonly sim = new CursorSim();
  /** False: only check the block (no nodes, no strings). */
  build = true;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  /** Skips whitespace (no comments: `#` is not canonical). */
  ws(): void {
    const text = this.text;
    let i = this.pos;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        this.line++;
        this.lineStart = i + 1;
      } else if (c > 255 || (CC[c]! & 1) === 0) break;
      i++;
    }
    this.pos = i;
  }
  private begin(): void {
    this.ws();
    this.tokStart = this.pos;
    this.tokLine = this.line;
    this.tokCol = this.pos - this.lineStart + 1;
  }
  /** ISC's caret column of the token just begun (one right after a put-back char). */
  private iscChar(): number {
    const pending = this.tokStart > this.prevEnd ? true : this.prevReadsAhead;
    return pending ? this.tokCol + 1 : this.tokCol;
  }
  private finish(readsAhead: boolean): void {
    this.prevEnd = this.pos;
    this.prevReadsAhead = readsAhead;
  }
  /** ISC's line after reading a token that ends at `end` (names/numbers read one char more). */
  private lineAfter(end: number, readsAhead: boolean): number {
    return readsAhead && end < this.text.length && this.text.charCodeAt(end) === 10 ? this.tokLine + 1 : this.tokLine;
  }
  private readPos(end: number, readsAhead: boolean): number {
    return readsAhead && end < this.text.length ? end + 1 : end;
  }
  loc(): Loc {
    if (!this.build) return DUMMY_LOC;
    return { file: this.file, line: this.tokLine, column: this.tokCol };
  }

  /** Reads a word token that starts with a letter; returns its image ('' when not building). */
  word(): string {
    this.begin();
    const text = this.text;
    let i = this.pos;
    if ((cc(text, i) & 2) === 0 || cc(text, i) & 8 || text.charCodeAt(i) === 45 || text.charCodeAt(i) === 95) throw NOT_CANONICAL;
    i++;
    while (cc(text, i) & 2) i++;
    this.pos = i;
    return this.build ? text.slice(this.tokStart, i) : '';
  }
  /** Reads the word `w` if it comes next (whole word, exact case). */
  wordIs(w: string): boolean {
    this.begin();
    const text = this.text;
    if (!text.startsWith(w, this.pos) || cc(text, this.pos + w.length) & 2) return false;
    this.pos += w.length;
    return true;
  }
  /** Whether the word just read equals `w` ignoring ASCII case (`prefix`: starts with it). */
  private lastWordIs(w: string, prefix: boolean): boolean {
    const len = this.pos - this.tokStart;
    if (prefix ? len < w.length : len !== w.length) return false;
    for (let k = 0; k < w.length; k++) if ((this.text.charCodeAt(this.tokStart + k) | 32) !== w.charCodeAt(k)) return false;
    return true;
  }
  /** Reads the word `w` exactly (lower case, whole word). */
  keyword(w: string): void {
    this.begin();
    const text = this.text;
    if (!text.startsWith(w, this.pos) || cc(text, this.pos + w.length) & 2) throw NOT_CANONICAL;
    this.pos += w.length;
  }
  /** Reads a one-char punctuation token `ch`. */
  punct(ch: number): void {
    this.begin();
    if (this.text.charCodeAt(this.pos) !== ch) throw NOT_CANONICAL;
    this.pos++;
  }
  /** Whether the next token (after whitespace) is the char `ch` (does not consume). */
  peekChar(ch: number): boolean {
    this.ws();
    return this.text.charCodeAt(this.pos) === ch;
  }

  // ---- ISC cursor events for the token just read --------------------------------------------------

  simPeek(readsAhead: boolean): void {
    this.sim.peek(this.tokLine, this.lineAfter(this.pos, readsAhead), this.readPos(this.pos, readsAhead));
  }
  simNext(readsAhead: boolean): void {
    this.sim.next(this.tokLine, this.lineAfter(this.pos, readsAhead), this.readPos(this.pos, readsAhead));
    this.finish(readsAhead);
  }
  /** peek then next of the token just read (the common ISC pattern). */
  simPeekNext(readsAhead: boolean): void {
    this.simPeek(readsAhead);
    this.simNext(readsAhead);
  }
  /** ISC's error position now (IscCursor.positionHere) with the consumed token's facts. */
  positionHere(line: number, column: number, iscChar: number): IscPosition {
    if (!this.build) return DUMMY_POS;
    return new IscPosition(this.file, line, column, iscChar, this.text, this.sim.readPos, this.sim.current);
  }
  /** A Tok of the token just read (its end is `pos`). */
  tok(kind: Tok['kind'], keyword: string | undefined, text: string, readsAhead: boolean): Tok {
    if (!this.build) return DUMMY_TOK;
    const image = this.text.slice(this.tokStart, this.pos);
    return {
      kind,
      image,
      text,
      keyword,
      line: this.tokLine,
      column: this.tokCol,
      offset: this.tokStart,
      end: this.pos,
      iscChar: this.iscChar(),
      readsAhead,
      unterminated: false,
    };
  }

  // ---- the block ---------------------------------------------------------------------------------

  /** Parses one canonical host block starting at `pos` (the `host` keyword); throws NOT_CANONICAL. */
  host(): HostDecl {
    this.sim.reset();
    this.keyword('host');
    const L = this.loc();
    // fileRule peeks `host`, hostDecl eats it.
    this.simPeekNext(true);
    // hostName(): one letter-initial word (a dotted name or a trailing dot is left to the parser).
    const name = this.word();
    this.simPeekNext(true);
    this.punct(123); // {
    this.simPeekNext(false);
    const body: Statement[] = this.build ? [] : NO_BODY;
    let hasHardware = false;
    let hasFixed = false;
    for (;;) {
      if (this.peekChar(125)) {
        this.punct(125); // }
        const ic = this.iscChar();
        this.simPeekNext(false);
        const endPos = this.positionHere(this.tokLine, this.tokCol, ic);
        return this.build ? { kind: 'host', loc: L, name, body, end: endPos } : DUMMY_HOST;
      }
      let st: Statement;
      if (this.wordIs('hardware')) {
        if (hasHardware) throw NOT_CANONICAL;
        hasHardware = true;
        st = this.hardware();
      } else if (this.wordIs('fixed-address')) {
        if (hasFixed) throw NOT_CANONICAL;
        hasFixed = true;
        st = this.fixedAddress();
      } else if (this.wordIs('option')) {
        st = this.option();
      } else throw NOT_CANONICAL;
      if (this.build) body.push(st);
    }
  }

  /** `hardware ethernet XX:XX...;` (the `hardware` word just read). */
  private hardware(): Statement {
    const L = this.loc();
    this.simPeekNext(true);
    this.keyword('ethernet');
    this.simNext(true);
    const address: number[] = this.build ? [] : NO_NUMBERS;
    let count = 0;
    for (;;) {
      // One or two hex digits: a NUMBER or NUMBER_OR_NAME token (no keyword is that short and hex).
      this.begin();
      const text = this.text;
      let i = this.pos;
      let v = 0;
      let n = 0;
      while (n < 3 && cc(text, i) & 4) {
        const c = text.charCodeAt(i);
        v = v * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
        i++;
        n++;
      }
      if (n === 0 || n > 2 || cc(text, i) & 2) throw NOT_CANONICAL;
      this.pos = i;
      if (count === 0) this.simPeek(true);
      this.simNext(true);
      if (this.build) address.push(v);
      count++;
      if (!this.peekChar(58)) break;
      this.punct(58); // :
      this.simPeekNext(false);
    }
    if (count + 1 > 21) throw NOT_CANONICAL;
    this.punct(59); // ;
    this.simPeekNext(false);
    return this.build ? { kind: 'hardware', loc: L, hwType: 'ethernet', htype: 1, address } : DUMMY_STATEMENT;
  }

  /** `fixed-address A.B.C.D[, ...];` (the keyword just read). */
  private fixedAddress(): Statement {
    const L = this.loc();
    this.simPeekNext(true);
    const addresses: FixedAddressStatement['addresses'] = [];
    for (;;) {
      const octets: number[] = this.build ? [] : NO_NUMBERS;
      let first: Loc | undefined;
      for (let k = 0; k < 4; k++) {
        if (k > 0) {
          this.punct(46); // .
          this.simPeekNext(false);
        }
        this.begin();
        const text = this.text;
        let i = this.pos;
        let v = 0;
        while (cc(text, i) & 8 && i - this.pos < 3) v = v * 10 + text.charCodeAt(i++) - 48;
        if (i === this.pos || cc(text, i) & 2 || v > 255) throw NOT_CANONICAL;
        this.pos = i;
        if (k === 0) {
          first = this.loc();
          this.simPeek(true);
        }
        this.simNext(true);
        if (this.build) octets.push(v);
      }
      if (this.build) {
        const ip = new Ipv4Lit(first!, octets as [number, number, number, number]);
        addresses.push({ kind: 'ip', loc: ip.loc, ip });
      }
      if (!this.peekChar(44)) break;
      this.punct(44); // ,
      this.simPeekNext(false);
    }
    this.punct(59); // ;
    this.simPeekNext(false);
    return this.build ? { kind: 'fixed-address', loc: L, addresses } : DUMMY_STATEMENT;
  }

  /** `option NAME "STRING";` (the `option` word just read). */
  private option(): Statement {
    const L = this.loc();
    this.simPeekNext(true);
    const name = this.word();
    // `option space` declares a space; `unknown-N` names are checked by the parser.
    if (this.lastWordIs('space', false) || this.lastWordIs('unknown-', true)) throw NOT_CANONICAL;
    const wk = this.build ? wordKind(name) : undefined;
    const before = this.tok(wk?.kind ?? 'name', wk?.keyword, name, true);
    this.simPeek(true);
    this.simNext(true);
    // The string, on one line, closed.
    this.begin();
    const text = this.text;
    if (text.charCodeAt(this.pos) !== 34) throw NOT_CANONICAL;
    let i = this.pos + 1;
    for (;;) {
      if (i >= text.length) throw NOT_CANONICAL;
      const c = text.charCodeAt(i);
      if (c === 10) throw NOT_CANONICAL;
      if (c === 34) break;
      if (c === 92) {
        if (i + 1 >= text.length || text.charCodeAt(i + 1) === 10) throw NOT_CANONICAL;
        i++;
      }
      i++;
    }
    this.pos = i + 1;
    const strTok = this.tok('string', undefined, this.build ? decodeIscString(text.slice(this.tokStart + 1, i)) : '', false);
    // optionName() peeks the string: the name's end position is taken there.
    this.simPeek(false);
    const namePos = this.positionHere(before.line, before.column, before.iscChar);
    this.simNext(false);
    this.punct(59); // ;
    const semiTok = this.tok('punct', undefined, ';', false);
    this.simPeekNext(false);
    if (!this.build) return DUMMY_STATEMENT;
    const value = new RawTokens([strTok], this.file, { file: this.file, line: semiTok.line, column: semiTok.column }, text, before, semiTok);
    return { kind: 'option', loc: L, mode: 'option', space: undefined, name, nameEnd: namePos, value, executable: false };
  }
}

/** Line and line start after the block {@link scanBlock} just read (out-parameters, no allocation). */
let endLine = 0;
let endLineStart = 0;

// What scanBlock expects next.
const S_NAME = 0;
const S_LBRACE = 1;
const S_STATEMENT = 2;
const S_ETHERNET = 3;
const S_HW_BYTE = 4;
const S_HW_NEXT = 5;
const S_OCTET = 6;
const S_DOT = 7;
const S_ADDRESS_NEXT = 8;
const S_OPTION_NAME = 9;
const S_STRING = 10;
const S_OPTION_SEMI = 11;

/**
 * Validates the block whose `host` keyword is at `start` (line `line`, starting at `lineStart`) exactly as
 * {@link BlockScanner.host} does (the same tokens, the same refusals), recording its facts in `t` as host
 * number `t.count` (committed by the caller). Returns the offset after its `}` (the line there in
 * endLine/endLineStart), or -1 when it is not canonical. One pass, no allocation: this is most of what a
 * 50,000-host file costs. One loop reads a token (a word is the longest run of word chars, which is how
 * each of BlockScanner's refusals reads: a keyword or a number followed by a word char, or too long) and
 * a state machine takes it: one small function, which V8 optimizes early (a cold start is what counts).
 */
function scanBlock(text: string, start: number, line: number, lineStart: number, t: HostTable): number {
  let i = start + 4;
  // `host` as a whole word.
  if (CC[text.charCodeAt(i) & 0xff]! & 2) return -1;
  if (t.hwUsed + 20 > t.hw.length) {
    const b = new Uint8Array(t.hw.length * 2);
    b.set(t.hw);
    t.hw = b;
  }
  const optOff = t.optsUsed;
  let state = S_NAME;
  let nameStart = 0;
  let nameEnd = 0;
  let hwLen = -1;
  let fixedOff = -1;
  let fixedCount = 0;
  let optCount = 0;
  let count = 0;
  let octets = 0;
  let address = 0;
  let optLine = 0;
  let optColumn = 0;
  let on = 0;
  let oe = 0;
  for (;;) {
    // Whitespace (ISC isspace).
    let c = text.charCodeAt(i);
    while (c === 32 || (c >= 9 && c <= 13)) {
      if (c === 10) {
        line++;
        lineStart = i + 1;
      }
      c = text.charCodeAt(++i);
    }
    const ts = i;
    if (CC[c & 0xff]! & 2) {
      // A word: the longest run of word chars.
      do c = text.charCodeAt(++i);
      while (CC[c & 0xff]! & 2);
      const len = i - ts;
      switch (state) {
        case S_NAME:
        case S_OPTION_NAME: {
          // A letter first (a word that starts with a digit, `-` or `_` is not a plain name).
          const f = text.charCodeAt(ts);
          if (CC[f & 0xff]! & 8 || f === 45 || f === 95) return -1;
          if (state === S_NAME) {
            nameStart = ts;
            nameEnd = i;
            state = S_LBRACE;
          } else {
            // `option space` declares a space; `unknown-N` names are checked by the parser.
            if (wordIsCi(text, ts, i, 'space', false) || wordIsCi(text, ts, i, 'unknown-', true)) return -1;
            on = ts;
            oe = i;
            state = S_STRING;
          }
          continue;
        }
        case S_STATEMENT:
          if (len === 8 && text.startsWith('hardware', ts)) {
            if (hwLen >= 0) return -1;
            state = S_ETHERNET;
          } else if (len === 13 && text.startsWith('fixed-address', ts)) {
            if (fixedOff >= 0) return -1;
            fixedOff = t.fixedUsed;
            octets = 0;
            address = 0;
            state = S_OCTET;
          } else if (len === 6 && text.startsWith('option', ts)) {
            optLine = line;
            optColumn = ts - lineStart + 1;
            state = S_OPTION_NAME;
          } else return -1;
          continue;
        case S_ETHERNET:
          if (len !== 8 || !text.startsWith('ethernet', ts)) return -1;
          count = 0;
          state = S_HW_BYTE;
          continue;
        case S_HW_BYTE: {
          // One or two hex digits (a NUMBER or NUMBER_OR_NAME token).
          if (len > 2) return -1;
          let v = 0;
          for (let k = ts; k < i; k++) {
            const d = text.charCodeAt(k);
            if ((CC[d & 0xff]! & 4) === 0) return -1;
            v = v * 16 + (d <= 57 ? d - 48 : (d | 32) - 87);
          }
          if (count < 20) t.hw[t.hwUsed + count] = v;
          count++;
          state = S_HW_NEXT;
          continue;
        }
        case S_OCTET: {
          if (len > 3) return -1;
          let v = 0;
          for (let k = ts; k < i; k++) {
            const d = text.charCodeAt(k);
            if ((CC[d & 0xff]! & 8) === 0) return -1;
            v = v * 10 + d - 48;
          }
          if (v > 255) return -1;
          address = address * 256 + v;
          if (++octets < 4) {
            state = S_DOT;
            continue;
          }
          if (fixedOff + fixedCount >= t.fixed.length) {
            const b = new Uint32Array(t.fixed.length * 2);
            b.set(t.fixed);
            t.fixed = b;
          }
          t.fixed[fixedOff + fixedCount++] = address;
          state = S_ADDRESS_NEXT;
          continue;
        }
        default:
          return -1;
      }
    }
    if (c === 34) {
      // The string, on one line, closed (escapes as the lexer reads them).
      if (state !== S_STRING) return -1;
      let escaped = false;
      for (;;) {
        c = text.charCodeAt(++i);
        if (c === 34) break;
        if (c === 10 || c !== c) return -1; // a line end, or the end of the text (NaN)
        if (c === 92) {
          c = text.charCodeAt(++i);
          if (c === 10 || c !== c) return -1;
          escaped = true;
        }
      }
      const so = ts + 1;
      const se = i++;
      // The string's bytes (what the option's value is when it has no escapes), for the compiler.
      let strOff = -1;
      if (!escaped) {
        strOff = t.strUsed;
        if (strOff + (se - so) > t.str.length) {
          const b = new Uint8Array(Math.max(t.str.length * 2, strOff + (se - so)));
          b.set(t.str);
          t.str = b;
        }
        const str = t.str;
        for (let j = so; j < se; j++) str[strOff + j - so] = text.charCodeAt(j);
        t.strUsed += se - so;
      }
      const o = optOff + optCount * OPT;
      if (o + OPT > t.opts.length) t.opts = grownI32(t.opts, o + OPT);
      const opts = t.opts;
      opts[o + O_LINE] = optLine;
      opts[o + O_COLUMN] = optColumn;
      opts[o + O_NAME] = on;
      opts[o + O_NAME_END] = oe;
      opts[o + O_STRING] = so;
      opts[o + O_STRING_END] = se;
      opts[o + O_BYTES] = strOff;
      state = S_OPTION_SEMI;
      continue;
    }
    // One punctuation char (or the end of the text: NaN matches nothing).
    i++;
    if (state === S_LBRACE && c === 123) state = S_STATEMENT;
    else if (state === S_STATEMENT && c === 125) break;
    else if (state === S_HW_NEXT && c === 58) state = S_HW_BYTE;
    else if (state === S_HW_NEXT && c === 59) {
      if (count > 20) return -1;
      hwLen = count;
      state = S_STATEMENT;
    } else if (state === S_DOT && c === 46) state = S_OCTET;
    else if (state === S_ADDRESS_NEXT && c === 44) {
      octets = 0;
      address = 0;
      state = S_OCTET;
    } else if (state === S_ADDRESS_NEXT && c === 59) state = S_STATEMENT; else if (state === S_OPTION_SEMI && c === 59) {
      optCount++;
      state = S_STATEMENT;
    } else return -1;
  }
  const r = t.count * REC;
  if (r + REC > t.rec.length) t.rec = grownI32(t.rec, r + REC);
  const rec = t.rec;
  rec[r + R_START] = start;
  rec[r + R_LINE_START] = -1; // set by commitHost
  rec[r + R_END] = -1;
  rec[r + R_NAME] = nameStart;
  rec[r + R_NAME_END] = nameEnd;
  rec[r + R_HW] = t.hwUsed;
  rec[r + R_HW_LEN] = hwLen;
  rec[r + R_FIXED] = fixedOff;
  rec[r + R_FIXED_COUNT] = fixedCount;
  rec[r + R_OPTS] = optOff;
  rec[r + R_OPT_COUNT] = optCount;
  rec[r + R_END_LINE] = line;
  rec[r + R_END_LINE_START] = lineStart;
  endLine = line;
  endLineStart = lineStart;
  return i;
}

// The common block as one regular expression: `host NAME { [hardware ethernet XX:..;] [fixed-address
// A.B.C.D[, ..];] [option NAME "STRING";] }` in this order, any ISC whitespace. V8 compiles it to native code
// at once, where the JavaScript scanner runs ~25x slower until V8 has optimized it (a cold start is what
// counts). What it matches is a subset of what scanBlock accepts (the same tokens; octets up to 255, no
// `option space`/`unknown-N`); {@link matchBlock} records only what the compiler checks (the names and the
// lines), and the rest of the facts are read by scanBlock when the host is built ({@link completeFacts}),
// which `dhcpd -t` never does. The tests compare the facts both ways.
const WS = '[\\t\\n\\v\\f\\r ]';
const HEX = '[0-9A-Fa-f]{1,2}';
const OCTET = '(?:25[0-5]|2[0-4][0-9]|[01][0-9][0-9]|[0-9]{1,2})';
const IP = `${OCTET}${WS}*\\.${WS}*${OCTET}${WS}*\\.${WS}*${OCTET}${WS}*\\.${WS}*${OCTET}`;
const NOT_WORD = '(?![A-Za-z0-9_-])';
const BLOCK_RE = new RegExp(
  `host${WS}+[A-Za-z][A-Za-z0-9_-]*${WS}*\\{${WS}*` +
    `(?:hardware${WS}+ethernet${WS}+${HEX}(?:${WS}*:${WS}*${HEX}){0,19}${NOT_WORD}${WS}*;${WS}*)?` +
    `(?:fixed-address${WS}+${IP}(?:${WS}*,${WS}*${IP})*${NOT_WORD}${WS}*;${WS}*)?` +
    `(?:option${WS}+(?![Ss][Pp][Aa][Cc][Ee]${NOT_WORD})(?![Uu][Nn][Kk][Nn][Oo][Ww][Nn]-)[A-Za-z][A-Za-z0-9_-]*${WS}*"(?:[^"\\\\\\n]|\\\\[^\\n])*"${WS}*;${WS}*)?` +
    `\\}`,
  'y',
);

/** `[A-Za-z0-9_-]`: the chars of a name in {@link BLOCK_RE}. */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** R_HW_LEN of a block {@link matchBlock} read: its hardware, addresses and option values are not read yet. */
const FACTS_LATER = -2;

/**
 * {@link scanBlock} for a block {@link BLOCK_RE} matches (-1 when it does not): records the name, the
 * option's name (what the compiler checks) and the lines; the other facts are read when the host is built
 * ({@link completeFacts}).
 */
function matchBlock(text: string, start: number, line: number, lineStart: number, t: HostTable): number {
  // test(), not exec(): no capture groups, no match array or substrings per block (50,000 of them).
  BLOCK_RE.lastIndex = start;
  if (!BLOCK_RE.test(text)) return -1;
  const end = BLOCK_RE.lastIndex;
  const r = t.count * REC;
  if (r + REC > t.rec.length) t.rec = grownI32(t.rec, r + REC);
  // The name: after `host` and its whitespace, up to the first char that is not a word char.
  let nameStart = start + 4;
  while (CC[text.charCodeAt(nameStart) & 0xff]! & 1) nameStart++;
  let nameEnd = nameStart + 1;
  while (isNameChar(text.charCodeAt(nameEnd))) nameEnd++;
  let optCount = 0;
  // The option, if any: the last statement, which alone ends `";` (the expression has checked the block:
  // `hardware` and `fixed-address` end in a digit, and the word `option` can occur in neither).
  let k = end - 2;
  while (CC[text.charCodeAt(k) & 0xff]! & 1) k--;
  k--;
  while (CC[text.charCodeAt(k) & 0xff]! & 1) k--;
  if (text.charCodeAt(k) === 34) {
    // `option`, whitespace, the option's name.
    k = text.indexOf('option', nameEnd) + 6;
    while (CC[text.charCodeAt(k) & 0xff]! & 1) k++;
    let e = k + 1;
    while (isNameChar(text.charCodeAt(e))) e++;
    const o = t.optsUsed;
    if (o + OPT > t.opts.length) t.opts = grownI32(t.opts, o + OPT);
    t.opts[o + O_NAME] = k;
    t.opts[o + O_NAME_END] = e;
    optCount = 1;
  }
  let ln = line;
  let ls = lineStart;
  for (let nl = text.indexOf('\n', start); nl >= 0 && nl < end; nl = text.indexOf('\n', nl + 1)) {
    ln++;
    ls = nl + 1;
  }
  const rec = t.rec;
  rec[r + R_START] = start;
  rec[r + R_LINE_START] = -1; // set by commitHost
  rec[r + R_END] = -1;
  rec[r + R_NAME] = nameStart;
  rec[r + R_NAME_END] = nameEnd;
  rec[r + R_HW] = 0;
  rec[r + R_HW_LEN] = FACTS_LATER;
  rec[r + R_FIXED] = -1;
  rec[r + R_FIXED_COUNT] = 0;
  rec[r + R_OPTS] = t.optsUsed;
  rec[r + R_OPT_COUNT] = optCount;
  rec[r + R_END_LINE] = ln;
  rec[r + R_END_LINE_START] = ls;
  endLine = ln;
  endLineStart = ls;
  return end;
}

/**
 * Reads the facts of host `h` that {@link matchBlock} left (hardware, addresses, option values) with
 * {@link scanBlock}; nothing for a block scanBlock read. Called before the host is built.
 */
export function completeFacts(h: CanonicalHost): void {
  const t = h.table;
  const r = h.index * REC;
  if (t.rec[r + R_HW_LEN] !== FACTS_LATER) return;
  // scanBlock records into the next free record; its facts are then this host's.
  const e = scanBlock(t.text, t.rec[r + R_START]!, h.line, t.rec[r + R_LINE_START]!, t);
  if (e < 0) throw new Error(`host block at offset ${t.rec[r + R_START]} matched the fast form but not the scanner`);
  const rec = t.rec;
  const s = t.count * REC;
  for (const f of [R_HW, R_HW_LEN, R_FIXED, R_FIXED_COUNT, R_OPTS, R_OPT_COUNT]) rec[r + f] = rec[s + f]!;
  if (rec[r + R_HW_LEN]! > 0) t.hwUsed += rec[r + R_HW_LEN]!;
  if (rec[r + R_FIXED_COUNT]! > 0) t.fixedUsed = rec[r + R_FIXED]! + rec[r + R_FIXED_COUNT]!;
  t.optsUsed += rec[r + R_OPT_COUNT]! * OPT;
}

/** Keeps the block {@link scanBlock} just recorded (its line starts at `lineStart`, it ends at `end`). */
function commitHost(t: HostTable, lineStart: number, end: number): void {
  const r = t.count * REC;
  const rec = t.rec;
  rec[r + R_LINE_START] = lineStart;
  rec[r + R_END] = end;
  if (rec[r + R_HW_LEN]! > 0) t.hwUsed += rec[r + R_HW_LEN]!;
  if (rec[r + R_FIXED_COUNT]! > 0) t.fixedUsed = rec[r + R_FIXED]! + rec[r + R_FIXED_COUNT]!;
  t.optsUsed += rec[r + R_OPT_COUNT]! * OPT;
  t.count++;
}

/** Whether text[from, to) is `w` ignoring ASCII case (`prefix`: starts with it). */
function wordIsCi(text: string, from: number, to: number, w: string, prefix: boolean): boolean {
  const len = to - from;
  if (prefix ? len < w.length : len !== w.length) return false;
  for (let k = 0; k < w.length; k++) if ((text.charCodeAt(from + k) | 32) !== w.charCodeAt(k)) return false;
  return true;
}

/**
 * Finds the canonical top-level host blocks of `text` (see the module comment). Returns null when there
 * are none (the caller then parses `text` as it is). `jsOnly`: without the regular expression (tests).
 */
export function scanCanonicalHosts(text: string, file: string, jsOnly = false): CanonicalHosts | null {
  const n = text.length;
  const hosts: CanonicalHost[] = [];
  let table: HostTable | undefined;
  let depth = 0;
  // Last significant char outside strings/comments at depth 0: `;`, `}`, or 0 = start of file.
  let last = 0;
  let lineStart = 0;
  /** Only whitespace since the start of the current line. */
  let lineBlank = true;
  let line = 1;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      lineBlank = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
      i++;
      continue;
    }
    if (c === 35) {
      // Comment to end of line.
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === 34) {
      // String (escapes as the lexer reads them); an unclosed one runs to the end of the file.
      let k = i + 1;
      for (;;) {
        if (k >= n) break;
        let d = text.charCodeAt(k);
        if (d === 34) break;
        if (d === 92) {
          k++;
          if (k >= n) break;
          d = text.charCodeAt(k);
        }
        if (d === 10) {
          line++;
          lineStart = k + 1;
        }
        k++;
      }
      i = k + 1;
      lineBlank = false;
      last = 1;
      continue;
    }
    if (c === 104 && depth === 0 && lineBlank && (last === 0 || last === 59 || last === 125) && text.startsWith('host', i)) {
      table ??= new HostTable(text, file);
      let e = jsOnly ? -1 : matchBlock(text, i, line, lineStart, table);
      if (e < 0) e = scanBlock(text, i, line, lineStart, table);
      if (e >= 0 && !followedByElse(text, e)) {
        hosts.push(new CanonicalHost(table, table.count, line));
        commitHost(table, lineStart, e);
        i = e;
        line = endLine;
        lineStart = endLineStart;
        lineBlank = false;
        last = 125;
        continue;
      }
    }
    lineBlank = false;
    if (c === 123) depth++;
    else if (c === 125) {
      depth--;
      // A stray `}` at the top: leave the rest of the file to the parser.
      if (depth < 0) break;
    }
    last = depth === 0 && (c === 59 || c === 125) ? c : 1;
    i++;
  }
  if (hosts.length === 0 || table === undefined) return null;
  const t = table;
  let blanked: string | undefined;
  return {
    get text(): string {
      return (blanked ??= blankHosts(text, t));
    },
    hosts,
    segments: segmentsBetween(text, t),
  };
}

/**
 * The parts of `text` outside the host blocks of `t` that may hold tokens, for the lexer (see
 * {@link CanonicalHosts.segments}); the whitespace between two blocks is left out.
 */
function segmentsBetween(text: string, t: HostTable): Int32Array {
  const rec = t.rec;
  const out = new Int32Array((t.count + 1) * 4);
  let n = 0;
  let from = 0;
  let line = 1;
  let lineStart = 0;
  for (let h = 0; h <= t.count; h++) {
    const to = h < t.count ? rec[h * REC + R_START]! : text.length;
    let k = from;
    while (k < to && CC[text.charCodeAt(k) & 0xff]! & 1 && text.charCodeAt(k) <= 255) k++;
    if (k < to || (h === t.count && n === 0)) {
      out[n++] = from;
      out[n++] = to;
      out[n++] = line;
      out[n++] = lineStart;
    }
    if (h < t.count) {
      const r = h * REC;
      from = rec[r + R_END]!;
      line = rec[r + R_END_LINE]!;
      lineStart = rec[r + R_END_LINE_START]!;
    }
  }
  return out.subarray(0, n);
}

/** `text` with every host block of `t` made spaces (its newlines kept: other tokens keep offset, line, column). */
function blankHosts(text: string, t: HostTable): string {
  const buf = Buffer.from(text, 'latin1');
  const rec = t.rec;
  for (let h = 0; h < t.count; h++) {
    const from = rec[h * REC + R_START]!;
    const to = rec[h * REC + R_END]!;
    for (let j = from; j < to; j++) if (buf[j] !== 10) buf[j] = 32;
  }
  return buf.toString('latin1');
}

/** Whether the next word after `pos` is `else`/`elsif` (which would continue a preceding `if`). */
function followedByElse(text: string, pos: number): boolean {
  let i = pos;
  for (;;) {
    while (i < text.length && cc(text, i) & 1) i++;
    if (text.charCodeAt(i) !== 35) break;
    const e = text.indexOf('\n', i);
    if (e < 0) return false;
    i = e;
  }
  // No string made: this runs after every block.
  if ((text.charCodeAt(i) | 32) !== 101) return false; // e
  let j = i;
  while (CC[text.charCodeAt(j) & 0xff]! & 2) j++;
  return wordIsCi(text, i, j, 'else', false) || wordIsCi(text, i, j, 'elsif', false);
}

/** Merges the parser's statements and the fast path's hosts (both in file order) into `out`. */
export function mergeInFileOrder(parsed: Statement[], hosts: CanonicalHost[], out: Statement[]): void {
  let h = 0;
  for (const st of parsed) {
    const l = st.loc;
    while (h < hosts.length) {
      const hl = hosts[h]!;
      if (hl.line > l.line || (hl.line === l.line && hl.column > l.column)) break;
      out.push(hosts[h++]!);
    }
    out.push(st);
  }
  while (h < hosts.length) out.push(hosts[h++]!);
}
