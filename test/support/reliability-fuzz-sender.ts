/**
 * The packet fuzzer of the hostile-input test and soak (issue 8): run INSIDE a test namespace, it sends a
 * reproducible stream of generated and mutated DHCP datagrams (`soakDatagrams(wireVectorPayloads(), …)`)
 * at a server, rotating through three ways in: broadcast to 255.255.255.255:67, unicast to the server, and
 * as a relay agent (giaddr set to the sender's own address, sent from port 67). Paced to `rate` datagrams a
 * second so that the server, not the kernel's socket buffer, sees them.
 *
 * Usage: node [--import tsx] reliability-fuzz-sender.(ts|js) '{"count":N,"seed":S,"server":"A.B.C.D","self":"A.B.C.E","rate":R}'
 * Prints one JSON line: { sent, failed, bytes, seconds, byWay: {broadcast, unicast, relay} }.
 */
import dgram from 'node:dgram';
import { soakDatagrams } from './packet-arbitraries.js';
import { wireVectorPayloads } from './wire-vectors.js';

interface SenderConfig {
  count: number;
  seed: number;
  server: string;
  self: string;
  rate: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as SenderConfig;
const GIADDR_OFFSET = 24;

function ipBytes(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

async function bound(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true, sendBufferSize: 4 * 1024 * 1024 });
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.bind(port, cfg.self, () => r()));
  s.setBroadcast(true);
  return s;
}

async function main(): Promise<void> {
  // Broadcasts must leave from an unbound-address socket, or Linux picks the route by source address.
  const bcast = dgram.createSocket({ type: 'udp4', reuseAddr: true, sendBufferSize: 4 * 1024 * 1024 });
  bcast.on('error', () => undefined);
  await new Promise<void>((r) => bcast.bind(68, () => r()));
  bcast.setBroadcast(true);
  const relay = await bound(67);
  const self = ipBytes(cfg.self);
  const stats = { sent: 0, failed: 0, bytes: 0, seconds: 0, byWay: { broadcast: 0, unicast: 0, relay: 0 } };
  const start = process.hrtime.bigint();
  let inFlight = 0;
  let i = 0;
  const done = (err: Error | null): void => {
    inFlight--;
    if (err) stats.failed++;
  };
  for (const d of soakDatagrams(wireVectorPayloads(), cfg.count, cfg.seed)) {
    const way = i % 3;
    i++;
    if (way === 0) {
      bcast.send(d, 67, '255.255.255.255', done);
      stats.byWay.broadcast++;
    } else if (way === 1) {
      bcast.send(d, 67, cfg.server, done);
      stats.byWay.unicast++;
    } else {
      const b = Buffer.from(d);
      if (b.length >= GIADDR_OFFSET + 4) self.copy(b, GIADDR_OFFSET);
      relay.send(b, 67, cfg.server, done);
      stats.byWay.relay++;
    }
    inFlight++;
    stats.sent++;
    stats.bytes += d.length;
    // Pace: stay at `rate` a second on average, and bound the sends in flight.
    if (stats.sent % 50 === 0 || inFlight > 512) {
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      const ahead = stats.sent / cfg.rate - elapsed;
      if (ahead > 0.002) await new Promise((r) => setTimeout(r, ahead * 1000));
      else await new Promise((r) => setImmediate(r));
      while (inFlight > 512) await new Promise((r) => setImmediate(r));
    }
  }
  while (inFlight > 0) await new Promise((r) => setImmediate(r));
  stats.seconds = Number(process.hrtime.bigint() - start) / 1e9;
  bcast.close();
  relay.close();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`fuzz sender: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
