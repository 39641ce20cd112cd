/**
 * `loadConfig(path)`: read a dhcpd.conf like ISC dhcpd 4.4.3 does (`dhcpd -t`): parse (grammar/), compile
 * to the runtime Config with ISC's semantics and checks, and report the problems in ISC's wording, file
 * and line. Relative paths (the file and its includes) resolve against the current working directory,
 * as in ISC. Never throws for bad input.
 */
import { readFileSync } from 'node:fs';
import { parseConfigFile } from '../../grammar/conf-parser.js';
import type { ConfigError } from '../../grammar/errors.js';
import type { Config, SourceLoc } from './model.js';
import { Compiler } from './compile.js';
import type { Diagnostic } from './builder.js';

export type { ConfigError } from '../../grammar/errors.js';

/** Result of loading a configuration. */
export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigError[] }
  | { ok: false; errors: ConfigError[]; warnings?: ConfigError[] };

export interface LoadOptions {
  /** Directory relative includes resolve against (default: process.cwd(), like ISC). */
  includeBase?: string;
}

/** Loads and checks `path`. The first entry of `errors` is what `dhcpd -t` would print first. */
export function loadConfig(path: string, options: LoadOptions = {}): LoadResult {
  // First with the canonical-host fast path (grammar/host-fast-path.ts): the same tree as the Chevrotain
  // parser's for a file ISC accepts. Its diagnostics are not positioned like ISC's after a fast-path
  // block, so on any error or warning the file is read again by the Chevrotain parser alone.
  const fast = loadWith(path, options, true);
  if (fast.ok && fast.warnings.length === 0) return fast;
  return loadWith(path, options, false);
}

function loadWith(path: string, options: LoadOptions, fastHosts: boolean): LoadResult {
  let parsed;
  try {
    parsed = parseConfigFile(path, options.includeBase ? { includeBase: options.includeBase, fastHosts } : { fastHosts });
  } catch (e) {
    // The parser promises not to throw; keep the "never a stack trace" rule even if it does.
    return { ok: false, errors: [{ file: path, line: 0, column: 0, message: `internal parser error: ${String(e)}`, sourceLine: '' }] };
  }
  const compiler = new Compiler(path);
  let result;
  try {
    result = compiler.compile(parsed.ast.statements, !parsed.ok);
  } catch (e) {
    return { ok: false, errors: [{ file: path, line: 0, column: 0, message: `internal compiler error: ${String(e)}`, sourceLine: '' }] };
  }
  const lines = new SourceLines();
  const semanticErrors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => toConfigError(d, path, lines));
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map((d) => toConfigError(d, path, lines));
  if (!parsed.ok) {
    // Statements in the partial tree were all read before the syntax error: ISC reported their problems first.
    return { ok: false, errors: [...semanticErrors, ...parsed.errors], warnings };
  }
  if (semanticErrors.length || !result.config) {
    return { ok: false, errors: semanticErrors.length ? semanticErrors : [{ file: path, line: 0, column: 0, message: 'Configuration file errors encountered -- exiting', sourceLine: '' }], warnings };
  }
  return { ok: true, config: result.config, warnings };
}

/** Source lines for the echo after an error message (ISC echoes at most 80 chars of the line). */
class SourceLines {
  private cache = new Map<string, string[] | null>();
  line(file: string, n: number): string {
    let lines = this.cache.get(file);
    if (lines === undefined) {
      try {
        lines = readFileSync(file, 'latin1').split('\n');
      } catch {
        lines = null;
      }
      this.cache.set(file, lines);
    }
    const l = lines?.[n - 1] ?? '';
    return l.length > 80 ? l.slice(0, 80) : l;
  }
}

function toConfigError(d: Diagnostic, mainFile: string, lines: SourceLines): ConfigError {
  if (d.exact) return { ...d.exact, severity: d.severity };
  const isc = d.loc as (SourceLoc & { iscChar?: number; sourceLine?: string }) | null;
  if (isc && typeof isc.sourceLine === 'string' && typeof isc.iscChar === 'number') {
    return { file: isc.file, line: isc.line, column: isc.column, iscChar: isc.iscChar, message: d.message, sourceLine: isc.sourceLine, severity: d.severity };
  }
  if (!d.loc) return { file: mainFile, line: 0, column: 0, message: d.message, sourceLine: '', severity: d.severity };
  return {
    file: d.loc.file,
    line: d.loc.line,
    column: d.loc.column,
    message: d.message,
    sourceLine: lines.line(d.loc.file, d.loc.line),
    severity: d.severity,
  };
}
