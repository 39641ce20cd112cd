/**
 * dhcpd.leases read piece by piece in bounded memory ({@link LeaseFileStreamParser}); the records are
 * parsed by grammar/leases-parser.ts, canonical lease records by the fast path of
 * grammar/leases-fast-path.ts.
 *
 * @module
 */
import { tokenizeConfig, type Tok } from './tokens.js';
import { LeaseFileParser, type LeaseParseContext, type LeaseRecordSink, type ParsedLeaseFile } from './leases-parser.js';
import { fastParseLeases } from './leases-fast-path.js';

/** Text held without finding a record boundary before it is parsed as it is (bounds memory on a corrupt file). */
const FORCE_PARSE_AT = 8 << 20;

/**
 * dhcpd.leases parsed piece by piece in bounded memory (a 1,000,000-lease file is ~260 MB: its token array
 * alone does not fit V8's default heap). Canonical lease records are read line by line by the fast path;
 * at anything else, a window of text is cut at a record boundary (a `}` or `;` that closes a top-level
 * record and ends its line), tokenized and parsed by the general parser, then the fast path goes on. Lease
 * records go to the sink in file order instead of into {@link ParsedLeaseFile.leases} (which stays empty);
 * everything else (hosts, classes, failover states, diagnostics) is collected as by parseLeaseFileText,
 * with the same lines and columns.
 */
export class LeaseFileStreamParser {
  private readonly parser: LeaseFileParser;
  private readonly sink: LeaseRecordSink;
  private pending = '';
  private lineBase = 0;
  /** Lease records passed to the sink. */
  leaseRecords = 0;
  /** Of those, records read by the fast path. */
  fastRecords = 0;

  constructor(
    private readonly file: string,
    ctx: LeaseParseContext,
    sink: LeaseRecordSink,
    /** Text gathered before a piece is parsed (bytes = chars, latin1). */
    private readonly chunkSize = 512 << 10,
    /** Use the fast path (tests compare with and without). */
    private readonly fast = true,
  ) {
    this.sink = (l, line) => {
      this.leaseRecords++;
      sink(l, line);
    };
    this.parser = new LeaseFileParser(file, ctx, this.sink);
  }

  /** Adds text (latin1, any split). Whole records in what has been gathered are parsed now. */
  push(text: string): void {
    this.pending += text;
    while (this.pending.length >= this.chunkSize && this.parseSome(false)) {
      // go on while a chunk's worth is pending
    }
  }

  /** The result being filled (diagnostics so far, hosts, …); final after {@link end}. */
  peekResult(): ParsedLeaseFile {
    return this.parser.result();
  }

  /** Parses what is left and returns the result (leases were given to the sink). */
  end(): ParsedLeaseFile {
    while (this.pending.length > 0 && this.parseSome(true)) {
      // all of it
    }
    if (this.pending.length > 0 || this.lineBase === 0) {
      // The rest (no record boundary in it: a truncated record), or an empty file: the general parser
      // reports it as ISC does.
      const text = this.pending;
      this.pending = '';
      this.feed(text, tokenizeConfig(text, this.file).tokens);
    }
    return this.parser.result();
  }

  /**
   * Parses whole records from the start of what is pending: canonical leases by the fast path, else about
   * a window of text by the general parser. Returns false when nothing could be parsed (wait for more).
   */
  private parseSome(atEnd: boolean): boolean {
    const pending = this.pending;
    if (this.fast) {
      const f = fastParseLeases(pending, this.lineBase, (l, line) => {
        this.fastRecords++;
        this.sink(l, line);
      });
      if (f.offset > 0) {
        this.pending = pending.slice(f.offset);
        this.lineBase += f.lines;
        return true;
      }
    }
    // The general parser: a small window after the fast path stopped (it resumes after it), else a chunk.
    const start = this.fast ? Math.min(64 << 10, this.chunkSize) : this.chunkSize;
    for (let window = start; ; window *= 2) {
      const lastNl = pending.lastIndexOf('\n', Math.min(window, pending.length) - 1);
      if (lastNl >= 0) {
        const head = pending.slice(0, lastNl + 1);
        const toks = tokenizeConfig(head, this.file).tokens;
        const cut = recordBoundary(head, toks);
        if (cut !== null) {
          const { tokenCount, offset } = cut;
          const chunkToks = toks.slice(0, tokenCount);
          const last = chunkToks[tokenCount - 1]!;
          const eof = toks[toks.length - 1]!;
          chunkToks.push({ ...eof, line: last.line + 1, column: 1, offset, end: offset, iscChar: 1 });
          this.feed(head.slice(0, offset), chunkToks);
          this.pending = pending.slice(offset);
          return true;
        }
      }
      if (window >= pending.length) {
        // No top-level record ends in what is pending. At the end, or with 8 MB pending (a brace is
        // missing), the general parser takes it all as it is and says where it went wrong.
        if (atEnd || pending.length >= FORCE_PARSE_AT) {
          const cutAt = atEnd ? pending.length : lastNl + 1;
          if (cutAt <= 0) return false;
          const head = pending.slice(0, cutAt);
          this.feed(head, tokenizeConfig(head, this.file).tokens);
          this.pending = pending.slice(cutAt);
          return true;
        }
        return false;
      }
    }
  }

  private feed(text: string, toks: Tok[]): void {
    this.parser.feed(text, toks, this.lineBase);
    let n = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    this.lineBase += n;
  }
}

/**
 * The last place in `toks` where a top-level record ends with the end of its line: returns the number of
 * tokens up to and including the record's closing `}`/`;`, and the text offset just past that line's
 * newline. Null when no record ends in `text` (or only before an unterminated string).
 */
function recordBoundary(text: string, toks: readonly Tok[]): { tokenCount: number; offset: number } | null {
  let depth = 0;
  let best = -1;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'eof' || t.unterminated) break;
    if (t.kind !== 'punct') continue;
    if (t.image === '{') depth++;
    else if (t.image === '}') {
      if (depth > 0) depth--;
      if (depth === 0) best = i;
    } else if (t.image === ';' && depth === 0) best = i;
    if (best === i) {
      const next = toks[i + 1];
      if (next !== undefined && next.kind !== 'eof' && next.line === t.line) best = -1;
    }
  }
  if (best < 0) return null;
  const nl = text.indexOf('\n', toks[best]!.end);
  if (nl < 0) return null;
  // The tokens after `best` on later lines start after this newline: whitespace and comments lie between.
  return { tokenCount: best + 1, offset: nl + 1 };
}

