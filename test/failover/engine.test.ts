import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FailoverPeer, createFailoverPolicy, startFailover } from '../../src/failover/engine.js';
import type { FailoverPeer as ConfigFailoverPeer } from '../../src/config/model.js';
import { emptyLease } from '../../leases/lease.js';
import { MemoryFailoverStore } from '../../src/failover/memory-store.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';
import { decodeMessage, encodeFields } from '../../src/failover/codec.js';
import { FTM } from '../../src/failover/messages.js';
import type { FailoverLog } from '../../src/failover/connection.js';
import { freePort, waitFor } from '../support/loopback.js';

const ip = (s: string): number => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

class Lines implements FailoverLog {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(m);
  }
  error(m: string): void {
    this.lines.push(m);
  }
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
  has(s: string): boolean {
    return this.lines.includes(s);
  }
}

interface Pair {
  P: FailoverPeer;
  S: FailoverPeer;
  pLog: Lines;
  sLog: Lines;
  pStore: MemoryFailoverStore;
  sStore: MemoryFailoverStore;
  stop(): Promise<void>;
}

async function makePair(opts: { pStore?: MemoryFailoverStore; sStore?: MemoryFailoverStore; sClockSkew?: number } = {}): Promise<Pair> {
  const pPort = await freePort('127.0.0.1');
  const sPort = await freePort('127.0.0.2');
  const pools = [{ id: 'p1', label: '10.77.0.0/24', from: ip('10.77.0.100'), to: ip('10.77.0.119') }];
  const pStore = opts.pStore ?? new MemoryFailoverStore(pools);
  const sStore = opts.sStore ?? new MemoryFailoverStore(pools);
  const pLog = new Lines();
  const sLog = new Lines();
  const common = { maxResponseDelay: 6, maxUnackedUpdates: 10, reconnectMs: 200 };
  const P = new FailoverPeer({
    link: { name: 'fo-test', role: 'primary', address: '127.0.0.1', port: pPort, peerAddress: '127.0.0.2', peerPort: sPort, mclt: 1800, hba: hbaFromSplit(128), ...common },
    mclt: 1800,
    hba: hbaFromSplit(128),
    loadBalanceMaxSeconds: 3,
    store: pStore,
    log: pLog,
  });
  const skew = opts.sClockSkew ?? 0;
  const S = new FailoverPeer({
    link: { name: 'fo-test', role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: pPort, ...common },
    mclt: 0,
    loadBalanceMaxSeconds: 3,
    store: sStore,
    log: sLog,
    ...(skew ? { clock: () => Date.now() / 1000 + skew } : {}),
  });
  await S.start();
  await P.start();
  return { P, S, pLog, sLog, pStore, sStore, stop: async () => void (await Promise.all([P.stop(), S.stop()])) };
}

