/**
 * Configuration errors in ISC dhcpd's wording and layout.
 *
 * ISC's parse_warn() prints `FILE line N: MESSAGE`, then the source line as far as its lexer has read it
 * (which may be a partial line, the previous line, or empty — see grammar/token-stream.ts), then a caret
 * line: one space per char before ISC's column (tabs expand to the next multiple of 8) and `^`. The caret
 * indentation is omitted when ISC's column is 81 or more. Errors ISC reports without a position (a missing
 * include: `Can't open X: No such file or directory`) have `plain: true` (and `line` 0) and print the
 * message only. (ISC itself prints `line 0` for an error before any token was consumed.)
 */

/** One configuration diagnostic. */
export interface ConfigError {
  /** File name as ISC prints it (the path as given on the command line or in `include`). */
  file: string;
  /** 1-based line; 0 when ISC reports the problem without a position. */
  line: number;
  /** 1-based column (byte) of the offending token; 0 when unknown. */
  column: number;
  message: string;
  /** The source line ISC echoes after the message (may be partial, see module doc). */
  sourceLine: string;
  /** ISC's internal column (`lexchar`) used for the caret; defaults to `column`. */
  iscChar?: number;
  /** True for errors ISC prints without `FILE line N:` (log_error style); `line` is then 0. */
  plain?: boolean;
  /** 'warning' for things ISC reports but accepts; default 'error'. */
  severity?: 'error' | 'warning';
}

/** The caret line ISC prints under `sourceLine` for a character position `lexchar`. */
export function iscCaretLine(sourceLine: string, lexchar: number): string {
  let lix = 0;
  let buf = '';
  // ISC compares against an unsigned `lexchar - 1`: with lexchar 0 (nothing read yet) the whole line counts.
  const limit = lexchar <= 0 ? sourceLine.length : lexchar - 1;
  for (let i = 0; i < sourceLine.length && i < limit; i++) {
    if (lix < 255) {
      buf += ' ';
      lix++;
    }
    if (sourceLine[i] === '\t') {
      for (; lix < 255 && (lix & 7) !== 0; lix++) buf += ' ';
    }
  }
  return (lexchar < 81 ? buf : '') + '^';
}

/**
 * Formats one error exactly as `dhcpd -t` writes it to stderr (without a trailing newline):
 * `FILE line N: MESSAGE` + `\n` + source line + `\n` + caret line; or just MESSAGE when `line` is 0.
 */
export function formatIscError(err: ConfigError): string {
  if (err.plain) return err.message;
  const caret = iscCaretLine(err.sourceLine, err.iscChar ?? err.column);
  return `${err.file} line ${err.line}: ${err.message}\n${err.sourceLine}\n${caret}`;
}

/** Builds a position-less error (ISC log_error/log_fatal style). */
export function plainError(file: string, message: string): ConfigError {
  return { file, line: 0, column: 0, message, sourceLine: '', plain: true };
}
