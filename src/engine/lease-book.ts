/**
 * The engine's lease state for one event-loop turn: the lease store, plus the decisions of this turn not
 * yet committed (so that the second packet of a turn sees what the first one took), plus offers (ISC
 * keeps an offered lease in memory with `ends = now + 120` and does not write it to dhcpd.leases).
 *
 * @module
 */
import { cloneLease, type Lease } from '../../leases/lease.js';
import type { InactiveQueue, LeaseLookup } from '../policy/allocate.js';
import { MinHeap } from './min-heap.js';
import { FreeQueues, canKeepQueues } from './free-queues.js';
import type { LeaseView } from './ports.js';
import type { CommitInfo, LeaseStore } from '../../leases/lease-store.js';

/** An offered lease held in memory until it ends. */
interface Offer {
  readonly lease: Lease;
  readonly until: number;
  /** Tells this offer from a later one of the same address in the expiry heap. */
  readonly seq: number;
}

/**
 * Where the search for never-used addresses of one address segment [lo, hi] stands: every address below
 * `next` was recorded, pending or offered when the cursor passed it. Records are never deleted while the
 * server runs, so the cursor only moves forward; an offered address behind it that becomes free again (the
 * offer expired or was dropped without a binding) goes into `returned`, so that the lowest free address is
 * always min(`returned`, the first free one from `next`).
 */
interface VirginCursor {
  readonly lo: number;
  readonly hi: number;
  next: number;
  readonly returned: MinHeap<number>;
  readonly inReturned: Set<number>;
}

/** Store + pending writes + offers, with the lookups the allocator needs. */
export class LeaseBook implements LeaseLookup {
  private readonly pending = new Map<number, Lease>();
  /** This turn's writes by client identity (as the offers below): a lookup no longer walks every write of the turn. */
  private readonly pendingByUid = new Map<string, Set<number>>();
  private readonly pendingByHardware = new Map<string, Set<number>>();
  private readonly offers = new Map<number, Offer>();
  /**
   * Offers indexed by client identity (uid hex, `htype:hardware hex`), so that a lookup costs O(matches)
   * and not O(outstanding offers): offers of clients that never REQUEST (drops, floods) stay for 120 s,
   * and scanning them on every DISCOVER made the server slower the more it was overloaded.
   */
  private readonly offersByUid = new Map<string, Set<number>>();
  private readonly offersByHardware = new Map<string, Set<number>>();
  /** Offers by `until`, so that every expired offer is dropped on time (not only those at the map's front). */
  private readonly offerExpiry = new MinHeap<{ until: number; address: number; seq: number }>((a, b) => a.until < b.until);
  private offerSeq = 0;
  private now = 0;
  private readonly recorded = new Set<number>();
  /** Never-used address search state per segment (by `lo`), and the same sorted by `lo` (to find a segment by address). */
  private readonly cursors = new Map<number, VirginCursor>();
  private cursorList: VirginCursor[] = [];

  /** ISC's free queues over the store (when it has a commit listener): the allocator reads queue heads. */
  private readonly queues: FreeQueues | undefined;

  /** Client identities with no lease in the store (when the store tells us about commits). */
  private readonly absent: AbsentClients | undefined;

  /** Which client identities the store may have a lease for (a filter; when the store can be scanned for them). */
  private readonly known: KnownClients | undefined;

  /** `expectedLeases`: how many leases the store may come to hold (the config's range sizes), to size filters. */
  constructor(
    private readonly store: LeaseView,
    expectedLeases = 0,
  ) {
    this.queues = canKeepQueues(store) ? new FreeQueues(store, (a) => this.recorded.add(a)) : undefined;
    this.absent = canKeepQueues(store) ? new AbsentClients(store, this.recorded) : undefined;
    this.known = canKeepQueues(store) && hasClientPages(store) ? new KnownClients(store, 2 * expectedLeases) : undefined;
  }

  /** Sets the time used to drop stale offers. */
  setNow(now: number): void {
    this.now = now;
    for (;;) {
      const top = this.offerExpiry.peek();
      if (top === undefined || top.until > now) break;
      this.offerExpiry.pop();
      if (this.offers.get(top.address)?.seq === top.seq) this.expireOffer(top.address);
    }
  }

