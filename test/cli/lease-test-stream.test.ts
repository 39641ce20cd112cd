/**
 * `dhcpd -T` on a big lease file in a small heap: src/cli/lease-test.ts reads the file record by record
 * (the whole-text parse of 100,000 leases needs several hundred MB of tokens and dies at 64 MB). The
 * program runs as a child process under `node --max-old-space-size=64`; the expected count and line
 * numbers come from the generator below, which knows what it wrote.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${fromSource ? 'ts' : 'js'}`);
const HEAP_MB = 64;
const RECORDS = 100_000;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-lease-stream-'));
  // One range that holds every generated address (ISC says "lease X: no subnet." for one outside all ranges).
  writeFileSync(join(dir, 'd.conf'), 'subnet 10.0.0.0 netmask 255.0.0.0 {\n  range 10.0.0.1 10.3.255.254;\n}\n');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ip = (a: number): string => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');

interface Generated {
  /** Different addresses among the records ISC enters (it keeps one lease an address). */
  distinct: number;
  /** 1-based line of the bad statement, when one was written. */
  badLine?: number;
}

/**
 * Writes `RECORDS` lease records as ISC writes them: every 10th repeats an earlier address (a renewal
 * appended later: the last record wins, the count does not grow). With `badAt`, that record carries
 * `bogus thing;`: ISC reports it and drops that lease, and also the next record (the bad record's
 * closing `}` is then "Corrupt lease file", skipped to the next `;`, inside the next record: checked
 * against ISC 4.4.3's `-T` on a small file, which wrote the leases before and after those two only).
 */
function generate(file: string, badAt?: number): Generated {
  const fd = openSync(file, 'w');
  let text = '# The format of this file is documented in the dhcpd.leases(5) manual page.\n# This lease file was written by isc-dhcp-4.4.3-P1\n\n';
  let line = 1 + 3; // the line the next record starts on
  let next = 0x0a000001;
  const seen = new Set<number>();
  let badLine: number | undefined;
  for (let i = 0; i < RECORDS; i++) {
    const address = i % 10 === 9 ? 0x0a000001 + ((i * 7919) % (next - 0x0a000001)) : next++;
    const mac = `52:54:00:${((i >>> 16) & 255).toString(16).padStart(2, '0')}:${((i >>> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const body = [
      `lease ${ip(address)} {`,
      '  starts 4 2026/11/26 10:00:00;',
      '  ends 4 2036/11/27 10:00:00;',
      '  cltt 4 2026/11/26 10:00:00;',
      '  binding state active;',
      '  next binding state free;',
      '  rewind binding state free;',
      `  hardware ethernet ${mac};`,
      `  client-hostname "host-${i}";`,
    ];
    if (i === badAt) {
      badLine = line + body.length;
      body.push('  bogus thing;');
    } else if (badAt === undefined || i !== badAt + 1) {
      seen.add(address);
    }
    body.push('}');
    text += body.join('\n') + '\n';
    line += body.length;
    if (text.length >= 1 << 20) {
      writeSync(fd, text, null, 'latin1');
      text = '';
    }
  }
  writeSync(fd, text, null, 'latin1');
  closeSync(fd);
  return { distinct: seen.size, ...(badLine !== undefined ? { badLine } : {}) };
}

/** Runs `dhcpd-ts -T` in a child with a small old-space heap. */
function runT(leaseFile: string): { code: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const node = [`--max-old-space-size=${HEAP_MB}`, ...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), MAIN];
  const r = spawnSync(process.execPath, [...node, '-T', '-cf', join(dir, 'd.conf'), '-lf', leaseFile], {
    encoding: 'latin1',
    timeout: 120_000,
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
  });
  return { code: r.status, signal: r.signal, stderr: r.stderr };
}

describe(`-T on ${RECORDS} leases with a ${HEAP_MB} MB heap`, () => {
  test('a clean file: exit 0, no diagnostics, the count of distinct addresses', () => {
    const file = join(dir, 'clean.leases');
    const g = generate(file);
    assert.ok(g.distinct > 80_000 && g.distinct < RECORDS, `the generator repeats some addresses (${g.distinct})`);
    const r = runT(file);
    assert.equal(r.signal, null, r.stderr.slice(-2000));
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const lines = r.stderr.split('\n');
    assert.deepEqual(lines.filter((l) => / line \d+: /.test(l) || l.startsWith('Corrupt lease file')), []);
    assert.ok(lines.includes(`Lease file test successful: ${g.distinct} leases read from ${file}.`), r.stderr.slice(-2000));
  });

  test('a bad statement deep in the file: ISC\'s diagnostics with its line number, the rest still read', () => {
    const file = join(dir, 'bad.leases');
    const g = generate(file, 91_234);
    assert.ok(g.badLine !== undefined && g.badLine > 900_000, `the bad line is deep in the file (${g.badLine})`);
    const r = runT(file);
    assert.equal(r.signal, null, r.stderr.slice(-2000));
    // ISC reports lease-file problems and still exits 0.
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const lines = r.stderr.split('\n');
    assert.deepEqual(
      lines.filter((l) => / line \d+: /.test(l) || l.startsWith('Corrupt lease file')),
      [
        `${file} line ${g.badLine}: Unexpected configuration directive.`,
        `${file} line ${g.badLine}: possibly corrupt lease file`,
        'Corrupt lease file - possible data loss!',
      ],
    );
    // The source line follows the first diagnostic line.
    const at = lines.indexOf(`${file} line ${g.badLine}: Unexpected configuration directive.`);
    assert.equal(lines[at + 1], '  bogus thing;');
    // The bad record's lease and the next are lost; the records after those are still entered.
    assert.ok(lines.includes(`Lease file test successful: ${g.distinct} leases read from ${file}.`), r.stderr.slice(-2000));
  });
});
