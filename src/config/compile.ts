/**
 * Syntax tree (grammar/ast.ts) -> runtime Config (src/config/model.ts), in source order, with ISC
 * dhcpd 4.4.3's semantics and load-time checks. See builder.ts for the model-building half.
 */
import { CanonicalHost, O_NAME, O_NAME_END, OPT, R_OPT_COUNT, R_OPTS, REC } from '../../grammar/host-fast-path.js';
import type * as A from '../../grammar/ast.js';
import type {
  ClassDecl, Config, Expr, FailoverEndpoint, FailoverPeer, Host, Permit, Scope, SharedNetwork, SourceLoc, Statement, Subnet,
} from './model.js';
import { ConfigBuilder, FatalConfigError, type Diagnostic, type PoolDraft } from './builder.js';
import { formatFromTypeSpec, type OptionDefinition } from '../options/option-table.js';
import { parseOptionValue, type ValueError } from '../options/value-parser.js';
import { toValueTokens } from './tok-adapter.js';
import { tokenizeConfig, type Tok } from '../../grammar/tokens.js';
import { readFileSync } from 'node:fs';

/** What kind of declaration we are in (ISC's *_DECL type). */
type DeclType = 'root' | 'shared-network' | 'subnet' | 'pool' | 'group' | 'host' | 'class';

interface Ctx {
  type: DeclType;
  scope: Scope;
  share: SharedNetwork | null;
  subnet: Subnet | null;
  pool: PoolDraft | null;
  host: Host | null;
  cls: ClassDecl | null;
  /** For a pool: the declaration type it is written in (subnet or shared-network). */
  parentType?: DeclType;
  /** For a class body: ISC's once-per-declaration flags. */
  seen?: { matchIf: boolean; submatch: boolean };
}

/** Result of compiling a syntax tree. */
export interface CompileResult {
  config: Config | null;
  diagnostics: Diagnostic[];
}

const SERVER_BOOLEAN_FOR_ALLOW: Record<string, string> = {
  'unknown-clients': 'boot-unknown-clients',
  bootp: 'allow-bootp',
  booting: 'allow-booting',
  'dynamic-bootp': 'dynamic-bootp',
  duplicates: 'duplicates',
  declines: 'declines',
  'client-updates': 'client-updates',
  leasequery: 'leasequery',
};

/**
 * A model SourceLoc for an AST position. IscPos objects (with ISC's caret column and echoed source text)
 * are passed through unchanged so that errors reported there print exactly like ISC's.
 */
const locOf = (l: A.Loc): SourceLoc => l;
const ipOf = (ip: A.Ipv4Literal): number => {
  const o = ip.octets;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
};

/**
 * The value of `option NAME "string";` for a text (`t`) or string (`X`) option, without the general
 * value parser: parse_option_data takes a quoted string's bytes as they are for both, so this is the
 * same result as parseOptionValue's, and it is the common per-host statement (host-name). Undefined
 * for any other shape.
 */
function singleStringValue(def: OptionDefinition, tokens: readonly Tok[]): Uint8Array | undefined {
  if (!isSingleString(def)) return undefined;
  let tok: Tok | undefined;
  for (const t of tokens) {
    if (t.kind === 'eof') continue;
    if (tok || t.kind !== 'string') return undefined;
    tok = t;
  }
  if (!tok) return undefined;
  return latin1Bytes(tok.text);
}

/** A single text (`t`) or string (`X`) field, not an array: a quoted string's bytes are the value. */
function isSingleString(def: OptionDefinition): boolean {
  const f = def.format;
  if (f.fields.length !== 1 || f.array !== 'none') return false;
  const kind = f.fields[0].kind;
  return kind === 'text' || kind === 'string';
}

function latin1Bytes(s: string): Uint8Array {
  const data = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) data[i] = s.charCodeAt(i);
  return data;
}

export class Compiler {
  readonly b: ConfigBuilder;

  constructor(file: string) {
    this.b = new ConfigBuilder(file);
  }

  /**
   * Compile a whole file's statements; never throws. `partial`: the tree stops at a syntax error, so only
   * the checks ISC makes while reading apply (not the end-of-configuration ones).
   */
  compile(statements: A.Statement[], partial = false): CompileResult {
    const root: Ctx = { type: 'root', scope: this.b.config.global, share: null, subnet: null, pool: null, host: null, cls: null };
    try {
      this.statements(statements, root);
      if (this.b.hasErrors || partial) return { config: null, diagnostics: this.b.diagnostics };
      const config = this.b.finish();
      if (this.b.hasErrors) return { config: null, diagnostics: this.b.diagnostics };
      return { config, diagnostics: this.b.diagnostics };
    } catch (e) {
      if (e instanceof FatalConfigError) return { config: null, diagnostics: this.b.diagnostics };
      throw e;
    }
  }

  private statements(list: A.Statement[], ctx: Ctx): void {
    for (const st of list) {
      // Fast-path hosts first: 50,000 of them in a large file.
      if (st instanceof CanonicalHost && this.canonicalHost(st, ctx)) continue;
      this.statement(st, ctx);
    }
  }

