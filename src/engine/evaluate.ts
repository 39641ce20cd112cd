/**
 * The dhcp-eval(5) language at request time: expressions of the compiled config (src/config/model.ts `Expr`)
 * and the executable statements of scopes (`option`, `if`/`elsif`/`else`, `switch`, `set`/`define`/`unset`,
 * `log`, `add-class`, `on commit|release|expiry`, `break`), as ISC's common/tree.c and
 * common/execute.c do them. Pure over an {@link EvalContext}; never throws on data (a failed evaluation
 * is `undefined`, ISC's "null" result).
 *
 * @module
 */
import { hostname as osHostname } from 'node:os';
import type { Config, Expr, Host, OptionStatement, SourceLoc, Statement } from '../config/model.js';
import type { Lease, ScopeValue } from '../../leases/lease.js';
import type { Logger } from '../log/logger.js';
import { type DhcpPacket, DhcpOption } from '../wire/packet.js';
import { parseSubOptions } from '../wire/agent-information.js';
import { runExecuteStatement } from '../policy/execute-hook.js';

/** A value during evaluation (ISC: boolean, data or numeric expression results). */
export type Value =
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'data'; readonly value: Buffer }
  | { readonly kind: 'number'; readonly value: number };

/**
 * The outgoing option state being built (ISC `struct option_state`): space → code → value bytes, in the
 * order options were first set.
 */
export class OptionState {
  readonly spaces = new Map<string, Map<number, Buffer>>();

  get(space: string, code: number): Buffer | undefined {
    return this.spaces.get(space)?.get(code);
  }

  has(space: string, code: number): boolean {
    return this.spaces.get(space)?.has(code) ?? false;
  }

  set(space: string, code: number, value: Buffer): void {
    let m = this.spaces.get(space);
    if (m === undefined) {
      m = new Map();
      this.spaces.set(space, m);
    }
    m.set(code, value);
  }

  delete(space: string, code: number): void {
    this.spaces.get(space)?.delete(code);
  }

  /** The options of one space (empty map when none). */
  space(space: string): ReadonlyMap<number, Buffer> {
    return this.spaces.get(space) ?? new Map();
  }
}

/** Statement bodies to run later on the lease (ISC `on commit|release|expiry`). */
export interface DeferredStatements {
  commit: Statement[];
  release: Statement[];
  expiry: Statement[];
  /** Where the `on` statements in effect were written (their text is stored with the lease). */
  locs?: { release?: SourceLoc; expiry?: SourceLoc };
}

/** Everything an expression can look at. */
export interface EvalContext {
  readonly config: Config;
  /** The request. */
  readonly packet: DhcpPacket;
  /** The request's bytes as received (for `packet (offset, length)`). */
  readonly raw?: Buffer;
  /** The lease being offered/acknowledged, when there is one. */
  readonly lease?: Lease;
  /** The host declaration matched to the client. */
  readonly host?: Host;
  /** A host declaration matched the client (ISC packet->known). */
  readonly known: boolean;
  /** The lease is a fixed-address (static) one. */
  readonly isStatic?: boolean;
  /** Classes the client is a member of so far. */
  readonly classes: ReadonlySet<string>;
  /** The outgoing options (read by `config-option`, written by option statements). */
  readonly options: OptionState;
  /** Binding scope variables (`set`/`define`; the lease's scope once committed). */
  readonly variables: Map<string, ScopeValue>;
  readonly logger?: Logger;
  readonly now: number;
  /** Resolves a host name for `host-lookup` (a cache primed at start-up; DNS is asynchronous in Node). */
  readonly resolveHost?: (name: string) => Buffer | undefined;
  /** Collects `add-class` names. */
  readonly addClass?: (name: string) => void;
  /** Collects `on …` bodies. */
  readonly deferred?: DeferredStatements;
}

const TRUE: Value = { kind: 'boolean', value: true };
const FALSE: Value = { kind: 'boolean', value: false };
const bool = (b: boolean): Value => (b ? TRUE : FALSE);
const data = (b: Buffer): Value => ({ kind: 'data', value: b });
const num = (n: number): Value => ({ kind: 'number', value: n >>> 0 });

