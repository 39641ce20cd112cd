/**
 * decodePacket on hand-built packets: each rule of RFC 2131/2132/3396 and each ISC behaviour the decoder
 * copies, and every DecodeError reason with its offset. Byte layouts are written out from the RFCs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentInformation, encodeSubOptions, parseSubOptions } from '../../src/wire/agent-information.js';
import { decodePacket } from '../../src/wire/decode.js';
import {
  BOOTP,
  DHCPREQUEST,
  DecodeError,
  type DhcpPacket,
  formatHardwareAddress,
  hardwareAddress,
  maxMessageSize,
  messageType,
  parameterRequestList,
} from '../../src/wire/packet.js';

const COOKIE = [99, 130, 83, 99];

/** A BOOTREQUEST: fixed header from RFC 2131 figure 1, then cookie + `options` (if given). */
function raw(options?: number[], patch: (b: Buffer) => void = () => {}): Buffer {
  const b = Buffer.alloc(236 + (options ? 4 + options.length : 64));
  b[0] = 1; // op BOOTREQUEST
  b[1] = 1; // htype ethernet
  b[2] = 6; // hlen
  b[3] = 2; // hops
  b.set([0xde, 0xad, 0xbe, 0xef], 4); // xid
  b.set([0, 7], 8); // secs
  b.set([0x80, 0], 10); // flags: broadcast
  b.set([192, 168, 1, 1], 12); // ciaddr
  b.set([10, 0, 0, 2], 16); // yiaddr
  b.set([10, 0, 0, 3], 20); // siaddr
  b.set([172, 16, 0, 4], 24); // giaddr
  b.set([0x52, 0x54, 0x00, 0x02, 0xbf, 0xf8], 28); // chaddr
  if (options) b.set([...COOKIE, ...options], 236);
  patch(b);
  return b;
}

function ok(buf: Buffer): DhcpPacket {
  const r = decodePacket(buf);
  if (!r.ok) assert.fail(`unexpected decode error: ${r.error.toString()}`);
  return r.packet;
}

function err(buf: Buffer): DecodeError {
  const r = decodePacket(buf);
  if (r.ok) assert.fail('expected a decode error');
  assert.ok(r.error instanceof DecodeError);
  return r.error;
}

const text = (b: Buffer | undefined): string | undefined => b?.toString('latin1');

