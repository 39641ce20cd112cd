/**
 * Crash safety of the lease database with the real server: dhcpd-ts (the CLI, as an administrator runs it)
 * serves a perfdhcp run in a test namespace and is killed with SIGKILL in the middle of it. Every DHCPACK a
 * client received (seen on the client's wire) must be in the database afterwards, leased to the same
 * hardware address, the database must pass its integrity check, and a restarted server must start on it and
 * write -lf as an ISC file that `dhcpd -T` accepts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopology, delay, integrationSkipReason, ISC_DHCPD, startCapture, waitUntil, type LanInfo, type Topology } from '../support/netns.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ipv4FromString } from '../../leases/lease.js';
import { parseLeaseFileText } from '../../grammar/leases-parser.js';
import Database from 'better-sqlite3';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? 'ts' : 'js';
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${ext}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const haveServer = existsSync(join(here, '..', '..', 'src', 'server', `dhcp-server.${ext}`)) && existsSync(MAIN);
const skip = integrationSkipReason() ?? (!haveServer ? 'the server/CLI is not built' : !existsSync('/usr/sbin/perfdhcp') ? 'perfdhcp not installed' : undefined);

let topo: Topology;
let lan: LanInfo;
let dir: string;

before(async () => {
  if (skip) return;
  topo = await createTopology('lz-crash');
  lan = await topo.lan('lan', [
    { name: 'srv', address: '10.234.0.1/24' },
    { name: 'prf', address: '10.234.0.9/24', mac: '52:54:00:ea:00:09' },
  ]);
  dir = await topo.tempDir();
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

/** (yiaddr, chaddr) of every DHCPACK in a tcpdump -vv capture. */
function ackedLeases(packets: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of packets) {
    if (!/DHCP-Message[^:]*: ACK/.test(p)) continue;
    const ip = /Your-IP (\d+\.\d+\.\d+\.\d+)/.exec(p)?.[1];
    const mac = /Client-Ethernet-Address ([0-9a-f:]{17})/.exec(p)?.[1];
    if (ip && mac) out.set(ip, mac);
  }
  return out;
}

test('SIGKILL during a perfdhcp run loses no acknowledged lease', { skip, timeout: 120_000 }, async (t) => {
  const conf = join(dir, 'dhcpd.conf');
  const leases = join(dir, 'dhcpd.leases');
  const db = join(dir, 'dhcpd.leases.sqlite');
  await writeFile(
    conf,
    'ddns-update-style none;\nauthoritative;\nping-check false;\ndefault-lease-time 3600;\n' +
      'subnet 10.234.0.0 netmask 255.255.255.0 {\n  range 10.234.0.20 10.234.0.250;\n}\n',
  );
  await writeFile(leases, '');
  const args = [...NODE_ARGS, '-f', '-d', '-cf', conf, '-lf', leases, '-db', db, '-pf', join(dir, 'dhcpd.pid'), 'eth0'];

  const server = topo.spawn(lan.host('srv').ns, process.execPath, args);
  await server.waitFor('Server starting service.', { timeoutMs: 30_000 });
  const cap = await startCapture(lan.host('prf').ns, 'eth0', 'udp and src port 67', { topology: topo });
  // perfdhcp acts as a relay from 10.234.0.9: 200 simulated clients at 100 exchanges/s, bounded to 8 s.
  const perf = topo.spawn(lan.host('prf').ns, 'perfdhcp', ['-4', '-l', 'eth0', '-R', '200', '-r', '100', '-n', '600', '-p', '8']);
  // Kill the server once ACKs are flowing, in the middle of the run.
  await waitUntil(() => ((server.output.match(/DHCPACK on/g)?.length ?? 0) >= 60 ? true : undefined), {
    timeoutMs: 20_000,
    what: '60 DHCPACKs from dhcpd-ts',
  });
  await server.stop('SIGKILL');
  await delay(500);
  await perf.stop('SIGTERM', 2000);
  const acked = ackedLeases(await cap.stop());
  assert.ok(acked.size >= 50, `clients were ACKed before the kill (${acked.size})`);

  // Every ACKed lease is in the database, to the same client.
  const raw = new Database(db, { readonly: true });
  assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  raw.close();
  const store = openSqliteLeaseStore(db);
  for (const [ip, mac] of acked) {
    const l = store.getByAddress(ipv4FromString(ip)!);
    assert.ok(l, `ACKed lease ${ip} is missing after SIGKILL`);
    assert.equal(l.bindingState, 'active', `${ip}`);
    assert.equal(l.hardware?.address.toString('hex').match(/../g)?.join(':'), mac, `${ip} is leased to ${mac}`);
  }
  const total = store.leaseCount();
  store.close();
  t.diagnostic(`${acked.size} ACKs seen on the wire before SIGKILL; all in the database (${total} lease records)`);

  // A restarted server opens the database and keeps -lf as an ISC file.
  const again = topo.spawn(lan.host('srv').ns, process.execPath, args);
  await again.waitFor('Server starting service.', { timeoutMs: 30_000 });
  await again.stop('SIGTERM', 5000);
  const text = await readFile(leases, 'latin1');
  const view = parseLeaseFileText(text, leases);
  assert.deepEqual(view.diagnostics, []);
  for (const [ip, mac] of acked) assert.equal(view.leases.get(ipv4FromString(ip)!)?.hardware?.address.toString('hex').match(/../g)?.join(':'), mac);
  if (existsSync(ISC_DHCPD)) {
    const r = spawnSync(ISC_DHCPD, ['-4', '-T', '-lf', leases, '-cf', conf, '-pf', join(dir, 'check.pid')], { encoding: 'latin1', timeout: 20_000 });
    assert.deepEqual(`${r.stdout}\n${r.stderr}`.split('\n').filter((l) => / line \d+:|orrupt lease file/.test(l)), []);
    assert.equal(r.status, 0);
  }
});
