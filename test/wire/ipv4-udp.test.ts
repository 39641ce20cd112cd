/**
 * IPv4/UDP framing for the AF_PACKET path: RFC 1071 sums, RFC 768 pseudo-header and zero rule. Real ISC
 * frames are compared byte for byte in vectors.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildIpv4Udp, onesComplementSum, parseIpv4Udp } from '../../src/wire/ipv4-udp.js';

describe('ipv4-udp', () => {
  it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2', () => {
    const b = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    assert.equal(onesComplementSum(b, 0, b.length), 0xddf2);
    // An odd trailing octet is the high byte of a last word.
    assert.equal(onesComplementSum(Buffer.from([0x12]), 0, 1), 0x1200);
  });

  it('builds ISC LPF headers (TOS 0x10, TTL 128, id 0) with valid checksums', () => {
    const payload = Buffer.from('hello, dhcp!');
    const d = buildIpv4Udp({ source: 0x0a4d0001, destination: 0x0a4d0064, sourcePort: 67, destinationPort: 68 }, payload);
    assert.equal(d.length, 20 + 8 + payload.length);
    assert.deepEqual([...d.subarray(0, 10)], [0x45, 0x10, 0, 40, 0, 0, 0, 0, 128, 17]);
    assert.equal(onesComplementSum(d, 0, 20), 0xffff, 'IPv4 header checksum verifies');
    const r = parseIpv4Udp(d);
    assert.ok(r.ok);
    assert.equal(r.datagram.source, 0x0a4d0001);
    assert.equal(r.datagram.destination, 0x0a4d0064);
    assert.equal(r.datagram.sourcePort, 67);
    assert.equal(r.datagram.destinationPort, 68);
    assert.ok(r.datagram.headerChecksumOk && r.datagram.udpChecksumOk);
    assert.ok(r.datagram.payload.equals(payload));
    const bad = Buffer.from(d);
    bad[d.length - 1]! ^= 1;
    const rb = parseIpv4Udp(bad);
    assert.ok(rb.ok && !rb.datagram.udpChecksumOk);
  });

  it('handles odd-length payloads', () => {
    const d = buildIpv4Udp({ source: 1, destination: 2, sourcePort: 3, destinationPort: 4, ttl: 64, tos: 0 }, Buffer.from([1, 2, 3]));
    const r = parseIpv4Udp(d);
    assert.ok(r.ok && r.datagram.udpChecksumOk && r.datagram.ttl === 64 && r.datagram.tos === 0);
  });

  it('sends a computed UDP checksum of 0 as 0xffff (RFC 768)', () => {
    const h = { source: 0x0a000001, destination: 0xffffffff, sourcePort: 67, destinationPort: 68 };
    const c = buildIpv4Udp(h, Buffer.from([0, 0])).readUInt16BE(26);
    // Putting the checksum itself in the payload makes the one's complement sum 0xffff, i.e. a checksum of 0.
    const d = buildIpv4Udp(h, Buffer.from([c >> 8, c & 255]));
    assert.equal(d.readUInt16BE(26), 0xffff);
    const r = parseIpv4Udp(d);
    assert.ok(r.ok && r.datagram.udpChecksumOk);
  });

  it('rejects what is not an IPv4 UDP datagram, without throwing', () => {
    const d = buildIpv4Udp({ source: 1, destination: 2, sourcePort: 3, destinationPort: 4 }, Buffer.alloc(4));
    assert.equal(parseIpv4Udp(d.subarray(0, 10)).ok, false);
    const v6 = Buffer.from(d);
    v6[0] = 0x65;
    assert.equal(parseIpv4Udp(v6).ok, false);
    const tcp = Buffer.from(d);
    tcp[9] = 6;
    assert.equal(parseIpv4Udp(tcp).ok, false);
    const shortLen = Buffer.from(d);
    shortLen.writeUInt16BE(100, 2);
    assert.equal(parseIpv4Udp(shortLen).ok, false);
    assert.throws(() => buildIpv4Udp({ source: 1, destination: 2, sourcePort: 3, destinationPort: 4 }, Buffer.alloc(70000)), RangeError);
  });
});
