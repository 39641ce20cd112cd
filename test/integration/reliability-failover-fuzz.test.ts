/**
 * Hostile input on the failover TCP port (issue 8, item 2).
 *
 * In-process, at large counts (the running server's listener gets the same treatment, at smaller counts, in
 * reliability-failover-server.test.ts), as the server runs it: a dhcpd-ts SECONDARY (`FailoverPeer`, src/failover/engine.ts, with its
 * `FailoverConnection` listener, src/failover/connection.ts) listens on 127.0.0.2, its configured peer is
 * 127.0.0.1. From the peer address it receives:
 * - mutated messages (byte flips, length lies in both directions, out-of-range lengths, option lengths past
 *   the end, duplicate options, random types, truncation then silence, garbage), one connection each;
 * - slowloris connections (a valid CONNECT one byte at a time);
 * - 1,000 connections at once;
 * and connections with a valid CONNECT from a NON-peer address (127.0.0.3).
 * Every connection must end (a CONNECTACK with a reject reason, or a disconnect) within the link start-up
 * time, the process must not throw, and afterwards a real dhcpd-ts PRIMARY must bring the relationship to
 * `normal` on both sides; a duplicate CONNECT while normal is rejected (reason 7) without disturbing it.
 *
 * `make test`: 3,000 mutated messages, 50 slowloris, 1,000 at once; soak/run.sh: 100,000, 500, 1,000
 * (RELIABILITY_FO_MESSAGES / RELIABILITY_FO_SLOWLORIS override).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FailoverPeer } from '../../src/failover/engine.js';
import { MemoryFailoverStore } from '../../src/failover/memory-store.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';
import { decodeMessage, encodeFields } from '../../src/failover/codec.js';
import { FTM, FTR } from '../../src/failover/messages.js';
import type { FailoverLog } from '../../src/failover/connection.js';
import { readFixture } from '../failover/fixtures.js';
import { connectMessage, hostile, mutate, pool, prng, type Outcome } from '../support/reliability-failover-hostile.js';
import { freePort } from '../support/loopback.js';
import { createTopology, integrationSkipReason } from '../support/netns.js';
import { nodeArgs, recordFigures, scaled, supportScript, topologyPrefix } from '../support/reliability-server.js';
import { FAILOVER_LISTEN_BACKLOG } from '../../src/failover/connection.js';

const MESSAGES = scaled('RELIABILITY_FO_MESSAGES', 3000, 100_000);
const SLOWLORIS = scaled('RELIABILITY_FO_SLOWLORIS', 50, 500);
const AT_ONCE = 1000;
const NAME = 'fo-fuzz';
const STARTUP_MS = 1000;

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
}

test('failover listener under hostile input from the peer and a non-peer; the relationship recovers to normal', { timeout: 600_000 }, async (t) => {
  const pPort = await freePort('127.0.0.1');
  const sPort = await freePort('127.0.0.2');
  const pools = [{ id: 'p1', label: '10.245.0.0/24', from: ip('10.245.0.100'), to: ip('10.245.0.139') }];
  const sLog = new Lines();
  const pLog = new Lines();
  const common = { maxResponseDelay: 6, maxUnackedUpdates: 10, reconnectMs: 300 };
  const S = new FailoverPeer({
    link: { name: NAME, role: 'secondary', address: '127.0.0.2', port: sPort, peerAddress: '127.0.0.1', peerPort: pPort, linkStartupMs: STARTUP_MS, ...common },
    mclt: 0,
    loadBalanceMaxSeconds: 3,
    store: new MemoryFailoverStore(pools),
    log: sLog,
  });
  let P: FailoverPeer | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 200);
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  await S.start();
  try {
    // 1. Mutated messages from the peer address, one connection each.
    const rnd = prng(0x5eed);
    const now = Math.floor(Date.now() / 1000);
    const vectors = (JSON.parse(readFixture('isc-vectors.json')) as Array<{ hex: string }>).map((v) => Buffer.from(v.hex, 'hex'));
    const bases = [connectMessage(NAME, now), connectMessage(NAME, now, 7), ...vectors];
    const kinds = new Map<string, number>();
    const jobs = Array.from({ length: MESSAGES }, () => {
      const m = mutate(bases[Math.floor(rnd() * bases.length)]!, rnd);
      kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
      return async () => ({ ...(await hostile('127.0.0.2', sPort, '127.0.0.1', [m.data], STARTUP_MS + 4000)), kind: m.kind, hex: m.data.toString('hex') });
    });
    const results = await pool(jobs, 128);
    for (const r of results.filter((x) => x.outcome === 'still-open').slice(0, 5)) t.diagnostic(`still open after ${r.ms} ms: ${r.kind} ${r.hex.slice(0, 200)}`);
    t.diagnostic(`event-loop delay during the mutated phase: max ${(lag.max / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms`);
    const count = (o: Outcome): number => results.filter((r) => r.outcome === o).length;
    const reasons = new Map<number, number>();
    for (const r of results) if (r.reason !== undefined) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    t.diagnostic(`mutated: ${MESSAGES} (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}) → reject ${count('reject')} (${[...reasons].map(([k, n]) => `reason ${k}: ${n}`).join(', ')}), closed ${count('closed')}, accepted ${count('accepted')}, still open ${count('still-open')}`);
    // Every one is ended within the start-up time (at most 128 connect at a time: far below the backlog).
    // Only a process that itself froze for seconds (the server's timers and the clients' 5 s limits then
    // fire in the same turn) may leave some: tolerated then, and said.
    const frozenMs = lag.max / 1e6;
    if (frozenMs < 2000) assert.equal(count('still-open'), 0, `hostile connections not ended within the link start-up time (event loop max delay ${frozenMs.toFixed(0)} ms)`);
    else {
      t.diagnostic(`the test process froze for ${frozenMs.toFixed(0)} ms: ${count('still-open')} connections outlived their 5 s limit`);
      assert.ok(count('still-open') <= Math.ceil(MESSAGES * 0.01), `${count('still-open')} hostile connections were not ended within the link start-up time`);
    }

    // 2. Slowloris: a valid CONNECT one byte every 100 ms; the start-up timer must end each.
    const slow = connectMessage(NAME, Math.floor(Date.now() / 1000));
    const slowJobs = Array.from({ length: SLOWLORIS }, () => () => hostile('127.0.0.2', sPort, '127.0.0.1', [...slow].map((x) => Buffer.from([x])), STARTUP_MS + 4000, 100));
    const slowResults = await pool(slowJobs, Math.min(SLOWLORIS, 500));
    const slowMax = Math.max(...slowResults.map((r) => r.ms));
    t.diagnostic(`slowloris: ${SLOWLORIS}, all ended; longest ${slowMax} ms`);
    assert.ok(slowResults.every((r) => r.outcome === 'closed'), `slowloris outcomes: ${[...new Set(slowResults.map((r) => r.outcome))].join(',')}`);
    assert.ok(slowMax < STARTUP_MS + 3000);

    // 3. 1,000 connections at once from the peer address, idle: all ended by the start-up timer.
    const many = await Promise.all(Array.from({ length: AT_ONCE }, () => hostile('127.0.0.2', sPort, '127.0.0.1', [], STARTUP_MS + 15_000)));
    const manyOpen = many.filter((r) => r.outcome === 'still-open').length;
    t.diagnostic(`${AT_ONCE} at once: ended ${AT_ONCE - manyOpen}, longest ${Math.max(...many.map((r) => r.ms))} ms`);
    assert.equal(manyOpen, 0);

    // 4. A valid CONNECT from an address that is not the peer: dropped at once, no reply.
    const nonPeer = await pool(Array.from({ length: 100 }, () => () => hostile('127.0.0.2', sPort, '127.0.0.3', [connectMessage(NAME, Math.floor(Date.now() / 1000))], 3000)), 20);
    assert.ok(nonPeer.every((r) => r.outcome === 'closed'), 'non-peer connections are closed without a CONNECTACK');
    assert.ok(sLog.lines.includes('failover: listener: no matching state'));
    assert.equal(uncaught.length, 0, `uncaught: ${uncaught.map(String).join('\n')}`);

    // 5. The relationship recovers: a real primary reaches normal with this secondary.
    P = new FailoverPeer({
      link: { name: NAME, role: 'primary', address: '127.0.0.1', port: pPort, peerAddress: '127.0.0.2', peerPort: sPort, mclt: 600, hba: hbaFromSplit(128), ...common },
      mclt: 600,
      hba: hbaFromSplit(128),
      loadBalanceMaxSeconds: 3,
      store: new MemoryFailoverStore(pools),
      log: pLog,
    });
    await P.start();
    const end = Date.now() + 20_000;
    while (!(P.state === 'normal' && S.state === 'normal') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(P.state, 'normal', `primary: ${pLog.lines.slice(-10).join(' | ')}`);
    assert.equal(S.state, 'normal', `secondary: ${sLog.lines.slice(-10).join(' | ')}`);

    // 6. While normal: a duplicate CONNECT from the peer address is rejected (7) and changes nothing.
    const dup = await hostile('127.0.0.2', sPort, '127.0.0.1', [connectMessage(NAME, Math.floor(Date.now() / 1000))], 5000);
    assert.equal(dup.outcome, 'reject');
    assert.equal(dup.reason, FTR.DUP_CONNECTION);
    const junk = await hostile('127.0.0.2', sPort, '127.0.0.1', [Buffer.from('00ff0000deadbeef', 'hex')], 5000);
    assert.equal(junk.outcome, 'closed');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(S.state, 'normal');
    assert.equal(P.state, 'normal');
    assert.equal(S.connection.isUp, true);
    assert.equal(uncaught.length, 0);

    clearInterval(sampler);
    t.diagnostic(
      await recordFigures('failover-fuzz', {
        mutatedMessages: MESSAGES,
        rejected: count('reject'),
        disconnected: count('closed'),
        acceptedThenClosedByUs: count('accepted'),
        leftOpen: count('still-open') + manyOpen,
        maxEventLoopDelayMs: Math.round(lag.max / 1e6),
        slowloris: SLOWLORIS,
        atOnce: AT_ONCE,
        nonPeer: nonPeer.length,
        decodeErrorsCounted: S.connection.decodeErrors,
        uncaughtExceptions: uncaught.length,
        recoveredToNormal: true,
        testProcessRssGrowthMiB: Number(((rssPeak - rssBefore) / 1048576).toFixed(1)),
      }),
    );
  } finally {
    lag.disable();
    clearInterval(sampler);
    process.off('uncaughtException', onUncaught);
    await P?.stop();
    await S.stop();
  }
});

// Issue 8's intermittent stall ("0.1-0.6 % of connections ended only after ~60 s"). Measured: the listener
// used Node's default listen backlog, 511, so 1,000 connections opened at once overflowed its accept queue
// (TcpExtListenOverflows 488 in one default run of the test above; it passed only because the 16 s limit
// of that phase outlasts a SYN retransmission). The dropped ones came back on the client's SYN retransmits
// (1, 3, 7, 15, 31, 63 s after the first when the process was slow to accept); a client whose final ACK was
// dropped believes it is connected while the server never sees the connection, so an idle one is never
// ended by the start-up timer (checked by hand: a listener that stalled its accepts 35 s left 10 of 20 idle
// clients open for the whole 110 s they waited). Fixed with an explicit backlog (FAILOVER_LISTEN_BACKLOG).
// Here, in a private namespace (for its own counters), the listener and 1,000 clients share one process, so
// every connect is issued before the listener gets a turn to accept: with the old backlog this overflowed
// every time (about 488 of 1,000).
test('1,000 connections opened at once: none dropped by the listen queue, every one ended by the start-up timer', { skip: integrationSkipReason(), timeout: 120_000 }, async (t) => {
  const topo = await createTopology(topologyPrefix('fofz'));
  try {
    const ns = await topo.namespace('h');
    const somaxconn = Number((await topo.exec('h', 'cat', ['/proc/sys/net/core/somaxconn'])).stdout.trim());
    if (somaxconn < AT_ONCE + 24) {
      t.skip(`net.core.somaxconn is ${somaxconn} in a new namespace (kernel before 5.4): the kernel caps the backlog there`);
      return;
    }
    const p = topo.spawn(ns, process.execPath, [
      ...nodeArgs(supportScript('reliability-fo-sender')),
      JSON.stringify({ host: '127.0.0.2', port: 8647, from: '127.0.0.1', name: NAME, seed: 1, limitMs: 3000, count: 0, slowloris: 0, atOnce: AT_ONCE, listen: { linkStartupMs: STARTUP_MS } }),
    ]);
    const exit = await p.exited;
    assert.equal(exit.code, 0, `sender: ${p.stderr}`);
    const r = JSON.parse(p.stdout.trim().split('\n').pop()!) as Record<string, Record<string, number>>;
    const { atOnce, listen } = r as { atOnce: Record<string, number>; listen: Record<string, number> };
    t.diagnostic(`${AT_ONCE} at once in a namespace: ${JSON.stringify(atOnce)}; listener ${JSON.stringify(listen)}`);
    assert.equal(listen.backlog, Math.min(FAILOVER_LISTEN_BACKLOG, somaxconn), 'the listener\'s backlog (ss Send-Q)');
    assert.equal(listen.listenOverflows, 0, 'no connection was dropped by a full accept queue (TcpExtListenOverflows)');
    assert.equal(listen.listenDrops, 0, 'TcpExtListenDrops');
    assert.equal(atOnce['still-open'], 0, 'every connection was ended');
    assert.equal(atOnce.closed, AT_ONCE);
    // Ended by the 1 s start-up timer; the slack is for a busy machine (a SYN retransmission alone adds 1 s,
    // so this does not decide the test: the counters above do).
    assert.ok(atOnce.maxMs! < STARTUP_MS + 5000, `longest ${atOnce.maxMs} ms`);
  } finally {
    await topo.destroy();
  }
});

// Found by the fuzz above (node's TimeoutOverflowWarning): the CONTACT interval was receive-timer / 3 s with
// no upper bound, and node clamps a delay above 2^31-1 ms to 1 ms. Now capped in connection.ts.
test('a peer announcing a huge receive-timer does not make us send CONTACT every millisecond', {
  timeout: 20_000,
}, async () => {
  const port = await freePort('127.0.0.2');
  const S = new FailoverPeer({
    link: { name: NAME, role: 'secondary', address: '127.0.0.2', port, peerAddress: '127.0.0.1', peerPort: 1, maxResponseDelay: 30, maxUnackedUpdates: 10, listenOnly: true },
    mclt: 0,
    loadBalanceMaxSeconds: 0,
    store: new MemoryFailoverStore([{ id: 'p1', label: 'x', from: ip('10.245.1.1'), to: ip('10.245.1.4') }]),
    log: new Lines(),
  });
  await S.start();
  const sock = net.connect({ host: '127.0.0.2', port, localAddress: '127.0.0.1' });
  sock.on('error', () => undefined);
  const types: number[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.readUInt16BE(0) >= 12 && buf.length >= buf.readUInt16BE(0)) {
      const r = decodeMessage(buf.subarray(0, buf.readUInt16BE(0)));
      buf = buf.subarray(buf.readUInt16BE(0));
      if (r.ok) types.push(r.message.type);
    }
  });
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const now = Math.floor(Date.now() / 1000);
    sock.write(encodeFields(FTM.CONNECT, now, 0, { relationshipName: Buffer.from(NAME), maxUnackedBndupd: 10, receiveTimer: 0xffffffff, mclt: 600, hba: hbaFromSplit(128) }));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(types[0], FTM.CONNECTACK);
    const contacts = types.filter((x) => x === FTM.CONTACT).length;
    assert.ok(contacts <= 1, `${contacts} CONTACT messages in 1 s`);
  } finally {
    sock.destroy();
    await S.stop();
  }
});
