/**
 * The dhcpd.conf syntax tree produced by grammar/conf-parser.ts. Every node has `loc` (file, 1-based line
 * and column of its first token).
 *
 * Division of work with the config compiler (src/config):
 * - The parser rejects everything ISC rejects for purely syntactic reasons, with ISC's wording and line:
 *   block structure, statement keywords and where declarations may appear ("... not allowed here"),
 *   `;`/`{`/`}` placement, names (quoted vs unquoted as ISC demands), dotted-quad literals of subnet/netmask/
 *   range, cshl of hardware/uid/subclass data, failover/key/zone/option-space/option-definition bodies, and
 *   the whole expression language with ISC's typing rules.
 * - Left to the compiler (kept as raw tokens with positions): option and parameter VALUES that depend on
 *   the option's type (`OptionStatement.value` kind 'tokens'), whether an option name is known ("unknown
 *   option dhcp.x", "no option space named x."), numbers' range checks where they depend on types, and
 *   every semantic check (subnet/mask agreement, ranges in subnet, duplicate hosts, class/peer/key/group
 *   existence, failover sanity, empty shared-network, pool without range). Those checks need positions:
 *   each node carries the `loc` where ISC reports them.
 *
 * `include` is resolved by the parser: an `IncludeStatement` holds the included file's statements, to be
 * treated as if written in place (ISC parses them in the including scope).
 */
import type { Tok } from './tokens.js';
import type { ConfigError } from './errors.js';

/** A source position. */
export interface Loc {
  file: string;
  line: number;
  column: number;
}

/** ISC's position bookkeeping for a token, so the compiler can print the caret like ISC. */
export interface IscPos extends Loc {
  /** ISC's internal column for the caret (see ConfigError.iscChar). */
  iscChar: number;
  /** The source text ISC echoes for an error reported at this point (may be computed on first read). */
  readonly sourceLine: string;
}

/** Raw value tokens between an option/parameter name and its `;` (exclusive), for type-driven parsing. */
export interface RawValue {
  kind: 'tokens';
  tokens: Tok[];
  /** File the tokens come from (tokens carry line/column only). */
  file: string;
  /** Position of the terminating `;`. */
  end: Loc;
  /**
   * Builds the error ISC prints when its value parser stops at `tokens[i]` (an index equal to
   * `tokens.length` means the `;`): position, message and ISC's echoed source text. `peekAfter` (default
   * true) = ISC peeked the following token before complaining.
   */
  errorAt: (i: number, message: string, peekAfter?: boolean) => ConfigError;
  /**
   * Set when the value is empty (`option routers;`): ISC then eats the `;` (unless the option is zerolen)
   * and reports "semicolon expected." at the next token — this is that error, ready to report.
   */
  emptyError?: ConfigError;
}

/** `NAME = EXPR;` form. */
export interface ExprValue {
  kind: 'expr';
  expr: Expr;
}

/** An IPv4 dotted-quad literal as written (octets parsed as decimal, like ISC). */
export interface Ipv4Literal {
  readonly loc: Loc;
  readonly octets: [number, number, number, number];
  /** Dotted-quad text (may be computed on read). */
  readonly text: string;
}

/** An IPv4 literal or a DNS name (resolved later), as in fixed-address, failover address, zone primary. */
export type AddressOrName = { kind: 'ip'; loc: Loc; ip: Ipv4Literal } | { kind: 'name'; loc: Loc; name: string };

/** A quoted string (bytes as latin1) or a colon-separated hex list. */
export type StringOrHex = { kind: 'string'; loc: Loc; value: string } | { kind: 'hex'; loc: Loc; bytes: number[] };

/** The whole file (with includes resolved into IncludeStatement nodes). */
export interface ConfigFile {
  loc: Loc;
  statements: Statement[];
}

