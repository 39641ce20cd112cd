import { writeHeapSnapshot } from 'node:v8';
import { writeFileSync, readFileSync } from 'node:fs';
import { parseConfigText } from '../conf-parser.js';
const hosts: string[] = [];
for (let h = 0; h < 5000; h++) hosts.push(`host h${h} {\n  hardware ethernet 02:00:00:${(h >> 8).toString(16)}:${(h & 255).toString(16)}:01;\n  fixed-address 172.16.${h >> 8}.${h & 255};\n  option host-name "h${h}";\n}\n`);
const r = parseConfigText(hosts.join(''), 'x.conf');
const f = writeHeapSnapshot('/tmp/g/heap.heapsnapshot');
const snap = JSON.parse(readFileSync(f, 'utf8'));
const m = snap.snapshot.meta; const nf = m.node_fields.length; const types = m.node_types[0];
const ti = m.node_fields.indexOf('type'), ni = m.node_fields.indexOf('name'), si = m.node_fields.indexOf('self_size');
const agg = new Map<string, [number, number]>();
for (let i = 0; i < snap.nodes.length; i += nf) {
  const t = types[snap.nodes[i + ti]]; const name = t === 'object' ? snap.strings[snap.nodes[i + ni]] : t;
  const a = agg.get(name) ?? [0, 0]; a[0]++; a[1] += snap.nodes[i + si]; agg.set(name, a);
}
console.log(r.ok, [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15).map(([k, [c, s]]) => `${k}: ${c} objs ${(s / 1e6).toFixed(1)} MB`).join('\n'));
void writeFileSync;
