/**
 * The compiler's direct path for fast-path hosts (src/config/compile.ts canonicalHost, from
 * grammar/host-fast-path.ts facts) must build the very model the general path builds from the Chevrotain
 * parser's tree: every host, scope, option statement and location. Generated files (test/grammar/host-gen)
 * are compiled both ways and the whole Config compared; loadConfig must agree with both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../grammar/conf-parser.js';
import { Compiler } from '../../src/config/compile.js';
import { loadConfig } from '../../src/config/load.js';
import { genFile, OTHER_NO_HOST } from '../grammar/host-gen.js';

/** A deterministic rendering of an object graph (shared objects and cycles shown as references). */
function render(root: unknown): string {
  const seen = new Map<object, number>();
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') {
      out.push(typeof v === 'function' ? 'fn' : JSON.stringify(v) ?? 'undefined');
      return;
    }
    const id = seen.get(v);
    if (id !== undefined) {
      out.push(`#${id}`);
      return;
    }
    seen.set(v, seen.size);
    if (v instanceof Uint8Array) {
      out.push(`u8[${Array.from(v).join(',')}]`);
      return;
    }
    if (v instanceof Map) {
      out.push('Map{');
      for (const [k, x] of v) {
        walk(k);
        out.push('=>');
        walk(x);
        out.push(',');
      }
      out.push('}');
      return;
    }
    out.push('{');
    for (const [k, x] of Object.entries(v)) {
      out.push(k, ':');
      walk(x);
      out.push(',');
    }
    out.push('}');
  };
  walk(root);
  return out.join('');
}

function compileBoth(text: string, file: string): { slow: string; fast: string; ok: boolean } {
  const slowTree = parseConfigText(text, file);
  const fastTree = parseConfigText(text, file, { fastHosts: true });
  const slow = new Compiler(file).compile(slowTree.ast.statements, !slowTree.ok);
  const fast = new Compiler(file).compile(fastTree.ast.statements, !fastTree.ok);
  const clean = slowTree.ok && slow.config !== null && slow.diagnostics.length === 0;
  return { slow: render(slow.config), fast: render(fast.config), ok: clean };
}

test('direct host compile: the same Config as the general path', () => {
  let compared = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const text = genFile(seed, 40, OTHER_NO_HOST);
    const r = compileBoth(text, 'gen.conf');
    if (!r.ok) continue;
    compared++;
    assert.equal(r.fast, r.slow, `seed ${seed}:\n${text}`);
  }
  assert.ok(compared >= 10, `only ${compared} generated files compiled cleanly`);
});

test('direct host compile: unknown options, duplicate names and non-string options go the general way', () => {
  const texts = [
    'host a { hardware ethernet 0:1:2:3:4:5; option foo-bar "x"; }\n',
    'host a { fixed-address 10.0.0.1; }\nhost a { fixed-address 10.0.0.2; }\n',
    'host a { option domain-name-servers "x"; }\n',
    'host a { option routers "1.2.3.4"; }\n',
  ];
  const dir = mkdtempSync(join(tmpdir(), 'fast-compile-'));
  try {
    for (const [i, text] of texts.entries()) {
      const file = join(dir, `t${i}.conf`);
      writeFileSync(file, text);
      const slowTree = parseConfigText(text, file);
      const slow = new Compiler(file).compile(slowTree.ast.statements, !slowTree.ok);
      const r = loadConfig(file);
      // loadConfig's answer is the general path's: same verdict, same first error.
      assert.equal(r.ok, slow.config !== null && !slow.diagnostics.some((d) => d.severity === 'error'), text);
      if (!r.ok) assert.equal(r.errors[0]?.message, slow.diagnostics.find((d) => d.severity === 'error')?.message, text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('direct host compile: hosts built on first use are the eager ones (mixed forms, deleted hosts, any first read)', () => {
  const canon = (n: string, k: number): string => `host ${n} {\n  hardware ethernet 02:00:00:00:00:${k.toString(16).padStart(2, '0')};\n  fixed-address 10.0.0.${k};\n  option host-name "${n}";\n}\n`;
  const texts = [
    // Other scopes, a non-canonical host, `authoritative` (inherited at creation) and a group between fast-path hosts.
    canon('a', 1) + 'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.100 10.0.0.120;\n}\n' + canon('b', 2) +
      'host c { hardware ethernet 0:1:2:3:4:5; filename "x"; }\n' + canon('d', 4) + 'authoritative;\n' + canon('e', 5) +
      'group {\n  host g { hardware ethernet 0:1:2:3:4:6; }\n}\n' + canon('f', 6) + canon('h', 7),
    // A later `deleted` host removes a fast-path one by name; hosts after it are deferred again.
    canon('a', 1) + canon('b', 2) + 'host a { deleted; }\n' + canon('c', 3) + canon('a', 4),
    // Only fast-path hosts.
    canon('x', 1) + canon('y', 2) + canon('z', 3),
  ];
  const reads: ((c: NonNullable<ReturnType<Compiler['compile']>['config']>) => unknown)[] = [
    (c) => c.hostsByHardware,
    (c) => c.scopes.length,
    (c) => c.hostsByName.get('b'),
    (c) => c.hosts[0],
  ];
  for (const text of texts) {
    for (const read of reads) {
      const slowTree = parseConfigText(text, 'm.conf');
      const fastTree = parseConfigText(text, 'm.conf', { fastHosts: true });
      const slow = new Compiler('m.conf').compile(slowTree.ast.statements, !slowTree.ok);
      const fast = new Compiler('m.conf').compile(fastTree.ast.statements, !fastTree.ok);
      assert.equal(slow.diagnostics.length, 0, JSON.stringify(slow.diagnostics));
      assert.equal(fast.diagnostics.length, 0, JSON.stringify(fast.diagnostics));
      assert.ok(slow.config && fast.config);
      read(fast.config);
      assert.equal(render(fast.config), render(slow.config), text);
      // Scopes are by id, every one of them.
      assert.deepEqual(fast.config.scopes.map((s) => s.id), fast.config.scopes.map((_, i) => i));
    }
  }
});

test('direct host compile: a duplicate fast-path host name is an error, as on the general path', () => {
  const text = 'host a { hardware ethernet 0:1:2:3:4:5; }\nhost b { hardware ethernet 0:1:2:3:4:6; }\nhost a { hardware ethernet 0:1:2:3:4:7; }\n';
  const fastTree = parseConfigText(text, 'd.conf', { fastHosts: true });
  const fast = new Compiler('d.conf').compile(fastTree.ast.statements, !fastTree.ok);
  assert.equal(fast.config, null);
  assert.deepEqual(fast.diagnostics.map((d) => [d.message, d.loc?.line]), [['host a: already exists', 3]]);
});
