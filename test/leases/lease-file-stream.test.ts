/**
 * The streaming dhcpd.leases reader (grammar/leases-stream.ts + the fast path of grammar/leases-fast-path.ts)
 * must read exactly what the whole-text parser reads, and the import built on it must stay in bounded
 * memory.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { corpusLeaseFiles } from './support/corpus.js';
import { writeBigLeaseFile, BIG_FIRST_ADDRESS } from './support/big-lease-file.js';
import { parseLeaseFileText, type ParsedLeaseFile } from '../../grammar/leases-parser.js';
import { LeaseFileStreamParser } from '../../grammar/leases-stream.js';
import { formatLease, formatLeaseFile } from '../../leases/isc-lease-file.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { emptyLease, type Lease, type BindingState } from '../../leases/lease.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leases-stream-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const NOW = 1_700_000_000;

/** Streams `text` in pieces of `piece` chars through the stream parser; leases kept last-wins like the Map. */
function streamed(text: string, file: string, chunk: number, piece: number, fast: boolean): { result: ParsedLeaseFile; fastRecords: number; lines: number[] } {
  const leases = new Map<number, Lease>();
  const lines: number[] = [];
  let superseded = 0;
  const p = new LeaseFileStreamParser(
    file,
    { now: NOW },
    (l, line) => {
      if (leases.delete(l.address)) superseded++;
      leases.set(l.address, l);
      lines.push(line);
    },
    chunk,
    fast,
  );
  for (let i = 0; i < text.length; i += piece) p.push(text.slice(i, i + piece));
  const result = p.end();
  return { result: { ...result, leases, supersededLeaseRecords: superseded }, fastRecords: p.fastRecords, lines };
}

function assertSameParse(text: string, file: string, label: string): { fastRecords: number } {
  const whole = parseLeaseFileText(text, file, { now: NOW });
  let fastRecords = 0;
  // Several chunk and piece sizes: record boundaries fall everywhere.
  for (const [chunk, piece, fast] of [
    [512 << 10, 1 << 20, true],
    [200, 37, true],
    [1, 1000, true],
    [300, 4096, false],
  ] as const) {
    const s = streamed(text, file, chunk, piece, fast);
    const what = `${label}: chunk ${chunk}, piece ${piece}, fast ${fast}`;
    if (whole.diagnostics.length === 0) assert.deepEqual(s.result, whole, what);
    else {
      // A file with a diagnostic is refused whole (the import writes nothing and shows the first one).
      // After it, ISC-style error recovery may skip past a record boundary in one text and stop at the
      // end of a piece in the other, so only the first diagnostic must agree.
      assert.deepEqual(s.result.diagnostics[0], whole.diagnostics[0], what);
    }
    if (fast && chunk === 512 << 10) fastRecords = s.fastRecords;
  }
  return { fastRecords };
}

