/**
 * In-process DORA benchmark of the request path a standalone server runs per exchange, without the kernel:
 * DISCOVER and REQUEST bytes as perfdhcp sends them (relayed, a new client each time) → decodePacket → the
 * engine with the bench's dhcpd.conf (bench/lib/servers.sh) → the turn's group commit on a real SQLite file
 * (`writeWithoutSync`, as src/server/dhcp-server.ts flushStash) with the -lf mirror attached (as the server
 * opens its store: leases/commands.ts openServerLeaseStore) → encodePacket of every reply, and the ACK log
 * lines handed to a discarding logger. The WAL fsync is off the event loop in the server (wal-sync.ts) and is
 * left out here unless `--fsync` (then one fs.fsync of the WAL per commit, awaited).
 *
 * Run: node --import tsx bench/engine-dora.bench.ts [--clients N] [--warm N] [--turn K] [--fsync] [--reps R]
 * (after `make build`: node dist/bench/engine-dora.bench.js). `--cpu-prof` works as usual with node.
 * Prints CPU µs per DORA (user + system of the whole process, all threads) and wall µs per DORA per
 * repetition, with the load average: the CPU figure is the one to compare between builds.
 */
import { fsync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { loadConfig } from '../src/config/load.js';
import { decodePacket } from '../src/wire/decode.js';
import { encodePacket } from '../src/wire/encode.js';
import { DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DhcpOption, emptyPacket, messageType, type DhcpPacket } from '../src/wire/packet.js';
import { DhcpEngine, type EngineInterface, type OutboundReply } from '../src/engine/dhcp-engine.js';
import { noFailover, noPingCheck, type Clock } from '../src/engine/ports.js';
import { createLogger } from '../src/log/logger.js';
import { openServerLeaseStore } from '../leases/commands.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const CLIENTS = arg('clients', 20_000);
const WARM = arg('warm', 3_000);
const TURN = arg('turn', 8);
const REPS = arg('reps', 3);
const FSYNC = process.argv.includes('--fsync');

const SERVER = 0xc6120001; // 198.18.0.1 (srv0)
const RELAY = 0xc612000a; // 198.18.0.10 (perfdhcp's cli0: it always acts as a relay)

const CONF = `# bench/lib/servers.sh isc_conf, standalone
authoritative;
ddns-update-style none;
default-lease-time 3600;
max-lease-time 3600;
ping-check false;
option domain-name-servers 198.18.0.1;
subnet 198.18.0.0 netmask 255.255.0.0 {
  option routers 198.18.0.1;
  range 198.18.1.1 198.18.255.254;
}
`;

/**
 * A client request as perfdhcp -4 sends it (relayed: giaddr, hops 1; client identifier 01+MAC; PRL 1 28 2 3
 * 15 6 12): encoded once per message type, then copied and patched per client (xid, chaddr, client id,
 * option 50), so that building the requests costs next to nothing in the figures.
 */
function template(type: number, extra: Array<[number, Buffer]>): { buf: Buffer; uidAt: number; requestedAt: number } {
  const p = emptyPacket();
  p.hops = 1;
  p.giaddr = RELAY;
  p.options.set(DhcpOption.MESSAGE_TYPE, Buffer.from([type]));
  p.options.set(DhcpOption.CLIENT_IDENTIFIER, Buffer.from([1, 0x00, 0x0c, 0xee, 0xee, 0xee, 0xee]));
  for (const [c, v] of extra) p.options.set(c, v);
  p.options.set(DhcpOption.PARAMETER_REQUEST_LIST, Buffer.from([1, 28, 2, 3, 15, 6, 12]));
  const buf = encodePacket(p, { minLength: 0 });
  const find = (code: number): number => {
    for (let i = 240; i < buf.length; i += 2 + buf[i + 1]!) if (buf[i] === code) return i + 2;
    return -1;
  };
  return { buf, uidAt: find(DhcpOption.CLIENT_IDENTIFIER), requestedAt: find(DhcpOption.REQUESTED_ADDRESS) };
}
const DISCOVER = template(DHCPDISCOVER, []);
const REQUEST = template(DHCPREQUEST, [
  [DhcpOption.REQUESTED_ADDRESS, Buffer.alloc(4)],
  [DhcpOption.SERVER_IDENTIFIER, Buffer.from([198, 18, 0, 1])],
]);

function request(t: ReturnType<typeof template>, n: number, requested: number): Buffer {
  const b = Buffer.allocUnsafe(t.buf.length);
  t.buf.copy(b);
  b.writeUInt32BE((n * 7919 + 1) >>> 0, 4); // xid
  b[28] = 0x00;
  b[29] = 0x0c;
  b.writeUInt32BE(n >>> 0, 30); // chaddr 00:0c:nn:nn:nn:nn
  b.writeUInt32BE(n >>> 0, t.uidAt + 3);
  if (t.requestedAt >= 0) b.writeUInt32BE(requested >>> 0, t.requestedAt);
  return b;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env['ENGINE_BENCH_DIR'] ?? tmpdir(), 'engine-dora-'));
  try {
    const confPath = join(dir, 'dhcpd.conf');
    writeFileSync(confPath, CONF);
    writeFileSync(join(dir, 'dhcpd.leases'), '');
    const loaded = loadConfig(confPath);
    if (!loaded.ok) throw new Error(`config: ${loaded.errors.map((e) => e.message).join('; ')}`);
    const { store } = openServerLeaseStore({ leaseFile: join(dir, 'dhcpd.leases'), configFile: confPath, mirrorStartDelayMs: 0 });
    const logger = createLogger({ foreground: true, sink: { stream: new Writable({ write: (_c, _e, cb) => cb() }) } });
    let t = 1_764_000_000;
    const clock: Clock = { now: () => t };
    const engine = new DhcpEngine({
      config: loaded.config,
      leases: store,
      ports: { clock, logger, pingCheck: noPingCheck, failover: noFailover },
      serverPort: 67,
      clientPort: 68,
      deferAckLog: true,
    });
    const iface: EngineInterface = { name: 'srv0', ifindex: 2, addresses: [SERVER], canUnicastWithoutArp: true };
    const walFd = openSync(store.walPath, 'a');
    let sink = 0;
    const send = (replies: readonly OutboundReply[]): void => {
      for (const r of replies) {
        if (r.logLines !== undefined) for (const line of r.logLines) logger.info(line);
        sink += Buffer.from(encodePacket(r.packet, r.encode)).length;
      }
    };
    const handle = (raw: Buffer): OutboundReply[] => {
      const d = decodePacket(raw);
      if (!d.ok) throw new Error(d.error.toString());
      return engine.handle({ packet: d.packet, raw, iface, sourceAddress: RELAY, sourcePort: 67 }).replies;
    };
    const commit = async (): Promise<void> => {
      const writes = engine.takeCommits();
      if (writes.length > 0) {
        store.writeWithoutSync((w) => {
          for (const l of writes) w.putLease(l);
        });
        if (FSYNC) await new Promise<void>((res, rej) => fsync(walFd, (e) => (e ? rej(e) : res())));
      }
      engine.notifyDurable(engine.takeDurableNotices());
    };
    let next = 0;
    let acks = 0;
    /** `count` new clients in turns of TURN: DISCOVERs (OFFERs sent at once), then REQUESTs, commit, ACKs. */
    const run = async (count: number): Promise<void> => {
      for (let done = 0; done < count; done += TURN) {
        const k = Math.min(TURN, count - done);
        const offers: DhcpPacket[] = [];
        for (let i = 0; i < k; i++) {
          const replies = handle(request(DISCOVER, next + i, 0));
          send(replies);
          for (const r of replies) if (messageType(r.packet) === DHCPOFFER) offers.push(r.packet);
        }
        // the DISCOVERs' turn commits nothing (an OFFER binds nothing) but the server asks
        await commit();
        const acksOut: OutboundReply[] = [];
        for (const o of offers) {
          acksOut.push(...handle(request(REQUEST, o.chaddr.readUInt32BE(2), o.yiaddr)));
        }
        await commit();
        send(acksOut);
        acks += acksOut.length;
        next += k;
        if ((next & 1023) < TURN) t++; // time moves on (1024 clients a "second")
        await yieldTurn(); // timers (the -lf mirror's flush) get their turn, as in the server
      }
    };
    console.log(`engine DORA bench: ${CLIENTS} new clients per repetition, ${TURN} per turn, fsync ${FSYNC ? 'on' : 'off'}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    await run(WARM);
    const results: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const a0 = acks;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await run(CLIENTS);
      const wall = Number(process.hrtime.bigint() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const n = acks - a0;
      if (n !== CLIENTS) throw new Error(`only ${n} of ${CLIENTS} clients got an ACK`);
      const cpuPer = (c.user + c.system) / n;
      results.push(cpuPer);
      console.log(
        `rep ${rep + 1}: ${cpuPer.toFixed(1)} µs CPU per DORA (user ${(c.user / n).toFixed(1)}, sys ${(c.system / n).toFixed(1)}), ` +
          `${(wall / n).toFixed(1)} µs wall, ${Math.round(n / (wall / 1e6))} DORA/s, load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    const sorted = [...results].sort((a, b) => a - b);
    console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs CPU per DORA (${acks} leases in the store, sink ${sink > 0 ? 'ok' : '0'})`);
    closeSync(walFd);
    store.close();
    await logger.close();
    // The -lf view written at close holds every lease granted (the mirror's work is part of the figures).
    const inFile = new Set(readFileSync(join(dir, 'dhcpd.leases'), 'latin1').match(/^lease \S+ \{$/gm) ?? []);
    if (inFile.size !== acks) throw new Error(`the lease file has ${inFile.size} addresses, ${acks} were leased`);
    console.log(`lease file: ${inFile.size} addresses, as leased`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