describe('decodePacket', () => {
  it('reads the RFC 2131 fixed header; addresses are uint32 host order', () => {
    const p = ok(raw([53, 1, 3, 255]));
    assert.equal(p.op, 1);
    assert.equal(p.htype, 1);
    assert.equal(p.hlen, 6);
    assert.equal(p.hops, 2);
    assert.equal(p.xid, 0xdeadbeef);
    assert.equal(p.secs, 7);
    assert.equal(p.flags, 0x8000);
    assert.equal(p.ciaddr, 0xc0a80101);
    assert.equal(p.yiaddr, 0x0a000002);
    assert.equal(p.siaddr, 0x0a000003);
    assert.equal(p.giaddr, 0xac100004);
    assert.equal(p.chaddr.length, 16);
    assert.equal(formatHardwareAddress(hardwareAddress(p)), '52:54:00:02:bf:f8');
    assert.equal(messageType(p), DHCPREQUEST);
  });

  it('drops packets shorter than the 236-octet header (ISC got_one)', () => {
    const e = err(raw([53, 1, 1, 255]).subarray(0, 235));
    assert.equal(e.code, 'truncated-header');
    assert.equal(e.offset, 235);
    assert.equal(err(Buffer.alloc(0)).code, 'truncated-header');
  });

  it('drops hlen > 16 like ISC ("bogus hlen"), accepts 0 and 16', () => {
    const e = err(raw([255], (b) => (b[2] = 17)));
    assert.equal(e.code, 'bad-hlen');
    assert.equal(e.offset, 2);
    assert.equal(err(raw([255], (b) => (b[2] = 255))).code, 'bad-hlen');
    assert.equal(hardwareAddress(ok(raw([255], (b) => (b[2] = 0)))).length, 0);
    assert.equal(hardwareAddress(ok(raw([255], (b) => (b[2] = 16)))).length, 16);
  });

  it('treats a packet without the magic cookie as BOOTP with no options (ISC options_valid = 0)', () => {
    const noCookie = raw(undefined);
    assert.equal(noCookie.length, 300);
    assert.equal(messageType(ok(noCookie)), BOOTP);
    const bad = ok(raw([53, 1, 1, 255], (b) => (b[236] = 100)));
    assert.equal(bad.options.size, 0);
    assert.equal(messageType(bad), BOOTP);
    assert.equal(ok(raw([53, 1, 1]).subarray(0, 239)).options.size, 0); // no room for a cookie
    assert.equal(ok(raw([]).subarray(0, 240)).options.size, 0); // cookie, no options
  });

  it('skips pad, stops at end and ignores what follows it', () => {
    const p = ok(raw([0, 0, 53, 1, 1, 0, 255, 12, 200, 1]));
    assert.deepEqual([...p.options.keys()], [53]);
  });

  it('accepts options that run to the end of the packet without an end option', () => {
    const p = ok(raw([53, 1, 1, 12, 3, 0x61, 0x62, 0x63]));
    assert.equal(text(p.options.get(12)), 'abc');
  });

  it('rejects a code with no length octet, at the code\'s offset', () => {
    const e = err(raw([53, 1, 1, 12]));
    assert.equal(e.code, 'option-missing-length');
    assert.equal(e.offset, 243);
    assert.equal(e.field, 'options');
    assert.equal(e.optionCode, 12);
  });

  it('rejects an option whose length runs past the end', () => {
    const e = err(raw([53, 1, 1, 61, 7, 1, 0x52, 0x54]));
    assert.equal(e.code, 'option-overrun');
    assert.equal(e.offset, 243);
    assert.equal(e.optionCode, 61);
    assert.equal(e.message, 'parse_option_buffer: malformed option dhcp.<unknown> (code 61): option length exceeds option buffer length.');
    assert.match(e.toString(), /at offset 243 \(options\)$/);
  });

  it('ignores an empty host-name like ISC, keeps a non-empty one', () => {
    assert.equal(ok(raw([12, 0, 53, 1, 1, 255])).options.has(12), false);
    assert.equal(text(ok(raw([12, 0, 12, 2, 0x68, 0x69, 255])).options.get(12)), 'hi');
  });

  it('RFC 3396: concatenates every instance of a code in order', () => {
    const p = ok(raw([119, 2, 1, 2, 53, 1, 1, 119, 0, 119, 3, 3, 4, 5, 255]));
    assert.deepEqual([...p.options.get(119)!], [1, 2, 3, 4, 5]);
  });

  it('parses the PRL (55) and maximum message size (57)', () => {
    const p = ok(raw([55, 4, 1, 3, 6, 15, 57, 2, 0x05, 0xdc, 255]));
    assert.deepEqual([...parameterRequestList(p)], [1, 3, 6, 15]);
    assert.equal(maxMessageSize(p), 1500);
    assert.equal(maxMessageSize(ok(raw([57, 1, 5, 255]))), undefined);
  });

  describe('option overload (52, RFC 2132 §9.3)', () => {
    const withFields = (opts: number[], file: number[], sname: number[]): Buffer =>
      raw(opts, (b) => {
        b.fill(0, 44, 236);
        b.set(file, 108);
        b.set(sname, 44);
      });

    it('reads options from file (1) and sname (2), concatenating options → file → sname (RFC 3396 §5)', () => {
      const p = ok(withFields([52, 1, 3, 15, 2, 0x61, 0x62, 255], [15, 2, 0x63, 0x64, 255], [15, 2, 0x65, 0x66, 1, 4, 255, 255, 255, 0, 255]));
      assert.equal(text(p.options.get(15)), 'abcdef');
      assert.deepEqual([...p.options.get(1)!], [255, 255, 255, 0]);
      assert.equal(p.sname.length, 0);
      assert.equal(p.file.length, 0);
    });

    it('keeps sname as a name when only file is overloaded', () => {
      const p = ok(withFields([52, 1, 1, 255], [3, 4, 10, 0, 0, 1, 255], [0x73, 0x72, 0x76]));
      assert.equal(text(p.sname), 'srv');
      assert.deepEqual([...p.options.get(3)!], [10, 0, 0, 1]);
    });

    it('reads sname/file up to the first NUL when not overloaded', () => {
      const p = ok(withFields([53, 1, 1, 255], [0x70, 0x78, 0x65, 0, 0x7a], [0x61, 0, 0x62]));
      assert.equal(text(p.file), 'pxe');
      assert.equal(text(p.sname), 'a');
    });

    it('rejects option 52 inside file or sname (overload loop)', () => {
      const e = err(withFields([52, 1, 3, 255], [52, 1, 3, 255], []));
      assert.equal(e.code, 'overload-loop');
      assert.equal(e.field, 'file');
      assert.equal(e.offset, 108);
      const e2 = err(withFields([52, 1, 2, 255], [], [12, 1, 0x61, 52, 1, 2, 255]));
      assert.equal(e2.code, 'overload-loop');
      assert.equal(e2.field, 'sname');
      assert.equal(e2.offset, 47);
    });

    it('rejects an empty overload option and malformed options inside the fields', () => {
      assert.equal(err(raw([52, 0, 255])).code, 'bad-overload');
      assert.equal(err(raw([52, 0, 52, 0, 255])).code, 'bad-overload');
      // RFC 3396: the value is the concatenation, so an empty first instance does not hide the bits.
      const p = ok(raw([52, 0, 52, 1, 1, 255], (b) => b.set([12, 1, 0x61, 255], 108)));
      assert.equal(text(p.options.get(12)), 'a');
      const e = err(withFields([52, 1, 2, 255], [], [12, 100, 0x61]));
      assert.equal(e.code, 'option-overrun');
      assert.equal(e.field, 'sname');
      assert.equal(e.offset, 44);
    });
  });

  it('keeps option 82 raw and parses its sub-options on demand (RFC 3046, RFC 3527)', () => {
    const sub = [1, 5, 0x64, 0x6f, 0x77, 0x6e, 0x30, 2, 2, 0xab, 0xcd, 5, 4, 10, 1, 2, 0];
    const p = ok(raw([53, 1, 1, 82, sub.length, ...sub, 255]));
    assert.deepEqual([...p.options.get(82)!], sub);
    const info = agentInformation(p)!;
    assert.equal(text(info.circuitId), 'down0');
    assert.deepEqual([...info.remoteId!], [0xab, 0xcd]);
    assert.equal(info.linkSelection, 0x0a010200);
    assert.equal(info.subOptions.length, 3);
    assert.equal(agentInformation(ok(raw([82, 3, 1, 5, 0x61, 255]))), undefined, 'malformed sub-option');
    assert.deepEqual([...encodeSubOptions(parseSubOptions(Buffer.from(sub))!)], sub);
  });

  it('concatenates thousands of one-octet instances of a code (linear, no quadratic copying)', () => {
    const n = 20000;
    const opts: number[] = [];
    for (let i = 0; i < n; i++) opts.push(77, 1, i & 255);
    const p = ok(raw(opts));
    const v = p.options.get(77)!;
    assert.equal(v.length, n);
    for (let i = 0; i < n; i += 997) assert.equal(v[i], i & 255);
  });

  it('accepts a plain Uint8Array as well as a Buffer', () => {
    const b = raw([53, 1, 1, 255]);
    const u = new Uint8Array(b.length + 3);
    u.set(b, 3);
    const p = ok(Buffer.from(b)); // reference
    const r = decodePacket(u.subarray(3));
    assert.ok(r.ok);
    assert.equal(r.packet.xid, p.xid);
    assert.equal(messageType(r.packet), 1);
  });

  it('DecodeError is a plain value (no stack capture cost), never thrown', () => {
    const e = err(Buffer.alloc(10));
    assert.equal(e instanceof Error, false);
    assert.equal(typeof e.message, 'string');
  });
});
