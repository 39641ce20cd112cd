/**
 * Mutated real configs (fast-check): the parser never throws and always answers with well-formed
 * ConfigErrors; and against the real ISC dhcpd, its syntax verdict is sound — a file we reject is one
 * ISC rejects (ISC may reject more: values and semantics are the compiler's), and a file ISC accepts we
 * accept. Bounded: a fixed number of runs on small files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseConfigText } from '../../grammar/conf-parser.js';
import { formatIscError } from '../../grammar/errors.js';
import { checkBoth, haveDhcpd } from './isc-oracle.js';
import { SHARED_CORPUS_DIR } from '../support/shared-corpus.js';

const SEEDS = [
  `${SHARED_CORPUS_DIR}/files/isc-dhcp/server/dhcpd.conf.example`,
  `${SHARED_CORPUS_DIR}/files/isc-dhcp/tests/failover/dhcp-1.cf`,
].filter((f) => existsSync(f));

const FALLBACK = `option domain-name "example.org";
default-lease-time 600;
class "pxe" { match if substring(option vendor-class-identifier, 0, 9) = "PXEClient"; }
subnet 10.0.0.0 netmask 255.255.255.0 {
  range 10.0.0.10 10.0.0.20;
  if exists user-class { filename "a"; } else { filename = concat("b", "c"); }
  pool { range 10.0.0.30 10.0.0.40; allow members of "pxe"; }
}
host h { hardware ethernet 0:1:2:3:4:5; fixed-address 10.0.0.5; }
`;

const seeds = SEEDS.length > 0 ? SEEDS.map((f) => readFileSync(f, 'latin1')) : [FALLBACK];
const PIECES = [';', '{', '}', '(', ')', '"', '.', ':', ',', '=', '!', '#', '\n', ' ', 'if', 'else', 'option', 'subnet', 'host', '10', '0x', 'a', '-', '_'];

/** A mutation: delete, duplicate or insert a piece at some offset. */
const mutation = fc.record({
  seed: fc.nat(seeds.length - 1),
  ops: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), kind: fc.constantFrom('del', 'ins', 'dup'), piece: fc.constantFrom(...PIECES), len: fc.integer({ min: 1, max: 8 }) }), { minLength: 1, maxLength: 3 }),
});

function apply(m: { seed: number; ops: { at: number; kind: string; piece: string; len: number }[] }): string {
  let s = seeds[m.seed]!;
  for (const op of m.ops) {
    const i = Math.floor(op.at * s.length);
    if (op.kind === 'del') s = s.slice(0, i) + s.slice(i + op.len);
    else if (op.kind === 'ins') s = s.slice(0, i) + op.piece + s.slice(i);
    else s = s.slice(0, i) + s.slice(i, i + op.len) + s.slice(i);
  }
  return s;
}

test('mutated configs never crash the parser and give well-formed errors', () => {
  fc.assert(
    fc.property(mutation, (m) => {
      const text = apply(m);
      const r = parseConfigText(text, 'm.conf');
      assert.equal(r.ok, r.errors.length === 0);
      for (const e of r.errors) {
        assert.ok(e.message.length > 0);
        assert.ok(e.plain || (e.line >= 0 && e.line <= text.split('\n').length + 1));
        assert.ok(!/internal parser error/.test(e.message), e.message);
        assert.equal(typeof formatIscError(e), 'string');
      }
    }),
    { numRuns: 400, seed: 4242 },
  );
});

test('syntax verdict on mutated configs is sound against ISC dhcpd', { skip: !haveDhcpd && 'dhcpd not installed' }, () => {
  fc.assert(
    fc.property(mutation, (m) => {
      const text = apply(m);
      const v = checkBoth(text);
      if (v.iscCode === 0) assert.deepEqual(v.ours.errors.map((e) => formatIscError(e)), [], 'ISC accepts');
      if (!v.ours.ok) {
        assert.equal(v.iscCode, 1, `we reject (${v.oursFirst}) but ISC accepts`);
        // When ISC's first error is positioned, ours is not earlier in the file than ISC's.
        const li = Number(/^t\.conf line (\d+):/.exec(v.iscFirst ?? '')?.[1] ?? NaN);
        const lo = Number(/^t\.conf line (\d+):/.exec(v.oursFirst ?? '')?.[1] ?? NaN);
        if (!Number.isNaN(li) && !Number.isNaN(lo)) assert.ok(lo >= li, `ours line ${lo} before ISC's ${li}: ${v.oursFirst} / ${v.iscFirst}`);
      }
    }),
    { numRuns: 40, seed: 777 },
  );
});

test('pathological input: binary bytes, deep nesting, huge expressions end in a positioned error', () => {
  const bin = Array.from({ length: 20000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');
  const r1 = parseConfigText(bin, 'bin.conf');
  assert.equal(r1.ok, false);
  const r2 = parseConfigText('group { '.repeat(20000), 'deep.conf');
  assert.equal(r2.ok, false);
  assert.equal(r2.errors[0]!.message, 'statements nested too deeply.');
  assert.equal(r2.errors[0]!.line, 1);
  const r3 = parseConfigText(`if ${'('.repeat(50000)}known`, 'expr.conf');
  assert.equal(r3.ok, false);
  assert.ok(!/internal/.test(r3.errors[0]!.message));
  // Moderate nesting is fine.
  const r4 = parseConfigText('group { '.repeat(200) + 'authoritative; ' + '} '.repeat(200), 'ok.conf');
  assert.deepEqual(r4.errors, []);
});
