/**
 * The canonical-host fast path (grammar/host-fast-path.ts) must build exactly the tree the Chevrotain
 * parser builds: every field, line, column, ISC caret column and echoed source line (IscPos values and
 * RawValue.errorAt included). Files with many layouts of host blocks, canonical or not, mixed with other
 * statements, are parsed both ways and compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../grammar/conf-parser.js';
import { CanonicalHost, completeFacts, O_BYTES, O_NAME, O_NAME_END, O_STRING, O_STRING_END, OPT, R_FIXED, R_FIXED_COUNT, R_HW, R_HW_LEN, R_NAME, R_NAME_END, R_OPT_COUNT, R_OPTS, REC, scanCanonicalHosts } from '../../grammar/host-fast-path.js';
import type { Statement } from '../../grammar/ast.js';
import { genFile, rng } from './host-gen.js';

/** Everything of a tree the compiler or an error message could read. */
function snapshot(list: Statement[]): string {
  const statements = list.map((s) => (s instanceof CanonicalHost ? s.materialize() : s));
  const extra: unknown[] = [];
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    const raw = v as { kind?: string; tokens?: unknown[]; errorAt?: (i: number, m: string, p?: boolean) => unknown };
    if (raw.kind === 'tokens' && typeof raw.errorAt === 'function' && Array.isArray(raw.tokens)) {
      for (let i = 0; i <= raw.tokens.length; i++) extra.push(raw.errorAt(i, 'm'), raw.errorAt(i, 'm', false));
    }
    for (const x of Object.values(v as object)) visit(x);
  };
  visit(statements);
  return JSON.stringify({ statements, extra });
}

test('fast path: same tree as the Chevrotain parser on generated files', () => {
  let fastHosts = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const text = genFile(seed, 40);
    const slow = parseConfigText(text, 'gen.conf');
    if (!slow.ok) continue;
    const fast = parseConfigText(text, 'gen.conf', { fastHosts: true });
    assert.equal(fast.ok, true, `seed ${seed}: ${JSON.stringify(fast.errors)}`);
    assert.equal(snapshot(fast.ast.statements), snapshot(slow.ast.statements), `seed ${seed}:\n${text}`);
    fastHosts += scanCanonicalHosts(text, 'gen.conf')?.hosts.length ?? 0;
  }
  // The generator must exercise the fast path (most hosts are canonical).
  assert.ok(fastHosts > 1000, `only ${fastHosts} hosts took the fast path`);
});

