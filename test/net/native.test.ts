/**
 * The dhcpsock addon on loopback: IP_PKTINFO reports the arrival interface and header destination, sendmsg
 * reaches a node:dgram peer, errors carry errno names, and the AF_UNIX datagram pair works (including
 * EAGAIN on a full receiver, which the syslog transport relies on). Raw sockets need root.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addonAvailable, isErrnoError, loadAddon } from '../../src/native/index.js';

const skip = addonAvailable() ? undefined : 'dhcpsock addon not built (make addon)';
const rootSkip = skip ?? (process.getuid?.() === 0 ? undefined : 'needs root (raw sockets)');
const LOOPBACK = 0x7f000001;

test('UdpSocket receives with ifindex and destination, and sends', { skip, timeout: 10_000 }, async () => {
  const { UdpSocket, interfaceName } = loadAddon();
  const sock = new UdpSocket(0, LOOPBACK);
  const port = sock.localPort();
  assert.ok(port > 0);
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  try {
    const got: Array<{ data: string; ifindex: number; src: number; srcPort: number; dst: number; arrivedMs: number | undefined }> = [];
    const sentAt = Date.now();
    const arrived = new Promise<void>((resolve) => {
      sock.start(
        (data, ifindex, src, srcPort, dst, arrivedMs) => {
          got.push({ data: data.toString(), ifindex, src, srcPort, dst, arrivedMs });
          if (got.length === 3) resolve();
        },
        (e) => assert.fail(e),
      );
    });
    for (const s of ['a', 'bb', 'ccc']) peer.send(s, port, '127.0.0.1');
    await arrived;
    assert.deepEqual(got.map((g) => g.data), ['a', 'bb', 'ccc']);
    const lo = got[0]!;
    assert.equal(interfaceName(lo.ifindex), 'lo');
    assert.equal(lo.src, LOOPBACK);
    assert.equal(lo.srcPort, peer.address().port);
    assert.equal(lo.dst, LOOPBACK);
    // The kernel's receive timestamp (SO_TIMESTAMPNS), in ms since the epoch, between the send and now.
    for (const g of got) {
      assert.equal(typeof g.arrivedMs, 'number');
      assert.ok(g.arrivedMs! >= sentAt - 5 && g.arrivedMs! <= Date.now() + 5, `arrivedMs ${g.arrivedMs} not within [${sentAt}, now]`);
    }
    // Reply with IP_PKTINFO (ifindex + source) to the node:dgram peer.
    const reply = once(peer, 'message');
    const n = sock.send(Buffer.from('pong'), LOOPBACK, peer.address().port, lo.ifindex, LOOPBACK);
    assert.equal(n, 4);
    const [msg, rinfo] = (await reply) as [Buffer, { address: string; port: number }];
    assert.equal(msg.toString(), 'pong');
    assert.equal(rinfo.port, port);
  } finally {
    sock.close();
    sock.close(); // idempotent
    peer.close();
  }
});

test('a backlog of several hundred datagrams is drained in order, each intact, with its own source and timestamp', { skip, timeout: 15_000 }, async () => {
  const { UdpSocket } = loadAddon();
  const sock = new UdpSocket(0, LOOPBACK, undefined, 4 << 20);
  const port = sock.localPort();
  const peers = [createSocket('udp4'), createSocket('udp4')];
  for (const p of peers) p.bind(0, '127.0.0.1');
  await Promise.all(peers.map((p) => once(p, 'listening')));
  const N = 300;
  try {
    // Queue them all before the socket is started: one readiness event, several recvmmsg calls.
    await new Promise<void>((r) => {
      let n = 0;
      for (let i = 0; i < N; i++) peers[i % 2]!.send(`d${i}:${'x'.repeat(i)}`, port, '127.0.0.1', () => ++n === N && r());
    });
    const got: Array<{ text: string; srcPort: number; arrivedMs: number | undefined }> = [];
    await new Promise<void>((resolve) => {
      sock.start(
        (data, _ifindex, _src, srcPort, _dst, arrivedMs) => {
          got.push({ text: data.toString(), srcPort, arrivedMs });
          if (got.length === N) resolve();
        },
        (e) => assert.fail(e),
      );
    });
    assert.deepEqual(got.map((g) => g.text), Array.from({ length: N }, (_, i) => `d${i}:${'x'.repeat(i)}`));
    assert.deepEqual(got.map((g) => g.srcPort), Array.from({ length: N }, (_, i) => peers[i % 2]!.address().port));
    for (let i = 1; i < N; i++) assert.ok(got[i]!.arrivedMs! >= got[i - 1]!.arrivedMs!, 'kernel stamps ascend in queue order');
  } finally {
    sock.close();
    for (const p of peers) p.close();
  }
});

test('close() inside the callback stops delivery of the rest of the batch', { skip, timeout: 10_000 }, async () => {
  const { UdpSocket } = loadAddon();
  let sock: ReturnType<typeof makeSocket> | undefined = makeSocket();
  function makeSocket() {
    return new UdpSocket(0, LOOPBACK);
  }
  const port = sock.localPort();
  const peer = createSocket('udp4');
  let calls = 0;
  const first = new Promise<void>((resolve) => {
    sock!.start(
      () => {
        calls++;
        sock!.close();
        sock = undefined; // drop the last JS reference while the drain is still running
        resolve();
      },
      () => undefined,
    );
  });
  // Queue several datagrams before the loop polls, so they are drained in one batch.
  await new Promise<void>((r) => {
    let n = 0;
    for (let i = 0; i < 5; i++) peer.send(`m${i}`, port, '127.0.0.1', () => ++n === 5 && r());
  });
  await first;
  // Give a collection a chance to run on the dropped wrapper, then keep the loop turning.
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  await new Promise((r) => setTimeout(r, 50));
  peer.close();
  assert.equal(calls, 1);
});

test('addon errors carry errno names and never crash', { skip }, async () => {
  const { UdpSocket, interfaceName } = loadAddon();
  const peer = createSocket('udp4'); // no SO_REUSEADDR: a second bind must fail
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  try {
    assert.throws(() => new UdpSocket(peer.address().port, LOOPBACK), (e: unknown) => isErrnoError(e, 'EADDRINUSE') && e.syscall === 'bind');
  } finally {
    peer.close();
  }
  const s = new UdpSocket(0, LOOPBACK);
  // 10.255.255.255 via an ifindex that does not exist.
  assert.throws(() => s.send(Buffer.from('x'), 0x0a0000ff, 9, 999_999), (e: unknown) => isErrnoError(e) && e.syscall === 'sendmsg');
  assert.throws(() => s.send('x' as unknown as Buffer, LOOPBACK, 9), TypeError);
  assert.throws(() => s.send(Buffer.from('x'), -1, 9), RangeError);
  s.close();
  assert.throws(() => s.send(Buffer.from('x'), LOOPBACK, 9), (e: unknown) => isErrnoError(e, 'EBADF'));
  assert.throws(() => new UdpSocket(70000), RangeError);
  assert.throws(() => new UdpSocket(0, 0, 'an-interface-name-too-long'), RangeError);
  assert.equal(interfaceName(999_999), undefined);
});

test('unixDatagramSend reaches a bound socket and reports EAGAIN/ENOENT', { skip, timeout: 10_000 }, async () => {
  const { UnixDatagramSocket, unixDatagramSend } = loadAddon();
  const dir = await mkdtemp(join(tmpdir(), 'dhcpsock-unix-'));
  try {
    const path = join(dir, 'log');
    assert.throws(() => unixDatagramSend(path, Buffer.from('x')), (e: unknown) => isErrnoError(e, 'ENOENT'));
    const rx = new UnixDatagramSocket(path);
    // Not reading yet: the queue fills (net.unix.max_dgram_qlen) and the sender gets EAGAIN, not a block.
    let sent = 0;
    let again = false;
    for (let i = 0; i < 2000; i++) {
      try {
        unixDatagramSend(path, Buffer.from(`<30>line ${i}`));
        sent++;
      } catch (e) {
        assert.ok(isErrnoError(e, 'EAGAIN'), String(e));
        again = true;
        break;
      }
    }
    assert.ok(again, 'EAGAIN expected once the receiver queue is full');
    assert.ok(sent > 0);
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      rx.start(
        (d) => {
          lines.push(d.toString());
          if (lines.length === sent) resolve();
        },
        reject,
      );
    });
    assert.equal(lines[0], '<30>line 0');
    assert.equal(lines[sent - 1], `<30>line ${sent - 1}`);
    // After draining, sending works again.
    const more = new Promise<string>((resolve) => {
      rx.close();
      const rx2 = new UnixDatagramSocket(join(dir, 'log2'));
      rx2.start((d) => { rx2.close(); resolve(d.toString()); }, () => undefined);
      unixDatagramSend(join(dir, 'log2'), Buffer.from('again'));
    });
    assert.equal(await more, 'again');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('receive buffer size is applied (SO_RCVBUFFORCE as root)', { skip: rootSkip }, () => {
  const { UdpSocket } = loadAddon();
  const small = new UdpSocket(0, LOOPBACK);
  const big = new UdpSocket(0, LOOPBACK, undefined, 4 << 20);
  try {
    // socket(7): the kernel doubles the value and reports the doubled size.
    assert.equal(big.receiveBufferSize(), 8 << 20);
    assert.ok(small.receiveBufferSize() < big.receiveBufferSize());
  } finally {
    small.close();
    big.close();
  }
});

test('raw sockets open as root', { skip: rootSkip }, () => {
  const { PacketSocket, IcmpSocket } = loadAddon();
  const p = new PacketSocket();
  assert.throws(() => p.send(1, Buffer.alloc(5), Buffer.alloc(20)), RangeError);
  p.close();
  assert.throws(() => p.send(1, Buffer.alloc(6), Buffer.alloc(20)), (e: unknown) => isErrnoError(e, 'EBADF'));
  const i = new IcmpSocket();
  i.close();
});
