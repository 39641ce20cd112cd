/**
 * Lease files written by a real ISC dhcpd 4.4.3 serving real clients (dhclient, udhcpc, perfdhcp) in test
 * namespaces, with and without failover: import them, export them, and check that ISC's own `dhcpd -T`
 * accepts the export and that dhcpd-pools reports the same pool usage for ISC's file and ours.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTopology,
  dhclientArgs,
  integrationSkipReason,
  ISC_DHCPD,
  startIscDhcpd,
  udhcpcArgs,
  waitUntil,
  type LanInfo,
  type Topology,
} from '../support/netns.js';
import { importLeases, exportLeases } from '../../leases/commands.js';
import { parseLeaseFileText } from '../../grammar/leases-parser.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';

function missingTool(): string | undefined {
  for (const t of [ISC_DHCPD, '/usr/bin/dhcpd-pools', '/usr/sbin/perfdhcp', '/usr/sbin/dhclient']) if (!existsSync(t)) return `${t} not installed`;
  return undefined;
}
const skip = integrationSkipReason() ?? missingTool();

let topo: Topology;
let lan: LanInfo;
let work: string;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'leases-isc-'));
  topo = await createTopology('lz-isc');
  lan = await topo.lan('lan', [
    { name: 'srv1', address: '10.232.0.1/24' },
    { name: 'srv2', address: '10.232.0.2/24' },
    { name: 'dhc', mac: '52:54:00:e8:00:11' },
    { name: 'udh', mac: '52:54:00:e8:00:12' },
    // perfdhcp behaves as a relay (giaddr = its own address), so it needs one.
    { name: 'prf', mac: '52:54:00:e8:00:13', address: '10.232.0.9/24' },
  ]);
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs the three kinds of clients against whatever serves the LAN; returns when they are done. */
async function runClients(tag: string): Promise<void> {
  const d = await topo.tempDir();
  const dh = await lan.host('dhc').exec('timeout', ['15', 'dhclient', ...dhclientArgs(d, 'eth0')], { check: false, timeoutMs: 20_000 });
  assert.match(dh.stdout + dh.stderr, /bound to 10\.232\.0\./, `dhclient (${tag}) got no lease:\n${dh.stderr}`);
  const ud = await lan.host('udh').exec('udhcpc', udhcpcArgs('eth0', { tries: 5, timeoutS: 2 }), { check: false, timeoutMs: 20_000 });
  assert.match(ud.stdout + ud.stderr, /lease of 10\.232\.0\.\d+ obtained/, `udhcpc (${tag}) got no lease:\n${ud.stderr}`);
  // perfdhcp: 15 simulated clients doing DORA, bounded by count and time.
  const pf = await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '15', '-r', '10', '-n', '15', '-p', '4'], { check: false, timeoutMs: 20_000 });
  assert.match(pf.stdout, /received packets: [1-9]/, `perfdhcp (${tag}) got no replies:\n${pf.stdout}\n${pf.stderr}`);
}