test('dhcpd-ts primary + dhcpd-ts secondary over loopback: normal, pool balance, MCLT lease, BNDUPD/BNDACK', async () => {
  const pair = await makePair();
  try {
    await waitFor(() => pair.pLog.has('failover peer fo-test: Both servers normal') && pair.sLog.has('failover peer fo-test: Both servers normal'), 5000, 'normal');
    for (const l of [pair.pLog, pair.sLog]) {
      assert.ok(l.has('failover peer fo-test: I move from recover-done to normal'), l.lines.join('\n'));
      assert.ok(l.has('failover peer fo-test: peer moves from recover-done to normal'), l.lines.join('\n'));
    }
    assert.equal(pair.S.mclt, 1800, 'secondary learned MCLT from CONNECT');
    // Pool balancing: the primary gives half of the 20 never-used leases to the secondary (§8).
    await waitFor(() => [...pair.sStore.pools()[0]!.leases()].filter((l) => l.bindingState === 'backup').length === 10, 5000, 'backup leases on S');
    assert.ok(pair.pLog.lines.some((l) => /^balancing pool p1 10\.77\.0\.0\/24  total 20  free 20  backup 0  lts 10  max-own \(\+\/-\)2$/.test(l)), pair.pLog.lines.join('\n'));
    assert.ok(pair.pLog.has('balanced pool p1 10.77.0.0/24  total 20  free 10  backup 10  lts 0  max-misbal 3'));
    assert.equal(pair.pStore.lease('10.77.0.100')!.bindingState, 'backup');
    assert.equal(pair.pStore.lease('10.77.0.110')!.bindingState, 'free');

    // The DHCP engine's view: policy answers per load balancing, MCLT on first lease.
    const policy = createFailoverPolicy(new Map([['fo-test', pair.P]]));
    const lease = pair.pStore.lease('10.77.0.110')!;
    const mac = Buffer.from('020000770050', 'hex'); // bucket 67 → primary
    assert.deepEqual(policy.mayAnswer({ peerName: 'fo-test', lease, messageType: 1, hashKey: mac, secs: 0 }), { answer: true });
    const other = Buffer.from('020000770054', 'hex'); // bucket 201 → secondary
    assert.deepEqual(policy.mayAnswer({ peerName: 'fo-test', lease, messageType: 1, hashKey: other, secs: 0 }), { answer: false, reason: 'load balance to peer fo-test' });
    assert.deepEqual(policy.mayAnswer({ peerName: 'fo-test', lease, messageType: 1, hashKey: other, secs: 10 }), { answer: true });
    assert.equal(policy.mayAllocate('fo-test', lease, Math.floor(Date.now() / 1000)), true);
    assert.equal(policy.mayAllocate('fo-test', pair.pStore.lease('10.77.0.100')!, Math.floor(Date.now() / 1000)), false);
    const now = Math.floor(Date.now() / 1000);
    const t = policy.leaseTimeFor('fo-test', lease, 7200, now, true);
    assert.equal(t.leaseTime, 1800);
    assert.equal(t.tstp, now + 7200 + 900);
    Object.assign(lease, { bindingState: 'active', nextBindingState: 'expired', starts: now, ends: now + t.leaseTime, cltt: now, tstp: t.tstp!, hardware: { htype: 1, address: mac } });
    policy.onBindingChange('fo-test', lease);
    await waitFor(() => pair.sStore.lease('10.77.0.110')!.bindingState === 'active', 5000, 'S stores active');
    const s = pair.sStore.lease('10.77.0.110')!;
    assert.equal(s.ends, now + 1800);
    assert.equal(s.tsfp, now + 8100);
    assert.equal(s.atsfp, now + 8100);
    assert.equal(s.hardware?.address.toString('hex'), '020000770050');
    await waitFor(() => lease.atsfp === now + 8100, 5000, 'BNDACK on P');
    assert.equal(lease.tsfp, now + 8100);
    // Renewal after the partner's ack: full default-lease-time (§6.4).
    assert.equal(policy.leaseTimeFor('fo-test', lease, 7200, now + 7, true).leaseTime, 7200);
    // The secondary, which stored tsfp from the BNDUPD, may also give 7200 on a renewal.
    assert.equal(pair.S.leaseTimeFor(s, 7200, now + 7, true).leaseTime, 7200);
  } catch (e) {
    console.log(`P:\n${pair.pLog.lines.join('\n')}\nS:\n${pair.sLog.lines.join('\n')}`);
    throw e;
  } finally {
    await pair.stop();
  }
});

test('link loss → communications-interrupted; restart with saved normal returns to normal without UPDREQALL', async () => {
  const pair = await makePair();
  try {
    await waitFor(() => pair.pLog.has('failover peer fo-test: Both servers normal') && pair.sLog.has('failover peer fo-test: Both servers normal'), 5000, 'normal');
    await pair.P.stop();
    await waitFor(() => pair.S.state === 'communications-interrupted', 5000, 'S comms-interrupted');
    assert.ok(pair.sLog.has('peer fo-test: disconnected'));
    assert.ok(pair.sLog.has('failover peer fo-test: I move from normal to communications-interrupted'));
    assert.deepEqual(pair.S.mayAnswer({ peerName: 'fo-test', lease: pair.sStore.lease('10.77.0.119')!, messageType: 1, hashKey: Buffer.from('020000770050', 'hex'), secs: 0 }), { answer: true });
    // restart the primary on the same store (its state record says normal)
    assert.equal(pair.pStore.loadState('fo-test')?.myState, 'normal');
    const log2 = new Lines();
    const P2 = new FailoverPeer({
      link: { ...pair.P.connection.config },
      mclt: 1800,
      hba: hbaFromSplit(128),
      loadBalanceMaxSeconds: 3,
      store: pair.pStore,
      log: log2,
    });
    await P2.start();
    try {
      await waitFor(() => log2.has('failover peer fo-test: Both servers normal'), 8000, 'P2 normal');
      assert.ok(log2.has('failover peer fo-test: I move from normal to startup'));
      assert.ok(log2.has('failover peer fo-test: I move from startup to normal'));
      assert.ok(!log2.lines.some((l) => l.startsWith('Sent update request all')));
      await waitFor(() => pair.sLog.has('failover peer fo-test: I move from communications-interrupted to normal'), 5000, 'S normal');
    } finally {
      await P2.stop();
    }
  } finally {
    await pair.stop();
  }
});

