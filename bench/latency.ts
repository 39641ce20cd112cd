/**
 * Per-exchange DHCP latency from a packet capture, for bench/run.sh's p50/p99 columns.
 *
 * perfdhcp 2.2 prints only min/avg/max/std of its DISCOVER-OFFER and REQUEST-ACK delays, and its
 * `-x t` timer dump has no transaction id, so a DISCOVER cannot be joined to its ACK. The harness
 * therefore captures the client's interface (tcpdump in the client namespace, snap length 300) and
 * this module pairs the packets by (xid, chaddr): perfdhcp's REQUEST reuses the xid of the DISCOVER
 * it answers (RFC 2131 §4.4.1 lets a client keep the xid through one exchange), so one key follows
 * a client from DISCOVER to ACK.
 *
 * Run: node dist/bench/latency.js CAPTURE.pcap   -> one CSV line (see {@link LATENCY_CSV_HEADER})
 *      node dist/bench/latency.js --header        -> the header line
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One DHCP packet seen in the capture. `ts` is seconds since the epoch (microsecond precision). */
export interface CapturedDhcp {
  ts: number;
  /** BOOTP op: 1 = BOOTREQUEST (client or relay to server), 2 = BOOTREPLY. */
  op: number;
  xid: number;
  /** Client hardware address as lower-case hex (hlen bytes). */
  chaddr: string;
  /** DHCP message type (option 53), 0 when absent or cut off by the snap length. */
  msgType: number;
}

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPACK = 5;

/** pcap link types this reader understands (tcpdump on a veth writes EN10MB). */
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_RAW = 101;

/**
 * Decode the DHCP fields of one captured frame, or undefined when it is not a UDP/IPv4 DHCP packet
 * (ports 67/68) or is too short to hold the fixed BOOTP header.
 */
export function decodeDhcpFrame(frame: Buffer, linktype: number): Omit<CapturedDhcp, 'ts'> | undefined {
  let ip: number;
  if (linktype === LINKTYPE_ETHERNET) {
    let off = 12;
    let etherType = frame.length >= 14 ? frame.readUInt16BE(off) : 0;
    // 802.1Q / 802.1ad tags
    while ((etherType === 0x8100 || etherType === 0x88a8) && frame.length >= off + 6) {
      off += 4;
      etherType = frame.readUInt16BE(off);
    }
    if (etherType !== 0x0800) return undefined;
    ip = off + 2;
  } else if (linktype === LINKTYPE_LINUX_SLL) {
    if (frame.length < 16 || frame.readUInt16BE(14) !== 0x0800) return undefined;
    ip = 16;
  } else if (linktype === LINKTYPE_RAW) {
    ip = 0;
  } else {
    return undefined;
  }
  if (frame.length < ip + 20 || frame[ip] >> 4 !== 4 || frame[ip + 9] !== 17) return undefined;
  // a fragment after the first carries no UDP header
  if ((frame.readUInt16BE(ip + 6) & 0x1fff) !== 0) return undefined;
  const udp = ip + (frame[ip] & 0x0f) * 4;
  if (frame.length < udp + 8) return undefined;
  const sport = frame.readUInt16BE(udp);
  const dport = frame.readUInt16BE(udp + 2);
  if (!((sport === 67 || sport === 68) && (dport === 67 || dport === 68))) return undefined;
  const b = udp + 8;
  // op..chaddr: 44 bytes of the fixed header (RFC 2131 §2)
  if (frame.length < b + 44) return undefined;
  const hlen = Math.min(frame[b + 2], 16);
  const op = frame[b];
  const xid = frame.readUInt32BE(b + 4);
  const chaddr = frame.subarray(b + 28, b + 28 + hlen).toString('hex');
  return { op, xid, chaddr, msgType: findMessageType(frame, b) };
}

/** Option 53 from the options field (after the magic cookie), 0 if not found in the captured bytes. */
function findMessageType(frame: Buffer, bootp: number): number {
  let o = bootp + 236;
  if (frame.length < o + 4 || frame.readUInt32BE(o) !== 0x63825363) return 0;
  o += 4;
  while (o < frame.length) {
    const code = frame[o];
    if (code === 0) { o++; continue; }
    if (code === 255 || o + 1 >= frame.length) return 0;
    const len = frame[o + 1];
    if (code === 53) return len >= 1 && o + 2 < frame.length ? frame[o + 2] : 0;
    o += 2 + len;
  }
  return 0;
}