describe('streaming lease file reader', () => {
  it('reads every corpus lease file exactly as the whole-text parser (leases, hosts, states, diagnostics)', (t) => {
    const files = corpusLeaseFiles().filter((f) => f.family === 4);
    if (files.length === 0) {
      t.skip('shared corpus not present');
      return;
    }
    let fast = 0;
    for (const f of files) fast += assertSameParse(readFileSync(f.absolutePath, 'latin1'), f.path, f.path).fastRecords;
    // The corpus has ISC-written files: the fast path must have taken part of them.
    assert.ok(fast > 0, 'fast path never used on the corpus');
  });

  it('reads generated ISC-written leases through the fast path, identically', () => {
    const state = fc.constantFrom<BindingState>('free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup');
    const time = fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2_100_000_000 }));
    const str = fc.uint8Array({ minLength: 0, maxLength: 24 }).map((a) => Buffer.from(a));
    const leaseArb = fc
      .record(
        {
          address: fc.integer({ min: 0, max: 0xffffffff }),
          starts: time,
          ends: time,
          tstp: fc.oneof(fc.constant(0), time),
          cltt: fc.oneof(fc.constant(0), time),
          bindingState: state,
          nextBindingState: state,
          rewindBindingState: state,
          hw: fc.option(fc.record({ htype: fc.constantFrom(1, 6, 8, 32), address: fc.uint8Array({ minLength: 1, maxLength: 16 }) }), { nil: null }),
          uid: fc.option(str, { nil: null }),
          host: fc.option(fc.stringMatching(/^[a-z0-9.-]{1,20}$/), { nil: null }),
          vars: fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), str), { maxLength: 2 }),
        },
        { noNullPrototype: true },
      )
      .map((r) => {
        const l = emptyLease(r.address >>> 0);
        Object.assign(l, { starts: r.starts, ends: r.ends, tstp: r.tstp, cltt: r.cltt });
        Object.assign(l, { bindingState: r.bindingState, nextBindingState: r.nextBindingState, rewindBindingState: r.rewindBindingState });
        l.hardware = r.hw ? { htype: r.hw.htype, address: Buffer.from(r.hw.address) } : null;
        l.uid = r.uid;
        l.clientHostname = r.host;
        for (const [k, v] of r.vars) l.scope.set(k, { kind: 'data', value: v });
        return l;
      });
    fc.assert(
      fc.property(fc.array(leaseArb, { minLength: 1, maxLength: 30 }), (leases) => {
        const text = formatLeaseFile({ leases, authoringByteOrder: 'little-endian' }, { now: NOW });
        assertSameParse(text, 'gen.leases', text.slice(0, 2000));
        // Without the header, every record formatLease wrote for these leases goes through the fast path.
        const records = leases.map((l) => formatLease(l, { now: NOW })).join('');
        const { fastRecords } = assertSameParse(records, 'gen.leases', records.slice(0, 2000));
        assert.equal(fastRecords, leases.length, records.slice(0, 2000));
      }),
      { numRuns: 150 },
    );
  });

  it('hands non-canonical records (tabs, on blocks, comments after statements) to the general parser', () => {
    const l = emptyLease(0x0a000001);
    l.bindingState = 'active';
    l.ends = NOW + 100;
    const canonical = formatLease(l, { now: NOW });
    const odd = [
      'lease 10.0.0.2 {\n\tbinding state active;\n}\n',
      'lease 10.0.0.3 {\n  binding state free; # hand edit\n}\n',
      'lease 10.0.0.4 {\n  binding state active;\n  on expiry { set x = "y"; }\n}\n',
      'lease 10.0.0.5 { binding state free; }\n',
      'lease 10.0.0.6 {\n  ends 4 2024/01/01 00:00:00;\n}\n', // no binding state: derived from `now`
      'lease 10.0.0.7 {\n  binding state active;\n  binding state free;\n}\n', // Too many … (a diagnostic)
      'lease 10.0.0.8 {\n  uid "\\777";\n  binding state free;\n}\n', // escape the general parser warns about
    ];
    const text = [canonical.repeat(3), ...odd.map((o) => o + canonical)].join('');
    assertSameParse(text, 'odd.leases', 'odd');
  });

  it('reports a truncated file at the line ISC names, whatever the chunking', () => {
    const l = emptyLease(0x0a000001);
    l.bindingState = 'active';
    const text = formatLease(l).repeat(50) + 'lease 10.0.0.9 {\n  starts 4 2024/01/01';
    const whole = parseLeaseFileText(text, 't.leases', { now: NOW });
    assert.ok(whole.diagnostics.length > 0);
    assertSameParse(text, 't.leases', 'truncated');
  });
});

describe('import in bounded memory', () => {
  it('imports 100,000 leases with a 64 MB V8 heap, one transaction, last record wins', () => {
    const lf = join(dir, 'big.leases');
    writeBigLeaseFile(lf, 100_000, NOW);
    // Two more records for addresses already in the file: the last one must win.
    const again = emptyLease(BIG_FIRST_ADDRESS + 5);
    again.bindingState = 'free';
    writeFileSync(lf, formatLease(again), { flag: 'a' });
    const db = join(dir, 'big.sqlite');
    const commands = new URL('../../leases/commands.js', import.meta.url).href;
    const script = `import { importLeases } from ${JSON.stringify(commands)};
      const s = importLeases({ leaseFile: ${JSON.stringify(lf)}, database: ${JSON.stringify(db)} });
      console.log(JSON.stringify({ leases: s.leases, superseded: s.supersededLeaseRecords, heap: process.memoryUsage().heapUsed }));`;
    const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '--max-old-space-size=64', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `import failed: ${r.stderr.slice(-2000)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { leases: number; superseded: number };
    assert.equal(out.leases, 100_000);
    assert.equal(out.superseded, 1);
    const store = openSqliteLeaseStore(db, { readOnly: true });
    try {
      assert.equal(store.leaseCount(), 100_000);
      assert.equal(store.getByAddress(BIG_FIRST_ADDRESS + 5)?.bindingState, 'free');
      assert.equal(store.getByAddress(BIG_FIRST_ADDRESS + 99_999)?.clientHostname, 'c99999');
      assert.deepEqual(store.countByState(), { active: 99_999, free: 1 });
    } finally {
      store.close();
    }
  });
});
