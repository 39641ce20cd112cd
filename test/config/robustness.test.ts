/**
 * Bad input never crashes: loadConfig() on generated, mutated (twice) and random-text configurations
 * always returns a result, and every rejection carries a message (never an internal error).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { generatedConfig, mutation } from './conf-gen.js';
import { readConfRows } from './corpus-support.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dhcpd-ts-robust-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('loadConfig never throws and always explains a rejection', { timeout: 60_000 }, () => {
  const sources = readConfRows()
    .filter((r) => r.family === 4)
    .map((r) => readFileSync(join(r.cwd, r.cfArg), 'latin1'))
    .filter((t) => !/\binclude\b/i.test(t));
  const mutated = sources.length
    ? fc.integer({ min: 0, max: sources.length - 1 }).chain((i) => mutation(sources[i]).chain((t) => mutation(t)))
    : generatedConfig;
  const arb = fc.oneof(generatedConfig, mutated, fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')));
  fc.assert(
    fc.property(arb, (text) => {
      const file = join(dir, 'f.conf');
      writeFileSync(file, text, 'latin1');
      const r = loadConfig(file);
      if (!r.ok) {
        assert.ok(r.errors.length > 0);
        assert.ok(r.errors[0].message.length > 0);
        assert.doesNotMatch(r.errors[0].message, /internal (parser|compiler) error/);
      }
    }),
    { numRuns: 600, seed: 7 },
  );
});
