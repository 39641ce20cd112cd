/**
 * IPv4 address conversions used at the socket boundary (the addon speaks uint32 in host order).
 */
import type { Ipv4 } from './transport.js';

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** uint32 (host order) → "a.b.c.d". */
export function formatIpv4(addr: number): string {
  return `${(addr >>> 24) & 0xff}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** "a.b.c.d" or a uint32 → uint32; throws a TypeError naming the bad value. */
export function toUint32(addr: Ipv4): number {
  if (typeof addr === 'number') {
    if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff) throw new TypeError(`not an IPv4 address: ${addr}`);
    return addr >>> 0;
  }
  const m = DOTTED.exec(addr);
  if (!m) throw new TypeError(`not an IPv4 address: ${JSON.stringify(addr)}`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/** Netmask of a prefix length (0..32) as uint32. */
export function prefixMask(prefixLength: number): number {
  return prefixLength <= 0 ? 0 : (0xffffffff << (32 - Math.min(32, prefixLength))) >>> 0;
}

/** "aa:bb:cc:dd:ee:ff" (or aa-bb-…) or a Buffer of at least 6 bytes → 6-byte Buffer; throws TypeError otherwise. */
export function toMac(mac: Buffer | string): Buffer {
  if (typeof mac !== 'string') {
    if (mac.length < 6) throw new TypeError(`hardware address too short (${mac.length} bytes)`);
    return Buffer.from(mac.subarray(0, 6));
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`not a MAC address: ${JSON.stringify(mac)}`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