export type Statement =
  | IncludeStatement
  | SharedNetworkDecl
  | SubnetDecl
  | PoolDecl
  | RangeDecl
  | HostDecl
  | GroupDecl
  | ClassDecl
  | SubclassDecl
  | MatchIfStatement
  | MatchStatement
  | SpawnStatement
  | LeaseLimitStatement
  | HardwareStatement
  | FixedAddressStatement
  | UidStatement
  | HostIdentifierStatement
  | GroupRefStatement
  | FlagStatement
  | AuthoritativeStatement
  | AllowDenyStatement
  | PermitStatement
  | FailoverRefStatement
  | FailoverPeerDecl
  | FailoverStateDecl
  | OptionSpaceDecl
  | OptionDefinition
  | OptionStatement
  | ParameterStatement
  | KeyDecl
  | ZoneDecl
  | InterfaceStatement
  | DbTimeFormatStatement
  | LeaseIdFormatStatement
  | IfStatement
  | SwitchStatement
  | CaseStatement
  | DefaultCaseStatement
  | SetStatement
  | UnsetStatement
  | DefineFunctionStatement
  | EvalStatement
  | ReturnStatement
  | LogStatement
  | ExecuteStatement
  | OnStatement
  | AddStatement
  | BreakStatement
  | ParseVendorOptionStatement
  | ServerDuidStatement
  | V6Statement;

export interface IncludeStatement {
  kind: 'include';
  loc: Loc;
  /** Path as written. */
  path: string;
  /** Statements of the included file (already parsed in the including scope). */
  statements: Statement[];
}

export interface SharedNetworkDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'shared-network';
  loc: Loc;
  name: string;
  body: Statement[];
  /** Position of the closing brace (ISC reports "empty shared-network decl" there). */
  end: IscPos;
}

export interface SubnetDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'subnet';
  loc: Loc;
  network: Ipv4Literal;
  netmask: Ipv4Literal;
  body: Statement[];
  /** Where ISC reports "bad subnet number/mask combination" (the netmask's last token). */
  maskEnd: IscPos;
}

export interface PoolDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'pool';
  loc: Loc;
  body: Statement[];
  end: IscPos;
}

export interface RangeDecl {
  kind: 'range';
  loc: Loc;
  dynamicBootp: boolean;
  low: Ipv4Literal;
  /** Absent for a single-address range. */
  high?: Ipv4Literal;
  /** Position of the `;` (ISC reports range errors there). */
  end: IscPos;
}

export interface HostDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'host';
  loc: Loc;
  name: string;
  body: Statement[];
  /** Position where ISC reports "host X: already exists" (the closing brace). */
  end: IscPos;
}

export interface GroupDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'group';
  loc: Loc;
  name?: string;
  body: Statement[];
}

export interface ClassDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'class';
  loc: Loc;
  /** `class`, or the legacy `vendor-class`/`user-class`. */
  classType: 'class' | 'vendor-class' | 'user-class';
  name: string;
  /** Position of the name token (ISC reports "no class named X" there). */
  nameLoc: IscPos;
  body: Statement[];
}

export interface SubclassDecl {
  /** Set when the first error cut this block short (see ParseResult). */
  incomplete?: boolean;
  kind: 'subclass';
  loc: Loc;
  parent: string;
  parentLoc: IscPos;
  data: StringOrHex;
  /** Absent for the `subclass "X" DATA;` form. */
  body?: Statement[];
}

export interface MatchIfStatement {
  kind: 'match-if';
  loc: Loc;
  expr: Expr;
}
export interface MatchStatement {
  kind: 'match';
  loc: Loc;
  expr: Expr;
}
export interface SpawnStatement {
  kind: 'spawn';
  loc: Loc;
  expr: Expr;
}
export interface LeaseLimitStatement {
  kind: 'lease-limit';
  loc: Loc;
  limit: number;
}

export interface HardwareStatement {
  kind: 'hardware';
  loc: Loc;
  /** `ethernet`, `token-ring`, `fddi`, `infiniband`, or `unknown-N`; htype is the number. */
  hwType: string;
  htype: number;
  address: number[];
}

