/**
 * A cursor over {@link Tok}s that reproduces ISC's next_token/peek_token bookkeeping so errors land on
 * the same line, column and echoed source text as `dhcpd -t` prints:
 *
 * - an error is positioned at the last *consumed* token (a pending peek does not move it);
 * - the echoed line is ISC's `token_line` buffer: ISC keeps two alternating line buffers (current and
 *   previous line) filled as chars are read, so the echo is the current line up to the read position, or
 *   the whole previous line when a peek crossed a line end.
 *
 * Used by the dhcpd.conf parser and available to the dhcpd.leases parser.
 */
import { Scanner, type Tok, type TokenizeResult } from './tokens.js';
import type { ConfigError } from './errors.js';

/** Thrown to abandon a parse at the first error (caught by the parser entry points, never escapes). */
export class ParseAbort extends Error {
  constructor(readonly error: ConfigError) {
    super(error.message);
  }
}

export class TokenStream {
  readonly file: string;
  readonly text: string;
  /** Source of tokens: a scanner, or an array (for a pre-tokenized text). */
  private readonly pull: () => Tok;
  /** Tokens fetched from the source but not consumed; la[0] is the next token. */
  private la: Tok[] = [];
  /** Whether la[0] has been peeked (ISC cfile->token set). */
  private peeked = false;
  /** Last consumed token (ISC lexline/lexchar), or undefined at start. */
  private consumed: Tok | undefined;
  /** Parity (line number mod 2) of the line buffer ISC's token_line points at. */
  private tokenLineParity = 1;
  /** Furthest token lexed so far (by ISC's reckoning). */
  private readTok: Tok | undefined;

  /** Streams tokens of `text` lazily (big files are not held as token arrays), or of a tokenized text. */
  constructor(source: TokenizeResult | Scanner) {
    if (source instanceof Scanner) {
      this.file = source.file;
      this.text = source.text;
      this.pull = () => source.next();
    } else {
      this.file = source.file;
      this.text = source.text;
      const toks = source.tokens;
      let i = 0;
      this.pull = () => toks[Math.min(i++, toks.length - 1)]!;
    }
  }

  /** Tokens pulled from the source during {@link simulate}. */
  private recording: Tok[] | undefined;

  private fetch(k: number): Tok {
    while (this.la.length <= k) {
      const t = this.pull();
      this.la.push(t);
      if (this.recording) this.recording.push(t);
    }
    return this.la[k]!;
  }

  /** Offset just past the chars ISC has read after lexing `t` (names/numbers read one extra char). */
  private readPos(t: Tok): number {
    if (t.kind === 'eof') return this.text.length;
    return t.readsAhead && t.end < this.text.length ? t.end + 1 : t.end;
  }

  private eofLine = -1;

