/**
 * Client classes (ISC classify_client / check_collection, server/class.c): `match if`, `match` +
 * subclasses, `spawn with`, and `lease limit` accounting. Pure over the config and an evaluation context.
 *
 * @module
 */
import { type ClassDecl, type Config, type Scope, hexKey } from '../config/model.js';
import { type EvalContext, evaluateBoolean, evaluateData } from '../engine/evaluate.js';

/** A class the client belongs to. Subclasses and spawned classes carry their match data. */
export interface ClassMembership {
  /** Class name (a subclass has its parent's name, as in ISC). */
  readonly name: string;
  /** The declaration (undefined for a spawned class with no `subclass` statement). */
  readonly decl: ClassDecl | undefined;
  /** The parent for subclasses and spawned classes. */
  readonly parent: ClassDecl | undefined;
  /** Subclass match data. */
  readonly data: Buffer | undefined;
  /** Scopes whose statements apply, outer first (parent class, then the subclass). */
  readonly scopes: readonly Scope[];
  /** `lease limit` of the class that bills the lease (the subclass's, else its parent's spawn limit). */
  readonly leaseLimit: number | null;
}

/** Statements scopes of a class only (not the global scope the class's scope chain ends in). */
function classScopes(decl: ClassDecl, parent: ClassDecl | undefined): Scope[] {
  const out: Scope[] = [];
  if (parent !== undefined && decl.scope.parent !== parent.scope) out.push(parent.scope);
  const chain: Scope[] = [];
  for (let s: Scope | null = decl.scope; s !== null && s.kind === 'class'; s = s.parent) chain.push(s);
  out.push(...chain.reverse());
  return out;
}

/**
 * Classifies a request: every class in declaration order whose `match if` holds, and for classes with a
 * `match`/`spawn with` expression the subclass whose data equals the result (spawning one when the class
 * says `spawn`). `ctx.classes` must be the set this function fills (so `check` sees earlier classes).
 */
export function classify(config: Config, ctx: EvalContext, into: Set<string>): ClassMembership[] {
  const out: ClassMembership[] = [];
  for (const decl of config.classes.values()) {
    if (decl.kind !== 'class') continue;
    if (decl.submatch !== null) {
      const d = evaluateData(decl.submatch, ctx);
      if (d !== undefined) {
        const sub = config.subclasses.get(decl.name)?.get(hexKey(d));
        if (sub !== undefined) {
          out.push({ name: decl.name, decl: sub, parent: decl, data: d, scopes: classScopes(sub, decl), leaseLimit: sub.leaseLimit ?? decl.leaseLimit });
          into.add(decl.name);
        } else if (decl.spawn) {
          out.push({ name: decl.name, decl: undefined, parent: decl, data: d, scopes: classScopes(decl, undefined), leaseLimit: decl.leaseLimit });
          into.add(decl.name);
        }
      }
    }
    if (decl.matchIf !== null && !into.has(decl.name) && evaluateBoolean(decl.matchIf, ctx) === true) {
      out.push({ name: decl.name, decl, parent: undefined, data: undefined, scopes: classScopes(decl, undefined), leaseLimit: decl.leaseLimit });
      into.add(decl.name);
    }
  }
  return out;
}

/** A class added by an `add class` statement (no match data). */
export function membershipByName(config: Config, name: string): ClassMembership | undefined {
  const decl = config.classes.get(name);
  if (decl === undefined) return undefined;
  return { name, decl, parent: undefined, data: undefined, scopes: classScopes(decl, undefined), leaseLimit: decl.leaseLimit };
}
