/**
 * dhcpd.conf parser: a Chevrotain (11) parser over the shared Chevrotain lexer (grammar/tokens.ts),
 * structured like ISC dhcpd 4.4's own parser (server/confpars.c, common/parse.c) so that it accepts exactly
 * what ISC accepts and stops at the same first error, with ISC's wording, line and echoed source text.
 *
 * The parser never throws: every problem becomes a ConfigError in the result.
 */
import { readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { isIPv6 } from 'node:net';
import type {
  AddressOrName,
  ConfigFile,
  DateValue,
  Expr,
  ExprContext,
  FailoverParam,
  IscPos,
  Ipv4Literal,
  Loc,
  OptionMode,
  OptionTypeAst,
  RawValue,
  ExprValue,
  Statement,
  StringOrHex,
  BinaryOperator,
  AtomName,
  PermitStatement,
} from './ast.js';
import { type ConfigError, plainError } from './errors.js';
import type { IToken, OrMethodOpts, TokenType } from 'chevrotain';
import {
  AnyTok,
  chevrotain,
  Comma,
  decodeIscString,
  EofTok,
  Ident,
  keywordOf,
  kindOf,
  Kw,
  LCurly,
  lexConfig,
  LParen,
  NameTok,
  NumberOrName,
  NumberTok,
  PARSER_TOKENS,
  Percent,
  RCurly,
  RParen,
  Semi,
  StringLit,
  type Tok,
} from './tokens.js';
import { IscCursor, ParseAbort } from './token-stream.js';
import { Ipv4Lit, RawTokens } from './ast-values.js';
import { mergeInFileOrder, scanCanonicalHosts } from './host-fast-path.js';

const { EmbeddedActionsParser } = chevrotain;

/** Result of parsing: the tree (complete up to the first error) and the errors (empty when ISC accepts). */
export interface ParseResult {
  ok: boolean;
  ast: ConfigFile;
  /**
   * ISC's diagnostics, in the order dhcpd prints them. Parsing stops at the first error, so this holds at
   * most one positioned error (preceded by a position-less one for an unreadable include).
   * Every statement in `ast` was parsed before that error: a compiler finding a problem in `ast` reports it
   * first (ISC would have reported it earlier). Blocks cut short by the error have `incomplete: true`.
   */
  errors: ConfigError[];
  /** Files read (the main file first, then includes in order). */
  files: string[];
}

/** Options for {@link parseConfigFile} / {@link parseConfigText}. */
export interface ParseOptions {
  /**
   * Directory relative include paths are resolved against. ISC opens include paths as given, i.e.
   * relative to dhcpd's current working directory — the default here.
   */
  includeBase?: string;
  /** Reads an include file (latin1 text); defaults to fs.readFileSync. Throwing means "can't open". */
  readFile?: (path: string) => string;
  /**
   * Read canonical top-level host blocks with the fast path (grammar/host-fast-path.ts) instead of the
   * Chevrotain parser. Same tree for a file ISC accepts; error and warning positions after such a block
   * are not ISC's, so a caller that gets any diagnostic must parse again without it (src/config/load.ts
   * does).
   */
  fastHosts?: boolean;
}

type ScopeType = 'root' | 'shared' | 'subnet' | 'pool' | 'group' | 'host' | 'class';

/** Where a statement list is being parsed; mirrors ISC's group pointers. */
interface Scope {
  type: ScopeType;
  /** ISC group->shared_network is set (inside shared-network, subnet, or something cloned from them). */
  inShared: boolean;
  /** ISC group->subnet is set. */
  inSubnet: boolean;
  /** Host declaration being parsed (for hardware/fixed-address). */
  host?: { hasHardware: boolean; hasFixed: boolean; hasUid: boolean; hasHostId: boolean };
  /** Interface binding of the enclosing network (for "connected to two interfaces"). */
  net?: { iface?: string };
  /** Subnets seen in a shared-network (for "empty shared-network decl"). */
  share?: { subnets: number };
}

const BUILTIN_SPACES = ['dhcp', 'agent', 'server', 'fqdn', 'nwip', 'isc', 'vendor-class', 'vendor', 'dhcp6', 'vsio', 'isc6', 'fqdn6-if-you-see-me-its-a-bug-bug-bug'];

/** ISC's `server` option space names known to the Debian 4.4.3-P1 build: bare `NAME VALUE;` statements. */
export const SERVER_PARAMETERS: ReadonlySet<string> = new Set(
  `default-lease-time max-lease-time min-lease-time dynamic-bootp-lease-cutoff dynamic-bootp-lease-length
boot-unknown-clients dynamic-bootp allow-bootp allow-booting one-lease-per-client get-lease-hostnames
use-host-decl-names use-lease-addr-for-default-route min-secs filename server-name next-server authoritative
vendor-option-space always-reply-rfc1048 site-option-space always-broadcast ddns-domainname ddns-hostname
ddns-rev-domainname lease-file-name pid-file-name duplicates declines ddns-updates omapi-port local-port
limited-broadcast-address remote-port local-address omapi-key stash-agent-options ddns-ttl ddns-update-style
client-updates update-optimization ping-check update-static-leases log-facility do-forward-updates ping-timeout
infinite-is-reserved update-conflict-detection leasequery adaptive-lease-time-threshold do-reverse-updates
fqdn-reply preferred-lifetime dhcpv6-lease-file-name dhcpv6-pid-file-name limit-addrs-per-ia limit-prefs-per-ia
delayed-ack max-ack-delay dhcp-cache-threshold dont-use-fsync ddns-local-address4 ddns-local-address6
ignore-client-uids log-threshold-low log-threshold-high echo-client-id server-id-check prefix-length-mode
dhcpv6-set-tee-times abandon-lease-time check-secs-byte-order ddns-dual-stack-mixed-mode
ddns-guard-id-must-match ddns-other-guard-is-dynamic release-on-roam local-address6 bind-local-address6
ping-cltt-secs ping-timeout-ms`
    .split(/\s+/)
    .filter((s) => s.length > 0),
);

const ALLOW_DENY_KEYS: Record<string, string> = {
  bootp: 'bootp',
  booting: 'booting',
  'dynamic-bootp': 'dynamic-bootp',
  'unknown-clients': 'unknown-clients',
  duplicates: 'duplicates',
  declines: 'declines',
  'client-updates': 'client-updates',
  leasequery: 'leasequery',
};

const NS_CONSTS = new Set(['noerror', 'formerr', 'servfail', 'nxdomain', 'notimp', 'refused', 'yxdomain', 'yxrrset', 'nxrrset', 'notauth', 'notzone']);
const CLIENT_STATES = new Set(['booting', 'reboot', 'select', 'request', 'bound', 'renew', 'rebind']);
const BASE64_VALID = /^[A-Za-z0-9+/=]*$/;

// ISC operator precedence (common/tree.c op_priority): higher binds tighter.
const PRECEDENCE: Record<BinaryOperator, number> = {
  '=': 4, '!=': 4, '~=': 4, '~~': 4, and: 3, or: 3, '+': 2, '-': 2, '*': 1, '/': 1, '%': 1, '&': 100, '|': 100, '^': 100,
};

const isIdent = (t: Tok): boolean => t.kind === 'name' || t.kind === 'numberOrName';
/** ISC token NAME (not a keyword). */
const isName = (t: Tok): boolean => t.kind === 'name' && t.keyword === undefined;
/** ISC token NUMBER_OR_NAME (not a keyword). */
const isNumOrName = (t: Tok): boolean => t.kind === 'numberOrName' && t.keyword === undefined;
const isP = (t: Tok, c: string): boolean => t.kind === 'punct' && t.image === c;
const kw = (t: Tok, k: string): boolean => t.keyword === k;

interface ParseState {
  classes: Set<string>;
  peers: Set<string>;
  peerRoles: Map<string, 'primary' | 'secondary'>;
  keys: Set<string>;
  spaces: Set<string>;
  hostWarned: boolean;
  includeStack: string[];
  files: string[];
  opts: ParseOptions;
  /** Errors reported before an abort (e.g. "Can't open"). */
  pre: ConfigError[];
  /** Block nodes being parsed (marked `incomplete` if an error cuts them short). */
  open: object[];
  /** Token stream of the innermost file being parsed (for errors raised outside the parser). */
  deepest?: IscCursor;
}

/** Parses a dhcpd.conf file (read as bytes/latin1), following includes. Never throws. */
export function parseConfigFile(file: string, opts: ParseOptions = {}): ParseResult {
  const loc: Loc = { file, line: 0, column: 0 };
  let text: string;
  try {
    text = (opts.readFile ?? defaultRead)(file);
  } catch (e) {
    return { ok: false, ast: { loc, statements: [] }, errors: [plainError(file, `Can't open ${file}: ${errnoText(e)}`)], files: [file] };
  }
  return parseConfigText(text, file, opts);
}

/** Parses dhcpd.conf text; `file` names it in errors (and is the include-cycle root). Never throws. */
export function parseConfigText(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const state: ParseState = {
    classes: new Set(),
    peers: new Set(),
    peerRoles: new Map(),
    keys: new Set(),
    spaces: new Set(BUILTIN_SPACES),
    hostWarned: false,
    includeStack: [canonical(file)],
    files: [file],
    opts,
    pre: [],
    open: [],
  };
  const statements: Statement[] = [];
  const ast: ConfigFile = { loc: { file, line: 1, column: 1 }, statements };
  try {
    try {
      parserAt(0).run(toBytes(text), file, state, statements, { type: 'root', inShared: false, inSubnet: false }, 0);
    } catch (e) {
      // Pathological nesting exhausts the JS stack: report it where the parser stood, like a syntax error.
      if (e instanceof RangeError) throw new ParseAbort(state.deepest?.errorHere('statements nested too deeply.') ?? plainError(file, 'statements nested too deeply.'));
      throw e;
    }
    return { ok: true, ast, errors: [], files: state.files };
  } catch (e) {
    for (const n of state.open) (n as { incomplete?: boolean }).incomplete = true;
    if (e instanceof ParseAbort) return { ok: false, ast, errors: [...state.pre, e.error, ...e.after], files: state.files };
    // A bug of ours must still not surface as a stack trace for the user.
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, ast, errors: [...state.pre, plainError(file, `internal parser error: ${msg}`)], files: state.files };
  }
}

function defaultRead(p: string): string {
  return readFileSync(p, 'latin1');
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function errnoText(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'ELOOP':
      return 'Too many levels of symbolic links';
    case 'ENOTDIR':
      return 'Not a directory';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/** Text with chars above 0xff (not read as latin1) is re-encoded as UTF-8 bytes, as ISC sees the file. */
function toBytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\u0000-\u00ff]/.test(text)) return text;
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** ISC convert_num(): base 0 = C-style detection (`0x` hex, leading-0 octal); ISC's messages and limits. */
function convertNum(fail: (msg: string) => never, text: string, base: number, bits: number): number {
  let p = 0;
  let neg = false;
  if (text.charCodeAt(0) === 45) {
    neg = true;
    p = 1;
  }
  let b = base;
  if (b === 0) {
    if (text[p] === '0') {
      if (text[p + 1] === 'x') {
        b = 16;
        p += 2;
      } else if (text.charCodeAt(p + 1) >= 48 && text.charCodeAt(p + 1) <= 57) {
        b = 8;
        p += 1;
      } else b = 10;
    } else b = 10;
  }
  let val = 0;
  do {
    let tval = p < text.length ? text.charCodeAt(p) : 0;
    p++;
    if (tval >= 97) tval = tval - 97 + 10;
    else if (tval >= 65) tval = tval - 65 + 10;
    else if (tval >= 48) tval -= 48;
    else fail(`Bogus number: ${text}.`);
    if (tval >= b) fail(`Bogus number ${text}: digit ${tval} not in base ${b}`);
    val = (val * b + tval) >>> 0;
  } while (p < text.length);
  if (bits < 32) {
    const max = neg ? 1 << (bits - 1) : (1 << bits) - 1;
    if (val > max) {
      const shown = b === 8 ? val.toString(8) : b === 16 ? val.toString(16) : String(val);
      fail(`${neg ? '-' : ''}${shown} exceeds max (${max}) for precision.`);
    }
  }
  return neg ? -val : val;
}


/** A host body being parsed. */
interface HostCtx {
  body: Statement[];
  scope: Scope;
  /** Location of the body statement being parsed. */
  tl: Loc;
  name: string | null;
  declaration: boolean;
}

/** Per-class state of the match/spawn checks. */
interface ClassCtx {
  sub: boolean;
  matchedOnce: boolean;
  submatchedOnce: boolean;
}
const REC_CLASS: ClassCtx = { sub: false, matchedOnce: false, submatchedOnce: false };
/** Per-pool state: ranges seen, `after` permit seen. */
interface PoolCtx {
  ranges: number;
  after: boolean;
}
const REC_POOL: PoolCtx = { ranges: 0, after: false };
type CaseCtx = 'any' | 'data' | 'numeric';

const FAILOVER_STATES = new Set(['unknown-state', 'partner-down', 'normal', 'communications-interrupted', 'conflict-done', 'resolution-interrupted', 'potential-conflict', 'recover', 'recover-wait', 'recover-done', 'shutdown', 'paused', 'startup']);

/** Statement-list context arguments of a rule during Chevrotain's grammar recording (rules run without args). */
const REC_SCOPE: Scope = { type: 'root', inShared: false, inSubnet: false };
const REC_LOC: Loc = { file: '', line: 0, column: 0 };
const EMPTY_CURSOR = new IscCursor('', '', { text: '', tokens: [], count: 0, lines: new Int32Array(0), columns: new Int32Array(0) });
const REC_TOK: Tok = { kind: 'eof', image: '', text: '', keyword: undefined, line: 0, column: 0, offset: 0, end: 0, iscChar: 0, readsAhead: false, unterminated: false };

const STRING_IDX = StringLit.tokenTypeIdx!;
const EOF_IDX = EofTok.tokenTypeIdx!;
const NAME_IDX = NameTok.tokenTypeIdx!;
const NON_IDX = NumberOrName.tokenTypeIdx!;
const NUM_IDX = NumberTok.tokenTypeIdx!;
/** The token type of a keyword the grammar decides on (tokens.ts GRAMMAR_KEYWORDS). */
const K = (k: string): TokenType => {
  const t = Kw[k];
  if (t === undefined) throw new Error(`grammar: keyword ${k} has no token type`);
  return t;
};

