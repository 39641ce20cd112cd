/**
 * encodePacket layout rules from ISC dhcpd 4.4.3 common/options.c (cons_options, store_options) and the
 * RFCs; expected byte layouts are written out by hand from those rules. The real-capture test
 * (vectors.test.ts) checks the same encoder against ISC's own replies byte for byte.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePacket } from '../../src/wire/decode.js';
import {
  encodePacket,
  encodePacketDetailed,
  iscBootpOptionSpace,
  iscReplyMaxSize,
  optionOrder,
} from '../../src/wire/encode.js';
import { BOOTREPLY, type DhcpPacket, emptyPacket } from '../../src/wire/packet.js';

function reply(options: [number, number[]][]): DhcpPacket {
  const p = emptyPacket();
  p.op = BOOTREPLY;
  p.xid = 0x01020304;
  p.chaddr = Buffer.from([0x52, 0x54, 0, 2, 0xbf, 0xf8]);
  for (const [c, v] of options) p.options.set(c, Buffer.from(v));
  return p;
}

/** [code, length] of each option instance of the options field, in wire order (pad skipped, end kept). */
function wireOrder(buf: Buffer, start = 240, end = buf.length): [number, number][] {
  const out: [number, number][] = [];
  for (let i = start; i < end; ) {
    const c = buf[i]!;
    if (c === 0) {
      i++;
      continue;
    }
    if (c === 255) {
      out.push([255, 0]);
      break;
    }
    out.push([c, buf[i + 1]!]);
    i += 2 + buf[i + 1]!;
  }
  return out;
}

const v4 = [10, 0, 0, 1];

