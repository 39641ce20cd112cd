/**
 * DHCPREQUEST for a lease in a transitional failover state, as ISC dhcpd 4.4 decides it (server/dhcp.c
 * dhcprequest(), failover pool branch; FAILOVER.md §6.2):
 * - released/expired, its rewind binding state (the state the partner last acknowledged) not active, and
 *   not ours to reallocate (lease_mine_to_reallocate): ignored, debug "lease in transition state STATE";
 * - reset and not ours to reallocate: DHCPNAK, debug "lease reset by administrator";
 * - released/expired whose rewind state is active (the partner knows it as this client's) or our own free
 *   state (never reported): answered.
 * Checked on a dhcpd-ts primary and secondary in `normal` over loopback (the policy answers only in a
 * responding state).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailoverPeer } from '../../src/failover/engine.js';
import { MemoryFailoverStore } from '../../src/failover/memory-store.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';
import type { FailoverLease } from '../../src/failover/ports.js';
import type { BindingState } from '../../leases/lease.js';
import { freePort, waitFor } from '../support/loopback.js';

const ip = (s: string): number => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const DHCPREQUEST = 3;
const mac = Buffer.from('020000780001', 'hex');
const silent = { info: () => undefined, error: () => undefined, debug: () => undefined };

/** A primary (split 128, MCLT 600) and a secondary on loopback, not started, each with a memory store of one pool. */
async function pairOn(label: string, from: string, to: string): Promise<{ P: FailoverPeer; S: FailoverPeer }> {
  const pPort = await freePort('127.0.0.1');
  const sPort = await freePort('127.0.0.2');
  const pools = [{ id: 'p1', label, from: ip(from), to: ip(to) }];
  const common = { maxResponseDelay: 6, maxUnackedUpdates: 10, reconnectMs: 200 };
  const P = new FailoverPeer({
    link: { name: 'fo-tr', role: 'primary', address: '127.0.0.1', port: pPort, peerAddress: '127.0.0.2', peerPort: sPort, mclt: 600, hba: hbaFromSplit(128), ...common },
    mclt: 600,
    hba: hbaFromSplit(128),
    loadBalanceMaxSeconds: 0,
    store: new MemoryFailoverStore(pools),
    log: silent,
  });
  const S = new FailoverPeer({
    link: { name: 'fo-tr', role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: pPort, ...common },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store: new MemoryFailoverStore(pools),
    log: silent,
  });
  return { P, S };
}

test('REQUEST for a released/expired lease not yet acknowledged by the partner is ignored, a reset lease NAKed (ISC dhcprequest)', async () => {
  const { P, S } = await pairOn('10.78.0.0/24', '10.78.0.100', '10.78.0.109');
  await S.start();
  await P.start();
  try {
    await waitFor(() => P.state === 'normal' && S.state === 'normal', 10_000, 'normal');
    const now = Math.floor(Date.now() / 1000);
    const lease = (bindingState: BindingState, rewindBindingState: BindingState): FailoverLease =>
      ({
        address: ip('10.78.0.105'),
        bindingState,
        nextBindingState: 'free',
        rewindBindingState,
        starts: now - 100,
        ends: now - 10,
        cltt: now - 100,
        tstp: now - 10,
        tsfp: now + 3600,
        atsfp: now + 3600,
        hardware: { htype: 1, address: mac },
        uid: null,
      }) as unknown as FailoverLease;
    const ask = (peer: FailoverPeer, l: FailoverLease): ReturnType<FailoverPeer['mayAnswer']> =>
      peer.mayAnswer({ peerName: 'fo-tr', lease: l, messageType: DHCPREQUEST, hashKey: mac, secs: 0 });

    for (const state of ['released', 'expired'] as const) {
      // Taken from the partner's free state and not acknowledged: not ours to rewind.
      assert.deepEqual(ask(S, lease(state, 'free')), { answer: false, reason: `lease in transition state ${state}` }, `secondary, ${state}, rewind free`);
      assert.deepEqual(ask(P, lease(state, 'backup')), { answer: false, reason: `lease in transition state ${state}` }, `primary, ${state}, rewind backup`);
      // Rewind state is our own free state (never reported to the partner): ours, answered.
      assert.deepEqual(ask(S, lease(state, 'backup')), { answer: true }, `secondary, ${state}, rewind backup`);
      assert.deepEqual(ask(P, lease(state, 'free')), { answer: true }, `primary, ${state}, rewind free`);
      // The partner acknowledged it as active: the client may have it back.
      assert.deepEqual(ask(S, lease(state, 'active')), { answer: true }, `secondary, ${state}, rewind active`);
      assert.deepEqual(ask(P, lease(state, 'active')), { answer: true }, `primary, ${state}, rewind active`);
    }
    // Reset by an administrator, not partner-down: NAK on both servers.
    for (const peer of [P, S]) assert.deepEqual(ask(peer, lease('reset', 'active')), { answer: false, reason: 'lease reset by administrator', nak: true });
    // An active lease is the client's: answered.
    assert.deepEqual(ask(S, { ...lease('active', 'active'), ends: now + 600 } as FailoverLease), { answer: true });
  } finally {
    await Promise.all([P.stop(), S.stop()]);
  }
});