  /** ISC's current line number after lexing `t`. */
  private curLineAfter(t: Tok): number {
    if (t.kind === 'eof') {
      if (this.eofLine < 0) {
        let n = 1;
        for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) n++;
        this.eofLine = n;
      }
      return this.eofLine;
    }
    const r = this.readPos(t);
    let line = t.line;
    for (let i = t.offset; i < r; i++) if (this.text.charCodeAt(i) === 10) line++;
    return line;
  }

  /** Looks at the next token without consuming it (ISC peek_token). */
  peek(): Tok {
    const t = this.fetch(0);
    if (!this.peeked) {
      this.peeked = true;
      this.readTok = t;
      // ISC's lexline starts at 0, so the first peek always switches to the previous-line buffer.
      if (!this.consumed || t.line !== this.consumed.line) this.tokenLineParity = (this.curLineAfter(t) - 1) & 1;
    }
    return t;
  }

  /** The token after the next one, without ISC side effects (for decisions ISC makes with its own state). */
  peek2(): Tok {
    return this.fetch(1);
  }

  /** The token `k` places ahead (0 = next), without ISC side effects. */
  lookahead(k: number): Tok {
    return this.fetch(k);
  }

  /** Consumes and returns the next token (ISC next_token). */
  next(): Tok {
    const t = this.fetch(0);
    if (this.peeked) {
      if (!this.consumed || t.line !== this.consumed.line) this.tokenLineParity = this.curLineAfter(t) & 1;
    } else {
      this.readTok = t;
      this.tokenLineParity = this.curLineAfter(t) & 1;
    }
    this.peeked = false;
    this.consumed = t;
    if (t.kind !== 'eof') this.la.shift();
    return t;
  }

  /** The last consumed token. */
  last(): Tok | undefined {
    return this.consumed;
  }

  /** True when the next token is the end of file. */
  atEof(): boolean {
    return this.fetch(0).kind === 'eof';
  }

  /** The text ISC would echo as the source line right now. */
  private echoLine(): string {
    const rt = this.readTok;
    if (!rt) return '';
    const r = this.readPos(rt);
    const lc = this.curLineAfter(rt);
    return echoText(this.text, r, (lc & 1) === this.tokenLineParity);
  }


  /** ISC's current error position, with the echoed source text computed only when read. */
  positionHere(): IscPosition {
    const c = this.consumed;
    const rt = this.readTok;
    let r = 0;
    let cur = true;
    if (rt) {
      r = this.readPos(rt);
      cur = (this.curLineAfter(rt) & 1) === this.tokenLineParity;
    }
    return new IscPosition(this.file, c ? c.line : 0, c ? c.column : 0, c ? c.iscChar : 0, rt ? this.text : '', r, cur);
  }

  /** Builds an error positioned where ISC's parse_warn would put it now. */
  errorHere(message: string): ConfigError {
    const c = this.consumed;
    return {
      file: this.file,
      line: c ? c.line : 0,
      column: c ? c.column : 0,
      iscChar: c ? c.iscChar : 0,
      message,
      sourceLine: this.echoLine(),
    };
  }

  /** Runs `f` and then restores the cursor state (for computing what ISC would report further on). */
  simulate<T>(f: () => T): T {
    const saved = { la: this.la.slice(), peeked: this.peeked, consumed: this.consumed, parity: this.tokenLineParity, readTok: this.readTok };
    const outer = this.recording;
    this.recording = [];
    try {
      return f();
    } finally {
      // Tokens pulled during the simulation are the real next tokens: keep them buffered.
      const pulled = this.recording;
      this.recording = outer;
      if (outer) outer.push(...pulled);
      this.la = saved.la.concat(pulled);
      this.peeked = saved.peeked;
      this.consumed = saved.consumed;
      this.tokenLineParity = saved.parity;
      this.readTok = saved.readTok;
    }
  }

  /**
   * The error ISC reports when it has consumed `tok` (after `prev`) having peeked it first (the usual
   * pattern in its value parsers), optionally peeking `after` too. Does not move this cursor.
   */
  errorAtToken(prev: Tok | undefined, tok: Tok, after: Tok | undefined, message: string, peekAfter = true): ConfigError {
    const saved = { la: this.la, peeked: this.peeked, consumed: this.consumed, parity: this.tokenLineParity, readTok: this.readTok };
    try {
      this.consumed = prev;
      this.tokenLineParity = prev ? this.curLineAfter(prev) & 1 : 1;
      this.readTok = prev;
      this.peeked = false;
      this.la = after && peekAfter ? [tok, after] : [tok];
      this.peek();
      this.next();
      if (peekAfter && after) this.peek();
      return this.errorHere(message);
    } finally {
      this.la = saved.la;
      this.peeked = saved.peeked;
      this.consumed = saved.consumed;
      this.tokenLineParity = saved.parity;
      this.readTok = saved.readTok;
    }
  }

  /** Throws ParseAbort with an error at ISC's current position. */
  fail(message: string): never {
    throw new ParseAbort(this.errorHere(message));
  }

  /** Consumes a token and fails with `message` at it. */
  failAtNext(message: string): never {
    this.next();
    return this.fail(message);
  }
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

/** ISC's echoed line: the current line up to read offset `r`, or (`current` false) the whole previous line. */
function echoText(text: string, r: number, current: boolean): string {
  {
    let s: string;
    if (current) {
      const start = text.lastIndexOf('\n', r - 1) + 1;
      s = text.slice(start, r);
      if (s.endsWith('\n')) s = '';
    } else {
      // Whole previous line (line lc-1).
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
}