  /** Statements allowed inside executable blocks become model statements; declarations are handled here. */
  private statement(st: A.Statement, ctx: Ctx): void {
    const b = this.b;
    switch (st.kind) {
      case 'include':
        this.statements(st.statements, ctx);
        return;
      case 'shared-network': {
        const share = b.beginSharedNetwork(ctx.scope, st.name, locOf(st.loc), locOf(st.loc));
        this.statements(st.body, { ...ctx, type: 'shared-network', scope: share.scope, share, subnet: null, pool: null });
        if (st.incomplete) return; // cut short by a syntax error: ISC never reached the closing checks
        b.endSharedNetwork(share, locOf(st.end));
        return;
      }
      case 'subnet': {
        const net = ipOf(st.network);
        const mask = ipOf(st.netmask);
        if ((net & ~mask) >>> 0 !== 0) {
          // ISC skips the whole declaration after this error.
          b.beginSubnet(ctx.scope, ctx.type === 'shared-network' ? ctx.share : null, net, mask, locOf(st.loc), locOf(st.maskEnd));
          return;
        }
        // ISC: only a subnet written directly in a shared-network joins it (clone_group does not copy the
        // group's shared_network), anywhere else it gets an implicit network of its own.
        const subnet = b.beginSubnet(ctx.scope, ctx.type === 'shared-network' ? ctx.share : null, net, mask, locOf(st.loc), locOf(st.maskEnd));
        this.statements(st.body, { ...ctx, type: 'subnet', scope: subnet.scope, share: subnet.sharedNetwork, subnet, pool: null });
        if (st.incomplete) return;
        b.endSubnet(subnet);
        return;
      }
      case 'pool': {
        if (!ctx.share || (ctx.type !== 'subnet' && ctx.type !== 'shared-network')) {
          b.error(locOf(st.loc), 'pool declared outside of network');
          return;
        }
        const draft = b.beginPool(ctx.share, ctx.scope, locOf(st.loc));
        this.statements(st.body, { ...ctx, type: 'pool', scope: draft.pool.scope, pool: draft, parentType: ctx.type });
        if (st.incomplete) return;
        b.endPool(draft, locOf(st.end));
        return;
      }
      case 'range': {
        const low = ipOf(st.low);
        const high = st.high ? ipOf(st.high) : low;
        if (ctx.type === 'pool' && ctx.pool) {
          const parentType = ctx.parentType;
          b.addRange({ subnet: parentType === 'subnet' ? ctx.subnet : null, share: ctx.pool.pool.sharedNetwork, draft: ctx.pool }, low, high, st.dynamicBootp, locOf(st.loc), locOf(st.end));
        } else if (ctx.type === 'subnet' && ctx.subnet) {
          b.addRange({ subnet: ctx.subnet, share: ctx.subnet.sharedNetwork, draft: null }, low, high, st.dynamicBootp, locOf(st.loc), locOf(st.end));
        } else {
          b.error(locOf(st.loc), 'range declaration not allowed here.');
        }
        return;
      }
      case 'host':
        // A fast-path host that statements() did not take: its node is built for this call and not kept.
        this.host(st instanceof CanonicalHost ? st.materialize() : st, ctx);
        return;
      case 'group': {
        const scope = b.newScope('group', ctx.scope, st.name ?? null, locOf(st.loc));
        this.statements(st.body, { ...ctx, type: 'group', scope });
        if (st.name !== undefined) b.registerGroup(st.name, scope);
        return;
      }
      case 'class':
        this.classDecl(st, ctx);
        return;
      case 'subclass':
        this.subclassDecl(st, ctx);
        return;
      case 'match-if':
      case 'match':
      case 'spawn':
      case 'lease-limit':
        this.classBodyStatement(st, ctx);
        return;
      case 'hardware':
      case 'fixed-address':
      case 'uid':
      case 'host-identifier':
      case 'group-ref':
      case 'flag':
        this.hostBodyStatement(st, ctx);
        return;
      case 'authoritative':
        b.setAuthoritative(ctx.scope, st.value, locOf(st.loc));
        b.addStatement(ctx.scope, this.constParam('authoritative', Uint8Array.of(st.value ? 1 : 0), st.loc));
        return;
      case 'allow-deny': {
        const param = SERVER_BOOLEAN_FOR_ALLOW[st.what];
        if (!param) {
          b.error(locOf(st.loc), 'expecting allow/deny key');
          return;
        }
        b.addStatement(ctx.scope, this.constParam(param, Uint8Array.of(st.mode === 'allow' ? 1 : st.mode === 'deny' ? 0 : 2), st.loc));
        return;
      }
      case 'permit':
        this.permit(st, ctx);
        return;
      case 'failover-ref':
        this.failoverRef(st, ctx);
        return;
      case 'failover-peer':
        this.failoverPeer(st, ctx);
        return;
      case 'failover-state': {
        const peer = b.config.failoverPeers.get(st.name);
        if (!peer) {
          b.error(locOf(st.nameLoc), `state declaration for unknown failover peer ${st.name}`);
          return;
        }
        peer.state = {
          myState: st.my?.state ?? null,
          myStateTime: st.my?.at ? dateToEpoch(st.my.at) : null,
          partnerState: st.partner?.state ?? null,
          partnerStateTime: st.partner?.at ? dateToEpoch(st.partner.at) : null,
          mclt: st.mclt ?? null,
        };
        return;
      }
      case 'option-space':
        this.optionSpace(st, ctx);
        return;
      case 'option-def':
        this.optionDef(st, ctx);
        return;
      case 'option':
      case 'parameter': {
        const s = this.optionStatement(st);
        if (s) b.addStatement(ctx.scope, s);
        return;
      }
      case 'key':
        this.key(st);
        return;
      case 'zone':
        this.zone(st);
        return;
      case 'interface':
        if (ctx.type === 'shared-network' && ctx.share) b.setInterface(ctx.share, st.name, locOf(st.loc));
        else if (ctx.type === 'subnet' && ctx.subnet) b.setInterface(ctx.subnet.sharedNetwork, st.name, locOf(st.loc));
        return;
      case 'db-time-format':
      case 'lease-id-format':
        return;
      case 'server-duid':
        b.warning(locOf(st.loc), 'server-duid: DHCPv6 is not supported by dhcpd-ts; statement ignored');
        return;
      case 'v6':
        this.v6(st);
        return;
      default: {
        const s = this.executable(st);
        if (s) b.addStatement(ctx.scope, s);
      }
    }
  }

