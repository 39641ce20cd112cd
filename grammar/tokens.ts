/**
 * The dhcpd.conf / dhcpd.leases tokenizer, following ISC dhcpd 4.4's conflex.c rules (facts, not code):
 *
 * - whitespace is any ASCII isspace char; `#` starts a comment to end of line; only `\n` ends a line;
 * - `"..."` is a string with ISC escapes (`\t \r \n \b`, `\xHH`, `\ooo`, any other char stands for itself);
 * - a word starting with a digit or `-` is read over `[A-Za-z0-9_-]` and classified NUMBER (all decimal
 *   digits, optional leading `-`), NUMBER_OR_NAME (hex digits, or `0x` + hex) or NAME; such words are never
 *   keywords;
 * - a word starting with a letter is read over `[A-Za-z0-9_-]`; it is a keyword when it matches ISC's keyword
 *   table case-insensitively, else NUMBER_OR_NAME when every char after the first is a hex digit, else NAME;
 * - every other byte (`. : ; , { } = ( ) / ! ~ + * % & | ^ _ ...`) is a one-character token, so addresses,
 *   MACs and colon-hex strings are assembled by the parser.
 *
 * Input text is treated as a byte string: files are read as latin1 so one char = one byte, as ISC counts
 * columns. The same tokens serve dhcpd.leases (ISC uses one lexer for both).
 *
 * Two implementations of these rules: {@link ConfigLexer} + {@link lexConfig} (Chevrotain; what the
 * dhcpd.conf parser reads) and {@link Scanner} / {@link tokenizeConfig} (a hand scanner yielding `Tok`s,
 * used by the dhcpd.leases parser and by modules re-reading config tokens).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IToken, Lexer as ChevrotainLexer, TokenType } from 'chevrotain';

/**
 * Chevrotain's package entry (lib/src/api.js) imports lodash-es as ~650 separate ES modules: resolving and
 * compiling them costs ~0.4 s CPU at every start, more than `dhcpd -t` needs for a 50,000-host file. The
 * package ships the same version as one bundled file, lib/chevrotain.min.mjs (not in its exports map, so
 * it is located next to the entry); it loads in a few ms. The package entry remains the fallback.
 */
async function loadChevrotain(): Promise<typeof import('chevrotain')> {
  try {
    const entry = createRequire(import.meta.url).resolve('chevrotain');
    return (await import(pathToFileURL(join(dirname(entry), '..', 'chevrotain.min.mjs')).href)) as typeof import('chevrotain');
  } catch {
    return import('chevrotain');
  }
}
/** The Chevrotain module (bundled build), for the parser too. */
export const chevrotain: typeof import('chevrotain') = await loadChevrotain();
const { createToken, Lexer, EOF: ChevrotainEOF } = chevrotain;

/** Token classes as ISC's lexer produces them. Keywords are `name`/`numberOrName` tokens with `keyword` set. */
export type TokKind = 'number' | 'numberOrName' | 'name' | 'string' | 'punct' | 'eof';

/** One token, with ISC position bookkeeping. */
export interface Tok {
  kind: TokKind;
  /** Raw source text of the token (for strings: including the quotes). */
  image: string;
  /** Value: decoded bytes (latin1 string, one char a byte) for strings; the image otherwise. */
  text: string;
  /** Lower-cased keyword when the word is in ISC's keyword table (letter-initial words only). */
  keyword: string | undefined;
  /** 1-based line. */
  line: number;
  /** 1-based column (byte) of the first char. */
  column: number;
  /** Offset of the first char in the text. */
  offset: number;
  /** Offset just past the last char. */
  end: number;
  /**
   * ISC's `lexchar` for this token: ISC's column counter is one ahead after it put back a look-ahead
   * char (after whitespace, names and numbers), so its caret sits one column right of most tokens.
   */
  iscChar: number;
  /** True when ISC reads one char past this token (names/numbers) before knowing it ended. */
  readsAhead: boolean;
  /** For a string: true if it was not closed before end of file (always false for other tokens). */
  unterminated: boolean;
}

/** A lexing diagnostic (ISC reports these as parse warnings, e.g. "eof in string constant"). */
export interface LexDiagnostic {
  line: number;
  column: number;
  iscChar: number;
  offset: number;
  message: string;
}

