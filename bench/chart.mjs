// bench/chart.mjs - offered vs achieved DORA/s, one line a server, as a PNG, for machines without
// gnuplot: node bench/chart.mjs RESULTS.csv OUT.png [section]. Median achieved rate over the
// repetitions of each offered rate (unlimited = 0 is left out: it has no x position).
// Self-contained: a tiny rasteriser, a 5x7 bitmap font and a PNG encoder (zlib from Node).
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const [csvPath, pngPath, section = 'sweep'] = process.argv.slice(2);
if (!csvPath || !pngPath) {
  console.error('usage: node bench/chart.mjs results.csv out.png [section]');
  process.exit(2);
}
const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
const head = lines[0].split(',');
const col = (n) => head.indexOf(n);
/** server -> offered -> achieved[] */
const data = new Map();
for (const l of lines.slice(1)) {
  const f = l.split(',');
  if (f[col('section')] !== section || f[col('error')] !== '' || Number(f[col('offered_rate')]) <= 0) continue;
  const s = f[col('server')];
  if (!data.has(s)) data.set(s, new Map());
  const m = data.get(s);
  const r = Number(f[col('offered_rate')]);
  if (!m.has(r)) m.set(r, []);
  m.get(r).push(Number(f[col('achieved_rate')]));
}
const median = (a) => { const x = [...a].sort((p, q) => p - q); const h = x.length >> 1; return x.length % 2 ? x[h] : (x[h - 1] + x[h]) / 2; };

