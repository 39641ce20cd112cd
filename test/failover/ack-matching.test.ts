/**
 * BNDACK matching as ISC dhcp_failover_process_bind_ack does it (FAILOVER.md §1.5, §4.6): by address and the
 * xid of the last BNDUPD sent for it (`last_xid`). A partner that acks late (ISC holds acks up to 2 s) and
 * out of order is matched silently; a lease changed while its update was in flight leaves the ack queue, so
 * the late ack of the old update is dropped silently (and does not mark the new data acked) until the
 * lease is re-sent, after which the old xid is ISC's "xid mismatch"; a duplicate ack is dropped silently;
 * an address outside the relationship is "no such lease".
 *
 * Our secondary (src/failover over an in-memory store) against a scripted primary on loopback TCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FailoverPeer } from '../../src/failover/engine.js';
import { MemoryFailoverStore } from '../../src/failover/memory-store.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';
import { decodeMessage, encodeFields } from '../../src/failover/codec.js';
import { FTM, type FailoverMessage } from '../../src/failover/messages.js';
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
  ackLines(): string[] {
    return this.lines.filter((l) => l.includes('got ack'));
  }
}

test('late, out-of-order, stale, duplicate and foreign BNDACKs are matched as ISC does', async () => {
  const sPort = await freePort('127.0.0.2');
  const log = new Lines();
  const store = new MemoryFailoverStore([{ id: 'p1', label: '10.0.0.0/24', from: ip('10.0.0.1'), to: ip('10.0.0.8') }]);
  const S = new FailoverPeer({
    link: { name: 'fo-test', role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: 1, maxResponseDelay: 30, maxUnackedUpdates: 10, listenOnly: true },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store,
    log,
  });
  await S.start();
  const sock = net.connect({ host: '127.0.0.2', port: sPort, localAddress: '127.0.0.1' });
  const got: FailoverMessage[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0)) {
      const r = decodeMessage(buf.subarray(0, buf.readUInt16BE(0)));
      buf = buf.subarray(buf.readUInt16BE(0));
      if (r.ok) got.push(r.message);
    }
  });
  sock.on('error', () => undefined);
  const now = (): number => Math.floor(Date.now() / 1000);
  const bndupds = (): FailoverMessage[] => got.filter((m) => m.type === FTM.BNDUPD);
  const xidOf = (address: string, nth = 0): number => bndupds().filter((m) => m.fields.assignedIpAddress === ip(address))[nth]!.xid;
  const ack = (address: string, xid: number): void => void sock.write(encodeFields(FTM.BNDACK, now(), xid, { assignedIpAddress: ip(address) }));
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    // A primary that accepts 3 unacked updates asks for everything.
    sock.write(encodeFields(FTM.CONNECT, now(), 0, { relationshipName: Buffer.from('fo-test'), maxUnackedBndupd: 3, receiveTimer: 30, mclt: 60, hba: hbaFromSplit(128) }));
    sock.write(encodeFields(FTM.STATE, now(), 1, { serverState: 6, serverFlags: 0, startTimeOfState: now() }));
    sock.write(encodeFields(FTM.UPDREQALL, now(), 2, {}));
    await waitFor(() => bndupds().length === 3, 5000, 'the first 3 BNDUPDs');
    assert.deepEqual(bndupds().map((m) => m.fields.assignedIpAddress), [ip('10.0.0.1'), ip('10.0.0.2'), ip('10.0.0.3')]);
    const x1 = xidOf('10.0.0.1');

    // .1 changes while its update is in flight (a client got it): off the ack queue, so room for .4.
    const l1 = store.lease('10.0.0.1')!;
    Object.assign(l1, { bindingState: 'active', nextBindingState: 'expired', starts: now(), ends: now() + 600, tstp: now() + 900, cltt: now() });
    l1.hardware = { htype: 1, address: Buffer.from('525400aabbcc', 'hex') };
    S.onBindingChange(l1);
    await waitFor(() => bndupds().length === 4, 5000, 'BNDUPD for .4');
    assert.equal(bndupds()[3]!.fields.assignedIpAddress, ip('10.0.0.4'));

    // The late ack of .1's old update: the lease is no longer waiting for it; dropped silently, and the new
    // data is not taken as acked (ISC: last_xid 0).
    ack('10.0.0.1', x1);
    await settle();
    assert.deepEqual(log.ackLines(), []);
    assert.equal(l1.tsfp, 0, 'the old ack did not acknowledge the new binding');

    // Late and out of order: .4, .3, .2 with their xids: matched, no log line; the queue moves on.
    for (const a of ['10.0.0.4', '10.0.0.3', '10.0.0.2']) ack(a, xidOf(a));
    await waitFor(() => bndupds().length === 7, 5000, 'BNDUPDs for .5 .6 .7');
    // A duplicate ack: dropped silently (ISC: last_xid already 0).
    ack('10.0.0.3', xidOf('10.0.0.3'));
    // An address outside the relationship.
    ack('10.9.9.9', 77);
    await settle();
    assert.deepEqual(log.ackLines(), ['bind update on 10.9.9.9 got ack from fo-test: no such lease.']);

    // Ack everything that arrives; .1 is re-sent with a new xid. Before its ack, its first xid comes again:
    // now the lease waits for another xid, which is ISC's "xid mismatch".
    const acked = new Set<FailoverMessage>();
    let staleSent = false;
    const deadline = Date.now() + 5000;
    while (!got.some((m) => m.type === FTM.UPDDONE)) {
      if (Date.now() > deadline) throw new Error(`no UPDDONE; got ${got.map((m) => m.type).join(',')}\n${log.lines.join('\n')}`);
      for (const m of bndupds().slice(4)) {
        if (acked.has(m)) continue;
        if (m.fields.assignedIpAddress === ip('10.0.0.1') && !staleSent) {
          assert.notEqual(m.xid, x1);
          ack('10.0.0.1', x1);
          staleSent = true;
          await settle();
        }
        acked.add(m);
        ack(ipOf(m.fields.assignedIpAddress!), m.xid);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(staleSent, 'lease .1 was re-sent');
    assert.equal(got.find((m) => m.type === FTM.UPDDONE)!.xid, 2, 'UPDDONE answers the UPDREQALL');
    assert.deepEqual(log.ackLines(), ['bind update on 10.9.9.9 got ack from fo-test: no such lease.', 'bind update on 10.0.0.1 got ack from fo-test: xid mismatch.']);
    // The re-sent update was acked: the new binding's potential expiry is now the acknowledged one.
    assert.equal(l1.tsfp, l1.tstp);
    assert.equal(bndupds().filter((m) => m.fields.assignedIpAddress === ip('10.0.0.1')).length, 2);
  } finally {
    sock.destroy();
    await S.stop();
  }
});

function ipOf(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
