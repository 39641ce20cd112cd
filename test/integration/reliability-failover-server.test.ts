/**
 * Hostile input on the failover port of the RUNNING server (issue 8, items 2 and 6): dhcpd-ts started with a
 * `failover peer` (secondary, port 8647) in a test namespace. From the configured peer address it receives
 * mutated failover messages (one connection each), slowloris connections and 1,000 connections at once; from
 * another address, valid CONNECTs. The server must stay up, end every connection (reject or disconnect;
 * ISC's 15 s link start-up limit for those that say nothing useful), refuse the non-peer at once without a
 * reply, and afterwards reach `normal` with a real dhcpd-ts primary started at the peer address.
 * (reliability-failover-fuzz.test.ts drives the same module in-process at larger counts.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTopology, integrationSkipReason, type LanInfo, type Topology } from '../support/netns.js';
import { HAVE_SERVER, nodeArgs, procStatus, recordFigures, scaled, serverFiles, startServer, supportScript, topologyPrefix } from '../support/reliability-server.js';

const skip = integrationSkipReason() ?? (!HAVE_SERVER ? 'the server/CLI is not built' : undefined);
const MESSAGES = scaled('RELIABILITY_FOS_MESSAGES', 300, 5000);
const SLOWLORIS = scaled('RELIABILITY_FOS_SLOWLORIS', 20, 200);

function conf(role: 'primary' | 'secondary', self: string, peer: string): string {
  return (
    'ddns-update-style none;\nauthoritative;\nping-check false;\n' +
    `failover peer "fo-rl" {\n  ${role};\n  address ${self};\n  port 8647;\n  peer address ${peer};\n  peer port 8647;\n` +
    '  max-response-delay 30;\n  max-unacked-updates 10;\n  load balance max seconds 3;\n' +
    (role === 'primary' ? '  mclt 600;\n  split 128;\n' : '') +
    '}\n' +
    'subnet 10.248.0.0 netmask 255.255.255.0 {\n  pool {\n    failover peer "fo-rl";\n    range 10.248.0.100 10.248.0.150;\n  }\n}\n'
  );
}

let topo: Topology;
let lan: LanInfo;

before(async () => {
  if (skip) return;
  topo = await createTopology(topologyPrefix('fosrv'));
  lan = await topo.lan('lan', [
    { name: 'srv', address: '10.248.0.1/24' },
    { name: 'peer', address: '10.248.0.2/24' },
    { name: 'other', address: '10.248.0.3/24' },
  ]);
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

test('the running server\'s failover listener survives hostile peers, refuses non-peers, and the relationship reaches normal', { skip, timeout: 600_000 }, async (t) => {
  const files = await serverFiles(await topo.tempDir(), conf('secondary', '10.248.0.1', '10.248.0.2'));
  const server = await startServer(topo, lan.host('srv').ns, files, ['eth0'], { timeoutMs: 60_000 });
  const send = async (from: 'peer' | 'other', cfg: Record<string, unknown>): Promise<Record<string, Record<string, number>>> => {
    const p = topo.spawn(lan.host(from).ns, process.execPath, [
      ...nodeArgs(supportScript('reliability-fo-sender')),
      JSON.stringify({ host: '10.248.0.1', port: 8647, from: from === 'peer' ? '10.248.0.2' : '10.248.0.3', name: 'fo-rl', seed: 0x5eed, limitMs: 30_000, count: 0, slowloris: 0, atOnce: 0, ...cfg }),
    ]);
    const exit = await p.exited;
    assert.equal(exit.code, 0, `sender: ${p.stderr}`);
    return JSON.parse(p.stdout.trim().split('\n').pop()!) as Record<string, Record<string, number>>;
  };
  // The server's namespace's listen-queue counters (TcpExt in /proc/net/netstat, read inside it).
  const listenOverflows = async (): Promise<number> => {
    const lines = (await topo.exec('srv', 'cat', ['/proc/net/netstat'])).stdout.split('\n');
    const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const k = lines[i]!.split(/\s+/).indexOf('ListenOverflows');
    return Number(lines[i + 1]!.split(/\s+/)[k]);
  };
  const overflowsBefore = await listenOverflows();
  const fromOther = await send('other', { valid: 20 });
  const hostileRun = await send('peer', { count: MESSAGES, slowloris: SLOWLORIS, atOnce: 1000 });
  const overflows = (await listenOverflows()) - overflowsBefore;
  t.diagnostic(`non-peer: ${JSON.stringify(fromOther.valid)}; peer: ${JSON.stringify(hostileRun)}; server's ListenOverflows: ${overflows}`);
  // 1,000 at once fit the failover listener's backlog (FAILOVER_LISTEN_BACKLOG; Node's default 511 did not).
  assert.equal(overflows, 0, 'no connection dropped by a full accept queue on the server');
  assert.equal(server.hasExited, false, `server exited:\n${server.output.slice(-3000)}`);
  assert.equal(fromOther.valid!.closed, 20, 'every non-peer connection is closed without a CONNECTACK');
  // 'At once': ≤ 51 ms measured; the bound leaves room for a busy CI machine.
  assert.ok(fromOther.valid!.maxMs! < 5000, `and at once (${fromOther.valid!.maxMs} ms)`);
  for (const group of ['mutated', 'slowloris', 'atOnce']) assert.equal(hostileRun[group]!['still-open'], 0, `${group}: every connection ended`);
  const rss = procStatus(server.pid)?.vmHwmKiB ?? 0;

  // Recovery: a dhcpd-ts primary at the peer address.
  const pfiles = await serverFiles(await topo.tempDir(), conf('primary', '10.248.0.2', '10.248.0.1'));
  const primary = await startServer(topo, lan.host('peer').ns, pfiles, ['eth0'], { timeoutMs: 60_000 });
  await server.waitFor(/failover peer fo-rl: I move from \S+ to normal/, { timeoutMs: 90_000 });
  await primary.waitFor(/failover peer fo-rl: I move from \S+ to normal/, { timeoutMs: 60_000 });
  t.diagnostic(
    await recordFigures('failover-running-server', {
      mutatedMessages: MESSAGES,
      rejected: hostileRun.mutated!.reject ?? 0,
      disconnected: hostileRun.mutated!.closed ?? 0,
      accepted: hostileRun.mutated!.accepted ?? 0,
      leftOpen: (hostileRun.mutated!['still-open'] ?? 0) + (hostileRun.slowloris!['still-open'] ?? 0) + (hostileRun.atOnce!['still-open'] ?? 0),
      slowloris: SLOWLORIS,
      slowlorisLongestMs: hostileRun.slowloris!.maxMs ?? 0,
      atOnce: 1000,
      atOnceLongestMs: hostileRun.atOnce!.maxMs ?? 0,
      listenOverflows: overflows,
      nonPeerRefused: fromOther.valid!.closed ?? 0,
      crashes: server.hasExited ? 1 : 0,
      peakRssMiB: Number((rss / 1024).toFixed(1)),
      reachedNormal: true,
    }),
  );
  await primary.stop('SIGTERM', 5000);
  await server.stop('SIGTERM', 5000);
});
