/** Dev tool: mutated corpus files, our first error vs ISC's; prints mismatches. */
import { readFileSync } from 'node:fs';
import * as require_fs from 'node:fs';
import { checkBoth } from '../../test/grammar/isc-oracle.js';
const seeds = (process.env.SEEDS ? process.env.SEEDS.split(',') : ['/work/shared/corpus/files/isc-dhcp/server/dhcpd.conf.example', '/work/shared/corpus/files/isc-dhcp/tests/failover/dhcp-1.cf']).map((f) => readFileSync(f, 'latin1'));
const PIECES = [';', '{', '}', '(', ')', '"', '.', ':', ',', '=', '!', '#', '\n', ' ', 'if', 'else', 'option', 'subnet', 'host', '10', '0x', 'a', '-', '_'];
let rnd = Number(process.argv[2] ?? 1);
const r = (n: number): number => { rnd = (rnd * 1103515245 + 12345) & 0x7fffffff; return rnd % n; };
let same = 0, diff = 0;
for (let k = 0; k < Number(process.argv[3] ?? 200); k++) {
  let s = seeds[r(seeds.length)]!;
  const i = r(s.length);
  const op = r(3);
  if (op === 0) s = s.slice(0, i) + s.slice(i + 1 + r(6));
  else if (op === 1) s = s.slice(0, i) + PIECES[r(PIECES.length)] + s.slice(i);
  else s = s.slice(0, i) + s.slice(i, i + 1 + r(6)) + s.slice(i);
  const v = checkBoth(s);
  const a = v.iscFirst?.split('\n')[0];
  const b = v.oursFirst?.split('\n')[0];
  if (a === b || (v.iscCode === 0 && v.ours.ok)) { same++; continue; }
  diff++;
  if (process.env.DUMP && (b ?? '').includes(process.env.DUMP)) require_fs.writeFileSync('/tmp/g/dump.conf', s);
  const ln = Number(/line (\d+)/.exec(a ?? b ?? "")?.[1] ?? 0); console.log(`--- isc: ${a ?? `(code ${v.iscCode})`}\n    ours: ${b ?? "ok"}\n    src: ${JSON.stringify(s.split("\n").slice(Math.max(0, ln - 2), ln).join("\n"))}`);
}
console.log(`same ${same} diff ${diff}`);