/** Result of {@link tokenizeConfig}. The last token is always an `eof` token. */
export interface TokenizeResult {
  file: string;
  text: string;
  tokens: Tok[];
  diagnostics: LexDiagnostic[];
}

/** ISC 4.4's keyword table (conflex.c intern()), lower-case. */
export const KEYWORDS: ReadonlySet<string> = new Set(
  `abandoned active add address after algorithm alias all allow also and anycast-mac append array at atsfp
authenticated authentication authoring-byte-order authoritative auto-partner-down backoff-cutoff backup
balance big-endian billing binary-to-ascii binding boolean boot-unknown-clients booting bootp bound break
case check ciaddr class client-hostname client-identifier client-state client-updates clients close cltt code
commit communications-interrupted compressed concat config-option conflict-done connect create db-time-format
debug declines default default-duid default-lease-time define defined delete deleted deny disconnect
do-forward-update do-forward-updates domain domain-list domain-name duplicates dynamic dynamic-bootp
dynamic-bootp-lease-cutoff dynamic-bootp-lease-length else elsif en encapsulate encode-int ends epoch error
ethernet eval execute exists expire expired expiry extract-int failover fatal fddi filename fixed-address
fixed-address6 fixed-prefix6 formerr free function get-lease-hostnames gethostbyname gethostname giaddr group
hardware hash hba help hex host host-decl-name host-identifier hostname ia-na ia-pd ia-ta iaaddr iaprefix
identifier if ignore include infiniband infinite info initial-delay initial-interval integer interface
ip-address ip6-address is key key-algorithm known known-clients lcase lease lease-id-format lease-time lease6
leased-address leasequery length let limit little-endian ll llt load local log match max max-balance
max-lease-misbalance max-lease-ownership max-lease-time max-life max-response-delay max-transmit-idle
max-unacked-updates mclt media medium members min-balance min-lease-time min-secs my nameserver netmask never
new next next-server no noerror normal not notauth notimp notzone null nxdomain nxrrset octal of omapi on
one-lease-per-client open option or owner packet parse-vendor-option partner partner-down paused peer pick
pick-first-value pool pool6 port potential-conflict preferred-life prefix6 prepend primary primary6 pseudo
range range6 rebind reboot recontact-interval recover recover-done recover-wait refresh refused reject
release released remove renew request require reserved reset resolution-interrupted retry return reverse
rewind script search secondary secondary6 seconds secret select select-timeout send server server-duid
server-identifier server-name servfail set shared-network shutdown siaddr signed size space spawn split
starts startup state static string subclass subnet subnet6 substring suffix supersede switch temporary text
timeout timestamp token-ring transmission tsfp tstp ucase uid unauthenticated unknown unknown-clients
unknown-state unset unsigned update use-host-decl-names use-lease-addr-for-default-route user-class v6relay
v6relopt vendor vendor-class width with yiaddr yxdomain yxrrset zerolen zone`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/**
 * Chevrotain token types. Whitespace and comments are skipped; the punctuation ISC's parser tests for has
 * its own type; `Other` is any single remaining byte. `Word` is what ISC's read_num_or_name() reads: the
 * parser's vocabulary refines it (see {@link lexConfig}) into NUMBER / NUMBER_OR_NAME / NAME or a keyword.
 */
export const WhiteSpace: TokenType = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\n\r\v\f]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const Comment: TokenType = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

/** Every token the dhcpd.conf parser sees belongs to this category (ISC next_token() takes anything). */
export const AnyTok: TokenType = createToken({ name: 'AnyTok', pattern: Lexer.NA });
/** ISC's "is_identifier": NAME, NUMBER_OR_NAME and every keyword. */
export const Ident: TokenType = createToken({ name: 'Ident', pattern: Lexer.NA, categories: [AnyTok] });
/** A word ISC's convert_num() may read as hex: NUMBER, NUMBER_OR_NAME and hex-looking keywords ("add"). */
export const HexWord: TokenType = createToken({ name: 'HexWord', pattern: Lexer.NA, categories: [AnyTok] });