test('through the DHCP engine: a reset lease is NAKed, a released one in transition ignored, one the partner acked as active renewed', async () => {
  const { DhcpEngine } = await import('../../src/engine/dhcp-engine.js');
  const { createFailoverPolicy } = await import('../../src/failover/engine.js');
  const { emptyLease } = await import('../../leases/lease.js');
  const { DHCPREQUEST: REQ, DhcpOption, DHCPNAK, DHCPACK } = await import('../../src/wire/packet.js');
  const fx = await import('../engine/fixtures.js');
  const { P, S } = await pairOn('192.168.103.0/24', '192.168.103.110', '192.168.103.120');
  const { store, cleanup } = fx.tempStore();
  await S.start();
  await P.start();
  try {
    await waitFor(() => P.state === 'normal' && S.state === 'normal', 10_000, 'normal');
    const tc = new fx.TestConfig();
    tc.subnet('192.168.103.0', '255.255.255.0', (s) => {
      tc.set(s.scope, fx.opt('server', 'ping-check', 42, fx.flag(false)), fx.opt('server', 'authoritative', 0, fx.flag(true)));
      tc.pool(s, [['192.168.103.110', '192.168.103.120']], (pool) => {
        pool.failoverPeer = 'fo-tr';
      });
    });
    const now = Math.floor(Date.now() / 1000);
    const clock = new fx.FakeClock(now);
    const ports = { ...fx.ports(clock), failover: createFailoverPolicy(new Map([['fo-tr', S]])) };
    const engine = new DhcpEngine({ config: tc.done(), leases: store, ports });
    const iface = { name: 'eth0', ifindex: 2, addresses: [ip('192.168.103.2')], canUnicastWithoutArp: true };
    const put = (addr: string, mac: string, bindingState: BindingState, rewindBindingState: BindingState): void => {
      const l = emptyLease(ip(addr));
      Object.assign(l, { bindingState, rewindBindingState, nextBindingState: 'free', starts: now - 100, ends: now - 10, cltt: now - 100, tstp: now - 10, tsfp: now + 3600, atsfp: now + 3600, hardware: { htype: 1, address: Buffer.from(mac.split(':').map((x) => parseInt(x, 16))) } });
      store.commit([l]);
    };
    const ask = (addr: string, mac: string): { type: number | undefined; debug: string[] } => {
      const before = ports.logger.lines.length;
      const o = engine.handle({ packet: fx.request(REQ, mac, { options: [[DhcpOption.REQUESTED_ADDRESS, fx.u32(ip(addr))]] }), raw: Buffer.alloc(300), iface, sourceAddress: 0, sourcePort: 68 });
      store.commit(engine.takeCommits());
      engine.committed();
      const reply = o.replies[0]?.packet.options.get(DhcpOption.MESSAGE_TYPE)?.[0];
      return { type: reply, debug: ports.logger.lines.slice(before).filter((x) => x.level === 'debug').map((x) => x.message) };
    };
    put('192.168.103.111', '02:00:00:78:00:11', 'reset', 'active');
    put('192.168.103.112', '02:00:00:78:00:12', 'released', 'free');
    put('192.168.103.113', '02:00:00:78:00:13', 'released', 'active');
    const reset = ask('192.168.103.111', '02:00:00:78:00:11');
    assert.equal(reset.type, DHCPNAK, 'reset lease: DHCPNAK');
    assert.ok(reset.debug.some((m) => m.endsWith(': lease reset by administrator')), reset.debug.join(' | '));
    const transition = ask('192.168.103.112', '02:00:00:78:00:12');
    assert.equal(transition.type, undefined, 'released, not acked, not ours: no reply');
    assert.ok(transition.debug.some((m) => m.endsWith(': lease in transition state released')), transition.debug.join(' | '));
    assert.equal(ask('192.168.103.113', '02:00:00:78:00:13').type, DHCPACK, 'released, the partner knows it active: renewed');
  } finally {
    await Promise.all([P.stop(), S.stop()]);
    cleanup();
  }
});
