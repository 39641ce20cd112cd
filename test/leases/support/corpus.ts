/**
 * The dhcpd.leases files of the shared corpus (manifest.tsv rows with kind=leases) with ISC's verdict.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_CORPUS_DIR } from '../../support/shared-corpus.js';

export const CORPUS_DIR = SHARED_CORPUS_DIR;

export interface CorpusLeaseFile {
  /** Path under the corpus folder (files/…). */
  path: string;
  absolutePath: string;
  verdict: 'ok' | 'error';
  /** ISC's first error line, e.g. `tests/leases/same-twice line 4: expecting numeric value.` */
  firstError: string;
  /** The ISC check command recorded (tells -4/-6 and the -cf used). */
  check: string;
  /** The line number of ISC's first error, when there is one. */
  errorLine: number | null;
  /** The -cf path used for the check, absolute. */
  confPath: string;
  family: 4 | 6;
}

/** Reads the manifest; [] when the corpus is not present. */
export function corpusLeaseFiles(): CorpusLeaseFile[] {
  const manifest = join(CORPUS_DIR, 'manifest.tsv');
  if (!existsSync(manifest)) return [];
  const rows = readFileSync(manifest, 'utf8').split('\n').slice(1);
  const out: CorpusLeaseFile[] = [];
  for (const row of rows) {
    const f = row.split('\t');
    if (f[2] !== 'leases') continue;
    const path = f[0] ?? '';
    const firstError = f[4] ?? '';
    const check = f[7] ?? '';
    const m = / line (\d+): /.exec(firstError);
    const cf = / -cf (\S+)/.exec(check);
    out.push({
      path,
      absolutePath: join(CORPUS_DIR, path),
      verdict: f[3] === 'error' ? 'error' : 'ok',
      firstError,
      check,
      errorLine: m ? Number(m[1]) : null,
      confPath: join(CORPUS_DIR, cf?.[1] ?? 'aux/minimal4.conf'),
      family: check.includes('dhcpd -6') ? 6 : 4,
    });
  }
  return out;
}
