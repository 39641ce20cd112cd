/**
 * Host names in the config (`fixed-address NAME`, `next-server NAME`, option values written as names:
 * ISC's host-lookup expressions) resolved to IPv4 addresses. ISC resolves them with gethostbyname(3) when
 * the statement is evaluated; Node's resolver is asynchronous, so the names are resolved once at start-up
 * (and again on reload) into a cache the synchronous engine reads.
 *
 * @module
 */
import { lookup } from 'node:dns/promises';
import type { Config, Expr, Statement } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import type { AddressResolver } from '../policy/hosts.js';

function collectExpr(e: Expr | null | undefined, out: Set<string>): void {
  if (e === null || e === undefined || typeof e !== 'object') return;
  if (e.op === 'host-lookup') {
    out.add(e.hostname);
    return;
  }
  for (const v of Object.values(e)) {
    if (Array.isArray(v)) for (const x of v) collectExpr(x as Expr, out);
    else if (v !== null && typeof v === 'object' && 'op' in (v as object)) collectExpr(v as Expr, out);
  }
}

function collectStatements(list: readonly Statement[], out: Set<string>): void {
  for (const st of list) {
    switch (st.kind) {
      case 'option':
        if (st.value.kind === 'expr') collectExpr(st.value.expr, out);
        break;
      case 'if':
        for (const b of st.branches) {
          collectExpr(b.condition, out);
          collectStatements(b.body, out);
        }
        if (st.otherwise !== null) collectStatements(st.otherwise, out);
        break;
      case 'switch':
        for (const c of st.cases) collectStatements(c.body, out);
        break;
      case 'on':
      case 'define-function':
        collectStatements(st.body, out);
        break;
      default:
        break;
    }
  }
}

/** Every host name the config may need resolved. */
export function configHostNames(config: Config): Set<string> {
  const out = new Set<string>();
  for (const scope of config.scopes) collectStatements(scope.statements, out);
  for (const host of config.hosts) {
    collectStatements(host.scope.statements, out);
    for (const fa of host.fixedAddresses) if (fa.kind === 'hostname') out.add(fa.hostname);
  }
  for (const cls of config.classes.values()) collectStatements(cls.scope.statements, out);
  for (const m of config.subclasses.values()) for (const cls of m.values()) collectStatements(cls.scope.statements, out);
  return out;
}

/** Resolves the config's host names (IPv4, all addresses; at most `timeoutMs` each) into a resolver. */
export async function resolveConfigNames(config: Config, logger: Logger, timeoutMs = 3000): Promise<AddressResolver> {
  const cache = new Map<string, number[]>();
  await Promise.all(
    [...configHostNames(config)].map(async (name) => {
      try {
        const r = await Promise.race([
          lookup(name, { family: 4, all: true }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref()),
        ]);
        cache.set(
          name,
          r.map((a) => a.address.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0)),
        );
      } catch (e) {
        // ISC logs the failed lookup when it evaluates the statement; the value is then left out.
        logger.error(`${name}: host unknown.${e instanceof Error ? ` (${e.message})` : ''}`);
      }
    }),
  );
  return (name) => cache.get(name);
}