  /**
   * DHCPv6-only constructs. ISC -4 accepts some of them and ignores them (server-duid, fixed-address6,
   * fixed-prefix6, host-identifier v6relopt — checked with dhcpd 4.4.3 -4 -t); dhcpd-ts does the same and
   * warns that they are not supported. The others fail as in ISC -4 ("... is only supported in DHCPv6
   * mode."); inside pool6, ISC's first complaint is the first range6/prefix6, else the empty pool6.
   */
  private v6(st: A.V6Statement): void {
    const b = this.b;
    const ignored = ['server-duid', 'fixed-address6', 'fixed-prefix6', 'host-identifier v6relopt'];
    if (ignored.includes(st.keyword)) {
      b.warning(locOf(st.loc), `${st.keyword}: DHCPv6 is not supported by dhcpd-ts; statement ignored`);
      return;
    }
    if (st.keyword === 'pool6') {
      const inner = st.tokens.find((t) => t.keyword === 'range6' || t.keyword === 'prefix6');
      if (inner) {
        b.error({ file: st.loc.file, line: inner.line, column: inner.column }, `${inner.keyword} statement is only supported in DHCPv6 mode.`);
      } else {
        const last = st.tokens[st.tokens.length - 1];
        b.error(last ? { file: st.loc.file, line: last.line, column: last.column } : locOf(st.at), 'Pool6 declaration with no address range6 or prefix6.');
      }
      return;
    }
    b.error(locOf(st.at), st.message);
  }

  // ------------------------------------------------------------------ executable statements

  private executable(st: A.Statement): Statement | null {
    const loc = locOf(st.loc);
    switch (st.kind) {
      case 'if': {
        const branches: { condition: Expr; body: Statement[] }[] = [];
        let otherwise: Statement[] | null = null;
        let cur: A.IfStatement | null = st;
        while (cur) {
          branches.push({ condition: this.expr(cur.condition), body: this.block(cur.then) });
          const els: A.Statement[] | undefined = cur.else;
          if (els && els.length === 1 && els[0].kind === 'if') cur = els[0];
          else {
            otherwise = els ? this.block(els) : null;
            cur = null;
          }
        }
        return { kind: 'if', loc, branches, otherwise };
      }
      case 'switch': {
        const cases: { value: Expr | null; body: Statement[] }[] = [];
        for (const s of st.body) {
          if (s.kind === 'case') cases.push({ value: this.expr(s.expr), body: [] });
          else if (s.kind === 'default-case') cases.push({ value: null, body: [] });
          else {
            const x = this.blockStatement(s);
            if (x && cases.length) cases[cases.length - 1].body.push(x);
          }
        }
        return { kind: 'switch', loc, value: this.expr(st.expr), cases };
      }
      case 'set':
      case 'define':
        return { kind: st.kind, loc, name: st.name, value: this.expr(st.expr) };
      case 'unset':
        return { kind: 'unset', loc, name: st.name };
      case 'define-function':
        return { kind: 'define-function', loc, name: st.name, params: st.params, body: this.block(st.body) };
      case 'eval':
        return { kind: 'eval', loc, expr: this.expr(st.expr) };
      case 'return':
        return { kind: 'return', loc, expr: this.expr(st.expr) };
      case 'log':
        return { kind: 'log', loc, priority: st.priority, expr: this.expr(st.expr) };
      case 'execute':
        return { kind: 'execute', loc, command: st.command, args: st.args.map((a) => this.expr(a)) };
      case 'on':
        return { kind: 'on', loc, events: st.events, body: this.block(st.body) };
      case 'add':
        if (!this.b.config.classes.has(st.className)) {
          this.b.error(locOf(st.classLoc), `class ${st.className}: not found`);
          return null;
        }
        return { kind: 'add-class', loc, className: st.className };
      case 'break':
        return { kind: 'break', loc };
      case 'parse-vendor-option':
        return { kind: 'parse-vendor-option', loc };
      case 'case':
      case 'default-case':
        return null;
      default:
        return null;
    }
  }

  /** Statements inside executable blocks (if/on/switch/function bodies). */
  private block(list: A.Statement[]): Statement[] {
    const out: Statement[] = [];
    for (const s of list) {
      const x = this.blockStatement(s);
      if (x) out.push(x);
    }
    return out;
  }

  private blockStatement(s: A.Statement): Statement | null {
    switch (s.kind) {
      case 'option':
      case 'parameter':
        return this.optionStatement(s);
      case 'allow-deny': {
        const param = SERVER_BOOLEAN_FOR_ALLOW[s.what];
        if (!param) return null;
        return this.constParam(param, Uint8Array.of(s.mode === 'allow' ? 1 : s.mode === 'deny' ? 0 : 2), s.loc);
      }
      case 'authoritative':
        return this.constParam('authoritative', Uint8Array.of(s.value ? 1 : 0), s.loc);
      case 'include':
        // include inside a block: statements in place.
        return { kind: 'if', loc: locOf(s.loc), branches: [{ condition: { op: 'const-bool', value: true }, body: this.block(s.statements) }], otherwise: null };
      case 'key':
        this.key(s);
        return null;
      case 'zone':
        this.zone(s);
        return null;
      default:
        return this.executable(s);
    }
  }

  private readonly tokenCache = new Map<string, Tok[]>();

  /** Report a value error where ISC's value parser stops, with ISC's echo when the parser can build it. */
  private valueError(raw: A.RawValue, e: ValueError): void {
    if (typeof raw.errorAt === 'function') {
      try {
        const ce = raw.errorAt(e.index, e.message);
        this.b.errorExact(ce);
        return;
      } catch {
        // fall through to the plain position
      }
    }
    this.b.error(e.loc, e.message);
  }

