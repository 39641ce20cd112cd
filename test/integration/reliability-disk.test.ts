/**
 * Disk trouble (issue 8, item 4). dhcpd-ts keeps its lease file and SQLite database on a small tmpfs mounted
 * in a PRIVATE mount namespace (`unshare -m --propagation private`, inside the test's network namespace):
 * no host path is ever mounted over. The test reaches the files through /proc/PID/root.
 *
 * Full disk: once the tmpfs is filled to the last byte, clients keep asking (perfdhcp and udhcpc). The
 * server must never ACK a lease it could not store (every ACK seen on the clients' wire is in the database
 * afterwards), must say so loudly in its log, must stay up, and must serve again once space is freed.
 *
 * Read-only database: started on a read-only mount, the server must refuse to serve (ISC: log_fatal "Can't
 * open lease database …") rather than hand out leases it cannot store.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTopology, delay, integrationSkipReason, startCapture, udhcpcArgs, type LanInfo, type NsProcess, type Topology } from '../support/netns.js';
import { HAVE_SERVER, ackedLeases, countLines, macText, recordFigures, serverArgv, type ServerFiles } from '../support/reliability-server.js';
import { topologyPrefix } from '../support/reliability-server.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ipv4FromString } from '../../leases/lease.js';

const skip =
  integrationSkipReason() ??
  (!HAVE_SERVER ? 'the server/CLI is not built' : !existsSync('/usr/bin/unshare') ? 'unshare (util-linux) not installed' : !existsSync('/usr/sbin/perfdhcp') ? 'perfdhcp not installed' : undefined);

const CONF =
  'ddns-update-style none;\nauthoritative;\nping-check false;\ndefault-lease-time 3600;\nmax-lease-time 3600;\n' +
  'subnet 10.246.0.0 netmask 255.255.240.0 {\n  range 10.246.1.0 10.246.10.255;\n}\n';

let topo: Topology;
let lan: LanInfo;

before(async () => {
  if (skip) return;
  topo = await createTopology(topologyPrefix('disk'));
  lan = await topo.lan('lan', [
    { name: 'srv', address: '10.246.0.1/20' },
    { name: 'prf', address: '10.246.0.9/20' },
    { name: 'cli', mac: '52:54:00:f6:00:01' },
  ]);
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

/**
 * Starts dhcpd-ts with its lease file and database on a fresh tmpfs of `sizeKiB` mounted on `mnt` in a
 * private mount namespace (`readOnly`: remounted read-only before the server starts).
 */
async function startOnTmpfs(mnt: string, conf: string, sizeKiB: number, readOnly: boolean, seedDb?: string): Promise<{ p: NsProcess; files: ServerFiles }> {
  const files: ServerFiles = { dir: mnt, conf, leases: join(mnt, 'dhcpd.leases'), db: join(mnt, 'dhcpd.leases.sqlite'), pid: join(mnt, 'dhcpd.pid') };
  const argv = [process.execPath, ...serverArgv(files, ['eth0'], ['--no-pid'])];
  const script =
    `mount -t tmpfs -o size=${sizeKiB}k,mode=0755 rl-disk "${mnt}" && : > "${mnt}/dhcpd.leases"` +
    (seedDb ? ` && cp "${seedDb}" "${files.db}"` : '') +
    (readOnly ? ` && mount -o remount,ro "${mnt}" && echo remounted-ro` : '') +
    ' && exec "$@"';
  const p = topo.spawn(lan.host('srv').ns, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv]);
  return { p, files };
}

/** The path of `file` (inside the server's mount namespace) as seen from here. */
const inside = (p: NsProcess, file: string): string => `/proc/${p.pid}/root${file}`;

