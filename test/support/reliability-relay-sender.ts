/**
 * A relay agent that repeats DHCPDISCOVERs (issue 8, overload/hostile input): run INSIDE a test namespace, it
 * sends `count` well-formed DISCOVERs from port 67 of its own address (giaddr = that address) to the server,
 * cycling through `macs` client hardware addresses, each carrying a relay agent information option (82) of
 * `subOptions` sub-options (circuit-id/remote-id style, 4 octets each) split over several option instances
 * (RFC 3396), so the datagram stays a legal size (under 1,500 octets, within ISC's 4,095). Paced to `rate`.
 *
 * Usage: node [--import tsx] reliability-relay-sender.(ts|js) '{"count":N,"rate":R,"macs":M,"subOptions":K,"server":"A.B.C.D","self":"A.B.C.E"}'
 * Prints one JSON line: { sent, failed, bytes, seconds }.
 */
import dgram from 'node:dgram';

interface RelayConfig {
  count: number;
  rate: number;
  macs: number;
  subOptions: number;
  server: string;
  self: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as RelayConfig;

const ip = (a: string): number[] => a.split('.').map(Number);

/** Option 82 as instances of at most 255 octets (RFC 3396), `n` sub-options of 4 octets each. */
function agentOption(n: number, salt: number): Buffer {
  const subs: number[] = [];
  for (let i = 0; i < n; i++) subs.push(1 + (i % 2), 4, (salt >>> 8) & 0xff, salt & 0xff, (i >>> 8) & 0xff, i & 0xff);
  const out: number[] = [];
  for (let o = 0; o < subs.length; o += 255) {
    const part = subs.slice(o, o + 255);
    out.push(82, part.length, ...part);
  }
  return Buffer.from(out);
}

/** A DHCPDISCOVER relayed by `giaddr` for client number `client`. */
function discover(xid: number, client: number, giaddr: number[], n: number): Buffer {
  const head = Buffer.alloc(236);
  head[0] = 1; // BOOTREQUEST
  head[1] = 1; // Ethernet
  head[2] = 6;
  head[3] = 1; // hops: one relay
  head.writeUInt32BE(xid >>> 0, 4);
  Buffer.from(giaddr).copy(head, 24);
  Buffer.from([0x02, 0x52, 0x4c, 0x00, (client >>> 8) & 0xff, client & 0xff]).copy(head, 28);
  const cookie = Buffer.from([99, 130, 83, 99]);
  const opts = Buffer.concat([Buffer.from([53, 1, 1, 55, 3, 1, 3, 6]), agentOption(n, client), Buffer.from([255])]);
  return Buffer.concat([head, cookie, opts]);
}

async function main(): Promise<void> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true, sendBufferSize: 4 * 1024 * 1024 });
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.bind(67, cfg.self, () => r()));
  const giaddr = ip(cfg.self);
  const stats = { sent: 0, failed: 0, bytes: 0, seconds: 0 };
  const start = process.hrtime.bigint();
  let inFlight = 0;
  for (let i = 0; i < cfg.count; i++) {
    const d = discover(0x5eed0000 + i, i % cfg.macs, giaddr, cfg.subOptions);
    inFlight++;
    s.send(d, 67, cfg.server, (err) => {
      inFlight--;
      if (err) stats.failed++;
    });
    stats.sent++;
    stats.bytes += d.length;
    if (stats.sent % 20 === 0 || inFlight > 256) {
      const ahead = stats.sent / cfg.rate - Number(process.hrtime.bigint() - start) / 1e9;
      if (ahead > 0.002) await new Promise((r) => setTimeout(r, ahead * 1000));
      else await new Promise((r) => setImmediate(r));
      while (inFlight > 256) await new Promise((r) => setImmediate(r));
    }
  }
  while (inFlight > 0) await new Promise((r) => setImmediate(r));
  stats.seconds = Number(process.hrtime.bigint() - start) / 1e9;
  s.close();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`relay sender: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
