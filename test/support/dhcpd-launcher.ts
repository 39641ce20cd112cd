/**
 * The program a test points /usr/sbin/dhcpd at (the init-script and systemd swap tests): bin/dhcpd-ts when
 * the tests run built (dist/), else a small launcher running the TypeScript source under tsx.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fromSource = import.meta.url.endsWith('.ts');
/** The checkout (from source) or dist/ (built): test/support is two levels below either. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const repoRoot = fromSource ? root : join(root, '..');

/** bin/dhcpd-ts when built; else writes `dir`/dhcpd-ts-src, a shell launcher of src/cli/main.ts, and returns it. */
export function dhcpdLauncher(dir: string): string {
  if (!fromSource) return join(repoRoot, 'bin', 'dhcpd-ts');
  const l = join(dir, 'dhcpd-ts-src');
  writeFileSync(l, `#!/bin/sh\nexec ${process.execPath} --import ${import.meta.resolve('tsx')} ${join(root, 'src', 'cli', 'main.ts')} "$@"\n`);
  chmodSync(l, 0o755);
  return l;
}
