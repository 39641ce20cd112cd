/**
 * Helpers for the corpus agreement test: reads /work/shared/corpus/manifest.tsv (ISC 4.4.3-P1's verdict
 * and first error for every file) and compares loadConfig() with it.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigError } from '../../grammar/errors.js';
import { SHARED_CORPUS_DIR } from '../support/shared-corpus.js';

export const CORPUS_DIR = SHARED_CORPUS_DIR;

export interface CorpusRow {
  /** Path under the corpus dir (files/...). */
  path: string;
  kind: 'conf' | 'leases';
  iscVerdict: 'ok' | 'error';
  iscFirstError: string;
  /** -4 or -6 as ISC was run. */
  family: 4 | 6;
  /** Folder ISC ran in, absolute. */
  cwd: string;
  /** The -cf argument as ISC got it (relative to cwd). */
  cfArg: string;
}

/** The conf rows of the manifest (empty when the corpus is not present). */
export function readConfRows(): CorpusRow[] {
  const manifest = join(CORPUS_DIR, 'manifest.tsv');
  if (!existsSync(manifest)) return [];
  const lines = readFileSync(manifest, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  const col = (name: string): number => header.indexOf(name);
  const rows: CorpusRow[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split('\t');
    if (f[col('kind')] !== 'conf') continue;
    const check = f[col('isc_check')];
    const m = /^dhcpd -([46]) -t -cf (\S+)\s+\(cwd=([^)]*)\)/.exec(check);
    if (!m) throw new Error(`unexpected isc_check: ${check}`);
    rows.push({
      path: f[col('path')],
      kind: 'conf',
      iscVerdict: f[col('isc_verdict')] === 'ok' ? 'ok' : 'error',
      iscFirstError: f[col('isc_first_error')] ?? '',
      family: m[1] === '6' ? 6 : 4,
      cwd: join(CORPUS_DIR, m[3]),
      cfArg: m[2],
    });
  }
  return rows;
}

/** ISC's first error split into file/line/message (file and line null for position-less messages). */
export function splitIscError(s: string): { file: string | null; line: number | null; message: string } {
  const m = /^(.*?) line (\d+): (.*)$/.exec(s);
  if (!m) return { file: null, line: null, message: s };
  return { file: m[1], line: Number(m[2]), message: m[3] };
}

/** Our first error in the same terms. */
export function splitOurError(e: ConfigError): { file: string | null; line: number | null; message: string } {
  if (e.line <= 0) return { file: null, line: null, message: e.message };
  return { file: e.file, line: e.line, message: e.message };
}

/**
 * Message equality, tolerating ISC printing freed memory: dhcpd 4.4.3 logs "OMAPI key %s: not found"
 * after freeing the name (dhcpd.c postconf_initialization), so its output has garbage where the name was.
 */
export function sameMessage(ours: string, isc: string): boolean {
  if (ours === isc) return true;
  const omapi = /^OMAPI key [\s\S]*: not found$/;
  return omapi.test(isc) && omapi.test(ours);
}