export const StringLit: TokenType = createToken({
  name: 'StringLit',
  // An unclosed string runs to end of file (ISC: "eof in string constant").
  pattern: /"(?:[^"\\]|\\[\s\S])*"?/,
  line_breaks: true,
  categories: [AnyTok],
});
export const Word: TokenType = createToken({ name: 'Word', pattern: /[A-Za-z0-9-][A-Za-z0-9_-]*/, categories: [AnyTok] });

const punct = (name: string, ch: string): TokenType =>
  createToken({ name, pattern: ch, categories: [AnyTok] });
export const Semi = punct('Semi', ';');
export const LCurly = punct('LCurly', '{');
export const RCurly = punct('RCurly', '}');
export const Dot = punct('Dot', '.');
export const Colon = punct('Colon', ':');
export const Comma = punct('Comma', ',');
export const Equals = punct('Equals', '=');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const Percent = punct('Percent', '%');
const PUNCT_TYPES = [Semi, LCurly, RCurly, Dot, Colon, Comma, Equals, LParen, RParen, Percent];

const otherStart: number[] = [];
for (let c = 0; c < 256; c++) if (!/[ \t\n\r\v\f"#A-Za-z0-9;{}.:,=()%-]/.test(String.fromCharCode(c))) otherStart.push(c);
export const Other: TokenType = createToken({
  name: 'Other',
  pattern: /[^ \t\n\r\v\f"#A-Za-z0-9;{}.:,=()%-]/,
  start_chars_hint: otherStart,
  categories: [AnyTok],
});

/** The shared Chevrotain lexer (ISC counts only `\n` as a line end). */
export const ConfigLexer: ChevrotainLexer = new Lexer([WhiteSpace, Comment, StringLit, Word, ...PUNCT_TYPES, Other], {
  // Lines and columns are computed by lexConfig into typed arrays: smaller tokens, less for the GC.
  positionTracking: 'onlyOffset',
  lineTerminatorsPattern: /\n/g,
  lineTerminatorCharacters: ['\n'],
  ensureOptimizations: false,
});

/** Parser vocabulary: the refined words (never produced by the lexer itself, see {@link lexConfig}). */
export const NumberTok: TokenType = createToken({ name: 'Number', pattern: Lexer.NA, categories: [AnyTok, HexWord] });
export const NumberOrName: TokenType = createToken({ name: 'NumberOrName', pattern: Lexer.NA, categories: [AnyTok, Ident, HexWord] });
export const NameTok: TokenType = createToken({ name: 'Name', pattern: Lexer.NA, categories: [AnyTok, Ident] });
/** End of file, as the parser sees it (ISC's END_OF_FILE token, which it may consume, even repeatedly). */
export const EofTok: TokenType = createToken({ name: 'Eof', pattern: Lexer.NA, categories: [AnyTok] });

const isHexText = (w: string): boolean => /^[0-9a-fA-F]+$/.test(w.slice(1));

/**
 * Keywords the dhcpd.conf grammar decides on have their own token type (`Kw.host`, `Kw['shared-network']`,
 * ...); every other keyword is an {@link OtherKeyword} (creating ~350 token types with categories costs
 * ~0.1 s at every start).
 */
const GRAMMAR_KEYWORDS = `add allow append authoritative break case class db-time-format default define deleted deny dynamic
eval execute failover fixed-address fixed-address6 fixed-prefix6 group hardware host host-identifier if ignore include
interface key lease lease-id-format limit log match netmask no not on option parse-vendor-option peer pool pool6
prefix6 prepend range range6 return send server-duid server-identifier set shared-network spawn static subclass
subnet subnet6 supersede switch uid unset user-class vendor-class with zone`
  .split(/\s+/)
  .filter((w) => w.length > 0);
export const Kw: Readonly<Record<string, TokenType>> = Object.fromEntries(
  GRAMMAR_KEYWORDS.map((k) => [k, createToken({ name: `KW_${k}`, pattern: Lexer.NA, categories: isHexText(k) ? [AnyTok, Ident, HexWord] : [AnyTok, Ident] })]),
);
/** Any other keyword (its word is not hex-like; `keywordOf` reads the keyword from the image). */
export const OtherKeyword: TokenType = createToken({ name: 'Keyword', pattern: Lexer.NA, categories: [AnyTok, Ident] });
/** Any other keyword whose letters after the first are hex digits (ISC: also a NUMBER_OR_NAME). */
export const OtherHexKeyword: TokenType = createToken({ name: 'HexKeyword', pattern: Lexer.NA, categories: [AnyTok, Ident, HexWord] });

/** Everything the dhcpd.conf parser's vocabulary holds. */
export const PARSER_TOKENS: TokenType[] = [
  AnyTok, Ident, HexWord, StringLit, Word, ...PUNCT_TYPES, Other, NumberTok, NumberOrName, NameTok, EofTok, OtherKeyword, OtherHexKeyword, ...Object.values(Kw),
];

/** A lexed file for the parser: tokens with refined word types, then {@link EOF_PAD} `Eof` tokens. */
export interface LexedConfig {
  text: string;
  tokens: IToken[];
  /** Number of real tokens (the `Eof` padding follows them). */
  count: number;
  /** 1-based line of each real token. */
  lines: Int32Array;
  /** 1-based column (byte) of each real token. */
  columns: Int32Array;
}

/** Eof tokens appended: ISC may consume the end of file a few times before it reports an error. */
export const EOF_PAD = 4;

/**
 * Tokenizes dhcpd.conf text with {@link ConfigLexer} for the parser: each `Word` becomes NUMBER,
 * NUMBER_OR_NAME, NAME (ISC's read_num_or_name() classification) or its keyword's type (ISC's intern():
 * letter-initial words only, case-insensitive). Keywords are classified after lexing, in one table lookup,
 * rather than as ~350 lexer patterns tried in turn.
 */
export function lexConfig(text: string, segments?: Int32Array): LexedConfig {
  const tokens = segments === undefined ? ConfigLexer.tokenize(text).tokens : lexSegments(text, segments);
  const n = tokens.length;
  const numT = NumberTok;
  const nonT = NumberOrName;
  const nameT = NameTok;
  const wordIdx = Word.tokenTypeIdx;
  const lines = new Int32Array(n);
  const columns = new Int32Array(n);
  let line = 1;
  let lineStart = 0;
  let nl = text.indexOf('\n');
  // With segments: the line of each segment's start is known (the text between is not walked).
  let seg = 0;
  let segEnd = segments !== undefined && segments.length > 0 ? segments[1]! : -1;
  for (let i = 0; i < n; i++) {
    const t = tokens[i]!;
    const off = t.startOffset;
    if (off >= segEnd && segEnd >= 0 && segments !== undefined) {
      while (seg + 4 < segments.length && off >= segments[seg + 1]!) seg += 4;
      segEnd = segments[seg + 1]!;
      if (segments[seg + 2]! > line) {
        line = segments[seg + 2]!;
        lineStart = segments[seg + 3]!;
        nl = text.indexOf('\n', lineStart);
      }
    }
    while (nl >= 0 && nl < off) {
      line++;
      lineStart = nl + 1;
      nl = text.indexOf('\n', lineStart);
    }
    lines[i] = line;
    columns[i] = off - lineStart + 1;
    if (t.tokenTypeIdx !== wordIdx) continue;
    const image = t.image;
    const c = image.charCodeAt(0);
    let tt: TokenType;
    if ((c >= 48 && c <= 57) || c === 45) {
      const k = classifyNumberWord(image);
      tt = k === 'number' ? numT : k === 'numberOrName' ? nonT : nameT;
    } else {
      let keyword = KEYWORD_OF.get(image);
      if (keyword === undefined && image.length <= 32) {
        const lower = image.toLowerCase();
        if (lower !== image && KEYWORDS.has(lower)) keyword = lower;
      }
      if (keyword !== undefined) tt = KEYWORD_TYPE.get(keyword)!;
      else {
        tt = nonT;
        for (let k = 1; k < image.length; k++) {
          if ((CC[image.charCodeAt(k)]! & 4) === 0) {
            tt = nameT;
            break;
          }
        }
      }
    }
    t.tokenType = tt;
    t.tokenTypeIdx = tt.tokenTypeIdx!;
  }
  const end = text.length;
  for (let k = 0; k < EOF_PAD; k++) {
    // Same shape and field kinds as the lexer's tokens (keeps the parser's property accesses monomorphic).
    tokens.push({ image: '', startOffset: end, tokenTypeIdx: EofTok.tokenTypeIdx!, tokenType: EofTok });
  }
  // Chevrotain's own end marker after them: its look-ahead reads past the last token consumed.
  for (let k = 0; k < 2; k++) {
    tokens.push({ image: '', startOffset: end, tokenTypeIdx: ChevrotainEOF.tokenTypeIdx!, tokenType: ChevrotainEOF });
  }
  return { text, tokens, count: n, lines, columns };
}

/**
 * Chevrotain tokens of the parts `[from, to)` of `text` given by `segments` (4 numbers each: from, to, and
 * the line and line-start offset at `from`), with offsets into `text`: the parts between (the host blocks
 * the fast path read, grammar/host-fast-path.ts) are not lexed at all. No token spans two parts (each
 * gap is a whole host block).
 */
function lexSegments(text: string, segments: Int32Array): IToken[] {
  const out: IToken[] = [];
  for (let s = 0; s < segments.length; s += 4) {
    const from = segments[s]!;
    const toks = ConfigLexer.tokenize(text.slice(from, segments[s + 1]!)).tokens;
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k]!;
      t.startOffset += from;
      if (t.endOffset !== undefined) t.endOffset += from;
      out.push(t);
    }
  }
  return out;
}

/**
 * ISC's view of one word (what {@link lexConfig} + {@link kindOf}/{@link keywordOf} make of a `Word`
 * token): its token class and, for a letter-initial word in ISC's keyword table, the lower-case keyword.
 */
export function wordKind(image: string): { kind: TokKind; keyword: string | undefined } {
  const c = image.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) return { kind: classifyNumberWord(image), keyword: undefined };
  let keyword = KEYWORD_OF.get(image);
  if (keyword === undefined && image.length <= 32) {
    const lower = image.toLowerCase();
    if (lower !== image && KEYWORDS.has(lower)) keyword = lower;
  }
  if (keyword !== undefined) return { kind: isHexText(keyword) ? 'numberOrName' : 'name', keyword };
  for (let k = 1; k < image.length; k++) if ((CC[image.charCodeAt(k)]! & 4) === 0) return { kind: 'name', keyword: undefined };
  return { kind: 'numberOrName', keyword: undefined };
}

