/**
 * Micro-benchmark of the DHCPv4 codec on real captured packets (test/fixtures/wire).
 * Run: node --import tsx bench/wire-codec.bench.ts   (or node dist/bench/wire-codec.bench.js after make build)
 * Prints ns/op and ops/s for decode of a client request, encode of a server reply, and the per-DORA-step
 * codec work (decode request + encode reply), plus the IPv4/UDP framing of a reply.
 */
import { decodePacket } from '../src/wire/decode.js';
import { encodePacket, iscReplyMaxSize } from '../src/wire/encode.js';
import { buildIpv4Udp } from '../src/wire/ipv4-udp.js';
import { maxMessageSize, parameterRequestList, type DhcpPacket } from '../src/wire/packet.js';
import { loadWireVectors } from '../test/support/wire-vectors.js';

function payload(scenario: string, type: number): Buffer {
  const f = loadWireVectors().find((x) => x.scenario === scenario);
  const p = f?.packets.find((x) => x.expected.messageType === type);
  if (!p) throw new Error(`no packet of type ${type} in ${scenario}`);
  return Buffer.from(p.dhcp, 'hex');
}

function decoded(b: Buffer): DhcpPacket {
  const r = decodePacket(b);
  if (!r.ok) throw new Error(r.error.toString());
  return r.packet;
}

let sink = 0;
/**
 * Runs fn for about `ms` of wall time and reports both wall time and CPU time (user + system of this
 * process) per operation: on a shared, loaded machine the CPU figure is the codec's real cost.
 */
function bench(name: string, fn: () => number, ms = 1000): void {
  for (let i = 0; i < 20000; i++) sink += fn(); // warm-up
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(ms) * 1_000_000n;
  let t = t0;
  while (t < end) {
    for (let i = 0; i < 1000; i++) sink += fn();
    n += 1000;
    t = process.hrtime.bigint();
  }
  const c = process.cpuUsage(c0);
  const wall = Number(t - t0) / n;
  const cpu = ((c.user + c.system) * 1000) / n;
  console.log(
    `${name.padEnd(48)} ${cpu.toFixed(0).padStart(6)} ns/op CPU ${Math.round(1e9 / cpu).toLocaleString('en').padStart(10)} ops/s per core` +
      `  (wall ${wall.toFixed(0)} ns/op)`,
  );
}

const discover = payload('dhclient-dora-release', 1);
const request = payload('dhcpcd-dora-release', 3);
const ackBytes = payload('dhclient-dora-release', 5);
const bigAckBytes = payload('dhclient-long-overload', 5);
const relayed = payload('relay-agent-option82', 3);
const req = decoded(discover);
const ack = decoded(ackBytes);
const bigAck = decoded(bigAckBytes);
const opts = { parameterRequestList: parameterRequestList(req), maxSize: iscReplyMaxSize(maxMessageSize(req)) };
const bigReq = decoded(payload('dhclient-long-overload', 3));
const bigOpts = { parameterRequestList: parameterRequestList(bigReq), maxSize: iscReplyMaxSize(maxMessageSize(bigReq)) };

console.log(`node ${process.version}, ${new Date().toISOString()}, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
bench('decode DHCPDISCOVER (dhclient, 300 B)', () => (decodePacket(discover).ok ? 1 : 0));
bench('decode DHCPREQUEST (dhcpcd, 348 B, 8 options)', () => (decodePacket(request).ok ? 1 : 0));
bench('decode relayed DHCPREQUEST with option 82', () => (decodePacket(relayed).ok ? 1 : 0));
bench('encode DHCPACK (ISC order, 10 options)', () => encodePacket(ack, opts).length);
bench('encode long DHCPACK (RFC 3396 split + overload)', () => encodePacket(bigAck, bigOpts).length);
bench('decode overloaded DHCPACK (548 B)', () => (decodePacket(bigAckBytes).ok ? 1 : 0));
bench('decode request + encode reply (one DORA step)', () => {
  const r = decodePacket(discover);
  return r.ok ? encodePacket(ack, { parameterRequestList: parameterRequestList(r.packet), maxSize: 576 }).length : 0;
});
bench('IPv4+UDP frame of a 300 B reply (checksums)', () =>
  buildIpv4Udp({ source: 0x0a4d0001, destination: 0x0a4d0064, sourcePort: 67, destinationPort: 68 }, ackBytes).length,
);
if (sink === 42) console.log('');
