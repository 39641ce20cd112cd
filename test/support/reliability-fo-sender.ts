/**
 * Hostile failover peer for the running-server test (issue 8, item 2): run INSIDE a test namespace, it opens
 * one TCP connection per mutated failover message to `host:port` from `from`, then `slowloris` connections
 * that send a valid CONNECT a byte every 100 ms, then `atOnce` idle connections at the same time, and prints
 * one JSON line with how each group ended (see reliability-failover-hostile.ts `Outcome`).
 *
 * With `listen`, it first starts, in this same process, a dhcpd-ts failover secondary (`FailoverPeer` of
 * src/failover) listening on `host:port` with `from` as its peer address, so that every connect is issued
 * before the listener gets a turn to accept (the worst case for its listen queue), and it reports the
 * namespace's TcpExtListenOverflows/ListenDrops over the run and the listener's backlog as `ss` shows it.
 *
 * Usage: node [--import tsx] reliability-fo-sender.(ts|js) '{"host","port","from","name","count","seed","slowloris","atOnce","limitMs"[,"listen"]}'
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFixture } from '../failover/fixtures.js';
import { FailoverPeer } from '../../src/failover/engine.js';
import { MemoryFailoverStore } from '../../src/failover/memory-store.js';
import { connectMessage, hostile, mutate, pool, prng, type Outcome } from './reliability-failover-hostile.js';

interface Cfg {
  host: string;
  port: number;
  from: string;
  name: string;
  count: number;
  seed: number;
  slowloris: number;
  atOnce: number;
  limitMs: number;
  /** Connections with a valid CONNECT each (for the non-peer check). */
  valid?: number;
  /** Host the listener in this process (see above), with this link start-up time. */
  listen?: { linkStartupMs: number };
}
const cfg = JSON.parse(process.argv[2] ?? '{}') as Cfg;

/** TcpExt counters of this process's network namespace (/proc/net/netstat: a name line, then a value line). */
function tcpExt(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const names = lines[i]!.split(/\s+/).slice(1);
  const values = lines[i + 1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, k) => [n, values[k]!]));
}

let listener: FailoverPeer | undefined;
if (cfg.listen) {
  listener = new FailoverPeer({
    link: { name: cfg.name, role: 'secondary', address: cfg.host, port: cfg.port, peerAddress: cfg.from, peerPort: 1, maxResponseDelay: 30, maxUnackedUpdates: 10, linkStartupMs: cfg.listen.linkStartupMs, listenOnly: true },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store: new MemoryFailoverStore([{ id: 'p1', label: 'x', from: 0x0af50001, to: 0x0af50004 }]),
    log: { info: () => undefined, error: () => undefined, debug: () => undefined },
  });
  await listener.start();
}
const before = tcpExt();

function tally(rs: ReadonlyArray<{ outcome: Outcome; reason?: number; ms: number }>): Record<string, number> {
  const out: Record<string, number> = { reject: 0, closed: 0, accepted: 0, 'still-open': 0, maxMs: 0 };
  for (const r of rs) {
    out[r.outcome] = (out[r.outcome] ?? 0) + 1;
    if (r.reason !== undefined) out[`reason${r.reason}`] = (out[`reason${r.reason}`] ?? 0) + 1;
    out.maxMs = Math.max(out.maxMs!, r.ms);
  }
  return out;
}

const rnd = prng(cfg.seed);
const now = Math.floor(Date.now() / 1000);
const vectors = (JSON.parse(readFixture('isc-vectors.json')) as Array<{ hex: string }>).map((v) => Buffer.from(v.hex, 'hex'));
const bases = [connectMessage(cfg.name, now), connectMessage(cfg.name, now, 7), ...vectors];
const mutated = await pool(
  Array.from({ length: cfg.count }, () => {
    const m = mutate(bases[Math.floor(rnd() * bases.length)]!, rnd);
    return () => hostile(cfg.host, cfg.port, cfg.from, [m.data], cfg.limitMs);
  }),
  256,
);
const slow = connectMessage(cfg.name, Math.floor(Date.now() / 1000));
const slowloris = await pool(
  Array.from({ length: cfg.slowloris }, () => () => hostile(cfg.host, cfg.port, cfg.from, [...slow].map((x) => Buffer.from([x])), cfg.limitMs, 100)),
  Math.max(1, cfg.slowloris),
);
const valid = await pool(Array.from({ length: cfg.valid ?? 0 }, () => () => hostile(cfg.host, cfg.port, cfg.from, [connectMessage(cfg.name, Math.floor(Date.now() / 1000))], cfg.limitMs)), 16);
const atOnce = await Promise.all(Array.from({ length: cfg.atOnce }, () => hostile(cfg.host, cfg.port, cfg.from, [], cfg.limitMs + 10_000)));
const after = tcpExt();
const atOnceTally = tally(atOnce);
atOnceTally.maxConnectMs = Math.max(0, ...atOnce.map((r) => r.connectMs ?? 0));
const listen: Record<string, number> = {
  listenOverflows: (after.ListenOverflows ?? 0) - (before.ListenOverflows ?? 0),
  listenDrops: (after.ListenDrops ?? 0) - (before.ListenDrops ?? 0),
  synRetrans: (after.TCPSynRetrans ?? 0) - (before.TCPSynRetrans ?? 0),
  somaxconn: Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()),
};
if (listener) {
  // ss shows a listener's backlog in Send-Q.
  const row = execFileSync('ss', ['-Hltn', `sport = :${cfg.port}`], { encoding: 'utf8' }).trim().split(/\s+/);
  listen.backlog = Number(row[2]);
  await listener.stop();
}
process.stdout.write(`${JSON.stringify({ valid: tally(valid), mutated: tally(mutated), slowloris: tally(slowloris), atOnce: atOnceTally, listen })}\n`);
process.exit(0);
