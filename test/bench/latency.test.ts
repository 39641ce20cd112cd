/**
 * bench/latency.ts: per-exchange DORA latency from a capture. The fixture is a real capture made by
 * the harness's method (tcpdump -s 300 on cli0 while perfdhcp 2.2 ran 30 DORA/s for 2 s against
 * Kea 2.2), saved with perfdhcp's own output of that run, which is the oracle for the counts;
 * tcpdump's own decoder (when installed) is the oracle for xids, message types and timestamps.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeDhcpFrame, goodput, pairExchanges, parsePcap, percentile, summarize,
  DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, type CapturedDhcp,
} from '../../bench/latency.js';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bench', 'run.sh'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bench/run.sh not found above the test file');
    d = up;
  }
  return d;
}
const fixtures = join(repoRoot(), 'test', 'bench', 'fixtures');
const pcapPath = join(fixtures, 'kea-r30-cli0.pcap');

/** perfdhcp's final block for one exchange type: sent and received packet counts. */
function perfdhcpCounts(text: string, exchange: 'DISCOVER-OFFER' | 'REQUEST-ACK'): { sent: number; received: number } {
  const block = text.split(`***Statistics for: ${exchange}***`)[1];
  const num = (label: string): number => Number(new RegExp(`^${label}: (\\d+)`, 'm').exec(block)?.[1]);
  return { sent: num('sent packets'), received: num('received packets') };
}