export interface FixedAddressStatement {
  kind: 'fixed-address';
  loc: Loc;
  addresses: AddressOrName[];
}

export interface UidStatement {
  kind: 'uid';
  loc: Loc;
  value: StringOrHex;
}

export interface HostIdentifierStatement {
  kind: 'host-identifier';
  loc: Loc;
  space: string | undefined;
  option: string;
  value: RawValue;
}

export interface GroupRefStatement {
  kind: 'group-ref';
  loc: Loc;
  name: string;
  nameLoc: IscPos;
}

export interface FlagStatement {
  kind: 'flag';
  loc: Loc;
  flag: 'dynamic' | 'deleted' | 'static';
}

export interface AuthoritativeStatement {
  kind: 'authoritative';
  loc: Loc;
  value: boolean;
}

/** Scope-level `allow|deny|ignore KEY;` (boolean server options). */
export interface AllowDenyStatement {
  kind: 'allow-deny';
  loc: Loc;
  mode: 'allow' | 'deny' | 'ignore';
  /** unknown-clients bootp booting dynamic-bootp duplicates declines client-updates leasequery */
  what: string;
}

/** Pool permit list entry. */
export interface PermitStatement {
  kind: 'permit';
  loc: Loc;
  mode: 'allow' | 'deny';
  permit:
    | { type: 'known-clients' | 'unknown-clients' | 'authenticated-clients' | 'unauthenticated-clients' | 'all-clients' | 'dynamic-bootp-clients' }
    | { type: 'members-of'; className: string; classLoc: IscPos }
    | { type: 'after'; date: DateValue };
}

/** A date as written in dhcpd.conf/leases. */
export type DateValue =
  | { kind: 'never'; loc: Loc }
  | { kind: 'epoch'; loc: Loc; seconds: number }
  | { kind: 'date'; loc: Loc; weekday: number; year: number; month: number; day: number; hour: number; minute: number; second: number; tzOffset?: number };

export interface FailoverRefStatement {
  kind: 'failover-ref';
  loc: Loc;
  /** null for `no failover peer;`. */
  peer: string | null;
  peerLoc: IscPos;
}

export type FailoverParam =
  | { kind: 'role'; loc: Loc; role: 'primary' | 'secondary' }
  | { kind: 'address'; loc: Loc; peer: boolean; address: AddressOrName }
  | { kind: 'port'; loc: Loc; peer: boolean; port: number }
  | { kind: 'max-response-delay'; loc: Loc; peer: boolean; value: number }
  | { kind: 'max-unacked-updates'; loc: Loc; peer: boolean; value: number }
  | { kind: 'mclt'; loc: Loc; value: number }
  | { kind: 'split'; loc: Loc; value: number }
  | { kind: 'hba'; loc: Loc; bytes: number[] }
  | { kind: 'load-balance-max-seconds'; loc: Loc; value: number }
  | { kind: 'auto-partner-down'; loc: Loc; value: number }
  | { kind: 'max-lease-misbalance'; loc: Loc; value: number }
  | { kind: 'max-lease-ownership'; loc: Loc; value: number }
  | { kind: 'max-balance'; loc: Loc; value: number }
  | { kind: 'min-balance'; loc: Loc; value: number }
  | { kind: 'max-transmit-idle'; loc: Loc; value: number };

export interface FailoverPeerDecl {
  kind: 'failover-peer';
  loc: Loc;
  name: string;
  params: FailoverParam[];
  /** Position of the closing brace (ISC reports peer sanity errors there). */
  end: IscPos;
}

export interface FailoverStateDecl {
  kind: 'failover-state';
  loc: Loc;
  name: string;
  nameLoc: IscPos;
  my?: { state: string; at?: DateValue };
  partner?: { state: string; at?: DateValue };
  mclt?: number;
}

export interface OptionSpaceDecl {
  kind: 'option-space';
  loc: Loc;
  name: string;
  codeWidth?: number;
  lengthWidth?: number;
  hashSize?: number;
}