/** The keyword of a parser token (lower case), or undefined. */
export function keywordOf(t: IToken): string | undefined {
  const idx = t.tokenTypeIdx;
  const k = KEYWORD_OF_TYPE[idx];
  if (k !== undefined) return k;
  return idx === OTHER_KW_IDX || idx === OTHER_HEX_KW_IDX ? t.image.toLowerCase() : undefined;
}

/** ISC's token class of a parser token. */
export function kindOf(t: IToken): TokKind {
  return KIND_OF_TYPE[t.tokenTypeIdx] ?? 'punct';
}

const OTHER_KW_IDX = OtherKeyword.tokenTypeIdx!;
const OTHER_HEX_KW_IDX = OtherHexKeyword.tokenTypeIdx!;
/** Token type of each keyword. */
const KEYWORD_TYPE: ReadonlyMap<string, TokenType> = new Map(
  [...KEYWORDS].map((k) => [k, Kw[k] ?? (isHexText(k) ? OtherHexKeyword : OtherKeyword)]),
);
const KEYWORD_OF_TYPE: (string | undefined)[] = [];
const KIND_OF_TYPE: (TokKind | undefined)[] = [];
for (const [k, tt] of Object.entries(Kw)) {
  KEYWORD_OF_TYPE[tt.tokenTypeIdx!] = k;
  KIND_OF_TYPE[tt.tokenTypeIdx!] = isHexText(k) ? 'numberOrName' : 'name';
}
KIND_OF_TYPE[OTHER_KW_IDX] = 'name';
KIND_OF_TYPE[OTHER_HEX_KW_IDX] = 'numberOrName';
KIND_OF_TYPE[NumberTok.tokenTypeIdx!] = 'number';
KIND_OF_TYPE[NumberOrName.tokenTypeIdx!] = 'numberOrName';
KIND_OF_TYPE[NameTok.tokenTypeIdx!] = 'name';
KIND_OF_TYPE[StringLit.tokenTypeIdx!] = 'string';
KIND_OF_TYPE[EofTok.tokenTypeIdx!] = 'eof';
KIND_OF_TYPE[ChevrotainEOF.tokenTypeIdx!] = 'eof';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isXDigit = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Classifies a word that starts with a digit or `-` as ISC's read_number() does. */
export function classifyNumberWord(w: string): 'number' | 'numberOrName' | 'name' {
  let kind: 'number' | 'numberOrName' | 'name' = 'number';
  for (let i = 1; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (kind === 'number' && isDigit(c)) continue;
    if (kind !== 'name' && isXDigit(c)) {
      kind = 'numberOrName';
      continue;
    }
    // "0x" followed by a hex digit returns to NUMBER_OR_NAME (C-style hex constant).
    if (i === 2 && isXDigit(c) && w[0] === '0' && (w[1] === 'x' || w[1] === 'X')) {
      kind = 'numberOrName';
      continue;
    }
    kind = 'name';
  }
  return kind;
}