/**
 * Read a classic pcap file (either byte order, microsecond or nanosecond timestamps) and return the
 * DHCP packets in it. A truncated last record (capture stopped mid-write) is ignored.
 */
export function parsePcap(buf: Buffer): { linktype: number; packets: CapturedDhcp[]; skipped: number } {
  if (buf.length < 24) throw new Error('not a pcap file: shorter than its 24-byte header');
  const magicLE = buf.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) { le = true; nano = magicLE === 0xa1b23c4d; }
  else {
    const magicBE = buf.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) throw new Error(`not a pcap file: magic 0x${magicLE.toString(16)}`);
    le = false; nano = magicBE === 0xa1b23c4d;
  }
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20) & 0x0fffffff;
  const packets: CapturedDhcp[] = [];
  let skipped = 0;
  let o = 24;
  while (o + 16 <= buf.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    if (o + 16 + incl > buf.length) break;
    const d = decodeDhcpFrame(buf.subarray(o + 16, o + 16 + incl), linktype);
    if (d) packets.push({ ts: sec + frac / (nano ? 1e9 : 1e6), ...d });
    else skipped++;
    o += 16 + incl;
  }
  return { linktype, packets, skipped };
}

/** Latencies in milliseconds of every completed exchange in a capture. */
export interface ExchangeLatencies {
  /** DISCOVER -> ACK of the same client (the whole DORA, including the client's OFFER->REQUEST turn). */
  doraMs: number[];
  /** DISCOVER -> OFFER. */
  doMs: number[];
  /** REQUEST -> ACK. */
  raMs: number[];
  /** Distinct exchanges started (first DISCOVER per key). */
  discovers: number;
}

/**
 * Pair DISCOVER/OFFER/REQUEST/ACK by (xid, chaddr). The first occurrence of each message counts
 * (a second server's duplicate OFFER, e.g. the other failover peer's, does not shorten anything
 * because only the first reply reaches the client first). An exchange without an ACK contributes
 * no DORA sample: the caller reports `discovers - doraMs.length` as unanswered.
 */
export function pairExchanges(packets: readonly CapturedDhcp[]): ExchangeLatencies {
  interface Ex { d?: number; o?: number; r?: number; a?: number }
  const ex = new Map<string, Ex>();
  for (const p of packets) {
    const key = `${p.xid}/${p.chaddr}`;
    let e = ex.get(key);
    if (p.op === 1 && p.msgType === DHCPDISCOVER) {
      if (!e) { e = {}; ex.set(key, e); }
      e.d ??= p.ts;
    } else if (!e) {
      continue; // a reply or REQUEST whose DISCOVER was before the capture started
    } else if (p.op === 2 && p.msgType === DHCPOFFER) {
      e.o ??= p.ts;
    } else if (p.op === 1 && p.msgType === DHCPREQUEST) {
      e.r ??= p.ts;
    } else if (p.op === 2 && p.msgType === DHCPACK) {
      // an ACK before the REQUEST was captured cannot be this exchange's
      if (e.r !== undefined) e.a ??= p.ts;
    }
  }
  const out: ExchangeLatencies = { doraMs: [], doMs: [], raMs: [], discovers: 0 };
  for (const e of ex.values()) {
    if (e.d === undefined) continue;
    out.discovers++;
    if (e.o !== undefined) out.doMs.push((e.o - e.d) * 1000);
    if (e.r !== undefined && e.a !== undefined) out.raMs.push((e.a - e.r) * 1000);
    if (e.a !== undefined) out.doraMs.push((e.a - e.d) * 1000);
  }
  return out;
}

/** Options of {@link goodput}. */
export interface GoodputOptions {
  /** Only exchanges whose DISCOVER was sent within this many seconds after the first DISCOVER count. */
  windowS: number;
  /**
   * ...and not in the first `skipS` seconds (warm-up: queues still empty), as the harness's
   * achieved rate skips perfdhcp's first 1 s report. The rate is over `windowS - skipS`.
   */
  skipS: number;
  /** perfdhcp's drop rule (-d): OFFER within dropMs of the DISCOVER and ACK within dropMs of the REQUEST. */
  dropMs: number;
  /** The capture kept 1 exchange in `sample` (BPF filter on the xid's low bits); 1 = all. */
  sample: number;
}

