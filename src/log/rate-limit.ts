/**
 * A per-key token bucket for repetitive log lines (ISC logs "no free leases on subnet X" once per
 * DHCPDISCOVER; a flood of clients would flood syslog). `allow(key)` says whether to log now; when a
 * key becomes loggable again after suppression, the number suppressed meanwhile is returned so the
 * caller can log it once.
 */

export interface RateLimiterOptions {
  /** Lines allowed per key in a burst; default 5. */
  burst?: number;
  /** One more line allowed every `intervalMs` per key; default 1000 ms. */
  intervalMs?: number;
  /** Keys remembered at most (least recently seen are forgotten); default 1024. */
  maxKeys?: number;
  /** Clock in ms; default Date.now. */
  now?: () => number;
}

export interface RateDecision {
  /** Log this line now. */
  allow: boolean;
  /** Lines of this key suppressed since the last allowed one (only set when allow is true). */
  suppressed: number;
}

export interface RateLimiter {
  check(key: string): RateDecision;
  /** Total lines suppressed since creation. */
  suppressedTotal(): number;
}

interface Bucket {
  tokens: number;
  last: number;
  suppressed: number;
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const burst = options.burst ?? 5;
  const interval = options.intervalMs ?? 1000;
  const maxKeys = options.maxKeys ?? 1024;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let total = 0;

  return {
    check(key) {
      const t = now();
      let b = buckets.get(key);
      if (b === undefined) {
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next();
          if (!oldest.done) buckets.delete(oldest.value);
        }
        b = { tokens: burst, last: t, suppressed: 0 };
      } else {
        buckets.delete(key); // re-insert: Map order = recency
        const refill = Math.floor((t - b.last) / interval);
        if (refill > 0) {
          b.tokens = Math.min(burst, b.tokens + refill);
          b.last += refill * interval;
        }
      }
      buckets.set(key, b);
      if (b.tokens > 0) {
        if (b.tokens === burst) b.last = t;
        b.tokens--;
        const suppressed = b.suppressed;
        b.suppressed = 0;
        return { allow: true, suppressed };
      }
      b.suppressed++;
      total++;
      return { allow: false, suppressed: 0 };
    },
    suppressedTotal: () => total,
  };
}

/**
 * Logs `message` through `emit` unless the key is over its rate; after a suppression ends, first logs
 * `N similar messages suppressed` (so nothing disappears without a trace).
 */
export function logRateLimited(
  limiter: RateLimiter,
  key: string,
  message: string,
  emit: (message: string) => void,
): void {
  const d = limiter.check(key);
  if (!d.allow) return;
  if (d.suppressed > 0) emit(`${d.suppressed} similar message${d.suppressed === 1 ? '' : 's'} suppressed: ${key}`);
  emit(message);
}
