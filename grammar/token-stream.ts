/**
 * ISC's next_token/peek_token bookkeeping over the Chevrotain token vector of one file, so errors land on
 * the same line, column and echoed source text as `dhcpd -t` prints:
 *
 * - an error is positioned at the last *consumed* token (a pending peek does not move it);
 * - the echoed line is ISC's `token_line` buffer: ISC keeps two alternating line buffers (current and
 *   previous line) filled as chars are read, so the echo is the current line up to the read position, or
 *   the whole previous line when a peek crossed a line end;
 * - ISC's column counter (`lexchar`, the caret) runs one ahead after it put back a look-ahead char (after
 *   whitespace, names and numbers).
 *
 * The parser (grammar/conf-parser.ts) tells the cursor each ISC peek and each consumed token; the cursor
 * only keeps indices into the vector, and derives positions from the token offsets when they are asked for.
 */
import type { IToken } from 'chevrotain';
import type { ConfigError } from './errors.js';
import { kindOf, keywordOf, decodeIscString, type LexedConfig, type Tok } from './tokens.js';

/** Thrown to abandon a parse at the first error (caught by the parser entry points, never escapes). */
export class ParseAbort extends Error {
  /** Errors ISC reports after this one (see ConfParser.iscNextError), in order. */
  readonly after: ConfigError[] = [];
  constructor(readonly error: ConfigError) {
    super(error.message);
  }
}

/** Saved cursor state (see {@link IscCursor.simulate}). */
interface CursorState {
  peeked: boolean;
  consumed: number;
  parity: number;
  readTok: number;
}

export class IscCursor {
  readonly tokens: IToken[];
  /** Number of real tokens; indices from `count` on are the end of file. */
  readonly count: number;
  private readonly lines: Int32Array;
  private readonly columns: Int32Array;
  /** Whether the next token has been peeked (ISC cfile->token set). */
  private peeked = false;
  /** Index of the last consumed token (ISC lexline/lexchar), -1 at start. */
  private consumed = -1;
  /** Parity (line number mod 2) of the line buffer ISC's token_line points at. */
  private parity = 1;
  /** Furthest token lexed so far (by ISC's reckoning), -1 before any. */
  private readTok = -1;

  constructor(
    readonly file: string,
    readonly text: string,
    lexed: LexedConfig,
  ) {
    this.tokens = lexed.tokens;
    this.count = lexed.count;
    this.lines = lexed.lines;
    this.columns = lexed.columns;
  }

  // ---- per-token facts (from the Chevrotain token's offset and line) ---------------------------

  private at(i: number): IToken {
    return this.tokens[i < this.count ? i : this.count]!;
  }
  isEof(i: number): boolean {
    return i >= this.count;
  }
  /** ISC reports positions at end of file at the last real token (line 0 in an empty file). */
  line(i: number): number {
    const n = this.count;
    if (i >= n) return n > 0 ? this.lines[n - 1]! : 0;
    return this.lines[i]!;
  }
  column(i: number): number {
    const n = this.count;
    if (i >= n) return n > 0 ? this.columns[n - 1]! : 0;
    return this.columns[i]!;
  }
  /** Index of a token of this file (the next or last consumed one, else found by offset). */
  indexOf(t: IToken): number {
    const i = this.consumed + 1;
    if (i < this.count && this.tokens[i] === t) return i;
    if (this.consumed >= 0 && this.tokens[this.consumed] === t) return this.consumed;
    let lo = 0;
    let hi = this.count;
    const off = t.startOffset;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tokens[mid]!.startOffset < off) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  private offset(i: number): number {
    return this.at(i).startOffset;
  }
  private end(i: number): number {
    const t = this.at(i);
    return t.startOffset + t.image.length;
  }
  /** Names and numbers make ISC read one char past their end. */
  private readsAhead(i: number): boolean {
    if (i >= this.count) return false;
    const k = kindOf(this.tokens[i]!);
    return k === 'number' || k === 'numberOrName' || k === 'name';
  }
  /** ISC's `lexchar` for token i (one right of its column after a put-back char). */
  iscChar(i: number): number {
    if (i >= this.count) return this.count > 0 ? this.iscChar(this.count - 1) : 0;
    const col = this.column(i);
    const off = this.offset(i);
    const prevEnd = i > 0 ? this.end(i - 1) : 0;
    let pending: boolean;
    if (off > prevEnd) pending = gapEndsWithPutBack(this.text, prevEnd, off);
    else pending = i > 0 && this.readsAhead(i - 1);
    return pending ? col + 1 : col;
  }

