/**
 * `dhcpd -t` end to end against the real ISC dhcpd 4.4.3: the whole stderr (banner and bug paragraph
 * normalized) and exit code for hand-made configs, with and without -q; and, on a sample of the shared
 * corpus, the same exit code and first error line as ISC, run from the folder ISC's verdict was made in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { fatalLines } from '../../src/cli/isc-output.js';
import { bannerLines } from '../../src/cli/version.js';
import { SHARED_CORPUS_DIR } from '../support/shared-corpus.js';

const ISC = '/usr/sbin/dhcpd';
const skip = !existsSync(ISC) ? `${ISC} is not installed` : false;
const CORPUS = SHARED_CORPUS_DIR;

let dir = '';
const savedCwd = process.cwd();
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-check-'));
});
after(() => {
  process.chdir(savedCwd);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stderr: string;
}

function runIsc(argv: readonly string[], cwd: string): Run {
  const r = spawnSync(ISC, argv, { cwd, env: { PATH: '/usr/bin:/bin', LANG: 'C' }, encoding: 'utf8', timeout: 15_000 });
  return { code: r.status ?? -1, stderr: r.stderr };
}

async function runOurs(argv: readonly string[], cwd: string): Promise<Run> {
  process.chdir(cwd);
  try {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await main(argv, { stderr, stdout: new PassThrough(), env: { PATH: '/usr/bin:/bin' } });
    await new Promise((r) => setImmediate(r));
    return { code, stderr: err };
  } finally {
    process.chdir(savedCwd);
  }
}

const ISC_BANNER = /^Internet Systems Consortium DHCP Server .*\nCopyright .*\nAll rights reserved\.\nFor info, please visit .*\n/m;
const ISC_BUG = /\nIf you think you have received this message due to a bug rather\n(?:.*\n){3}process and the information we find helpful for debugging\.\n/;
const normalizeIsc = (s: string): string => s.replace(ISC_BANNER, '<BANNER>\n').replace(ISC_BUG, '\n<BUG>\n');
function normalizeOurs(s: string): string {
  const bug = fatalLines('X').slice(2, -2).join('\n');
  return s.split(`${bannerLines().join('\n')}\n`).join('<BANNER>\n').split(`\n${bug}\n`).join('\n<BUG>\n');
}

const CONFIGS: Record<string, string> = {
  'good.conf': 'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n',
  'missing-semicolon.conf': 'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.10 10.0.0.20\n}\n',
  'two-errors.conf': 'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.10 10.0.0.20\n}\nfoo bar;\n',
  'paths.conf':
    'lease-file-name "/tmp/cli-check-x.leases";\npid-file-name "/tmp/cli-check-y.pid";\nsubnet 10.0.0.0 netmask 255.255.255.0 { }\n',
  'bad-include.conf': 'include "/nonexistent/cli-check.conf";\n',
  'unknown-option.conf': 'option foo-bar 1;\n',
};

/**
 * Known differences in the parser's error list (not in the CLI), owned by the grammar/config engineers:
 * reported as todo so that they stay visible without failing the suite.
 */
const PARSER_TODO: Record<string, string> = {};

describe('-t against ISC: whole output', () => {
  for (const [name, text] of Object.entries(CONFIGS)) {
    for (const quiet of [false, true]) {
      const argv = quiet ? ['-t', '-q', '-cf', name] : ['-t', '-cf', name];
      const todo = !quiet && !skip ? PARSER_TODO[name] : undefined;
      test(`dhcpd ${argv.join(' ')}`, { skip, todo }, async () => {
        writeFileSync(join(dir, name), text);
        const isc = runIsc(argv, dir);
        const ours = await runOurs(argv, dir);
        assert.equal(ours.code, isc.code, `ISC said:\n${isc.stderr}`);
        assert.equal(normalizeOurs(ours.stderr), normalizeIsc(isc.stderr));
      });
    }
  }

  test('the missing config file: ISC\'s "Can\'t open" fatal', { skip }, async () => {
    const argv = ['-t', '-cf', join(dir, 'does-not-exist.conf')];
    const isc = runIsc(argv, dir);
    const ours = await runOurs(argv, dir);
    assert.equal(ours.code, isc.code);
    assert.equal(normalizeOurs(ours.stderr), normalizeIsc(isc.stderr));
  });
});

