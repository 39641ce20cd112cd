/**
 * Hostile failover peer for the running-server test (issue 8, item 2): run INSIDE a test namespace, it opens
 * one TCP connection per mutated failover message to `host:port` from `from`, then `slowloris` connections
 * that send a valid CONNECT a byte every 100 ms, then `atOnce` idle connections at the same time, and prints
 * one JSON line with how each group ended (see reliability-failover-hostile.ts `Outcome`).
 *
 * Usage: node [--import tsx] reliability-fo-sender.(ts|js) '{"host","port","from","name","count","seed","slowloris","atOnce","limitMs"}'
 */
import { readFixture } from '../failover/fixtures.js';
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
}
const cfg = JSON.parse(process.argv[2] ?? '{}') as Cfg;

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
process.stdout.write(`${JSON.stringify({ valid: tally(valid), mutated: tally(mutated), slowloris: tally(slowloris), atOnce: tally(atOnce) })}\n`);
process.exit(0);