/** Value of an option in the request: dhcp space from the packet, agent space from option 82. */
export function packetOption(packet: DhcpPacket, space: string, code: number): Buffer | undefined {
  if (space === 'dhcp') return packet.options.get(code);
  if (space === 'agent') {
    const v = packet.options.get(DhcpOption.AGENT_INFORMATION);
    if (v === undefined) return undefined;
    const subs = parseSubOptions(v);
    const s = subs?.find((o) => o.code === code);
    return s === undefined ? undefined : Buffer.from(s.data);
  }
  return undefined;
}

function asData(v: Value | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (v.kind === 'data') return v.value;
  if (v.kind === 'number') {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v.value >>> 0);
    return b;
  }
  return Buffer.from([v.value ? 1 : 0]);
}

function asNumber(v: Value | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v.kind === 'number') return v.value;
  if (v.kind === 'boolean') return v.value ? 1 : 0;
  // ISC does not convert data to numbers implicitly except through extract-int; accept 1/2/4 octets.
  const b = v.value;
  if (b.length === 1) return b[0]!;
  if (b.length === 2) return b.readUInt16BE(0);
  if (b.length === 4) return b.readUInt32BE(0);
  return undefined;
}

function asBoolean(v: Value | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v.kind === 'boolean') return v.value;
  if (v.kind === 'number') return v.value !== 0;
  return v.value.length > 0 && v.value.some((x) => x !== 0);
}

function fromScope(v: ScopeValue | undefined): Value | undefined {
  if (v === undefined) return undefined;
  if (v.kind === 'data') return data(v.value);
  if (v.kind === 'number') return num(v.value);
  return bool(v.value);
}

function toScope(v: Value): ScopeValue {
  if (v.kind === 'data') return { kind: 'data', value: v.value };
  if (v.kind === 'number') return { kind: 'number', value: v.value };
  return { kind: 'boolean', value: v.value };
}

/** ISC binary-to-ascii: each width-bit integer in `base`, no padding, joined by `sep`. */
function binaryToAscii(base: number, width: number, sep: Buffer, bytes: Buffer): Buffer | undefined {
  if (base < 2 || base > 16) return undefined;
  const step = width === 8 ? 1 : width === 16 ? 2 : width === 32 ? 4 : 0;
  if (step === 0) return undefined;
  const parts: string[] = [];
  for (let i = 0; i + step <= bytes.length; i += step) {
    const n = step === 1 ? bytes[i]! : step === 2 ? bytes.readUInt16BE(i) : bytes.readUInt32BE(i);
    parts.push(n.toString(base));
  }
  return Buffer.from(parts.join(sep.toString('latin1')), 'latin1');
}

