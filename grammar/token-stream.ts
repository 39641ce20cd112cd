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
import type { Tok, TokenizeResult } from './tokens.js';
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
  readonly toks: Tok[];
  /** Index of the next token to consume. */
  private idx = 0;
  /** Whether toks[idx] has been peeked (ISC cfile->token set). */
  private peeked = false;
  /** Last consumed token (ISC lexline/lexchar), or undefined at start. */
  private consumed: Tok | undefined;
  /** Parity (line number mod 2) of the line buffer ISC's token_line points at. */
  private tokenLineParity = 1;
  /** Furthest token lexed so far. */
  private readTok: Tok | undefined;

  constructor(lexed: TokenizeResult) {
    this.file = lexed.file;
    this.text = lexed.text;
    this.toks = lexed.tokens;
  }

  /** Offset just past the chars ISC has read after lexing `t` (names/numbers read one extra char). */
  private readPos(t: Tok): number {
    if (t.kind === 'eof') return this.text.length;
    return t.readsAhead && t.end < this.text.length ? t.end + 1 : t.end;
  }

  /** ISC's current line number after lexing `t`. */
  private curLineAfter(t: Tok): number {
    const r = this.readPos(t);
    let line = t.line;
    for (let i = t.offset; i < r; i++) if (this.text.charCodeAt(i) === 10) line++;
    return line;
  }

  /** Looks at the next token without consuming it (ISC peek_token). */
  peek(): Tok {
    const t = this.toks[this.idx]!;
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
    return this.toks[Math.min(this.idx + 1, this.toks.length - 1)]!;
  }

  /** Consumes and returns the next token (ISC next_token). */
  next(): Tok {
    const t = this.toks[this.idx]!;
    if (this.peeked) {
      if (!this.consumed || t.line !== this.consumed.line) this.tokenLineParity = this.curLineAfter(t) & 1;
    } else {
      this.readTok = t;
      this.tokenLineParity = this.curLineAfter(t) & 1;
    }
    this.peeked = false;
    this.consumed = t;
    if (t.kind !== 'eof') this.idx++;
    return t;
  }

  /** The last consumed token. */
  last(): Tok | undefined {
    return this.consumed;
  }

  /** True when the next token is the end of file. */
  atEof(): boolean {
    return this.toks[this.idx]!.kind === 'eof';
  }

  /** Index of the next token (for callers that slice raw value tokens). */
  position(): number {
    return this.idx;
  }

  /** The text ISC would echo as the source line right now. */
  private echoLine(): string {
    const rt = this.readTok;
    if (!rt) return '';
    const r = this.readPos(rt);
    const lc = this.curLineAfter(rt);
    let s: string;
    if ((lc & 1) === this.tokenLineParity) {
      const start = this.text.lastIndexOf('\n', r - 1) + 1;
      s = this.text.slice(start, r);
      if (s.endsWith('\n')) s = '';
    } else {
      // Whole previous line (line lc-1).
      const end = this.text.lastIndexOf('\n', r - 1);
      if (end < 0) s = '';
      else {
        const start = this.text.lastIndexOf('\n', end - 1) + 1;
        s = this.text.slice(start, end);
      }
    }
    // ISC stores at most 80 chars of a line.
    return s.length > 80 ? s.slice(0, 80) : s;
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
    const saved = { idx: this.idx, peeked: this.peeked, consumed: this.consumed, parity: this.tokenLineParity, readTok: this.readTok };
    try {
      return f();
    } finally {
      this.idx = saved.idx;
      this.peeked = saved.peeked;
      this.consumed = saved.consumed;
      this.tokenLineParity = saved.parity;
      this.readTok = saved.readTok;
    }
  }

  /**
   * The error ISC reports when it has consumed `tok` after peeking it (the usual pattern in its value
   * parsers), optionally peeking the token after it. Does not move this cursor.
   */
  errorAtToken(tok: Tok, message: string, peekAfter = true): ConfigError {
    const i = this.toks.indexOf(tok);
    return this.simulate(() => {
      this.idx = Math.max(0, i - 1);
      this.peeked = false;
      this.consumed = i > 0 ? this.toks[i - 1] : undefined;
      if (this.consumed) this.tokenLineParity = this.curLineAfter(this.consumed) & 1;
      this.readTok = this.consumed;
      if (i > 0) this.idx = i;
      this.peek();
      this.next();
      if (peekAfter) this.peek();
      return this.errorHere(message);
    });
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