/** Decodes ISC string escapes; returns the bytes as a latin1 string. */
export function decodeIscString(body: string): string {
  if (body.indexOf('\\') < 0) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\' || i + 1 >= body.length) {
      if (ch !== '\\') out += ch;
      continue;
    }
    const e = body[++i]!;
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 'b':
        out += '\b';
        break;
      case 'x': {
        // Two hex digits make one byte; a non-hex char is dropped (ISC warns).
        let v = 0;
        let n = 0;
        while (n < 2 && i + 1 < body.length && isXDigit(body.charCodeAt(i + 1))) {
          v = v * 16 + parseInt(body[++i]!, 16);
          n++;
        }
        out += String.fromCharCode(v & 0xff);
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3': {
        // Octal escapes are always three digits (\001, \270).
        let v = e.charCodeAt(0) - 48;
        let n = 1;
        while (n < 3 && i + 1 < body.length && body[i + 1]! >= '0' && body[i + 1]! <= '7') {
          v = v * 8 + (body.charCodeAt(++i) - 48);
          n++;
        }
        out += String.fromCharCode(v & 0xff);
        break;
      }
      default:
        out += e;
    }
  }
  return out;
}

/**
 * Character classes (latin1 code units): 1 = whitespace, 2 = word char, 4 = hex digit, 8 = digit,
 * 16 = may start a word (letters, digits, `-`; `_` only continues one).
 */