/** Type of an option definition (mirrors src/options OptionTypeSpec plus structure). */
export type OptionTypeAst =
  | { kind: 'boolean' }
  | { kind: 'integer'; bits: number; signed: boolean }
  | { kind: 'ip-address' }
  | { kind: 'ip6-address' }
  | { kind: 'text' }
  | { kind: 'string' }
  | { kind: 'domain-name' }
  | { kind: 'domain-list'; compressed: boolean }
  | { kind: 'encapsulate'; space: string }
  | { kind: 'zerolen' }
  | { kind: 'array'; of: OptionTypeAst }
  | { kind: 'record'; fields: OptionTypeAst[] };

export interface OptionDefinition {
  kind: 'option-def';
  loc: Loc;
  /** Space as written (`dhcp` when absent). */
  space: string | undefined;
  name: string;
  code: number;
  type: OptionTypeAst;
  /** Position of the `;` (where ISC reports definition errors). */
  end: IscPos;
}

export type OptionMode = 'option' | 'supersede' | 'default' | 'prepend' | 'append' | 'send';

export interface OptionStatement {
  kind: 'option';
  loc: Loc;
  mode: OptionMode;
  /** Space as written, undefined when not qualified (dhcp). */
  space: string | undefined;
  name: string;
  /** Position of the option name's last token (ISC reports "unknown option" there). */
  nameEnd: IscPos;
  value: RawValue | ExprValue;
  /**
   * True when parsed as an executable statement (inside if/on/switch/function bodies, or with
   * supersede/default/prepend/append/send): ISC then reports an unknown name as
   * "no option named NAME in space SPACE" instead of "unknown option SPACE.NAME".
   */
  executable: boolean;
}

/** A server-space option written as a bare statement (`default-lease-time 600;`). */
export interface ParameterStatement {
  kind: 'parameter';
  loc: Loc;
  /** Lower-cased parameter (server option) name. */
  name: string;
  value: RawValue | ExprValue;
}

export interface KeyDecl {
  kind: 'key';
  loc: Loc;
  name: string;
  algorithm?: string;
  /** Secret as written (base64 text; bare tokens re-joined). */
  secret?: string;
  secretLoc?: IscPos;
}

export interface ZoneDecl {
  kind: 'zone';
  loc: Loc;
  name: string;
  primary?: AddressOrName[];
  secondary?: AddressOrName[];
  primary6?: string[];
  secondary6?: string[];
  key?: string;
  keyLoc?: IscPos;
}

export interface InterfaceStatement {
  kind: 'interface';
  loc: Loc;
  name: string;
}

export interface DbTimeFormatStatement {
  kind: 'db-time-format';
  loc: Loc;
  value: 'default' | 'local';
}

export interface LeaseIdFormatStatement {
  kind: 'lease-id-format';
  loc: Loc;
  value: 'octal' | 'hex';
}

export interface IfStatement {
  kind: 'if';
  loc: Loc;
  condition: Expr;
  then: Statement[];
  /** `elsif`/`else if` become a nested IfStatement as the only else statement. */
  else?: Statement[];
}

export interface SwitchStatement {
  kind: 'switch';
  loc: Loc;
  expr: Expr;
  body: Statement[];
}
export interface CaseStatement {
  kind: 'case';
  loc: Loc;
  expr: Expr;
}
export interface DefaultCaseStatement {
  kind: 'default-case';
  loc: Loc;
}

