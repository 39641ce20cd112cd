/**
 * A big-endian writer over a caller-supplied buffer. The encoder sizes its output before writing, so
 * the writer does not grow; a write past the end is a programming error and throws (RangeError from
 * Buffer), which tests catch. Unwritten octets keep whatever the buffer held: pass a zeroed buffer when
 * the protocol needs zero padding.
 *
 * @module
 */
export class Writer {
  /** Current absolute write position. */
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  /** Write one octet. */
  u8(v: number): this {
    if (this.pos >= this.buf.length) throw new RangeError(`write past end at ${this.pos}`);
    this.buf[this.pos++] = v & 255;
    return this;
  }

  /** Write a big-endian uint16. */
  u16(v: number): this {
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  /** Write a big-endian uint32 (taken modulo 2^32). */
  u32(v: number): this {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** Copy bytes. */
  bytes(b: Uint8Array): this {
    if (this.pos + b.length > this.buf.length) throw new RangeError(`write past end at ${this.pos}`);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Copy at most `field` octets of `b` and zero-fill the rest of a fixed-size field. */
  field(b: Uint8Array, field: number): this {
    const n = Math.min(b.length, field);
    if (this.pos + field > this.buf.length) throw new RangeError(`write past end at ${this.pos}`);
    this.buf.set(n === b.length ? b : b.subarray(0, n), this.pos);
    this.buf.fill(0, this.pos + n, this.pos + field);
    this.pos += field;
    return this;
  }
}
