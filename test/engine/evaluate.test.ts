import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Expr } from '../../src/config/model.js';
import { evaluate, evaluateData, executeStatements, OptionState, type EvalContext } from '../../src/engine/evaluate.js';
import { emptyPacket } from '../../src/wire/packet.js';
import { seedConfig } from './fixtures.js';

const config = seedConfig();
const opt = (code: number): Expr => ({ op: 'option', space: 'dhcp', name: `o${code}`, code });
const int = (value: number): Expr => ({ op: 'const-int', value });
const str = (s: string): Expr => ({ op: 'const-data', data: Buffer.from(s) });

function ctx(options: Map<number, Buffer>, raw = Buffer.alloc(0)): EvalContext {
  const packet = emptyPacket();
  for (const [c, v] of options) packet.options.set(c, v);
  return { config, packet, raw, known: false, classes: new Set(), options: new OptionState(), variables: new Map(), now: 1000 };
}

/** Expressions over attacker-controlled option bytes. */
const EXPRS: Expr[] = [
  { op: 'substring', data: opt(60), offset: int(3), length: int(200) },
  { op: 'suffix', data: opt(61), length: int(300) },
  { op: 'extract-int', data: opt(93), width: 16 },
  { op: 'extract-int', data: opt(50), width: 32 },
  { op: 'binary-to-ascii', base: int(16), width: int(8), separator: str(':'), data: opt(61) },
  { op: 'binary-to-ascii', base: int(10), width: int(32), separator: str('.'), data: opt(60) },
  { op: 'reverse', width: int(3), data: opt(61) },
  { op: 'packet', offset: int(236), length: int(1000) },
  { op: 'regex-match', left: opt(60), pattern: str('^(a+)+$') },
  { op: 'regex-match', left: opt(60), pattern: str('[') },
  { op: 'concat', parts: [opt(60), opt(12), { op: 'hardware' }] },
  { op: 'pick-first-value', values: [opt(77), opt(60), str('none')] },
  { op: 'equal', left: { op: 'substring', data: opt(60), offset: int(0), length: int(9) }, right: str('PXEClient') },
  { op: 'divide', left: { op: 'extract-int', data: opt(93), width: 8 }, right: { op: 'extract-int', data: opt(94), width: 8 } },
  { op: 'option', space: 'agent', name: 'circuit-id', code: 1 },
  { op: 'exists', space: 'agent', name: 'remote-id', code: 2 },
];

test('ISC semantics of the data functions', () => {
  const c = ctx(new Map([[60, Buffer.from('PXEClient:Arch:00007')], [61, Buffer.from([1, 0x52, 0x54, 0, 2, 0xbf, 0xf8])]]));
  assert.equal(evaluateData(EXPRS[0]!, c)!.toString(), 'Client:Arch:00007', 'substring past the end is truncated');
  assert.equal(evaluateData({ op: 'substring', data: opt(60), offset: int(99), length: int(3) }, c)!.length, 0, 'offset past the end: empty');
  assert.equal(evaluateData(EXPRS[4]!, c)!.toString(), '1:52:54:0:2:bf:f8', 'binary-to-ascii does not pad');
  assert.equal(evaluateData({ op: 'suffix', data: opt(60), length: int(5) }, c)!.toString(), '00007');
  assert.deepEqual(evaluate(EXPRS[12]!, c), { kind: 'boolean', value: true });
  assert.equal(evaluate({ op: 'equal', left: opt(77), right: opt(78) }, c)!.kind, 'boolean', 'two absent options compare equal (ISC)');
  assert.equal(evaluate(EXPRS[13]!, c), undefined, 'division by a missing value is null');
});

test('no expression throws on arbitrary option bytes or packets (hostile input)', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom('1', '12', '50', '60', '61', '77', '82', '93', '94'), fc.uint8Array({ maxLength: 300 })),
      fc.uint8Array({ maxLength: 600 }),
      (opts, raw) => {
        const m = new Map<number, Buffer>(Object.entries(opts).map(([k, v]) => [Number(k), Buffer.from(v)]));
        const c = ctx(m, Buffer.from(raw));
        for (const e of EXPRS) evaluate(e, c);
        executeStatements(
          [
            { kind: 'set', loc: { file: 't', line: 1, column: 1 }, name: 'v', value: EXPRS[10]! },
            { kind: 'if', loc: { file: 't', line: 1, column: 1 }, branches: [{ condition: EXPRS[8]!, body: [] }], otherwise: null },
          ],
          c,
        );
      },
    ),
    { numRuns: 300 },
  );
});
