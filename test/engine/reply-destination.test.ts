import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replyDestination } from '../../src/engine/reply-destination.js';
import { BROADCAST_FLAG, ipv4FromString } from '../../src/wire/packet.js';

const ip = (s: string): number => ipv4FromString(s)!;
const base = { giaddr: 0, ciaddr: 0, yiaddr: ip('10.0.0.5'), flags: 0, canUnicastWithoutArp: true };

test('giaddr wins over everything, to the server port', () => {
  const d = replyDestination({ ...base, kind: 'ack', giaddr: ip('10.1.2.3'), ciaddr: ip('10.0.0.5'), flags: BROADCAST_FLAG });
  assert.deepEqual(d.route, { kind: 'relay', address: ip('10.1.2.3'), port: 67 });
  assert.equal(d.flags, BROADCAST_FLAG);
});

test('relay at loopback is answered on the client port (ISC testing hack)', () => {
  assert.deepEqual(replyDestination({ ...base, kind: 'offer', giaddr: ip('127.0.0.1') }).route, { kind: 'relay', address: ip('127.0.0.1'), port: 68 });
});

test('relay-port sub-option: answer on the relay source port', () => {
  assert.equal(replyDestination({ ...base, kind: 'offer', giaddr: ip('10.1.2.3'), relayPort: 1067 }).route.port, 1067);
});

test('ACK to a renewing client (ciaddr, no server id) is unicast to ciaddr', () => {
  const d = replyDestination({ ...base, kind: 'ack', ciaddr: ip('10.0.0.5') });
  assert.deepEqual(d.route, { kind: 'unicast', address: ip('10.0.0.5'), port: 68 });
});

test('ACK with ciaddr but server id on the same network: not the ciaddr rule (RFC 1541 clients)', () => {
  const d = replyDestination({ ...base, kind: 'ack', ciaddr: ip('10.0.0.5'), gotServerIdentifier: true });
  assert.equal(d.route.kind, 'link-layer');
  const b = replyDestination({ ...base, kind: 'ack', ciaddr: ip('10.0.0.5'), gotServerIdentifier: true, flags: BROADCAST_FLAG });
  assert.equal(b.route.kind, 'broadcast');
  const other = replyDestination({ ...base, kind: 'ack', ciaddr: ip('10.0.0.5'), gotServerIdentifier: true, sameSharedNetwork: false });
  assert.equal(other.route.kind, 'unicast');
});

test('OFFER never uses the ciaddr rule', () => {
  assert.equal(replyDestination({ ...base, kind: 'offer', ciaddr: ip('10.0.0.5') }).route.kind, 'link-layer');
});

test('broadcast flag → broadcast; no unicast capability → broadcast; else link-layer to yiaddr', () => {
  assert.deepEqual(replyDestination({ ...base, kind: 'offer', flags: BROADCAST_FLAG }).route, { kind: 'broadcast', port: 68 });
  assert.deepEqual(replyDestination({ ...base, kind: 'offer', canUnicastWithoutArp: false }).route, { kind: 'broadcast', port: 68 });
  assert.deepEqual(replyDestination({ ...base, kind: 'offer' }).route, { kind: 'link-layer', address: ip('10.0.0.5'), port: 68 });
});

test('NAK: broadcast bit set, to relay or broadcast even with ciaddr', () => {
  const r = replyDestination({ ...base, kind: 'nak', giaddr: ip('10.1.2.3') });
  assert.equal(r.route.kind, 'relay');
  assert.equal(r.flags & BROADCAST_FLAG, BROADCAST_FLAG);
  const b = replyDestination({ ...base, kind: 'nak', ciaddr: ip('10.0.0.5') });
  assert.deepEqual(b.route, { kind: 'broadcast', port: 68 });
  assert.equal(b.flags, BROADCAST_FLAG);
});

test('INFORM: ciaddr, else source address; relayed without ciaddr → relay with broadcast bit', () => {
  assert.deepEqual(replyDestination({ ...base, kind: 'inform-ack', ciaddr: ip('10.0.0.9'), giaddr: ip('10.1.2.3') }).route, { kind: 'unicast', address: ip('10.0.0.9'), port: 68 });
  assert.deepEqual(replyDestination({ ...base, kind: 'inform-ack', sourceAddress: ip('10.0.0.7') }).route, { kind: 'unicast', address: ip('10.0.0.7'), port: 68 });
  const r = replyDestination({ ...base, kind: 'inform-ack', giaddr: ip('10.1.2.3') });
  assert.equal(r.route.kind, 'relay');
  assert.equal(r.flags, BROADCAST_FLAG);
});

test('BOOTREPLY ignores ciaddr', () => {
  assert.equal(replyDestination({ ...base, kind: 'bootreply', ciaddr: ip('10.0.0.5') }).route.kind, 'link-layer');
});
