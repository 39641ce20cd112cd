/**
 * Adapts the grammar's tokens (grammar/tokens.ts `Tok`) to the value parser's `ValueToken`.
 */
import type { Tok } from '../../grammar/tokens.js';
import type { ValueToken } from '../options/value-parser.js';

/** One grammar token as a value token of file `file`. */
export function toValueToken(t: Tok, file: string): ValueToken {
  const loc = { file, line: t.line, column: t.column };
  switch (t.kind) {
    case 'string':
      return { type: 'string', image: t.text, bytes: latin1Bytes(t.text), loc };
    case 'number':
      return { type: 'number', image: t.image, loc };
    case 'numberOrName':
      return t.keyword ? { type: 'keyword', image: t.image, keyword: t.keyword, loc } : { type: 'number-or-name', image: t.image, loc };
    case 'name':
      return t.keyword ? { type: 'keyword', image: t.image, keyword: t.keyword, loc } : { type: 'name', image: t.image, loc };
    default:
      return { type: 'punct', image: t.image, loc };
  }
}

/** The bytes of a latin1 string (one char = one byte); cheaper than Buffer.from for short strings. */
function latin1Bytes(s: string): Uint8Array {
  const u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u;
}

/** Several tokens. */
export function toValueTokens(toks: readonly Tok[], file: string): ValueToken[] {
  // One pass, no intermediate array: this runs for every option statement of every host.
  const out: ValueToken[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind !== 'eof') out.push(toValueToken(t, file));
  }
  return out;
}
