/**
 * dhcpd.conf parser: a recursive-descent parser over the shared Chevrotain token stream
 * (grammar/tokens.ts), structured like ISC dhcpd 4.4's own parser (server/confpars.c, common/parse.c) so
 * that it accepts exactly what ISC accepts and stops at the same first error, with ISC's wording, line and
 * echoed source text. (A Chevrotain grammar class was not used for the parser: ISC's language is decided
 * token by token with context-dependent keyword/name and number/hex rules, and its error positions depend
 * on where ISC consumes vs. peeks; a hand-written descent reproduces both faithfully.)
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
import { Scanner, type Tok } from './tokens.js';
import { ParseAbort, TokenStream } from './token-stream.js';

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
  deepest?: TokenStream;
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
    const p = new ConfParser(toBytes(text), file, state);
    try {
      p.parseFile(statements, { type: 'root', inShared: false, inSubnet: false });
    } catch (e) {
      // Pathological nesting exhausts the JS stack: report it where the parser stood, like a syntax error.
      if (e instanceof RangeError) throw new ParseAbort(state.deepest?.errorHere('statements nested too deeply.') ?? plainError(file, 'statements nested too deeply.'));
      throw e;
    }
    return { ok: true, ast, errors: [], files: state.files };
  } catch (e) {
    for (const n of state.open) (n as { incomplete?: boolean }).incomplete = true;
    if (e instanceof ParseAbort) return { ok: false, ast, errors: [...state.pre, e.error], files: state.files };
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
function convertNum(ts: TokenStream, text: string, base: number, bits: number): number {
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
    else ts.fail(`Bogus number: ${text}.`);
    if (tval >= b) ts.fail(`Bogus number ${text}: digit ${tval} not in base ${b}`);
    val = (val * b + tval) >>> 0;
  } while (p < text.length);
  if (bits < 32) {
    const max = neg ? 1 << (bits - 1) : (1 << bits) - 1;
    if (val > max) {
      const shown = b === 8 ? val.toString(8) : b === 16 ? val.toString(16) : String(val);
      ts.fail(`${neg ? '-' : ''}${shown} exceeds max (${max}) for precision.`);
    }
  }
  return neg ? -val : val;
}

class ConfParser {
  private readonly ts: TokenStream;
  private readonly scratchNums: number[] = [];
  private readonly scratchToks: Tok[] = [];
  private readonly file: string;

  constructor(
    text: string,
    file: string,
    private readonly st: ParseState,
  ) {
    this.file = file;
    this.ts = new TokenStream(new Scanner(text, file));
    st.deepest = this.ts;
  }

  // ---- token helpers -------------------------------------------------------------------------

  private peek(): Tok {
    const t = this.ts.peek();
    this.checkLex(t);
    return t;
  }
  private next(): Tok {
    const t = this.ts.next();
    this.checkLex(t);
    return t;
  }
  /** ISC reports an unterminated string while lexing it. */
  private checkLex(t: Tok): void {
    if (t.unterminated) {
      const err = this.ts.errorHere('eof in string constant');
      err.line = t.line;
      err.column = t.column;
      err.iscChar = t.iscChar;
      throw new ParseAbort(err);
    }
  }
  private fail(msg: string): never {
    return this.ts.fail(msg);
  }
  private loc(t: Tok): Loc {
    return { file: this.file, line: t.line, column: t.column };
  }
  /** ISC's current error position with its echoed text (for errors the compiler reports later). */
  private here(): IscPos {
    return this.ts.positionHere();
  }
  private parseSemi(): void {
    const t = this.next();
    if (!isP(t, ';')) this.fail('semicolon expected.');
  }
  private parseLbrace(): void {
    const t = this.next();
    if (!isP(t, '{')) this.fail('expecting left brace.');
  }

  // ---- file / statements -------------------------------------------------------------------

  parseFile(out: Statement[], scope: Scope): void {
    let declaration = false;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') break;
      declaration = this.parseStatement(out, scope, declaration);
    }
  }

  /** ISC parse_statement(). Returns the new `declaration` flag (decides the "expecting ..." wording). */
  private parseStatement(out: Statement[], scope: Scope, declaration: boolean): boolean {
    const t = this.peek();
    const k = t.keyword;
    const L = this.loc(t);
    switch (k) {
      case 'include': {
        this.next();
        const f = this.next();
        if (f.kind !== 'string') this.fail('filename string expected.');
        const stmts: Statement[] = [];
        out.push({ kind: 'include', loc: L, path: f.text, statements: stmts });
        this.include(f.text, stmts, scope);
        this.parseSemi();
        return true;
      }
      case 'host':
        this.next();
        if (scope.type === 'host' || scope.type === 'class') this.fail('host declarations not allowed here.');
        this.parseHost(out, scope, L);
        return true;
      case 'group':
        this.next();
        if (scope.type === 'host' || scope.type === 'class') this.fail('group declarations not allowed here.');
        this.parseGroup(out, scope, L);
        return true;
      case 'shared-network':
        this.next();
        if (scope.type === 'shared' || scope.type === 'host' || scope.type === 'subnet' || scope.type === 'class')
          this.fail('shared-network parameters not allowed here.');
        this.parseSharedNetwork(out, scope, L);
        return true;
      case 'subnet':
      case 'subnet6': {
        this.next();
        if (scope.type === 'host' || scope.type === 'subnet' || scope.type === 'class') this.fail('subnet declarations not allowed here.');
        if (k === 'subnet6') {
          if (scope.share) scope.share.subnets++;
          this.v6(out, L, 'subnet6', 'subnet6 statement is only supported in DHCPv6 mode.', true);
          return !scope.inShared;
        }
        this.parseSubnet(out, scope, L);
        return !scope.inShared;
      }
      case 'vendor-class':
      case 'user-class':
      case 'class':
      case 'subclass':
        this.next();
        if (scope.type === 'class') this.fail('class declarations not allowed here.');
        this.parseClass(out, scope, L, k);
        return true;
      case 'hardware': {
        this.next();
        const hw = this.parseHardware(L);
        if (!scope.host) this.fail('hardware address parameter not allowed here.');
        if (scope.host.hasHardware) this.fail(`Host hardware address already configured.`);
        scope.host.hasHardware = true;
        out.push(hw);
        return false;
      }
      case 'fixed-address':
      case 'fixed-address6': {
        this.next();
        if (k === 'fixed-address6') {
          // ISC -4 accepts (and ignores) fixed-address6.
          this.v6(out, L, 'fixed-address6', 'fixed-address6 is only used in DHCPv6 mode.', false, false);
          return false;
        }
        const addrs: AddressOrName[] = [];
        for (;;) {
          addrs.push(this.parseIpAddrOrHostname());
          if (!isP(this.peek(), ',')) break;
          this.next();
        }
        this.parseSemi();
        if (!scope.host) this.fail('fixed-address parameter not allowed here.');
        if (scope.host.hasFixed) this.fail('Only one fixed address declaration per host.');
        scope.host.hasFixed = true;
        out.push({ kind: 'fixed-address', loc: L, addresses: addrs });
        return false;
      }
      case 'pool':
        this.next();
        if (scope.type === 'pool') this.fail('pool declared within pool.');
        if (scope.type !== 'subnet' && scope.type !== 'shared') this.fail('pool declared outside of network');
        this.parsePool(out, scope, L);
        return declaration;
      case 'range': {
        this.next();
        if (scope.type !== 'subnet' || !scope.inSubnet) this.fail('range declaration not allowed here.');
        out.push(this.parseRange(L));
        return declaration;
      }
      case 'range6':
      case 'prefix6':
        this.next();
        if (scope.type !== 'subnet' || !scope.inSubnet) this.fail(`${k} declaration not allowed here.`);
        return this.v6(out, L, k, `${k} statement is only supported in DHCPv6 mode.`, false) && declaration;
      case 'fixed-prefix6':
        this.next();
        if (!scope.host) this.fail('fixed-prefix6 declaration not allowed here.');
        this.v6(out, L, k, 'fixed-prefix6 is only used in DHCPv6 mode.', false, false);
        return false;
      case 'pool6':
        this.next();
        if (scope.type === 'pool') this.fail('pool6 declared within pool.');
        if (scope.type !== 'subnet') this.fail('pool6 declared outside of network');
        this.parsePool6(out, scope, L);
        return declaration;
      case 'not': {
        this.next();
        const a = this.next();
        if (!kw(a, 'authoritative')) this.fail('expecting assertion');
        if (scope.type === 'host') this.fail('authority makes no sense here.');
        this.parseSemi();
        out.push({ kind: 'authoritative', loc: L, value: false });
        return false;
      }
      case 'authoritative':
        this.next();
        if (scope.type === 'host') this.fail('authority makes no sense here.');
        this.parseSemi();
        out.push({ kind: 'authoritative', loc: L, value: true });
        return false;
      case 'server-identifier': {
        this.next();
        this.peek();
        const nameEnd = this.here();
        this.parseOptionValue((value) =>
          out.push({ kind: 'option', loc: L, mode: 'option', space: undefined, name: 'dhcp-server-identifier', nameEnd, value, executable: false }),
        );
        return declaration;
      }
      case 'option':
        return this.parseOptionStatementTop(out, scope, L, declaration);
      case 'failover':
        if (scope.type !== 'root' && scope.type !== 'shared') this.fail('failover peers may only be defined in shared-network');
        this.next();
        this.parseFailoverPeer(out, scope, L);
        return false;
      case 'server-duid':
        this.next();
        out.push(this.parseServerDuid(L));
        return false;
      case 'lease-id-format': {
        this.next();
        const v = this.next();
        if (!kw(v, 'octal') && !kw(v, 'hex')) this.fail(`lease-id-format is invalid:  it must be octal or hex.`);
        this.parseSemi();
        out.push({ kind: 'lease-id-format', loc: L, value: v.keyword as 'octal' | 'hex' });
        return false;
      }
      default:
        break;
    }
    if (isP(t, '%')) {
      this.skipToSemi();
      return false;
    }
    const r = this.parseExecutableStatement(out, 'any');
    if (r === 'none') this.fail(declaration ? 'expecting a declaration' : 'expecting a parameter or declaration');
    return declaration;
  }

  private skipToSemi(): void {
    // ISC skip_to_semi (used only for the `%` migration-assistant lines, which are not errors).
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (isP(t, '}')) {
        if (depth === 0) return;
        depth--;
        this.next();
        if (depth === 0) return;
        continue;
      }
      this.next();
      if (isP(t, '{')) depth++;
      else if (isP(t, ';') && depth === 0) return;
    }
  }

  /** Records a DHCPv6-only construct (ISC -4 rejects it; the compiler reports `message`). */
  private v6(out: Statement[], L: Loc, keyword: string, message: string, block: boolean, rejectedInV4 = true): boolean {
    const at = this.here();
    const tokens: Tok[] = [];
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') this.fail('unexpected end of file');
      this.next();
      tokens.push(t);
      if (isP(t, '{')) depth++;
      else if (isP(t, '}')) {
        depth--;
        if (depth <= 0 && block) break;
      } else if (isP(t, ';') && depth === 0 && !block) break;
    }
    out.push({ kind: 'v6', loc: L, keyword, message, at, tokens, rejectedInV4 });
    return true;
  }

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
    const sub = new ConfParser(toBytes(text), p, this.st);
    try {
      sub.parseFile(out, scope);
      this.st.deepest = this.ts;
    } catch (e) {
      // ISC reports the error inside the included file, then "X: bad parse." at the include statement.
      if (!(e instanceof ParseAbort) || e.error.plain) throw e;
      this.st.pre.push(e.error);
      this.fail(`${p}: bad parse.`);
    }
    this.st.includeStack.pop();
  }

  // ---- declarations ------------------------------------------------------------------------

  /** ISC parse_host_name(): identifiers/numbers joined by dots; null when none. */
  private parseHostName(): string | null {
    const parts: string[] = [];
    let t: Tok;
    let trailingDot = false;
    do {
      t = this.peek();
      if (!isIdent(t) && t.kind !== 'number') break;
      this.next();
      parts.push(t.text);
      trailingDot = false;
      t = this.peek();
      if (isP(t, '.')) {
        this.next();
        trailingDot = true;
      }
    } while (isP(t, '.'));
    if (parts.length === 0) return null;
    return parts.join('.') + (trailingDot ? '.' : '');
  }

  private parseHost(out: Statement[], scope: Scope, L: Loc): void {
    const name = this.parseHostName();
    if (name === null) this.fail('expecting a name for host declaration.');
    this.parseLbrace();
    const body: Statement[] = [];
    const node = { kind: 'host' as const, loc: L, name, body, end: undefined as unknown as IscPos };
    out.push(node);
    this.st.open.push(node);
    const hs: Scope = {
      type: 'host',
      inShared: scope.inShared,
      inSubnet: scope.inSubnet,
      host: { hasHardware: false, hasFixed: false, hasUid: false, hasHostId: false },
    };
    let declaration = false;
    for (;;) {
      const t = this.peek();
      const tl = this.loc(t);
      if (isP(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') {
        this.next();
        this.fail('unexpected end of file');
      }
      if (kw(t, 'dynamic') || kw(t, 'deleted')) {
        this.next();
        this.parseSemi();
        body.push({ kind: 'flag', loc: tl, flag: t.keyword as 'dynamic' | 'deleted' });
        continue;
      }
      if (kw(t, 'group')) {
        this.next();
        const g = this.next();
        if (g.kind !== 'string' && !isIdent(g)) this.fail('expecting string or identifier.');
        const nameLoc = this.here();
        body.push({ kind: 'group-ref', loc: tl, name: g.text, nameLoc });
        this.parseSemi();
        continue;
      }
      if (kw(t, 'uid')) {
        this.next();
        if (hs.host!.hasUid) this.fail(`Host '${name}' already has a uid`);
        let value: StringOrHex;
        const v = this.peek();
        if (v.kind === 'string') {
          this.next();
          value = { kind: 'string', loc: this.loc(v), value: v.text };
        } else {
          const bytes = this.parseNumericAggregate(0, ':', 16, 8, 'expecting hex list.');
          value = { kind: 'hex', loc: this.loc(v), bytes };
        }
        hs.host!.hasUid = true;
        body.push({ kind: 'uid', loc: tl, value });
        this.parseSemi();
        continue;
      }
      if (kw(t, 'host-identifier')) {
        if (hs.host!.hasHostId) this.fail('only one host-identifier allowed per host');
        this.next();
        const o = this.next();
        if (kw(o, 'v6relopt')) {
          const n = this.next();
          if (n.kind !== 'number') this.fail('host-identifier v6relopt must have a number');
        } else if (!kw(o, 'option')) this.fail('host-identifier must be an option or v6relopt');
        const on = this.parseOptionName();
        const value = this.rawValue();
        hs.host!.hasHostId = true;
        if (kw(o, 'v6relopt')) {
          body.push({ kind: 'v6', loc: tl, keyword: 'host-identifier v6relopt', message: 'host-identifier v6relopt is only used in DHCPv6 mode.', at: on.end, tokens: value.tokens, rejectedInV4: false });
        } else {
          body.push({ kind: 'host-identifier', loc: tl, space: on.space, option: on.name, value });
        }
        this.parseSemi();
        continue;
      }
      declaration = this.parseStatement(body, hs, declaration);
    }
    node.end = this.here();
    this.st.open.pop();
  }

  private parseGroup(out: Statement[], scope: Scope, L: Loc): void {
    let name: string | undefined;
    const t = this.peek();
    if (t.kind === 'string' || isIdent(t)) {
      this.next();
      name = t.text;
    }
    this.parseLbrace();
    const body: Statement[] = [];
    const node: Statement = { kind: 'group', loc: L, name, body };
    out.push(node);
    this.st.open.push(node);
    const gs: Scope = { type: 'group', inShared: scope.inShared, inSubnet: scope.inSubnet, net: scope.net, share: scope.share };
    let declaration = false;
    for (;;) {
      const n = this.peek();
      if (isP(n, '}')) {
        this.next();
        break;
      }
      if (n.kind === 'eof') {
        this.next();
        this.fail('unexpected end of file');
      }
      const tl = this.loc(n);
      if (kw(n, 'dynamic') || kw(n, 'static') || kw(n, 'deleted')) {
        this.next();
        this.parseSemi();
        body.push({ kind: 'flag', loc: tl, flag: n.keyword as 'dynamic' | 'static' | 'deleted' });
        // ISC 4.4.3 then goes on to parse a statement without re-checking for `}`: `group { static; }` fails.
      }
      declaration = this.parseStatement(body, gs, declaration);
    }
    this.st.open.pop();
  }

  private parseSharedNetwork(out: Statement[], _scope: Scope, L: Loc): void {
    let name: string;
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      if (t.text.length === 0) this.fail('zero-length shared network name');
      name = t.text;
    } else {
      const n = this.parseHostName();
      if (n === null) this.fail('expecting a name for shared-network');
      name = n;
    }
    this.parseLbrace();
    const body: Statement[] = [];
    const node = { kind: 'shared-network' as const, loc: L, name, body, end: undefined as unknown as IscPos };
    out.push(node);
    this.st.open.push(node);
    const ss: Scope = { type: 'shared', inShared: true, inSubnet: false, net: {}, share: { subnets: 0 } };
    let declaration = false;
    for (;;) {
      const n = this.peek();
      if (isP(n, '}')) {
        this.next();
        node.end = this.here();
        if (ss.share!.subnets === 0) this.fail('empty shared-network decl');
        break;
      }
      if (n.kind === 'eof') {
        this.next();
        this.fail('unexpected end of file');
      }
      if (kw(n, 'interface')) {
        this.parseInterface(body, ss);
        continue;
      }
      declaration = this.parseStatement(body, ss, declaration);
    }
    this.st.open.pop();
  }

  /** ISC parse_server_duid_conf(): accepted in a v4 config too (only used by DHCPv6). */
  private parseServerDuid(L: Loc): Statement {
    const t = this.next();
    const hwType = (): string => {
      const h = this.next();
      if (!kw(h, 'ethernet') && !kw(h, 'token-ring') && !kw(h, 'fddi')) this.fail('hardware type expected');
      return h.keyword!;
    };
    let node: Statement;
    if (kw(t, 'en')) {
      const n = this.next();
      if (n.kind !== 'number') this.fail('enterprise number expected');
      const id = this.next();
      if (id.kind !== 'string') this.fail('identifier expected');
      node = { kind: 'server-duid', loc: L, form: 'en', enterprise: parseInt(n.text, 10), identifier: id.text };
    } else if (kw(t, 'll') || kw(t, 'llt')) {
      const form = t.keyword as 'll' | 'llt';
      if (isP(this.peek(), ';')) node = { kind: 'server-duid', loc: L, form };
      else {
        const hw = hwType();
        let time: number | undefined;
        if (form === 'llt') {
          const n = this.next();
          if (n.kind !== 'number') this.fail('timestamp expected');
          time = parseInt(n.text, 10);
        }
        const bytes = this.parseCshl();
        node = { kind: 'server-duid', loc: L, form, hwType: hw, time, address: bytes };
      }
    } else if (t.kind === 'number') {
      const id = this.next();
      if (id.kind !== 'string') this.fail('identifier expected');
      node = { kind: 'server-duid', loc: L, form: 'number', duidType: parseInt(t.text, 10), identifier: id.text };
    } else this.fail('DUID type of LLT, EN, or LL expected');
    if (!isP(this.next(), ';')) this.fail('semicolon expected');
    return node;
  }

  private parseInterface(body: Statement[], scope: Scope): void {
    const t = this.next();
    const n = this.next();
    if (scope.net) {
      if (scope.net.iface !== undefined && scope.net.iface !== n.text) {
        this.fail("A subnet or shared network can't be connected to two interfaces.");
      }
      scope.net.iface = n.text;
    }
    body.push({ kind: 'interface', loc: this.loc(t), name: n.text });
    this.parseSemi();
  }

  /** ISC parse_numeric_aggregate(); `max` 0 = any count. Returns the numbers. */
  private parseNumericAggregate(max: number, sep: string, base: number, size: number, failMsg?: string): number[] {
    // Collected in a reused scratch array and copied out at exact size (the tree keeps many of these).
    const out = this.scratchNums;
    out.length = 0;
    let count = 0;
    do {
      if (count) {
        const t = this.peek();
        if (!isP(t, sep)) {
          if (!max) break;
          if (!isP(t, '}') && !isP(t, '{')) this.next();
          this.fail('too few numbers.');
        }
        this.next();
      }
      const t = this.next();
      if (t.kind === 'eof') this.fail('unexpected end of file');
      if (t.kind !== 'number' && !(base === 16 && t.kind === 'numberOrName')) {
        // ISC prints its own message; the callers' messages ("expecting hex list.") follow it.
        void failMsg;
        this.fail('expecting numeric value.');
      }
      out.push(convertNum(this.ts, t.text, base, size));
    } while (++count !== max);
    return out.slice();
  }

  private parseIpv4(): Ipv4Literal {
    const first = this.peek();
    const nums = this.parseNumericAggregate(4, '.', 10, 8) as [number, number, number, number];
    return new Ipv4Lit(this.loc(first), nums);
  }

  private parseSubnet(out: Statement[], scope: Scope, L: Loc): void {
    const network = this.parseIpv4();
    const t = this.next();
    if (!kw(t, 'netmask')) this.fail('Expecting netmask');
    const netmask = this.parseIpv4();
    const maskEnd = this.here();
    const net = network.octets;
    const mask = netmask.octets;
    if (net.some((o, i) => (o & ~mask[i]!) !== 0)) {
      this.fail(`subnet ${network.text} netmask ${netmask.text}: bad subnet number/mask combination.`);
    }
    this.parseLbrace();
    const body: Statement[] = [];
    const node = { kind: 'subnet' as const, loc: L, network, netmask, body, maskEnd };
    out.push(node);
    this.st.open.push(node);
    if (scope.share) scope.share.subnets++;
    // A subnet outside a shared-network is its own (implicit) network for interface binding.
    const net2 = scope.inShared && scope.net ? scope.net : {};
    const ss: Scope = { type: 'subnet', inShared: true, inSubnet: true, net: net2 };
    let declaration = false;
    for (;;) {
      const n = this.peek();
      if (isP(n, '}')) {
        this.next();
        break;
      }
      if (n.kind === 'eof') {
        this.next();
        this.fail('unexpected end of file');
      }
      if (kw(n, 'interface')) {
        this.parseInterface(body, ss);
        continue;
      }
      declaration = this.parseStatement(body, ss, declaration);
    }
    this.st.open.pop();
  }

  private parseRange(L: Loc): Statement {
    let dynamicBootp = false;
    if (kw(this.peek(), 'dynamic-bootp')) {
      this.next();
      dynamicBootp = true;
    }
    const low = this.parseIpv4();
    let high: Ipv4Literal | undefined;
    if (!isP(this.peek(), ';')) high = this.parseIpv4();
    const t = this.next();
    if (!isP(t, ';')) this.fail('semicolon expected.');
    return { kind: 'range', loc: L, dynamicBootp, low, high, end: this.here() };
  }

  private parsePool(out: Statement[], scope: Scope, L: Loc): void {
    this.parseLbrace();
    const body: Statement[] = [];
    const node = { kind: 'pool' as const, loc: L, body, end: undefined as unknown as IscPos };
    out.push(node);
    this.st.open.push(node);
    const ps: Scope = { type: 'pool', inShared: scope.inShared, inSubnet: scope.inSubnet, net: scope.net, share: scope.share };
    let declaration = false;
    let ranges = 0;
    let after = false;
    for (;;) {
      const t = this.peek();
      const tl = this.loc(t);
      if (kw(t, 'no')) {
        this.next();
        const f = this.next();
        if (!kw(f, 'failover') || !kw(this.next(), 'peer')) this.fail('expecting "failover peer".');
        // ISC 4.4.3 does not consume the `;` here: the next statement then starts with `;` and fails.
        body.push({ kind: 'failover-ref', loc: tl, peer: null, peerLoc: this.here() });
        continue;
      }
      if (kw(t, 'failover')) {
        this.next();
        if (!kw(this.next(), 'peer')) this.fail("expecting 'peer'.");
        const n = this.next();
        if (n.kind !== 'string') this.fail('expecting string.');
        if (!this.st.peers.has(n.text)) this.fail(`failover peer ${n.text}: not found`);
        body.push({ kind: 'failover-ref', loc: tl, peer: n.text, peerLoc: this.here() });
        this.parseSemi();
        continue;
      }
      if (kw(t, 'range')) {
        this.next();
        body.push(this.parseRange(tl));
        ranges++;
        continue;
      }
      if (kw(t, 'allow') || kw(t, 'deny')) {
        this.next();
        const p = this.getPermit(t.keyword === 'allow', tl, after);
        if (p.permit.type === 'after') after = true;
        body.push(p);
        continue;
      }
      if (isP(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') this.fail('unexpected end of file');
      declaration = this.parseStatement(body, ps, declaration);
    }
    node.end = this.here();
    if (ranges === 0) this.fail('Pool declaration with no address range.');
    this.st.open.pop();
  }

  /**
   * ISC parse_pool6_statement() as run by `dhcpd -4`: the body parses like a pool; its range6/prefix6
   * statements are v6 nodes the compiler rejects; a pool6 without them fails at its closing brace.
   */
  private parsePool6(out: Statement[], scope: Scope, L: Loc): void {
    const at = this.here();
    this.parseLbrace();
    const body: Statement[] = [];
    const ps: Scope = { type: 'pool', inShared: scope.inShared, inSubnet: scope.inSubnet, net: scope.net, share: scope.share };
    let declaration = false;
    let ranges = 0;
    for (;;) {
      const t = this.peek();
      const tl = this.loc(t);
      if (kw(t, 'range6') || kw(t, 'prefix6')) {
        this.next();
        this.v6(body, tl, t.keyword!, `${t.keyword} statement is only supported in DHCPv6 mode.`, false);
        ranges++;
        continue;
      }
      if (kw(t, 'allow') || kw(t, 'deny')) {
        this.next();
        body.push(this.getPermit(t.keyword === 'allow', tl, false));
        continue;
      }
      if (isP(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') this.fail('unexpected end of file');
      declaration = this.parseStatement(body, ps, declaration);
    }
    if (ranges === 0) this.fail('Pool6 declaration with no address range6 or prefix6.');
    out.push({ kind: 'v6', loc: L, keyword: 'pool6', message: 'pool6 is only supported in DHCPv6 mode.', at, tokens: [], rejectedInV4: true, body });
  }

  private getPermit(allow: boolean, L: Loc, haveAfter: boolean): PermitStatement {
    const t = this.next();
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
        if (!kw(this.next(), 'bootp')) this.fail('expecting "bootp"');
        permit = { type: 'dynamic-bootp-clients' };
        break;
      case 'members': {
        needClients = false;
        if (!kw(this.next(), 'of')) this.fail('expecting "of"');
        const c = this.next();
        if (c.kind !== 'string') this.fail('expecting class name.');
        if (!this.st.classes.has(c.text)) this.fail(`no such class: ${c.text}`);
        permit = { type: 'members-of', className: c.text, classLoc: this.here() };
        break;
      }
      case 'after':
        needClients = false;
        if (haveAfter) this.fail('duplicate "after" clause.');
        permit = { type: 'after', date: this.parseDate() };
        break;
      default:
        this.fail('expecting permit type.');
    }
    if (needClients && !kw(this.next(), 'clients')) this.fail('expecting "clients"');
    this.parseSemi();
    return { kind: 'permit', loc: L, mode: allow ? 'allow' : 'deny', permit };
  }

  /** ISC parse_date_core() (dates in dhcpd.conf `after` permits and the lease file). */
  parseDate(): DateValue {
    const first = this.peek();
    const L = this.loc(first);
    if (kw(first, 'never')) {
      this.next();
      return { kind: 'never', loc: L };
    }
    const num = (msg: string): number => {
      const t = this.peek();
      if (t.kind !== 'number') {
        if (!isP(t, ';')) this.next();
        this.fail(msg);
      }
      this.next();
      return parseInt(t.text, 10);
    };
    const sep = (c: string, msg: string): void => {
      const t = this.peek();
      if (!isP(t, c)) {
        if (!isP(t, ';')) this.next();
        this.fail(msg);
      }
      this.next();
    };
    if (kw(first, 'epoch')) {
      this.next();
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
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      tzOffset = parseInt(t.text, 10);
    } else if (!isP(t, ';')) {
      this.next();
      this.fail('Time zone offset or semicolon expected.');
    }
    return { kind: 'date', loc: L, weekday, year, month, day, hour, minute, second, tzOffset };
  }

  private parseClass(out: Statement[], scope: Scope, L: Loc, type: string): void {
    const n = this.next();
    if (n.kind !== 'string') this.fail('Expecting class name');
    const nameLoc = this.here();
    const exists = this.st.classes.has(n.text);
    if (!exists && type !== 'class') this.fail(`no class named ${n.text}`);
    const body: Statement[] = [];
    let data: StringOrHex | undefined;
    if (type === 'subclass') {
      const d = this.peek();
      if (d.kind === 'string') {
        this.next();
        data = { kind: 'string', loc: this.loc(d), value: d.text };
      } else if (d.kind === 'numberOrName' || d.kind === 'number') {
        data = { kind: 'hex', loc: this.loc(d), bytes: this.parseCshl() };
      } else this.fail('Expecting string or hex list.');
      // A subclass may end with `;` (no body).
      if (isP(this.peek(), ';')) {
        this.next();
        out.push({ kind: 'subclass', loc: L, parent: n.text, parentLoc: nameLoc, data });
        return;
      }
    } else if (type === 'class') {
      this.st.classes.add(n.text);
    }
    this.parseLbrace();
    let node: Statement;
    if (type === 'subclass') node = { kind: 'subclass', loc: L, parent: n.text, parentLoc: nameLoc, data: data!, body };
    else node = { kind: 'class', loc: L, classType: type as 'class' | 'vendor-class' | 'user-class', name: n.text, nameLoc, body };
    out.push(node);
    this.st.open.push(node);
    const sub = type !== 'class';
    const cs: Scope = { type: 'class', inShared: scope.inShared, inSubnet: scope.inSubnet };
    let declaration = false;
    let matchedOnce = false;
    let submatchedOnce = false;
    for (;;) {
      const t = this.peek();
      const tl = this.loc(t);
      if (isP(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') {
        this.next();
        this.fail('unexpected end of file');
      }
      if (kw(t, 'dynamic') || kw(t, 'deleted')) {
        this.next();
        this.parseSemi();
        body.push({ kind: 'flag', loc: tl, flag: t.keyword as 'dynamic' | 'deleted' });
        continue;
      }
      if (kw(t, 'match')) {
        if (sub) this.fail('invalid match in subclass.');
        this.next();
        if (kw(this.peek(), 'if')) {
          this.next();
          if (matchedOnce) this.fail("A class may only have one 'match if' clause.");
          matchedOnce = true;
          const e = this.parseBooleanExpression('expecting boolean expr.');
          this.parseSemi();
          body.push({ kind: 'match-if', loc: tl, expr: e });
          continue;
        }
        if (submatchedOnce) this.fail("can't override existing submatch/spawn.");
        submatchedOnce = true;
        const e = this.parseDataExpression('expecting data expr.');
        this.parseSemi();
        body.push({ kind: 'match', loc: tl, expr: e });
        continue;
      }
      if (kw(t, 'spawn')) {
        this.next();
        if (sub) this.fail('invalid spawn in subclass.');
        if (!kw(this.next(), 'with')) this.fail('expecting with after spawn');
        if (submatchedOnce) this.fail("can't override existing submatch/spawn.");
        submatchedOnce = true;
        const e = this.parseDataExpression('expecting data expr.');
        this.parseSemi();
        body.push({ kind: 'spawn', loc: tl, expr: e });
        continue;
      }
      if (kw(t, 'lease')) {
        this.next();
        if (!kw(this.next(), 'limit')) this.fail('expecting "limit"');
        const num = this.next();
        if (num.kind !== 'number') this.fail('expecting a number');
        this.parseSemi();
        body.push({ kind: 'lease-limit', loc: tl, limit: parseInt(num.text, 10) });
        continue;
      }
      declaration = this.parseStatement(body, cs, declaration);
    }
    this.st.open.pop();
  }

  /** ISC parse_cshl(): colon-separated hex bytes. */
  private parseCshl(): number[] {
    const out: number[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind !== 'number' && t.kind !== 'numberOrName') this.fail('expecting hexadecimal number.');
      out.push(convertNum(this.ts, t.text, 16, 8));
      if (!isP(this.peek(), ':')) break;
      this.next();
    }
    return out;
  }

  private parseHardware(L: Loc): Statement {
    const t = this.next();
    let htype: number;
    let hwType: string;
    switch (t.keyword) {
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
      default:
        if (t.text.startsWith('unknown-')) htype = parseInt(t.text.slice(8), 10) || 0;
        else this.fail('expecting a network hardware type');
    }
    hwType = t.text.toLowerCase();
    let address: number[] = [];
    if (!isP(this.peek(), ';')) {
      address = this.parseNumericAggregate(0, ':', 16, 8);
      if (address.length + 1 > 21) this.fail('hardware address too long');
    }
    const s = this.next();
    if (!isP(s, ';')) this.fail('expecting semicolon.');
    return { kind: 'hardware', loc: L, hwType, htype, address };
  }

  /** ISC parse_ip_addr_or_hostname(). */
  private parseIpAddrOrHostname(): AddressOrName {
    const t = this.peek();
    const L = this.loc(t);
    if (t.kind === 'number') {
      const t1 = this.ts.lookahead(1);
      const t2 = this.ts.lookahead(2);
      if (isP(t1, '.') && t2.kind === 'number') {
        const ip = this.parseIpv4();
        return { kind: 'ip', loc: ip.loc, ip };
      }
    }
    if (isIdent(t) || t.kind === 'number') {
      const name = this.parseHostName();
      return { kind: 'name', loc: L, name: name! };
    }
    let v = t;
    if (!isP(t, '}') && !isP(t, '{')) v = this.next();
    this.fail(`${v.text} (${iscTokenNumber(v)}): expecting IP address or hostname`);
  }

  private parseFailoverPeer(out: Statement[], scope: Scope, L: Loc): void {
    if (!kw(this.next(), 'peer')) this.fail('expecting "peer"');
    const nt = this.next();
    if (!isIdent(nt) && nt.kind !== 'string') this.fail('expecting failover peer name.');
    const name = nt.text;
    const nameLoc = this.here();
    const known = this.st.peers.has(name);
    const t = this.next();
    if (isP(t, ';')) {
      if (scope.type !== 'shared') this.fail('failover peer reference not in shared-network declaration');
      if (!known) this.fail(`reference to unknown failover peer ${name}`);
      out.push({ kind: 'failover-ref', loc: L, peer: name, peerLoc: nameLoc });
      return;
    }
    if (kw(t, 'state')) {
      if (!known) this.fail(`state declaration for unknown failover peer ${name}`);
      out.push(this.parseFailoverState(L, name, nameLoc));
      return;
    }
    if (!isP(t, '{')) this.fail('expecting left brace');
    if (known) this.fail(`redeclaration of failover peer ${name}`);
    const params: FailoverParam[] = [];
    let role: 'primary' | 'secondary' | undefined;
    let hasHba = false;
    let hasMclt = false;
    let hasPeerAddress = false;
    for (;;) {
      let peerPrefix = false;
      let tok = this.next();
      const tl = this.loc(tok);
      while (kw(tok, 'peer')) {
        peerPrefix = true;
        tok = this.next();
      }
      const numberParam = (msg: string): number => {
        const n = this.next();
        if (n.kind !== 'number') this.fail(msg);
        return parseInt(n.text, 10);
      };
      if (isP(tok, '}')) break;
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
          const a = this.parseIpAddrOrHostname();
          if (peerPrefix) hasPeerAddress = true;
          params.push({ kind: 'address', loc: tl, peer: peerPrefix, address: a });
          break;
        }
        case 'port':
          params.push({ kind: 'port', loc: tl, peer: peerPrefix, port: numberParam('expecting number') });
          break;
        case 'max-lease-misbalance':
        case 'max-lease-ownership':
        case 'max-balance':
        case 'min-balance':
        case 'auto-partner-down':
        case 'mclt':
          if (tok.keyword === 'mclt') hasMclt = true;
          params.push({ kind: tok.keyword, loc: tl, value: numberParam('expecting number.') } as FailoverParam);
          break;
        case 'max-response-delay':
        case 'max-unacked-updates':
          params.push({ kind: tok.keyword, loc: tl, peer: peerPrefix, value: numberParam('expecting number.') } as FailoverParam);
          break;
        case 'hba': {
          if (role === 'secondary') this.fail('secondary may not define load balance settings.');
          const bytes = this.parseNumericAggregate(32, ':', 16, 8);
          hasHba = true;
          params.push({ kind: 'hba', loc: tl, bytes });
          break;
        }
        case 'split': {
          const n = this.next();
          if (role === 'secondary') this.fail('secondary may not define load balance settings.');
          if (n.kind !== 'number') this.fail('expecting number');
          const v = parseInt(n.text, 10);
          if (v > 256) this.fail('split must be between 0 and 256, inclusive');
          hasHba = true;
          params.push({ kind: 'split', loc: tl, value: v });
          break;
        }
        case 'load': {
          if (!kw(this.next(), 'balance')) this.fail("expecting 'balance'");
          if (!kw(this.next(), 'max')) this.fail("expecting 'max'");
          if (!kw(this.next(), 'seconds')) this.fail("expecting 'secs'");
          params.push({ kind: 'load-balance-max-seconds', loc: tl, value: numberParam('expecting number') });
          break;
        }
        default:
          this.fail('invalid statement in peer declaration');
      }
      this.parseSemi();
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
  }

  private parseFailoverState(L: Loc, name: string, nameLoc: IscPos): Statement {
    const node: { kind: 'failover-state'; loc: Loc; name: string; nameLoc: IscPos; my?: { state: string; at?: DateValue }; partner?: { state: string; at?: DateValue }; mclt?: number } = {
      kind: 'failover-state', loc: L, name, nameLoc,
    };
    if (!isP(this.next(), '{')) this.fail('expecting left brace');
    for (;;) {
      const t = this.next();
      if (isP(t, '}')) break;
      if (kw(t, 'my') || kw(t, 'partner')) {
        if (!kw(this.next(), 'state')) this.fail("expecting 'state'");
        const s = this.next();
        const states = ['unknown-state', 'partner-down', 'normal', 'communications-interrupted', 'conflict-done', 'resolution-interrupted', 'potential-conflict', 'recover', 'recover-wait', 'recover-done', 'shutdown', 'paused', 'startup'];
        if (!s.keyword || !states.includes(s.keyword)) this.fail('unknown failover state');
        let at: DateValue | undefined;
        const a = this.next();
        if (!isP(a, ';')) {
          if (!kw(a, 'at')) this.fail('expecting "at"');
          at = this.parseDate();
          this.parseSemi();
        }
        if (kw(t, 'my')) node.my = { state: s.keyword, at };
        else node.partner = { state: s.keyword, at };
      } else if (kw(t, 'mclt')) {
        if (this.st.peerRoles.get(name) === 'primary') this.fail('mclt not valid for primary');
        const n = this.next();
        if (n.kind !== 'number') this.fail('expecting a number.');
        node.mclt = parseInt(n.text, 10);
        this.parseSemi();
      } else this.fail('expecting state setting.');
    }
    return node;
  }

  // ---- options --------------------------------------------------------------------------------

  /** ISC parse_option_name(): `[SPACE.]NAME`. */
  private parseOptionName(): { space: string | undefined; name: string; end: IscPos } {
    const t = this.next();
    if (!isIdent(t)) this.fail('expecting identifier after option keyword.');
    let space: string | undefined;
    let name = t.text;
    if (isP(this.peek(), '.')) {
      this.next();
      const n = this.next();
      if (!isIdent(n)) this.fail("expecting identifier after '.'");
      space = t.text;
      name = n.text;
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

  private parseOptionStatementTop(out: Statement[], scope: Scope, L: Loc, declaration: boolean): boolean {
    this.next();
    const t = this.peek();
    if (kw(t, 'space')) {
      if (scope.type !== 'root') this.fail('option space definitions may not be scoped.');
      this.parseOptionSpaceDecl(out, L);
      return declaration;
    }
    const on = this.parseOptionName();
    const n = this.peek();
    on.end = this.here();
    if (kw(n, 'code')) {
      if (scope.type !== 'root') this.fail('option definitions may not be scoped.');
      this.next();
      this.parseOptionCodeDefinition(out, L, on.space, on.name);
      return declaration;
    }
    this.parseOptionValue((value) =>
      out.push({ kind: 'option', loc: L, mode: 'option', space: on.space, name: on.name, nameEnd: on.end, value, executable: false }),
    );
    return declaration;
  }

  private parseOptionSpaceDecl(out: Statement[], L: Loc): void {
    this.next(); // space
    const n = this.next();
    if (!isIdent(n)) this.fail('expecting identifier.');
    const node: { kind: 'option-space'; loc: Loc; name: string; codeWidth?: number; lengthWidth?: number; hashSize?: number } = {
      kind: 'option-space', loc: L, name: n.text,
    };
    for (;;) {
      const t = this.next();
      if (isP(t, ';')) break;
      if (kw(t, 'code')) {
        if (!kw(this.next(), 'width')) this.fail('expecting width token.');
        const w = this.next();
        if (w.kind !== 'number') this.fail('expecting number 1, 2, 4.');
        const v = parseInt(w.text, 10);
        if (v !== 1 && v !== 2 && v !== 4) this.fail(`invalid code width (${v}), expecting a 1, 2 or 4.`);
        node.codeWidth = v;
      } else if (kw(t, 'length')) {
        if (!kw(this.next(), 'width')) this.fail('expecting width token.');
        const w = this.next();
        if (w.kind !== 'number') this.fail('expecting number 1 or 2.');
        const v = parseInt(w.text, 10);
        if (v !== 1 && v !== 2) this.fail(`invalid length width (${v}) expecting 1 or 2.`);
        node.lengthWidth = v;
      } else if (kw(t, 'hash')) {
        if (!kw(this.next(), 'size')) this.fail('expecting size token.');
        const w = this.next();
        if (w.kind !== 'number') this.fail('expecting a 10base number');
        node.hashSize = parseInt(w.text, 10);
        if (node.hashSize < 0 || node.hashSize > 0x7fffffff) this.fail(`invalid hash length: ${node.hashSize}`);
      } else this.fail('Unexpected token.');
    }
    this.st.spaces.add(n.text.toLowerCase());
    out.push(node);
  }

  private parseOptionCodeDefinition(out: Statement[], L: Loc, space: string | undefined, name: string): void {
    const c = this.next();
    if (c.kind !== 'number') this.fail('expecting option code number.');
    const code = parseInt(c.text, 10);
    if (!isP(this.next(), '=')) this.fail('expecting "="');
    let t = this.next();
    let arrayp = 0;
    let recordp = false;
    if (kw(t, 'array')) {
      if (!kw(this.next(), 'of')) this.fail('expecting "of".');
      arrayp = 1;
      t = this.next();
    }
    if (isP(t, '{')) {
      recordp = true;
      t = this.next();
    }
    const fields: OptionTypeAst[] = [];
    let hasEncap = false;
    let noMore = false;
    let lastArrayField = false;
    for (;;) {
      if (hasEncap) this.fail('encapsulate must always be the last item.');
      let ty: OptionTypeAst;
      let fieldArray = false;
      if (kw(t, 'array')) {
        if (arrayp) this.fail('no nested arrays.');
        if (!kw(this.next(), 'of')) this.fail('expecting "of".');
        arrayp = recordp ? 2 : 1;
        t = this.next();
        if (recordp && isP(t, '{')) this.fail('only uniform array inside record.');
        continue;
      }
      const parseInt2 = (signed: boolean): OptionTypeAst => {
        const n = this.next();
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
          ty = parseInt2(true);
          break;
        case 'signed':
        case 'unsigned':
          if (!kw(this.next(), 'integer')) this.fail('expecting "integer" keyword.');
          ty = parseInt2(t.keyword === 'signed');
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
            if (kw(this.peek(), 'compressed')) {
              this.next();
              compressed = true;
            }
            ty = { kind: 'domain-list', compressed };
          } else ty = { kind: t.keyword as 'domain-name' | 'text' | 'string' };
          if (arrayp) this.fail('arrays of text strings not yet supported.');
          noMore = true;
          break;
        }
        case 'encapsulate': {
          const s = this.next();
          if (!isIdent(s)) this.fail('expecting option space identifier');
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
      lastArrayField = fieldArray;
      if (!recordp) break;
      t = this.next();
      if (isP(t, ',')) {
        if (noMore) this.fail(`${ty.kind === 'text' ? 'text' : 'string'} must be at end of record.`);
        t = this.next();
        continue;
      }
      if (!isP(t, '}')) this.fail('expecting right brace.');
      break;
    }
    void lastArrayField;
    this.parseSemi();
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
  private parseOptionValue(emit: (v: RawValue | ExprValue) => void): void {
    const t = this.peek();
    if (isP(t, '=')) {
      this.next();
      const e = this.parseDataExpression('expecting a data expression.');
      emit({ kind: 'expr', expr: e });
      this.parseSemi();
      return;
    }
    const v = this.rawValue();
    if (v.tokens.length === 0) {
      // ISC eats a `;` that directly follows a non-zerolen option name, then wants another `;`.
      v.emptyError = this.ts.simulate(() => {
        this.ts.next();
        this.ts.next();
        return this.ts.errorHere('semicolon expected.');
      });
    }
    emit(v);
    const s = this.next();
    if (!isP(s, ';')) this.fail('semicolon expected.');
    v.end = this.loc(s);
  }

  /** Tokens up to (not including) the next `;`, `{`, `}` or end of file. */
  private rawValue(): RawValue {
    const before = this.ts.last();
    const tokens = this.scratchToks;
    tokens.length = 0;
    for (;;) {
      // ISC stops reading a value where its type says; we cannot know that here, so collection stops
      // before a token that would itself be an error (an unterminated string), leaving it to parseSemi.
      const t = this.ts.peek();
      if (t.kind === 'eof' || t.unterminated || isP(t, ';') || isP(t, '{') || isP(t, '}')) break;
      this.ts.next();
      tokens.push(t);
    }
    const terminator = this.peek();
    return new RawTokens(tokens.slice(), this.file, this.loc(terminator), this.ts, before, terminator);
  }

  // ---- executable statements -----------------------------------------------------------------

  /**
   * ISC parse_executable_statement(). Returns 'ok' when a statement was parsed, 'none' when the next token
   * does not start one (ISC returns 0 without `lose`). Errors abort.
   */
  private parseExecutableStatement(out: Statement[], caseCtx: 'any' | 'data' | 'numeric'): 'ok' | 'none' {
    const t = this.peek();
    const L = this.loc(t);
    switch (t.keyword) {
      case 'db-time-format': {
        this.next();
        const v = this.next();
        if (!kw(v, 'default') && !kw(v, 'local')) this.fail("Expecting 'local' or 'default'.");
        if (!isP(this.next(), ';')) this.fail('Expecting a semicolon.');
        out.push({ kind: 'db-time-format', loc: L, value: v.keyword as 'default' | 'local' });
        return 'ok';
      }
      case 'if':
        this.next();
        out.push(this.parseIf(L));
        return 'ok';
      case 'add': {
        this.next();
        const c = this.next();
        if (c.kind !== 'string') this.fail('expecting class name.');
        if (!this.st.classes.has(c.text)) this.fail(`class ${c.text}: not found`);
        const classLoc = this.here();
        this.parseSemi();
        out.push({ kind: 'add', loc: L, className: c.text, classLoc });
        return 'ok';
      }
      case 'break':
        this.next();
        this.parseSemi();
        out.push({ kind: 'break', loc: L });
        return 'ok';
      case 'send':
      case 'supersede':
      case 'option':
      case 'prepend':
      case 'append':
        this.next();
        this.execOption(out, L, t.keyword === 'option' ? 'option' : (t.keyword as OptionMode));
        return 'ok';
      case 'default':
        this.next();
        if (isP(this.peek(), ':')) {
          this.next();
          if (caseCtx === 'any') this.fail('switch default statement in inappropriate scope.');
          out.push({ kind: 'default-case', loc: L });
          return 'ok';
        }
        this.execOption(out, L, 'default');
        return 'ok';
      case 'allow':
      case 'deny':
      case 'ignore': {
        this.next();
        const k = this.next();
        const what = k.keyword !== undefined ? ALLOW_DENY_KEYS[k.keyword] : undefined;
        if (what === undefined) this.fail('expecting allow/deny key');
        this.parseSemi();
        out.push({ kind: 'allow-deny', loc: L, mode: t.keyword as 'allow' | 'deny' | 'ignore', what });
        return 'ok';
      }
      case 'on':
        this.next();
        out.push(this.parseOn(L));
        return 'ok';
      case 'switch':
        this.next();
        out.push(this.parseSwitch(L));
        return 'ok';
      case 'case': {
        this.next();
        if (caseCtx === 'any') this.fail('case statement in inappropriate scope.');
        // ISC parses the label in the switch's context without a type check.
        const e = this.parseExpression(caseCtx, `expecting ${caseCtx} expression.`);
        if (!isP(this.next(), ':')) this.fail('colon expected.');
        out.push({ kind: 'case', loc: L, expr: e });
        return 'ok';
      }
      case 'define':
      case 'set': {
        this.next();
        const n = this.next();
        if (!isName(n) && !isNumOrName(n)) this.fail(`${n.text} can't be a variable name`);
        const x = this.next();
        if (isP(x, '(') && t.keyword === 'define') {
          const params: string[] = [];
          let a = this.next();
          if (!isP(a, ')')) {
            for (;;) {
              if (!isName(a) && !isNumOrName(a)) this.fail('expecting argument name');
              params.push(a.text);
              a = this.next();
              if (!isP(a, ',')) break;
              a = this.next();
            }
          }
          if (!isP(a, ')')) this.fail('expecting right paren.');
          if (!isP(this.next(), '{')) this.fail('expecting left brace.');
          const body: Statement[] = [];
          this.parseExecutableStatements(body, 'any');
          if (!isP(this.next(), '}')) this.fail('expecting rigt brace.');
          out.push({ kind: 'define-function', loc: L, name: n.text, params, body });
          return 'ok';
        }
        if (!isP(x, '=')) this.fail(`expecting '=' in ${t.keyword} statement.`);
        const e = this.parseExpression('any', 'expecting expression.');
        this.parseSemi();
        out.push({ kind: t.keyword as 'set' | 'define', loc: L, name: n.text, expr: e });
        return 'ok';
      }
      case 'unset': {
        this.next();
        const n = this.next();
        if (!isName(n) && !isNumOrName(n)) this.fail(`${n.text} can't be a variable name`);
        this.parseSemi();
        out.push({ kind: 'unset', loc: L, name: n.text });
        return 'ok';
      }
      case 'eval': {
        this.next();
        const e = this.parseExpression('data', 'expecting data expression.');
        this.parseSemi();
        out.push({ kind: 'eval', loc: L, expr: e });
        return 'ok';
      }
      case 'execute': {
        this.next();
        if (!isP(this.next(), '(')) this.fail('left parenthesis expected.');
        const c = this.next();
        if (c.kind !== 'string') this.fail('Expecting a quoted string.');
        const args: Expr[] = [];
        let n = this.next();
        while (isP(n, ',')) {
          args.push(this.parseDataExpression('expecting expression.'));
          n = this.next();
        }
        if (!isP(n, ')')) this.fail('right parenthesis expected.');
        this.parseSemi();
        out.push({ kind: 'execute', loc: L, command: c.text, args });
        return 'ok';
      }
      case 'return': {
        this.next();
        const e = this.parseExpression('data', 'expecting data expression.');
        this.parseSemi();
        out.push({ kind: 'return', loc: L, expr: e });
        return 'ok';
      }
      case 'log': {
        this.next();
        if (!isP(this.next(), '(')) this.fail('left parenthesis expected.');
        const p = this.peek();
        let priority: 'fatal' | 'error' | 'info' | 'debug' = 'debug';
        if (kw(p, 'fatal') || kw(p, 'error') || kw(p, 'debug') || kw(p, 'info')) {
          priority = p.keyword as typeof priority;
          this.next();
          if (!isP(this.next(), ',')) this.fail('comma expected.');
        }
        const e = this.parseDataExpressionOrNone();
        if (e === null) return 'none';
        if (!isP(this.next(), ')')) this.fail('right parenthesis expected.');
        if (!isP(this.next(), ';')) this.fail('semicolon expected.');
        out.push({ kind: 'log', loc: L, priority, expr: e });
        return 'ok';
      }
      case 'parse-vendor-option':
        this.next();
        this.parseSemi();
        out.push({ kind: 'parse-vendor-option', loc: L });
        return 'ok';
      case 'zone':
        this.next();
        this.parseZone(out, L);
        return 'ok';
      case 'key':
        this.next();
        this.parseKey(out, L);
        return 'ok';
      default:
        break;
    }
    if (isIdent(t) && SERVER_PARAMETERS.has(t.text.toLowerCase())) {
      this.next();
      this.parseOptionValue((value) => out.push({ kind: 'parameter', loc: L, name: t.text.toLowerCase(), value }));
      return 'ok';
    }
    if (isName(t) || isNumOrName(t)) {
      const e = this.parseExpression('data', 'expecting function call.');
      this.parseSemi();
      out.push({ kind: 'eval', loc: L, expr: e });
      return 'ok';
    }
    return 'none';
  }

  /** ISC parse_executable_statements(): statements until one does not start. */
  private parseExecutableStatements(out: Statement[], caseCtx: 'any' | 'data' | 'numeric'): void {
    for (;;) {
      if (this.parseExecutableStatement(out, caseCtx) === 'none') return;
    }
  }

  private execOption(out: Statement[], L: Loc, mode: OptionMode): void {
    const on = this.parseOptionName();
    this.peek();
    on.end = this.here();
    this.parseOptionValue((value) =>
      out.push({ kind: 'option', loc: L, mode, space: on.space, name: on.name, nameEnd: on.end, value, executable: true }),
    );
  }

  private parseIf(L: Loc): Statement {
    let paren = false;
    if (isP(this.peek(), '(')) {
      paren = true;
      this.next();
    }
    const cond = this.parseBooleanExpression('boolean expression expected.');
    if (paren && !isP(this.next(), ')')) this.fail('expecting right paren.');
    if (!isP(this.next(), '{')) this.fail('left brace expected.');
    const then: Statement[] = [];
    this.parseExecutableStatements(then, 'any');
    if (!isP(this.next(), '}')) this.fail('right brace expected.');
    let elseBody: Statement[] | undefined;
    const t = this.peek();
    if (kw(t, 'else')) {
      this.next();
      const n = this.peek();
      if (kw(n, 'if')) {
        this.next();
        elseBody = [this.parseIf(this.loc(n))];
      } else if (!isP(n, '{')) {
        this.fail('left brace or if expected.');
      } else {
        this.next();
        elseBody = [];
        this.parseExecutableStatements(elseBody, 'any');
        if (!isP(this.next(), '}')) this.fail('right brace expected.');
      }
    } else if (kw(t, 'elsif')) {
      this.next();
      elseBody = [this.parseIf(this.loc(t))];
    }
    return { kind: 'if', loc: L, condition: cond, then, else: elseBody };
  }

  private parseOn(L: Loc): Statement {
    const events: ('commit' | 'expiry' | 'release' | 'transmission')[] = [];
    let t = this.next();
    do {
      if (kw(t, 'expiry') || kw(t, 'commit') || kw(t, 'release') || kw(t, 'transmission')) events.push(t.keyword as 'commit');
      else this.fail('expecting a lease event type');
      t = this.next();
    } while (kw(t, 'or') && (t = this.next()) !== undefined);
    const body: Statement[] = [];
    if (isP(t, ';')) return { kind: 'on', loc: L, events, body };
    if (!isP(t, '{')) this.fail('left brace expected.');
    this.parseExecutableStatements(body, 'any');
    if (!isP(this.next(), '}')) this.fail('right brace expected.');
    return { kind: 'on', loc: L, events, body };
  }

  private parseSwitch(L: Loc): Statement {
    if (!isP(this.next(), '(')) this.fail('expecting left brace.');
    const e = this.parseExpression('data-or-numeric', 'expecting data or numeric expression.');
    if (!isP(this.next(), ')')) this.fail('right paren expected.');
    if (!isP(this.next(), '{')) this.fail('left brace expected.');
    const body: Statement[] = [];
    this.parseExecutableStatements(body, exprContext(e) === 'data' || isDataExpr(e) ? 'data' : 'numeric');
    if (!isP(this.next(), '}')) this.fail('right brace expected.');
    return { kind: 'switch', loc: L, expr: e, body };
  }

  private parseZone(out: Statement[], L: Loc): void {
    const name = this.parseHostName();
    if (name === null) this.fail('expecting hostname.');
    if (!isP(this.next(), '{')) this.fail('expecting left brace');
    const node: { kind: 'zone'; loc: Loc; name: string; primary?: AddressOrName[]; secondary?: AddressOrName[]; primary6?: string[]; secondary6?: string[]; key?: string; keyLoc?: IscPos } = {
      kind: 'zone', loc: L, name,
    };
    for (;;) {
      const t = this.peek();
      const k = t.keyword;
      if (k === 'primary' || k === 'secondary') {
        if (node[k]) this.fail(`more than one ${k}.`);
        this.next();
        const list: AddressOrName[] = [];
        let n: Tok;
        do {
          list.push(this.parseIpAddrOrHostname());
          n = this.next();
        } while (isP(n, ','));
        if (!isP(n, ';')) this.fail('expecting semicolon.');
        node[k] = list;
      } else if (k === 'primary6' || k === 'secondary6') {
        if (node[k]) this.fail(`more than one ${k}.`);
        this.next();
        const list: string[] = [];
        let n: Tok;
        do {
          list.push(this.parseIpv6Raw());
          n = this.next();
        } while (isP(n, ','));
        if (!isP(n, ';')) this.fail('expecting semicolon.');
        node[k] = list;
      } else if (k === 'key') {
        this.next();
        const n = this.peek();
        let keyName: string;
        if (n.kind === 'string') {
          this.next();
          keyName = n.text;
        } else {
          const h = this.parseHostName();
          if (h === null) this.fail('expecting key name.');
          keyName = h;
        }
        if (!this.st.keys.has(keyName) && !this.st.keys.has(keyName.replace(/\.$/, ''))) this.fail(`unknown key ${keyName}`);
        node.key = keyName;
        node.keyLoc = this.here();
        this.parseSemi();
      } else break;
    }
    if (!isP(this.next(), '}')) this.fail('expecting right brace.');
    out.push(node);
  }

  /**
   * ISC parse_ip6_addr(): glues hex words, numbers, `add`, `.` and `:` that follow each other without
   * whitespace, then validates with inet_pton ("Invalid IPv6 address.").
   */
  private parseIpv6Raw(): string {
    let s = '';
    let prevEnd = -1;
    for (;;) {
      const t = this.peek();
      if (prevEnd >= 0 && t.offset !== prevEnd) break;
      const ok =
        ((t.kind === 'name' || t.kind === 'numberOrName') && (t.keyword === undefined || t.keyword === 'add') && /^[0-9a-fA-F]+$/.test(t.text)) ||
        t.kind === 'number' ||
        isP(t, '.') ||
        isP(t, ':');
      if (!ok) break;
      this.next();
      s += t.text;
      prevEnd = t.end;
    }
    if (!isIPv6(s)) this.fail('Invalid IPv6 address.');
    return s;
  }

  private parseKey(out: Statement[], L: Loc): void {
    let name: string;
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      name = t.text;
    } else {
      const h = this.parseHostName();
      if (h === null) this.fail('expecting key name.');
      name = h;
    }
    if (!isP(this.next(), '{')) this.fail('expecting left brace');
    let algorithm: string | undefined;
    let secret: string | undefined;
    let secretLoc: IscPos | undefined;
    let tok: Tok;
    for (;;) {
      tok = this.next();
      if (kw(tok, 'algorithm')) {
        if (algorithm !== undefined) this.fail(`key ${name}: too many algorithms`);
        const a = this.parseHostName();
        if (a === null) this.fail('expecting key algorithm name.');
        algorithm = a;
        this.parseSemi();
      } else if (kw(tok, 'secret')) {
        if (secret !== undefined) this.fail(`key ${name}: too many secrets`);
        secret = this.parseBase64();
        secretLoc = this.here();
        this.parseSemi();
      } else break;
    }
    if (!isP(tok, '}')) this.fail('expecting right brace.');
    if (isP(this.peek(), ';')) this.next();
    this.st.keys.add(name);
    out.push({ kind: 'key', loc: L, name, algorithm, secret, secretLoc });
  }

  /** ISC parse_base64(): joins tokens split at `+`, `/`, `=`; validates like ISC. */
  private parseBase64(): string {
    const parts: string[] = [];
    for (;;) {
      const t = this.next();
      parts.push(t.text);
      const p = this.peek();
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

  // ---- expressions ---------------------------------------------------------------------------

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
      const t = this.peek();
      if (isP(t, '!')) {
        this.next();
        if (!isP(this.peek(), '=')) this.fail('! in boolean context without =');
        nextOp = '!=';
      } else if (isP(t, '=')) nextOp = '=';
      else if (isP(t, '~')) {
        this.next();
        const n = this.peek();
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
        this.next();
        continue;
      }
      if (binop !== undefined && nextOp !== undefined && PRECEDENCE[binop] < PRECEDENCE[nextOp]) {
        this.next();
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
      this.next();
      ctx = opContext(nextOp);
    }
  }

  /** ISC parse_non_binary(): one primary. Returns null when the token starts no expression. */
  private parseNonBinary(context: ExprContext): Expr | null {
    const t = this.peek();
    const L = this.loc(t);
    const lparen = (): void => {
      if (!isP(this.next(), '(')) this.fail('left parenthesis expected.');
    };
    const comma = (): void => {
      if (!isP(this.next(), ',')) this.fail('comma expected.');
    };
    const rparen = (): void => {
      if (!isP(this.next(), ')')) this.fail('right parenthesis expected.');
    };
    const data = (what: string): Expr => this.parseDataExpression(`expecting ${what}.`);
    const numeric = (what: string): Expr => this.parseNumericExpression(`expecting ${what}.`);
    if (t.kind === 'string') {
      this.next();
      return { op: 'string', loc: L, value: t.text };
    }
    if (isP(t, '(')) {
      this.next();
      const e = this.parseExpressionOrNone(context);
      if (e === null) this.fail('expression expected');
      if (!isP(this.next(), ')')) this.fail('right paren expected');
      return e;
    }
    if (t.kind === 'number') {
      if (t.text === '-') return null;
      if (context === 'numeric' || context === 'data-or-numeric') {
        this.next();
        return { op: 'const-int', loc: L, value: parseInt(t.text, 10) };
      }
      return { op: 'const-data', loc: L, bytes: this.parseCshl() };
    }
    if (isNumOrName(t)) return { op: 'const-data', loc: L, bytes: this.parseCshl() };
    if (isName(t)) {
      this.next();
      if (isP(this.peek(), '(')) {
        this.next();
        // ISC reads at least one argument (`f()` is "expecting expression.").
        const args: Expr[] = [];
        let n: Tok;
        do {
          const a = this.parseExpressionOrNone('any');
          if (a === null) this.fail('expecting expression.');
          args.push(a);
          n = this.next();
        } while (isP(n, ','));
        if (!isP(n, ')')) this.fail('Right parenthesis expected.');
        return { op: 'funcall', loc: L, name: t.text, args };
      }
      return { op: 'variable', loc: L, name: t.text };
    }
    const k = t.keyword;
    if (k === undefined) return null;
    if (NS_CONSTS.has(k) || CLIENT_STATES.has(k)) {
      this.next();
      return { op: 'const-int', loc: L, value: 0 };
    }
    switch (k) {
      case 'check': {
        this.next();
        const s = this.next();
        if (s.kind !== 'string') this.fail('string expected.');
        if (s.text !== 'default') this.fail('unknown collection.');
        return { op: 'check', loc: L, className: s.text };
      }
      case 'not': {
        this.next();
        const e = this.parseNonBinary('boolean');
        if (e === null) this.fail('expression expected');
        if (!isBooleanExpr(e)) this.fail('boolean expression expected');
        return { op: 'not', loc: L, operand: e };
      }
      case 'exists':
      case 'option':
      case 'config-option': {
        this.next();
        const on = this.parseOptionName();
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
        this.next();
        return { op: 'atom', loc: L, name: k as AtomName };
      case 'substring': {
        this.next();
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
        this.next();
        lparen();
        const a = data('data expression');
        comma();
        const b = numeric('numeric expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'lcase':
      case 'ucase': {
        this.next();
        lparen();
        const a = data('data expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a] };
      }
      case 'concat':
      case 'pick-first-value':
      case 'pick': {
        this.next();
        lparen();
        const args: Expr[] = [data('data expression')];
        let n = this.next();
        while (isP(n, ',')) {
          args.push(data('data expression'));
          n = this.next();
        }
        if (!isP(n, ')')) this.fail('right parenthesis expected.');
        return { op: 'fn', loc: L, fn: k === 'pick' ? 'pick-first-value' : k, args };
      }
      case 'binary-to-ascii': {
        this.next();
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
        this.next();
        lparen();
        const a = k === 'encode-int' ? numeric('numeric expression') : data('data expression');
        comma();
        const w = this.next();
        if (w.kind !== 'number') this.fail('number expected.');
        const width = parseInt(w.text, 10);
        if (width !== 8 && width !== 16 && width !== 32) this.fail(`unsupported integer size ${width}`);
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, { op: 'const-int', loc: this.loc(w), value: width }] };
      }
      case 'reverse': {
        this.next();
        lparen();
        const a = numeric('numeric expression');
        comma();
        const b = data('data expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'packet': {
        this.next();
        lparen();
        const a = numeric('numeric expression');
        comma();
        const b = numeric('numeric expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'v6relay': {
        this.next();
        lparen();
        const a = numeric('numeric expression');
        comma();
        const b = data('data expression');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [a, b] };
      }
      case 'gethostname':
        this.next();
        lparen();
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [] };
      case 'gethostbyname': {
        this.next();
        lparen();
        const s = this.next();
        if (s.kind !== 'string') this.fail('Expecting quoted literal: "foo.example.com"');
        rparen();
        return { op: 'fn', loc: L, fn: k, args: [{ op: 'string', loc: this.loc(s), value: s.text }] };
      }
      case 'defined': {
        this.next();
        lparen();
        const n = this.next();
        if (!isName(n) && !isNumOrName(n)) this.fail(`${n.text} can't be a variable name`);
        rparen();
        return { op: 'defined', loc: L, name: n.text };
      }
      case 'encapsulate': {
        this.next();
        const s = this.next();
        if (!isIdent(s)) this.fail('expecting option space identifier');
        return { op: 'fn', loc: L, fn: k, args: [{ op: 'string', loc: this.loc(s), value: s.text }] };
      }
      default:
        return null;
    }
  }

}

/** Ipv4Literal with its dotted text made on demand. */
class Ipv4Lit implements Ipv4Literal {
  constructor(
    readonly loc: Loc,
    readonly octets: [number, number, number, number],
  ) {}
  get text(): string {
    return this.octets.join('.');
  }
  toJSON(): object {
    return { loc: this.loc, octets: this.octets, text: this.text };
  }
}

/** RawValue implementation: keeps what is needed to reproduce ISC's report at any value token. */
class RawTokens implements RawValue {
  readonly kind = 'tokens' as const;
  emptyError?: ConfigError;
  constructor(
    readonly tokens: Tok[],
    readonly file: string,
    public end: Loc,
    private readonly ts: TokenStream,
    private readonly before: Tok | undefined,
    private readonly terminator: Tok,
  ) {}
  errorAt(i: number, message: string, peekAfter = true): ConfigError {
    const tokens = this.tokens;
    const at = i < tokens.length ? tokens[i]! : this.terminator;
    const prev = i === 0 ? this.before : i <= tokens.length ? tokens[i - 1] : this.terminator;
    const after = i + 1 < tokens.length ? tokens[i + 1] : i + 1 === tokens.length ? this.terminator : undefined;
    return this.ts.errorAtToken(prev, at, after, message, peekAfter);
  }
  toJSON(): object {
    return { kind: this.kind, tokens: this.tokens, file: this.file, end: this.end };
  }
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