/** Evaluates an expression (ISC evaluate_expression); `undefined` is ISC's failed/null evaluation. */
export function evaluate(expr: Expr, ctx: EvalContext): Value | undefined {
  switch (expr.op) {
    // ----- boolean
    case 'equal':
    case 'not-equal': {
      const l = evaluate(expr.left, ctx);
      const r = evaluate(expr.right, ctx);
      let eq: boolean;
      if (l === undefined || r === undefined) eq = l === undefined && r === undefined;
      else if (l.kind === 'boolean' || r.kind === 'boolean') eq = asBoolean(l) === asBoolean(r);
      else if (l.kind === 'number' && r.kind === 'number') eq = l.value === r.value;
      else eq = asData(l)!.equals(asData(r)!);
      return bool(expr.op === 'equal' ? eq : !eq);
    }
    case 'regex-match':
    case 'iregex-match': {
      const l = asData(evaluate(expr.left, ctx));
      const p = asData(evaluate(expr.pattern, ctx));
      if (l === undefined || p === undefined) return undefined;
      try {
        return bool(new RegExp(p.toString('latin1'), expr.op === 'iregex-match' ? 'i' : '').test(l.toString('latin1')));
      } catch {
        return undefined;
      }
    }
    case 'and': {
      const l = asBoolean(evaluate(expr.left, ctx));
      if (l === false) return FALSE;
      const r = asBoolean(evaluate(expr.right, ctx));
      if (l === undefined || r === undefined) return r === false ? FALSE : undefined;
      return bool(l && r);
    }
    case 'or': {
      const l = asBoolean(evaluate(expr.left, ctx));
      if (l === true) return TRUE;
      const r = asBoolean(evaluate(expr.right, ctx));
      if (r === true) return TRUE;
      if (l === undefined || r === undefined) return undefined;
      return FALSE;
    }
    case 'not': {
      const v = asBoolean(evaluate(expr.operand, ctx));
      return v === undefined ? undefined : bool(!v);
    }
    case 'exists':
      return bool(packetOption(ctx.packet, expr.space, expr.code) !== undefined);
    case 'known':
      return bool(ctx.known);
    case 'static':
      return bool(ctx.isStatic === true);
    case 'variable-exists':
      return bool(ctx.variables.has(expr.name));
    case 'check':
      return bool(ctx.classes.has(expr.className));
    case 'const-bool':
      return bool(expr.value);
    // ----- data
    case 'const-data':
      return data(Buffer.from(expr.data));
    case 'option': {
      const v = packetOption(ctx.packet, expr.space, expr.code);
      return v === undefined ? undefined : data(v);
    }
    case 'config-option': {
      const v = ctx.options.get(expr.space, expr.code);
      return v === undefined ? undefined : data(v);
    }
    case 'hardware': {
      const hlen = Math.min(ctx.packet.hlen, 16);
      return data(Buffer.concat([Buffer.from([ctx.packet.htype]), ctx.packet.chaddr.subarray(0, hlen)]));
    }
    case 'packet': {
      const off = asNumber(evaluate(expr.offset, ctx));
      const len = asNumber(evaluate(expr.length, ctx));
      if (off === undefined || len === undefined || ctx.raw === undefined) return undefined;
      if (off >= ctx.raw.length) return data(Buffer.alloc(0));
      return data(Buffer.from(ctx.raw.subarray(off, Math.min(ctx.raw.length, off + len))));
    }
    case 'substring': {
      const d = asData(evaluate(expr.data, ctx));
      const off = asNumber(evaluate(expr.offset, ctx));
      const len = asNumber(evaluate(expr.length, ctx));
      if (d === undefined || off === undefined || len === undefined) return undefined;
      // ISC: an offset past the end gives an empty string, a length past the end is truncated.
      if (off >= d.length) return data(Buffer.alloc(0));
      return data(d.subarray(off, Math.min(d.length, off + len)));
    }
    case 'suffix': {
      const d = asData(evaluate(expr.data, ctx));
      const len = asNumber(evaluate(expr.length, ctx));
      if (d === undefined || len === undefined) return undefined;
      return data(len >= d.length ? d : d.subarray(d.length - len));
    }
    case 'lcase':
    case 'ucase': {
      const d = asData(evaluate(expr.data, ctx));
      if (d === undefined) return undefined;
      const s = d.toString('latin1');
      return data(Buffer.from(expr.op === 'lcase' ? s.toLowerCase() : s.toUpperCase(), 'latin1'));
    }
    case 'concat': {
      const parts: Buffer[] = [];
      let any = false;
      for (const p of expr.parts) {
        const d = asData(evaluate(p, ctx));
        if (d !== undefined) {
          parts.push(d);
          any = true;
        }
      }
      return any ? data(Buffer.concat(parts)) : undefined;
    }
    case 'pick-first-value': {
      for (const p of expr.values) {
        const d = asData(evaluate(p, ctx));
        if (d !== undefined && d.length > 0) return data(d);
      }
      return undefined;
    }
    case 'binary-to-ascii': {
      const base = asNumber(evaluate(expr.base, ctx));
      const width = asNumber(evaluate(expr.width, ctx));
      const sep = asData(evaluate(expr.separator, ctx));
      const d = asData(evaluate(expr.data, ctx));
      if (base === undefined || width === undefined || sep === undefined || d === undefined) return undefined;
      const r = binaryToAscii(base, width, sep, d);
      return r === undefined ? undefined : data(r);
    }
    case 'encode-int': {
      const n = asNumber(evaluate(expr.value, ctx));
      if (n === undefined) return undefined;
      const b = Buffer.alloc(expr.width / 8);
      if (expr.width === 8) b.writeUInt8(n & 0xff);
      else if (expr.width === 16) b.writeUInt16BE(n & 0xffff);
      else b.writeUInt32BE(n >>> 0);
      return data(b);
    }
    case 'reverse': {
      const w = asNumber(evaluate(expr.width, ctx));
      const d = asData(evaluate(expr.data, ctx));
      if (w === undefined || d === undefined || w === 0 || d.length % w !== 0) return undefined;
      const chunks: Buffer[] = [];
      for (let i = d.length - w; i >= 0; i -= w) chunks.push(d.subarray(i, i + w));
      return data(Buffer.concat(chunks));
    }
    case 'leased-address': {
      if (ctx.lease === undefined) return undefined;
      const b = Buffer.alloc(4);
      b.writeUInt32BE(ctx.lease.address >>> 0);
      return data(b);
    }
    case 'host-decl-name':
      return ctx.host === undefined ? undefined : data(Buffer.from(ctx.host.name, 'latin1'));
    case 'filename':
      return data(Buffer.from(ctx.packet.file));
    case 'server-name':
      return data(Buffer.from(ctx.packet.sname));
    case 'gethostname':
      return data(Buffer.from(osHostname(), 'latin1'));
    case 'host-lookup': {
      const r = ctx.resolveHost?.(expr.hostname);
      return r === undefined ? undefined : data(r);
    }
    case 'null':
      return undefined;
    case 'v6relay':
      return undefined;
    // ----- numeric
    case 'const-int':
      return num(expr.value);
    case 'extract-int': {
      const d = asData(evaluate(expr.data, ctx));
      const n = expr.width / 8;
      if (d === undefined || d.length < n) return undefined;
      return num(n === 1 ? d[0]! : n === 2 ? d.readUInt16BE(0) : d.readUInt32BE(0));
    }
    case 'lease-time': {
      const ends = ctx.lease?.ends;
      if (ends === undefined || ends === null || ends < ctx.now) return undefined;
      return num(ends - ctx.now);
    }
    case 'client-state':
      return undefined;
    case 'add':
    case 'subtract':
    case 'multiply':
    case 'divide':
    case 'remainder':
    case 'binary-and':
    case 'binary-or':
    case 'binary-xor': {
      const l = asNumber(evaluate(expr.left, ctx));
      const r = asNumber(evaluate(expr.right, ctx));
      if (l === undefined || r === undefined) return undefined;
      switch (expr.op) {
        case 'add':
          return num(l + r);
        case 'subtract':
          return num(l - r);
        case 'multiply':
          return num(Number((BigInt(l) * BigInt(r)) & 0xffffffffn));
        case 'divide':
          return r === 0 ? undefined : num(Math.floor(l / r));
        case 'remainder':
          return r === 0 ? undefined : num(l % r);
        case 'binary-and':
          return num(l & r);
        case 'binary-or':
          return num(l | r);
        case 'binary-xor':
          return num(l ^ r);
      }
      return undefined;
    }
    // ----- untyped
    case 'variable-reference':
      return fromScope(ctx.variables.get(expr.name));
    case 'funcall':
      return undefined;
  }
}

