#!/usr/bin/env node
// Summarises a DHCPD_TS_TRACE file (src/server/turn-trace.ts): where each packet's time went inside the
// server (queue wait, decision, commit, until its reply was handed to the kernel), the slow turns and the
// gaps between turns (event loop busy elsewhere or the process not scheduled).
// Usage: node bench/trace-summary.mjs TRACE.csv
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/trace-summary.mjs TRACE.csv');
  process.exit(2);
}
const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map((x) => (x === '' ? NaN : Number(x))));
if (rows.length === 0) process.exit(0);
const t0 = rows[0][0];
const pct = (a, q) => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
};
const fmt = (a) => `n=${a.length} p50=${pct(a, 0.5).toFixed(2)} p90=${pct(a, 0.9).toFixed(2)} p99=${pct(a, 0.99).toFixed(2)} max=${Math.max(...a.filter(Number.isFinite)).toFixed(2)} ms`;
// columns: arrived, type, turn, turn_start, decided, commit_start, commit_end, sent, turn_packets, turn_writes
for (const [type, name] of [[1, 'DISCOVER'], [3, 'REQUEST']]) {
  const r = rows.filter((x) => x[1] === type);
  if (r.length === 0) continue;
  // an OFFER leaves right after the decision; an ACK when its turn's replies are sent (after the fsync)
  console.log(`${name} arrival -> reply: ${fmt(r.map((x) => (type === 1 ? x[4] : x[7]) - x[0]))}`);
  console.log(`  queued (arrival -> turn start): ${fmt(r.map((x) => x[3] - x[0]))}`);
  console.log(`  decided (turn start -> decisions done): ${fmt(r.map((x) => x[4] - x[3]))}`);
  if (type === 3) {
    console.log(`  commit on the event loop: ${fmt(r.filter((x) => x[5] > 0).map((x) => x[6] - x[5]))}`);
    console.log(`  commit end -> ACK sent (fsync off the loop, or 0): ${fmt(r.filter((x) => x[5] > 0).map((x) => x[7] - x[6]))}`);
  }
  const slow = r.filter((x) => (type === 1 ? x[4] : x[7]) - x[0] > 10).map((x) => Math.floor((x[0] - t0) / 100) / 10);
  const h = {};
  for (const s of slow) h[s] = (h[s] ?? 0) + 1;
  console.log(`  over 10 ms: ${slow.length}, by 100 ms of the run: ${Object.entries(h).map(([k, v]) => `${k}s:${v}`).join(' ')}`);
}
const turns = new Map();
for (const x of rows) turns.set(x[2], x);
const T = [...turns.values()];
console.log(`turns: ${T.length}, packets per turn ${fmt(T.map((x) => x[8]))}`);
console.log(`turn start -> replies sent: ${fmt(T.map((x) => x[7] - x[3]))}`);
console.log(`turns over 8 ms: ${T.filter((x) => x[7] - x[3] > 8).slice(0, 30).map((x) => `${((x[3] - t0) / 1000).toFixed(2)}s ${(x[7] - x[3]).toFixed(1)} ms (decide ${(x[4] - x[3]).toFixed(1)}, commit ${(x[6] - x[5]).toFixed(1)}, ${x[8]} pkts)`).join('; ')}`);
const gaps = [];
for (let i = 1; i < T.length; i++) gaps.push([T[i][3] - Math.max(T[i - 1][4], T[i - 1][6] || 0), T[i][3] - t0]);
console.log(`gaps over 5 ms between turns: ${gaps.filter((g) => g[0] > 5).map((g) => `${(g[1] / 1000).toFixed(2)}s ${g[0].toFixed(1)} ms`).join('; ')}`);