/** Token types of the keywords the rules consume (looked up once). */
const KW_ADD = K('add');
const KW_ALLOW = K('allow');
const KW_APPEND = K('append');
const KW_AUTHORITATIVE = K('authoritative');
const KW_BREAK = K('break');
const KW_CASE = K('case');
const KW_CLASS = K('class');
const KW_DB_TIME_FORMAT = K('db-time-format');
const KW_DEFAULT = K('default');
const KW_DEFINE = K('define');
const KW_DELETED = K('deleted');
const KW_DENY = K('deny');
const KW_DYNAMIC = K('dynamic');
const KW_EVAL = K('eval');
const KW_EXECUTE = K('execute');
const KW_FAILOVER = K('failover');
const KW_FIXED_ADDRESS = K('fixed-address');
const KW_FIXED_ADDRESS6 = K('fixed-address6');
const KW_FIXED_PREFIX6 = K('fixed-prefix6');
const KW_GROUP = K('group');
const KW_HARDWARE = K('hardware');
const KW_HOST = K('host');
const KW_HOST_IDENTIFIER = K('host-identifier');
const KW_IF = K('if');
const KW_IGNORE = K('ignore');
const KW_INCLUDE = K('include');
const KW_INTERFACE = K('interface');
const KW_KEY = K('key');
const KW_LEASE = K('lease');
const KW_LEASE_ID_FORMAT = K('lease-id-format');
const KW_LIMIT = K('limit');
const KW_LOG = K('log');
const KW_MATCH = K('match');
const KW_NETMASK = K('netmask');
const KW_NO = K('no');
const KW_NOT = K('not');
const KW_ON = K('on');
const KW_OPTION = K('option');
const KW_PARSE_VENDOR_OPTION = K('parse-vendor-option');
const KW_PEER = K('peer');
const KW_POOL = K('pool');
const KW_POOL6 = K('pool6');
const KW_PREFIX6 = K('prefix6');
const KW_PREPEND = K('prepend');
const KW_RANGE = K('range');
const KW_RANGE6 = K('range6');
const KW_RETURN = K('return');
const KW_SEND = K('send');
const KW_SERVER_DUID = K('server-duid');
const KW_SERVER_IDENTIFIER = K('server-identifier');
const KW_SET = K('set');
const KW_SHARED_NETWORK = K('shared-network');
const KW_SPAWN = K('spawn');
const KW_STATIC = K('static');
const KW_SUBCLASS = K('subclass');
const KW_SUBNET = K('subnet');
const KW_SUBNET6 = K('subnet6');
const KW_SUPERSEDE = K('supersede');
const KW_SWITCH = K('switch');
const KW_UID = K('uid');
const KW_UNSET = K('unset');
const KW_USER_CLASS = K('user-class');
const KW_VENDOR_CLASS = K('vendor-class');
const KW_WITH = K('with');
const KW_ZONE = K('zone');

/**
 * The dhcpd.conf grammar as a Chevrotain parser. Rules mirror ISC's parse functions (confpars.c,
 * parse.c); embedded actions build grammar/ast.ts nodes and make ISC's checks. Chevrotain's error
 * recovery is off: the first mismatch (a CONSUME's ERR_MSG is ISC's message) or failed check ends the
 * parse. ISC's error position depends on which tokens it has peeked and consumed, so every ISC peek is
 * told to the {@link IscCursor} ({@link peekT}) and every CONSUME goes through {@link eat}.
 *
 * Decisions are made by Chevrotain's LL(1) lookahead on token types (keywords have their own types);
 * where ISC tries alternatives in a fixed order over overlapping tokens, the alternation is ordered
 * (IGNORE_AMBIGUITIES: the first viable alternative wins, as in ISC's switch) and the last alternative is
 * ISC's fallback. Leaf syntax (host names, numbers, dates, base64, option names and raw values) and the
 * expression language are helper methods called from the rules; they consume tokens with the same
 * CONSUME and are skipped during grammar recording.
 */
class ConfParser extends EmbeddedActionsParser {
  private cur!: IscCursor;
  private st!: ParseState;
  /**
   * Arguments of the statement being dispatched, and the dispatch's alternatives: built once, not per
   * statement (alternatives are closures; one set per call was most of the parse's garbage).
   */
  private stmtArgs: [Statement[], Scope, Loc, boolean] = [[], REC_SCOPE, REC_LOC, false];
  private stmtAlts: OrMethodOpts<boolean> | undefined;
  /** The host body being parsed, and its alternatives (same reason). */
  private hostCtx: HostCtx = { body: [], scope: REC_SCOPE, tl: REC_LOC, name: '', declaration: false };
  private hostAlts: OrMethodOpts<unknown> | undefined;
  private file = '';
  private depth = 0;

  constructor() {
    // The grammar is ISC's ordered, token-by-token one: Chevrotain's ambiguity validations do not apply.
    super(PARSER_TOKENS, { recoveryEnabled: false, skipValidations: true, maxLookahead: 1 });
    this.performSelfAnalysis();
  }

  /** Parses one file's tokens into `out` (in `scope`). Throws ParseAbort at the first error. */
  run(text: string, file: string, st: ParseState, out: Statement[], scope: Scope, depth: number, fastHosts = st.opts.fastHosts === true, segments?: Int32Array): void {
    const fast = fastHosts && scope.type === 'root' ? scanCanonicalHosts(text, file) : null;
    if (fast !== null) {
      // The parser reads the rest of the file (the blocks are not even lexed), then the hosts go in file order.
      const parsed: Statement[] = [];
      this.run(text, file, st, parsed, scope, depth, false, fast.segments);
      mergeInFileOrder(parsed, fast.hosts, out);
      return;
    }
    const lexed = lexConfig(text, segments);
    this.cur = new IscCursor(file, text, lexed);
    this.st = st;
    this.file = file;
    this.depth = depth;
    st.deepest = this.cur;
    this.input = lexed.tokens;
    try {
      this.fileRule(out, scope);
      const e = this.errors[0];
      if (e !== undefined) {
        // A CONSUME found another token than the grammar needs: ISC consumed it, then complained.
        this.cur.next();
        this.checkLexAt(this.cur.lastIndex);
        const abort = new ParseAbort(this.cur.errorHere(e.message));
        const next = this.iscNextError(e.message, e.context.ruleStack, depth);
        if (next !== undefined) abort.after.push(next);
        throw abort;
      }
    } finally {
      // Release the tokens and the tree (the parser instance outlives the parse).
      this.input = [];
      this.cur = EMPTY_CURSOR;
      this.stmtArgs = [[], REC_SCOPE, REC_LOC, false];
      this.hostCtx = { body: [], scope: REC_SCOPE, tl: REC_LOC, name: '', declaration: false };
    }
  }

  /**
   * ISC goes on after an error (it skips to a `;` and parses on) and may report more; the parse here
   * stops at the first. The one case reproduced: `semicolon expected.` at the end of a `range` directly in
   * a top-level subnet, when ISC's skip_to_semi() then reaches the end of the file: ISC's subnet loop
   * reports `unexpected end of file` there (the usual forgotten `;` on the last range line of a file).
   * Otherwise undefined: whatever ISC would find in the rest of the file is not known here.
   */
  private iscNextError(message: string, ruleStack: readonly string[], depth: number): ConfigError | undefined {
    if (message !== 'semicolon expected.' || depth !== 0 || this.st.open.length !== 1) return undefined;
    const expected = ['file', 'statement', 'subnetDecl', 'networkBody', 'statement', 'rangeStatement'];
    if (ruleStack.length !== expected.length || ruleStack.some((r, i) => r !== expected[i])) return undefined;
    const cur = this.cur;
    // skip_to_semi(): peek; `;` at depth 0 is eaten and ends the skip, `{` counts, `}` at depth 0 is
    // eaten and ends it; anything else is eaten; the end of file ends it (eaten).
    let braces = 0;
    for (;;) {
      cur.peek();
      const i = cur.nextIndex;
      if (cur.isEof(i)) {
        cur.next();
        break;
      }
      const c = cur.tokens[i]!.image;
      const str = cur.tokens[i]!.tokenTypeIdx === STRING_IDX;
      cur.next();
      if (str) continue;
      if (c === '}') {
        if (braces === 0 || --braces === 0) break;
      } else if (c === '{') braces++;
      else if (c === ';' && braces === 0) break;
    }
    // Back in the subnet's loop: reproduced only if the file ends there.
    if (!cur.isEof(cur.nextIndex)) return undefined;
    // The subnet's statement loop: peek_token sees the end of file, skips it, reports. (When the skip
    // itself ended at the end of file, ISC's next_token there left the same position.)
    cur.peek();
    cur.next();
    return cur.errorHere('unexpected end of file');
  }

  // ---- token helpers -----------------------------------------------------------------------------

  /** ISC peek_token(): the next token (Chevrotain LA(1)), recorded in ISC's bookkeeping. */
  private peekT(): IToken {
    const t = this.LA(1);
    if (!this.RECORDING_PHASE) {
      this.cur.peek();
      if (t.tokenTypeIdx === STRING_IDX) this.checkLexAt(this.cur.nextIndex);
    }
    return t;
  }
  /** ISC next_token() of a token of type `tt`; a mismatch ends the parse with `msg` at that token. */
  private eat(tt: TokenType, msg?: string): IToken {
    const t = this.CONSUME(tt, msg === undefined ? undefined : { ERR_MSG: msg });
    if (!this.RECORDING_PHASE) {
      this.cur.next();
      if (t.tokenTypeIdx === STRING_IDX) this.checkLexAt(this.cur.lastIndex);
    }
    return t;
  }
  /** ISC next_token() of whatever comes. */
  private nextAny(): IToken {
    return this.eat(AnyTok);
  }
  /** Peek as a full token view (for the colder leaf parsers). */
  private pk(): Tok {
    if (this.RECORDING_PHASE) return REC_TOK;
    this.peekT();
    return this.cur.tok(this.cur.nextIndex);
  }
  /** Next as a full token view. */
  private nx(): Tok {
    if (this.RECORDING_PHASE) return REC_TOK;
    this.nextAny();
    return this.cur.tok(this.cur.lastIndex);
  }
  /** ISC reports an unterminated string while lexing it. */
  private checkLexAt(i: number): void {
    if (this.cur.unterminated(i)) {
      const err = this.cur.errorHere('eof in string constant');
      err.line = this.cur.line(i);
      err.column = this.cur.column(i);
      err.iscChar = this.cur.iscChar(i);
      throw new ParseAbort(err);
    }
  }
  private fail(msg: string): never {
    // Rules run once without input while Chevrotain records the grammar: nothing to report then.
    if (this.RECORDING_PHASE) return undefined as never;
    throw new ParseAbort(this.cur.errorHere(msg));
  }
  private loc(t: IToken): Loc {
    if (this.RECORDING_PHASE) return REC_LOC;
    const i = t.tokenTypeIdx === EOF_IDX ? this.cur.count : this.cur.indexOf(t);
    return { file: this.file, line: this.cur.line(i), column: this.cur.column(i) };
  }
  private tloc(t: Tok): Loc {
    return { file: this.file, line: t.line, column: t.column };
  }
  /** A token's value: decoded bytes for a string, the image otherwise. */
  private text(t: IToken): string {
    if (t.tokenTypeIdx !== STRING_IDX) return t.image;
    const i = t.image;
    return decodeIscString(i.length >= 2 && i.endsWith('"') ? i.slice(1, -1) : i.slice(1));
  }
  /** ISC's current error position with its echoed text (for errors the compiler reports later). */
  private here(): IscPos {
    if (this.RECORDING_PHASE) return { ...REC_LOC, iscChar: 0, sourceLine: '' };
    return this.cur.positionHere();
  }
  private semi(): void {
    this.eat(Semi, 'semicolon expected.');
  }
  private lbrace(): void {
    this.eat(LCurly, 'expecting left brace.');
  }
  private peekIsRBrace(): boolean {
    return this.peekT().image === '}';
  }
  private num(msg: string): number {
    const n = this.nx();
    if (n.kind !== 'number') this.fail(msg);
    return parseInt(n.text, 10);
  }

  // ---- file / statements -------------------------------------------------------------------------

  /** The statements of a file, to its end. */
  private readonly fileRule = this.RULE('file', (out: Statement[] = [], scope: Scope = REC_SCOPE): void => {
    let declaration = false;
    this.MANY({
      GATE: () => this.peekT().tokenTypeIdx !== EOF_IDX,
      DEF: () => {
        declaration = this.SUBRULE(this.statement, { ARGS: [out, scope, declaration] });
      },
    });
    // The end of file (and its padding): consumed here without ISC bookkeeping, the parse is over.
    this.MANY1(() => this.CONSUME(EofTok));
  });