  /** The token as the AST and the option-value parsers see it. */
  tok(i: number): Tok {
    const eof = i >= this.count;
    const t = this.at(i);
    const kind = eof ? 'eof' : kindOf(t);
    const image = eof ? '' : t.image;
    let text = image;
    let unterminated = false;
    if (kind === 'string') {
      unterminated = !isClosedString(image);
      text = decodeIscString(unterminated ? image.slice(1) : image.slice(1, -1));
    }
    const offset = eof ? this.text.length : t.startOffset;
    return {
      kind,
      image,
      text,
      keyword: eof ? undefined : keywordOf(t),
      line: this.line(i),
      column: this.column(i),
      offset,
      end: eof ? offset : offset + image.length,
      iscChar: this.iscChar(i),
      readsAhead: this.readsAhead(i),
      unterminated,
    };
  }

  /** True when token i is a string not closed before end of file ("eof in string constant"). */
  unterminated(i: number): boolean {
    if (i >= this.count) return false;
    const t = this.tokens[i]!;
    return kindOf(t) === 'string' && !isClosedString(t.image);
  }

  /** Offset just past the chars ISC has read after lexing token i. */
  private readPos(i: number): number {
    if (i >= this.count) return this.text.length;
    const e = this.end(i);
    return this.readsAhead(i) && e < this.text.length ? e + 1 : e;
  }

  private eofLine = -1;

  /** ISC's current line number after lexing token i. */
  private curLineAfter(i: number): number {
    if (i >= this.count) {
      if (this.eofLine < 0) {
        let n = 1;
        for (let k = this.text.indexOf('\n'); k >= 0; k = this.text.indexOf('\n', k + 1)) n++;
        this.eofLine = n;
      }
      return this.eofLine;
    }
    const r = this.readPos(i);
    let line = this.line(i);
    const text = this.text;
    for (let k = this.offset(i); k < r; k++) if (text.charCodeAt(k) === 10) line++;
    return line;
  }

  private sameLine(a: number, b: number): boolean {
    return a >= 0 && this.line(a) === this.line(b);
  }

  // ---- ISC bookkeeping ---------------------------------------------------------------------------

  /** Index of the next token. */
  get nextIndex(): number {
    return this.consumed + 1 < this.count ? this.consumed + 1 : this.count;
  }
  /** Index of the last consumed token (-1 before any). */
  get lastIndex(): number {
    return this.consumed;
  }

  /** ISC peek_token() of the next token. */
  peek(): void {
    if (this.peeked) return;
    const i = this.nextIndex;
    this.peeked = true;
    this.readTok = i;
    // ISC's lexline starts at 0, so the first peek always switches to the previous-line buffer.
    if (!this.sameLine(this.consumed, i)) this.parity = (this.curLineAfter(i) - 1) & 1;
  }

  /** ISC next_token(): consumes the next token. */
  next(): void {
    const i = this.nextIndex;
    if (this.peeked) {
      if (!this.sameLine(this.consumed, i)) this.parity = this.curLineAfter(i) & 1;
    } else {
      this.readTok = i;
      this.parity = this.curLineAfter(i) & 1;
    }
    this.peeked = false;
    this.consumed = i;
  }

  /** The text ISC would echo as the source line right now. */
  private echoLine(): string {
    const rt = this.readTok;
    if (rt < 0) return '';
    return echoText(this.text, this.readPos(rt), (this.curLineAfter(rt) & 1) === this.parity);
  }

  /** ISC's current error position, with the echoed source text computed only when read. */
  positionHere(): IscPosition {
    const c = this.consumed;
    const rt = this.readTok;
    let r = 0;
    let cur = true;
    if (rt >= 0) {
      r = this.readPos(rt);
      cur = (this.curLineAfter(rt) & 1) === this.parity;
    }
    return new IscPosition(this.file, c >= 0 ? this.line(c) : 0, c >= 0 ? this.column(c) : 0, c >= 0 ? this.iscChar(c) : 0, rt >= 0 ? this.text : '', r, cur);
  }

  /** Builds an error positioned where ISC's parse_warn would put it now. */
  errorHere(message: string): ConfigError {
    const c = this.consumed;
    return {
      file: this.file,
      line: c >= 0 ? this.line(c) : 0,
      column: c >= 0 ? this.column(c) : 0,
      iscChar: c >= 0 ? this.iscChar(c) : 0,
      message,
      sourceLine: this.echoLine(),
    };
  }

