/** Helpers of the packet model, and the sticky-error reader and the writer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DHCPINFORM,
  emptyPacket,
  formatHardwareAddress,
  hardwareAddress,
  ipv4FromBytes,
  ipv4FromString,
  ipv4ToBytes,
  ipv4ToString,
  messageType,
  messageTypeName,
  optionUint32,
  setOptionUint32,
  trimTrailingNuls,
} from '../../src/wire/packet.js';
import { Reader } from '../../src/wire/reader.js';
import { Writer } from '../../src/wire/writer.js';

describe('packet helpers', () => {
  it('converts IPv4 addresses between dotted quads, uint32 and bytes', () => {
    assert.equal(ipv4FromString('192.168.102.160'), 0xc0a866a0);
    assert.equal(ipv4FromString('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4ToString(0xc0a866a0), '192.168.102.160');
    assert.equal(ipv4ToString(0xffffffff), '255.255.255.255');
    for (const bad of ['1.2.3', '256.1.1.1', '1.2.3.4.5', 'a.b.c.d', '', '10.0.0.1/24']) assert.equal(ipv4FromString(bad), undefined, bad);
    assert.deepEqual([...ipv4ToBytes(0x0a000001)], [10, 0, 0, 1]);
    assert.equal(ipv4FromBytes(Buffer.from([0, 172, 16, 0, 4]), 1), 0xac100004);
  });

  it('formats hardware addresses as ISC print_hw_addr does', () => {
    const p = emptyPacket();
    p.chaddr = Buffer.from([0x52, 0x54, 0x00, 0x02, 0xbf, 0xf8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(formatHardwareAddress(hardwareAddress(p)), '52:54:00:02:bf:f8');
    p.hlen = 0;
    assert.equal(formatHardwareAddress(hardwareAddress(p)), '');
  });

  it('names message types like ISC logs them', () => {
    const p = emptyPacket();
    assert.equal(messageType(p), 0);
    p.options.set(53, Buffer.from([8]));
    assert.equal(messageType(p), DHCPINFORM);
    assert.equal(messageTypeName(1), 'DHCPDISCOVER');
    assert.equal(messageTypeName(8), 'DHCPINFORM');
    assert.equal(messageTypeName(99), 'DHCP message type 99');
  });

  it('reads and writes uint32 option values', () => {
    const p = emptyPacket();
    setOptionUint32(p, 51, 86400);
    assert.deepEqual([...p.options.get(51)!], [0, 1, 0x51, 0x80]);
    assert.equal(optionUint32(p, 51), 86400);
    p.options.set(54, Buffer.from([1, 2]));
    assert.equal(optionUint32(p, 54), undefined);
  });
});

describe('trimTrailingNuls (ISC OPTION_HAD_NULLS)', () => {
  it('drops trailing NULs down to the minimum length and says so', () => {
    const t = trimTrailingNuls(Buffer.from('host\0\0', 'latin1'));
    assert.equal(t.value.toString('latin1'), 'host');
    assert.equal(t.hadNulls, true);
    const u = trimTrailingNuls(Buffer.from('host', 'latin1'));
    assert.equal(u.hadNulls, false);
    assert.equal(trimTrailingNuls(Buffer.from([0, 0]), 1).value.length, 1);
  });
});

describe('Reader (sticky error)', () => {
  it('returns zeros after the first overrun and remembers where it happened', () => {
    const r = new Reader(Buffer.from([1, 2, 3, 4, 5]), 1, 4);
    assert.equal(r.u16(), 0x0203);
    assert.ok(r.ok);
    assert.equal(r.u16(), 0); // only one octet left
    assert.equal(r.overrun, 3);
    assert.equal(r.u8(), 0); // sticky: even a read that would fit
    assert.equal(r.bytes(0).length, 0);
    assert.equal(r.remaining, 0);
    assert.equal(r.overrun, 3);
  });

  it('gives views, and u32 unsigned', () => {
    const r = new Reader(Buffer.from([0xff, 0xff, 0xff, 0xfe, 9, 8]));
    assert.equal(r.u32(), 0xfffffffe);
    const v = r.bytes(2);
    assert.deepEqual([...v], [9, 8]);
    assert.equal(r.remaining, 0);
    assert.ok(r.ok);
  });
});

describe('Writer', () => {
  it('writes big-endian fields and zero-filled fixed fields, and refuses to overrun', () => {
    const b = Buffer.alloc(12, 0xaa);
    const w = new Writer(b);
    w.u8(1).u16(0x0203).u32(0x04050607).field(Buffer.from([9]), 3);
    assert.deepEqual([...b.subarray(0, 10)], [1, 2, 3, 4, 5, 6, 7, 9, 0, 0]);
    assert.equal(w.pos, 10);
    assert.throws(() => w.bytes(Buffer.alloc(3)), RangeError);
    assert.throws(() => new Writer(Buffer.alloc(1), 1).u8(0), RangeError);
  });
});
