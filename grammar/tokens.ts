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
 */
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

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
  /** For a string: true if it was not closed before end of file. */
  unterminated?: boolean;
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

/** Chevrotain token types. Whitespace and comments are skipped; `Other` is any single remaining byte. */
export const WhiteSpace: TokenType = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\n\r\v\f]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const Comment: TokenType = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
export const StringLit: TokenType = createToken({
  name: 'StringLit',
  // An unclosed string runs to end of file (ISC: "eof in string constant").
  pattern: /"(?:[^"\\]|\\[\s\S])*(?:"|\\?$)/,
  line_breaks: true,
});
export const Word: TokenType = createToken({ name: 'Word', pattern: /[A-Za-z0-9-][A-Za-z0-9_-]*/ });
export const Other: TokenType = createToken({ name: 'Other', pattern: /[^ \t\n\r\v\f"#A-Za-z0-9-]/ });

/** The shared Chevrotain lexer (ISC counts only `\n` as a line end). */
export const ConfigLexer: Lexer = new Lexer([WhiteSpace, Comment, StringLit, Word, Other], {
  positionTracking: 'full',
  lineTerminatorsPattern: /\n/g,
  lineTerminatorCharacters: ['\n'],
  ensureOptimizations: false,
  skipValidations: true,
});

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
 * Tokenizes dhcpd.conf or dhcpd.leases text. Never throws: every byte becomes part of some token.
 * `file` is only recorded in the result (errors name it).
 */
export function tokenizeConfig(text: string, file: string): TokenizeResult {
  const lexed = ConfigLexer.tokenize(text);
  const tokens: Tok[] = new Array<Tok>(lexed.tokens.length + 1);
  const diagnostics: LexDiagnostic[] = [];
  // ISC's column counter runs one ahead while a look-ahead char is "put back": that is the case at the
  // start of a token whenever the previous thing read was whitespace, a name or a number.
  let prevEnd = 0;
  let prevReadsAhead = false;
  let n = 0;
  for (const t of lexed.tokens as IToken[]) {
    const image = t.image;
    const offset = t.startOffset;
    const column = t.startColumn ?? 1;
    const line = t.startLine ?? 1;
    // Gap between tokens: whitespace reads ahead; a comment ends on the newline it consumed (no put-back)
    // unless whitespace follows it.
    let pending = prevReadsAhead;
    if (offset > prevEnd) pending = gapEndsWithPutBack(text, prevEnd, offset);
    const iscChar = pending ? column + 1 : column;
    const c0 = image.charCodeAt(0);
    let tok: Tok;
    if (t.tokenType === Word) {
      let kind: TokKind;
      let keyword: string | undefined;
      if (isDigit(c0) || c0 === 45 /* - */) {
        kind = classifyNumberWord(image);
      } else {
        kind = 'numberOrName';
        for (let i = 1; i < image.length; i++) {
          if (!isXDigit(image.charCodeAt(i))) {
            kind = 'name';
            break;
          }
        }
        const lower = image.toLowerCase();
        if (KEYWORDS.has(lower)) keyword = lower;
      }
      tok = { kind, image, text: image, keyword, line, column, offset, end: offset + image.length, iscChar, readsAhead: true };
    } else if (t.tokenType === StringLit) {
      const closed = image.length >= 2 && image.endsWith('"') && !endsWithOddBackslashes(image, image.length - 1);
      const body = closed ? image.slice(1, -1) : image.slice(1);
      tok = {
        kind: 'string',
        image,
        text: decodeIscString(body),
        keyword: undefined,
        line,
        column,
        offset,
        end: offset + image.length,
        iscChar,
        readsAhead: false,
      };
      if (!closed) {
        tok.unterminated = true;
        diagnostics.push({ line, column, iscChar, offset, message: 'eof in string constant' });
      }
    } else {
      tok = { kind: 'punct', image, text: image, keyword: undefined, line, column, offset, end: offset + 1, iscChar, readsAhead: false };
    }
    tokens[n++] = tok;
    prevEnd = tok.end;
    prevReadsAhead = tok.readsAhead;
  }
  // End of file position (line/column after the last char).
  let eofLine = 1;
  let lastNl = -1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    eofLine++;
    lastNl = i;
  }
  const eofCol = text.length - lastNl;
  tokens[n++] = {
    kind: 'eof',
    image: '',
    text: '',
    keyword: undefined,
    line: eofLine,
    column: eofCol,
    offset: text.length,
    end: text.length,
    iscChar: eofCol,
    readsAhead: false,
  };
  tokens.length = n;
  return { file, text, tokens, diagnostics };
}

function endsWithOddBackslashes(s: string, before: number): boolean {
  let k = 0;
  for (let i = before - 1; i >= 1 && s[i] === '\\'; i--) k++;
  return k % 2 === 1;
}

/** True when the skipped gap text[from,to) leaves ISC with a put-back char (ends in whitespace). */
function gapEndsWithPutBack(text: string, from: number, to: number): boolean {
  // Find the last comment start in the gap that is not followed by whitespace up to `to`.
  const c = text.charCodeAt(to - 1);
  if (c === 10) {
    // Ends with a newline: either a whitespace run (put-back) or a comment's newline (consumed).
    // Look back to the start of the line part of the gap: was the newline ending a comment?
    const lineStart = text.lastIndexOf('\n', to - 2) + 1;
    const seg = text.slice(Math.max(lineStart, from), to - 1);
    const hash = seg.indexOf('#');
    if (hash >= 0) return false;
    return true;
  }
  return true;
}
