/**
 * Value classes of the syntax tree shared by the Chevrotain parser (grammar/conf-parser.ts) and the
 * canonical-host fast path (grammar/host-fast-path.ts): both must build identical nodes.
 */
import type { Ipv4Literal, Loc, RawValue } from './ast.js';
import type { ConfigError } from './errors.js';
import type { Tok } from './tokens.js';
import { errorAtToks } from './token-stream.js';

/** Ipv4Literal with its dotted text made on demand. */
export class Ipv4Lit implements Ipv4Literal {
  constructor(
    readonly loc: Loc,
    readonly octets: [number, number, number, number],
  ) {}
  get text(): string {
    return this.octets.join('.');
  }
  toJSON(): object {
    return { loc: this.loc, octets: this.octets, text: this.text };
  }
}

/** RawValue implementation: keeps what is needed to reproduce ISC's report at any value token. */
export class RawTokens implements RawValue {
  readonly kind = 'tokens' as const;
  emptyError?: ConfigError;
  constructor(
    readonly tokens: Tok[],
    readonly file: string,
    public end: Loc,
    private readonly text: string,
    /** The token before the value (the option name's last token). */
    private readonly before: Tok | undefined,
    /** The token after the value (`;`, a brace, or end of file). */
    private readonly terminator: Tok,
  ) {}
  errorAt(i: number, message: string, peekAfter = true): ConfigError {
    const tokens = this.tokens;
    const at = i < tokens.length ? tokens[i]! : this.terminator;
    const prev = i === 0 ? this.before : i <= tokens.length ? tokens[i - 1] : this.terminator;
    const after = i + 1 < tokens.length ? tokens[i + 1] : i + 1 === tokens.length ? this.terminator : undefined;
    return errorAtToks(this.file, this.text, prev, at, after, message, peekAfter);
  }
  toJSON(): object {
    return { kind: this.kind, tokens: this.tokens, file: this.file, end: this.end };
  }
}

