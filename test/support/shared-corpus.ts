/**
 * Where the shared corpus of real dhcpd.conf / dhcpd.leases files is: $DHCPD_TS_CORPUS, else the nearest
 * `shared/corpus` beside an ancestor of this file (the project's checkout sits next to shared/, in development
 * and in CI alike), else /work/shared/corpus.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findCorpus(): string {
  const fromEnv = process.env['DHCPD_TS_CORPUS'];
  if (fromEnv) return fromEnv;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'corpus');
    if (existsSync(join(candidate, 'manifest.tsv'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return '/work/shared/corpus';
    dir = parent;
  }
}

/** The corpus folder (holds manifest.tsv, files/, aux/). */
export const SHARED_CORPUS_DIR: string = findCorpus();
