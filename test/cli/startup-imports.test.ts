/**
 * What the short commands load. `dhcpd -t` on a small file is mostly Node's start-up and module loading
 * (ISC answers in a few ms), so `--version`/`-h` must not load the config compiler, and `-t`/`-T` must
 * not load the server, the engine, the native transport, the SQLite lease store or winston (see
 * src/cli/main.ts). The program runs as a child process with a module-resolution hook that lists every
 * ES module it resolves and, at exit, every CommonJS file in the require cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${fromSource ? 'ts' : 'js'}`);

/** Registers a resolve hook that prints `MOD <url>`; prints `CJS <file>` for the require cache at exit. */
const HOOK = `
import { register, createRequire } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  'export async function resolve(s, c, n) { const r = await n(s, c); process.stderr.write("MOD " + r.url + "\\\\n"); return r; }'));
const req = createRequire(import.meta.url);
process.on('exit', () => { for (const k of Object.keys(req.cache)) process.stderr.write('CJS ' + k + '\\n'); });
`;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-imports-'));
  writeFileSync(join(dir, 'hook.mjs'), HOOK);
  writeFileSync(join(dir, 'small.conf'), 'subnet 10.9.0.0 netmask 255.255.255.0 { range 10.9.0.10 10.9.0.20; }\n');
  writeFileSync(join(dir, 'small.leases'), '');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs dhcpd-ts with `args`; returns its exit code and what it loaded (URLs and file paths). */
function loaded(args: string[]): { code: number | null; modules: string[]; stderr: string } {
  const node = [...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), '--import', join(dir, 'hook.mjs'), MAIN];
  const r = spawnSync(process.execPath, [...node, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir });
  const modules = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('MOD ') || l.startsWith('CJS '))
    .map((l) => l.slice(4));
  // The hook's lines out, the program's own lines left.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => !l.startsWith('MOD ') && !l.startsWith('CJS '))
    .join('\n');
  return { code: r.status, modules, stderr };
}

/** Loaded modules whose URL/path contains any of `parts`. */
function matching(modules: string[], parts: string[]): string[] {
  return [...new Set(modules.filter((m) => parts.some((p) => m.includes(p))))];
}

const SERVING = ['/src/server/', '/src/engine/', '/src/net/', '/src/policy/', '/src/failover/', 'better-sqlite3', '/winston/', '/leases/sqlite'];

describe('start-up: each command loads only what it needs', () => {
  test('--version and -h: no config compiler, no grammar, nothing of the server', () => {
    for (const flag of ['--version', '-h']) {
      const r = loaded([flag]);
      assert.equal(r.code, 0, r.stderr);
      // The hook does see our own modules (otherwise the checks below would pass vacuously).
      assert.ok(matching(r.modules, ['/src/cli/main.']).length > 0, 'the hook saw main');
      // (src/config/parameters.ts, a few pure helpers main.ts uses after loading, may come along.)
      assert.deepEqual(matching(r.modules, ['/src/config/load.', '/src/config/compile.', '/src/options/', '/grammar/', 'chevrotain', ...SERVING]), [], flag);
    }
  });

  test('-t: the config compiler, but not the server, the lease store, the lease parser or winston', () => {
    for (const args of [['-t', '-cf', 'small.conf'], ['-t', '-q', '-cf', 'small.conf']]) {
      const r = loaded(args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(matching(r.modules, ['/src/config/load.']).length > 0, 'the config compiler is loaded');
      assert.deepEqual(matching(r.modules, [...SERVING, '/leases/', 'leases-parser']), [], args.join(' '));
    }
  });

  test('-T: the lease file parser too, still nothing of the server and no SQLite', () => {
    const r = loaded(['-T', '-cf', 'small.conf', '-lf', 'small.leases']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(matching(r.modules, ['leases-parser']).length > 0, 'the lease parser is loaded');
    assert.deepEqual(matching(r.modules, SERVING), []);
  });

  test('a configuration error under -t is still reported (with the direct logger)', () => {
    writeFileSync(join(dir, 'bad.conf'), 'subnet 10.9.0.0 netmask 255.255.255.0 { range 10.9.0.10 10.9.0.20 }\n');
    const r = loaded(['-t', '-cf', 'bad.conf']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bad\.conf line 1: semicolon expected\.$/m);
    assert.match(r.stderr, /^Configuration file errors encountered -- exiting$/m);
    assert.deepEqual(matching(r.modules, SERVING), []);
  });
});
