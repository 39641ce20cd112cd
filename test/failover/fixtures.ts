/** Locates test/failover/fixtures both under tsx (source tree) and under dist/ (compiled). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Reads a fixture file of test/failover/fixtures. */
export function readFixture(name: string): string {
  for (const dir of [join(here, 'fixtures'), join(here, '..', '..', '..', 'test', 'failover', 'fixtures')]) {
    const p = join(dir, name);
    if (existsSync(p)) return readFileSync(p, 'utf8');
  }
  throw new Error(`fixture ${name} not found`);
}