function hasTcpdump(): boolean {
  try { execFileSync('tcpdump', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

describe('bench latency: capture parsing and pairing', () => {
  const { linktype, packets, skipped } = parsePcap(readFileSync(pcapPath));
  const perf = readFileSync(join(fixtures, 'kea-r30-perfdhcp.out'), 'utf8');

  test('every packet of the capture is a DHCP packet, as many of each type as perfdhcp counted', () => {
    assert.equal(linktype, 1);
    assert.equal(skipped, 0);
    const dO = perfdhcpCounts(perf, 'DISCOVER-OFFER');
    const rA = perfdhcpCounts(perf, 'REQUEST-ACK');
    const count = (op: number, t: number): number => packets.filter((p) => p.op === op && p.msgType === t).length;
    assert.equal(count(1, DHCPDISCOVER), dO.sent);
    assert.equal(count(2, DHCPOFFER), dO.received);
    assert.equal(count(1, DHCPREQUEST), rA.sent);
    assert.equal(count(2, DHCPACK), rA.received);
    assert.equal(packets.length, dO.sent + dO.received + rA.sent + rA.received);
  });

  test('pairing by xid: one DORA sample per exchange perfdhcp completed, DO + turn + RA = DORA', () => {
    const l = pairExchanges(packets);
    const rA = perfdhcpCounts(perf, 'REQUEST-ACK');
    assert.equal(l.discovers, perfdhcpCounts(perf, 'DISCOVER-OFFER').sent);
    assert.equal(l.doraMs.length, rA.received);
    assert.equal(l.doMs.length, l.discovers);
    assert.equal(l.raMs.length, rA.received);
    for (let i = 0; i < l.doraMs.length; i++) {
      assert.ok(l.doMs[i] > 0 && l.raMs[i] > 0, 'replies come after requests');
      // DORA includes the client's OFFER->REQUEST turn, so it is at least DO + RA
      assert.ok(l.doraMs[i] >= l.doMs[i] + l.raMs[i] - 1e-6, `exchange ${i}`);
    }
    // perfdhcp's min/max delays bracket what the wire shows (it stamps in user space, later)
    const s = summarize(l.doMs);
    const perfMax = Number(/max delay: ([\d.]+) ms/.exec(perf.split('***Statistics for: DISCOVER-OFFER***')[1])?.[1]);
    assert.ok(s.max <= perfMax + 0.5, `capture DO max ${s.max} vs perfdhcp ${perfMax}`);
  });

  test('the same DORA latencies as tcpdump\'s own decoding of the capture', { skip: hasTcpdump() ? false : 'tcpdump not installed' }, () => {
    const out = execFileSync('tcpdump', ['-r', pcapPath, '-n', '-tt', '-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // packet header lines start with the epoch time; the BOOTP line carries the xid, a later one the type
    const disc = new Map<string, number>();
    const ack = new Map<string, number>();
    let ts = 0;
    let xid = '';
    for (const line of out.split('\n')) {
      const t = /^(\d+\.\d+) IP /.exec(line);
      if (t) { ts = Number(t[1]); xid = ''; continue; }
      // tcpdump leaves out a zero xid (perfdhcp's first exchange)
      if (line.includes('BOOTP/DHCP')) xid = /xid (0x[0-9a-f]+)/.exec(line)?.[1] ?? '0x0';
      const m = /DHCP-Message \(53\), length 1: (\w+)/.exec(line);
      if (m && xid) {
        if (m[1] === 'Discover' && !disc.has(xid)) disc.set(xid, ts);
        if (m[1] === 'ACK' && !ack.has(xid)) ack.set(xid, ts);
      }
    }
    const expected = [...ack].map(([k, a]) => (a - (disc.get(k) ?? Number.NaN)) * 1000).sort((p, q) => p - q);
    const ours = [...pairExchanges(packets).doraMs].sort((p, q) => p - q);
    assert.equal(ours.length, expected.length);
    assert.ok(expected.length > 0);
    // tcpdump prints microseconds, our reader keeps them: equal within float error
    ours.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 0.002, `${v} vs ${expected[i]}`));
  });

  test('decodeDhcpFrame: non-DHCP and cut-off frames', () => {
    const frame = readFirstFrame();
    const d = decodeDhcpFrame(frame, 1);
    assert.ok(d);
    assert.equal(d.op, 1);
    assert.equal(d.msgType, DHCPDISCOVER);
    // the same frame as ARP is not DHCP
    const arp = Buffer.from(frame); arp.writeUInt16BE(0x0806, 12);
    assert.equal(decodeDhcpFrame(arp, 1), undefined);
    // a different UDP port is not DHCP
    const dns = Buffer.from(frame); dns.writeUInt16BE(53, 14 + 20 + 2);
    assert.equal(decodeDhcpFrame(dns, 1), undefined);
    // cut before option 53: still a DHCP packet, message type unknown
    assert.equal(decodeDhcpFrame(frame.subarray(0, 14 + 20 + 8 + 240), 1)?.msgType, 0);
    // cut inside the fixed header: not decodable
    assert.equal(decodeDhcpFrame(frame.subarray(0, 14 + 20 + 8 + 20), 1), undefined);
    assert.throws(() => parsePcap(Buffer.alloc(10)), /not a pcap file/);
  });

  /** The first record's frame, read from the file's layout (24-byte header, 16-byte record header). */
  function readFirstFrame(): Buffer {
    const buf = readFileSync(pcapPath);
    const incl = buf.readUInt32LE(24 + 8);
    return buf.subarray(24 + 16, 24 + 16 + incl);
  }
});

describe('bench latency: percentiles and strict goodput', () => {
  test('nearest-rank percentiles', () => {
    const oneTo100 = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(oneTo100, 50), 50);
    assert.equal(percentile(oneTo100, 99), 99);
    assert.equal(percentile(oneTo100, 100), 100);
    const oneTo10 = Array.from({ length: 10 }, (_, i) => i + 1);
    assert.equal(percentile(oneTo10, 99), 10); // ceil(9.9) = 10th value
    assert.equal(percentile(oneTo10, 90), 9);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    const s = summarize([5, 1, 4, 2, 3]);
    assert.deepEqual(s, { n: 5, p50: 3, p90: 5, p99: 5, max: 5 });
  });

  test('goodput applies the drop time to each half and counts only exchanges started in the window (after the warm-up)', () => {
    const mac = (i: number): string => `000c010203${i.toString(16).padStart(2, '0')}`;
    const ex = (i: number, d: number, o?: number, r?: number, a?: number): CapturedDhcp[] => {
      const p: CapturedDhcp[] = [{ ts: d, op: 1, xid: i, chaddr: mac(i), msgType: DHCPDISCOVER }];
      if (o !== undefined) p.push({ ts: o, op: 2, xid: i, chaddr: mac(i), msgType: DHCPOFFER });
      if (r !== undefined) p.push({ ts: r, op: 1, xid: i, chaddr: mac(i), msgType: DHCPREQUEST });
      if (a !== undefined) p.push({ ts: a, op: 2, xid: i, chaddr: mac(i), msgType: DHCPACK });
      return p;
    };
    const pk = [
      ...ex(1, 100.0, 100.01, 100.011, 100.02), // good
      ...ex(2, 100.5, 101.4, 101.41, 102.3), // OFFER after 0.9 s, ACK 0.89 s after REQUEST: good (DORA 1.8 s)
      ...ex(3, 101.0, 102.2, 102.21, 102.22), // OFFER 1.2 s late: dropped by perfdhcp's rule
      ...ex(4, 101.5, 101.51, 101.52, 102.6), // ACK 1.08 s after REQUEST: dropped
      ...ex(5, 102.0, 102.01), // never REQUESTed/ACKed
      ...ex(6, 103.9, 103.91, 103.92, 103.93), // good, last one inside a 4 s window from 100.0
      ...ex(7, 104.0, 104.01, 104.02, 104.03), // good but started at the window's end: not counted
    ];
    // shuffle by time as on the wire
    pk.sort((a, b) => a.ts - b.ts);
    assert.equal(goodput(pk, { windowS: 4, skipS: 0, dropMs: 1000, sample: 1 }), 3 / 4);
    assert.equal(goodput(pk, { windowS: 4, skipS: 0, dropMs: 1000, sample: 16 }), (3 * 16) / 4);
    // skipping the first second leaves #3..#6 started in [1, 4): only #6 is good, over 3 s
    assert.equal(goodput(pk, { windowS: 4, skipS: 1, dropMs: 1000, sample: 1 }), 1 / 3);
    const l = pairExchanges(pk);
    assert.equal(l.discovers, 7);
    assert.equal(l.doraMs.length, 6); // all but #5, late ones included (latency is reported, not judged)
  });

  test('an ACK seen before its REQUEST, or replies without a DISCOVER, are not paired', () => {
    const c = '000c01020304';
    const pk: CapturedDhcp[] = [
      { ts: 1, op: 2, xid: 9, chaddr: c, msgType: DHCPACK }, // capture started mid-exchange
      { ts: 2, op: 1, xid: 10, chaddr: c, msgType: DHCPDISCOVER },
      { ts: 2.1, op: 2, xid: 10, chaddr: c, msgType: DHCPACK }, // no REQUEST yet
    ];
    const l = pairExchanges(pk);
    assert.equal(l.discovers, 1);
    assert.equal(l.doraMs.length, 0);
  });
});
