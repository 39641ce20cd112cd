/**
 * Which queued requests an overloaded server handles in the next turn (pure policy; the server applies it).
 *
 * Under a flood the socket queue fills with requests whose clients gave up long ago (a client retransmits
 * after about 4 s, RFC 2131 §4.1, and a reply that comes later than about a second is useless to perfdhcp and
 * to most clients, which have already sent again). Handling them in arrival order means answering only stale
 * requests, and goodput collapses. So:
 *
 * 1. a request that waited longer than `maxAgeMs` is shed (counted; its client will send again);
 * 2. when no more than `turnBudget` requests wait, they are all handled in arrival order (ISC's order);
 * 3. when more wait, the turn takes `turnBudget` of them: DHCPREQUESTs first (they complete an exchange for
 *    which an address is already offered), then RELEASE/DECLINE/INFORM and anything else, then DISCOVERs;
 *    newest first within each class. The others stay queued (and age). The chosen ones run in arrival order.
 *
 * ISC dhcpd has no such policy (it reads one packet at a time in arrival order); this is what keeps the
 * goodput of an overloaded dhcpd-ts near its sustainable rate.
 *
 * @module
 */

/** Shedding parameters. */
export interface SheddingOptions {
  /** Requests that waited longer than this (ms since arrival) are dropped unanswered. */
  readonly maxAgeMs: number;
  /** At most this many requests per turn when more are waiting (bounds a turn's latency). */
  readonly turnBudget: number;
}

/** Defaults: one second (perfdhcp's and most clients' patience), 256 requests a turn. */
export const DEFAULT_SHEDDING: SheddingOptions = { maxAgeMs: 1000, turnBudget: 256 };

/** What the policy needs to know about a waiting request. */
export interface QueuedRequest {
  /** Arrival time, ms since the epoch. */
  readonly receivedAt: number;
  /** DHCP message type (option 53), 0 when none could be read (BOOTP, malformed). */
  readonly messageType: number;
}

/** The decision for one turn. Every input item is in exactly one of the three lists. */
export interface TurnPlan<T> {
  /** To handle now, in arrival order. */
  readonly run: T[];
  /** Too old: drop unanswered. */
  readonly stale: T[];
  /** Leave queued for a later turn, in arrival order. */
  readonly later: T[];
}

const DHCPDISCOVER = 1;
const DHCPREQUEST = 3;

/** Lower is handled first when the turn budget is exceeded. */
function priority(messageType: number): number {
  if (messageType === DHCPREQUEST) return 0;
  if (messageType === DHCPDISCOVER) return 2;
  return 1;
}

/** Plans a turn over `queue` (in arrival order) at time `nowMs`. */
export function planTurn<T extends QueuedRequest>(queue: readonly T[], nowMs: number, options: SheddingOptions = DEFAULT_SHEDDING): TurnPlan<T> {
  const stale: T[] = [];
  const fresh: T[] = [];
  const oldest = nowMs - options.maxAgeMs;
  for (const q of queue) (q.receivedAt < oldest ? stale : fresh).push(q);
  if (fresh.length <= options.turnBudget) return { run: fresh, stale, later: [] };
  // Backlogged: choose by class, newest first; keep arrival order within what runs and what waits.
  const order = fresh.map((q, i) => i);
  order.sort((a, b) => {
    const pa = priority(fresh[a]!.messageType);
    const pb = priority(fresh[b]!.messageType);
    if (pa !== pb) return pa - pb;
    const ta = fresh[a]!.receivedAt;
    const tb = fresh[b]!.receivedAt;
    if (ta !== tb) return tb - ta;
    return b - a;
  });
  const chosen = new Uint8Array(fresh.length);
  for (let k = 0; k < options.turnBudget; k++) chosen[order[k]!] = 1;
  const run: T[] = [];
  const later: T[] = [];
  fresh.forEach((q, i) => (chosen[i] === 1 ? run : later).push(q));
  return { run, stale, later };
}

/**
 * The DHCP message type of a raw BOOTP/DHCP datagram without decoding it: option 53 from the options field
 * (RFC 2132 §9.6), 0 when there is none or the datagram is malformed. Overloaded option fields
 * (sname/file, RFC 2131 §4.1) are not searched: a prioritisation hint, not a decode.
 */
export function peekMessageType(data: Uint8Array): number {
  // op(1) ... chaddr(16) sname(64) file(128) = 236 bytes, then the magic cookie 99.130.83.99.
  if (data.length < 240 || data[236] !== 99 || data[237] !== 130 || data[238] !== 83 || data[239] !== 99) return 0;
  let i = 240;
  while (i < data.length) {
    const code = data[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255 || i + 1 >= data.length) return 0;
    const len = data[i + 1]!;
    if (code === 53) return len >= 1 && i + 2 < data.length ? data[i + 2]! : 0;
    i += 2 + len;
  }
  return 0;
}