  /** Drops an offer that ended without a binding: a never-used address becomes free again. */
  private expireOffer(address: number): void {
    this.deleteOffer(address);
    if (!this.pending.has(address)) this.returnVirgin(address);
  }

  private overlay(address: number): Lease | undefined {
    const p = this.pending.get(address);
    if (p !== undefined) return p;
    const o = this.offers.get(address);
    if (o !== undefined) {
      if (o.until > this.now) return o.lease;
      this.expireOffer(address);
    }
    return undefined;
  }

  byAddress(address: number): Lease | undefined {
    return this.overlay(address >>> 0) ?? this.store.getByAddress(address >>> 0);
  }

  /** Merges store results with overlay records (overlay wins; overlay-only matches added). */
  private merge(fromStore: Lease[], match: (l: Lease) => boolean, offered: ReadonlySet<number> | undefined, written: ReadonlySet<number> | undefined): Lease[] {
    if (fromStore.length === 0 && offered === undefined && written === undefined) return []; // a new client
    const out = new Map<number, Lease>();
    for (const l of fromStore) {
      const o = this.overlay(l.address);
      if (o === undefined) out.set(l.address, l);
      else if (match(o)) out.set(l.address, o);
    }
    for (const a of written ?? []) {
      const l = this.pending.get(a);
      if (l !== undefined && match(l)) out.set(a, l);
    }
    for (const a of offered ?? []) {
      const o = this.offers.get(a);
      if (o !== undefined && o.until > this.now && !this.pending.has(a) && match(o.lease)) out.set(a, o.lease);
    }
    // ISC keeps its uid/hw chains ordered by preference: active first, then most recent `ends`.
    return [...out.values()].sort((x, y) => rank(y) - rank(x));
  }

  byUid(uid: Buffer): Lease[] {
    const key = uidKey(uid);
    const absent = this.absent;
    let fromStore: Lease[];
    if (absent !== undefined && absent.uid.has(key)) fromStore = [];
    else if (this.known !== undefined && !this.known.mayHave(SEED_UID, 0, uid)) fromStore = [];
    else {
      fromStore = this.store.getByUid(uid);
      if (fromStore.length === 0) absent?.note(absent.uid, key);
    }
    return this.merge(fromStore, (l) => l.uid !== null && l.uid.equals(uid), this.offersByUid.get(key), this.pendingByUid.get(key));
  }

  byHardware(htype: number, address: Buffer): Lease[] {
    const key = hardwareKey(htype, address);
    const absent = this.absent;
    let fromStore: Lease[];
    if (absent !== undefined && absent.hardware.has(key)) fromStore = [];
    else if (this.known !== undefined && !this.known.mayHave(SEED_HARDWARE, htype, address)) fromStore = [];
    else {
      fromStore = this.store.getByHardware({ htype, address });
      if (fromStore.length === 0) absent?.note(absent.hardware, key);
    }
    return this.merge(
      fromStore,
      (l) => l.hardware !== null && l.hardware.htype === htype && l.hardware.address.equals(address),
      this.offersByHardware.get(key),
      this.pendingByHardware.get(key),
    );
  }

  *inRange(first: number, last: number): Iterable<Lease> {
    const seen = new Set<number>();
    for (const l of this.store.leases({ from: first, to: last })) {
      seen.add(l.address);
      yield this.overlay(l.address) ?? l;
    }
    const extra: Lease[] = [];
    for (const l of this.pending.values()) if (l.address >= first && l.address <= last && !seen.has(l.address)) extra.push(l);
    for (const [a, o] of this.offers) {
      if (a >= first && a <= last && !seen.has(a) && !this.pending.has(a) && o.until > this.now) extra.push(o.lease);
    }
    yield* extra.sort((x, y) => x.address - y.address);
  }

  /**
   * Inactive recorded leases of the range (an offered one as offered). Offers of addresses the store has no
   * inactive record of are left out: such an offer holds a never-used address or an active lease, and
   * neither is at the head of a free queue while it is held (its `ends` lies in the future), so walking
   * every outstanding offer here (O(offers) per allocation under a flood) would find nothing.
   */
  *inactiveInRange(first: number, last: number): Iterable<Lease> {
    const seen = new Set<number>();
    for (const l of this.store.leases({ from: first, to: last, states: INACTIVE })) {
      seen.add(l.address);
      const o = this.overlay(l.address);
      if (o === undefined) yield l;
      else if (o.bindingState !== 'active') yield o;
    }
    for (const l of this.pending.values()) if (l.address >= first && l.address <= last && !seen.has(l.address) && l.bindingState !== 'active') yield l;
  }

