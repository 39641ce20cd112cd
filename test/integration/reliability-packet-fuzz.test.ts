/**
 * Hostile input on the DHCP port (issue 8, item 1): the real dhcpd-ts, started with dhcpd's command line in a
 * test namespace, receives a reproducible stream of generated and byte-mutated DHCP datagrams (from the real
 * captures of test/fixtures/wire) by broadcast, by unicast and as a relay agent (giaddr). It must:
 * - stay up (no exit, no "internal error"),
 * - count malformed packets and log them at a bounded rate (ISC-style: the log does not grow by a line per bad
 *   packet; each line carries the count of the suppressed ones, so the log's total is the server's count,
 *   which can be no more than the sender's own count of datagrams the decoder rejects),
 * - keep its memory bounded (VmHWM sampled during the run),
 * - and hand a real client (busybox udhcpc) its lease right after the storm.
 *
 * The stream holds every mutation the issue names (truncations, option lengths past the end, overload loops,
 * zero and huge hlen, wrong op/htype, bad cookie, giant option 82, option 55 with every code) and fast-check
 * generated well-formed packets; the sender counts each kind and the test checks that none is missing.
 *
 * `make test` sends 50,000 datagrams; soak/run.sh sets RELIABILITY_SOAK=1 for 1,000,000
 * (RELIABILITY_FUZZ_PACKETS overrides either).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTopology, integrationSkipReason, udhcpcArgs, type LanInfo, type Topology } from '../support/netns.js';
import {
  HAVE_SERVER,
  countLines,
  nodeArgs,
  procStatus,
  recordFigures,
  scaled,
  serverFiles,
  startServer,
  supportScript,
  type ServerFiles,
} from '../support/reliability-server.js';
import { topologyPrefix } from '../support/reliability-server.js';
import type { FuzzSenderFigures } from '../support/reliability-fuzz-sender.js';

/** The mutation kinds issue 8 names (packet-arbitraries.ts names), and fast-check's well-formed packets. */
const REQUIRED_KINDS = ['truncate', 'length-past-end', 'overload-loop', 'hlen', 'op-htype', 'bad-cookie', 'giant-agent', 'prl-every-code', 'generated'];

const skip = integrationSkipReason() ?? (!HAVE_SERVER ? 'the server/CLI is not built' : undefined);
const PACKETS = scaled('RELIABILITY_FUZZ_PACKETS', 50_000, 1_000_000);
const RATE = scaled('RELIABILITY_FUZZ_RATE', 5_000, 5_000);
const SEED = scaled('RELIABILITY_FUZZ_SEED', 8, 8);

let topo: Topology;
let lan: LanInfo;
let files: ServerFiles;