/** Evaluates to bytes (ISC evaluate_data_expression). */
export function evaluateData(expr: Expr, ctx: EvalContext): Buffer | undefined {
  return asData(evaluate(expr, ctx));
}

/** Evaluates to a boolean (ISC evaluate_boolean_expression); null → undefined. */
export function evaluateBoolean(expr: Expr, ctx: EvalContext): boolean | undefined {
  return asBoolean(evaluate(expr, ctx));
}

/** Evaluates to a number (ISC evaluate_numeric_expression). */
export function evaluateNumber(expr: Expr, ctx: EvalContext): number | undefined {
  return asNumber(evaluate(expr, ctx));
}

/** The value bytes of an option statement, evaluated now. */
export function optionStatementValue(st: OptionStatement, ctx: EvalContext): Buffer | undefined {
  if (st.value.kind === 'const') {
    // One Buffer per statement, shared by every reply (option values are never written into: prepend and
    // append concatenate into new ones, the encoder copies): a copy per option per reply was garbage.
    let b = constValues.get(st);
    if (b === undefined) constValues.set(st, (b = Buffer.from(st.value.data)));
    return b;
  }
  return evaluateData(st.value.expr, ctx);
}
const constValues = new WeakMap<OptionStatement, Buffer>();

/** Returned by {@link executeStatements}: `break` leaves the enclosing switch. */
type Flow = 'normal' | 'break';