test('secondary rejects a CONNECT with clock skew > 60 s (reason 4), survives garbage', async () => {
  const pair = await makePair({ sClockSkew: 120 });
  try {
    await waitFor(() => pair.pLog.lines.some((l) => l === 'Failover CONNECT to fo-test rejected: Connection rejected, time mismatch too great.'), 5000, 'reject seen by P');
    assert.ok(pair.sLog.has('Failover CONNECT from fo-test: time offset too large'));
    assert.notEqual(pair.P.state, 'normal');
  } finally {
    await pair.stop();
  }
});

test('hostile peer on the listener: wrong name, garbage, truncated and non-peer source are handled', async () => {
  const sPort = await freePort('127.0.0.2');
  const log = new Lines();
  const pools = [{ id: 'p1', label: 'x', from: ip('10.0.0.1'), to: ip('10.0.0.4') }];
  const S = new FailoverPeer({
    link: { name: 'fo-test', role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: 1, maxResponseDelay: 5, maxUnackedUpdates: 10, listenOnly: true, linkStartupMs: 500 },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store: new MemoryFailoverStore(pools),
    log,
  });
  await S.start();
  const talk = async (from: string, data: Buffer[], waitMs = 300): Promise<Buffer> => {
    const sock = net.connect({ host: '127.0.0.2', port: sPort, localAddress: from });
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    for (const d of data) sock.write(d);
    await new Promise<void>((r) => {
      const t = setTimeout(() => r(), waitMs);
      sock.once('close', () => {
        clearTimeout(t);
        r();
      });
    });
    sock.destroy();
    return Buffer.concat(chunks);
  };
  try {
    const now = Math.floor(Date.now() / 1000);
    // wrong relationship name → CONNECTACK reject 8
    const r1 = await talk('127.0.0.1', [encodeFields(FTM.CONNECT, now, 0, { relationshipName: Buffer.from('not-fo'), mclt: 60, hba: hbaFromSplit(128), maxUnackedBndupd: 10, receiveTimer: 5 })]);
    const d1 = decodeMessage(r1.subarray(0, r1.readUInt16BE(0)));
    assert.ok(d1.ok);
    assert.equal(d1.message.type, FTM.CONNECTACK);
    assert.equal(d1.message.fields.rejectReason, 8);
    assert.equal(d1.message.fields.message, 'unknown failover relationship name');
    assert.ok(log.has('Failover CONNECT from not-fo: unknown failover relationship name'));
    // short HBA → reason 18
    const r2 = await talk('127.0.0.1', [encodeFields(FTM.CONNECT, now, 0, { relationshipName: Buffer.from('fo-test'), mclt: 60, hba: Buffer.alloc(16), maxUnackedBndupd: 10, receiveTimer: 5 })]);
    const d2 = decodeMessage(r2.subarray(0, r2.readUInt16BE(0)));
    assert.ok(d2.ok && d2.message.fields.rejectReason === 18);
    // garbage length → connection dropped, logged
    await talk('127.0.0.1', [Buffer.from('ffffdeadbeef', 'hex')]);
    assert.ok(log.lines.some((l) => l.startsWith('message length wait: bad length 65535')));
    // duplicate option → dropped
    const dup = Buffer.concat([Buffer.from('0014050c', 'hex'), Buffer.alloc(8), Buffer.from('000f000100000f0001', 'hex').subarray(0, 8)]);
    await talk('127.0.0.1', [dup]);
    assert.ok(log.lines.some((l) => l.startsWith('FAILOVER: ')), log.lines.join('\n'));
    // truncated message then silence → link startup timeout closes it
    await talk('127.0.0.1', [Buffer.from('0030050c00', 'hex')], 1500);
    assert.ok(log.has('failover: link startup timeout'));
    // a connection from an address that is not the peer
    const r3 = await talk('127.0.0.3', [encodeFields(FTM.CONNECT, now, 0, { relationshipName: Buffer.from('fo-test') })]);
    assert.equal(r3.length, 0);
    assert.ok(log.has('failover: listener: no matching state'));
    assert.equal(S.connection.isUp, false);
    assert.ok(S.connection.decodeErrors >= 1);
  } finally {
    await S.stop();
  }
});

