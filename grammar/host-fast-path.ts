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
 * A canonical host block found by {@link scanCanonicalHosts}: its node is built from the text when read
 * (and kept), or afresh by {@link CanonicalHost.materialize} without being kept — what the compiler
 * does, so that the 50,000 nodes of a big file are short-lived garbage instead of a 100 MB tree.
 */
export class CanonicalHost implements HostDecl {
  readonly kind = 'host' as const;
  private node: HostDecl | undefined;
  constructor(
    /** The scanner that validated the block (one per file scan; reused to read the facts). */
    private readonly scanner: BlockScanner,
    /** Offset, line and line start of the `host` keyword. */
    private readonly start: number,
    readonly line: number,
    private readonly lineStart: number,
  ) {}
  /** The file's text and name. */
  get text(): string {
    return this.scanner.text;
  }
  get file(): string {
    return this.scanner.file;
  }
  /** Column of the `host` keyword. */
  get column(): number {
    return this.start - this.lineStart + 1;
  }
  /**
   * What the block declares, without building its node (for the compiler's direct path). The object is
   * shared: read it before the next call.
   */
  readFacts(): HostFacts {
    // Not a text comparison (two equal 5 MB texts, e.g. after a reload, would compare char by char).
    const sc = this.scanner;
    sc.build = false;
    sc.pos = this.start;
    sc.line = this.line;
    sc.lineStart = this.lineStart;
    sc.prevEnd = this.start;
    sc.prevReadsAhead = false;
    sc.host();
    return sc.facts;
  }
  /** The node, built now and not kept. */
  materialize(): HostDecl {
    const sc = new BlockScanner(this.text, this.file);
    sc.pos = this.start;
    sc.line = this.line;
    sc.lineStart = this.lineStart;
    sc.prevEnd = this.start;
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

/**
 * The facts of one canonical host block, as offsets into its text (no strings made): what the compiler
 * needs to build the model's Host directly. Options are 6 numbers each: line and column of `option`,
 * start and end of the option name, start and end of the string's body (between the quotes, escapes
 * not decoded).
 */
export class HostFacts {
  /** Line and column of the `host` keyword. */
  line = 0;
  column = 0;
  nameStart = 0;
  nameEnd = 0;
  /** Number of hardware address bytes, -1 without `hardware`. */
  hardwareLength = -1;
  readonly hardware = new Uint8Array(20);
  /** fixed-address addresses (uint32). */
  readonly fixed: number[] = [];
  readonly options: number[] = [];
  reset(line: number, column: number): void {
    this.line = line;
    this.column = column;
    this.hardwareLength = -1;
    this.fixed.length = 0;
    this.options.length = 0;
  }
}


/** Result of {@link scanCanonicalHosts}. */
export interface CanonicalHosts {
  /** The text with each recognized block replaced by spaces (newlines kept: offsets, lines, columns unchanged). */
  text: string;
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
  /** False: only check the block (no nodes, no strings: the validation pass allocates nothing). */
  build = true;
  /** Facts of the block, recorded when not building (see {@link HostFacts}). */
  readonly facts = new HostFacts();

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
    const facts = this.facts;
    if (!this.build) facts.reset(this.tokLine, this.tokCol);
    // fileRule peeks `host`, hostDecl eats it.
    this.simPeekNext(true);
    // hostName(): one letter-initial word (a dotted name or a trailing dot is left to the parser).
    const name = this.word();
    facts.nameStart = this.tokStart;
    facts.nameEnd = this.pos;
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
      else if (count < 20) this.facts.hardware[count] = v;
      count++;
      if (!this.peekChar(58)) break;
      this.punct(58); // :
      this.simPeekNext(false);
    }
    if (count + 1 > 21) throw NOT_CANONICAL;
    this.facts.hardwareLength = count;
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
      let address = 0;
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
        else address = (address * 256 + v) >>> 0;
      }
      if (!this.build) this.facts.fixed.push(address);
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
    const optLine = this.tokLine;
    const optCol = this.tokCol;
    this.simPeekNext(true);
    const name = this.word();
    const nameStart = this.tokStart;
    const nameEnd = this.pos;
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
    if (!this.build) this.facts.options.push(optLine, optCol, nameStart, nameEnd, this.tokStart + 1, i);
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

/**
 * Finds the canonical top-level host blocks of `text` (see the module comment). Returns null when there
 * are none (the caller then parses `text` as it is).
 */
export function scanCanonicalHosts(text: string, file: string): CanonicalHosts | null {
  const n = text.length;
  const hosts: CanonicalHost[] = [];
  const parts: string[] = [];
  let copied = 0;
  let depth = 0;
  // Last significant char outside strings/comments at depth 0: `;`, `}`, or 0 = start of file.
  let last = 0;
  let lineStart = 0;
  /** Only whitespace since the start of the current line. */
  let lineBlank = true;
  let scanner: BlockScanner | undefined;
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
      scanner ??= new BlockScanner(text, file);
      scanner.pos = i;
      scanner.line = line;
      scanner.lineStart = lineStart;
      scanner.prevEnd = i;
      scanner.prevReadsAhead = false;
      let ok = false;
      try {
        // Validation only: the node is built again when the compiler reads it (see CanonicalHost).
        scanner.build = false;
        scanner.host();
        ok = !followedByElse(text, scanner.pos);
      } catch (e) {
        if (e !== NOT_CANONICAL) throw e;
      }
      if (ok) {
        hosts.push(new CanonicalHost(scanner, i, line, lineStart));
        parts.push(text.slice(copied, i));
        // Blank the block: spaces and its newlines, so every other token keeps its offset, line and column.
        blank(text, i, scanner.pos, parts);
        copied = scanner.pos;
        i = scanner.pos;
        line = scanner.line;
        lineStart = scanner.lineStart;
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
  if (hosts.length === 0) return null;
  parts.push(text.slice(copied));
  return { text: parts.join(''), hosts };
}

const SPACES: string[] = [];
const spaces = (n: number): string => (n < 256 ? (SPACES[n] ??= ' '.repeat(n)) : ' '.repeat(n));

/** Pushes text[from, to) with every char but `\n` made a space. */
function blank(text: string, from: number, to: number, parts: string[]): void {
  let i = from;
  for (;;) {
    const nl = text.indexOf('\n', i);
    if (nl < 0 || nl >= to) break;
    parts.push(spaces(nl - i), '\n');
    i = nl + 1;
  }
  parts.push(spaces(to - i));
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
  let j = i;
  while (cc(text, j) & 2) j++;
  const w = text.slice(i, j).toLowerCase();
  return w === 'else' || w === 'elsif';
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