  /** Builds the free queues of a range now (one store scan) instead of at its first allocation. */
  primeQueues(first: number, last: number): void {
    this.queues?.queues(first, last);
  }

  /**
   * The inactive leases of [first, last] as ISC's free queues (free, backup, expired/released/reset,
   * abandoned), each in allocation order, plus this turn's not yet committed inactive leases (unsorted);
   * undefined when the store cannot keep queues (then use {@link inactiveInRange}).
   */
  inactiveQueues(first: number, last: number): InactiveQueue[] | undefined {
    if (this.queues === undefined) return undefined;
    const q = this.queues.queues(first, last);
    const out: InactiveQueue[] = (['free', 'backup', 'other', 'abandoned'] as const).map((group) => ({ group, sorted: true, leases: this.queueLeases(q[group]) }));
    const extra: Lease[] = [];
    for (const l of this.pending.values()) if (l.address >= first && l.address <= last && l.bindingState !== 'active') extra.push(l);
    if (extra.length > 0) out.push({ group: 'pending', sorted: false, leases: extra });
    return out;
  }

  private *queueLeases(items: Iterable<{ readonly address: number }>): Iterable<Lease> {
    for (const { address } of items) {
      if (this.pending.has(address)) continue; // reported with the turn's writes
      const o = this.overlay(address);
      if (o !== undefined) {
        if (o.bindingState !== 'active') yield o;
        continue;
      }
      const l = this.store.getByAddress(address);
      if (l !== undefined && l.bindingState !== 'active') yield l;
    }
  }

  /**
   * Whether an address has a lease record (store, this turn's writes, or an offer). Addresses known to be
   * recorded are cached (records are never deleted by the server), so that finding a never-used address
   * costs about one store lookup.
   */
  isRecorded(address: number): boolean {
    if (this.recorded.has(address)) return true;
    if (this.overlay(address) !== undefined) return true;
    // A range with built queues: its scan put every record of it in `recorded`, and every commit since adds
    // its addresses (AbsentClients' listener), so an address not there has no record (no store miss per
    // allocation, which was one SQLite query for every never-used address handed out).
    if (this.queues !== undefined && this.queues.covers(address)) return false;
    if (this.store.getByAddress(address) !== undefined) {
      this.recorded.add(address);
      return true;
    }
    return false;
  }

  /**
   * The lowest address in [lo, hi] that has no lease record (store, this turn's writes, or a live offer) and
   * is not in `exclude`: O(1) amortised over a run of allocations (a cursor per segment plus the addresses
   * that came back behind it), instead of a walk from `lo` asking {@link isRecorded} for every address.
   * Same answer as that walk.
   */
  firstUnrecorded(lo: number, hi: number, exclude?: ReadonlySet<number>): number | undefined {
    const c = this.cursor(lo, hi);
    let skipped: number[] | undefined;
    let found: number | undefined;
    while (c.returned.size > 0) {
      const a = c.returned.peek()!;
      if (this.isRecorded(a)) {
        // Taken again (its offer is live, or it got a record): it comes back if that offer drops.
        c.returned.pop();
        c.inReturned.delete(a);
        continue;
      }
      if (exclude !== undefined && exclude.has(a)) {
        (skipped ??= []).push(c.returned.pop()!);
        continue;
      }
      found = a;
      break;
    }
    if (skipped !== undefined) for (const a of skipped) c.returned.push(a);
    if (found !== undefined) return found;
    while (c.next <= hi && this.isRecorded(c.next)) c.next++;
    for (let a = c.next; a <= hi; a++) {
      if (exclude !== undefined && exclude.has(a)) continue;
      if (!this.isRecorded(a)) return a;
    }
    return undefined;
  }

  private cursor(lo: number, hi: number): VirginCursor {
    let c = this.cursors.get(lo);
    if (c !== undefined && c.hi === hi) return c;
    c = { lo, hi, next: lo, returned: new MinHeap<number>((a, b) => a < b), inReturned: new Set() };
    this.cursors.set(lo, c);
    this.cursorList = [...this.cursors.values()].sort((a, b) => a.lo - b.lo);
    return c;
  }