/**
 * Executes statements in order into `ctx.options` (ISC execute_statements). Option modes follow ISC:
 * `option`/`supersede`/`send` replace, `default` sets only when not set yet, `prepend`/`append` join with
 * the current value.
 */
export function executeStatements(statements: readonly Statement[], ctx: EvalContext): Flow {
  for (const st of statements) {
    switch (st.kind) {
      case 'option': {
        const v = optionStatementValue(st, ctx);
        if (v === undefined) break;
        const cur = ctx.options.get(st.space, st.code);
        switch (st.mode) {
          case 'default':
            if (cur === undefined) ctx.options.set(st.space, st.code, v);
            break;
          case 'prepend':
            ctx.options.set(st.space, st.code, cur === undefined ? v : Buffer.concat([v, cur]));
            break;
          case 'append':
            ctx.options.set(st.space, st.code, cur === undefined ? v : Buffer.concat([cur, v]));
            break;
          default:
            ctx.options.set(st.space, st.code, v);
        }
        break;
      }
      case 'if': {
        let done = false;
        for (const b of st.branches) {
          if (evaluateBoolean(b.condition, ctx) === true) {
            if (executeStatements(b.body, ctx) === 'break') return 'break';
            done = true;
            break;
          }
        }
        if (!done && st.otherwise !== null && executeStatements(st.otherwise, ctx) === 'break') return 'break';
        break;
      }
      case 'switch': {
        const v = evaluate(st.value, ctx);
        let matched = -1;
        for (let i = 0; i < st.cases.length; i++) {
          const c = st.cases[i]!;
          if (c.value === null) continue;
          const cv = evaluate(c.value, ctx);
          if (v !== undefined && cv !== undefined && asData(v)!.equals(asData(cv)!)) {
            matched = i;
            break;
          }
        }
        if (matched < 0) matched = st.cases.findIndex((c) => c.value === null);
        // Fall through the following cases until a break, as in C (ISC's switch does the same).
        if (matched >= 0) {
          for (let i = matched; i < st.cases.length; i++) {
            if (executeStatements(st.cases[i]!.body, ctx) === 'break') break;
          }
        }
        break;
      }
      case 'set':
      case 'define': {
        const v = evaluate(st.value, ctx);
        if (v !== undefined) ctx.variables.set(st.name, toScope(v));
        else ctx.variables.delete(st.name);
        break;
      }
      case 'unset':
        ctx.variables.delete(st.name);
        break;
      case 'log': {
        const d = evaluateData(st.expr, ctx);
        if (d !== undefined && ctx.logger !== undefined) {
          const text = d.toString('latin1');
          if (st.priority === 'fatal' || st.priority === 'error') ctx.logger.error(text);
          else if (st.priority === 'debug') ctx.logger.debug(text);
          else ctx.logger.info(text);
        }
        break;
      }
      case 'add-class':
        ctx.addClass?.(st.className);
        break;
      case 'on':
        if (ctx.deferred !== undefined) {
          for (const ev of st.events) {
            if (ev === 'commit' || ev === 'release' || ev === 'expiry') ctx.deferred[ev] = [...st.body];
            if (ev === 'release' || ev === 'expiry') ctx.deferred.locs = { ...ctx.deferred.locs, [ev]: st.loc };
          }
        }
        break;
      case 'break':
        return 'break';
      case 'eval':
        evaluate(st.expr, ctx);
        break;
      case 'execute':
        // ISC execute(): arguments evaluated here, the program run by the server (src/policy/execute-hook.ts).
        runExecuteStatement(st.command, st.args.map((a) => evaluateData(a, ctx)), ctx.logger);
        break;
      case 'return':
      case 'define-function':
      case 'parse-vendor-option':
        break;
    }
  }
  return 'normal';
}