  /** Position of the first token after `at` in `file` (the `at` line itself at end of file). */
  private tokenAfter(file: string, at: A.Loc): SourceLoc {
    let toks = this.tokenCache.get(file);
    if (!toks) {
      try {
        toks = tokenizeConfig(readFileSync(file, 'latin1'), file).tokens;
      } catch {
        toks = [];
      }
      this.tokenCache.set(file, toks);
    }
    const t = toks.find((x) => x.kind !== 'eof' && (x.line > at.line || (x.line === at.line && x.column > at.column)));
    return t ? { file, line: t.line, column: t.column } : locOf(at);
  }

  private constParam(name: string, data: Uint8Array, l: A.Loc): Statement {
    const def = this.b.table.lookup('server', name)!;
    return { kind: 'option', loc: locOf(l), mode: 'supersede', space: 'server', name: def.name, code: def.code, value: { kind: 'const', data } };
  }

  // ------------------------------------------------------------------ options

  /** Resolve `[space.]name` as ISC parse_option_name does; reports ISC's errors. */
  private resolveOption(space: string | undefined, name: string, at: A.Loc, forStatement: boolean): OptionDefinition | null {
    const b = this.b;
    const spaceName = (space ?? 'dhcp').toLowerCase();
    const sp = b.table.space(spaceName);
    if (!sp) {
      b.error(locOf(at), `no option space named ${space}.`);
      return null;
    }
    const def = sp.byName.get(name.toLowerCase());
    if (def) return def;
    const m = /^unknown-(\d*)/i.exec(name);
    if (m) {
      const code = parseInt(m[1] || '0', 10) || 0;
      const end = sp.name === 'dhcp' ? 255 : 0;
      if (code === 0 || code === end) {
        b.error(locOf(at), `Option codes 0 and ${end} are illegal in the ${sp.name} space.`);
        return null;
      }
      return sp.byCode.get(code) ?? b.table.unknownOption(sp.name, code);
    }
    if (forStatement) b.error(locOf(at), `unknown option ${sp.name}.${name}`);
    else b.error(locOf(at), `no option named ${name} in space ${sp.name}`);
    return null;
  }

  private optionStatement(st: A.OptionStatement | A.ParameterStatement): Statement | null {
    let def: OptionDefinition | null;
    let mode: A.OptionMode;
    if (st.kind === 'option') {
      def = this.resolveOption(st.space, st.name, st.nameEnd, st.executable !== true);
      mode = st.mode;
    } else {
      def = this.b.table.lookup('server', st.name) ?? null;
      if (!def) {
        this.b.error(locOf(st.loc), `unknown option server.${st.name}`);
        return null;
      }
      mode = 'supersede';
    }
    if (!def) return null;
    const loc = locOf(st.loc);
    if (st.value.kind === 'expr') {
      return { kind: 'option', loc, mode, space: def.space, name: def.name, code: def.code, value: { kind: 'expr', expr: this.expr(st.value.expr) } };
    }
    const raw = st.value;
    const quick = singleStringValue(def, raw.tokens);
    if (quick) return { kind: 'option', loc, mode, space: def.space, name: def.name, code: def.code, value: { kind: 'const', data: quick } };
    const toks = toValueTokens(raw.tokens, raw.file);
    if (toks.length === 0 && !(def.format.fields.length === 1 && def.format.fields[0].kind === 'zerolen') && def.format.fields.length > 0) {
      // `option routers;` — ISC's parse_option_statement eats the `;` as an empty value and then wants
      // another `;`: "semicolon expected." at the token after it (common/parse.c).
      if (raw.emptyError) this.b.errorExact(raw.emptyError);
      else this.b.error(this.tokenAfter(raw.file, raw.end), 'semicolon expected.');
      return null;
    }
    const r = parseOptionValue(def, toks, locOf(raw.end));
    if (!r.ok) {
      this.valueError(raw, r.error);
      return null;
    }
    return { kind: 'option', loc, mode, space: def.space, name: def.name, code: def.code, value: r.value };
  }

  private optionSpace(st: A.OptionSpaceDecl, ctx: Ctx): void {
    if (ctx.type !== 'root') {
      this.b.error(locOf(st.loc), 'option space definitions may not be scoped.');
      return;
    }
    const cw = st.codeWidth ?? 1;
    const lw = st.lengthWidth ?? 1;
    if (cw !== 1 && cw !== 2 && cw !== 4) {
      this.b.error(locOf(st.loc), `invalid code width (${cw}), expecting a 1, 2 or 4.`);
      return;
    }
    if (lw !== 0 && lw !== 1 && lw !== 2) {
      this.b.error(locOf(st.loc), `invalid length width (${lw}) expecting 1 or 2.`);
      return;
    }
    this.b.table.defineSpace(st.name, cw, lw);
  }

