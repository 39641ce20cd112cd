/**
 * Developer tool (not a test): samples N generated or mutated configs, runs ISC dhcpd -t and loadConfig on
 * each and prints every disagreement (kept in /tmp/survey). Usage:
 *   node --import tsx test/config/diff-survey.ts 300 gen|mut [seed]
 */
import fc from 'fast-check';
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { runIscTest } from './isc-oracle.js';
import { generatedConfig, mutation } from './conf-gen.js';
import { readConfRows, sameMessage } from './corpus-support.js';
const dir = '/tmp/survey'; mkdirSync(dir + '/t', { recursive: true });
const start = process.cwd();
const n = Number(process.argv[2] ?? 300);
const mode = process.argv[3] ?? 'gen';
let texts: string[];
if (mode === 'gen') texts = fc.sample(generatedConfig, { numRuns: n, seed: Number(process.argv[4] ?? 1) });
else {
  const sources = readConfRows().filter((r) => r.family === 4 && r.iscVerdict === 'ok').map((r) => readFileSync(r.cwd + '/' + r.cfArg, 'latin1')).filter((t) => !/\binclude\b/i.test(t) && t.length < 20000);
  texts = fc.sample(fc.integer({ min: 0, max: sources.length - 1 }).chain((i) => mutation(sources[i])), { numRuns: n, seed: Number(process.argv[4] ?? 1) });
}
let agree = 0; const bad: string[] = [];
texts.forEach((text, i) => {
  writeFileSync(dir + '/test.conf', text, 'latin1');
  const isc = runIscTest('test.conf', dir, dir + '/t');
  process.chdir(dir); const r = loadConfig('test.conf'); process.chdir(start);
  let d: string | null = null;
  if (isc.ok !== r.ok) d = r.ok ? `ISC rejects: ${isc.firstError}` : `ISC accepts; ours: line ${r.errors[0].line}: ${r.errors[0].message}`;
  else if (!r.ok) {
    const e = r.errors[0];
    if (isc.line === null ? !(e.line <= 0 && sameMessage(e.message, isc.message)) : (e.line !== isc.line)) d = `ISC: ${isc.firstError} | ours: line ${e.line}: ${e.message}`;
  }
  if (d) { bad.push(d); writeFileSync(`${dir}/bad-${mode}-${i}.conf`, text); console.log(`#${i} ${d}`); } else agree++;
});
console.log(`${mode}: ${agree}/${texts.length} agree`);
