/**
 * fast-check generators for DHCPv4 packets, shared by the codec unit tests (test/wire/) and the hostile-input
 * soak (issue 8: 1,000,000 packets sent at the server in a namespace).
 *
 * - {@link dhcpPacketArbitrary}: well-formed {@link DhcpPacket}s that survive encode → decode unchanged
 *   (options 1..254 except 52 with non-empty values, long options, empty or NUL-free sname/file).
 * - {@link hostileDatagramArbitrary}: byte-level mutations of real captures plus targeted attacks:
 *   truncations, option lengths past the end, overload loops, zero and huge hlen, wrong op/htype, bad
 *   cookie, giant option 82, option 55 listing every code, thousands of tiny instances of one code, garbage.
 *   Every value is at most 65,507 octets (the largest UDP payload), so the soak can send them as they are.
 *
 * Random bytes come from a seeded xorshift generator driven by one fast-check integer, which keeps the
 * generators cheap enough for hundreds of thousands of runs a second-ish (shrinking then works on the seed).
 */
import fc from 'fast-check';
import { encodePacket } from '../../src/wire/encode.js';
import {
  CHADDR_LEN,
  type DhcpPacket,
  DhcpOption,
  FILE_LEN,
  MAGIC_COOKIE,
  OFFSET,
  SNAME_LEN,
} from '../../src/wire/packet.js';

/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD = 65507;

/** Fill `n` octets from a 32-bit seed (xorshift32), never 0 when `nonZero`. */
export function seededBytes(seed: number, n: number, nonZero = false): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let v = x & 255;
    if (nonZero && v === 0) v = 1;
    b[i] = v;
  }
  return b;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 255 });

/** Option codes a round-trip packet may carry: everything but pad, end and the encoder-managed overload. */
const optionCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== DhcpOption.OPTION_OVERLOAD);

/** An option value: mostly short, sometimes longer than 255 octets (RFC 3396 split on encode). */
const optionValue = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(u32, fc.integer({ min: 1, max: 32 })) },
  { weight: 2, arbitrary: fc.tuple(u32, fc.integer({ min: 33, max: 255 })) },
  { weight: 1, arbitrary: fc.tuple(u32, fc.integer({ min: 256, max: 700 })) },
).map(([seed, n]) => seededBytes(seed, n));

/** Field contents without NUL octets (the codec treats sname/file as C strings). */
const fieldText = (max: number): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: fc.tuple(u32, fc.integer({ min: 1, max })).map(([s, n]) => seededBytes(s, n, true)) },
  );

/** Constraints for {@link dhcpPacketArbitrary}. */
export interface PacketArbitraryOptions {
  /** Maximum number of options (default 24). */
  maxOptions?: number;
  /** Force empty sname/file so the encoder may overload them (default: mixed). */
  emptyFields?: boolean;
}

/** Well-formed packets for round-trip properties. */
export function dhcpPacketArbitrary(opts: PacketArbitraryOptions = {}): fc.Arbitrary<DhcpPacket> {
  const empty = fc.constant(Buffer.alloc(0));
  return fc
    .record({
      op: fc.constantFrom(1, 2),
      htype: u8,
      hlen: fc.integer({ min: 0, max: CHADDR_LEN }),
      hops: u8,
      xid: u32,
      secs: u16,
      flags: u16,
      ciaddr: u32,
      yiaddr: u32,
      siaddr: u32,
      giaddr: u32,
      chaddrSeed: u32,
      sname: opts.emptyFields === true ? empty : fieldText(SNAME_LEN),
      file: opts.emptyFields === true ? empty : fieldText(FILE_LEN),
      options: fc.uniqueArray(fc.tuple(optionCode, optionValue), {
        maxLength: opts.maxOptions ?? 24,
        selector: (t) => t[0],
      }),
    })
    .map((r) => ({
      op: r.op,
      htype: r.htype,
      hlen: r.hlen,
      hops: r.hops,
      xid: r.xid,
      secs: r.secs,
      flags: r.flags,
      ciaddr: r.ciaddr,
      yiaddr: r.yiaddr,
      siaddr: r.siaddr,
      giaddr: r.giaddr,
      chaddr: seededBytes(r.chaddrSeed, CHADDR_LEN),
      sname: r.sname,
      file: r.file,
      options: new Map(r.options),
    }));
}