  private save(): CursorState {
    return { peeked: this.peeked, consumed: this.consumed, parity: this.parity, readTok: this.readTok };
  }
  private restore(s: CursorState): void {
    this.peeked = s.peeked;
    this.consumed = s.consumed;
    this.parity = s.parity;
    this.readTok = s.readTok;
  }

  /** Runs `f` (which may move this cursor) and then restores the cursor state. */
  simulate<T>(f: () => T): T {
    const saved = this.save();
    try {
      return f();
    } finally {
      this.restore(saved);
    }
  }
}

/**
 * The error ISC reports when it has consumed `tok` (after `prev`) having peeked it first (the usual
 * pattern in its value parsers), then peeking `after` when `peekAfter`. Works from the tokens alone, so a
 * RawValue in the tree keeps a few tokens, not the whole token vector of its file.
 */
export function errorAtToks(file: string, text: string, prev: Tok | undefined, tok: Tok, after: Tok | undefined, message: string, peekAfter: boolean): ConfigError {
  const readPos = (t: Tok): number => (t.kind === 'eof' ? text.length : t.readsAhead && t.end < text.length ? t.end + 1 : t.end);
  const curLineAfter = (t: Tok): number => {
    let line = t.kind === 'eof' ? 1 : t.line;
    const from = t.kind === 'eof' ? 0 : t.offset;
    const r = readPos(t);
    for (let k = text.indexOf('\n', from); k >= 0 && k < r; k = text.indexOf('\n', k + 1)) line++;
    return line;
  };
  // ISC's state with `prev` consumed, then peek_token + next_token of `tok`, then peek_token of `after`.
  let parity = prev ? curLineAfter(prev) & 1 : 1;
  let readTok = tok;
  if (!prev || tok.line !== prev.line) parity = (curLineAfter(tok) - 1) & 1;
  if (!prev || tok.line !== prev.line) parity = curLineAfter(tok) & 1;
  if (peekAfter && after) {
    readTok = after;
    if (after.line !== tok.line) parity = (curLineAfter(after) - 1) & 1;
  }
  const current = (curLineAfter(readTok) & 1) === parity;
  return { file, line: tok.line, column: tok.column, iscChar: tok.iscChar, message, sourceLine: echoText(text, readPos(readTok), current) };
}

/**
 * A position where ISC would report an error, with `sourceLine` (ISC's echo) computed on first use —
 * parsers record many positions for errors that are almost never reported.
 */
export class IscPosition {
  private echo: string | undefined;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly iscChar: number,
    private readonly text: string,
    private readonly readOffset: number,
    private readonly currentLine: boolean,
  ) {}
  get sourceLine(): string {
    if (this.echo === undefined) this.echo = this.text === '' ? '' : echoText(this.text, this.readOffset, this.currentLine);
    return this.echo;
  }
  /** This position as an error with `message`. */
  error(message: string): ConfigError {
    return { file: this.file, line: this.line, column: this.column, iscChar: this.iscChar, message, sourceLine: this.sourceLine };
  }
  toJSON(): object {
    return { file: this.file, line: this.line, column: this.column, iscChar: this.iscChar, sourceLine: this.sourceLine };
  }
}

function isClosedString(image: string): boolean {
  if (image.length < 2 || !image.endsWith('"')) return false;
  let k = 0;
  for (let i = image.length - 2; i >= 1 && image[i] === '\\'; i--) k++;
  return k % 2 === 0;
}

/** True when the skipped gap text[from,to) leaves ISC with a put-back char (ends in whitespace, not a comment). */
function gapEndsWithPutBack(text: string, from: number, to: number): boolean {
  if (text.charCodeAt(to - 1) !== 10) return true;
  // Ends with a newline: a whitespace run (put-back) or a comment's newline (consumed).
  const lineStart = text.lastIndexOf('\n', to - 2) + 1;
  return text.slice(Math.max(lineStart, from), to - 1).indexOf('#') < 0;
}

/** ISC's echoed line: the current line up to read offset `r`, or (`current` false) the whole previous line. */
function echoText(text: string, r: number, current: boolean): string {
  let s: string;
  if (current) {
    const start = text.lastIndexOf('\n', r - 1) + 1;
    s = text.slice(start, r);
    if (s.endsWith('\n')) s = '';
  } else {
    const end = text.lastIndexOf('\n', r - 1);
    if (end < 0) s = '';
    else {
      const start = text.lastIndexOf('\n', end - 1) + 1;
      s = text.slice(start, end);
    }
  }
  // ISC stores at most 80 chars of a line.
  return s.length > 80 ? s.slice(0, 80) : s;
}
