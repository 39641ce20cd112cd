/** IPv4 helpers for the config model (addresses as uint32). */

/** uint32 -> dotted quad. */
export function formatIp(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Four bytes (network order) -> uint32. */
export function ipFromBytes(b: Uint8Array, offset = 0): number {
  return ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
}

/** Dotted quad -> uint32, or null. */
export function parseIp(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return null;
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** Number of leading one bits of a mask (ISC prints implicit network names with it). */
export function prefixLength(mask: number): number {
  let n = 0;
  for (let bit = 31; bit >= 0 && (mask >>> bit) & 1; bit--) n++;
  return n;
}