  private optionDef(st: A.OptionDefinition, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type !== 'root') {
      b.error(locOf(st.loc), 'option definitions may not be scoped.');
      return;
    }
    const spaceName = (st.space ?? 'dhcp').toLowerCase();
    if (!b.table.space(spaceName)) {
      b.error(locOf(st.loc), `no option space named ${st.space}.`);
      return;
    }
    const f = formatFromTypeSpec(st.type, b.table);
    if (!f.ok) {
      b.error(locOf(st.end), f.message);
      return;
    }
    b.table.define(spaceName, st.name, st.code, f.format);
  }

  // ------------------------------------------------------------------ hosts

  private host(st: A.HostDecl, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type === 'host' || ctx.type === 'class') {
      b.error(locOf(st.loc), 'host declarations not allowed here.');
      return;
    }
    const host = b.beginHost(ctx.scope, st.name, locOf(st.loc));
    // Written out rather than `{ ...ctx, ... }`: this runs once per host (50,000 in a large file).
    const hostCtx: Ctx = { type: 'host', scope: host.scope, share: ctx.share, subnet: ctx.subnet, pool: ctx.pool, host, cls: ctx.cls };
    if (ctx.parentType !== undefined) hostCtx.parentType = ctx.parentType;
    if (ctx.seen !== undefined) hostCtx.seen = ctx.seen;
    this.statements(st.body, hostCtx);
    if (st.incomplete) return;
    b.endHost(host, locOf(st.end));
  }

  /**
   * A fast-path host (grammar/host-fast-path.ts) into the model without its syntax tree: the same Host,
   * scope and option statements {@link host} makes of its node (test/config/fast-compile compares the
   * two), built when first read (ConfigBuilder.deferCanonicalHost). False, with nothing done, when an
   * option is not a known text/string option (or the host is not at the top): the general path then
   * compiles the node (and reports what is wrong).
   */
  private canonicalHost(h: CanonicalHost, ctx: Ctx): boolean {
    // Only a top-level host can be deferred (its scope's parent is the global scope; no warning applies).
    if (ctx.type !== 'root') return false;
    const t = h.table;
    const r = h.index * REC;
    const text = t.text;
    const opts = t.opts;
    const optOff = t.rec[r + R_OPTS]!;
    const optCount = t.rec[r + R_OPT_COUNT]!;
    // Any option that is not a known single text/string option sends the host the general way.
    const defs = this.hostDefs;
    for (let k = 0; k < optCount; k++) {
      const o = optOff + k * OPT;
      const def = this.dhcpOption(text, opts[o + O_NAME]!, opts[o + O_NAME_END]!);
      if (def === undefined) return false;
      defs[k] = def;
    }
    // Built when first read (src/config/deferred-hosts.ts): `dhcpd -t` never reads them.
    this.b.deferCanonicalHost(h, ctx.scope, defs, optCount);
    return true;
  }

  /** Scratch list of a fast-path host's option definitions. */
  private readonly hostDefs: OptionDefinition[] = [];

  /** Last option name looked up by {@link dhcpOption} (lower case). */
  private lastOptionName = '';

  /**
   * The definition of the dhcp-space option named text[from, to) (any case) if it is a single text or
   * string option, else undefined. The name of the previous call is compared in place, without a string
   * (a big file names the same option in every host); the table is asked again each time, so an option
   * defined in between is seen.
   */
  private dhcpOption(text: string, from: number, to: number): OptionDefinition | undefined {
    const dhcp = this.b.table.space('dhcp');
    if (!dhcp) return undefined;
    let name = this.lastOptionName;
    let same = to - from === name.length;
    for (let k = 0; same && k < name.length; k++) {
      let c = text.charCodeAt(from + k);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== name.charCodeAt(k)) same = false;
    }
    if (!same) name = text.slice(from, to).toLowerCase();
    const def = dhcp.byName.get(name);
    if (!def || !isSingleString(def)) return undefined;
    this.lastOptionName = name;
    return def;
  }

  private hostBodyStatement(st: A.HardwareStatement | A.FixedAddressStatement | A.UidStatement | A.HostIdentifierStatement | A.GroupRefStatement | A.FlagStatement, ctx: Ctx): void {
    const b = this.b;
    const host = ctx.type === 'host' ? ctx.host : null;
    const loc = locOf(st.loc);
    switch (st.kind) {
      case 'hardware':
        if (!host) {
          b.error(loc, 'hardware address parameter not allowed here.');
          return;
        }
        if (host.hardware) {
          b.error(loc, `Host ${host.name} hardware address already configured.`);
          return;
        }
        host.hardware = { htype: st.htype, address: new Uint8Array(st.address) };
        return;
      case 'fixed-address':
        if (!host) {
          b.error(loc, 'fixed-address parameter not allowed here.');
          return;
        }
        if (host.fixedAddresses.length) {
          b.error(loc, 'Only one fixed address declaration per host.');
          return;
        }
        for (const a of st.addresses) {
          host.fixedAddresses.push(a.kind === 'ip' ? { kind: 'address', address: ipOf(a.ip) } : { kind: 'hostname', hostname: a.name });
        }
        return;
      case 'uid':
        if (!host) return;
        host.clientId = st.value.kind === 'string' ? Buffer.from(st.value.value, 'latin1') : Uint8Array.from(st.value.bytes);
        return;
      case 'host-identifier': {
        if (!host) return;
        const def = this.resolveOption(st.space, st.option, st.loc, true);
        if (!def) return;
        const r = parseOptionValue(def, toValueTokens(st.value.tokens, st.value.file), locOf(st.value.end));
        if (!r.ok) {
          this.valueError(st.value, r.error);
          return;
        }
        if (r.value.kind === 'const') host.hostIdentifier = { space: def.space, name: def.name, code: def.code, data: r.value.data };
        return;
      }
      case 'group-ref':
        if (host) b.attachNamedGroup(host, st.name, locOf(st.nameLoc));
        return;
      case 'flag':
        if (host) {
          if (st.flag === 'dynamic') host.dynamic = true;
          if (st.flag === 'deleted') host.deleted = true;
        }
        return;
    }
  }

  // ------------------------------------------------------------------ classes

  private classDecl(st: A.ClassDecl, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type === 'class') {
      b.error(locOf(st.loc), 'class declarations not allowed here.');
      return;
    }
    if (st.classType !== 'class') {
      // vendor-class/user-class "X": the named class must exist (it is the parent); 4.4.3 then fails the
      // implicit class anyway — "no class named X" is what users see.
      const parent = b.findClass(st.name);
      if (!parent) {
        b.error(locOf(st.nameLoc), `no class named ${st.name}`);
        return;
      }
    }
    let cls = b.findClass(st.name);
    if (!cls || st.classType !== 'class') {
      const scope = b.newScope('class', ctx.scope, st.name, locOf(st.loc));
      cls = {
        name: st.name, kind: 'class', parent: null, matchData: null, matchIf: null, submatch: null, spawn: false,
        leaseLimit: null, scope, loc: locOf(st.loc),
      };
      b.registerClass(cls);
    }
    this.classBody(st.body, cls, ctx);
  }

  private classBody(body: A.Statement[], cls: ClassDecl, ctx: Ctx): void {
    const seen = { matchIf: false, submatch: false };
    this.statements(body, { ...ctx, type: 'class', scope: cls.scope, cls, host: null, seen });
  }

  private classBodyStatement(st: A.MatchIfStatement | A.MatchStatement | A.SpawnStatement | A.LeaseLimitStatement, ctx: Ctx): void {
    const cls = ctx.type === 'class' ? ctx.cls : null;
    const b = this.b;
    if (!cls) {
      b.error(locOf(st.loc), 'expecting a parameter or declaration');
      return;
    }
    const seen = ctx.seen ?? { matchIf: false, submatch: false };
    switch (st.kind) {
      case 'match-if':
        if (cls.kind === 'subclass') {
          b.error(locOf(st.loc), 'invalid match in subclass.');
          return;
        }
        if (seen.matchIf) {
          b.error(locOf(st.loc), "A class may only have one 'match if' clause.");
          return;
        }
        seen.matchIf = true;
        cls.matchIf = this.expr(st.expr);
        return;
      case 'match':
      case 'spawn':
        if (cls.kind === 'subclass') {
          b.error(locOf(st.loc), st.kind === 'match' ? 'invalid match in subclass.' : 'invalid spawn in subclass.');
          return;
        }
        if (st.kind === 'spawn') cls.spawn = true;
        if (seen.submatch) {
          b.error(locOf(st.loc), "can't override existing submatch/spawn.");
          return;
        }
        seen.submatch = true;
        cls.submatch = this.expr(st.expr);
        return;
      case 'lease-limit':
        cls.leaseLimit = st.limit;
        return;
    }
  }

  private subclassDecl(st: A.SubclassDecl, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type === 'class') {
      b.error(locOf(st.loc), 'class declarations not allowed here.');
      return;
    }
    const parent = b.findClass(st.parent);
    if (!parent) {
      b.error(locOf(st.parentLoc), `no class named ${st.parent}`);
      return;
    }
    const data = st.data.kind === 'string' ? Buffer.from(st.data.value, 'latin1') : Uint8Array.from(st.data.bytes);
    const existing = b.config.subclasses.get(parent.name)?.get(Buffer.from(data).toString('hex'));
    let cls = existing;
    if (!cls) {
      // ISC: a subclass shares its parent's group unless it has a body (then it gets its own clone).
      const scope = st.body ? b.newScope('class', parent.scope, parent.name, locOf(st.loc)) : parent.scope;
      cls = {
        name: parent.name, kind: 'subclass', parent: parent.name, matchData: data, matchIf: null, submatch: null,
        spawn: false, leaseLimit: parent.leaseLimit, scope, loc: locOf(st.loc),
      };
      b.registerClass(cls);
    }
    if (st.body) this.classBody(st.body, cls, ctx);
  }

  // ------------------------------------------------------------------ pools: permits, failover

  private permit(st: A.PermitStatement, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type !== 'pool' || !ctx.pool) {
      b.error(locOf(st.loc), 'expecting allow/deny key');
      return;
    }
    let p: Permit;
    const q = st.permit;
    if (q.type === 'members-of') {
      p = { type: 'class', className: q.className };
      if (!b.config.classes.has(q.className)) {
        b.error(locOf(q.classLoc), `no such class: ${q.className}`);
        return;
      }
    } else if (q.type === 'after') {
      p = { type: 'after', time: dateToEpoch(q.date) };
    } else {
      p = { type: q.type };
    }
    b.addPermit(ctx.pool, st.mode === 'allow', p, locOf(st.loc));
  }

  private failoverRef(st: A.FailoverRefStatement, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type === 'pool' && ctx.pool) {
      if (st.peer === null) b.clearPoolFailoverPeer(ctx.pool);
      else b.setPoolFailoverPeer(ctx.pool, st.peer, locOf(st.peerLoc));
      return;
    }
    if (ctx.type === 'shared-network' && ctx.share && st.peer !== null) {
      b.referenceFailoverPeerFromNetwork(ctx.share, st.peer, locOf(st.peerLoc));
      return;
    }
    if (st.peer !== null) b.error(locOf(st.peerLoc), 'failover peer reference not in shared-network declaration');
  }

  private failoverPeer(st: A.FailoverPeerDecl, ctx: Ctx): void {
    const b = this.b;
    if (ctx.type !== 'root' && ctx.type !== 'shared-network') {
      b.error(locOf(st.loc), 'failover peers may only be defined in shared-network');
      return;
    }
    const endpoint = (): FailoverEndpoint => ({ address: null, port: 0, maxResponseDelay: 0, maxUnackedUpdates: 0 });
    const me = endpoint();
    const partner = endpoint();
    let role: 'primary' | 'secondary' = 'primary';
    let hba: Uint8Array | null = null;
    let split: number | null = null;
    const peer: FailoverPeer = {
      name: st.name, role, me, peer: partner, mclt: 0, hba: null, split: null, loadBalanceMaxSeconds: 0,
      maxLeaseMisbalance: 0, maxLeaseOwnership: 0, maxBalance: 0, minBalance: 0, autoPartnerDown: 0, state: null,
      loc: locOf(st.loc),
    };
    for (const p of st.params) {
      const loc = locOf(p.loc);
      switch (p.kind) {
        case 'role':
          role = p.role;
          if (role === 'secondary' && hba) b.error(loc, 'secondary may not define load balance settings.');
          break;
        case 'address':
          (p.peer ? partner : me).address = p.address.kind === 'ip' ? { kind: 'address', address: ipOf(p.address.ip) } : { kind: 'hostname', hostname: p.address.name };
          break;
        case 'port':
          (p.peer ? partner : me).port = p.port;
          break;
        case 'max-response-delay':
          (p.peer ? partner : me).maxResponseDelay = p.value;
          break;
        case 'max-unacked-updates':
          (p.peer ? partner : me).maxUnackedUpdates = p.value;
          break;
        case 'mclt':
          peer.mclt = p.value;
          break;
        case 'hba':
          if (role === 'secondary') b.error(loc, 'secondary may not define load balance settings.');
          if (p.bytes.length !== 32) {
            b.error(loc, 'HBA must be exactly 32 bytes.');
            break;
          }
          hba = Uint8Array.from(p.bytes);
          split = null;
          break;
        case 'split':
          if (role === 'secondary') b.error(loc, 'secondary may not define load balance settings.');
          if (p.value > 256) {
            b.error(loc, 'split must be between 0 and 256, inclusive');
            break;
          }
          hba = splitToHba(p.value);
          split = p.value;
          break;
        case 'load-balance-max-seconds':
          peer.loadBalanceMaxSeconds = p.value;
          break;
        case 'auto-partner-down':
          peer.autoPartnerDown = p.value;
          break;
        case 'max-lease-misbalance':
          peer.maxLeaseMisbalance = p.value;
          break;
        case 'max-lease-ownership':
          peer.maxLeaseOwnership = p.value;
          break;
        case 'max-balance':
          peer.maxBalance = p.value;
          break;
        case 'min-balance':
          peer.minBalance = p.value;
          break;
        case 'max-transmit-idle':
          break;
      }
    }
    const end = locOf(st.end);
    if (!partner.address) b.error(end, 'peer address may not be omitted');
    // Defaults as confpars.c fills them in (includes/failover.h).
    if (!me.port) me.port = 647;
    if (!partner.port) partner.port = 647;
    if (role === 'primary') {
      if (!hba) b.error(end, 'primary failover server must have hba or split.');
      else if (!peer.mclt) b.error(end, 'primary failover server must have mclt.');
    }
    if (!peer.maxLeaseMisbalance) peer.maxLeaseMisbalance = 15;
    if (!peer.maxLeaseOwnership) peer.maxLeaseOwnership = 10;
    if (!peer.maxBalance) peer.maxBalance = 3600;
    if (!peer.minBalance) peer.minBalance = 60;
    if (!me.maxUnackedUpdates) me.maxUnackedUpdates = 100;
    if (!me.maxResponseDelay) me.maxResponseDelay = 20;
    peer.role = role;
    peer.hba = hba;
    peer.split = split;
    b.registerFailoverPeer(peer, locOf(st.loc));
    if (ctx.type === 'shared-network' && ctx.share) ctx.share.failoverPeer = peer.name;
  }

  // ------------------------------------------------------------------ keys and zones

  private key(st: A.KeyDecl): void {
    const b = this.b;
    let algorithm: string | null = null;
    if (st.algorithm !== undefined) {
      const a = st.algorithm;
      algorithm = a.includes('.') ? (a.endsWith('.') ? a : `${a}.`) : `${a}.SIG-ALG.REG.INT.`;
    }
    let secret: Uint8Array | null = null;
    if (st.secret !== undefined) {
      const r = decodeBase64Isc(st.secret);
      if (typeof r === 'string') {
        b.error(st.secretLoc ? locOf(st.secretLoc) : locOf(st.loc), r);
        return;
      }
      secret = r;
    }
    b.registerKey({ name: st.name, algorithm, secret, loc: locOf(st.loc) });
  }

  private zone(st: A.ZoneDecl): void {
    const b = this.b;
    if (st.key !== undefined && !b.config.keys.has(st.key)) {
      b.error(st.keyLoc ? locOf(st.keyLoc) : locOf(st.loc), `unknown key ${st.key}`);
      return;
    }
    const name = st.name.endsWith('.') ? st.name : `${st.name}.`;
    const addrs = (l: A.AddressOrName[] | undefined): string[] => (l ?? []).map((a) => (a.kind === 'ip' ? a.ip.text : a.name));
    b.registerZone({
      name, primary: addrs(st.primary), secondary: addrs(st.secondary), primary6: st.primary6 ?? [], secondary6: st.secondary6 ?? [],
      keyName: st.key ?? null, loc: locOf(st.loc),
    });
  }

  // ------------------------------------------------------------------ expressions

  expr(e: A.Expr): Expr {
    switch (e.op) {
      case 'const-data':
        return { op: 'const-data', data: Uint8Array.from(e.bytes) };
      case 'string':
        return { op: 'const-data', data: Buffer.from(e.value, 'latin1') };
      case 'const-int':
        return { op: 'const-int', value: e.value };
      case 'option':
      case 'config-option':
      case 'exists': {
        const def = this.resolveOption(e.space, e.name, e.loc, false);
        const space = def?.space ?? (e.space ?? 'dhcp').toLowerCase();
        const name = def?.name ?? e.name;
        const code = def?.code ?? -1;
        return { op: e.op, space, name, code };
      }
      case 'variable':
        return { op: 'variable-reference', name: e.name };
      case 'funcall':
        return { op: 'funcall', name: e.name, args: e.args.map((a) => this.expr(a)) };
      case 'not':
        return { op: 'not', operand: this.expr(e.operand) };
      case 'check':
        return { op: 'check', className: e.className };
      case 'defined':
        return { op: 'variable-exists', name: e.name };
      case 'atom':
        switch (e.name) {
          case 'known': return { op: 'known' };
          case 'static': return { op: 'static' };
          case 'hardware': return { op: 'hardware' };
          case 'leased-address': return { op: 'leased-address' };
          case 'host-decl-name': return { op: 'host-decl-name' };
          case 'lease-time': return { op: 'lease-time' };
          case 'client-state': return { op: 'client-state' };
          case 'null': return { op: 'null' };
          case 'filename': return { op: 'filename' };
          case 'server-name': return { op: 'server-name' };
        }
        break;
      case 'binary': {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        switch (e.operator) {
          case '=': return { op: 'equal', left, right };
          case '!=': return { op: 'not-equal', left, right };
          case '~=': return { op: 'regex-match', left, pattern: right };
          case '~~': return { op: 'iregex-match', left, pattern: right };
          case 'and': return { op: 'and', left, right };
          case 'or': return { op: 'or', left, right };
          case '+': return { op: 'add', left, right };
          case '-': return { op: 'subtract', left, right };
          case '*': return { op: 'multiply', left, right };
          case '/': return { op: 'divide', left, right };
          case '%': return { op: 'remainder', left, right };
          case '&': return { op: 'binary-and', left, right };
          case '|': return { op: 'binary-or', left, right };
          case '^': return { op: 'binary-xor', left, right };
        }
        break;
      }
      case 'fn':
        return this.fn(e);
    }
    return { op: 'null' };
  }

  private fn(e: Extract<A.Expr, { op: 'fn' }>): Expr {
    const a = e.args.map((x) => this.expr(x));
    const width = (x: A.Expr | undefined): 8 | 16 | 32 => {
      const v = x && x.op === 'const-int' ? x.value : 32;
      return v === 8 || v === 16 ? v : 32;
    };
    switch (e.fn) {
      case 'substring': return { op: 'substring', data: a[0], offset: a[1], length: a[2] };
      case 'suffix': return { op: 'suffix', data: a[0], length: a[1] };
      case 'lcase': return { op: 'lcase', data: a[0] };
      case 'ucase': return { op: 'ucase', data: a[0] };
      case 'concat': return { op: 'concat', parts: a };
      case 'pick-first-value': return { op: 'pick-first-value', values: a };
      case 'binary-to-ascii': return { op: 'binary-to-ascii', base: a[0], width: a[1], separator: a[2], data: a[3] };
      case 'encode-int': return { op: 'encode-int', value: a[0], width: width(e.args[1]) };
      case 'extract-int': return { op: 'extract-int', data: a[0], width: width(e.args[1]) };
      case 'reverse': return { op: 'reverse', width: a[0], data: a[1] };
      case 'packet': return { op: 'packet', offset: a[0], length: a[1] };
      case 'v6relay': return { op: 'v6relay', relay: a[0], data: a[1] };
      case 'gethostname': return { op: 'gethostname' };
      case 'encapsulate': {
        const sp = e.args[0];
        return { op: 'encapsulate', space: sp && sp.op === 'string' ? sp.value.toLowerCase() : '' };
      }
      case 'gethostbyname': {
        const n = e.args[0];
        return { op: 'host-lookup', hostname: n && n.op === 'string' ? n.value : '' };
      }
      default:
        return { op: 'funcall', name: e.fn, args: a };
    }
  }
}