/** dhcpd-pools' JSON report for a config and lease file. */
function pools(conf: string, leases: string): unknown {
  const r = spawnSync('/usr/bin/dhcpd-pools', ['-c', conf, '-l', leases, '-f', 'j'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** ISC's lease-file check: complaints (`line N:` / corrupt) and exit status. */
function iscCheck(leaseFile: string, conf: string): { status: number | null; complaints: string[] } {
  const r = spawnSync(ISC_DHCPD, ['-4', '-T', '-lf', leaseFile, '-cf', conf, '-pf', join(work, 'check.pid')], { encoding: 'latin1', timeout: 20_000 });
  return { status: r.status, complaints: `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => / line \d+:|orrupt lease file/.test(l)) };
}

/** Import ISC's file, export ours, and compare them every way ISC users would. */
async function checkImportExport(tag: string, iscLeases: string, conf: string): Promise<{ leases: number; states: Record<string, number> }> {
  const iscFile = join(work, `${tag}.isc.leases`);
  await writeFile(iscFile, iscLeases, 'latin1');
  const db = join(work, `${tag}.sqlite`);
  const ours = join(work, `${tag}.ours.leases`);
  const summary = importLeases({ leaseFile: iscFile, database: db, configFile: conf });
  assert.deepEqual(summary.skipped, []);
  await exportLeases({ database: db, output: ours, configFile: conf });

  const isc = parseLeaseFileText(iscLeases, iscFile);
  const mine = parseLeaseFileText(await readFile(ours, 'latin1'), ours);
  assert.deepEqual(mine.diagnostics, []);
  assert.deepEqual([...mine.leases.entries()].sort((a, b) => a[0] - b[0]), [...isc.leases.entries()].sort((a, b) => a[0] - b[0]));
  assert.deepEqual([...mine.failoverStates.values()], [...isc.failoverStates.values()]);

  const check = iscCheck(ours, conf);
  assert.deepEqual(check.complaints, [], `dhcpd -T complains about our export (${tag})`);
  assert.equal(check.status, 0);
  assert.deepEqual(pools(conf, ours), pools(conf, iscFile), `dhcpd-pools differs between ISC's file and ours (${tag})`);

  const store = openSqliteLeaseStore(db);
  const states = store.countByState() as Record<string, number>;
  store.close();
  return { leases: summary.leases, states };
}

const BASE = `ddns-update-style none;
authoritative;
ping-check false;
default-lease-time 600;
max-lease-time 1200;
`;

test('ISC dhcpd leases (dhclient, udhcpc, perfdhcp) import and export; dhcpd -T and dhcpd-pools agree', { skip, timeout: 120_000 }, async (t) => {
  const config = `${BASE}subnet 10.232.0.0 netmask 255.255.255.0 {\n  range 10.232.0.100 10.232.0.180;\n}\n`;
  const isc = await startIscDhcpd({ ns: lan.host('srv1').ns, config, interfaces: ['eth0'], topology: topo });
  try {
    await runClients('plain');
    await waitUntil(async () => (((await isc.readLeases()).match(/binding state active/g)?.length ?? 0) >= 10 ? true : undefined), {
      timeoutMs: 5000,
      what: 'ten active leases in ISC dhcpd.leases',
    });
  } finally {
    await isc.stop();
  }
  const text = await isc.readLeases();
  const r = await checkImportExport('plain', text, isc.configFile);
  assert.ok((r.states['active'] ?? 0) >= 10, JSON.stringify(r));
  t.diagnostic(`ISC wrote ${r.leases} leases (${JSON.stringify(r.states)}); export accepted by dhcpd -T, dhcpd-pools identical`);
});

test('ISC failover pair leases (backup pool, peer state) import and export; dhcpd -T and dhcpd-pools agree', { skip, timeout: 120_000 }, async (t) => {
  const peer = (me: string, them: string, role: 'primary' | 'secondary'): string =>
    `failover peer "lz-fo" {\n  ${role};\n  address ${me};\n  port 647;\n  peer address ${them};\n  peer port 647;\n` +
    `  max-response-delay 30;\n  max-unacked-updates 10;\n  load balance max seconds 3;\n${role === 'primary' ? '  mclt 600;\n  split 128;\n' : ''}}\n`;
  const subnet = `subnet 10.232.0.0 netmask 255.255.255.0 {\n  pool {\n    failover peer "lz-fo";\n    range 10.232.0.100 10.232.0.139;\n  }\n}\n`;
  const secondary = await startIscDhcpd({
    ns: lan.host('srv2').ns,
    config: `${BASE}${peer('10.232.0.2', '10.232.0.1', 'secondary')}${subnet}`,
    interfaces: ['eth0'],
    topology: topo,
  });
  const primary = await startIscDhcpd({
    ns: lan.host('srv1').ns,
    config: `${BASE}${peer('10.232.0.1', '10.232.0.2', 'primary')}${subnet}`,
    interfaces: ['eth0'],
    topology: topo,
  });
  try {
    await primary.process.waitFor(/Both servers normal/, { timeoutMs: 20_000 });
    await secondary.process.waitFor(/Both servers normal/, { timeoutMs: 20_000 });
    await runClients('failover');
    await waitUntil(async () => (((await primary.readLeases()).match(/binding state active/g)?.length ?? 0) >= 1 ? true : undefined), {
      timeoutMs: 8000,
      what: 'an active lease in the primary dhcpd.leases',
    });
  } finally {
    await primary.stop();
    await secondary.stop();
  }
  for (const [tag, srv] of [
    ['fo-primary', primary],
    ['fo-secondary', secondary],
  ] as const) {
    const text = await srv.readLeases();
    assert.match(text, /failover peer "lz-fo" state \{/);
    const r = await checkImportExport(tag, text, srv.configFile);
    t.diagnostic(`${tag}: ${r.leases} leases ${JSON.stringify(r.states)}`);
    assert.ok((r.states['backup'] ?? 0) + (r.states['free'] ?? 0) > 0, 'pool balancing left free/backup leases');
  }
});
