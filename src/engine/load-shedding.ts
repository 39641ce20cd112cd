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
 * 3. when more wait but the oldest has waited less than `reorderAfterMs` (a burst the server is working
 *    through), the turn takes the `turnBudget` oldest, in arrival order;
 * 4. when more wait and the oldest has waited longer (overload), the turn takes `turnBudget` of them:
 *    DHCPREQUESTs first (they complete an exchange for which an address is already offered), then
 *    RELEASE/DECLINE/INFORM and anything else, then DISCOVERs; newest first within each class. The others
 *    stay queued (and age). The chosen ones run in arrival order.
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
  /** A backlog whose oldest request waited at least this long is served REQUESTs and newest first. */
  readonly reorderAfterMs: number;
}

/**
 * Defaults: one second (perfdhcp's and most clients' patience), 128 requests a turn (~20 ms of work), and
 * reordering once the oldest waited 100 ms (five turns' worth).
 */
export const DEFAULT_SHEDDING: SheddingOptions = { maxAgeMs: 1000, turnBudget: 128, reorderAfterMs: 100 };

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

/** A FIFO with O(1) push, shift and pop (array plus head index, compacted as it drains). */
class Deque<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  first(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  pop(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items.pop()!;
    if (this.head >= this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return x;
  }
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

interface Slot<T> {
  readonly item: T;
  readonly seq: number;
}

/**
 * The server's queue of waiting requests under the policy above, O(1) per request: one arrival-ordered
 * queue per class (REQUEST, other, DISCOVER); the stale come off the fronts, a backlogged turn takes from
 * the backs (the newest).
 */
export class RequestQueue<T extends QueuedRequest> {
  private readonly classes: [Deque<Slot<T>>, Deque<Slot<T>>, Deque<Slot<T>>] = [new Deque(), new Deque(), new Deque()];
  private seq = 0;

  constructor(private readonly options: SheddingOptions = DEFAULT_SHEDDING) {}

  /** Number of requests waiting. */
  get length(): number {
    return this.classes[0].length + this.classes[1].length + this.classes[2].length;
  }

  /** Queues a request (in arrival order). */
  push(item: T): void {
    this.classes[priority(item.messageType)]!.push({ item, seq: this.seq++ });
  }

  /** Takes the next turn's requests (in arrival order) and removes the stale ones (returned too). */
  takeTurn(nowMs: number): { run: T[]; stale: T[] } {
    const oldest = nowMs - this.options.maxAgeMs;
    const stale: Slot<T>[] = [];
    for (const c of this.classes) {
      while (c.length > 0 && c.first()!.item.receivedAt < oldest) stale.push(c.shift()!);
      // Arrival order is kernel-stamp order only nearly (several sockets, clock steps): drop late stragglers too.
    }
    const bySeq = (a: Slot<T>, b: Slot<T>): number => a.seq - b.seq;
    let run: Slot<T>[];
    let firstWaiting = Infinity;
    for (const c of this.classes) if (c.length > 0) firstWaiting = Math.min(firstWaiting, c.first()!.item.receivedAt);
    if (this.length <= this.options.turnBudget) {
      run = [];
      for (const c of this.classes) for (const s of c.drain()) (s.item.receivedAt < oldest ? stale : run).push(s);
    } else if (firstWaiting > nowMs - this.options.reorderAfterMs) {
      // A burst being worked through: the oldest first, as they came.
      run = [];
      while (run.length < this.options.turnBudget) {
        let next: Deque<Slot<T>> | undefined;
        for (const c of this.classes) if (c.length > 0 && (next === undefined || c.first()!.seq < next.first()!.seq)) next = c;
        if (next === undefined) break;
        run.push(next.shift()!);
      }
    } else {
      run = [];
      for (const c of this.classes) {
        while (run.length < this.options.turnBudget && c.length > 0) {
          const s = c.pop()!;
          (s.item.receivedAt < oldest ? stale : run).push(s);
        }
      }
    }
    run.sort(bySeq);
    stale.sort(bySeq);
    return { run: run.map((s) => s.item), stale: stale.map((s) => s.item) };
  }

  /** Removes and returns everything waiting, in arrival order. */
  clear(): T[] {
    const all: Slot<T>[] = [];
    for (const c of this.classes) all.push(...c.drain());
    return all.sort((a, b) => a.seq - b.seq).map((s) => s.item);
  }
}

/**
 * Plans one turn over `queue` (in arrival order) at time `nowMs`: the {@link RequestQueue} policy as a pure
 * function (what runs now, what is shed, what waits).
 */
export function planTurn<T extends QueuedRequest>(queue: readonly T[], nowMs: number, options: SheddingOptions = DEFAULT_SHEDDING): TurnPlan<T> {
  const q = new RequestQueue<T>(options);
  for (const x of queue) q.push(x);
  const { run, stale } = q.takeTurn(nowMs);
  return { run, stale, later: q.clear() };
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
