/**
 * Lease expiry: moving a lease whose `ends` has passed to its next binding state, as ISC's
 * `make_binding_state_transition` (server/mdb.c) does. Pure: it returns the new lease and which deferred
 * statements (`on expiry` / `on release`) the caller must run and log; the caller commits the result.
 *
 * Which leases are due is {@link LeaseStore.expiredAt}; whether a failover pool may expire a lease now
 * (ISC's pool_timer skips, e.g., active leases on a secondary in normal state and expired leases outside
 * partner-down) is the failover policy's call, passed in as {@link TransitionContext.failover}.
 *
 * @module
 */
import { cloneLease, type BindingState, type Lease } from './lease.js';
import type { LeaseStore } from './lease-store.js';

/** What the transition needs to know about the lease's pool. */
export interface TransitionContext {
  /** The lease's pool has a `failover peer`. */
  failover: boolean;
  /**
   * With failover, when this server is in partner-down: its stos + MCLT, which ISC writes as `tsfp` of a
   * lease entering expired/released/abandoned/reset (the time it may reuse it).
   */
  partnerDownReuseTime?: number;
}

/** The result of one transition. */
export interface TransitionResult {
  /** The lease after the transition (a new object). */
  lease: Lease;
  /** The event that ran: an expiry (active → not released) or a release, or none. */
  event: 'expiry' | 'release' | null;
  /** Statements the caller must execute for that event (`on expiry` / `on release` text), if any. */
  statements: string | null;
}

/**
 * Moves `lease` to its next binding state (ISC make_binding_state_transition): runs the expiry or release
 * event when the lease leaves active (clearing client-specific bindings: agent options, client-hostname,
 * billing class, host; tstp = ends), then sets the new next binding state.
 */
export function makeBindingStateTransition(lease: Lease, ctx: TransitionContext): TransitionResult {
  const l = cloneLease(lease);
  const from = l.bindingState;
  const to = l.nextBindingState;
  let event: TransitionResult['event'] = null;
  let statements: string | null = null;
  if (from !== to) {
    const expiry = ctx.failover
      ? (from === 'expired' || from === 'active') && (to === 'free' || to === 'backup')
      : from === 'active' && to !== 'released';
    const release = ctx.failover
      ? from === 'released' && (to === 'free' || to === 'backup')
      : from === 'active' && to === 'released';
    if (expiry || release) {
      event = expiry ? 'expiry' : 'release';
      statements = (expiry ? l.on.expiry : l.on.release) ?? null;
      // "No sense releasing a lease after it's expired" / "A released lease can't expire": both go.
      l.on = l.on.commit !== undefined ? { commit: l.on.commit } : {};
      l.billingClass = null;
      l.agentOptions = [];
      l.clientHostname = null;
      l.hostname = null;
      l.tstp = l.ends;
    }
  }
  l.bindingState = to;
  l.nextBindingState = nextAfter(to, ctx.failover);
  if (ctx.failover && ctx.partnerDownReuseTime !== undefined && ['expired', 'released', 'abandoned', 'reset'].includes(to)) {
    l.tsfp = ctx.partnerDownReuseTime;
  }
  return { lease: l, event, statements };
}

/** The next binding state ISC sets on entering `state`. */
export function nextAfter(state: BindingState, failover: boolean): BindingState {
  switch (state) {
    case 'active':
      return failover ? 'expired' : 'free';
    case 'expired':
    case 'released':
    case 'abandoned':
    case 'reset':
      return 'free';
    default:
      return state;
  }
}

/**
 * Runs one expiry pass over the store: every lease due at `now` for which `ctxFor` returns a context (return
 * null to skip a lease, e.g. a failover pool in which this server may not expire it now) is transitioned,
 * `onEvent` is called for each expiry/release event (to run and log its statements; it may change the
 * lease's scope), then all results are committed in one transaction. Returns the results.
 */
export function expireDueLeases(
  store: LeaseStore,
  now: number,
  ctxFor: (lease: Lease) => TransitionContext | null,
  onEvent?: (result: TransitionResult) => void,
  limit = 10_000,
): TransitionResult[] {
  const results: TransitionResult[] = [];
  for (const lease of store.expiredAt(now, limit)) {
    const ctx = ctxFor(lease);
    if (!ctx) continue;
    const r = makeBindingStateTransition(lease, ctx);
    results.push(r);
  }
  // Events first (ISC runs on_expiry/on_release before writing the new state): their `set`s go into the
  // lease's scope and are committed with it.
  if (onEvent) for (const r of results) if (r.event) onEvent(r);
  if (results.length > 0) store.commit(results.map((r) => r.lease));
  return results;
}