test('full disk: no ACK for a lease that was not stored, loud log, recovery when space returns', { skip, timeout: 180_000 }, async (t) => {
  const dir = await topo.tempDir();
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await writeFile(join(dir, 'dhcpd.conf'), CONF);
  const { p, files } = await startOnTmpfs(mnt, join(dir, 'dhcpd.conf'), 4096, false);
  await p.waitFor('Server starting service.', { timeoutMs: 30_000 });
  const udhcpc = async (mac: string): Promise<string | undefined> => {
    await topo.exec('cli', 'ip', ['link', 'set', 'eth0', 'address', mac]);
    const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 3, timeoutS: 2 }), { check: false, timeoutMs: 20_000 });
    return /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1];
  };
  assert.ok(await udhcpc('52:54:00:f6:00:01'), 'a client is served while the disk has room');

  // Fill the tmpfs to the last byte.
  const filler = inside(p, join(mnt, 'filler'));
  const { open } = await import('node:fs/promises');
  const fh = await open(filler, 'w');
  let filled = 0;
  const chunk = Buffer.alloc(64 * 1024, 0xa5);
  try {
    for (;;) {
      const { bytesWritten } = await fh.write(chunk);
      filled += bytesWritten;
      if (bytesWritten < chunk.length) break;
    }
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  // The last partial block too.
  try {
    for (;;) {
      await fh.write(Buffer.alloc(512));
      filled += 512;
    }
  } catch {
    /* full */
  }
  await fh.close();
  const logBefore = p.output.length;

  // Clients while the disk is full: a perfdhcp burst (relay, new MACs) and udhcpc.
  const cap = await startCapture(lan.host('prf').ns, 'eth0', 'udp and src port 67', { topology: topo });
  const cliCap = await startCapture(lan.host('cli').ns, 'eth0', 'udp and src port 67', { topology: topo });
  const perf = await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '400', '-r', '100', '-n', '400', '-p', '6', '-b', 'mac=00:0c:77:00:00:00'], { check: false, timeoutMs: 30_000 });
  const fullClient = await udhcpc('52:54:00:f6:00:02');
  const acked = new Map([...ackedLeases(await cap.stop()), ...ackedLeases(await cliCap.stop())]);
  const fullLog = p.output.slice(logBefore);
  const nakLines = countLines(fullLog, /^DHCPNAK/);
  const errorLines = fullLog.split('\n').filter((l) => /No space|SQLITE_FULL|database or disk is full|update failed|ENOSPC|Can't write/i.test(l));
  assert.equal(p.hasExited, false, `the server died on a full disk:\n${p.output.slice(-3000)}`);

  // Space returns.
  await rm(filler);
  await delay(500);
  const afterClient = await udhcpc('52:54:00:f6:00:03');

  // Every ACK seen while full is a stored lease to the same client.
  const notStored: string[] = [];
  // SQLite resolves symbolic links in a database path (and /proc/PID/root is one), so read a copy.
  const copy = join(dir, 'copy.sqlite');
  for (const ext of ['', '-wal', '-shm']) if (existsSync(inside(p, files.db + ext))) await copyFile(inside(p, files.db + ext), copy + ext);
  const store = openSqliteLeaseStore(copy, { readOnly: true });
  try {
    for (const [ip, mac] of acked) {
      const l = store.getByAddress(ipv4FromString(ip)!);
      if (!l || l.bindingState !== 'active' || macText(l.hardware?.address) !== mac) notStored.push(`${ip} → ${mac}`);
    }
  } finally {
    store.close();
  }
  const perfAcks = [...`${perf.stdout}${perf.stderr}`.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]))[1] ?? 0;
  t.diagnostic(
    await recordFigures('disk-full', {
      tmpfsKiB: 4096,
      fillerBytes: filled,
      acksWhileFull: acked.size,
      perfdhcpAcksWhileFull: perfAcks,
      udhcpcWhileFull: fullClient ?? 'none',
      naksWhileFull: nakLines,
      loudLogLines: errorLines.length,
      ackedButNotStored: notStored.length,
      clientAfterRecovery: afterClient ?? 'none',
      crashes: p.hasExited ? 1 : 0,
    }),
  );
  t.diagnostic(`log while full: ${errorLines.slice(0, 3).join(' | ') || '(nothing about the disk)'}`);
  assert.deepEqual(notStored, [], 'no ACK for a lease that is not in the database');
  assert.ok(filled > 0, 'the tmpfs was filled');
  assert.ok(afterClient, `a client is served again once space returns:\n${p.output.slice(-2000)}`);
  await p.stop('SIGTERM', 5000);
});

test('read-only database: the server does not serve leases it cannot store', { skip, timeout: 90_000 }, async (t) => {
  const dir = await topo.tempDir();
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await writeFile(join(dir, 'dhcpd.conf'), CONF);
  // An existing, valid database (made here, copied onto the tmpfs), then the mount made read-only.
  const seed = join(dir, 'seed.sqlite');
  openSqliteLeaseStore(seed).close();
  const { p } = await startOnTmpfs(mnt, join(dir, 'dhcpd.conf'), 1024, true, seed);
  const started = await p.waitFor(/Server starting service\.|exiting\./, { timeoutMs: 30_000 }).catch(() => null);
  await delay(500);
  let leased: string | undefined;
  if (!p.hasExited) {
    const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 2, timeoutS: 2 }), { check: false, timeoutMs: 20_000 });
    leased = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1];
  }
  const exit = p.hasExited ? await p.exited : undefined;
  const lines = p.output.split('\n').filter((l) => /read-only|readonly|EROFS|Can't open|lease database|exiting/i.test(l));
  t.diagnostic(
    await recordFigures('disk-readonly', {
      remounted: /remounted-ro/.test(p.output),
      started: started?.[0] === 'Server starting service.',
      exitCode: exit?.code ?? 'running',
      clientLease: leased ?? 'none',
      log: lines.slice(0, 3).join(' | '),
    }),
  );
  assert.match(p.output, /remounted-ro/, `the test could not make the mount read-only:\n${p.output}`);
  assert.equal(leased, undefined, 'no lease is handed out from a read-only database');
  assert.ok(lines.length > 0, `the server says why:\n${p.output}`);
  await p.stop('SIGTERM', 3000);
});
