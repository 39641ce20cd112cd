/**
 * dhcpd.conf text → Config for engine and server tests: src/config/load.ts `loadConfig` when it exists,
 * else the parser + compiler directly (the same pipeline loadConfig runs).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/model.js';
import { parseConfigText } from '../../grammar/conf-parser.js';
import { Compiler } from '../../src/config/compile.js';

export async function configFromText(text: string): Promise<Config> {
  const dir = mkdtempSync(join(tmpdir(), 'engine-conf-'));
  const file = join(dir, 'dhcpd.conf');
  try {
    writeFileSync(file, text);
    let load: ((path: string) => unknown) | undefined;
    try {
      const mod = (await import('../../src/config/load.js' as string)) as { loadConfig?: (path: string) => unknown };
      load = mod.loadConfig;
    } catch {
      load = undefined;
    }
    if (load !== undefined) {
      const r = (await load(file)) as { ok: boolean; config?: Config; errors?: { message: string; line?: number }[] };
      if (r.ok && r.config !== undefined) return r.config;
      // A loader bug (not a config error) must not hide engine results: fall back to parse + compile.
      if (!(r.errors ?? []).some((e) => e.message.startsWith('internal'))) throw new Error(`config errors: ${JSON.stringify(r.errors)}`);
      process.stderr.write(`configFromText: loadConfig failed internally (${JSON.stringify(r.errors)}); using parse + compile\n`);
    }
    const parsed = parseConfigText(text, file);
    if (parsed.errors.length > 0) throw new Error(`parse errors: ${parsed.errors.map((e) => `${e.line}: ${e.message}`).join('; ')}`);
    const c = new Compiler(file).compile(parsed.ast.statements);
    const errors = c.diagnostics.filter((d) => d.severity === 'error');
    if (c.config === null || errors.length > 0) throw new Error(`config errors: ${c.diagnostics.map((d) => `${d.loc?.line ?? 0}: ${d.message}`).join('; ')}`);
    return c.config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