test('a peer that stops acking: max-unacked flow control holds, then the receive timer drops the link', async () => {
  const sPort = await freePort('127.0.0.2');
  const log = new Lines();
  const pools = [{ id: 'p1', label: 'x', from: ip('10.0.0.1'), to: ip('10.0.0.8') }];
  const S = new FailoverPeer({
    link: { name: 'fo-test', role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: 1, maxResponseDelay: 2, maxUnackedUpdates: 10, listenOnly: true },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store: new MemoryFailoverStore(pools),
    log,
  });
  await S.start();
  const sock = net.connect({ host: '127.0.0.2', port: sPort, localAddress: '127.0.0.1' });
  const received: number[] = [];
  let buf = Buffer.alloc(0);
  let closedAt = 0;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0)) {
      const r = decodeMessage(buf.subarray(0, buf.readUInt16BE(0)));
      buf = buf.subarray(buf.readUInt16BE(0));
      if (r.ok) received.push(r.message.type);
    }
  });
  sock.on('close', () => (closedAt = Date.now()));
  sock.on('error', () => undefined);
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const now = Math.floor(Date.now() / 1000);
    // A peer announcing max-unacked 3 and a 30 s receive timer, then asking for everything.
    sock.write(encodeFields(FTM.CONNECT, now, 0, { relationshipName: Buffer.from('fo-test'), maxUnackedBndupd: 3, receiveTimer: 30, mclt: 60, hba: hbaFromSplit(128) }));
    sock.write(encodeFields(FTM.STATE, now, 1, { serverState: 6, serverFlags: 0, startTimeOfState: now }));
    sock.write(encodeFields(FTM.UPDREQALL, now, 2, {}));
    const start = Date.now();
    await waitFor(() => closedAt > 0, 6000, 'receive timeout');
    assert.equal(received[0], FTM.CONNECTACK);
    assert.equal(received.filter((t) => t === FTM.BNDUPD).length, 3, `exactly max-unacked BNDUPDs in flight: ${received.join(',')}`);
    assert.ok(!received.includes(FTM.UPDDONE));
    assert.ok(log.has('timeout waiting for failover peer fo-test'), log.lines.join('\n'));
    assert.ok(log.has('peer fo-test: disconnected'));
    assert.ok(Date.now() - start >= 1500, 'dropped after max-response-delay, not before');
    assert.equal(S.connection.isUp, false);
  } finally {
    sock.destroy();
    await S.stop();
  }
});

