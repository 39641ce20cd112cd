/**
 * Loads the real-capture wire fixtures (test/fixtures/wire/*.json, made by capture-wire-vectors.sh) for
 * the codec tests and for the hostile-input soak, from the source tree whether the test runs under tsx
 * (test/...) or compiled (dist/test/...).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WireVectorFile } from './pcap-to-fixture.js';

export type { WireVectorFile, WireVectorPacket } from './pcap-to-fixture.js';

/** The repository root (the first ancestor directory holding package.json and test/fixtures). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

/** Every capture fixture file (those with `packets`; isc-verdicts.json is another shape), sorted by name. */
export function loadWireVectors(): WireVectorFile[] {
  const dir = join(repoRoot(), 'test', 'fixtures', 'wire');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Partial<WireVectorFile>)
    .filter((j): j is WireVectorFile => Array.isArray(j.packets));
}

/** The DHCP payload of every captured packet (for mutation fuzzing). */
export function wireVectorPayloads(): Buffer[] {
  return loadWireVectors().flatMap((f) => f.packets.map((p) => Buffer.from(p.dhcp, 'hex')));
}
