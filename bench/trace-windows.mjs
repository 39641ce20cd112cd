// node bench/trace-windows.mjs TRACE.csv: DISCOVER->OFFER and REQUEST->ACK inside the server (kernel arrival to reply sent) in
// the first second, the second second and the rest of a DHCPD_TS_TRACE file, to tell start-up from steady state.
import { readFileSync } from 'node:fs';
const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const t0 = Math.min(...rows.map((r) => r[0]));
const pct = (a, p) => { a.sort((x, y) => x - y); return a.length ? a[Math.min(a.length - 1, Math.ceil(p / 100 * a.length) - 1)].toFixed(2) : '-'; };
for (const [from, to] of [[0, 1], [1, 2], [2, 100], [0, 100]]) {
  for (const type of [1, 3]) {
    const d = rows.filter((r) => r[1] === type && r[0] - t0 >= from * 1000 && r[0] - t0 < to * 1000 && r[7] > 0).map((r) => r[7] - r[0]);
    console.log(`${from}-${to}s type ${type === 1 ? 'DISCOVER' : 'REQUEST '} n=${d.length} p50=${pct(d, 50)} p90=${pct(d, 90)} p99=${pct(d, 99)} max=${pct(d, 100)} ms`);
  }
}