test('fast path: what it must leave to the parser', () => {
  const cases = [
    'host a { hardware ethernet 0:1:2:3:4:5; }\n',
    'if foo { }\nhost a { hardware ethernet 0:1:2:3:4:5; }\nelse { }\n',
    'option x y\nhost a { hardware ethernet 0:1:2:3:4:5; }\n',
    'group { \nhost a { hardware ethernet 0:1:2:3:4:5; }\n}\n',
    'x; host a { hardware ethernet 0:1:2:3:4:5; }\n',
    'host a { hardware ethernet 0:1:2:3:4:5; hardware ethernet 0:1:2:3:4:5; }\n',
    'host a { fixed-address 10.0.0.256; }\n',
    'host a { option space "x"; }\n',
    'host a { hardware ethernet 0:1:2:3:4:5 }\n',
  ];
  const found = cases.map((c) => scanCanonicalHosts(c, 'x.conf')?.hosts.length ?? 0);
  assert.deepEqual(found, [1, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('fast path: blanked text keeps every other token at its line and column', () => {
  const text = 'a;\nhost a {\n hardware ethernet 0:1:2:3:4:5;\n} \t b;\nc;\n';
  const r = scanCanonicalHosts(text, 'x.conf');
  assert.ok(r);
  assert.equal(r.text.split('\n').length, text.split('\n').length);
  assert.equal(r.text.indexOf('b;') - r.text.lastIndexOf('\n', r.text.indexOf('b;')), text.indexOf('b;') - text.lastIndexOf('\n', text.indexOf('b;')));
  assert.equal(r.text.replace(/\s+/g, ''), 'a;b;c;');
});

test('fast path: near-miss blocks (one char changed) are read exactly as the Chevrotain parser reads them', () => {
  // Every block the fast path takes must be one the parser reads to the same node; whatever it refuses
  // goes to the parser. Single-char edits of canonical blocks probe the edges of what it accepts.
  const base = 'a;\nhost h1 {\n  hardware ethernet 02:0a:00:c3:4e:01;\n  fixed-address 10.1.2.3, 10.1.2.4;\n  option host-name "h1";\n}\nhost h2 { option root-path "x\\"y"; }\nb;\n';
  const alphabet = [' ', '\n', '\t', ';', ':', '.', ',', '{', '}', '"', '\\', '#', 'a', 'F', 'g', '0', '9', '-', '_', 'x'];
  const r = rng(7);
  let taken = 0;
  for (let n = 0; n < 600; n++) {
    const at = 3 + Math.floor(r() * (base.length - 6));
    const ch = alphabet[Math.floor(r() * alphabet.length)]!;
    const op = r();
    const text = op < 0.4 ? base.slice(0, at) + ch + base.slice(at + 1) : op < 0.7 ? base.slice(0, at) + ch + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
    const slow = parseConfigText(text, 'm.conf');
    const fast = parseConfigText(text, 'm.conf', { fastHosts: true });
    assert.equal(fast.ok, slow.ok, JSON.stringify(text));
    if (!slow.ok) continue;
    assert.equal(snapshot(fast.ast.statements), snapshot(slow.ast.statements), JSON.stringify(text));
    taken += scanCanonicalHosts(text, 'm.conf')?.hosts.length ?? 0;
  }
  assert.ok(taken > 300, `only ${taken} mutated blocks took the fast path`);
});

test('fast path: the regular expression records the very facts the scanner records', () => {
  // Generated files, and the one-char edits of the test above: same blocks, same numbers.
  const texts: string[] = [];
  for (let seed = 1; seed <= 60; seed++) texts.push(genFile(seed, 40));
  const base = 'host h1 {\n  hardware ethernet 02:0a:00:c3:4e:01;\n  fixed-address 10.1.2.3, 10.1.2.4;\n  option host-name "h1";\n}\nhost h2 { option root-path "x\\"y"; }\nhost h3 {hardware ethernet 1 : 2;fixed-address 1 . 2 . 3 . 255;option\tunknown-7 "x";}\n';
  const r = rng(11);
  for (let n = 0; n < 400; n++) {
    const at = Math.floor(r() * base.length);
    const ch = [' ', '\n', ';', ':', '.', ',', '"', '\\', 'a', '0', '9', '-'][Math.floor(r() * 12)]!;
    texts.push(base.slice(0, at) + ch + base.slice(at + (r() < 0.5 ? 1 : 0)));
  }
  let compared = 0;
  for (const text of texts) {
    const a = scanCanonicalHosts(text, 'g.conf');
    const b = scanCanonicalHosts(text, 'g.conf', true);
    assert.equal(a?.hosts.length, b?.hosts.length, JSON.stringify(text));
    if (!a || !b) continue;
    assert.deepEqual(a.segments, b.segments);
    // What `-t` reads before any host is built (completeFacts re-reads the block): the names and lines.
    const names = (h: CanonicalHost): unknown[] => {
      const t = h.table;
      const r = h.index * REC;
      const out: unknown[] = [h.line, t.text.slice(t.rec[r + R_NAME]!, t.rec[r + R_NAME_END]!)];
      for (let k = 0; k < t.rec[r + R_OPT_COUNT]!; k++) {
        const o = t.rec[r + R_OPTS]! + k * OPT;
        out.push(t.text.slice(t.opts[o + O_NAME]!, t.opts[o + O_NAME_END]!));
      }
      return out;
    };
    assert.deepEqual(a.hosts.map(names), b.hosts.map(names), JSON.stringify(text));
    for (const h of a.hosts) completeFacts(h);
    const facts = (h: CanonicalHost): unknown => {
      const t = h.table;
      const r = h.index * REC;
      const rec = Array.from(t.rec.subarray(r, r + REC));
      const hwLen = rec[R_HW_LEN]!;
      const hw = hwLen >= 0 ? Array.from(t.hw.subarray(rec[R_HW]!, rec[R_HW]! + hwLen)) : null;
      const fixed = Array.from(t.fixed.subarray(rec[R_FIXED]!, rec[R_FIXED]! + rec[R_FIXED_COUNT]!));
      const options = [];
      for (let k = 0; k < rec[R_OPT_COUNT]!; k++) {
        const o = rec[R_OPTS]! + k * OPT;
        const opt = Array.from(t.opts.subarray(o, o + OPT));
        const bytes = opt[O_BYTES]!;
        options.push([...opt.slice(0, O_BYTES), bytes < 0 ? null : Array.from(t.str.subarray(bytes, bytes + opt[O_STRING_END]! - opt[O_STRING]!))]);
      }
      for (const f of [R_HW, R_FIXED, R_OPTS]) rec[f] = 0; // offsets into the buffers differ; their contents are compared
      return { line: h.line, rec, hw, fixed, options };
    };
    for (let k = 0; k < a.hosts.length; k++) assert.deepEqual(facts(a.hosts[k]!), facts(b.hosts[k]!), JSON.stringify(text));
    compared += a.hosts.length;
  }
  assert.ok(compared > 1000, `only ${compared} blocks compared`);
});
