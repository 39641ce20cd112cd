/**
 * LinuxTransport logic that does not need namespaces: serving on loopback with the real addon (receive
 * filter, relay/unicast sends), and the send-retry path on a full socket buffer, driven by an addon whose
 * UdpSocket refuses the first sends with EAGAIN (the real kernel condition is hard to provoke on demand).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { addonAvailable, loadAddon, type DhcpSockAddon, type NativeUdpSocket } from '../../src/native/index.js';
import { LinuxTransport, InterfaceNotFoundError } from '../../src/net/linux-transport.js';
import type { InboundDatagram } from '../../src/net/transport.js';

const skip = addonAvailable()
  ? process.getuid?.() === 0
    ? undefined
    : 'needs root (the transport opens an AF_PACKET socket)'
  : 'dhcpsock addon not built (make addon)';

test('serves lo on an ephemeral port: receive with ifname, reply by unicast', { skip, timeout: 10_000 }, async () => {
  const t = new LinuxTransport({ interfaces: ['lo'], port: 0, bindAddress: '127.0.0.1' });
  const got: InboundDatagram[] = [];
  const arrived = new Promise<void>((resolve) => {
    void t.start((d) => {
      got.push(d);
      resolve();
    });
  });
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  try {
    peer.send('hello', t.localPort, '127.0.0.1');
    await arrived;
    assert.equal(got[0]!.ifname, 'lo');
    assert.equal(got[0]!.sourcePort, peer.address().port);
    assert.equal(got[0]!.destinationAddress, '127.0.0.1');
    assert.equal(got[0]!.data.toString(), 'hello');
    const reply = once(peer, 'message');
    await t.send({ kind: 'unicast', data: Buffer.from('back'), ciaddr: '127.0.0.1', port: peer.address().port });
    const [msg] = (await reply) as [Buffer];
    assert.equal(msg.toString(), 'back');
    await assert.rejects(t.send({ kind: 'relay', data: Buffer.from('x'), giaddr: '1.2.3' }), TypeError);
    await assert.rejects(
      t.send({ kind: 'link-layer', data: Buffer.from('x'), ifindex: 1, sourceAddress: 1, yiaddr: 2, chaddr: 'zz' }),
      TypeError,
    );
    assert.equal(t.counters.received, 1);
    assert.equal(t.counters.sent, 1);
    assert.equal(t.counters.sendErrors, 2);
  } finally {
    await t.close();
    peer.close();
  }
});

test('start fails with ENODEV for an interface that does not exist', { skip }, async () => {
  const t = new LinuxTransport({ interfaces: ['nonexistent9'], port: 0 });
  await assert.rejects(t.start(() => undefined), (e: unknown) => e instanceof InterfaceNotFoundError && e.code === 'ENODEV');
  assert.throws(() => new LinuxTransport({ interfaces: [] }), /no interfaces/);
});

test('EAGAIN on send is retried in order; a persistent one fails after the retry budget', { skip, timeout: 10_000 }, async () => {
  const real = loadAddon();
  const log: string[] = [];
  let refusals = 0;
  class FlakyUdp implements NativeUdpSocket {
    start(): void {}
    send(data: Buffer): number {
      if (refusals > 0) {
        refusals--;
        throw Object.assign(new Error('sendmsg EAGAIN'), { code: 'EAGAIN', errno: -11, syscall: 'sendmsg' });
      }
      log.push(data.toString());
      return data.length;
    }
    localPort(): number {
      return 67;
    }
    receiveBufferSize(): number {
      return 0;
    }
    setRef(): void {}
    close(): void {}
  }
  const addon: DhcpSockAddon = { ...real, UdpSocket: FlakyUdp as unknown as DhcpSockAddon['UdpSocket'] };
  const t = new LinuxTransport({ interfaces: ['lo'], addon });
  await t.start(() => undefined);
  refusals = 3;
  const sends = ['a', 'b', 'c'].map((x) => t.send({ kind: 'relay', data: Buffer.from(x), giaddr: '127.0.0.1' }));
  await Promise.all(sends);
  assert.deepEqual(log, ['a', 'b', 'c'], 'order kept while the first send waited');
  refusals = 1_000_000;
  const started = Date.now();
  await assert.rejects(t.send({ kind: 'relay', data: Buffer.from('d'), giaddr: '127.0.0.1' }), { code: 'EAGAIN' });
  assert.ok(Date.now() - started >= 200, 'gave up only after the retry budget');
  refusals = 0;
  await t.send({ kind: 'relay', data: Buffer.from('e'), giaddr: '127.0.0.1' });
  assert.deepEqual(log, ['a', 'b', 'c', 'e']);
  assert.equal(t.counters.sendErrors, 1);
  await t.close();
});