  /** A never-used address whose offer ended: if a cursor already passed it, it goes back to that segment. */
  private returnVirgin(address: number): void {
    if (this.recorded.has(address)) return;
    const list = this.cursorList;
    let l = 0;
    let h = list.length - 1;
    while (l <= h) {
      const m = (l + h) >> 1;
      const c = list[m]!;
      if (address < c.lo) h = m - 1;
      else if (address > c.hi) l = m + 1;
      else {
        if (address < c.next && !c.inReturned.has(address)) {
          c.inReturned.add(address);
          c.returned.push(address);
        }
        return;
      }
    }
  }

  /** Records a binding change to commit with this turn. */
  put(lease: Lease): void {
    this.deleteOffer(lease.address);
    this.setPending(lease);
  }

  /** Records a write of this turn, keeping the identity indexes current. */
  private setPending(lease: Lease): void {
    const old = this.pending.get(lease.address);
    if (old !== undefined) {
      if (old.uid !== null) removeIndex(this.pendingByUid, uidKey(old.uid), old.address);
      if (old.hardware !== null) removeIndex(this.pendingByHardware, hardwareKey(old.hardware.htype, old.hardware.address), old.address);
    }
    this.pending.set(lease.address, lease);
    if (lease.uid !== null) addIndex(this.pendingByUid, uidKey(lease.uid), lease.address);
    if (lease.hardware !== null) addIndex(this.pendingByHardware, hardwareKey(lease.hardware.htype, lease.hardware.address), lease.address);
  }

  /** Holds an offer in memory until `until` (not committed, as in ISC). */
  offer(lease: Lease, until: number): void {
    if (this.pending.has(lease.address)) {
      this.setPending(lease);
      return;
    }
    this.deleteOffer(lease.address);
    // The heap keeps only a sequence number: holding the Offer itself would keep every superseded offer (and
    // its relay-agent options) alive for up to 120 s, hundreds of MiB under a DISCOVER storm.
    const o: Offer = { lease, until, seq: ++this.offerSeq };
    this.offers.set(lease.address, o);
    this.queues?.setOffered(lease.address, until);
    this.offerExpiry.push({ until, address: lease.address, seq: o.seq });
    if (lease.uid !== null) addIndex(this.offersByUid, uidKey(lease.uid), lease.address);
    if (lease.hardware !== null) addIndex(this.offersByHardware, hardwareKey(lease.hardware.htype, lease.hardware.address), lease.address);
  }

  /** Drops an offer (e.g. when ping-check found the address in use). */
  dropOffer(address: number): void {
    this.expireOffer(address);
  }

  private deleteOffer(address: number): void {
    const o = this.offers.get(address);
    if (o === undefined) return;
    this.offers.delete(address);
    this.queues?.setOffered(address, undefined);
    if (o.lease.uid !== null) removeIndex(this.offersByUid, uidKey(o.lease.uid), address);
    if (o.lease.hardware !== null) removeIndex(this.offersByHardware, hardwareKey(o.lease.hardware.htype, o.lease.hardware.address), address);
  }

  /** The changes of this turn, clearing them (call after a successful commit, or to retry). */
  takePending(): Lease[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    this.pendingByUid.clear();
    this.pendingByHardware.clear();
    return out;
  }

  /** Number of pending writes. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** A modifiable copy of a lease. */
  static copy(lease: Lease): Lease {
    return cloneLease(lease);
  }
}

/**
 * A negative cache of the store's client index: client ids and hardware addresses for which the store has no
 * lease. A new client is looked up at its DISCOVER and again at its REQUEST (and its OFFER is not in the
 * store); the second query is answered here. Every committed lease removes its identities (the store's
 * commit listener), so the cache is never wrong about the store; it is dropped when it grows large.
 */
class AbsentClients {
  readonly uid = new Set<string>();
  readonly hardware = new Set<string>();
  private static readonly MAX = 100_000;

  /** `recorded`: the lease book's set of addresses known to have a record, completed with every commit. */
  constructor(store: Pick<LeaseStore, 'onCommit'>, recorded: Set<number>) {
    onCommitWhileAlive(store, this, (self, info) => {
      for (const l of info.leases) {
        recorded.add(l.address);
        if (l.uid !== null && self.uid.size > 0) self.uid.delete(uidKey(l.uid));
        if (l.hardware !== null && self.hardware.size > 0) self.hardware.delete(hardwareKey(l.hardware.htype, l.hardware.address));
      }
    });
  }

