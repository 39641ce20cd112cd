import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEchoRequest, parseEchoReply } from '../../src/net/ping-check.js';
import { onesComplementSum } from '../../src/wire/ipv4-udp.js';

test('echo request layout and RFC 792 checksum', () => {
  const b = buildEchoRequest(0x1234, 0xbeef, Buffer.from('abc'));
  assert.equal(b[0], 8);
  assert.equal(b[1], 0);
  assert.equal(b.readUInt16BE(4), 0x1234);
  assert.equal(b.readUInt16BE(6), 0xbeef);
  assert.equal(b.subarray(8).toString(), 'abc');
  assert.equal(onesComplementSum(b, 0, b.length), 0xffff, 'checksum verifies');
});

function ipWrap(icmp: Buffer, proto = 1, ihlWords = 5): Buffer {
  const h = Buffer.alloc(ihlWords * 4);
  h[0] = 0x40 | ihlWords;
  h[9] = proto;
  return Buffer.concat([h, icmp]);
}

test('parseEchoReply accepts echo replies only and never throws', () => {
  const reply = buildEchoRequest(7, 9);
  reply[0] = 0;
  assert.deepEqual(parseEchoReply(ipWrap(reply)), { identifier: 7, sequence: 9 });
  assert.deepEqual(parseEchoReply(ipWrap(reply, 1, 6)), { identifier: 7, sequence: 9 }, 'IP options skipped');
  assert.equal(parseEchoReply(ipWrap(buildEchoRequest(7, 9))), undefined, 'a request is not a reply');
  assert.equal(parseEchoReply(ipWrap(reply, 17)), undefined, 'not ICMP');
  assert.equal(parseEchoReply(ipWrap(reply).subarray(0, 25)), undefined, 'truncated');
  assert.equal(parseEchoReply(Buffer.alloc(0)), undefined);
  assert.equal(parseEchoReply(Buffer.from([0x60, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined, 'IPv6');
  assert.equal(parseEchoReply(Buffer.from([0x43, ...Buffer.alloc(40)])), undefined, 'IHL below 5');
});

test('PingChecker rejects (never throws) on bad input or after close', async () => {
  const { PingChecker } = await import('../../src/net/ping-check.js');
  const { addonAvailable } = await import('../../src/native/index.js');
  const c = new PingChecker();
  await assert.rejects(c.check('not-an-address'), TypeError);
  c.close();
  await assert.rejects(c.check('127.0.0.1'), /closed/);
  if (addonAvailable() && process.getuid?.() !== 0) {
    // Without CAP_NET_RAW the raw socket cannot open: a rejected promise with the errno name.
    await assert.rejects(new PingChecker().check('127.0.0.1'), { code: 'EPERM' });
  }
});
