/**
 * Counting the client hardware addresses of a DHCP storm from a raw capture (issue 8, overload: "a DISCOVER
 * storm of 50,000 distinct MACs"): tcpdump writes a classic pcap file (`-w`, short snap length) in the
 * sender's namespace, and {@link distinctChaddrs} reads chaddr out of every UDP datagram to port 67 in it.
 * A text capture (`tcpdump -vv`, as netns.ts startCapture) is too slow for hundreds of thousands of packets.
 */
import { readFileSync } from 'node:fs';
import { delay, type NsProcess, type Topology } from './netns.js';

/** Octets of each packet to keep: Ethernet 14 + IPv4 20 (60 with options) + UDP 8 + chaddr end 34. */
export const CHADDR_SNAPLEN = 120;

/** A running raw capture. */
export interface RawCapture {
  readonly process: NsProcess;
  /** Stops tcpdump (SIGINT: it writes out what it holds) and returns its kernel drop count. */
  stop(): Promise<{ dropped: number; captured: number }>;
}

/** Starts `tcpdump -w file` on `ifname` in `ns` with `filter`, waits until it listens. */
export async function startRawCapture(topo: Topology, ns: string, ifname: string, file: string, filter: string): Promise<RawCapture> {
  const p = topo.spawn(ns, 'tcpdump', ['-n', '-U', '-s', String(CHADDR_SNAPLEN), '-B', '8192', '-i', ifname, '-w', file, ...filter.split(/\s+/)]);
  await p.waitFor(/listening on/, { timeoutMs: 10_000, stream: 'stderr' });
  return {
    process: p,
    async stop() {
      await delay(200);
      await p.stop('SIGINT', 5000);
      const n = (re: RegExp): number => Number(re.exec(p.stderr)?.[1] ?? 0);
      return { captured: n(/(\d+) packets? captured/), dropped: n(/(\d+) packets? dropped by kernel/) };
    },
  };
}

/** What {@link distinctChaddrs} found. */
export interface ChaddrCount {
  /** Ethernet/IPv4/UDP datagrams to port 67 with a whole chaddr in the capture. */
  datagrams: number;
  /** Distinct first-6-octet chaddrs among them. */
  distinct: number;
}

/** Reads a classic pcap file (Ethernet link type) and counts the distinct chaddrs of datagrams to port 67. */
export function distinctChaddrs(file: string): ChaddrCount {
  const b = readFileSync(file);
  if (b.length < 24) return { datagrams: 0, distinct: 0 };
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`${file}: link type ${u32(20)}, not Ethernet`);
  const seen = new Set<string>();
  let datagrams = 0;
  for (let off = 24; off + 16 <= b.length; ) {
    const caplen = u32(off + 8);
    const pkt = b.subarray(off + 16, Math.min(b.length, off + 16 + caplen));
    off += 16 + caplen;
    if (pkt.length < 14 + 20 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt[14]! & 0x0f) * 4;
    if (pkt[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    if (pkt.length < udp + 8 || pkt.readUInt16BE(udp + 2) !== 67) continue;
    const chaddr = udp + 8 + 28;
    if (pkt.length < chaddr + 6) continue;
    datagrams++;
    seen.add(pkt.subarray(chaddr, chaddr + 6).toString('hex'));
  }
  return { datagrams, distinct: seen.size };
}