/** Encoded well-formed packets (as a client or relay could send them), with up to 1500-octet messages. */
export function encodedPacketArbitrary(): fc.Arbitrary<Buffer> {
  return fc
    .tuple(dhcpPacketArbitrary(), fc.integer({ min: 576, max: 1500 }))
    .map(([p, maxSize]) => encodePacket(p, { maxSize }));
}

// ---------------------------------------------------------------------------------------------------
// Hostile input

/** A DHCP options area: cookie + the given bytes, after a 236-octet header taken from `seed`. */
function withOptions(seed: Buffer, options: Uint8Array, tail = 0): Buffer {
  const out = Buffer.alloc(Math.min(MAX_UDP_PAYLOAD, OFFSET.options + 4 + options.length + tail));
  seed.copy(out, 0, 0, Math.min(seed.length, OFFSET.options));
  out.writeUInt32BE(MAGIC_COOKIE, OFFSET.options);
  out.set(options.subarray(0, out.length - OFFSET.options - 4), OFFSET.options + 4);
  return out;
}

function optionBytes(code: number, value: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < value.length || off === 0; off += 255) {
    const n = Math.min(255, value.length - off);
    parts.push(Buffer.from([code, n]), Buffer.from(value.subarray(off, off + n)));
    if (value.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** The mutation kinds, for statistics. */
export type MutationKind =
  | 'truncate'
  | 'flip-bytes'
  | 'hlen'
  | 'op-htype'
  | 'bad-cookie'
  | 'length-past-end'
  | 'overload-loop'
  | 'giant-agent'
  | 'prl-every-code'
  | 'many-instances'
  | 'splice'
  | 'garbage'
  | 'header-sizes';

/** A hostile datagram and how it was made. */
export interface HostileDatagram {
  kind: MutationKind;
  data: Buffer;
}

/**
 * Hostile datagrams derived from real captured payloads `seeds` (see test/support/wire-vectors.ts
 * `wireVectorPayloads()`), each at most {@link MAX_UDP_PAYLOAD} octets.
 */
export function hostileDatagramArbitrary(seeds: readonly Buffer[]): fc.Arbitrary<HostileDatagram> {
  if (seeds.length === 0) throw new Error('need at least one seed packet');
  const seed = fc.integer({ min: 0, max: seeds.length - 1 }).map((i) => seeds[i]!);
  const m = <T>(kind: MutationKind, arb: fc.Arbitrary<T>, f: (v: T) => Buffer, weight = 10): fc.WeightedArbitrary<HostileDatagram> => ({
    weight,
    arbitrary: arb.map((v) => ({ kind, data: f(v) })),
  });

  return fc.oneof(
    m('truncate', fc.tuple(seed, fc.nat()), ([s, n]) => Buffer.from(s.subarray(0, n % (s.length + 1)))),
    m('flip-bytes', fc.tuple(seed, u32, fc.integer({ min: 1, max: 16 })), ([s, r, k]) => {
      const b = Buffer.from(s);
      const rnd = seededBytes(r, 3 * k);
      for (let i = 0; i < k; i++) b[((rnd[3 * i]! << 8) | rnd[3 * i + 1]!) % b.length] = rnd[3 * i + 2]!;
      return b;
    }),
    m('hlen', fc.tuple(seed, fc.oneof(fc.constant(0), fc.integer({ min: 17, max: 255 }), u8)), ([s, h]) => {
      const b = Buffer.from(s);
      b[OFFSET.hlen] = h;
      return b;
    }),
    m('op-htype', fc.tuple(seed, u8, u8), ([s, op, ht]) => {
      const b = Buffer.from(s);
      b[OFFSET.op] = op;
      b[OFFSET.htype] = ht;
      return b;
    }),
    m('bad-cookie', fc.tuple(seed, u32.filter((c) => c !== MAGIC_COOKIE)), ([s, c]) => {
      const b = Buffer.from(s);
      if (b.length >= OFFSET.options + 4) b.writeUInt32BE(c, OFFSET.options);
      return b;
    }),
    m('length-past-end', fc.tuple(seed, fc.nat(), optionCode, fc.integer({ min: 1, max: 255 })), ([s, at, code, extra]) => {
      // Cut the options somewhere, then an option whose length runs past the end (in options, file or sname).
      const start = OFFSET.options + 4;
      const cut = start + (at % Math.max(1, s.length - start));
      const b = Buffer.from(s.subarray(0, Math.max(cut, start)));
      return Buffer.concat([b, Buffer.from([code, Math.min(255, extra)]), seededBytes(at, Math.max(0, Math.min(255, extra) - 1 - (at % 3)))]);
    }),
    m('overload-loop', fc.tuple(seed, fc.integer({ min: 0, max: 7 }), fc.constantFrom('file', 'sname', 'both'), u32), ([s, bits, where, r]) => {
      const b = withOptions(s, Buffer.concat([Buffer.from([53, 1, 1, 52, 1, bits]), seededBytes(r, r % 20, true), Buffer.from([255])]));
      const loop = Buffer.from([52, 1, (r >>> 8) & 3, 255]);
      if (where !== 'sname') {
        b.fill(0, OFFSET.file, OFFSET.file + FILE_LEN);
        loop.copy(b, OFFSET.file + (r % 100));
      }
      if (where !== 'file') {
        b.fill(0, OFFSET.sname, OFFSET.sname + SNAME_LEN);
        loop.copy(b, OFFSET.sname + (r % 50));
      }
      return b;
    }),
    m('giant-agent', fc.tuple(seed, fc.integer({ min: 1, max: 250 }), u32), ([s, n, r]) => {
      // n instances of option 82 (up to ~64 KB), sub-options sometimes malformed.
      const rnd = seededBytes(r, 255);
      const sub = Buffer.from(rnd);
      sub[0] = 1;
      sub[1] = r & 1 ? 253 : 254; // 253 = exact fit, 254 = one octet past the end of the instance
      const one = Buffer.concat([Buffer.from([82, 255]), sub]);
      const parts = [Buffer.from([53, 1, 1])];
      for (let i = 0; i < n; i++) parts.push(one);
      parts.push(Buffer.from([255]));
      return withOptions(s, Buffer.concat(parts));
    }, 1),
    m('prl-every-code', fc.tuple(seed, fc.boolean()), ([s, split]) => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const prl = split ? optionBytes(55, all) : Buffer.concat([Buffer.from([55, 255]), all.subarray(0, 255)]);
      return withOptions(s, Buffer.concat([Buffer.from([53, 1, 1]), prl, Buffer.from([255])]));
    }),
    m('many-instances', fc.tuple(seed, fc.integer({ min: 1, max: 254 }), fc.integer({ min: 100, max: 2000 })), ([s, code, n]) => {
      // Thousands of 1-octet instances of one code: concatenation must stay linear.
      const body = Buffer.alloc(n * 3);
      for (let i = 0; i < n; i++) {
        body[3 * i] = code;
        body[3 * i + 1] = 1;
        body[3 * i + 2] = i & 255;
      }
      return withOptions(s, Buffer.concat([body, Buffer.from([255])]));
    }, 1),
    m('splice', fc.tuple(seed, fc.nat(), u32, fc.integer({ min: 1, max: 64 })), ([s, at, r, n]) => {
      const p = at % (s.length + 1);
      return Buffer.concat([s.subarray(0, p), seededBytes(r, n), s.subarray(p)]);
    }),
    m('garbage', fc.tuple(u32, fc.integer({ min: 0, max: 1600 })), ([r, n]) => seededBytes(r, n)),
    m('header-sizes', fc.tuple(seed, fc.constantFrom(0, 1, 235, 236, 237, 239, 240, 241)), ([s, n]) => {
      const b = Buffer.alloc(n);
      s.copy(b, 0, 0, n);
      return b;
    }),
  );
}

/** The soak's mix: mostly hostile datagrams, some well-formed generated packets. */
export function soakDatagramArbitrary(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 9, arbitrary: hostileDatagramArbitrary(seeds).map((h) => h.data) },
    { weight: 1, arbitrary: encodedPacketArbitrary() },
  );
}

/**
 * A reproducible stream of `count` soak datagrams (for the hostile-input soak: generate and send without
 * holding a million packets in memory). Same `seed` → same datagrams.
 */
export function* soakDatagrams(seeds: readonly Buffer[], count: number, seed = 1, batch = 10_000): Generator<Buffer> {
  const arb = soakDatagramArbitrary(seeds);
  for (let done = 0, round = 0; done < count; round++) {
    const n = Math.min(batch, count - done);
    for (const d of fc.sample(arb, { numRuns: n, seed: (seed + round * 7919) | 0 })) yield d;
    done += n;
  }
}