/** ISC `split N` -> 256-bit bucket mask: bits 0..N-1 set, bit i in byte i/8 at (1 << (i & 7)). */
export function splitToHba(split: number): Uint8Array {
  const hba = new Uint8Array(32);
  for (let i = 0; i < split && i < 256; i++) hba[i >> 3] |= 1 << (i & 7);
  return hba;
}

/** dhcpd.conf date -> epoch seconds (ISC parse_date_core: fields are UTC, plus an optional offset). */
export function dateToEpoch(d: A.DateValue): number {
  if (d.kind === 'never') return 0xffffffff;
  if (d.kind === 'epoch') return d.seconds;
  return Math.floor(Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second) / 1000) + (d.tzOffset ?? 0);
}

/**
 * ISC's base64 decoder for key secrets (common/parse.c parse_base64), with its diagnostics:
 * "invalid base64 character N.", "stuff after base64 '=' terminator: X." and "partial base64 value left
 * over: N." (N is ISC's leftover accumulator value). Returns the bytes or the message.
 */
export function decodeBase64Isc(s: string): Uint8Array | string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: number[] = [];
  let acc = 0;
  let k = 0;
  let terminated = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    if (terminated && ch !== '=') return `stuff after base64 '=' terminator: ${s.slice(i)}.`;
    if (code < 0x20 || code > 0x7a) return `invalid base64 character ${code > 127 ? code - 256 : code}.`;
    if (ch === '=') terminated = true;
    else {
      const v = alphabet.indexOf(ch);
      if (v < 0) return `invalid base64 character ${code}.`;
      acc = ((acc << 6) + v) >>> 0;
      switch (k % 4) {
        case 1:
          out.push((acc >> 4) & 0xff);
          acc &= 0x0f;
          break;
        case 2:
          out.push((acc >> 2) & 0xff);
          acc &= 0x03;
          break;
        case 3:
          out.push(acc & 0xff);
          acc = 0;
          break;
      }
    }
    k++;
  }
  if (k % 4 && acc) return `partial base64 value left over: ${acc}.`;
  return Uint8Array.from(out);
}