  note(set: Set<string>, key: string): void {
    if (set.size >= AbsentClients.MAX) set.clear();
    set.add(key);
  }
}

/** What {@link KnownClients} reads: pages of the store's client identities (leases/sqlite-lease-store.ts). */
interface ClientPages {
  clientIdentityPage(after: number, limit: number): [number | null, string | null];
}

function hasClientPages(store: object): store is ClientPages & Pick<LeaseStore, 'onCommit'> {
  return typeof (store as { clientIdentityPage?: unknown }).clientIdentityPage === 'function';
}

const SEED_UID = 0x811c9dc5;
const SEED_HARDWARE = 0x01000193;

/**
 * Calls `listener` with `owner` after every commit of `store` while `owner` is alive. The owner is held
 * weakly, so a lease book replaced by a reload is not kept alive by the store; its listener removes itself
 * at the first commit after the owner is gone.
 */
function onCommitWhileAlive<T extends object>(
  store: Pick<LeaseStore, 'onCommit'>,
  owner: T,
  listener: (owner: T, info: CommitInfo) => void,
): void {
  const ref = new WeakRef(owner);
  const off = store.onCommit((info) => {
    const self = ref.deref();
    if (self === undefined) {
      off();
      return;
    }
    listener(self, info);
  });
}

/**
 * A Bloom filter of the client ids and hardware addresses the store has leases for, so that a new client's
 * DHCPDISCOVER is known to have no lease without the two SQLite lookups (by uid, by hardware) it cost: on a
 * filling pool every DISCOVER is a new client's. Built in the background after start, a page of leases per
 * event-loop turn, and used only once the scan is complete; every commit adds its leases' identities (the
 * store's commit listener, which every writer goes through), so it never misses a client the store has.
 * Nothing is removed (a false "may have" only costs the lookup it saves otherwise); when it holds twice
 * the keys it was sized for, it is rebuilt for 1.25 times the keys it holds, the same way.
 */
class KnownClients {
  /** Leases per scan step (~1-2 ms of the event loop). */
  private static readonly PAGE = 1024;
  private bits = new Int32Array(0);
  /** Filter size in bits (a multiple of 32). */
  private size = 0;
  /** Keys it was sized for (8 bits each: with 3 probes about 3 % of absent keys read as "may have"), and keys added. */
  private capacity = 0;
  private keys = 0;
  private ready = false;
  private scan: { after: number } | null = null;

  /** `expectedKeys`: the identities the store may come to hold (sizes the filter; it grows if they are more). */
  constructor(
    private readonly store: ClientPages & Pick<LeaseStore, 'onCommit'>,
    expectedKeys: number,
  ) {
    onCommitWhileAlive(store, this, (self, info) => {
      for (const l of info.leases) self.addIdentity(l.hardware?.htype ?? null, l.hardware?.address ?? null, l.uid);
    });
    this.rebuild(expectedKeys);
  }

