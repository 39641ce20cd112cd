import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../src/engine/log-lines.js';
import { ipv4FromString } from '../../src/wire/packet.js';

const ip = (s: string): number => ipv4FromString(s)!;
const mac = Buffer.from([0x52, 0x54, 0x00, 0x02, 0xbf, 0xf8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const c: L.LogClient = { htype: 1, hlen: 6, chaddr: mac, giaddr: 0, ifname: 'eth0' };

test('the seed scenario lines, byte for byte', () => {
  assert.equal(L.discoverLine(c), 'DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0');
  assert.equal(
    L.offerAckLine('DHCPOFFER', ip('192.168.102.160'), { hardware: { htype: 1, address: mac.subarray(0, 6) } }, c),
    'DHCPOFFER on 192.168.102.160 to 52:54:00:02:bf:f8 via eth0',
  );
  assert.equal(
    L.requestLine(c, ip('192.168.102.160'), ip('192.168.102.100')),
    'DHCPREQUEST for 192.168.102.160 (192.168.102.100) from 52:54:00:02:bf:f8 via eth0',
  );
  assert.equal(
    L.offerAckLine('DHCPACK', ip('192.168.102.160'), { hardware: { htype: 1, address: mac.subarray(0, 6) } }, c),
    'DHCPACK on 192.168.102.160 to 52:54:00:02:bf:f8 via eth0',
  );
});

test('hostname in parentheses, relays by giaddr, unprintable hostnames', () => {
  const r = { ...c, giaddr: ip('10.1.2.3'), hostname: 'laptop' };
  assert.equal(L.discoverLine(r), 'DHCPDISCOVER from 52:54:00:02:bf:f8 (laptop) via 10.1.2.3');
  assert.equal(L.requestLine(r, ip('10.0.0.5'), undefined), 'DHCPREQUEST for 10.0.0.5 from 52:54:00:02:bf:f8 (laptop) via 10.1.2.3');
  assert.equal(L.hostnamePart('bad\nname'), '(Hostname Unsuitable for Printing) ');
  assert.equal(L.hostnamePart('x'.repeat(65)), '(Hostname Unsuitable for Printing) ');
});

test('release, decline, inform, nak, bootp lines', () => {
  assert.equal(L.releaseLine(c, ip('10.0.0.5'), true), 'DHCPRELEASE of 10.0.0.5 from 52:54:00:02:bf:f8 via eth0 (found)');
  assert.equal(L.releaseLine(c, ip('10.0.0.5'), false), 'DHCPRELEASE of 10.0.0.5 from 52:54:00:02:bf:f8 via eth0 (not found)');
  assert.equal(L.declineLine(c, ip('10.0.0.5')), 'DHCPDECLINE of 10.0.0.5 from 52:54:00:02:bf:f8 via eth0');
  assert.equal(L.informLine(ip('10.0.0.5'), c), 'DHCPINFORM from 10.0.0.5 via eth0');
  assert.equal(L.informAckLine(ip('10.0.0.5'), c, false), 'DHCPACK to 10.0.0.5 (52:54:00:02:bf:f8) via eth0');
  assert.equal(L.nakLine(ip('10.0.0.5'), c), 'DHCPNAK on 10.0.0.5 to 52:54:00:02:bf:f8 via eth0');
  assert.equal(L.bootRequestLine(c), 'BOOTREQUEST from 52:54:00:02:bf:f8 via eth0');
  assert.equal(L.bootReplyLine(ip('10.0.0.5'), undefined, c), 'BOOTREPLY for 10.0.0.5 to unknown (52:54:00:02:bf:f8) via eth0');
});

test('htype 0 prints the uid, as text when printable, else hex', () => {
  assert.equal(L.clientName({ ...c, htype: 0, uid: Buffer.from('abc') }), '"abc"');
  assert.equal(L.clientName({ ...c, htype: 0, uid: Buffer.from([1, 2, 0xff]) }), '01:02:ff');
  assert.equal(L.clientName({ ...c, htype: 0 }), '<no identifier>');
});