test('startFailover from config-model peers (as loadConfig gives them) wires a working pair and policy', async () => {
  const pPort = await freePort('127.0.0.1');
  const sPort = await freePort('127.0.0.2');
  const loc = { file: 'dhcpd.conf', line: 1, column: 1 };
  const base = {
    name: 'fo-cfg',
    loadBalanceMaxSeconds: 3,
    maxLeaseMisbalance: 15,
    maxLeaseOwnership: 10,
    maxBalance: 3600,
    minBalance: 60,
    autoPartnerDown: 0,
    state: null,
    loc,
  };
  const ep = (a: string, port: number, mrd: number) => ({ address: { kind: 'address' as const, address: ip(a) }, port, maxResponseDelay: mrd, maxUnackedUpdates: 10 });
  const primary: ConfigFailoverPeer = { ...base, role: 'primary', me: ep('127.0.0.1', pPort, 5), peer: ep('127.0.0.2', sPort, 0), mclt: 600, hba: null, split: 128 };
  const secondary: ConfigFailoverPeer = { ...base, role: 'secondary', me: ep('127.0.0.2', sPort, 5), peer: ep('127.0.0.1', pPort, 0), mclt: 0, hba: null, split: null };
  const pools = [{ id: 'p', label: '10.9.0.0/24', from: ip('10.9.0.10'), to: ip('10.9.0.13') }];
  const pLog = new Lines();
  const sLog = new Lines();
  const a = await startFailover(new Map([['fo-cfg', primary]]), () => new MemoryFailoverStore(pools), pLog);
  const b = await startFailover(new Map([['fo-cfg', secondary]]), () => new MemoryFailoverStore(pools), sLog);
  try {
    await waitFor(() => pLog.has('failover peer fo-cfg: Both servers normal') && sLog.has('failover peer fo-cfg: Both servers normal'), 5000, 'normal');
    assert.ok(pLog.has('WARNING: load balancing will be disabled for failover peer, fo-cfg, because its load balance max secs is 0') === false);
    assert.equal(b.peers.get('fo-cfg')!.mclt, 600);
    const lease = emptyLease(ip('10.9.0.12'));
    assert.deepEqual(b.policy.leaseTimeFor('fo-cfg', lease, 3600, 1000, false), { leaseTime: 600 });
    // Unknown peer names behave as without failover.
    assert.deepEqual(b.policy.mayAnswer({ peerName: 'other', lease, messageType: 1, hashKey: Buffer.alloc(6), secs: 0 }), { answer: true });
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('release flow between two dhcpd-ts servers; primary affinity hands a secondary-hashed lease back as backup', async () => {
  const pair = await makePair();
  try {
    await waitFor(() => pair.pLog.has('failover peer fo-test: Both servers normal') && pair.sLog.has('failover peer fo-test: Both servers normal'), 5000, 'normal');
    await waitFor(() => [...pair.sStore.pools()[0]!.leases()].filter((l) => l.bindingState === 'backup').length === 10, 5000, 'balance');
    // The secondary binds one of its backup leases to a client hashing to the secondary (bucket 201), ...
    const s = pair.sStore.lease('10.77.0.105')!;
    assert.equal(s.bindingState, 'backup');
    const now = Math.floor(Date.now() / 1000);
    const mac = Buffer.from('020000770054', 'hex');
    const t = pair.S.leaseTimeFor(s, 7200, now, true);
    Object.assign(s, { bindingState: 'active', nextBindingState: 'expired', starts: now, ends: now + t.leaseTime, cltt: now, tstp: t.tstp!, hardware: { htype: 1, address: mac } });
    pair.S.onBindingChange(s);
    await waitFor(() => pair.pStore.lease('10.77.0.105')!.bindingState === 'active', 5000, 'P has active');
    await waitFor(() => s.atsfp === t.tstp, 5000, 'S got BNDACK');
    // ... then the client releases: BNDUPD released; the primary stores free and, by affinity, gives it
    // straight back to the secondary as backup.
    Object.assign(s, { bindingState: 'released', nextBindingState: 'free', ends: now + 1, tstp: now + 1 });
    pair.S.onBindingChange(s);
    await waitFor(() => pair.pStore.lease('10.77.0.105')!.bindingState === 'backup', 5000, 'P affinity → backup');
    await waitFor(() => s.bindingState === 'backup', 5000, 'S lease back to backup');
    assert.equal(pair.sStore.lease('10.77.0.105')!.hardware?.address.toString('hex'), '020000770054');
  } finally {
    await pair.stop();
  }
});

test('primary: CONNECTACK with a wrong name gets the same DISCONNECT ISC sends (vector §11.17); reject reasons logged', async () => {
  const sPort = await freePort('127.0.0.2');
  const pPort = await freePort('127.0.0.1');
  const got: Buffer[] = [];
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0)) {
        const frame = buf.subarray(0, buf.readUInt16BE(0));
        buf = buf.subarray(frame.length);
        got.push(Buffer.from(frame));
        const r = decodeMessage(frame);
        if (r.ok && r.message.type === FTM.CONNECT) {
          sock.write(
            encodeFields(FTM.CONNECTACK, Math.floor(Date.now() / 1000), r.message.xid, {
              relationshipName: Buffer.from('wrong-name'),
              maxUnackedBndupd: 10,
              receiveTimer: 30,
              protocolVersion: 1,
              tlsReply: 0,
            }),
          );
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(sPort, '127.0.0.2', () => r()));
  const log = new Lines();
  const P = new FailoverPeer({
    link: { name: 'fo-lo', role: 'primary', address: '127.0.0.1', port: pPort, peerAddress: '127.0.0.2', peerPort: sPort, maxResponseDelay: 30, maxUnackedUpdates: 10, mclt: 1800, hba: hbaFromSplit(128), reconnectMs: 60_000 },
    mclt: 1800,
    hba: hbaFromSplit(128),
    loadBalanceMaxSeconds: 3,
    store: new MemoryFailoverStore([{ id: 'p', label: 'x', from: 1, to: 2 }]),
    log,
  });
  try {
    await P.start();
    await waitFor(() => got.some((b) => b[2] === FTM.DISCONNECT), 5000, 'DISCONNECT');
    const disc = got.find((b) => b[2] === FTM.DISCONNECT)!;
    const isc = Buffer.from(
      '00500c0c6b0bae5e0000000100150001080010003b72656d6f7465206661696c6f7665722072656c6174696f6e73686970206e616d652077726f6e672d6e616d6520646f6573206e6f74206d61746368',
      'hex',
    );
    // Same bytes as ISC's, but for the time field (4..7).
    assert.equal(Buffer.concat([disc.subarray(0, 4), disc.subarray(8)]).toString('hex'), Buffer.concat([isc.subarray(0, 4), isc.subarray(8)]).toString('hex'));
    assert.ok(log.has('Failover CONNECTACK from fo-lo: remote failover relationship name wrong-name does not match'));
    // Our CONNECT has ISC's option layout (vector §11.1) but for our vendor class.
    const connect = decodeMessage(got[0]!);
    assert.ok(connect.ok);
    assert.deepEqual(
      connect.message.options.map((o) => o.code),
      [22, 14, 19, 28, 20, 27, 15, 11],
    );
    assert.equal(connect.message.xid, 0);
    assert.equal(P.connection.isUp, false);
  } finally {
    await P.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a failing lease commit turns into BNDACK reject 6 "database update failed"; the process survives', async () => {
  const sPort = await freePort('127.0.0.2');
  const log = new Lines();
  class FailingStore extends MemoryFailoverStore {
    override commit(): void {
      throw new Error('disk full');
    }
  }
  const S = new FailoverPeer({
    link: { name: 'fo-test', role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: 1, maxResponseDelay: 10, maxUnackedUpdates: 10, listenOnly: true },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store: new FailingStore([{ id: 'p', label: 'x', from: ip('10.0.0.1'), to: ip('10.0.0.4') }]),
    log,
  });
  await S.start();
  const sock = net.connect({ host: '127.0.0.2', port: sPort, localAddress: '127.0.0.1' });
  const msgs: ReturnType<typeof decodeMessage>[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0)) {
      msgs.push(decodeMessage(buf.subarray(0, buf.readUInt16BE(0))));
      buf = buf.subarray(buf.readUInt16BE(0));
    }
  });
  sock.on('error', () => undefined);
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const now = Math.floor(Date.now() / 1000);
    sock.write(encodeFields(FTM.CONNECT, now, 0, { relationshipName: Buffer.from('fo-test'), maxUnackedBndupd: 10, receiveTimer: 30, mclt: 60, hba: hbaFromSplit(128) }));
    sock.write(
      encodeFields(FTM.BNDUPD, now, 7, {
        assignedIpAddress: ip('10.0.0.2'),
        bindingStatus: 2,
        chaddr: Buffer.from('01020000770050', 'hex'),
        leaseExpirationTime: now + 60,
        potentialExpirationTime: now + 90,
        startTimeOfState: now,
      }),
    );
    // An address outside every pool → reason 1.
    sock.write(encodeFields(FTM.BNDUPD, now, 8, { assignedIpAddress: ip('192.0.2.1'), bindingStatus: 1 }));
    await waitFor(() => msgs.filter((m) => m.ok && m.message.type === FTM.BNDACK).length === 2, 3000, 'BNDACKs');
    const acks = msgs.flatMap((m) => (m.ok && m.message.type === FTM.BNDACK ? [m.message] : []));
    const a7 = acks.find((m) => m.xid === 7)!;
    assert.equal(a7.fields.rejectReason, 6);
    assert.equal(a7.fields.message, 'database update failed');
    const a8 = acks.find((m) => m.xid === 8)!;
    assert.equal(a8.fields.rejectReason, 1);
    assert.equal(a8.fields.message, 'unknown IP address');
    assert.ok(log.lines.some((l) => l.includes('lease commit failed: Error: disk full')));
  } finally {
    sock.destroy();
    await S.stop();
  }
});