const W = 900, H = 560, L = 80, R = 200, T = 40, B = 60;
const px = new Uint8Array(W * H * 3).fill(255);
const set = (x, y, c) => { x = Math.round(x); y = Math.round(y); if (x < 0 || y < 0 || x >= W || y >= H) return; const i = (y * W + x) * 3; px[i] = c[0]; px[i + 1] = c[1]; px[i + 2] = c[2]; };
const line = (x0, y0, x1, y1, c, w = 1) => {
  const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= n; i++) { const x = x0 + ((x1 - x0) * i) / n, y = y0 + ((y1 - y0) * i) / n; for (let d = 0; d < w; d++) { set(x, y + d, c); set(x + d, y, c); } }
};
// 5x7 glyphs, one string of 7 rows of 5 bits each (as hex digits per row is too terse to check: '#' = on)
const G = {
  '0': ' ### #   ##  ### # ###  ##   # ### ', '1': '  #   ##    #    #    #    #   ### ', '2': ' ### #   #    #   #   #   #    #####',
  '3': '#####   #   #     #    ##   # ### ', '4': '   #   ##  # # #  # #####   #    # ', '5': '#####    ####     #    ##   # ### ',
  '6': '  ##  #   #    #### #   ##   # ### ', '7': '#####    #   #   #   #    #    #  ', '8': ' ### #   ##   # ### #   ##   # ### ',
  '9': ' ### #   ##   # ####    #   #  ##  ', '/': '    #    #   #   #   #   #    #    ', '-': '               ###                ',
  '.': '                              ##   ', ':': '      ##        ##                 ', '(': '   #   #   #    #    #     #     #',
  ')': ' #     #     #    #    #   #   #  ', ' ': '                                   ', '=': '          #####     #####          ', '%': '##   ##  #   #   #   #   #  ##   ##',
  A: ' ### #   ##   #######   ##   ##   #', B: '#### #   ##   ##### #   ##   ##### ', C: ' ### #   ##    #    #    #   # ### ',
  D: '#### #   ##   ##   ##   ##   ##### ', E: '######    #    #### #    #    #####', F: '######    #    #### #    #    #    ',
  G: ' ### #   ##    # ####   ##   # ####', H: '#   ##   ##   #######   ##   ##   #', I: ' ###   #    #    #    #    #   ### ',
  J: '  ###   #    #    #    ##  # #  ## ', K: '#   ##  # # #  ##   # #  #  # #   #', L: '#    #    #    #    #    #    #####',
  M: '#   ### ### # ##   ##   ##   ##   #', N: '#   ##   ###  ## # ##  ###   ##   #', O: ' ### #   ##   ##   ##   ##   # ### ',
  P: '#### #   ##   ##### #    #    #    ', Q: ' ### #   ##   ##   ## # ##  #  ## #', R: '#### #   ##   ##### # #  #  # #   #',
  S: ' #####    #     ###     #    ##### ', T: '#####  #    #    #    #    #    #  ', U: '#   ##   ##   ##   ##   ##   # ### ',
  V: '#   ##   ##   ##   ##   # # #   #  ', W: '#   ##   ##   ## # ## # ## # # # # ', X: '#   ##   # # #   #   # # #   ##   #',
  Y: '#   ##   # # #   #    #    #    #  ', Z: '#####    #   #   #   #   #    #####',
};
const text = (s, x, y, c, scale = 2) => {
  for (const ch of s.toUpperCase()) {
    const g = G[ch] ?? G[' '];
    for (let r = 0; r < 7; r++) for (let k = 0; k < 5; k++) if (g[r * 5 + k] === '#') for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) set(x + k * scale + a, y + r * scale + b, c);
    x += 6 * scale;
  }
};
const palette = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14]];
const all = [...data.values()].flatMap((m) => [...m.keys()]);
const maxX = Math.max(100, ...all);
const maxY = Math.max(100, ...[...data.values()].flatMap((m) => [...m.values()].map(median)), ...all);
const niceStep = (v) => { const e = 10 ** Math.floor(Math.log10(v / 5)); return [1, 2, 5, 10].map((m) => m * e).find((s) => v / s <= 8); };
const sx = (v) => L + (v / maxX) * (W - L - R), sy = (v) => H - B - (v / maxY) * (H - T - B);
const grey = [200, 200, 200], black = [0, 0, 0];
for (let v = 0, st = niceStep(maxX); v <= maxX; v += st) { line(sx(v), T, sx(v), H - B, grey); text(String(v), sx(v) - 12, H - B + 8, black, 1); }
for (let v = 0, st = niceStep(maxY); v <= maxY; v += st) { line(L, sy(v), W - R, sy(v), grey); text(String(v), 8, sy(v) - 3, black, 1); }
line(L, H - B, W - R, H - B, black, 2); line(L, T, L, H - B, black, 2);
line(sx(0), sy(0), sx(Math.min(maxX, maxY)), sy(Math.min(maxX, maxY)), [150, 150, 150]); // achieved = offered
text('offered DORA/s', L + (W - L - R) / 2 - 80, H - B + 26, black);
text('achieved DORA/s (median)', L, 12, black);
let i = 0;
for (const [s, m] of [...data.entries()].sort()) {
  const c = palette[i % palette.length];
  const pts = [...m.entries()].sort((a, b) => a[0] - b[0]).map(([r, a]) => [sx(r), sy(median(a))]);
  pts.forEach(([x, y], j) => { if (j) line(pts[j - 1][0], pts[j - 1][1], x, y, c, 3); for (let a = -3; a <= 3; a++) for (let b = -3; b <= 3; b++) set(x + a, y + b, c); });
  line(W - R + 20, T + 20 + i * 24, W - R + 50, T + 20 + i * 24, c, 3);
  text(s, W - R + 58, T + 14 + i * 24, black);
  i++;
}
text('grey line: achieved = offered', W - R + 10, T + 20 + i * 24 + 10, [120, 120, 120], 1);

// PNG: 8-bit RGB, filter 0 on every row
const raw = Buffer.alloc((W * 3 + 1) * H);
for (let y = 0; y < H; y++) { raw[y * (W * 3 + 1)] = 0; Buffer.from(px.buffer, y * W * 3, W * 3).copy(raw, y * (W * 3 + 1) + 1); }
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 255] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, d) => { const len = Buffer.alloc(4); len.writeUInt32BE(d.length); const td = Buffer.concat([Buffer.from(type), d]); const cr = Buffer.alloc(4); cr.writeUInt32BE(crc(td)); return Buffer.concat([len, td, cr]); };
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(H, 4); ihdr[8] = 8; ihdr[9] = 2;
writeFileSync(pngPath, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
console.log(`wrote ${pngPath} (${data.size} servers)`);