describe('encodePacket', () => {
  it('writes the fixed header, the cookie, and pads to 300 octets with zeros (ISC BOOTP_MIN_LEN)', () => {
    const b = encodePacket(reply([[53, [2]]]));
    assert.equal(b.length, 300);
    assert.deepEqual([...b.subarray(0, 8)], [2, 1, 6, 0, 1, 2, 3, 4]);
    assert.deepEqual([...b.subarray(28, 34)], [0x52, 0x54, 0, 2, 0xbf, 0xf8]);
    assert.deepEqual([...b.subarray(236, 244)], [99, 130, 83, 99, 53, 1, 2, 255]);
    assert.ok(b.subarray(244).every((x) => x === 0));
  });

  it('puts mandatory options first, then the PRL order, then fqdn and subnet-mask, then the rest', () => {
    // ISC list: 53 54 51 58 59 56 50 92 | PRL 15 6 3 | 81 | 1 | (rest: 99); then store_options swaps
    // subnet-mask (1) with the routers (3) placed before it.
    const p = reply([
      [6, v4],
      [3, v4],
      [99, [1]],
      [15, [0x61]],
      [1, [255, 255, 255, 0]],
      [51, [0, 0, 2, 88]],
      [54, v4],
      [53, [5]],
      [58, [0, 0, 1, 44]],
      [81, [0, 0, 0]],
    ]);
    const b = encodePacket(p, { parameterRequestList: [15, 6, 3] });
    assert.deepEqual(
      wireOrder(b).map(([c]) => c),
      [53, 54, 51, 58, 15, 6, 1, 81, 3, 99, 255],
    );
  });

  it('RFC 2132 §3.3: subnet-mask goes before routers even if the PRL asks otherwise', () => {
    assert.deepEqual(optionOrder(new Map([[1, Buffer.from(v4)], [3, Buffer.from(v4)]]), [3, 6, 1]).slice(8, 11), [1, 6, 3]);
  });

  it('without a PRL: subnet-mask, routers, dns, host-name, fqdn, then the others, vendor-encapsulated last', () => {
    const p = reply([
      [43, [1, 1, 1]],
      [42, v4],
      [12, [0x68]],
      [6, v4],
      [53, [5]],
      [3, v4],
      [1, [255, 0, 0, 0]],
    ]);
    assert.deepEqual(
      wireOrder(encodePacket(p)).map(([c]) => c),
      [53, 1, 3, 6, 12, 42, 43, 255],
    );
  });

  it('removes PRL duplicates, ignores 82 in the PRL, and puts agent information last before end', () => {
    const p = reply([
      [82, [1, 2, 0x61, 0x62]],
      [53, [2]],
      [6, v4],
      [3, v4],
    ]);
    const b = encodePacket(p, { parameterRequestList: [82, 6, 6, 3, 6] });
    assert.deepEqual(wireOrder(b), [[53, 1], [6, 4], [3, 4], [82, 4], [255, 0]]);
  });

  it('truncates a very long PRL to ISC\'s 300-entry priority list before removing duplicates', () => {
    // 8 mandatory entries + 292 PRL entries fill the list: a code requested at PRL position 293 or later
    // is not sent, and neither are the fqdn/subnet-mask that ISC adds only while there is room.
    const prl = [...Array(291).fill(6), 15, 3, 12];
    const order = optionOrder(new Map([[6, Buffer.from(v4)], [15, Buffer.from('x')], [3, Buffer.from(v4)], [1, Buffer.from(v4)]]), prl);
    assert.deepEqual(order.slice(8, 10), [6, 15]);
    // 3 and 1 are only placed by the encoder's "rest" pass (the engine decides whether they are sent),
    // subnet-mask then swapped before routers.
    assert.deepEqual(order.slice(10), [1, 3]);
    // With two entries of room left, fqdn and subnet-mask still get their places after the PRL.
    const short = optionOrder(new Map([[6, Buffer.from(v4)]]), [...Array(290).fill(6)]);
    assert.deepEqual(short.slice(8), [6, 81, 1]);
  });

  it('places client-identifier after the mandatory options with echo-client-id', () => {
    const p = reply([[53, [2]], [3, v4], [61, [1, 2, 3]]]);
    assert.deepEqual(wireOrder(encodePacket(p, { parameterRequestList: [3], echoClientId: true })).map(([c]) => c), [53, 61, 3, 255]);
  });

  it('never sends options with empty values (ISC skips them)', () => {
    const p = reply([[53, [2]], [15, []]]);
    assert.deepEqual(wireOrder(encodePacket(p)), [[53, 1], [255, 0]]);
  });

  it('splits values over 255 octets into 255-octet instances (RFC 3396)', () => {
    const long = Array.from({ length: 600 }, (_, i) => i & 255);
    const b = encodePacket(reply([[53, [5]], [119, long]]), { maxSize: 1500 });
    assert.deepEqual(wireOrder(b), [[53, 1], [119, 255], [119, 255], [119, 90], [255, 0]]);
    const d = decodePacket(b);
    assert.ok(d.ok);
    assert.deepEqual([...d.packet.options.get(119)!], long);
  });

  it('overloads into file when an option does not fit 576 octets, ending the file with end', () => {
    // 312-octet options field (576 - 264), 308 after the cookie. store_options, in list order
    // 53 | 15 17 40 (PRL): 53 → main (bufix 3); 15 (200) → main, 3+5+200 < 308 (bufix 205);
    // 17 (100) → 205+5+100 ≥ 308, so whole into file, 0+3+100 < 128 (six 102);
    // 40 (50) → 205+5+50 < 308, back in main (bufix 257). Then 52 = 1 (file), end: 236+4+257+3+1 = 501.
    const p = reply([[53, [5]], [15, Array(200).fill(0x61)], [17, Array(100).fill(0x62)], [40, Array(50).fill(0x63)]]);
    const r = encodePacketDetailed(p, { parameterRequestList: [15, 17, 40] });
    assert.deepEqual(r.dropped, []);
    assert.equal(r.overload, 1);
    const b = r.buffer;
    assert.equal(b.length, 501);
    assert.deepEqual(wireOrder(b), [[53, 1], [15, 200], [40, 50], [52, 1], [255, 0]]);
    assert.equal(b[499], 1); // the value of option 52
    assert.deepEqual(wireOrder(b, 108, 236), [[17, 100], [255, 0]]);
    assert.ok(b.subarray(108 + 103, 236).every((x) => x === 0), 'file padded with zeros after end');
    assert.ok(b.subarray(44, 108).every((x) => x === 0), 'sname untouched');
  });

  it('splits an option across options, file and sname when it fits nowhere whole', () => {
    // 53 (bufix 3), then 119 (400 > 255, split): main gets min(308-3-5, 255) = 255 (bufix 260), then
    // 308-260-5 = 43 (bufix 305); main is full (305+6 ≥ 308), so the last 102 octets go to file
    // (room 128-3 = 125). Then 52 = 1 fills the options field exactly: 4+305+3 = 312, so no end
    // option (ISC adds end only if there is room).
    const long = Array.from({ length: 400 }, (_, i) => i & 255);
    const r = encodePacketDetailed(reply([[53, [5]], [119, long]]), {});
    assert.equal(r.overload, 1);
    assert.deepEqual(wireOrder(r.buffer), [[53, 1], [119, 255], [119, 43], [52, 1]]);
    assert.deepEqual(wireOrder(r.buffer, 108, 236), [[119, 102], [255, 0]]);
    const d = decodePacket(r.buffer);
    assert.ok(d.ok);
    assert.deepEqual([...d.packet.options.get(119)!], long);
  });

  it('does not overload a file or sname the reply uses; drops what does not fit and reports it', () => {
    const p = reply([[53, [5]], [15, Array(250).fill(0x61)], [17, Array(100).fill(0x62)]]);
    p.file = Buffer.from('pxelinux.0');
    p.sname = Buffer.from('boot-server');
    const r = encodePacketDetailed(p, { parameterRequestList: [15, 17] });
    assert.equal(r.overload, 0);
    assert.deepEqual(r.dropped, [17]);
    assert.equal(r.buffer.toString('latin1', 108, 118), 'pxelinux.0');
    assert.equal(r.buffer.toString('latin1', 44, 55), 'boot-server');
    assert.equal(encodePacketDetailed(p, { parameterRequestList: [15, 17], overload: false }).dropped.length, 1);
  });

  it('honours the maximum message size, never below 576', () => {
    const p = reply([[53, [5]], [15, Array(250).fill(0x61)], [17, Array(250).fill(0x62)]]);
    p.file = Buffer.from('f');
    p.sname = Buffer.from('s');
    assert.deepEqual(encodePacketDetailed(p, { maxSize: 100 }).dropped, [17]);
    assert.ok(encodePacket(p, { maxSize: 100 }).equals(encodePacket(p, { maxSize: 576 })));
    const big = encodePacketDetailed(p, { maxSize: 1000 });
    assert.deepEqual(big.dropped, []);
    assert.ok(big.buffer.length <= 1000 - 28);
  });

  it('adds relay agent information on top of the client limit (ISC cons_options)', () => {
    const p = reply([[53, [5]], [15, Array(290).fill(0x61)], [82, Array(40).fill(1)]]);
    p.file = Buffer.from('f');
    p.sname = Buffer.from('s');
    const r = encodePacketDetailed(p, { parameterRequestList: [15] });
    assert.deepEqual(r.dropped, []);
    // options 4 + 3 + (257 + 37 for 290 split at the space left) = 301 of the client's 312; agent 42
    // octets on top (mb_size 354), then end: 236 + 301 + 42 + 1 = 580 > 548.
    assert.equal(r.buffer.length, 580);
    assert.deepEqual(wireOrder(r.buffer).map(([c]) => c), [53, 15, 15, 82, 255]);
  });

  it('NUL-terminates text options for MS clients (ISC terminate), the NUL in the last RFC 3396 piece', () => {
    const p = reply([[53, [5]], [15, [...Buffer.from('example.test')]], [119, Array(300).fill(0x61)], [3, v4]]);
    const text = (c: number): boolean => c === 15 || c === 119;
    const b = encodePacket(p, { maxSize: 1500, parameterRequestList: [15, 119, 3], nulTerminate: text });
    assert.deepEqual(wireOrder(b), [[53, 1], [15, 13], [119, 255], [119, 46], [3, 4], [255, 0]]);
    assert.equal(b.toString('latin1', 245, 258), 'example.test\0');
    const d = decodePacket(b);
    assert.ok(d.ok);
    assert.equal(d.packet.options.get(119)!.length, 301);
    assert.equal(d.packet.options.get(119)![300], 0);
    assert.deepEqual([...d.packet.options.get(3)!], v4, 'non-text option untouched');
  });

  it('uses ISC\'s BOOTP option space when asked', () => {
    const p = reply([[1, [255, 255, 255, 0]], [3, v4], [15, Array(60).fill(0x61)]]);
    p.file = Buffer.from('f');
    p.sname = Buffer.from('s');
    const r = encodePacketDetailed(p, { optionSpace: iscBootpOptionSpace(300) });
    assert.deepEqual(r.dropped, [15]);
    assert.equal(r.buffer.length, 300);
  });
});

describe('ISC size helpers', () => {
  it('iscReplyMaxSize: min(configured, client 57), raised to 576, capped at 1500', () => {
    assert.equal(iscReplyMaxSize(), 576);
    assert.equal(iscReplyMaxSize(1472), 1472);
    assert.equal(iscReplyMaxSize(300), 576);
    assert.equal(iscReplyMaxSize(9000), 1500);
    assert.equal(iscReplyMaxSize(1472, 1000), 1000);
    assert.equal(iscReplyMaxSize(800, 1000), 800);
    assert.equal(iscReplyMaxSize(undefined, 1200), 1200);
  });

  it('iscBootpOptionSpace: 64 octets, or the request\'s own options area when larger', () => {
    assert.equal(iscBootpOptionSpace(300), 64);
    assert.equal(iscBootpOptionSpace(236 + 64), 64);
    assert.equal(iscBootpOptionSpace(400), 164);
  });
});
