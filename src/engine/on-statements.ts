/**
 * `on release` and `on expiry` (dhcp-eval(5)) as ISC runs them: the `on` statements in effect when a lease
 * is committed are stored WITH the lease (ISC's lease->on_star, written to dhcpd.leases as
 * `on expiry { … }`), and run later — at DHCPRELEASE, or when the lease expires — even after a restart or a
 * configuration change. dhcpd-ts keeps them as text on the lease (leases/lease.ts `OnStatements`, the same
 * text an imported ISC lease file carries), taken from the configuration's source at commit time, and
 * compiles the text again when the event happens.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../grammar/conf-parser.js';
import { tokenizeConfig, type Tok } from '../../grammar/tokens.js';
import { Compiler } from '../config/compile.js';
import type { Config, SourceLoc, Statement } from '../config/model.js';
import type { Lease } from '../../leases/lease.js';
import type { Logger } from '../log/logger.js';
import { emptyPacket } from '../wire/packet.js';
import { executeStatements, OptionState, type EvalContext } from './evaluate.js';

const tokenCache = new Map<string, { text: string; tokens: Tok[] } | null>();

/** Forget cached source files (a reload may have changed them). */
export function clearOnStatementSources(): void {
  tokenCache.clear();
}

/**
 * Reads (again) the source files holding the config's `on release`/`on expiry` statements, at start and at
 * reload: the text stored with a lease is then the one of the configuration in use, even if a file is
 * edited later without a reload.
 */
export function primeOnStatementSources(config: Config): void {
  tokenCache.clear();
  const files = new Set<string>();
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    const o = x as Record<string, unknown>;
    if (o['kind'] === 'on') {
      const loc = o['loc'] as SourceLoc | undefined;
      if (loc !== undefined) files.add(loc.file);
    }
    for (const k of ['body', 'otherwise', 'branches', 'cases', 'statements']) if (k in o) visit(o[k]);
  };
  for (const scope of config.scopes) visit(scope.statements);
  for (const f of files) tokensOf(f);
}

function tokensOf(file: string): { text: string; tokens: Tok[] } | null {
  let t = tokenCache.get(file);
  if (t === undefined) {
    try {
      const text = readFileSync(file, 'latin1');
      t = { text, tokens: tokenizeConfig(text, file).tokens };
    } catch {
      t = null;
    }
    tokenCache.set(file, t);
  }
  return t;
}

const isPunct = (t: Tok, c: string): boolean => t.kind !== 'eof' && t.kind !== 'string' && t.image === c;

/**
 * The source text of the body of the `on` statement at `loc` (what ISC writes inside `on expiry { … }`),
 * or undefined when the file cannot be read or has changed so that no `on … {` is there any more.
 */
export function onBodyText(loc: SourceLoc): string | undefined {
  const src = tokensOf(loc.file);
  if (src === null) return undefined;
  const { tokens, text } = src;
  let i = tokens.findIndex((t) => t.line === loc.line && t.column === loc.column);
  if (i < 0 || tokens[i]!.keyword !== 'on') return undefined;
  while (i < tokens.length && !isPunct(tokens[i]!, '{')) {
    if (isPunct(tokens[i]!, ';') || tokens[i]!.kind === 'eof') return undefined;
    i++;
  }
  const open = tokens[i];
  if (open === undefined) return undefined;
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind === 'eof') return undefined;
    if (isPunct(t, '{')) depth++;
    else if (isPunct(t, '}') && --depth === 0) return text.slice(open.end, t.offset).trim();
  }
  return undefined;
}

const compiled = new Map<string, Statement[] | null>();

/** Compiles stored statement text (cached); null when it does not parse (logged by the caller). */
export function compileOnText(text: string, file = 'lease statements'): Statement[] | null {
  let s = compiled.get(text);
  if (s === undefined) {
    const p = parseConfigText(text, file);
    const r = p.ok ? new Compiler(file).compile(p.ast.statements) : undefined;
    s = r?.config ? r.config.global.statements : null;
    if (compiled.size > 1000) compiled.clear();
    compiled.set(text, s);
  }
  return s;
}

export interface RunOnOptions {
  config: Config;
  lease: Lease;
  event: 'release' | 'expiry';
  text: string;
  logger: Logger;
  now: number;
  /** The DHCPRELEASE for `on release`; none for expiry (ISC runs on_expiry with no packet). */
  packet?: EvalContext['packet'];
  raw?: Buffer;
}

/**
 * Runs stored `on release`/`on expiry` text against the lease, as ISC's execute_statements with the
 * lease's binding scope: `set`/`unset` change `lease.scope` (the caller commits the lease). Never throws.
 */
export function runOnStatements(o: RunOnOptions): void {
  const statements = compileOnText(o.text);
  if (statements === null) {
    o.logger.error(`on ${o.event} statements of lease ${addr(o.lease.address)} do not parse; not run.`);
    return;
  }
  const ctx: EvalContext = {
    config: o.config,
    packet: o.packet ?? emptyPacket(),
    ...(o.raw !== undefined ? { raw: o.raw } : {}),
    lease: o.lease,
    known: false,
    classes: new Set(),
    options: new OptionState(),
    variables: o.lease.scope,
    logger: o.logger,
    now: o.now,
  };
  try {
    executeStatements(statements, ctx);
  } catch (e) {
    o.logger.error(`on ${o.event} of lease ${addr(o.lease.address)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function addr(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