interface CorpusRow {
  path: string;
  verdict: string;
  firstError: string;
  cwd: string;
  argv: string[];
}

function corpusSample(): CorpusRow[] {
  if (!existsSync(join(CORPUS, 'manifest.tsv'))) return [];
  const rows = readFileSync(join(CORPUS, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const out: CorpusRow[] = [];
  for (const r of rows) {
    const [path, , kind, verdict, firstError, , , check] = r;
    const m = /^dhcpd -4 -t -cf (\S+)\s+\(cwd=(\S+)\)$/.exec(check ?? '');
    if (kind !== 'conf' || !m) continue;
    out.push({ path, verdict, firstError, cwd: join(CORPUS, m[2]), argv: ['-4', '-t', '-cf', m[1]] });
  }
  // A fixed, spread-out sample: every 12th config keeps this file fast.
  return out.filter((_, i) => i % 12 === 0);
}

describe('-t on a sample of the corpus: ISC\'s exit code and first error line', () => {
  for (const row of corpusSample()) {
    test(row.path, { skip }, async () => {
      const ours = await runOurs(row.argv, row.cwd);
      assert.equal(ours.code, row.verdict === 'ok' ? 0 : 1, ours.stderr);
      if (row.verdict !== 'ok' && row.firstError) {
        const lines = ours.stderr.split('\n').filter((l) => l !== '' && !bannerLines().includes(l));
        assert.equal(lines[0], row.firstError);
      }
    });
  }
});

describe('-T against ISC: the lease file', () => {
  const LEASES: Record<string, string> = {
    'empty.leases': '',
    'one.leases':
      'lease 10.0.0.11 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2026/11/26 11:00:00;\n  binding state active;\n  hardware ethernet 52:54:00:02:bf:f8;\n}\n',
    'out-of-range.leases':
      'lease 10.0.0.11 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2036/11/26 11:00:00;\n  binding state active;\n}\n' +
      'lease 10.9.0.11 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2036/11/26 11:00:00;\n  binding state active;\n}\n' +
      'lease 10.0.0.99 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2036/11/26 11:00:00;\n  binding state active;\n}\n',
    'bad-statement.leases':
      'lease 10.0.0.11 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2026/11/26 11:00:00;\n  binding state active;\n}\nlease 10.0.0.12 { bogus; }\n',
  };
  for (const [name, text] of Object.entries(LEASES)) {
    test(`dhcpd -T -cf good.conf -lf ${name}: exit code and diagnostics`, { skip }, async () => {
      writeFileSync(join(dir, 'good.conf'), CONFIGS['good.conf']);
      writeFileSync(join(dir, name), text);
      const argv = ['-T', '-cf', 'good.conf', '-lf', join(dir, name)];
      const isc = runIsc(argv, dir);
      const ours = await runOurs(argv, dir);
      assert.equal(ours.code, isc.code, isc.stderr);
      // The positioned diagnostics' first lines and the corrupt-file line, in ISC's order.
      const keyLines = (s: string): string[] => s.split('\n').filter((l) => / line \d+: /.test(l) || l.startsWith('Corrupt lease file') || / no subnet\.$/.test(l));
      assert.deepEqual(keyLines(ours.stderr), keyLines(isc.stderr));
    });
  }

  test('a missing lease file: ISC\'s "Can\'t open lease database" fatal, exit 1', { skip }, async () => {
    writeFileSync(join(dir, 'good.conf'), CONFIGS['good.conf']);
    const argv = ['-T', '-cf', 'good.conf', '-lf', join(dir, 'none.leases')];
    const isc = runIsc(argv, dir);
    const ours = await runOurs(argv, dir);
    assert.equal(isc.code, 1);
    assert.equal(ours.code, 1);
    assert.equal(normalizeOurs(ours.stderr), normalizeIsc(isc.stderr));
  });
});