before(async () => {
  if (skip) return;
  topo = await createTopology(topologyPrefix('fuzz'));
  lan = await topo.lan('lan', [
    { name: 'srv', address: '10.241.0.1/16' },
    { name: 'fz', address: '10.241.0.9/16' },
    { name: 'cli', mac: '52:54:00:f1:00:42' },
  ]);
  // Broadcasts to 255.255.255.255 need a route out of the fuzzer's namespace.
  await topo.exec('fz', 'ip', ['route', 'add', 'default', 'dev', 'eth0']);
  files = await serverFiles(
    await topo.tempDir(),
    'ddns-update-style none;\nauthoritative;\nping-check false;\ndefault-lease-time 600;\nmax-lease-time 600;\n' +
      // A /16 pool: the well-formed DISCOVERs of the stream (thousands of distinct MACs) must not use up
      // the pool, or the real client would meet "no free leases" (that case is reliability-overload's).
      'subnet 10.241.0.0 netmask 255.255.0.0 {\n  range 10.241.1.0 10.241.254.254;\n  option routers 10.241.0.1;\n}\n',
  );
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

test(`${PACKETS} hostile datagrams: no crash, bounded log and memory, a real client still gets its lease`, { skip, timeout: Math.max(180_000, (PACKETS / RATE) * 1000 * 3 + 120_000) }, async (t) => {
  const server = await startServer(topo, lan.host('srv').ns, files, ['eth0'], { timeoutMs: 60_000 });
  const pid = server.pid;
  const startHwm = procStatus(pid)?.vmHwmKiB ?? 0;
  const linesBefore = server.output.split('\n').length;
  const began = Date.now();

  const sender = topo.spawn(lan.host('fz').ns, process.execPath, [
    ...nodeArgs(supportScript('reliability-fuzz-sender')),
    JSON.stringify({ count: PACKETS, seed: SEED, server: '10.241.0.1', self: '10.241.0.9', rate: RATE }),
  ]);
  let peakHwm = startHwm;
  const sampler = setInterval(() => {
    const s = procStatus(pid);
    if (s) peakHwm = Math.max(peakHwm, s.vmHwmKiB);
  }, 250);
  const exit = await sender.exited;
  clearInterval(sampler);
  assert.equal(exit.code, 0, `fuzz sender failed: ${sender.stderr}`);
  const figures = JSON.parse(sender.stdout.trim().split('\n').pop()!) as FuzzSenderFigures;
  for (const k of REQUIRED_KINDS) assert.ok((figures.byKind[k] ?? 0) > 0, `no '${k}' datagram in the stream: ${JSON.stringify(figures.byKind)}`);
  assert.ok(figures.hlenZero > 0 && figures.hlenHuge > 0, `hlen 0: ${figures.hlenZero}, hlen > 16: ${figures.hlenHuge}`);
  assert.ok(figures.malformed > 0 && figures.malformed < figures.sent, `malformed sent: ${figures.malformed} of ${figures.sent}`);
  // Let the server drain what it has queued: wait until its log has been quiet for a second (at most 120 s).
  const sentAt = Date.now();
  let lastLen = -1;
  let quietSince = Date.now();
  while (Date.now() - sentAt < 120_000) {
    if (server.output.length !== lastLen) {
      lastLen = server.output.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= 1000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const drainSeconds = (quietSince - sentAt) / 1000;
  const seconds = (Date.now() - began) / 1000;
  const st = procStatus(pid);
  if (st) peakHwm = Math.max(peakHwm, st.vmHwmKiB);

  assert.equal(server.hasExited, false, `the server exited during the fuzz run:\n${server.output.slice(-4000)}`);
  const log = server.output.split('\n').slice(linesBefore - 1).join('\n');
  assert.equal(countLines(log, /internal error/), 0, 'no internal error');

  // Malformed packets: at most the limiter's burst plus one line a second (each line says how many were
  // suppressed); the server-side count is the sum of logged + suppressed.
  const malformed = log.split('\n').filter((l) => l.startsWith('Dropped a malformed packet'));
  const seenBad = malformed.reduce((n, l) => n + 1 + Number(/\((\d+) similar messages suppressed\)/.exec(l)?.[1] ?? 0), 0);
  assert.ok(malformed.length <= 5 + Math.ceil(seconds) + 1, `${malformed.length} malformed-packet lines in ${seconds.toFixed(1)} s`);
  // The server's count (logged + suppressed) is of what reached it: no more than was sent malformed (the
  // kernel drops some when the server falls behind, and suppressed ones after the last line are not in the
  // log yet), and most of it on a machine that keeps up (at least a quarter even on a busy one).
  assert.ok(seenBad <= figures.malformed, `the server counted ${seenBad} malformed packets, ${figures.malformed} were sent`);
  assert.ok(seenBad >= figures.malformed / 4, `the server counted only ${seenBad} of ${figures.malformed} malformed packets`);
  // An exception in a handler is caught (the server stays up) but is a bug all the same: bad input must end
  // as a counted, logged drop or an ISC-style refusal.
  const handlerErrors = countLines(log, /^Error handling a packet/);
  assert.equal(handlerErrors, 0, `handler exceptions:\n${log.split('\n').filter((l) => l.startsWith('Error handling a packet')).slice(0, 3).join('\n')}`);
  const totalLines = log.split('\n').length;

  // A real client right after.
  t.diagnostic(`sent ${figures.sent} in ${figures.seconds.toFixed(1)} s; server log quiet ${drainSeconds.toFixed(1)} s after the last one`);
  const client = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 8, timeoutS: 2 }), { check: false, timeoutMs: 40_000 });
  const leased = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(client.stdout + client.stderr)?.[1];
  assert.ok(leased, `udhcpc got no lease after the fuzz run:\n${client.stdout}${client.stderr}\nserver:\n${server.output.slice(-3000)}`);
  assert.match(server.output, new RegExp(`DHCPACK on ${leased.replace(/\./g, '\\.')} to 52:54:00:f1:00:42`));
  assert.equal(server.hasExited, false);

  const line = await recordFigures('packet-fuzz', {
    packetsTried: figures.sent,
    sendFailures: figures.failed,
    bytes: figures.bytes,
    sendSeconds: Number(figures.seconds.toFixed(1)),
    drainSecondsAfterSend: Number(drainSeconds.toFixed(1)),
    malformedSent: figures.malformed,
    malformedSeenByServer: seenBad,
    malformedLogLines: malformed.length,
    handlerErrors,
    offers: countLines(log, /^DHCPOFFER/),
    acks: countLines(log, /^DHCPACK/),
    logLines: totalLines,
    crashes: server.hasExited ? 1 : 0,
    peakRssMiB: Number((peakHwm / 1024).toFixed(1)),
    startRssMiB: Number((startHwm / 1024).toFixed(1)),
    clientLease: leased,
    kinds: Object.entries(figures.byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}:${n}`)
      .join(' '),
    hlenZeroHuge: `${figures.hlenZero}/${figures.hlenHuge}`,
    // What the rest of the log is: ISC's one line per handled message (DHCPDISCOVER, DHCPOFFER, …).
    logLineKinds: [...log.split('\n').reduce((m, l) => {
      const k = /^(\S+)/.exec(l.replace(/^\d+ similar.*/, 'suppression-note'))?.[1] ?? '';
      if (k) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    }, new Map<string, number>())]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, n]) => `${k}:${n}`)
      .join(' '),
  });
  t.diagnostic(line);
  // Memory: bounded, whatever the count (the server holds no per-packet state for junk).
  assert.ok(peakHwm < 400 * 1024, `peak RSS ${peakHwm} KiB`);
  await server.stop('SIGTERM', 5000);
});