  /** ISC parse_statement(). Returns the new `declaration` flag (decides the "expecting ..." wording). */
  private readonly statement = this.RULE('statement', (out: Statement[] = [], scope: Scope = REC_SCOPE, declaration = false): boolean => {
    const L = this.loc(this.peekT());
    this.stmtArgs = [out, scope, L, declaration];
    return this.OR(
      (this.stmtAlts ??= {
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: () => this.SUBRULE(this.includeStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.hostDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.groupDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.sharedNetworkDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.subnetDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.classDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.hardwareStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.fixedAddressStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.poolDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.rangeStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.range6Statement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.fixedPrefix6Statement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.pool6Decl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.authoritativeStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.serverIdentifierStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.optionStatementTop, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.failoverPeerDecl, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.serverDuidStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.leaseIdFormatStatement, { ARGS: this.stmtArgs }) },
        { ALT: () => this.SUBRULE(this.percentLine, { ARGS: this.stmtArgs }) },
        {
          // ISC's fallback takes any token (and reports what it cannot parse itself). The grammar records
          // that as a leading AnyTok, so this alternative (and the loops over statements) see every token.
          ALT: () => {
            if (this.RECORDING_PHASE) this.CONSUME(AnyTok);
            return this.SUBRULE(this.otherStatement, { ARGS: this.stmtArgs });
          },
        },
      ],
    }),
    );
  });

  /** `include "FILE";`: the file's statements are parsed here, in this scope. */
  private readonly includeStatement = this.RULE('includeStatement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_INCLUDE);
    const f = this.eat(StringLit, 'filename string expected.');
    this.ACTION(() => {
      const stmts: Statement[] = [];
      out.push({ kind: 'include', loc: L, path: this.text(f), statements: stmts });
      this.include(this.text(f), stmts, scope);
    });
    this.semi();
    return true;
  });

  private include(p: string, out: Statement[], scope: Scope): void {
    const base = this.st.opts.includeBase;
    const full = base !== undefined && !path.isAbsolute(p) ? path.join(base, p) : p;
    let text: string;
    try {
      text = (this.st.opts.readFile ?? defaultRead)(full);
    } catch (e) {
      // ISC: a missing or unreadable include is fatal, reported without a position.
      throw new ParseAbort(plainError(p, `Can't open ${p}: ${errnoText(e)}`));
    }
    const canon = canonical(full);
    if (this.st.includeStack.includes(canon) || this.st.includeStack.length > 64) {
      this.fail(`${p}: include cycle.`);
    }
    this.st.includeStack.push(canon);
    this.st.files.push(p);
    try {
      parserAt(this.depth + 1).run(toBytes(text), p, this.st, out, scope, this.depth + 1);
      this.st.deepest = this.cur;
    } catch (e) {
      // ISC reports the error inside the included file, then "X: bad parse." at the include statement.
      if (!(e instanceof ParseAbort) || e.error.plain) throw e;
      this.st.pre.push(e.error);
      this.fail(`${p}: bad parse.`);
    }
    this.st.includeStack.pop();
  }

  /** `%...;` lines (ISC's migration assistant): skipped, not errors (ISC skip_to_semi). */
  private readonly percentLine = this.RULE('percentLine', (_out: Statement[] = [], _scope: Scope = REC_SCOPE, _L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(Percent);
    if (this.RECORDING_PHASE) return false;
    let depth = 0;
    for (;;) {
      const t = this.peekT();
      if (t.tokenTypeIdx === EOF_IDX) return false;
      if (t.image === '}') {
        if (depth === 0) return false;
        depth--;
        this.nextAny();
        if (depth === 0) return false;
        continue;
      }
      this.nextAny();
      if (t.image === '{') depth++;
      else if (t.image === ';' && depth === 0) return false;
    }
  });

  /** Anything else: an executable statement, or ISC's "expecting ..." error. */
  private readonly otherStatement = this.RULE('otherStatement', (out: Statement[] = [], _s: Scope = REC_SCOPE, _L: Loc = REC_LOC, declaration = false): boolean => {
    const r = this.SUBRULE(this.executableStatement, { ARGS: [out, 'any'] });
    if (r === 'none') this.fail(declaration ? 'expecting a declaration' : 'expecting a parameter or declaration');
    return declaration;
  });

  /** Body of a block: statements up to the closing brace, each alternative tried in ISC's order. */
  private blockEof(): void {
    this.eat(EofTok);
    this.fail('unexpected end of file');
  }

  private readonly hostDecl = this.RULE('hostDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_HOST);
    if (scope.type === 'host' || scope.type === 'class') this.fail('host declarations not allowed here.');
    const name = this.hostName();
    if (name === null) this.fail('expecting a name for host declaration.');
    this.lbrace();
    const body: Statement[] = [];
    const node = { kind: 'host' as const, loc: L, name, body, end: undefined as unknown as IscPos };
    out.push(node);
    this.st?.open.push(node);
    const hs: Scope = {
      type: 'host',
      inShared: scope.inShared,
      inSubnet: scope.inSubnet,
      host: { hasHardware: false, hasFixed: false, hasUid: false, hasHostId: false },
    };
    const hc: HostCtx = { body, scope: hs, tl: REC_LOC, name, declaration: false };
    this.MANY({
      GATE: () => !this.peekIsRBrace(),
      DEF: () => {
        hc.tl = this.loc(this.peekT());
        this.hostCtx = hc;
        this.OR(
          (this.hostAlts ??= {
            IGNORE_AMBIGUITIES: true,
            DEF: [
              { ALT: () => this.blockEof() },
              { ALT: () => this.SUBRULE(this.hostFlag, { ARGS: [this.hostCtx.body, this.hostCtx.tl] }) },
              { ALT: () => this.SUBRULE(this.groupRef, { ARGS: [this.hostCtx.body, this.hostCtx.tl] }) },
              { ALT: () => this.SUBRULE(this.uidStatement, { ARGS: [this.hostCtx.body, this.hostCtx.tl, this.hostCtx.scope, this.hostCtx.name] }) },
              { ALT: () => this.SUBRULE(this.hostIdentifierStatement, { ARGS: [this.hostCtx.body, this.hostCtx.tl, this.hostCtx.scope] }) },
              {
                ALT: () => {
                  const c = this.hostCtx;
                  c.declaration = this.SUBRULE(this.statement, { ARGS: [c.body, c.scope, c.declaration] });
                },
              },
            ],
          }),
        );
      },
    });
    this.eat(RCurly);
    node.end = this.here();
    this.st?.open.pop();
    return true;
  });

  /** `dynamic;` / `deleted;` in a host or class (OMAPI leftovers). */
  private readonly hostFlag = this.RULE('hostFlag', (body: Statement[] = [], tl: Loc = REC_LOC): void => {
    const k = this.OR([{ ALT: () => this.eat(KW_DYNAMIC) }, { ALT: () => this.eat(KW_DELETED) }]);
    this.semi();
    body.push({ kind: 'flag', loc: tl, flag: keywordOf(k) as 'dynamic' | 'deleted' });
  });

  /** `group NAME;` in a host. */
  private readonly groupRef = this.RULE('groupRef', (body: Statement[] = [], tl: Loc = REC_LOC): void => {
    this.eat(KW_GROUP);
    const g = this.nextAny();
    const kind = kindOf(g);
    if (kind !== 'string' && kind !== 'name' && kind !== 'numberOrName') this.fail('expecting string or identifier.');
    const nameLoc = this.here();
    body.push({ kind: 'group-ref', loc: tl, name: this.text(g), nameLoc });
    this.semi();
  });

  private readonly uidStatement = this.RULE('uidStatement', (body: Statement[] = [], tl: Loc = REC_LOC, hs: Scope = REC_SCOPE, name: string | null = ''): void => {
    this.eat(KW_UID);
    if (this.RECORDING_PHASE) return;
    if (hs.host!.hasUid) this.fail(`Host '${name}' already has a uid`);
    let value: StringOrHex;
    const v = this.peekT();
    if (v.tokenTypeIdx === STRING_IDX) {
      this.nextAny();
      value = { kind: 'string', loc: this.loc(v), value: this.text(v) };
    } else {
      const bytes = this.numericAggregate(0, ':', 16, 8);
      value = { kind: 'hex', loc: this.loc(v), bytes };
    }
    hs.host!.hasUid = true;
    body.push({ kind: 'uid', loc: tl, value });
    this.semi();
  });

  private readonly hostIdentifierStatement = this.RULE('hostIdentifierStatement', (body: Statement[] = [], tl: Loc = REC_LOC, hs: Scope = REC_SCOPE): void => {
    if (hs.host?.hasHostId) this.fail('only one host-identifier allowed per host');
    this.eat(KW_HOST_IDENTIFIER);
    if (this.RECORDING_PHASE) return;
    const o = this.nx();
    if (o.keyword === 'v6relopt') {
      const n = this.nx();
      if (n.kind !== 'number') this.fail('host-identifier v6relopt must have a number');
    } else if (o.keyword !== 'option') this.fail('host-identifier must be an option or v6relopt');
    const on = this.optionName();
    const value = this.rawValue();
    hs.host!.hasHostId = true;
    if (o.keyword === 'v6relopt') {
      body.push({ kind: 'v6', loc: tl, keyword: 'host-identifier v6relopt', message: 'host-identifier v6relopt is only used in DHCPv6 mode.', at: on.end, tokens: value.tokens, rejectedInV4: false });
    } else {
      body.push({ kind: 'host-identifier', loc: tl, space: on.space, option: on.name, value });
    }
    this.semi();
  });

  private readonly groupDecl = this.RULE('groupDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_GROUP);
    if (scope.type === 'host' || scope.type === 'class') this.fail('group declarations not allowed here.');
    let name: string | undefined;
    const t = this.peekT();
    const kind = kindOf(t);
    if (kind === 'string' || kind === 'name' || kind === 'numberOrName') {
      this.nextAny();
      name = this.text(t);
    }
    this.lbrace();
    const body: Statement[] = [];
    const node: Statement = { kind: 'group', loc: L, name, body };
    out.push(node);
    this.st?.open.push(node);
    const gs: Scope = { type: 'group', inShared: scope.inShared, inSubnet: scope.inSubnet, net: scope.net, share: scope.share };
    let declaration = false;
    this.MANY({
      GATE: () => !this.peekIsRBrace(),
      DEF: () => {
        const tl = this.loc(this.peekT());
        this.OR({
          IGNORE_AMBIGUITIES: true,
          DEF: [
            { ALT: () => this.blockEof() },
            {
              ALT: () => {
                this.SUBRULE(this.groupFlag, { ARGS: [body, tl] });
                // ISC 4.4.3 then parses a statement without re-checking for `}`: `group { static; }` fails.
                declaration = this.SUBRULE1(this.statement, { ARGS: [body, gs, declaration] });
              },
            },
            { ALT: () => (declaration = this.SUBRULE2(this.statement, { ARGS: [body, gs, declaration] })) },
          ],
        });
      },
    });
    this.eat(RCurly);
    this.st?.open.pop();
    return true;
  });

  private readonly groupFlag = this.RULE('groupFlag', (body: Statement[] = [], tl: Loc = REC_LOC): void => {
    const k = this.OR([{ ALT: () => this.eat(KW_DYNAMIC) }, { ALT: () => this.eat(KW_STATIC) }, { ALT: () => this.eat(KW_DELETED) }]);
    this.semi();
    body.push({ kind: 'flag', loc: tl, flag: keywordOf(k) as 'dynamic' | 'static' | 'deleted' });
  });

  private readonly sharedNetworkDecl = this.RULE('sharedNetworkDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_SHARED_NETWORK);
    if (scope.type === 'shared' || scope.type === 'host' || scope.type === 'subnet' || scope.type === 'class')
      this.fail('shared-network parameters not allowed here.');
    let name = '';
    const t = this.peekT();
    if (t.tokenTypeIdx === STRING_IDX) {
      this.nextAny();
      name = this.text(t);
      if (name.length === 0) this.fail('zero-length shared network name');
    } else {
      const n = this.hostName();
      if (n === null) this.fail('expecting a name for shared-network');
      name = n;
    }
    this.lbrace();
    const body: Statement[] = [];
    const node = { kind: 'shared-network' as const, loc: L, name, body, end: undefined as unknown as IscPos };
    out.push(node);
    this.st?.open.push(node);
    const ss: Scope = { type: 'shared', inShared: true, inSubnet: false, net: {}, share: { subnets: 0 } };
    this.SUBRULE(this.networkBody, { ARGS: [body, ss] });
    this.eat(RCurly);
    node.end = this.here();
    if (ss.share!.subnets === 0) this.fail('empty shared-network decl');
    this.st?.open.pop();
    return true;
  });

  /** Body of a shared-network or subnet: `interface NAME;` or statements, up to `}`. */
  private readonly networkBody = this.RULE('networkBody', (body: Statement[] = [], ss: Scope = REC_SCOPE): void => {
    let declaration = false;
    this.MANY({
      GATE: () => !this.peekIsRBrace(),
      DEF: () => {
        this.OR({
          IGNORE_AMBIGUITIES: true,
          DEF: [
            { ALT: () => this.blockEof() },
            { ALT: () => this.SUBRULE(this.interfaceStatement, { ARGS: [body, ss] }) },
            { ALT: () => (declaration = this.SUBRULE(this.statement, { ARGS: [body, ss, declaration] })) },
          ],
        });
      },
    });
  });

  private readonly interfaceStatement = this.RULE('interfaceStatement', (body: Statement[] = [], scope: Scope = REC_SCOPE): void => {
    const t = this.eat(KW_INTERFACE);
    const n = this.nextAny();
    const name = this.text(n);
    if (scope.net) {
      if (scope.net.iface !== undefined && scope.net.iface !== name) {
        this.fail("A subnet or shared network can't be connected to two interfaces.");
      }
      scope.net.iface = name;
    }
    body.push({ kind: 'interface', loc: this.loc(t), name });
    this.semi();
  });

  private readonly subnetDecl = this.RULE('subnetDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    const k = this.OR([{ ALT: () => this.eat(KW_SUBNET) }, { ALT: () => this.eat(KW_SUBNET6) }]);
    if (scope.type === 'host' || scope.type === 'subnet' || scope.type === 'class') this.fail('subnet declarations not allowed here.');
    if (this.RECORDING_PHASE) return false;
    if (keywordOf(k) === 'subnet6') {
      if (scope.share) scope.share.subnets++;
      this.v6(out, L, 'subnet6', 'subnet6 statement is only supported in DHCPv6 mode.', true);
      return !scope.inShared;
    }
    const network = this.ipv4();
    this.eat(KW_NETMASK, 'Expecting netmask');
    const netmask = this.ipv4();
    const maskEnd = this.here();
    const net = network.octets;
    const mask = netmask.octets;
    if (net.some((o, i) => (o & ~mask[i]!) !== 0)) {
      this.fail(`subnet ${network.text} netmask ${netmask.text}: bad subnet number/mask combination.`);
    }
    this.lbrace();
    const body: Statement[] = [];
    const node = { kind: 'subnet' as const, loc: L, network, netmask, body, maskEnd };
    out.push(node);
    this.st.open.push(node);
    if (scope.share) scope.share.subnets++;
    // A subnet outside a shared-network is its own (implicit) network for interface binding.
    const net2 = scope.inShared && scope.net ? scope.net : {};
    const ss: Scope = { type: 'subnet', inShared: true, inSubnet: true, net: net2 };
    this.SUBRULE(this.networkBody, { ARGS: [body, ss] });
    this.eat(RCurly);
    this.st.open.pop();
    return !scope.inShared;
  });

  private readonly classDecl = this.RULE('classDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    const k = this.OR([
      { ALT: () => this.eat(KW_CLASS) },
      { ALT: () => this.eat(KW_SUBCLASS) },
      { ALT: () => this.eat(KW_VENDOR_CLASS) },
      { ALT: () => this.eat(KW_USER_CLASS) },
    ]);
    const type = keywordOf(k) ?? 'class';
    if (scope.type === 'class') this.fail('class declarations not allowed here.');
    const n = this.eat(StringLit, 'Expecting class name');
    const cname = this.text(n);
    const nameLoc = this.here();
    const exists = this.st?.classes.has(cname);
    if (!exists && type !== 'class') this.fail(`no class named ${cname}`);
    const body: Statement[] = [];
    let data: StringOrHex | undefined;
    if (type === 'subclass' && !this.RECORDING_PHASE) {
      const d = this.peekT();
      const dk = kindOf(d);
      if (dk === 'string') {
        this.nextAny();
        data = { kind: 'string', loc: this.loc(d), value: this.text(d) };
      } else if (dk === 'numberOrName' || dk === 'number') {
        data = { kind: 'hex', loc: this.loc(d), bytes: this.cshl() };
      } else this.fail('Expecting string or hex list.');
      // A subclass may end with `;` (no body).
      if (this.peekT().image === ';') {
        this.nextAny();
        out.push({ kind: 'subclass', loc: L, parent: cname, parentLoc: nameLoc, data: data! });
        return true;
      }
    } else if (type === 'class') {
      this.st?.classes.add(cname);
    }
    this.lbrace();
    let node: Statement;
    if (type === 'subclass') node = { kind: 'subclass', loc: L, parent: cname, parentLoc: nameLoc, data: data!, body };
    else node = { kind: 'class', loc: L, classType: type as 'class' | 'vendor-class' | 'user-class', name: cname, nameLoc, body };
    out.push(node);
    this.st?.open.push(node);
    const cs: Scope = { type: 'class', inShared: scope.inShared, inSubnet: scope.inSubnet };
    const cx = { sub: type !== 'class', matchedOnce: false, submatchedOnce: false };
    let declaration = false;
    this.MANY({
      GATE: () => !this.peekIsRBrace(),
      DEF: () => {
        const tl = this.loc(this.peekT());
        this.OR1({
          IGNORE_AMBIGUITIES: true,
          DEF: [
            { ALT: () => this.blockEof() },
            { ALT: () => this.SUBRULE(this.hostFlag, { ARGS: [body, tl] }) },
            { ALT: () => this.SUBRULE(this.matchStatement, { ARGS: [body, tl, cx] }) },
            { ALT: () => this.SUBRULE(this.spawnStatement, { ARGS: [body, tl, cx] }) },
            { ALT: () => this.SUBRULE(this.leaseLimitStatement, { ARGS: [body, tl] }) },
            { ALT: () => (declaration = this.SUBRULE(this.statement, { ARGS: [body, cs, declaration] })) },
          ],
        });
      },
    });
    this.eat(RCurly);
    this.st?.open.pop();
    return true;
  });

  private readonly matchStatement = this.RULE('matchStatement', (body: Statement[] = [], tl: Loc = REC_LOC, cx: ClassCtx = REC_CLASS): void => {
    if (cx.sub) this.fail('invalid match in subclass.');
    this.eat(KW_MATCH);
    if (this.RECORDING_PHASE) return;
    if (this.peekT().tokenTypeIdx === KW_IF.tokenTypeIdx) {
      this.nextAny();
      if (cx.matchedOnce) this.fail("A class may only have one 'match if' clause.");
      cx.matchedOnce = true;
      const e = this.parseBooleanExpression('expecting boolean expr.');
      this.semi();
      body.push({ kind: 'match-if', loc: tl, expr: e });
      return;
    }
    if (cx.submatchedOnce) this.fail("can't override existing submatch/spawn.");
    cx.submatchedOnce = true;
    const e = this.parseDataExpression('expecting data expr.');
    this.semi();
    body.push({ kind: 'match', loc: tl, expr: e });
  });

  private readonly spawnStatement = this.RULE('spawnStatement', (body: Statement[] = [], tl: Loc = REC_LOC, cx: ClassCtx = REC_CLASS): void => {
    this.eat(KW_SPAWN);
    if (cx.sub) this.fail('invalid spawn in subclass.');
    this.eat(KW_WITH, 'expecting with after spawn');
    if (cx.submatchedOnce) this.fail("can't override existing submatch/spawn.");
    cx.submatchedOnce = true;
    if (this.RECORDING_PHASE) return;
    const e = this.parseDataExpression('expecting data expr.');
    this.semi();
    body.push({ kind: 'spawn', loc: tl, expr: e });
  });

  private readonly leaseLimitStatement = this.RULE('leaseLimitStatement', (body: Statement[] = [], tl: Loc = REC_LOC): void => {
    this.eat(KW_LEASE);
    this.eat(KW_LIMIT, 'expecting "limit"');
    const n = this.eat(NumberTok, 'expecting a number');
    this.semi();
    body.push({ kind: 'lease-limit', loc: tl, limit: parseInt(n.image, 10) });
  });

  private readonly hardwareStatement = this.RULE('hardwareStatement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_HARDWARE);
    if (this.RECORDING_PHASE) return false;
    const t = this.nextAny();
    let htype: number;
    switch (keywordOf(t)) {
      case 'ethernet':
        htype = 1;
        break;
      case 'token-ring':
        htype = 6;
        break;
      case 'fddi':
        htype = 8;
        break;
      case 'infiniband':
        htype = 32;
        break;
      default: {
        const image = t.tokenTypeIdx === EOF_IDX ? '' : t.image;
        if (image.startsWith('unknown-')) htype = parseInt(image.slice(8), 10) || 0;
        else this.fail('expecting a network hardware type');
      }
    }
    const hwType = t.image.toLowerCase();
    let address: number[] = [];
    if (this.peekT().image !== ';') {
      address = this.numericAggregate(0, ':', 16, 8);
      if (address.length + 1 > 21) this.fail('hardware address too long');
    }
    this.eat(Semi, 'expecting semicolon.');
    if (!scope.host) this.fail('hardware address parameter not allowed here.');
    if (scope.host.hasHardware) this.fail(`Host hardware address already configured.`);
    scope.host.hasHardware = true;
    out.push({ kind: 'hardware', loc: L, hwType, htype, address });
    return false;
  });

  private readonly fixedAddressStatement = this.RULE('fixedAddressStatement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    const k = this.OR([{ ALT: () => this.eat(KW_FIXED_ADDRESS) }, { ALT: () => this.eat(KW_FIXED_ADDRESS6) }]);
    if (this.RECORDING_PHASE) return false;
    if (keywordOf(k) === 'fixed-address6') {
      // ISC -4 accepts (and ignores) fixed-address6.
      this.v6(out, L, 'fixed-address6', 'fixed-address6 is only used in DHCPv6 mode.', false, false);
      return false;
    }
    const addrs: AddressOrName[] = [];
    for (;;) {
      addrs.push(this.ipAddrOrHostname());
      if (this.peekT().image !== ',') break;
      this.nextAny();
    }
    this.semi();
    if (!scope.host) this.fail('fixed-address parameter not allowed here.');
    if (scope.host.hasFixed) this.fail('Only one fixed address declaration per host.');
    scope.host.hasFixed = true;
    out.push({ kind: 'fixed-address', loc: L, addresses: addrs });
    return false;
  });

  private readonly poolDecl = this.RULE('poolDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, declaration = false): boolean => {
    this.eat(KW_POOL);
    if (scope.type === 'pool') this.fail('pool declared within pool.');
    if (scope.type !== 'subnet' && scope.type !== 'shared') this.fail('pool declared outside of network');
    this.lbrace();
    const body: Statement[] = [];
    const node = { kind: 'pool' as const, loc: L, body, end: undefined as unknown as IscPos };
    out.push(node);
    this.st?.open.push(node);
    const ps: Scope = { type: 'pool', inShared: scope.inShared, inSubnet: scope.inSubnet, net: scope.net, share: scope.share };
    const px = { ranges: 0, after: false };
    let decl = false;
    this.MANY({
      GATE: () => !this.peekIsRBrace(),
      DEF: () => {
        const tl = this.loc(this.peekT());
        this.OR({
          IGNORE_AMBIGUITIES: true,
          DEF: [
            { ALT: () => this.SUBRULE(this.noFailoverPeer, { ARGS: [body, tl] }) },
            { ALT: () => this.SUBRULE(this.poolFailoverPeer, { ARGS: [body, tl] }) },
            {
              ALT: () => {
                const r = this.SUBRULE(this.poolRange, { ARGS: [tl] });
                body.push(r);
                px.ranges++;
              },
            },
            { ALT: () => this.SUBRULE(this.permitStatement, { ARGS: [body, tl, px] }) },
            {
              // ISC's pool loops complain at end of file without consuming it.
              GATE: () => this.LA(1).tokenTypeIdx === EOF_IDX,
              ALT: () => this.fail('unexpected end of file'),
            },
            { ALT: () => (decl = this.SUBRULE(this.statement, { ARGS: [body, ps, decl] })) },
          ],
        });
      },
    });
    this.eat(RCurly);
    node.end = this.here();
    if (px.ranges === 0) this.fail('Pool declaration with no address range.');
    this.st?.open.pop();
    return declaration;
  });

  /** `no failover peer` in a pool. */
  private readonly noFailoverPeer = this.RULE('noFailoverPeer', (body: Statement[] = [], tl: Loc = REC_LOC): void => {
    this.eat(KW_NO);
    if (this.RECORDING_PHASE) return;
    const f = this.nx();
    if (f.keyword !== 'failover' || this.nx().keyword !== 'peer') this.fail('expecting "failover peer".');
    // ISC 4.4.3 does not consume the `;` here: the next statement then starts with `;` and fails.
    body.push({ kind: 'failover-ref', loc: tl, peer: null, peerLoc: this.here() });
  });

  /** `failover peer "NAME";` in a pool. */
  private readonly poolFailoverPeer = this.RULE('poolFailoverPeer', (body: Statement[] = [], tl: Loc = REC_LOC): void => {
    this.eat(KW_FAILOVER);
    this.eat(KW_PEER, "expecting 'peer'.");
    const n = this.eat(StringLit, 'expecting string.');
    const name = this.text(n);
    if (!this.RECORDING_PHASE && !this.st.peers.has(name)) this.fail(`failover peer ${name}: not found`);
    body.push({ kind: 'failover-ref', loc: tl, peer: name, peerLoc: this.here() });
    this.semi();
  });

  private readonly poolRange = this.RULE('poolRange', (tl: Loc = REC_LOC): Statement => {
    this.eat(KW_RANGE);
    return this.rangeBody(tl);
  });

  private readonly permitStatement = this.RULE('permitStatement', (body: Statement[] = [], tl: Loc = REC_LOC, px: PoolCtx = REC_POOL): void => {
    const k = this.OR([{ ALT: () => this.eat(KW_ALLOW) }, { ALT: () => this.eat(KW_DENY) }]);
    if (this.RECORDING_PHASE) return;
    const p = this.permit(keywordOf(k) === 'allow', tl, px.after);
    if (p.permit.type === 'after') px.after = true;
    body.push(p);
  });

  private readonly rangeStatement = this.RULE('rangeStatement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, declaration = false): boolean => {
    this.eat(KW_RANGE);
    if (scope.type !== 'subnet' || !scope.inSubnet) this.fail('range declaration not allowed here.');
    out.push(this.rangeBody(L));
    return declaration;
  });

  private rangeBody(L: Loc): Statement {
    if (this.RECORDING_PHASE) return { kind: 'break', loc: L };
    let dynamicBootp = false;
    if (keywordOf(this.peekT()) === 'dynamic-bootp') {
      this.nextAny();
      dynamicBootp = true;
    }
    const low = this.ipv4();
    let high: Ipv4Literal | undefined;
    if (this.peekT().image !== ';') high = this.ipv4();
    this.semi();
    return { kind: 'range', loc: L, dynamicBootp, low, high, end: this.here() };
  }

  private readonly range6Statement = this.RULE('range6Statement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, declaration = false): boolean => {
    const t = this.OR([{ ALT: () => this.eat(KW_RANGE6) }, { ALT: () => this.eat(KW_PREFIX6) }]);
    if (this.RECORDING_PHASE) return false;
    const k = keywordOf(t)!;
    if (scope.type !== 'subnet' || !scope.inSubnet) this.fail(`${k} declaration not allowed here.`);
    return this.v6(out, L, k, `${k} statement is only supported in DHCPv6 mode.`, false) && declaration;
  });

  private readonly fixedPrefix6Statement = this.RULE('fixedPrefix6Statement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_FIXED_PREFIX6);
    if (this.RECORDING_PHASE) return false;
    if (!scope.host) this.fail('fixed-prefix6 declaration not allowed here.');
    this.v6(out, L, 'fixed-prefix6', 'fixed-prefix6 is only used in DHCPv6 mode.', false, false);
    return false;
  });

  /**
   * ISC parse_pool6_statement() as run by `dhcpd -4`: the body parses like a pool; its range6/prefix6
   * statements are v6 nodes the compiler rejects; a pool6 without them fails at its closing brace.
   */
  private readonly pool6Decl = this.RULE('pool6Decl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, declaration = false): boolean => {
    this.eat(KW_POOL6);
    if (scope.type === 'pool') this.fail('pool6 declared within pool.');
    if (scope.type !== 'subnet') this.fail('pool6 declared outside of network');
    const at = this.here();
    this.lbrace();
    const body: Statement[] = [];
    const ps: Scope = { type: 'pool', inShared: scope.inShared, inSubnet: scope.inSubnet, net: scope.net, share: scope.share };
    let decl = false;
    let ranges = 0;
    this.MANY({
      GATE: () => !this.peekIsRBrace(),
      DEF: () => {
        const t = this.peekT();
        const tl = this.loc(t);
        this.OR({
          IGNORE_AMBIGUITIES: true,
          DEF: [
            {
              ALT: () => {
                const k = this.OR1([{ ALT: () => this.eat(KW_RANGE6) }, { ALT: () => this.eat(KW_PREFIX6) }]);
                if (this.RECORDING_PHASE) return;
                const kw = keywordOf(k)!;
                this.v6(body, tl, kw, `${kw} statement is only supported in DHCPv6 mode.`, false);
                ranges++;
              },
            },
            {
              ALT: () => {
                const k = this.OR2([{ ALT: () => this.eat(KW_ALLOW) }, { ALT: () => this.eat(KW_DENY) }]);
                if (this.RECORDING_PHASE) return;
                body.push(this.permit(keywordOf(k) === 'allow', tl, false));
              },
            },
            {
              // ISC's pool loops complain at end of file without consuming it.
              GATE: () => this.LA(1).tokenTypeIdx === EOF_IDX,
              ALT: () => this.fail('unexpected end of file'),
            },
            { ALT: () => (decl = this.SUBRULE(this.statement, { ARGS: [body, ps, decl] })) },
          ],
        });
      },
    });
    this.eat(RCurly);
    if (ranges === 0) this.fail('Pool6 declaration with no address range6 or prefix6.');
    out.push({ kind: 'v6', loc: L, keyword: 'pool6', message: 'pool6 is only supported in DHCPv6 mode.', at, tokens: [], rejectedInV4: true, body });
    return declaration;
  });

  private readonly authoritativeStatement = this.RULE('authoritativeStatement', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    const value = this.OR([
      {
        ALT: () => {
          this.eat(KW_NOT);
          this.eat(KW_AUTHORITATIVE, 'expecting assertion');
          return false;
        },
      },
      {
        ALT: () => {
          this.eat(KW_AUTHORITATIVE);
          return true;
        },
      },
    ]);
    if (scope.type === 'host') this.fail('authority makes no sense here.');
    this.semi();
    out.push({ kind: 'authoritative', loc: L, value });
    return false;
  });

  private readonly serverIdentifierStatement = this.RULE('serverIdentifierStatement', (out: Statement[] = [], _s: Scope = REC_SCOPE, L: Loc = REC_LOC, declaration = false): boolean => {
    this.eat(KW_SERVER_IDENTIFIER);
    if (this.RECORDING_PHASE) return false;
    this.peekT();
    const nameEnd = this.here();
    this.optionValue((value) => out.push({ kind: 'option', loc: L, mode: 'option', space: undefined, name: 'dhcp-server-identifier', nameEnd, value, executable: false }));
    return declaration;
  });

  private readonly leaseIdFormatStatement = this.RULE('leaseIdFormatStatement', (out: Statement[] = [], _s: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_LEASE_ID_FORMAT);
    const v = this.nextAny();
    const k = keywordOf(v);
    if (k !== 'octal' && k !== 'hex') this.fail(`lease-id-format is invalid:  it must be octal or hex.`);
    this.semi();
    out.push({ kind: 'lease-id-format', loc: L, value: k as 'octal' | 'hex' });
    return false;
  });

  /** ISC parse_server_duid_conf(): accepted in a v4 config too (only used by DHCPv6). */
  private readonly serverDuidStatement = this.RULE('serverDuidStatement', (out: Statement[] = [], _s: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    this.eat(KW_SERVER_DUID);
    if (this.RECORDING_PHASE) return false;
    const t = this.nx();
    const hwType = (): string => {
      const h = this.nx();
      if (h.keyword !== 'ethernet' && h.keyword !== 'token-ring' && h.keyword !== 'fddi') this.fail('hardware type expected');
      return h.keyword!;
    };
    let node: Statement;
    if (t.keyword === 'en') {
      const n = this.nx();
      if (n.kind !== 'number') this.fail('enterprise number expected');
      const id = this.nx();
      if (id.kind !== 'string') this.fail('identifier expected');
      node = { kind: 'server-duid', loc: L, form: 'en', enterprise: parseInt(n.text, 10), identifier: id.text };
    } else if (t.keyword === 'll' || t.keyword === 'llt') {
      const form = t.keyword;
      if (this.peekT().image === ';') node = { kind: 'server-duid', loc: L, form };
      else {
        const hw = hwType();
        let time: number | undefined;
        if (form === 'llt') time = this.num('timestamp expected');
        const bytes = this.cshl();
        node = { kind: 'server-duid', loc: L, form, hwType: hw, time, address: bytes };
      }
    } else if (t.kind === 'number') {
      const id = this.nx();
      if (id.kind !== 'string') this.fail('identifier expected');
      node = { kind: 'server-duid', loc: L, form: 'number', duidType: parseInt(t.text, 10), identifier: id.text };
    } else this.fail('DUID type of LLT, EN, or LL expected');
    this.eat(Semi, 'semicolon expected');
    out.push(node);
    return false;
  });

  private readonly failoverPeerDecl = this.RULE('failoverPeerDecl', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, _declaration = false): boolean => {
    if (scope.type !== 'root' && scope.type !== 'shared') this.fail('failover peers may only be defined in shared-network');
    this.eat(KW_FAILOVER);
    this.eat(KW_PEER, 'expecting "peer"');
    if (this.RECORDING_PHASE) return false;
    const nt = this.nx();
    if (nt.kind !== 'name' && nt.kind !== 'numberOrName' && nt.kind !== 'string') this.fail('expecting failover peer name.');
    const name = nt.text;
    const nameLoc = this.here();
    const known = this.st.peers.has(name);
    const t = this.nx();
    if (t.image === ';' && t.kind === 'punct') {
      if (scope.type !== 'shared') this.fail('failover peer reference not in shared-network declaration');
      if (!known) this.fail(`reference to unknown failover peer ${name}`);
      out.push({ kind: 'failover-ref', loc: L, peer: name, peerLoc: nameLoc });
      return false;
    }
    if (t.keyword === 'state') {
      if (!known) this.fail(`state declaration for unknown failover peer ${name}`);
      out.push(this.failoverState(L, name, nameLoc));
      return false;
    }
    if (!(t.image === '{' && t.kind === 'punct')) this.fail('expecting left brace');
    if (known) this.fail(`redeclaration of failover peer ${name}`);
    const params: FailoverParam[] = [];
    let role: 'primary' | 'secondary' | undefined;
    let hasHba = false;
    let hasMclt = false;
    let hasPeerAddress = false;
    for (;;) {
      let peerPrefix = false;
      let tok = this.nx();
      const tl = this.tloc(tok);
      while (tok.keyword === 'peer') {
        peerPrefix = true;
        tok = this.nx();
      }
      if (tok.kind === 'punct' && tok.image === '}') break;
      switch (tok.keyword) {
        case 'primary':
          role = 'primary';
          params.push({ kind: 'role', loc: tl, role });
          break;
        case 'secondary':
          role = 'secondary';
          if (hasHba) this.fail('secondary may not define load balance settings.');
          params.push({ kind: 'role', loc: tl, role });
          break;
        case 'address': {
          const a = this.ipAddrOrHostname();
          if (peerPrefix) hasPeerAddress = true;
          params.push({ kind: 'address', loc: tl, peer: peerPrefix, address: a });
          break;
        }
        case 'port':
          params.push({ kind: 'port', loc: tl, peer: peerPrefix, port: this.num('expecting number') });
          break;
        case 'max-lease-misbalance':
        case 'max-lease-ownership':
        case 'max-balance':
        case 'min-balance':
        case 'auto-partner-down':
        case 'mclt':
          if (tok.keyword === 'mclt') hasMclt = true;
          params.push({ kind: tok.keyword, loc: tl, value: this.num('expecting number.') } as FailoverParam);
          break;
        case 'max-response-delay':
        case 'max-unacked-updates':
          params.push({ kind: tok.keyword, loc: tl, peer: peerPrefix, value: this.num('expecting number.') } as FailoverParam);
          break;
        case 'hba': {
          if (role === 'secondary') this.fail('secondary may not define load balance settings.');
          const bytes = this.numericAggregate(32, ':', 16, 8);
          hasHba = true;
          params.push({ kind: 'hba', loc: tl, bytes });
          break;
        }
        case 'split': {
          const n = this.nx();
          if (role === 'secondary') this.fail('secondary may not define load balance settings.');
          if (n.kind !== 'number') this.fail('expecting number');
          const v = parseInt(n.text, 10);
          if (v > 256) this.fail('split must be between 0 and 256, inclusive');
          hasHba = true;
          params.push({ kind: 'split', loc: tl, value: v });
          break;
        }
        case 'load': {
          if (this.nx().keyword !== 'balance') this.fail("expecting 'balance'");
          if (this.nx().keyword !== 'max') this.fail("expecting 'max'");
          if (this.nx().keyword !== 'seconds') this.fail("expecting 'secs'");
          params.push({ kind: 'load-balance-max-seconds', loc: tl, value: this.num('expecting number') });
          break;
        }
        default:
          this.fail('invalid statement in peer declaration');
      }
      this.semi();
    }
    const end = this.here();
    if (!hasPeerAddress) this.fail('peer address may not be omitted');
    if (role === 'primary') {
      if (!hasHba) this.fail('primary failover server must have hba or split.');
      if (!hasMclt) this.fail('primary failover server must have mclt.');
    }
    this.st.peers.add(name);
    if (role) this.st.peerRoles.set(name, role);
    out.push({ kind: 'failover-peer', loc: L, name, params, end });
    return false;
  });

  private failoverState(L: Loc, name: string, nameLoc: IscPos): Statement {
    const node: { kind: 'failover-state'; loc: Loc; name: string; nameLoc: IscPos; my?: { state: string; at?: DateValue }; partner?: { state: string; at?: DateValue }; mclt?: number } = {
      kind: 'failover-state', loc: L, name, nameLoc,
    };
    const lb = this.nx();
    if (!(lb.kind === 'punct' && lb.image === '{')) this.fail('expecting left brace');
    for (;;) {
      const t = this.nx();
      if (t.kind === 'punct' && t.image === '}') break;
      if (t.keyword === 'my' || t.keyword === 'partner') {
        if (this.nx().keyword !== 'state') this.fail("expecting 'state'");
        const s = this.nx();
        if (!s.keyword || !FAILOVER_STATES.has(s.keyword)) this.fail('unknown failover state');
        let at: DateValue | undefined;
        const a = this.nx();
        if (!(a.kind === 'punct' && a.image === ';')) {
          if (a.keyword !== 'at') this.fail('expecting "at"');
          at = this.date();
          this.semi();
        }
        if (t.keyword === 'my') node.my = { state: s.keyword, at };
        else node.partner = { state: s.keyword, at };
      } else if (t.keyword === 'mclt') {
        if (this.st.peerRoles.get(name) === 'primary') this.fail('mclt not valid for primary');
        node.mclt = this.num('expecting a number.');
        this.semi();
      } else this.fail('expecting state setting.');
    }
    return node;
  }

  // ---- options ---------------------------------------------------------------------------------

  private readonly optionStatementTop = this.RULE('optionStatementTop', (out: Statement[] = [], scope: Scope = REC_SCOPE, L: Loc = REC_LOC, declaration = false): boolean => {
    this.eat(KW_OPTION);
    if (this.RECORDING_PHASE) return false;
    const t = this.peekT();
    if (keywordOf(t) === 'space') {
      if (scope.type !== 'root') this.fail('option space definitions may not be scoped.');
      this.optionSpaceDecl(out, L);
      return declaration;
    }
    const on = this.optionName();
    const n = this.peekT();
    on.end = this.here();
    if (keywordOf(n) === 'code') {
      if (scope.type !== 'root') this.fail('option definitions may not be scoped.');
      this.nextAny();
      this.optionCodeDefinition(out, L, on.space, on.name);
      return declaration;
    }
    this.optionValue((value) => out.push({ kind: 'option', loc: L, mode: 'option', space: on.space, name: on.name, nameEnd: on.end, value, executable: false }));
    return declaration;
  });

  /** ISC parse_option_name(): `[SPACE.]NAME`. */
  private optionName(): { space: string | undefined; name: string; end: IscPos } {
    const t = this.nextAny();
    const tk = kindOf(t);
    if (tk !== 'name' && tk !== 'numberOrName') this.fail('expecting identifier after option keyword.');
    let space: string | undefined;
    let name = t.image;
    if (this.peekT().image === '.') {
      this.nextAny();
      const n = this.nextAny();
      const nk = kindOf(n);
      if (nk !== 'name' && nk !== 'numberOrName') this.fail("expecting identifier after '.'");
      space = t.image;
      name = n.image;
      if (!this.st.spaces.has(space.toLowerCase())) this.fail(`no option space named ${space}.`);
    }
    if (/^unknown-/i.test(name)) {
      const code = parseInt(name.slice(8), 10) || 0;
      const sp = (space ?? 'dhcp').toLowerCase();
      if (code === 0 || (sp === 'dhcp' && code === 255)) {
        this.fail(`Option codes 0 and 255 are illegal in the ${sp} space.`);
      }
    }
    return { space, name, end: this.here() };
  }

  private optionSpaceDecl(out: Statement[], L: Loc): void {
    this.nextAny(); // space
    const n = this.nx();
    if (n.kind !== 'name' && n.kind !== 'numberOrName') this.fail('expecting identifier.');
    const node: { kind: 'option-space'; loc: Loc; name: string; codeWidth?: number; lengthWidth?: number; hashSize?: number } = {
      kind: 'option-space', loc: L, name: n.text,
    };
    for (;;) {
      const t = this.nx();
      if (t.kind === 'punct' && t.image === ';') break;
      if (t.keyword === 'code') {
        if (this.nx().keyword !== 'width') this.fail('expecting width token.');
        const v = this.num('expecting number 1, 2, 4.');
        if (v !== 1 && v !== 2 && v !== 4) this.fail(`invalid code width (${v}), expecting a 1, 2 or 4.`);
        node.codeWidth = v;
      } else if (t.keyword === 'length') {
        if (this.nx().keyword !== 'width') this.fail('expecting width token.');
        const v = this.num('expecting number 1 or 2.');
        if (v !== 1 && v !== 2) this.fail(`invalid length width (${v}) expecting 1 or 2.`);
        node.lengthWidth = v;
      } else if (t.keyword === 'hash') {
        if (this.nx().keyword !== 'size') this.fail('expecting size token.');
        node.hashSize = this.num('expecting a 10base number');
        if (node.hashSize < 0 || node.hashSize > 0x7fffffff) this.fail(`invalid hash length: ${node.hashSize}`);
      } else this.fail('Unexpected token.');
    }
    this.st.spaces.add(n.text.toLowerCase());
    out.push(node);
  }

  private optionCodeDefinition(out: Statement[], L: Loc, space: string | undefined, name: string): void {
    const code = this.num('expecting option code number.');
    const eq = this.nx();
    if (!(eq.kind === 'punct' && eq.image === '=')) this.fail('expecting "="');
    let t = this.nx();
    let arrayp = 0;
    let recordp = false;
    if (t.keyword === 'array') {
      if (this.nx().keyword !== 'of') this.fail('expecting "of".');
      arrayp = 1;
      t = this.nx();
    }
    if (t.kind === 'punct' && t.image === '{') {
      recordp = true;
      t = this.nx();
    }
    const fields: OptionTypeAst[] = [];
    let hasEncap = false;
    let noMore = false;
    for (;;) {
      if (hasEncap) this.fail('encapsulate must always be the last item.');
      let ty: OptionTypeAst;
      let fieldArray = false;
      if (t.keyword === 'array') {
        if (arrayp) this.fail('no nested arrays.');
        if (this.nx().keyword !== 'of') this.fail('expecting "of".');
        arrayp = recordp ? 2 : 1;
        t = this.nx();
        if (recordp && t.kind === 'punct' && t.image === '{') this.fail('only uniform array inside record.');
        continue;
      }
      const intType = (signed: boolean): OptionTypeAst => {
        const n = this.nx();
        if (n.kind !== 'number') this.fail('expecting number.');
        const bits = parseInt(n.text, 10);
        if (bits !== 8 && bits !== 16 && bits !== 32) this.fail(`${n.text} bit precision is not supported.`);
        return { kind: 'integer', bits, signed };
      };
      switch (t.keyword) {
        case 'boolean':
          ty = { kind: 'boolean' };
          break;
        case 'integer':
          ty = intType(true);
          break;
        case 'signed':
        case 'unsigned':
          if (this.nx().keyword !== 'integer') this.fail('expecting "integer" keyword.');
          ty = intType(t.keyword === 'signed');
          break;
        case 'ip-address':
          ty = { kind: 'ip-address' };
          break;
        case 'ip6-address':
          ty = { kind: 'ip6-address' };
          break;
        case 'domain-name':
        case 'domain-list':
        case 'text':
        case 'string': {
          if (t.keyword === 'domain-list') {
            let compressed = false;
            if (this.pk().keyword === 'compressed') {
              this.nextAny();
              compressed = true;
            }
            ty = { kind: 'domain-list', compressed };
          } else ty = { kind: t.keyword as 'domain-name' | 'text' | 'string' };
          if (arrayp) this.fail('arrays of text strings not yet supported.');
          noMore = true;
          break;
        }
        case 'encapsulate': {
          const s = this.nx();
          if (s.kind !== 'name' && s.kind !== 'numberOrName') this.fail('expecting option space identifier');
          if (!this.st.spaces.has(s.text.toLowerCase())) this.fail(`unknown option space ${s.text}`);
          ty = { kind: 'encapsulate', space: s.text };
          hasEncap = true;
          break;
        }
        case 'zerolen':
          if (arrayp) this.fail('array incompatible with zerolen.');
          ty = { kind: 'zerolen' };
          noMore = true;
          break;
        default:
          this.fail(`unknown data type ${t.text}`);
      }
      if (recordp && arrayp > 1) {
        fieldArray = true;
        arrayp = 0;
      }
      fields.push(fieldArray ? { kind: 'array', of: ty } : ty);
      if (!recordp) break;
      t = this.nx();
      if (t.kind === 'punct' && t.image === ',') {
        if (noMore) this.fail(`${ty.kind === 'text' ? 'text' : 'string'} must be at end of record.`);
        t = this.nx();
        continue;
      }
      if (!(t.kind === 'punct' && t.image === '}')) this.fail('expecting right brace.');
      break;
    }
    this.semi();
    if (hasEncap && arrayp) this.fail("Arrays of encapsulations don't make sense.");
    let type: OptionTypeAst = recordp ? { kind: 'record', fields } : fields[0]!;
    if (arrayp) type = { kind: 'array', of: type };
    out.push({ kind: 'option-def', loc: L, space, name, code, type, end: this.here() });
  }

  /**
   * The value after an option/parameter name: `= EXPR;` or raw tokens up to `;`. Calls `emit` with the
   * value before checking the `;`, so a statement whose value runs into the next statement is still in the
   * tree for the compiler (whose value error comes first, as in ISC).
   */
  private optionValue(emit: (v: RawValue | ExprValue) => void): void {
    const t = this.peekT();
    if (t.image === '=' && t.tokenTypeIdx !== STRING_IDX) {
      this.nextAny();
      const e = this.parseDataExpression('expecting a data expression.');
      emit({ kind: 'expr', expr: e });
      this.semi();
      return;
    }
    const v = this.rawValue();
    if (v.tokens.length === 0) {
      // ISC eats a `;` that directly follows a non-zerolen option name, then wants another `;`.
      v.emptyError = this.cur.simulate(() => {
        this.cur.next();
        this.cur.next();
        return this.cur.errorHere('semicolon expected.');
      });
    }
    emit(v);
    const s = this.eat(Semi, 'semicolon expected.');
    v.end = this.loc(s);
  }

  /** Tokens up to (not including) the next `;`, `{`, `}` or end of file. */
  private rawValue(): RawTokens {
    const before = this.cur.lastIndex;
    const start = this.cur.nextIndex;
    for (;;) {
      // ISC stops reading a value where its type says; we cannot know that here, so collection stops
      // before a token that would itself be an error (an unterminated string), leaving it to the `;` check.
      const t = this.LA(1);
      this.cur.peek();
      if (t.tokenTypeIdx === EOF_IDX || this.cur.unterminated(this.cur.nextIndex)) break;
      const c = t.image;
      if (c === ';' || c === '{' || c === '}') break;
      this.nextAny();
    }
    const end = this.cur.nextIndex;
    this.peekT();
    const tokens: Tok[] = [];
    for (let i = start; i < end; i++) tokens.push(this.cur.tok(i));
    return new RawTokens(tokens, this.file, this.loc(this.LA(1)), this.cur.text, before >= 0 ? this.cur.tok(before) : undefined, this.cur.tok(end));
  }

  // ---- executable statements --------------------------------------------------------------------

  /**
   * ISC parse_executable_statement(). Returns 'ok' when a statement was parsed, 'none' when the next token
   * does not start one (ISC returns 0 without `lose`). Errors abort.
   */
  private readonly executableStatement = this.RULE('executableStatement', (out: Statement[] = [], caseCtx: CaseCtx = 'any'): 'ok' | 'none' => {
    const t = this.peekT();
    const L = this.loc(t);
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          ALT: () => {
            this.eat(KW_DB_TIME_FORMAT);
            const v = this.nextAny();
            const k = keywordOf(v);
            if (k !== 'default' && k !== 'local') this.fail("Expecting 'local' or 'default'.");
            this.eat(Semi, 'Expecting a semicolon.');
            out.push({ kind: 'db-time-format', loc: L, value: k as 'default' | 'local' });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_IF);
            if (!this.RECORDING_PHASE) out.push(this.ifStatement(L));
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_ADD);
            const c = this.eat(StringLit, 'expecting class name.');
            const name = this.text(c);
            if (!this.RECORDING_PHASE && !this.st.classes.has(name)) this.fail(`class ${name}: not found`);
            const classLoc = this.here();
            this.semi();
            out.push({ kind: 'add', loc: L, className: name, classLoc });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_BREAK);
            this.semi();
            out.push({ kind: 'break', loc: L });
            return 'ok';
          },
        },
        {
          ALT: () => {
            const k = this.OR1([
              { ALT: () => this.eat(KW_SEND) },
              { ALT: () => this.eat(KW_SUPERSEDE) },
              { ALT: () => this.eat(KW_OPTION) },
              { ALT: () => this.eat(KW_PREPEND) },
              { ALT: () => this.eat(KW_APPEND) },
            ]);
            if (!this.RECORDING_PHASE) this.execOption(out, L, keywordOf(k) as OptionMode);
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_DEFAULT);
            if (this.RECORDING_PHASE) return 'ok';
            if (this.peekT().image === ':') {
              this.nextAny();
              if (caseCtx === 'any') this.fail('switch default statement in inappropriate scope.');
              out.push({ kind: 'default-case', loc: L });
              return 'ok';
            }
            this.execOption(out, L, 'default');
            return 'ok';
          },
        },
        {
          ALT: () => {
            const k = this.OR2([{ ALT: () => this.eat(KW_ALLOW) }, { ALT: () => this.eat(KW_DENY) }, { ALT: () => this.eat(KW_IGNORE) }]);
            const w = this.nextAny();
            const wk = keywordOf(w);
            const what = wk !== undefined ? ALLOW_DENY_KEYS[wk] : undefined;
            if (what === undefined) this.fail('expecting allow/deny key');
            this.semi();
            out.push({ kind: 'allow-deny', loc: L, mode: keywordOf(k) as 'allow' | 'deny' | 'ignore', what });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_ON);
            if (!this.RECORDING_PHASE) out.push(this.onStatement(L));
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_SWITCH);
            if (!this.RECORDING_PHASE) out.push(this.switchStatement(L));
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_CASE);
            if (this.RECORDING_PHASE) return 'ok';
            if (caseCtx === 'any') this.fail('case statement in inappropriate scope.');
            // ISC parses the label in the switch's context without a type check.
            const e = this.parseExpression(caseCtx, `expecting ${caseCtx} expression.`);
            const c = this.nx();
            if (!(c.kind === 'punct' && c.image === ':')) this.fail('colon expected.');
            out.push({ kind: 'case', loc: L, expr: e });
            return 'ok';
          },
        },
        {
          ALT: () => {
            const k = this.OR3([{ ALT: () => this.eat(KW_DEFINE) }, { ALT: () => this.eat(KW_SET) }]);
            if (!this.RECORDING_PHASE) this.setOrDefine(out, L, keywordOf(k) as 'set' | 'define');
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_UNSET);
            const n = this.nextAny();
            if (n.tokenTypeIdx !== NAME_IDX && n.tokenTypeIdx !== NON_IDX) this.fail(`${this.text(n)} can't be a variable name`);
            this.semi();
            out.push({ kind: 'unset', loc: L, name: n.image });
            return 'ok';
          },
        },
        {
          // `eval EXPR;` and `return EXPR;`: the same shape (ISC parses both with parse_expression).
          ALT: () => {
            const k = this.OR4([{ ALT: () => this.eat(KW_EVAL) }, { ALT: () => this.eat(KW_RETURN) }]);
            if (this.RECORDING_PHASE) return 'ok';
            const e = this.parseExpression('data', 'expecting data expression.');
            this.semi();
            out.push({ kind: keywordOf(k) as 'eval' | 'return', loc: L, expr: e });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_EXECUTE);
            this.eat(LParen, 'left parenthesis expected.');
            const c = this.eat(StringLit, 'Expecting a quoted string.');
            if (this.RECORDING_PHASE) return 'ok';
            const args: Expr[] = [];
            let n = this.nx();
            while (n.kind === 'punct' && n.image === ',') {
              args.push(this.parseDataExpression('expecting expression.'));
              n = this.nx();
            }
            if (!(n.kind === 'punct' && n.image === ')')) this.fail('right parenthesis expected.');
            this.semi();
            out.push({ kind: 'execute', loc: L, command: this.text(c), args });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_LOG);
            this.eat(LParen, 'left parenthesis expected.');
            if (this.RECORDING_PHASE) return 'ok';
            const p = this.pk();
            let priority: 'fatal' | 'error' | 'info' | 'debug' = 'debug';
            if (p.keyword === 'fatal' || p.keyword === 'error' || p.keyword === 'debug' || p.keyword === 'info') {
              priority = p.keyword;
              this.nextAny();
              this.eat(Comma, 'comma expected.');
            }
            const e = this.parseDataExpressionOrNone();
            if (e === null) return 'none';
            this.eat(RParen, 'right parenthesis expected.');
            this.eat(Semi, 'semicolon expected.');
            out.push({ kind: 'log', loc: L, priority, expr: e });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_PARSE_VENDOR_OPTION);
            this.semi();
            out.push({ kind: 'parse-vendor-option', loc: L });
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_ZONE);
            if (!this.RECORDING_PHASE) this.zone(out, L);
            return 'ok';
          },
        },
        {
          ALT: () => {
            this.eat(KW_KEY);
            if (!this.RECORDING_PHASE) this.key(out, L);
            return 'ok';
          },
        },
        {
          // A server-space parameter: `NAME VALUE;`.
          GATE: () => SERVER_PARAMETERS.has(t.image.toLowerCase()),
          ALT: () => {
            const n = this.eat(Ident);
            const name = n.image.toLowerCase();
            if (!this.RECORDING_PHASE) this.optionValue((value) => out.push({ kind: 'parameter', loc: L, name, value }));
            return 'ok';
          },
        },
        {
          // A bare word: an expression statement (ISC parses it as a data expression, e.g. a function call).
          GATE: () => t.tokenTypeIdx === NAME_IDX || t.tokenTypeIdx === NON_IDX,
          ALT: () => {
            if (this.RECORDING_PHASE) return 'ok';
            const e = this.parseExpression('data', 'expecting function call.');
            this.semi();
            out.push({ kind: 'eval', loc: L, expr: e });
            return 'ok';
          },
        },
        {
          // Not an executable statement: nothing consumed (recorded as "any token" for the loops over it).
          ALT: () => {
            if (this.RECORDING_PHASE) this.CONSUME1(AnyTok);
            return 'none' as const;
          },
        },
      ],
    });
  });

  private execOption(out: Statement[], L: Loc, mode: OptionMode): void {
    const on = this.optionName();
    this.peekT();
    on.end = this.here();
    this.optionValue((value) => out.push({ kind: 'option', loc: L, mode, space: on.space, name: on.name, nameEnd: on.end, value, executable: true }));
  }

  private setOrDefine(out: Statement[], L: Loc, k: 'set' | 'define'): void {
    const n = this.nx();
    if (!(n.kind === 'name' || n.kind === 'numberOrName') || n.keyword !== undefined) this.fail(`${n.text} can't be a variable name`);
    const x = this.nx();
    if (x.kind === 'punct' && x.image === '(' && k === 'define') {
      const params: string[] = [];
      let a = this.nx();
      if (!(a.kind === 'punct' && a.image === ')')) {
        for (;;) {
          if (!(a.kind === 'name' || a.kind === 'numberOrName') || a.keyword !== undefined) this.fail('expecting argument name');
          params.push(a.text);
          a = this.nx();
          if (!(a.kind === 'punct' && a.image === ',')) break;
          a = this.nx();
        }
      }
      if (!(a.kind === 'punct' && a.image === ')')) this.fail('expecting right paren.');
      this.eat(LCurly, 'expecting left brace.');
      const body: Statement[] = [];
      this.executableStatements(body, 'any');
      this.eat(RCurly, 'expecting rigt brace.');
      out.push({ kind: 'define-function', loc: L, name: n.text, params, body });
      return;
    }
    if (!(x.kind === 'punct' && x.image === '=')) this.fail(`expecting '=' in ${k} statement.`);
    const e = this.parseExpression('any', 'expecting expression.');
    this.semi();
    out.push({ kind: k, loc: L, name: n.text, expr: e });
  }

  /** ISC parse_executable_statements(): statements until one does not start. */
  private readonly executableStatementList = this.RULE('executableStatementList', (out: Statement[] = [], caseCtx: CaseCtx = 'any'): void => {
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        more = this.SUBRULE(this.executableStatement, { ARGS: [out, caseCtx] }) === 'ok';
      },
    });
  });

  private executableStatements(out: Statement[], caseCtx: CaseCtx): void {
    this.SUBRULE(this.executableStatementList, { ARGS: [out, caseCtx] });
  }

  private ifStatement(L: Loc): Statement {
    let paren = false;
    if (this.peekT().image === '(') {
      paren = true;
      this.nextAny();
    }
    const cond = this.parseBooleanExpression('boolean expression expected.');
    if (paren) this.eat(RParen, 'expecting right paren.');
    this.eat(LCurly, 'left brace expected.');
    const then: Statement[] = [];
    this.executableStatements(then, 'any');
    this.eat(RCurly, 'right brace expected.');
    let elseBody: Statement[] | undefined;
    const t = this.peekT();
    const k = keywordOf(t);
    if (k === 'else') {
      this.nextAny();
      const n = this.peekT();
      if (keywordOf(n) === 'if') {
        this.nextAny();
        elseBody = [this.ifStatement(this.loc(n))];
      } else if (n.image !== '{' || n.tokenTypeIdx === STRING_IDX) {
        this.fail('left brace or if expected.');
      } else {
        this.nextAny();
        elseBody = [];
        this.executableStatements(elseBody, 'any');
        this.eat(RCurly, 'right brace expected.');
      }
    } else if (k === 'elsif') {
      this.nextAny();
      elseBody = [this.ifStatement(this.loc(t))];
    }
    return { kind: 'if', loc: L, condition: cond, then, else: elseBody };
  }

  private onStatement(L: Loc): Statement {
    const events: ('commit' | 'expiry' | 'release' | 'transmission')[] = [];
    let t = this.nx();
    do {
      if (t.keyword === 'expiry' || t.keyword === 'commit' || t.keyword === 'release' || t.keyword === 'transmission') events.push(t.keyword);
      else this.fail('expecting a lease event type');
      t = this.nx();
    } while (t.keyword === 'or' && (t = this.nx()) !== undefined);
    const body: Statement[] = [];
    if (t.kind === 'punct' && t.image === ';') return { kind: 'on', loc: L, events, body };
    if (!(t.kind === 'punct' && t.image === '{')) this.fail('left brace expected.');
    this.executableStatements(body, 'any');
    this.eat(RCurly, 'right brace expected.');
    return { kind: 'on', loc: L, events, body };
  }

  private switchStatement(L: Loc): Statement {
    this.eat(LParen, 'expecting left brace.');
    const e = this.parseExpression('data-or-numeric', 'expecting data or numeric expression.');
    this.eat(RParen, 'right paren expected.');
    this.eat(LCurly, 'left brace expected.');
    const body: Statement[] = [];
    this.executableStatements(body, exprContext(e) === 'data' || isDataExpr(e) ? 'data' : 'numeric');
    this.eat(RCurly, 'right brace expected.');
    return { kind: 'switch', loc: L, expr: e, body };
  }

  private zone(out: Statement[], L: Loc): void {
    const name = this.hostName();
    if (name === null) this.fail('expecting hostname.');
    this.eat(LCurly, 'expecting left brace');
    const node: { kind: 'zone'; loc: Loc; name: string; primary?: AddressOrName[]; secondary?: AddressOrName[]; primary6?: string[]; secondary6?: string[]; key?: string; keyLoc?: IscPos } = {
      kind: 'zone', loc: L, name,
    };
    for (;;) {
      const k = keywordOf(this.peekT());
      if (k === 'primary' || k === 'secondary') {
        if (node[k]) this.fail(`more than one ${k}.`);
        this.nextAny();
        const list: AddressOrName[] = [];
        let n: Tok;
        do {
          list.push(this.ipAddrOrHostname());
          n = this.nx();
        } while (n.kind === 'punct' && n.image === ',');
        if (!(n.kind === 'punct' && n.image === ';')) this.fail('expecting semicolon.');
        node[k] = list;
      } else if (k === 'primary6' || k === 'secondary6') {
        if (node[k]) this.fail(`more than one ${k}.`);
        this.nextAny();
        const list: string[] = [];
        let n: Tok;
        do {
          list.push(this.ipv6Raw());
          n = this.nx();
        } while (n.kind === 'punct' && n.image === ',');
        if (!(n.kind === 'punct' && n.image === ';')) this.fail('expecting semicolon.');
        node[k] = list;
      } else if (k === 'key') {
        this.nextAny();
        const n = this.peekT();
        let keyName: string;
        if (n.tokenTypeIdx === STRING_IDX) {
          this.nextAny();
          keyName = this.text(n);
        } else {
          const h = this.hostName();
          if (h === null) this.fail('expecting key name.');
          keyName = h;
        }
        if (!this.st.keys.has(keyName) && !this.st.keys.has(keyName.replace(/\.$/, ''))) this.fail(`unknown key ${keyName}`);
        node.key = keyName;
        node.keyLoc = this.here();
        this.semi();
      } else break;
    }
    this.eat(RCurly, 'expecting right brace.');
    out.push(node);
  }

  /**
   * ISC parse_ip6_addr(): glues hex words, numbers, `add`, `.` and `:` that follow each other without
   * whitespace, then validates with inet_pton ("Invalid IPv6 address.").
   */
  private ipv6Raw(): string {
    let s = '';
    let prevEnd = -1;
    for (;;) {
      const t = this.pk();
      if (prevEnd >= 0 && t.offset !== prevEnd) break;
      const ok =
        ((t.kind === 'name' || t.kind === 'numberOrName') && (t.keyword === undefined || t.keyword === 'add') && /^[0-9a-fA-F]+$/.test(t.text)) ||
        t.kind === 'number' ||
        (t.kind === 'punct' && (t.image === '.' || t.image === ':'));
      if (!ok) break;
      this.nextAny();
      s += t.text;
      prevEnd = t.end;
    }
    if (!isIPv6(s)) this.fail('Invalid IPv6 address.');
    return s;
  }

  private key(out: Statement[], L: Loc): void {
    let name: string;
    const t = this.peekT();
    if (t.tokenTypeIdx === STRING_IDX) {
      this.nextAny();
      name = this.text(t);
    } else {
      const h = this.hostName();
      if (h === null) this.fail('expecting key name.');
      name = h;
    }
    this.eat(LCurly, 'expecting left brace');
    let algorithm: string | undefined;
    let secret: string | undefined;
    let secretLoc: IscPos | undefined;
    let tok: Tok;
    for (;;) {
      tok = this.nx();
      if (tok.keyword === 'algorithm') {
        if (algorithm !== undefined) this.fail(`key ${name}: too many algorithms`);
        const a = this.hostName();
        if (a === null) this.fail('expecting key algorithm name.');
        algorithm = a;
        this.semi();
      } else if (tok.keyword === 'secret') {
        if (secret !== undefined) this.fail(`key ${name}: too many secrets`);
        secret = this.base64();
        secretLoc = this.here();
        this.semi();
      } else break;
    }
    if (!(tok.kind === 'punct' && tok.image === '}')) this.fail('expecting right brace.');
    if (this.peekT().image === ';') this.nextAny();
    this.st.keys.add(name);
    out.push({ kind: 'key', loc: L, name, algorithm, secret, secretLoc });
  }

  /** ISC parse_base64(): joins tokens split at `+`, `/`, `=`; validates like ISC. */
  private base64(): string {
    const parts: string[] = [];
    for (;;) {
      const t = this.nx();
      parts.push(t.text);
      const p = this.pk();
      if (!BASE64_VALID.test(p.text) || p.kind === 'eof') break;
    }
    let terminated = false;
    let acc = 0;
    let k = 0;
    let outLen = 0;
    for (const part of parts) {
      for (const ch of part) {
        const c = ch.charCodeAt(0);
        if (terminated && ch !== '=') this.fail(`stuff after base64 '=' terminator: ${part.slice(part.indexOf(ch))}.`);
        if (c < 32 || c > 122) this.fail(`invalid base64 character ${c}.`);
        if (ch === '=') terminated = true;
        else {
          const v = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(ch);
          if (v < 0) this.fail(`invalid base64 character ${c}.`);
          acc = (acc << 6) + v;
          switch (k % 4) {
            case 1:
              outLen++;
              acc &= 0x0f;
              break;
            case 2:
              outLen++;
              acc &= 0x03;
              break;
            case 3:
              outLen++;
              acc = 0;
              break;
            default:
              break;
          }
        }
        k++;
      }
    }
    if (k % 4 && acc) this.fail(`partial base64 value left over: ${acc}.`);
    if (outLen === 0) this.fail('expecting right brace.');
    return parts.join('');
  }

  // ---- leaf syntax ---------------------------------------------------------------------------------

  /** ISC parse_host_name(): identifiers/numbers joined by dots; null when none. */
  private hostName(): string | null {
    if (this.RECORDING_PHASE) return '';
    let s = '';
    let n = 0;
    let trailingDot = false;
    for (;;) {
      const t = this.peekT();
      const k = t.tokenTypeIdx;
      if (k === STRING_IDX || k === EOF_IDX) break;
      const kind = kindOf(t);
      if (kind !== 'name' && kind !== 'numberOrName' && kind !== 'number') break;
      this.nextAny();
      s = n === 0 ? t.image : s + '.' + t.image;
      n++;
      trailingDot = false;
      if (this.peekT().image === '.') {
        this.nextAny();
        trailingDot = true;
        continue;
      }
      break;
    }
    if (n === 0) return null;
    return trailingDot ? s + '.' : s;
  }

  /** ISC parse_numeric_aggregate(); `max` 0 = any count. Returns the numbers. */
  private numericAggregate(max: number, sep: string, base: number, size: number): number[] {
    const out: number[] = [];
    let count = 0;
    do {
      if (count) {
        const t = this.peekT();
        if (t.image !== sep || t.tokenTypeIdx === STRING_IDX) {
          if (!max) break;
          if (t.image !== '}' && t.image !== '{') this.nextAny();
          this.fail('too few numbers.');
        }
        this.nextAny();
      }
      const t = this.nextAny();
      const k = t.tokenTypeIdx;
      if (k === EOF_IDX) this.fail('unexpected end of file');
      if (k !== NUM_IDX && !(base === 16 && kindOf(t) === 'numberOrName')) {
        // ISC prints its own message; the callers' messages ("expecting hex list.") follow it.
        this.fail('expecting numeric value.');
      }
      out.push(convertNum((m) => this.fail(m), t.image, base, size));
    } while (++count !== max);
    return out;
  }

  private ipv4(): Ipv4Literal {
    const first = this.peekT();
    const nums = this.numericAggregate(4, '.', 10, 8) as [number, number, number, number];
    return new Ipv4Lit(this.loc(first), nums);
  }

  /** ISC parse_cshl(): colon-separated hex bytes. */
  private cshl(): number[] {
    const out: number[] = [];
    for (;;) {
      const t = this.nextAny();
      const kind = kindOf(t);
      if (kind !== 'number' && kind !== 'numberOrName') this.fail('expecting hexadecimal number.');
      out.push(convertNum((m) => this.fail(m), t.image, 16, 8));
      if (this.peekT().image !== ':') break;
      this.nextAny();
    }
    return out;
  }

  /** ISC parse_ip_addr_or_hostname(). */
  private ipAddrOrHostname(): AddressOrName {
    const t = this.peekT();
    const L = this.loc(t);
    const kind = kindOf(t);
    if (kind === 'number') {
      const t1 = this.LA(2);
      const t2 = this.LA(3);
      if (t1.image === '.' && kindOf(t2) === 'number') {
        const ip = this.ipv4();
        return { kind: 'ip', loc: ip.loc, ip };
      }
    }
    if (kind === 'name' || kind === 'numberOrName' || kind === 'number') {
      const name = this.hostName();
      return { kind: 'name', loc: L, name: name! };
    }
    let v = this.cur.tok(this.cur.nextIndex);
    if (v.image !== '}' && v.image !== '{') v = this.nx();
    this.fail(`${v.text} (${iscTokenNumber(v)}): expecting IP address or hostname`);
  }

  private permit(allow: boolean, L: Loc, haveAfter: boolean): PermitStatement {
    const t = this.nx();
    let needClients = true;
    let permit: PermitStatement['permit'];
    switch (t.keyword) {
      case 'unknown':
        permit = { type: 'unknown-clients' };
        break;
      case 'known-clients':
        needClients = false;
        permit = { type: 'known-clients' };
        break;
      case 'unknown-clients':
        needClients = false;
        permit = { type: 'unknown-clients' };
        break;
      case 'known':
        permit = { type: 'known-clients' };
        break;
      case 'authenticated':
        permit = { type: 'authenticated-clients' };
        break;
      case 'unauthenticated':
        permit = { type: 'unauthenticated-clients' };
        break;
      case 'all':
        permit = { type: 'all-clients' };
        break;
      case 'dynamic':
        if (this.nx().keyword !== 'bootp') this.fail('expecting "bootp"');
        permit = { type: 'dynamic-bootp-clients' };
        break;
      case 'members': {
        needClients = false;
        if (this.nx().keyword !== 'of') this.fail('expecting "of"');
        const c = this.nx();
        if (c.kind !== 'string') this.fail('expecting class name.');
        if (!this.st.classes.has(c.text)) this.fail(`no such class: ${c.text}`);
        permit = { type: 'members-of', className: c.text, classLoc: this.here() };
        break;
      }
      case 'after':
        needClients = false;
        if (haveAfter) this.fail('duplicate "after" clause.');
        permit = { type: 'after', date: this.date() };
        break;
      default:
        this.fail('expecting permit type.');
    }
    if (needClients && this.nx().keyword !== 'clients') this.fail('expecting "clients"');
    this.semi();
    return { kind: 'permit', loc: L, mode: allow ? 'allow' : 'deny', permit };
  }

  /** ISC parse_date_core() (dates in dhcpd.conf `after` permits and the lease file). */
  private date(): DateValue {
    const first = this.pk();
    const L = this.tloc(first);
    if (first.keyword === 'never') {
      this.nextAny();
      return { kind: 'never', loc: L };
    }
    const isSemi = (t: Tok): boolean => t.kind === 'punct' && t.image === ';';
    const num = (msg: string): number => {
      const t = this.pk();
      if (t.kind !== 'number') {
        if (!isSemi(t)) this.nextAny();
        this.fail(msg);
      }
      this.nextAny();
      return parseInt(t.text, 10);
    };
    const sep = (c: string, msg: string): void => {
      const t = this.pk();
      if (!(t.kind === 'punct' && t.image === c)) {
        if (!isSemi(t)) this.nextAny();
        this.fail(msg);
      }
      this.nextAny();
    };
    if (first.keyword === 'epoch') {
      this.nextAny();
      return { kind: 'epoch', loc: L, seconds: num('Seconds since epoch expected.') };
    }
    const weekday = num('numeric day of week expected.');
    const year = num('numeric year expected.');
    sep('/', 'expected slash separating year from month.');
    const month = num('numeric month expected.');
    sep('/', 'expected slash separating month from day.');
    const day = num('numeric day of month expected.');
    const hour = num('numeric hour expected.');
    sep(':', 'expected colon separating hour from minute.');
    const minute = num('numeric minute expected.');
    sep(':', 'expected colon separating minute from second.');
    const second = num('numeric second expected.');
    let tzOffset: number | undefined;
    const t = this.pk();
    if (t.kind === 'number') {
      this.nextAny();
      tzOffset = parseInt(t.text, 10);
    } else if (!isSemi(t)) {
      this.nextAny();
      this.fail('Time zone offset or semicolon expected.');
    }
    return { kind: 'date', loc: L, weekday, year, month, day, hour, minute, second, tzOffset };
  }

  /** Records a DHCPv6-only construct (ISC -4 rejects it; the compiler reports `message`). */
  private v6(out: Statement[], L: Loc, keyword: string, message: string, block: boolean, rejectedInV4 = true): boolean {
    const at = this.here();
    const tokens: Tok[] = [];
    let depth = 0;
    for (;;) {
      const t = this.pk();
      if (t.kind === 'eof') this.fail('unexpected end of file');
      this.nextAny();
      tokens.push(t);
      if (t.kind === 'punct' && t.image === '{') depth++;
      else if (t.kind === 'punct' && t.image === '}') {
        depth--;
        if (depth <= 0 && block) break;
      } else if (t.kind === 'punct' && t.image === ';' && depth === 0 && !block) break;
    }
    out.push({ kind: 'v6', loc: L, keyword, message, at, tokens, rejectedInV4 });
    return true;
  }

  // ---- expressions (ISC parse_expression and friends) --------------------------------------------

  private parseBooleanExpression(failMsg: string): Expr {
    const e = this.parseExpressionOrNone('boolean');
    if (e === null) this.fail(failMsg);
    if (!isBooleanExpr(e) && e.op !== 'variable' && e.op !== 'funcall') this.fail('Expecting a boolean expression.');
    return e;
  }

  private parseDataExpression(failMsg: string): Expr {
    const e = this.parseDataExpressionOrNone();
    if (e === null) this.fail(failMsg);
    return e;
  }

  private parseDataExpressionOrNone(): Expr | null {
    const e = this.parseExpressionOrNone('data');
    if (e === null) return null;
    if (!isDataExpr(e) && e.op !== 'variable' && e.op !== 'funcall') this.fail('Expecting a data expression.');
    return e;
  }

  private parseNumericExpression(failMsg: string): Expr {
    const e = this.parseExpressionOrNone('numeric');
    if (e === null) this.fail(failMsg);
    if (!isNumericExpr(e) && e.op !== 'variable' && e.op !== 'funcall') this.fail('Expecting a numeric expression.');
    return e;
  }

  private parseExpression(ctx: ExprContext, failMsg: string): Expr {
    const e = this.parseExpressionOrNone(ctx);
    if (e === null) this.fail(failMsg);
    return e;
  }

  /** ISC parse_expression(): flat precedence handling with ISC's typing checks. */
  private parseExpressionOrNone(context: ExprContext, plhs?: Expr, binopIn?: BinaryOperator): Expr | null {
    let lhs: Expr | undefined = plhs;
    let binop: BinaryOperator | undefined = binopIn;
    let ctx = context;
    for (;;) {
      let rhs = this.parseNonBinary(ctx);
      if (rhs === null) {
        if (lhs) this.fail('expecting right-hand side.');
        return null;
      }
      let nextOp: BinaryOperator | undefined;
      const t = this.pk();
      if (isP(t, '!')) {
        this.nx();
        if (!isP(this.pk(), '=')) this.fail('! in boolean context without =');
        nextOp = '!=';
      } else if (isP(t, '=')) nextOp = '=';
      else if (isP(t, '~')) {
        this.nx();
        const n = this.pk();
        if (isP(n, '~')) nextOp = '~~';
        else if (isP(n, '=')) nextOp = '~=';
        else this.fail('expecting ~= or ~~ operator');
      } else if (kw(t, 'and')) nextOp = 'and';
      else if (kw(t, 'or')) nextOp = 'or';
      else if (isP(t, '+')) nextOp = '+';
      else if (t.kind === 'number' && t.text === '-') nextOp = '-';
      else if (isP(t, '/')) nextOp = '/';
      else if (isP(t, '*')) nextOp = '*';
      else if (isP(t, '%')) nextOp = '%';
      else if (isP(t, '&')) nextOp = '&';
      else if (isP(t, '|')) nextOp = '|';
      else if (isP(t, '^')) nextOp = '^';
      if (nextOp !== undefined) ctx = exprContext(rhs);

      if (!lhs) {
        if (nextOp === undefined) return rhs;
        lhs = rhs;
        binop = nextOp;
        this.nx();
        continue;
      }
      if (binop !== undefined && nextOp !== undefined && PRECEDENCE[binop] < PRECEDENCE[nextOp]) {
        this.nx();
        const sub = this.parseExpressionOrNone(opContext(nextOp), rhs, nextOp);
        if (sub === null) this.fail('expecting a subexpression');
        rhs = sub;
        nextOp = undefined;
      }
      if (binop !== undefined) {
        const rc = exprContext(rhs);
        const lc = exprContext(lhs);
        if (rc !== 'any' && lc !== 'any' && rc !== lc) this.fail('illegal expression relating different types');
        switch (binop) {
          case '=':
          case '!=':
            if (rc !== 'data-or-numeric' && rc !== 'data' && rc !== 'numeric' && rc !== 'any') this.fail('expecting data/numeric expression');
            break;
          case '~=':
          case '~~':
            if (rc !== 'data') this.fail('expecting data expression');
            break;
          case 'and':
          case 'or':
            if (rc !== 'boolean' && rc !== 'any') this.fail('expecting boolean expressions');
            break;
          default:
            if (rc !== 'numeric' && rc !== 'any') this.fail('expecting numeric expressions');
            break;
        }
        lhs = { op: 'binary', loc: lhs.loc, operator: binop, left: lhs, right: rhs };
      }
      if (nextOp === undefined) return lhs;
      binop = nextOp;
      this.nx();
      ctx = opContext(nextOp);
    }
  }

  /** ISC parse_non_binary(): one primary. Returns null when the token starts no expression. */
  private parseNonBinary(context: ExprContext): Expr | null {
    const t = this.pk();
    const L = this.tloc(t);
    const lparen = (): void => {
      if (!isP(this.nx(), '(')) this.fail('left parenthesis expected.');
    };
    const comma = (): void => {
      if (!isP(this.nx(), ',')) this.fail('comma expected.');
    };
    const rparen = (): void => {
      if (!isP(this.nx(), ')')) this.fail('right parenthesis expected.');
    };
    const data = (what: string): Expr => this.parseDataExpression(`expecting ${what}.`);
    const numeric = (what: string): Expr => this.parseNumericExpression(`expecting ${what}.`);
    if (t.kind === 'string') {
      this.nx();
      return { op: 'string', loc: L, value: t.text };
    }
    if (isP(t, '(')) {
      this.nx();
      const e = this.parseExpressionOrNone(context);
      if (e === null) this.fail('expression expected');
      if (!isP(this.nx(), ')')) this.fail('right paren expected');
      return e;
    }
    if (t.kind === 'number') {
      if (t.text === '-') return null;
      if (context === 'numeric' || context === 'data-or-numeric') {
        this.nx();
        return { op: 'const-int', loc: L, value: parseInt(t.text, 10) };
      }
      return { op: 'const-data', loc: L, bytes: this.cshl() };
    }
    if (isNumOrName(t)) return { op: 'const-data', loc: L, bytes: this.cshl() };
    if (isName(t)) {
      this.nx();
      if (isP(this.pk(), '(')) {
        this.nx();
        // ISC reads at least one argument (`f()` is "expecting expression.").
        const args: Expr[] = [];
        let n: Tok;
        do {
          const a = this.parseExpressionOrNone('any');
          if (a === null) this.fail('expecting expression.');
          args.push(a);
          n = this.nx();
        } while (isP(n, ','));
        if (!isP(n, ')')) this.fail('Right parenthesis expected.');
        return { op: 'funcall', loc: L, name: t.text, args };
      }
      return { op: 'variable', loc: L, name: t.text };
    }
    const k = t.keyword;
    if (k === undefined) return null;
    if (NS_CONSTS.has(k) || CLIENT_STATES.has(k)) {
      this.nx();
      return { op: 'const-int', loc: L, value: 0 };
    }
    switch (k) {
      case 'check': {
        this.nx();
        const s = this.nx();
        if (s.kind !== 'string') this.fail('string expected.');
        if (s.text !== 'default') this.fail('unknown collection.');
        return { op: 'check', loc: L, className: s.text };
      }
      case 'not': {
        this.nx();
        const e = this.parseNonBinary('boolean');
        if (e === null) this.fail('expression expected');
        if (!isBooleanExpr(e)) this.fail('boolean expression expected');
        return { op: 'not', loc: L, operand: e };
      }
      case 'exists':
      case 'option':
      case 'config-option': {
        this.nx();
        const on = this.optionName();
        return { op: k, loc: L, space: on.space, name: on.name, nameEnd: on.end };
      }
      case 'static':
      case 'known':
      case 'hardware':
      case 'leased-address':
      case 'host-decl-name':
      case 'lease-time':
      case 'client-state':
      case 'null':
      case 'filename':
      case 'server-name':
        this.nx();
        return { op: 'atom', loc: L, name: k as AtomName };
      case 'substring': {
        this.nx();
        lparen();
        const a = data('data expression');
        comma();
        const b = numeric('numeric expression');
        comma();
        const c = numeric('numeric expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b, c] };
      }
      case 'suffix': {
        this.nx();
        lparen();
        const a = data('data expression');
        comma();
        const b = numeric('numeric expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'lcase':
      case 'ucase': {
        this.nx();
        lparen();
        const a = data('data expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a] };
      }
      case 'concat':
      case 'pick-first-value':
      case 'pick': {
        this.nx();
        lparen();
        const args: Expr[] = [data('data expression')];
        let n = this.nx();
        while (isP(n, ',')) {
          args.push(data('data expression'));
          n = this.nx();
        }
        if (!isP(n, ')')) this.fail('right parenthesis expected.');
        return { op: 'fn', loc: L, fn: k === 'pick' ? 'pick-first-value' : k, args };
      }
      case 'binary-to-ascii': {
        this.nx();
        lparen();
        const a = numeric('numeric expression');
        comma();
        const b = numeric('numeric expression');
        comma();
        const c = data('data expression');
        comma();
        const d = data('data expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b, c, d] };
      }
      case 'encode-int':
      case 'extract-int': {
        this.nx();
        lparen();
        const a = k === 'encode-int' ? numeric('numeric expression') : data('data expression');
        comma();
        const w = this.nx();
        if (w.kind !== 'number') this.fail('number expected.');
        const width = parseInt(w.text, 10);
        if (width !== 8 && width !== 16 && width !== 32) this.fail(`unsupported integer size ${width}`);
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, { op: 'const-int', loc: this.tloc(w), value: width }] };
      }
      case 'reverse':
      case 'v6relay': {
        // reverse(numeric, data) and v6relay(numeric, data).
        this.nx();
        lparen();
        const a = numeric('numeric expression');
        comma();
        const b = data('data expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'packet': {
        this.nx();
        lparen();
        const a = numeric('numeric expression');
        comma();
        const b = numeric('numeric expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'gethostname':
        this.nx();
        lparen();
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [] };
      case 'gethostbyname': {
        this.nx();
        lparen();
        const s = this.nx();
        if (s.kind !== 'string') this.fail('Expecting quoted literal: "foo.example.com"');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [{ op: 'string', loc: this.tloc(s), value: s.text }] };
      }
      case 'defined': {
        this.nx();
        lparen();
        const n = this.nx();
        if (!isName(n) && !isNumOrName(n)) this.fail(`${n.text} can't be a variable name`);
        rparen();
        return { op: 'defined', loc: L, name: n.text };
      }
      case 'encapsulate': {
        this.nx();
        const s = this.nx();
        if (!isIdent(s)) this.fail('expecting option space identifier');
        return { op: 'fn', loc: L, fn: k, args: [{ op: 'string', loc: this.tloc(s), value: s.text }] };
      }
      default:
        return null;
    }
  }
}

/**
 * The parser instances: one is built (grammar recorded and analysed) at module load and reused; an
 * include being parsed while its includer is mid-parse uses the instance one level deeper.
 */
const PARSERS: ConfParser[] = [];
function parserAt(depth: number): ConfParser {
  let p = PARSERS[depth];
  if (p === undefined) {
    p = new ConfParser();
    PARSERS[depth] = p;
  }
  return p;
}

/** ISC's numeric token codes for the few cases its messages print them. */
function iscTokenNumber(t: Tok): number {
  if (t.kind === 'punct') return t.image.charCodeAt(0);
  if (t.kind === 'string') return 258;
  if (t.kind === 'number') return 257;
  if (t.kind === 'eof') return 607;
  return t.kind === 'numberOrName' ? 260 : 259;
}

function opContext(op: BinaryOperator): ExprContext {
  switch (op) {
    case 'and':
    case 'or':
      return 'boolean';
    case '=':
    case '!=':
    case '~=':
    case '~~':
      return 'data-or-numeric';
    default:
      return 'numeric';
  }
}

/** ISC expression_context(). */
export function exprContext(e: Expr): ExprContext {
  if (isBooleanExpr(e)) return 'boolean';
  if (isNumericExpr(e)) return 'numeric';
  if (isDataExpr(e)) return 'data';
  return 'any';
}

function isBooleanExpr(e: Expr): boolean {
  switch (e.op) {
    case 'check':
    case 'exists':
    case 'not':
    case 'defined':
      return true;
    case 'binary':
      return ['=', '!=', '~=', '~~', 'and', 'or'].includes(e.operator);
    case 'atom':
      return e.name === 'known' || e.name === 'static';
    default:
      return false;
  }
}

function isDataExpr(e: Expr): boolean {
  switch (e.op) {
    case 'const-data':
    case 'string':
    case 'option':
    case 'config-option':
      return true;
    case 'atom':
      return ['hardware', 'leased-address', 'host-decl-name', 'null', 'filename', 'server-name'].includes(e.name);
    case 'fn':
      return e.fn !== 'extract-int';
    default:
      return false;
  }
}

function isNumericExpr(e: Expr): boolean {
  switch (e.op) {
    case 'const-int':
      return true;
    case 'binary':
      return ['+', '-', '*', '/', '%', '&', '|', '^'].includes(e.operator);
    case 'atom':
      return e.name === 'lease-time' || e.name === 'client-state';
    case 'fn':
      return e.fn === 'extract-int';
    default:
      return false;
  }
}

parserAt(0);
