/**
 * Differential property tests: generated and mutated dhcpd.conf files are checked by the real ISC dhcpd
 * 4.4.3 (`dhcpd -4 -t`, lease/pid files pointed into a private temp dir) and by loadConfig(); both must
 * agree on the verdict and, for rejected files, on the first error's file and line (or, for ISC's
 * position-less fatal messages, on the message).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { runIscTest, iscAvailable } from './isc-oracle.js';
import { generatedConfig, mutation } from './conf-gen.js';
import { readConfRows, sameMessage } from './corpus-support.js';

let dir = '';
const startCwd = process.cwd();

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dhcpd-ts-diff-'));
});
after(() => {
  process.chdir(startCwd);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Compare ISC and loadConfig on one text; returns a description of the disagreement or null. */
function compare(text: string): string | null {
  const cf = 'test.conf';
  writeFileSync(join(dir, cf), text, 'latin1');
  const isc = runIscTest(cf, dir, dir);
  process.chdir(dir);
  let ours;
  try {
    ours = loadConfig(cf);
  } finally {
    process.chdir(startCwd);
  }
  // -t must not have written anything besides our own file.
  const extra = readdirSync(dir).filter((f) => f !== cf);
  if (extra.length) return `dhcpd -t wrote ${extra.join(', ')}`;
  if (isc.ok !== ours.ok) {
    return ours.ok ? `ISC rejects: ${isc.firstError}` : `ISC accepts; ours: ${ours.errors[0]?.line}: ${ours.errors[0]?.message}`;
  }
  if (ours.ok) return null;
  const e = ours.errors[0];
  if (isc.line === null) {
    if (e.line > 0 || !sameMessage(e.message, isc.message)) return `ISC: ${isc.firstError} | ours: line ${e.line}: ${e.message}`;
    return null;
  }
  if (e.line !== isc.line || e.file !== isc.file) return `ISC: ${isc.firstError} | ours: ${e.file} line ${e.line}: ${e.message}`;
  return null;
}

const skip = iscAvailable() ? false : 'ISC dhcpd not installed';

test('generated configs: same verdict and first error line as ISC dhcpd -t', { skip, timeout: 60_000 }, () => {
  fc.assert(
    fc.property(generatedConfig, (text) => {
      const d = compare(text);
      assert.equal(d, null, `${d}\n--- config ---\n${text}`);
    }),
    { numRuns: 120, seed: Number(process.env.DIFF_SEED ?? 20261129) },
  );
});

test('mutated corpus configs: same verdict and first error line as ISC dhcpd -t', { skip, timeout: 60_000 }, () => {
  // Self-contained -4 corpus files that ISC accepts (no includes: they are rewritten into a temp dir).
  const sources = readConfRows()
    .filter((r) => r.family === 4 && r.iscVerdict === 'ok')
    .map((r) => readFileSync(join(r.cwd, r.cfArg), 'latin1'))
    .filter((t) => !/\binclude\b/i.test(t) && t.length < 20_000);
  if (!sources.length) return;
  const arb = fc.integer({ min: 0, max: sources.length - 1 }).chain((i) => mutation(sources[i]));
  fc.assert(
    fc.property(arb, (text) => {
      const d = compare(text);
      assert.equal(d, null, `${d}\n--- config ---\n${text}`);
    }),
    { numRuns: 80, seed: Number(process.env.DIFF_SEED ?? 20261129) },
  );
});
