/**
 * A bounds-checked big-endian reader with a sticky error, after insomniacslk/dhcp's `uio.Lexer`: a read
 * past the end returns 0 (or an empty view), records the offset of the *first* overrun, and every later
 * read is a no-op. The caller checks {@link Reader.overrun} once at the end instead of after every field,
 * so hostile input can never make the decoder throw mid-parse.
 *
 * @module
 */

const EMPTY_VIEW = Buffer.alloc(0);

/** Sticky-error reader over `buf[start, end)`. Offsets reported are absolute indexes into `buf`. */
export class Reader {
  /** Current absolute read position. */
  pos: number;
  /** Absolute offset of the first read that would have passed `end`, or -1. */
  overrun = -1;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end: number = buf.length,
  ) {
    this.pos = start;
  }

  /** True while no read has overrun. */
  get ok(): boolean {
    return this.overrun < 0;
  }

  /** Octets left before `end` (0 once overrun). */
  get remaining(): number {
    return this.overrun < 0 ? this.end - this.pos : 0;
  }

  /** Reserve n octets; returns the start offset, or -1 (and records the overrun) if they are not there. */
  private take(n: number): number {
    if (this.overrun >= 0) return -1;
    if (n > this.end - this.pos) {
      this.overrun = this.pos;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** One octet, or 0 after an overrun. */
  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at]!;
  }

  /** Big-endian uint16, or 0 after an overrun. */
  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : (this.buf[at]! << 8) | this.buf[at + 1]!;
  }

  /** Big-endian uint32 (unsigned), or 0 after an overrun. */
  u32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.buf.readUInt32BE(at);
  }

  /** A view (no copy) of the next n octets, or an empty view after an overrun. */
  bytes(n: number): Buffer {
    const at = this.take(n);
    return at < 0 ? EMPTY_VIEW : this.buf.subarray(at, at + n);
  }

  /** Skip n octets. */
  skip(n: number): void {
    this.take(n);
  }
}