  /** Whether the store may have a lease for the identity (always true until the filter is complete). */
  mayHave(seed: number, htype: number, data: Buffer): boolean {
    // (an empty identity is not told apart from none in the scan: always looked up)
    if (!this.ready || data.length === 0) return true;
    const h1 = hashBytes(seed, htype, data);
    const h2 = (Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d) | 1) >>> 0;
    for (let i = 0; i < 3; i++) {
      const b = ((h1 + Math.imul(i, h2)) >>> 0) % this.size;
      if ((this.bits[b >>> 5]! & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }

  private add(seed: number, htype: number, data: Buffer): void {
    this.addHash(hashBytes(seed, htype, data));
  }

  private addHash(h1: number): void {
    const h2 = (Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d) | 1) >>> 0;
    for (let i = 0; i < 3; i++) {
      const b = ((h1 + Math.imul(i, h2)) >>> 0) % this.size;
      this.bits[b >>> 5]! |= 1 << (b & 31);
    }
    if (++this.keys > 2 * this.capacity && this.scan === null) this.rebuild(this.keys + (this.keys >>> 2));
  }

  private addIdentity(htype: number | null, hardware: Buffer | null, uid: Buffer | null): void {
    if (uid !== null) this.add(SEED_UID, 0, uid);
    if (hardware !== null && htype !== null) this.add(SEED_HARDWARE, htype, hardware);
  }

  /**
   * Adds the identities of a page of {@link ClientPages.clientIdentityPage} (`htype.HWHEX.UIDHEX`, space
   * separated), hashing the hex digits' octets as {@link hashBytes} hashes a Buffer; returns the leases read.
   */
  private addPage(text: string): number {
    let rows = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      rows++;
      let htype = -1;
      for (let c = text.charCodeAt(i); c !== 46; c = text.charCodeAt(++i)) htype = (htype < 0 ? 0 : htype * 10) + (c - 48);
      i++; // '.'
      let h = Math.imul(SEED_HARDWARE ^ (htype < 0 ? 0 : htype), 0x01000193);
      const hwStart = i;
      for (; text.charCodeAt(i) !== 46; i += 2) h = Math.imul(h ^ ((hexDigit(text.charCodeAt(i)) << 4) | hexDigit(text.charCodeAt(i + 1))), 0x01000193);
      if (htype >= 0 && i > hwStart) this.addHash(h >>> 0);
      i++; // '.'
      h = Math.imul(SEED_UID, 0x01000193);
      const uidStart = i;
      for (; i < n && text.charCodeAt(i) !== 32; i += 2) h = Math.imul(h ^ ((hexDigit(text.charCodeAt(i)) << 4) | hexDigit(text.charCodeAt(i + 1))), 0x01000193);
      if (i > uidStart) this.addHash(h >>> 0);
      i++; // ' '
    }
    return rows;
  }

  /**
   * Starts (again) from an empty filter for `capacity` keys: not used until the scan of the store is done.
   * 8 bits a key: 1,000,000 leases with a uid and a hardware address each take ~2.5 MB after the last rebuild.
   */
  private rebuild(capacity: number): void {
    const size = Math.ceil((Math.max(capacity, 1 << 16) * 8) / 32) * 32;
    this.bits = new Int32Array(size >>> 5);
    this.size = size;
    this.capacity = size / 8;
    this.keys = 0;
    this.ready = false;
    const scan = { after: -1 };
    this.scan = scan;
    const ref = new WeakRef(this);
    const step = (): void => {
      const self = ref.deref();
      if (self === undefined || self.scan !== scan) return;
      let page;
      try {
        page = self.store.clientIdentityPage(scan.after, KnownClients.PAGE);
      } catch {
        self.scan = null; // the store closed (a short-lived engine): the filter stays unused
        return;
      }
      const [last, text] = page;
      const rows = last === null || text === null ? 0 : self.addPage(text);
      if (last !== null) scan.after = last;
      if (rows < KnownClients.PAGE) {
        self.scan = null;
        if (self.keys > 2 * self.capacity) self.rebuild(self.keys + (self.keys >>> 2));
        else self.ready = true;
        return;
      }
      setTimeout(step, 0).unref();
    };
    setTimeout(step, 0).unref();
  }
}

/** Value of an upper-case hex digit (SQLite's hex()). */
function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : c - 55;
}

/** FNV-1a over a seed, a type octet and the bytes. */
function hashBytes(seed: number, htype: number, data: Buffer): number {
  let h = Math.imul(seed ^ htype, 0x01000193);
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Map keys of client identities: the octets as latin1 text (one character per octet, so distinct octets give
 * distinct keys), half the length of hex and cheaper to make; the hardware type as a leading character.
 */
function uidKey(uid: Buffer): string {
  return uid.toString('latin1');
}

function hardwareKey(htype: number, address: Buffer): string {
  return String.fromCharCode(htype) + address.toString('latin1');
}

function addIndex(index: Map<string, Set<number>>, key: string, address: number): void {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([address]));
  else set.add(address);
}

function removeIndex(index: Map<string, Set<number>>, key: string, address: number): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(address);
  if (set.size === 0) index.delete(key);
}

const INACTIVE = ['free', 'backup', 'expired', 'released', 'reset', 'abandoned'] as const;

function rank(l: Lease): number {
  const active = l.bindingState === 'active' ? 1 : 0;
  const ends = l.ends === null ? 0xffffffff : l.ends;
  return active * 2 ** 33 + ends;
}
