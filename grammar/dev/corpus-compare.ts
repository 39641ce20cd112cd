/**
 * Dev tool: compares the parser's syntax verdict with ISC's on every `conf` row of the shared corpus.
 * Usage: node --import tsx grammar/dev/corpus-compare.ts [--verbose]
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfigFile } from '../conf-parser.js';
import { formatIscError } from '../errors.js';

const CORPUS = process.env.CORPUS_DIR ?? '/work/shared/corpus';
const verbose = process.argv.includes('--verbose');

export interface CorpusRow {
  path: string;
  verdict: string;
  firstError: string;
  cwd: string;
  cfArg: string;
  v6: boolean;
}

export function corpusRows(): CorpusRow[] {
  const lines = readFileSync(path.join(CORPUS, 'manifest.tsv'), 'utf8').split('\n').slice(1);
  const rows: CorpusRow[] = [];
  for (const l of lines) {
    const f = l.split('\t');
    if (f.length < 9 || f[2] !== 'conf') continue;
    const m = /-cf (\S+)\s+\(cwd=([^)]*)\)/.exec(f[7]!);
    if (!m) continue;
    rows.push({ path: f[0]!, verdict: f[3]!, firstError: f[4]!, cwd: path.join(CORPUS, m[2]!), cfArg: m[1]!, v6: / -6 /.test(f[7]!) });
  }
  return rows;
}

const rows = corpusRows();
let okAgree = 0, okDisagree = 0, errSame = 0, errSameLine = 0, errOther = 0, errWeOk = 0;
for (const r of rows) {
  const prev = process.cwd();
  process.chdir(r.cwd);
  const res = parseConfigFile(r.cfArg);
  process.chdir(prev);
  const first = res.errors.find((e) => !e.plain) ?? res.errors[0];
  const ours = first ? formatIscError(first).split('\n')[0]! : '';
  if (r.verdict === 'ok') {
    if (res.ok) okAgree++;
    else {
      okDisagree++;
      console.log(`ISC-OK  WE-ERR ${r.path}${r.v6 ? ' (v6)' : ''}\n    ours: ${ours}`);
      if (verbose && first) console.log(formatIscError(first));
    }
  } else {
    if (res.ok) {
      errWeOk++;
      if (verbose) console.log(`ISC-ERR WE-OK  ${r.path}\n    isc:  ${r.firstError}`);
    } else if (ours === r.firstError || res.errors.some((e) => formatIscError(e).split('\n')[0] === r.firstError)) errSame++;
    else {
      const li = /line (\d+)/.exec(r.firstError)?.[1];
      const lo = first ? String(first.line) : '';
      if (li !== undefined && li === lo) errSameLine++;
      else errOther++;
      console.log(`DIFF ${r.path}\n    isc:  ${r.firstError}\n    ours: ${ours}`);
    }
  }
}
console.log(`ok files: ${okAgree} agree, ${okDisagree} rejected by us; error files: ${errSame} same first error, ${errSameLine} same line other text, ${errOther} different, ${errWeOk} accepted by parser (semantic, compiler's)`);

// --echo: also compare the echoed source line and caret with a real `dhcpd -t` run.
if (process.argv.includes('--echo')) {
  const { spawnSync } = await import('node:child_process');
  let same = 0;
  let diff = 0;
  for (const r of rows) {
    if (r.verdict !== 'error' || r.v6) continue;
    const prev = process.cwd();
    process.chdir(r.cwd);
    const res = parseConfigFile(r.cfArg);
    process.chdir(prev);
    const first = res.errors.find((e) => !e.plain);
    if (!first) continue;
    const ours = formatIscError(first);
    const head = ours.split('\n')[0]!;
    const isc = spawnSync('dhcpd', ['-4', '-t', '-cf', r.cfArg], { cwd: r.cwd, encoding: 'latin1', timeout: 10000 });
    const lines = isc.stderr.split('\n');
    const i = lines.indexOf(head);
    if (i < 0) continue;
    const theirs = lines.slice(i, i + 3).join('\n');
    if (theirs === ours) same++;
    else {
      diff++;
      console.log(`ECHO DIFF ${r.path}\n--- isc\n${theirs}\n--- ours\n${ours}`);
    }
  }
  console.log(`echo+caret: ${same} identical, ${diff} different`);
}
