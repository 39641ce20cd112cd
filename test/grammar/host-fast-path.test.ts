/**
 * The canonical-host fast path (grammar/host-fast-path.ts) must build exactly the tree the Chevrotain
 * parser builds: every field, line, column, ISC caret column and echoed source line (IscPos values and
 * RawValue.errorAt included). Files with many layouts of host blocks, canonical or not, mixed with other
 * statements, are parsed both ways and compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../grammar/conf-parser.js';
import { CanonicalHost, scanCanonicalHosts } from '../../grammar/host-fast-path.js';
import type { Statement } from '../../grammar/ast.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function layout(r: () => number): (tokens: string[]) => string {
  const ws = [' ', ' ', ' ', '\t', '\n', '\n  ', '  ', '\n\n', ' \r\n', '\f'];
  return (tokens) => {
    let s = '';
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const glue = t === ';' || t === ':' || t === '.' || t === ',' || (i > 0 && (tokens[i - 1] === ':' || tokens[i - 1] === '.'));
      s += (i === 0 ? '' : glue && r() < 0.8 ? '' : ws[Math.floor(r() * ws.length)]!) + t;
    }
    return s;
  };
}

function hex2(n: number, r: () => number): string {
  const h = n.toString(16);
  return r() < 0.3 ? h : r() < 0.5 ? h.padStart(2, '0').toUpperCase() : h.padStart(2, '0');
}

function hostBlock(i: number, r: () => number): string {
  const lay = layout(r);
  const stmts: string[][] = [];
  if (r() < 0.9) {
    const mac: string[] = [];
    const n = r() < 0.9 ? 6 : 1 + Math.floor(r() * 8);
    for (let k = 0; k < n; k++) {
      if (k) mac.push(':');
      mac.push(hex2(Math.floor(r() * 256), r));
    }
    stmts.push(['hardware', 'ethernet', ...mac, ';']);
  }
  if (r() < 0.9) {
    const fa = ['fixed-address'];
    const count = r() < 0.85 ? 1 : 2;
    for (let k = 0; k < count; k++) {
      if (k) fa.push(',');
      fa.push(String(10 + (i % 5)), '.', String(Math.floor(r() * 256)), '.', r() < 0.1 ? '007' : String(i % 256), '.', String(1 + (i % 250)));
    }
    fa.push(';');
    stmts.push(fa);
  }
  const opts = Math.floor(r() * 3);
  for (let k = 0; k < opts; k++) {
    const names = ['host-name', 'domain-name', 'root-path', 'Host-Name', 'extensions-path'];
    const strs = ['"h' + i + '"', '"a b"', '"x\\"y"', '"esc\\101\\x41"', '""', '"tab\\tx"'];
    stmts.push(['option', names[Math.floor(r() * names.length)]!, strs[Math.floor(r() * strs.length)]!, ';']);
  }
  // shuffle
  for (let k = stmts.length - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [stmts[k], stmts[j]] = [stmts[j]!, stmts[k]!];
  }
  const names = ['h' + i, 'host-' + i, 'H' + i + '_x', 'abc' + i, 'ethernet'];
  const name = names[Math.floor(r() * names.length)]!;
  return lay(['host', name, '{', ...stmts.flat(), '}']);
}

const OTHER = [
  'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.10 10.0.0.20;\n}',
  'option domain-name "example.org";',
  'default-lease-time 600;',
  '# a comment\n',
  'group {\n  host g1 { hardware ethernet 0:1:2:3:4:5; }\n}',
  'if option dhcp-message-type = 3 {\n  log(info, "x");\n}',
  'class "c1" {\n  match if substring(option vendor-class-identifier, 0, 4) = "MSFT";\n}',
  'host odd.name { hardware ethernet 0:1:2:3:4:6; }',
  'host commented { # comment\n  hardware ethernet 0:1:2:3:4:7;\n}',
  'host str { option host-name "multi\nline"; }',
  'HOST upper { hardware ethernet 0:1:2:3:4:8; }',
  'host one { hardware ethernet 0:1:2:3:4:9; fixed-address 10.9.9.9; option host-name "one"; }',
  'option space foo;',
  'authoritative;',
];

function genFile(seed: number, n: number): string {
  const r = rng(seed);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.25) parts.push(OTHER[Math.floor(r() * OTHER.length)]!);
    else parts.push(hostBlock(seed * 1000 + i, r));
    if (r() < 0.2) parts.push('   ');
  }
  return parts.map((p, i) => (i > 0 && r() < 0.1 ? ' ' + p : p)).join(r() < 0.5 ? '\n' : '\n\n') + (r() < 0.5 ? '\n' : '');
}

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