export interface SetStatement {
  kind: 'set' | 'define';
  loc: Loc;
  name: string;
  expr: Expr;
}
export interface UnsetStatement {
  kind: 'unset';
  loc: Loc;
  name: string;
}
export interface DefineFunctionStatement {
  kind: 'define-function';
  loc: Loc;
  name: string;
  params: string[];
  body: Statement[];
}
export interface EvalStatement {
  kind: 'eval';
  loc: Loc;
  expr: Expr;
}
export interface ReturnStatement {
  kind: 'return';
  loc: Loc;
  expr: Expr;
}
export interface LogStatement {
  kind: 'log';
  loc: Loc;
  priority: 'fatal' | 'error' | 'info' | 'debug';
  expr: Expr;
}
export interface ExecuteStatement {
  kind: 'execute';
  loc: Loc;
  command: string;
  args: Expr[];
}
export interface OnStatement {
  kind: 'on';
  loc: Loc;
  events: ('commit' | 'expiry' | 'release' | 'transmission')[];
  body: Statement[];
}
export interface AddStatement {
  kind: 'add';
  loc: Loc;
  className: string;
  classLoc: IscPos;
}
export interface BreakStatement {
  kind: 'break';
  loc: Loc;
}
export interface ParseVendorOptionStatement {
  kind: 'parse-vendor-option';
  loc: Loc;
}

/** `server-duid ...;` (DHCPv6 server identity; ISC -4 accepts and ignores it). */
export interface ServerDuidStatement {
  kind: 'server-duid';
  loc: Loc;
  form: 'en' | 'll' | 'llt' | 'number';
  enterprise?: number;
  identifier?: string;
  duidType?: number;
  hwType?: string;
  time?: number;
  address?: number[];
}

/** A DHCPv6-only construct. ISC -4 rejects these; `message` is ISC's -4 error, reported by the compiler. */
export interface V6Statement {
  kind: 'v6';
  loc: Loc;
  /** The keyword (subnet6, range6, prefix6, pool6, fixed-address6, fixed-prefix6, server-duid, ...). */
  keyword: string;
  message: string;
  /** Position where ISC reports it. */
  at: IscPos;
  /** Raw tokens of the construct (up to and including its `;` or closing brace). */
  tokens: Tok[];
  /**
   * True when `dhcpd -4` rejects the construct (subnet6, range6, prefix6, pool6: report `message` at `at`);
   * false when ISC -4 accepts and ignores it (fixed-address6, fixed-prefix6, host-identifier v6relopt).
   */
  rejectedInV4: boolean;
  /** For pool6: its parsed body. */
  body?: Statement[];
}

/** Expression typing as ISC's expression_context(). */
export type ExprContext = 'any' | 'boolean' | 'data' | 'numeric' | 'data-or-numeric';

/**
 * Expressions of dhcp-eval(5). Built-in zero-argument values are `atom`s; built-in functions are `fn` with
 * their name as written in the language (substring, suffix, lcase, ucase, concat, pick-first-value,
 * binary-to-ascii, encode-int, extract-int, reverse, packet, v6relay, gethostbyname, gethostname, encapsulate);
 * for encode-int/extract-int the width is the last arg as a const-int; for encapsulate the space is a string.
 */
export type Expr =
  | { op: 'const-data'; loc: Loc; bytes: number[] }
  | { op: 'string'; loc: Loc; value: string }
  | { op: 'const-int'; loc: Loc; value: number }
  | {
      op: 'option' | 'config-option' | 'exists';
      loc: Loc;
      space: string | undefined;
      name: string;
      /** Where ISC reports "no option named NAME in space SPACE" (checked by the compiler). */
      nameEnd?: IscPos;
    }
  | { op: 'variable'; loc: Loc; name: string }
  | { op: 'funcall'; loc: Loc; name: string; args: Expr[] }
  | { op: 'binary'; loc: Loc; operator: BinaryOperator; left: Expr; right: Expr }
  | { op: 'not'; loc: Loc; operand: Expr }
  | { op: 'atom'; loc: Loc; name: AtomName }
  | { op: 'fn'; loc: Loc; fn: string; args: Expr[] }
  | { op: 'check'; loc: Loc; className: string }
  | { op: 'defined'; loc: Loc; name: string };

export type BinaryOperator = '=' | '!=' | '~=' | '~~' | 'and' | 'or' | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^';

export type AtomName =
  | 'known'
  | 'static'
  | 'hardware'
  | 'leased-address'
  | 'host-decl-name'
  | 'lease-time'
  | 'client-state'
  | 'null'
  | 'filename'
  | 'server-name';