const CC = new Uint8Array(256);
for (const c of [9, 10, 11, 12, 13, 32]) CC[c] |= 1;
for (let c = 48; c <= 57; c++) CC[c] |= 2 | 4 | 8;
for (let c = 65; c <= 90; c++) CC[c] |= 2;
for (let c = 97; c <= 122; c++) CC[c] |= 2;
for (let c = 65; c <= 70; c++) CC[c] |= 4;
for (let c = 97; c <= 102; c++) CC[c] |= 4;
CC[45] |= 2; // -
CC[95] |= 2; // _
for (let c = 0; c < 256; c++) if (CC[c]! & 2 && c !== 95) CC[c] |= 16;

/**
 * Incremental scanner: yields one token per {@link Scanner.next} call (an `eof` token at the end, then
 * again on every further call). Used by the parsers so tokens of a big file need not all be kept alive.
 */
export class Scanner {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  // ISC's column counter runs one ahead while a look-ahead char is "put back": that is the case at the
  // start of a token whenever the previous thing read was whitespace, a name or a number.
  private pending = false;
  /** Lexing diagnostics found so far ("eof in string constant"). */
  readonly diagnostics: LexDiagnostic[] = [];

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  next(): Tok {
    const text = this.text;
    const n = text.length;
    let i = this.i;
    while (i < n) {
      const c = text.charCodeAt(i);
      const cls = c < 256 ? CC[c]! : 0;
      if (cls & 1) {
        do {
          if (text.charCodeAt(i) === 10) {
            this.line++;
            this.lineStart = i + 1;
          }
          i++;
        } while (i < n && text.charCodeAt(i) < 256 && (CC[text.charCodeAt(i)]! & 1) !== 0);
        this.pending = true;
        continue;
      }
      if (c === 35 /* # */) {
        const nl = text.indexOf('\n', i);
        if (nl < 0) i = n;
        else {
          i = nl + 1;
          this.line++;
          this.lineStart = i;
        }
        this.pending = false;
        continue;
      }
      const line = this.line;
      const column = i - this.lineStart + 1;
      const iscChar = this.pending ? column + 1 : column;
      const offset = i;
      if (cls & 16) {
        let j = i + 1;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d >= 256 || (CC[d]! & 2) === 0) break;
          j++;
        }
        const image = text.slice(i, j);
        let kind: TokKind;
        let keyword: string | undefined;
        if (cls & 8 || c === 45) {
          kind = classifyNumberWord(image);
        } else {
          kind = 'numberOrName';
          for (let k = i + 1; k < j; k++) {
            if ((CC[text.charCodeAt(k)]! & 4) === 0) {
              kind = 'name';
              break;
            }
          }
          keyword = KEYWORD_OF.get(image);
          if (keyword === undefined && image.length <= 32) {
            const lower = image.toLowerCase();
            if (lower !== image && KEYWORDS.has(lower)) keyword = lower;
          }
        }
        this.i = j;
        this.pending = true;
        return this.track({ kind, image, text: image, keyword, line, column, offset, end: j, iscChar, readsAhead: true, unterminated: false });
      }
      if (c === 34 /* " */) {
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 92 /* backslash */) {
            if (j + 1 < n) {
              if (text.charCodeAt(j + 1) === 10) {
                this.line++;
                this.lineStart = j + 2;
              }
              j += 2;
              continue;
            }
            break;
          }
          if (d === 34) {
            closed = true;
            j++;
            break;
          }
          if (d === 10) {
            this.line++;
            this.lineStart = j + 1;
          }
          j++;
        }
        const image = text.slice(i, j);
        const body = closed ? image.slice(1, -1) : image.slice(1);
        if (!closed) this.diagnostics.push({ line, column, iscChar, offset, message: 'eof in string constant' });
        this.i = j;
        this.pending = false;
        return this.track({ kind: 'string', image, text: decodeIscString(body), keyword: undefined, line, column, offset, end: j, iscChar, readsAhead: false, unterminated: !closed });
      }
      const image = text[i]!;
      this.i = i + 1;
      this.pending = false;
      return this.track({ kind: 'punct', image, text: image, keyword: undefined, line, column, offset, end: i + 1, iscChar, readsAhead: false, unterminated: false });
    }
    this.i = n;
    // ISC does not update its token position at end of file: errors "at" EOF are reported at the last
    // real token (line 0 in an empty file).
    return { kind: 'eof', image: '', text: '', keyword: undefined, line: this.lastLine, column: this.lastColumn, offset: n, end: n, iscChar: this.lastIscChar, readsAhead: false, unterminated: false };
  }

  private lastLine = 0;
  private lastColumn = 0;
  private lastIscChar = 0;

  /** Records the position of a token being returned (for the end-of-file token). */
  private track(t: Tok): Tok {
    this.lastLine = t.line;
    this.lastColumn = t.column;
    this.lastIscChar = t.iscChar;
    return t;
  }
}

/** Keywords by their exact (lower-case) spelling: the common case needs no toLowerCase. */
const KEYWORD_OF: ReadonlyMap<string, string> = new Map([...KEYWORDS].map((k) => [k, k]));

/**
 * Tokenizes dhcpd.conf or dhcpd.leases text into an array (last token: `eof`). Never throws: every byte
 * becomes part of some token. `file` is only recorded in the result (errors name it).
 *
 * A direct scanner implementing exactly the token rules of {@link ConfigLexer} (test/grammar checks it
 * against the parser's tokens on the whole corpus). The dhcpd.conf parser uses the Chevrotain lexer
 * ({@link lexConfig}); this one serves the dhcpd.leases parser and the modules that re-read a few tokens of a
 * config (src/config, src/engine, leases/), which need `Tok`s one at a time without a parser around them.
 */
export function tokenizeConfig(text: string, file: string): TokenizeResult {
  const sc = new Scanner(text, file);
  const tokens: Tok[] = [];
  for (;;) {
    const t = sc.next();
    tokens.push(t);
    if (t.kind === 'eof') break;
  }
  return { file, text, tokens, diagnostics: sc.diagnostics };
}
