// bench/profile-summary.mjs - where the time goes in a `node --cpu-prof` profile:
// node bench/profile-summary.mjs FILE.cpuprofile [top=25]. Prints self time per function and
// inclusive ("total") time per function, summed over the sampled call tree.
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) { console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [top]'); process.exit(2); }
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfHits = new Map();
for (const s of prof.samples) selfHits.set(s, (selfHits.get(s) ?? 0) + 1);
const total = prof.samples.length;
const label = (n) => { const f = n.callFrame; const url = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/'); return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`; };
const self = new Map(), incl = new Map();
for (const [id, hits] of selfHits) {
  const n = byId.get(id);
  self.set(label(n), (self.get(label(n)) ?? 0) + hits);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur));
    if (!seen.has(l)) { seen.add(l); incl.set(l, (incl.get(l) ?? 0) + hits); }
  }
}
const ms = (h) => ((h / total) * (prof.endTime - prof.startTime) / 1000).toFixed(0);
const show = (title, m) => {
  console.log(`\n${title} (of ${ms(total)} ms sampled)`);
  for (const [l, h] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(100 * h / total).toFixed(1).padStart(5)}%  ${ms(h).padStart(6)} ms  ${l}`);
};
show('self time', self);
show('inclusive time', incl);
