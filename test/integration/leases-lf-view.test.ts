/**
 * -lf as a live ISC-format view of the database, with the real server (the CLI, as an administrator runs
 * it) in a test namespace: a client's lease appears in -lf within a few seconds, through a new file renamed
 * into place (the inode changes: never a write into the file a reader has open); while a perfdhcp run
 * keeps changes flowing, ISC's own `dhcpd -T` accepts the live file every time it is polled; at shutdown
 * the file holds every lease of the database (the last record of each address is the database's lease).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopology, delay, integrationSkipReason, ISC_DHCPD, run, startCapture, udhcpcArgs, type LanInfo, type Topology } from '../support/netns.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ipv4FromString, ipv4ToString } from '../../leases/lease.js';
import { parseLeaseFileText } from '../../grammar/leases-parser.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? 'ts' : 'js';
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${ext}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const haveServer = existsSync(join(here, '..', '..', 'src', 'server', `dhcp-server.${ext}`)) && existsSync(MAIN);
const skip =
  integrationSkipReason() ??
  (!haveServer
    ? 'the server/CLI is not built'
    : !existsSync('/usr/sbin/perfdhcp')
      ? 'perfdhcp not installed'
      : !existsSync(ISC_DHCPD)
        ? 'ISC dhcpd (the -T oracle) not installed'
        : undefined);

const CLIENT_MAC = '52:54:00:eb:00:21';
let topo: Topology;
let lan: LanInfo;
let dir: string;

before(async () => {
  if (skip) return;
  topo = await createTopology('lz-view');
  lan = await topo.lan('lan', [
    { name: 'srv', address: '10.235.0.1/24' },
    { name: 'prf', address: '10.235.0.9/24', mac: '52:54:00:eb:00:09' },
    { name: 'cli', mac: CLIENT_MAC },
  ]);
  dir = await topo.tempDir();
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

const hex = (b: Buffer | undefined): string | undefined => b?.toString('hex').match(/../g)?.join(':');

/** ISC dhcpd 4.4.3's verdict on a lease file: exit status and its `line N:` complaints. */
async function iscCheck(leaseFile: string, conf: string): Promise<{ code: number | null; complaints: string[] }> {
  const r = await run(ISC_DHCPD, ['-4', '-T', '-lf', leaseFile, '-cf', conf, '-pf', join(dir, 'check.pid')], { check: false, timeoutMs: 20_000 });
  return { code: r.code, complaints: `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => / line \d+:|orrupt lease file/.test(l)) };
}

test('-lf follows the database by rename within seconds, always accepted by dhcpd -T, complete at shutdown', { skip, timeout: 120_000 }, async (t) => {
  const conf = join(dir, 'dhcpd.conf');
  const leases = join(dir, 'dhcpd.leases');
  await writeFile(
    conf,
    'ddns-update-style none;\nauthoritative;\nping-check false;\ndefault-lease-time 3600;\nmax-lease-time 3600;\n' +
      'subnet 10.235.0.0 netmask 255.255.255.0 {\n  range 10.235.0.20 10.235.0.250;\n}\n',
  );
  await writeFile(leases, '');
  const server = topo.spawn(lan.host('srv').ns, process.execPath, [...NODE_ARGS, '-f', '-d', '-cf', conf, '-lf', leases, '-pf', join(dir, 'dhcpd.pid'), 'eth0']);
  try {
    await server.waitFor('Server starting service.', { timeoutMs: 30_000 });
    // The empty -lf is not the database's file: it is written whole soon after start (header first).
    for (const end = Date.now() + 20_000; !readFileSync(leases, 'latin1').startsWith('# The format of this file'); ) {
      assert.ok(Date.now() < end, 'the file is written after start');
      await delay(100);
    }

    // One client: its lease reaches -lf within a few seconds, by rename.
    const ino0 = statSync(leases).ino;
    const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 5, timeoutS: 2 }), { check: false, timeoutMs: 30_000 });
    const got = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1];
    assert.ok(got, `udhcpc got a lease:\n${r.stdout}${r.stderr}\n${server.output.slice(-1500)}`);
    const acked = Date.now();
    let inFileMs = -1;
    for (const end = acked + 10_000; Date.now() < end; await delay(50)) {
      const l = parseLeaseFileText(readFileSync(leases, 'latin1'), leases).leases.get(ipv4FromString(got)!);
      if (l?.bindingState === 'active' && hex(l.hardware?.address) === CLIENT_MAC) {
        inFileMs = Date.now() - acked;
        break;
      }
    }
    assert.ok(inFileMs >= 0, `the lease of ${got} reached -lf within 10 s`);
    assert.ok(inFileMs <= 5000, `within a few seconds (${inFileMs} ms)`);
    assert.notEqual(statSync(leases).ino, ino0, 'a new file renamed into place');

    // A perfdhcp run (relay from 10.235.0.9: 200 clients, 100 exchanges/s, bounded to 6 s) while dhcpd -T
    // checks the live file again and again.
    const cap = await startCapture(lan.host('prf').ns, 'eth0', 'udp and src port 67', { topology: topo });
    const perf = lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '200', '-r', '100', '-n', '600', '-p', '6'], { check: false, timeoutMs: 30_000 });
    let running = true;
    void perf.finally(() => {
      running = false;
    });
    // Inode numbers are reused (ext4 hands the freed one to the next temporary file): count changes.
    let replaced = 0;
    let lastIno = statSync(leases).ino;
    const verdicts: { code: number | null; complaints: string[]; records: number }[] = [];
    while (running && verdicts.length < 40) {
      const v = await iscCheck(leases, conf);
      const ino = statSync(leases).ino;
      if (ino !== lastIno) replaced++;
      lastIno = ino;
      verdicts.push({ ...v, records: (readFileSync(leases, 'latin1').match(/^lease /gm) ?? []).length });
      await delay(200);
    }
    await perf;
    await delay(3000); // the last flush
    const ackedByPerf = (await cap.stop()).filter((p) => /DHCP-Message[^:]*: ACK/.test(p)).length;
    const bad = verdicts.filter((v) => v.code !== 0 || v.complaints.length > 0);
    t.diagnostic(
      `lease in -lf ${inFileMs} ms after its ACK; during perfdhcp (${ackedByPerf} ACKs): ${verdicts.length} dhcpd -T checks, ` +
        `${bad.length} rejected, replaced ${replaced} times between checks, lease records ${verdicts.map((v) => v.records).join(' ')}`,
    );
    assert.ok(ackedByPerf >= 50, `perfdhcp clients were served (${ackedByPerf} ACKs)`);
    assert.ok(verdicts.length >= 3, `dhcpd -T ran during the load (${verdicts.length})`);
    assert.deepEqual(bad, [], 'dhcpd -T accepts the live file every time');
    assert.ok(replaced >= 2, `the file was replaced during the load (${replaced} times seen)`);
    assert.ok((verdicts.at(-1)?.records ?? 0) > (verdicts[0]?.records ?? 0), 'records reached the file during the load');
  } finally {
    await server.stop('SIGTERM', 10_000);
  }

  // At shutdown: every lease of the database is in the file, as its last record for that address.
  const view = parseLeaseFileText(await readFile(leases, 'latin1'), leases);
  assert.deepEqual(view.diagnostics, []);
  const store = openSqliteLeaseStore(join(dir, 'dhcpd.leases.sqlite'), { readOnly: true });
  let n = 0;
  const wrong: string[] = [];
  try {
    for (const l of store.leases()) {
      n++;
      const f = view.leases.get(l.address);
      if (!f || f.bindingState !== l.bindingState || hex(f.hardware?.address) !== hex(l.hardware?.address) || f.ends !== l.ends) {
        wrong.push(`${ipv4ToString(l.address)}: db ${l.bindingState} ${hex(l.hardware?.address)} ${l.ends}, file ${f ? `${f.bindingState} ${hex(f.hardware?.address)} ${f.ends}` : 'nothing'}`);
      }
    }
  } finally {
    store.close();
  }
  assert.ok(n >= 50, `leases in the database (${n})`);
  assert.deepEqual(wrong, [], 'the file at shutdown is the database');
  assert.equal(view.leases.size, n);
  const last = await iscCheck(leases, conf);
  assert.deepEqual(last, { code: 0, complaints: [] });
});