/**
 * Completed exchanges per second, applying perfdhcp's drop rule strictly: perfdhcp itself
 * counts a reply as received if it arrives before its periodic clean-up of stale requests, so
 * under a flood it reports ACKs that came seconds late. Exchanges started between `skipS` and
 * `windowS` seconds after the first DISCOVER count; the result is scaled by `sample`.
 */
export function goodput(packets: readonly CapturedDhcp[], o: GoodputOptions): number {
  interface Ex { d?: number; o?: number; r?: number; a?: number }
  const ex = new Map<string, Ex>();
  let t0 = Number.POSITIVE_INFINITY;
  for (const p of packets) {
    const key = `${p.xid}/${p.chaddr}`;
    let e = ex.get(key);
    if (p.op === 1 && p.msgType === DHCPDISCOVER) {
      if (!e) { e = {}; ex.set(key, e); }
      if (e.d === undefined) { e.d = p.ts; if (p.ts < t0) t0 = p.ts; }
    } else if (!e) {
      continue;
    } else if (p.op === 2 && p.msgType === DHCPOFFER) e.o ??= p.ts;
    else if (p.op === 1 && p.msgType === DHCPREQUEST) e.r ??= p.ts;
    else if (p.op === 2 && p.msgType === DHCPACK && e.r !== undefined) e.a ??= p.ts;
  }
  let good = 0;
  const lim = o.dropMs / 1000;
  for (const e of ex.values()) {
    if (e.d === undefined || e.d - t0 >= o.windowS || e.d - t0 < o.skipS) continue;
    if (e.o === undefined || e.r === undefined || e.a === undefined) continue;
    if (e.o - e.d <= lim && e.a - e.r <= lim) good++;
  }
  const span = o.windowS - o.skipS;
  return span > 0 ? (good * o.sample) / span : Number.NaN;
}

/**
 * Nearest-rank percentile (the smallest value such that at least p % of the samples are <= it),
 * NaN for no samples. `sorted` must be in ascending order.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1];
}

export interface LatencySummary { n: number; p50: number; p90: number; p99: number; max: number }

export function summarize(values: readonly number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : Number.NaN };
}

export const LATENCY_CSV_HEADER = 'lat_discovers,lat_answered,dora_p50_ms,dora_p90_ms,dora_p99_ms,dora_max_ms,do_p50_ms,do_p99_ms,ra_p50_ms,ra_p99_ms';

/** One CSV line for bench/run.sh (empty fields for NaN). */
export function latencyCsv(l: ExchangeLatencies): string {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '');
  const dora = summarize(l.doraMs);
  const d = summarize(l.doMs);
  const r = summarize(l.raMs);
  return [l.discovers, dora.n, f(dora.p50), f(dora.p90), f(dora.p99), f(dora.max), f(d.p50), f(d.p99), f(r.p50), f(r.p99)].join(',');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [arg, ...rest] = process.argv.slice(2);
  const opt = (name: string, dflt: number): number => {
    const i = rest.indexOf(name);
    const v = i >= 0 ? Number(rest[i + 1]) : dflt;
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: a number >= 0`);
    return v;
  };
  if (arg === '--header') {
    console.log(`${LATENCY_CSV_HEADER},cap_goodput`);
  } else if (!arg) {
    console.error('usage: node dist/bench/latency.js CAPTURE.pcap [--window S] [--skip S] [--drop-ms MS] [--sample N] | --header');
    process.exitCode = 2;
  } else {
    const { packets } = parsePcap(readFileSync(arg));
    const g = goodput(packets, { windowS: opt('--window', 10), skipS: opt('--skip', 1), dropMs: opt('--drop-ms', 1000), sample: opt('--sample', 1) });
    console.log(`${latencyCsv(pairExchanges(packets))},${Number.isFinite(g) ? g.toFixed(1) : ''}`);
  }
}
