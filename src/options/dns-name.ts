/**
 * RFC 1035 §3.1 domain-name encoding as ISC dhcpd does it for option formats `d`, `D` and `Dc`
 * (common/ns_name.c: presentation-to-wire with `\.`/`\DDD` escapes, and RFC 1035 §4.1.4 compression
 * pointers, searched in the same order as BIND's dn_find so the bytes match ISC's).
 */

const MAX_CDNAME = 255;

/** Presentation form to uncompressed wire form; null when ISC's ns_name_pton would fail. */
export function domainNameToWire(name: string | Uint8Array): Uint8Array | null {
  const src = typeof name === 'string' ? Buffer.from(name, 'latin1') : name;
  const out: number[] = [];
  let label: number[] = [];
  const closeLabel = (): boolean => {
    if (label.length > 63) return false;
    out.push(label.length, ...label);
    label = [];
    return true;
  };
  let i = 0;
  while (i < src.length) {
    let c = src[i++];
    if (c === 0x5c /* \ */) {
      if (i >= src.length) break; // trailing backslash: ISC ignores it (escaped flag left set)
      c = src[i++];
      if (c >= 0x30 && c <= 0x39) {
        if (i + 1 >= src.length + 1) return null;
        const d2 = src[i];
        const d3 = src[i + 1];
        if (d2 === undefined || d2 < 0x30 || d2 > 0x39 || d3 === undefined || d3 < 0x30 || d3 > 0x39) return null;
        const n = (c - 0x30) * 100 + (d2 - 0x30) * 10 + (d3 - 0x30);
        if (n > 255) return null;
        i += 2;
        c = n;
      }
      label.push(c);
      continue;
    }
    if (c === 0x2e /* . */) {
      if (label.length === 0) {
        // Only "." on its own (the root) may have an empty label.
        if (i === src.length && out.length === 0) {
          out.push(0);
          return Uint8Array.from(out);
        }
        return null;
      }
      if (!closeLabel()) return null;
      if (i === src.length) {
        out.push(0);
        return out.length > MAX_CDNAME ? null : Uint8Array.from(out);
      }
      if (src[i] === 0x2e) return null;
      continue;
    }
    label.push(c);
  }
  if (label.length > 0) {
    if (!closeLabel()) return null;
  }
  out.push(0);
  return out.length > MAX_CDNAME ? null : Uint8Array.from(out);
}

/** Splits an uncompressed wire name into its labels (without the root). */
function labelsOf(wire: Uint8Array): Uint8Array[] {
  const labels: Uint8Array[] = [];
  let i = 0;
  while (i < wire.length && wire[i] !== 0) {
    labels.push(wire.subarray(i + 1, i + 1 + wire[i]));
    i += wire[i] + 1;
  }
  return labels;
}

const lower = (b: number): number => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);

/**
 * Encodes a list of names the way ISC's parse_domain_list does: each name is written in series; with
 * `compress`, suffixes already present in the buffer are replaced by RFC 1035 pointers whose offsets are
 * relative to the start of the option data.
 */
export function encodeDomainList(names: (string | Uint8Array)[], compress: boolean): Uint8Array | null {
  const buf: number[] = [];
  const saved: number[] = []; // label start offsets written so far (BIND's dnptrs)
  // Does the name stored at `pos` (following pointers) equal `labels[k..]`?
  const matchesAt = (pos: number, labels: Uint8Array[], k: number): boolean => {
    let p = pos;
    let j = k;
    for (let guard = 0; guard < 512; guard++) {
      const n = buf[p];
      if (n === 0) return j === labels.length;
      if ((n & 0xc0) === 0xc0) {
        p = ((n & 0x3f) << 8) | buf[p + 1];
        continue;
      }
      if (j >= labels.length) return false;
      const l = labels[j];
      if (l.length !== n) return false;
      for (let x = 0; x < n; x++) if (lower(l[x]) !== lower(buf[p + 1 + x])) return false;
      p += n + 1;
      j++;
    }
    return false;
  };
  for (const name of names) {
    const wire = domainNameToWire(name);
    if (!wire) return null;
    if (!compress) {
      buf.push(...wire);
      continue;
    }
    const labels = labelsOf(wire);
    let done = false;
    for (let k = 0; k < labels.length; k++) {
      let found = -1;
      for (const pos of saved) {
        if (matchesAt(pos, labels, k)) {
          found = pos;
          break;
        }
      }
      if (found >= 0) {
        buf.push(0xc0 | (found >> 8), found & 0xff);
        done = true;
        break;
      }
      if (buf.length < 0x4000 && saved.length < 254) saved.push(buf.length);
      buf.push(labels[k].length, ...labels[k]);
    }
    if (!done) buf.push(0);
  }
  return Uint8Array.from(buf);
}
