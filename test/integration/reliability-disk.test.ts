/**
 * Disk trouble (issue 8, item 4). dhcpd-ts keeps its lease file and SQLite database on a small tmpfs mounted
 * in a PRIVATE mount namespace (`unshare -m --propagation private`, inside the test's network namespace):
 * no host path is ever mounted over. The test reaches the files through /proc/PID/root.
 *
 * Full disk: once the tmpfs is filled to the last byte while the server runs, clients keep asking: perfdhcp
 * (new clients through a relay), udhcpc, and a real dhclient that holds a lease and RENEWS by unicast. The
 * server must not ACK (the database can only grow here, so nothing can be stored: silence, as ISC's
 * "commit_leases: unable to commit" / "database update failed"), must never ACK a lease it could not store
 * (every ACK seen on the clients' wire is in the database afterwards), must say so loudly in its log (error
 * level, naming the cause), must stay up, and must serve again once space is freed: the renewing client
 * keeps its address.
 *
 * Filesystem forced read-only while serving: the lease database lives on a small ext4 image (loop device,
 * mounted `errors=remount-ro` in the private mount namespace); the test makes the kernel detect an error on
 * it (/sys/fs/ext4/loopN/trigger_fs_error), and the kernel remounts it read-only under the running server,
 * as it does on a real disk fault. (An administrator's `mount -o remount,ro` is refused with EBUSY while any
 * file is open for writing, for ISC's dhcpd.leases as for SQLite, so this is how a database becomes
 * read-only mid-run.) The server must go silent, log it, stay up; recovery is what an administrator does:
 * stop it, e2fsck, mount again, start it: every lease ACKed before the fault is still there, the renewing
 * client gets its own address back, new clients are served.
 *
 * That case needs the restart: with ext4's journal aborted by the error, the kernel refuses `mount -o
 * remount,rw` (measured on Linux 6.18: "mount point not mounted or bad option"), and e2fsck needs the
 * filesystem unmounted, so no process can keep its files open through the repair.
 *
 * Read-only database while serving, recovered live: the database, its WAL and -lf are made immutable
 * (`chattr +i`, ext4) under the running server; every write to them then fails with EPERM (SQLite: "disk
 * I/O error", the transaction rolled back). The server must go silent and log it, then, once `chattr -i`
 * makes them writable again, serve again in the same process without a restart or fsck: SQLite's
 * connection stays usable (it was opened read-write; only the writes failed), nothing ACKed before is lost,
 * nothing was ACKed meanwhile, the renewing client keeps its address, the database passes integrity_check
 * and -lf catches up (dhcpd -T accepts it). A plain `mount -o remount,ro` cannot make the database
 * read-only under a running server: Linux refuses it with EBUSY while a file on the mount is open for
 * writing (SQLite keeps the database and WAL open read-write).
 *
 * Read-only database at start: started on a read-only mount, the server must refuse to serve (ISC: log_fatal
 * "Can't open lease database …") rather than hand out leases it cannot store.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, open as openFile, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createTopology, delay, integrationSkipReason, ISC_DHCPD, run, startCapture, udhcpcArgs, waitUntil, type LanInfo, type NsProcess, type Topology } from '../support/netns.js';
import { startRenewingClient } from '../support/reliability-clients.js';
import { HAVE_SERVER, ackedLeases, countLines, macText, recordFigures, serverArgv, type ServerFiles } from '../support/reliability-server.js';
import { topologyPrefix } from '../support/reliability-server.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ipv4FromString } from '../../leases/lease.js';

const skip =
  integrationSkipReason() ??
  (!HAVE_SERVER
    ? 'the server/CLI is not built'
    : !existsSync('/usr/bin/unshare')
      ? 'unshare (util-linux) not installed'
      : !existsSync('/usr/sbin/perfdhcp')
        ? 'perfdhcp not installed'
        : !existsSync('/usr/sbin/dhclient')
          ? 'dhclient not installed'
          : undefined);
/** The forced read-only test also needs loop devices, mkfs.ext4, e2fsck and ext4's error trigger in sysfs. */
const skipRo =
  skip ??
  (!existsSync('/dev/loop-control')
    ? 'no loop devices (/dev/loop-control)'
    : !existsSync('/usr/sbin/mkfs.ext4') || !existsSync('/usr/sbin/e2fsck')
      ? 'e2fsprogs not installed'
      : !/\text4$/m.test(readFileSyncSafe('/proc/filesystems'))
        ? 'the kernel has no ext4'
        : undefined);
function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The renewing client's lease (host-scoped), short so that it renews (T1 = 5-7 s) while the disk is in trouble. */
const RENEW_LEASE_S = 10;
const RENEWER_MAC = '52:54:00:f6:00:10';

const CONF =
  'ddns-update-style none;\nauthoritative;\nping-check false;\ndefault-lease-time 3600;\nmax-lease-time 3600;\n' +
  `host renewer { hardware ethernet ${RENEWER_MAC}; default-lease-time ${RENEW_LEASE_S}; max-lease-time ${RENEW_LEASE_S}; }\n` +
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
    { name: 'ren', mac: RENEWER_MAC },
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

/**
 * Writes `file` until its filesystem (a tmpfs of `sizeKiB`) is full to the last byte; returns the bytes
 * written. Bounded by the tmpfs size, and explicitly.
 */
async function fillUp(file: string, sizeKiB: number): Promise<number> {
  const fh = await openFile(file, 'w');
  let filled = 0;
  const chunk = Buffer.alloc(64 * 1024, 0xa5);
  try {
    while (filled <= (sizeKiB + 1024) * 1024) {
      const { bytesWritten } = await fh.write(chunk);
      filled += bytesWritten;
      if (bytesWritten < chunk.length) break;
    }
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  // The last partial block too (at most one 64 KiB chunk is left).
  for (let i = 0; i < 256; i++) {
    try {
      await fh.write(Buffer.alloc(512));
      filled += 512;
    } catch {
      break;
    }
  }
  await fh.close();
  return filled;
}

/** The path of `file` (inside the server's mount namespace) as seen from here. */
const inside = (p: NsProcess, file: string): string => `/proc/${p.pid}/root${file}`;

/** Copies the server's database (inside its mount namespace) out and opens the copy read-only. */
async function readStoredLeases(p: NsProcess, db: string, dir: string): Promise<ReturnType<typeof openSqliteLeaseStore>> {
  // SQLite resolves symbolic links in a database path (and /proc/PID/root is one), so read a copy.
  const copy = join(dir, `copy-${Date.now()}.sqlite`);
  for (const ext of ['', '-wal', '-shm']) if (existsSync(inside(p, db + ext))) await copyFile(inside(p, db + ext), copy + ext);
  return openSqliteLeaseStore(copy, { readOnly: true });
}

/** The ACKed (address → MAC) pairs that are not an active lease of that MAC in `store`. */
function notStoredIn(store: ReturnType<typeof openSqliteLeaseStore>, acked: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [ip, mac] of acked) {
    const l = store.getByAddress(ipv4FromString(ip)!);
    if (!l || l.bindingState !== 'active' || macText(l.hardware?.address) !== mac) out.push(`${ip} → ${mac} (stored: ${l ? `${l.bindingState} ${macText(l.hardware?.address) ?? '-'}` : 'nothing'})`);
  }
  return out;
}

/** Log lines of a server that say its lease database could not be written. */
const DISK_ERROR = /No space|SQLITE_FULL|database or disk is full|disk I\/O error|readonly database|read-only file system|EROFS|EIO|update failed|ENOSPC|Can't write|unable to commit/i;

/** udhcpc on host `cli` with hardware address `mac`: the address it was given, if any. */
async function udhcpc(mac: string, tries = 3): Promise<string | undefined> {
  await topo.exec('cli', 'ip', ['link', 'set', 'eth0', 'address', mac]);
  const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries, timeoutS: 2 }), { check: false, timeoutMs: 30_000 });
  return /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1];
}

// The reference: ISC dhcpd 4.4.3 on the same kind of full tmpfs, measured rather than read from its source.
// It logs "commit_leases: unable to commit, fflush(): No space left on device" for each commit and still
// ACKs (measured: 199 of 200 perfdhcp clients and udhcpc) leases that are not in dhcpd.leases at that moment
// (stdio keeps them buffered and may write them once space returns). The issue asks more of dhcpd-ts than
// ISC does here: silence. This test only records ISC's behaviour and asserts that it noticed.
test('reference: ISC dhcpd 4.4.3 on a full disk (it logs, and ACKs anyway)', { skip: skip ?? (!existsSync(ISC_DHCPD) ? 'ISC dhcpd not installed' : undefined), timeout: 120_000 }, async (t) => {
  const dir = await topo.tempDir();
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  const conf = join(dir, 'dhcpd.conf');
  await writeFile(conf, CONF);
  const script = `mount -t tmpfs -o size=1024k,mode=0755 rl-disk "${mnt}" && : > "${mnt}/dhcpd.leases" && exec "$@"`;
  const p = topo.spawn(lan.host('srv').ns, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ISC_DHCPD, '-4', '-f', '-d', '-cf', conf, '-lf', join(mnt, 'dhcpd.leases'), '-pf', join(mnt, 'dhcpd.pid'), 'eth0']);
  await p.waitFor('Server starting service.', { timeoutMs: 60_000 });
  const before = await udhcpc('52:54:00:f6:00:31');
  const filled = await fillUp(inside(p, join(mnt, 'filler')), 1024);
  const logBefore = p.output.length;
  const cap = await startCapture(lan.host('prf').ns, 'eth0', 'udp and src port 67', { topology: topo });
  await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '200', '-r', '100', '-n', '200', '-p', '5', '-b', 'mac=00:0c:7a:00:00:00'], { check: false, timeoutMs: 30_000 });
  const iscAcked = ackedLeases(await cap.stop());
  const perfAcks = iscAcked.size;
  const whileFull = await udhcpc('52:54:00:f6:00:32');
  const fullLog = p.output.slice(logBefore);
  await rm(inside(p, join(mnt, 'filler')));
  const afterFree = await udhcpc('52:54:00:f6:00:33', 5);
  // Which of the ACKs given while full reached dhcpd.leases by now (space back, ISC still running).
  await delay(1000);
  const iscFile = await readFile(inside(p, join(mnt, 'dhcpd.leases')), 'latin1').catch(() => '');
  const inFileLater = [...iscAcked.keys()].filter((ip) => iscFile.includes(`lease ${ip} {`)).length;
  const lines = fullLog.split('\n').filter((l) => DISK_ERROR.test(l));
  t.diagnostic(
    await recordFigures('disk-full-isc-reference', {
      fillerBytes: filled,
      clientBefore: before ?? 'none',
      perfdhcpClientsWhileFull: 200,
      perfdhcpAcksWhileFull: perfAcks,
      udhcpcWhileFull: whileFull ?? 'none',
      acksWhileFull: countLines(fullLog, /^DHCPACK/),
      perfdhcpAcksInLeaseFileAfterSpaceReturns: inFileLater,
      naksWhileFull: countLines(fullLog, /^DHCPNAK/),
      errorLines: lines.length,
      clientAfterSpaceReturns: afterFree ?? 'none',
    }),
  );
  t.diagnostic(`ISC while full: ${[...new Set(lines.map((l) => l.replace(/\d+\.\d+\.\d+\.\d+|([0-9a-f]{2}:){5}[0-9a-f]{2}/g, '…')))].slice(0, 4).join(' | ')}`);
  await p.stop('SIGTERM', 10_000);
  assert.ok(before, 'ISC serves while the disk has room');
  assert.ok(lines.length >= 1, `ISC logs it:\n${fullLog.slice(-2000)}`);
});

test('full disk while serving: silence (no ACK, renewals included), loud log, recovery when space returns', { skip, timeout: 180_000 }, async (t) => {
  const dir = await topo.tempDir();
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await writeFile(join(dir, 'dhcpd.conf'), CONF);
  const { p, files } = await startOnTmpfs(mnt, join(dir, 'dhcpd.conf'), 4096, false);
  await p.waitFor('Server starting service.', { timeoutMs: 60_000 });
  assert.ok(await udhcpc('52:54:00:f6:00:01'), 'a client is served while the disk has room');
  const renewer = await startRenewingClient(lan.host('ren'), await topo.tempDir());
  const renewerAddress = await renewer.bound(30_000);

  // Fill the tmpfs to the last byte.
  const filler = inside(p, join(mnt, 'filler'));
  const filled = await fillUp(filler, 4096);
  const logBefore = p.output.length;
  const renewFull = renewer.mark();

  // Clients while the disk is full: a perfdhcp burst (relay, new MACs), udhcpc, and the renewing dhclient's
  // unicast renewal (T1 comes within 7 s of its last ACK; wait for it, bounded).
  const caps = await Promise.all(['prf', 'cli', 'ren'].map((h) => startCapture(lan.host(h).ns, 'eth0', 'udp and src port 67', { topology: topo })));
  const perf = await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '400', '-r', '100', '-n', '400', '-p', '6', '-b', 'mac=00:0c:77:00:00:00'], { check: false, timeoutMs: 30_000 });
  const fullClient = await udhcpc('52:54:00:f6:00:02');
  await renewer.waitAfter(renewFull, /^DHCPREQUEST for \S+ on \S+ to (?!255\.255\.255\.255 )\S+ port 67/m, 30_000);
  await delay(2000); // room for a (wrong) late answer to the renewal
  const renewWhileFull = renewer.span(renewFull);
  const acked = new Map<string, string>();
  for (const c of caps) for (const [ip, mac] of ackedLeases(await c.stop())) acked.set(ip, mac);
  const fullLog = p.output.slice(logBefore);
  const nakLines = countLines(fullLog, /^DHCPNAK/);
  const errorLines = fullLog.split('\n').filter((l) => DISK_ERROR.test(l));
  assert.equal(p.hasExited, false, `the server died on a full disk:\n${p.output.slice(-3000)}`);

  // Space returns.
  await rm(filler);
  const renewBack = renewer.mark();
  const afterClient = await udhcpc('52:54:00:f6:00:03', 5);
  // The renewer's next ACK (renewal, rebinding or, had its lease run out, a new DORA), bounded.
  const back = (await renewer.waitAfter(renewBack, /^DHCPACK of (\S+) from/m, 60_000))[1];

  // Every ACK seen while full is a stored lease to the same client.
  const store = await readStoredLeases(p, files.db, dir);
  let notStored: string[];
  try {
    // The ACKs while full, and the one after recovery (which must have been written too).
    notStored = notStoredIn(store, new Map([...acked, ...(afterClient ? [[afterClient, '52:54:00:f6:00:03'] as const] : [])]));
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
      unicastRenewalsWhileFull: renewWhileFull.unicastRequests,
      renewalAcksWhileFull: renewWhileFull.acks.length,
      naksWhileFull: nakLines,
      loudLogLines: errorLines.length,
      ackedButNotStored: notStored.length,
      clientAfterRecovery: afterClient ?? 'none',
      renewerAfterRecovery: back === renewerAddress ? 'same address' : (back ?? 'none'),
      crashes: p.hasExited ? 1 : 0,
    }),
  );
  t.diagnostic(`log while full: ${errorLines.slice(0, 3).join(' | ') || '(nothing about the disk)'}`);
  assert.ok(filled > 0, 'the tmpfs was filled');
  assert.deepEqual(notStored, [], 'no ACK for a lease that is not in the database');
  // The database can only grow here (fresh WAL, far below its checkpoint size), so no request can be stored.
  assert.equal(acked.size, 0, `no ACK while the disk is full (${[...acked].join(', ')})`);
  assert.equal(fullClient, undefined, 'udhcpc gets no lease while the disk is full');
  assert.equal(renewWhileFull.acks.length, 0, `the unicast renewal is not ACKed while the disk is full: ${JSON.stringify(renewWhileFull)}`);
  assert.ok(renewWhileFull.unicastRequests >= 1, 'the renewing client asked by unicast while the disk was full');
  assert.ok(errorLines.length >= 1, `the server logs that it cannot store leases:\n${fullLog.slice(-2000)}`);
  assert.ok(afterClient, `a client is served again once space returns:\n${p.output.slice(-2000)}`);
  assert.equal(back, renewerAddress, 'the renewing client keeps its address after recovery');
  await renewer.stop();
  await p.stop('SIGTERM', 5000);
});

/**
 * Starts dhcpd-ts with its lease file and database on the ext4 image `img`, loop-mounted on `mnt` with
 * errors=remount-ro in a private mount namespace (the loop device is released when the namespace goes).
 * The loop device's name is printed first (`loopdev=/dev/loopN`).
 */
/**
 * A fresh 32 MiB ext4 image in `dir` (with the test's dhcpd.conf beside it), loop-mounted in the server's own
 * mount namespace, and the server on it serving; undefined (the test skipped) on a machine where loop devices
 * exist but cannot be mounted, which is not what these tests are about.
 */
async function serverOnFreshExt4(t: TestContext, dir: string): Promise<{ p: NsProcess; files: ServerFiles; img: string; mnt: string } | undefined> {
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await writeFile(join(dir, 'dhcpd.conf'), CONF);
  const img = join(dir, 'leases.img');
  const fh = await openFile(img, 'w');
  await fh.truncate(32 * 1024 * 1024);
  await fh.close();
  await run('mkfs.ext4', ['-q', '-F', img], { timeoutMs: 60_000 });
  const { p, files } = startOnExt4(img, mnt, join(dir, 'dhcpd.conf'));
  const up = await p.waitFor(/Server starting service\./, { timeoutMs: 60_000 }).catch((e: unknown) => e as Error);
  if (up instanceof Error && p.hasExited && !/loopdev=/.test(p.output)) {
    t.skip(`cannot loop-mount an ext4 image here: ${p.output.trim().split('\n').slice(-2).join(' ')}`);
    return undefined;
  }
  if (up instanceof Error) throw up;
  return { p, files, img, mnt };
}

function startOnExt4(img: string, mnt: string, conf: string): { p: NsProcess; files: ServerFiles } {
  const files: ServerFiles = { dir: mnt, conf, leases: join(mnt, 'dhcpd.leases'), db: join(mnt, 'dhcpd.leases.sqlite'), pid: join(mnt, 'dhcpd.pid') };
  const argv = [process.execPath, ...serverArgv(files, ['eth0'], ['--no-pid'])];
  const script =
    `mount -o loop,errors=remount-ro "${img}" "${mnt}" && echo "loopdev=$(findmnt -n -o SOURCE "${mnt}")"` +
    ` && { [ -e "${files.leases}" ] || : > "${files.leases}"; } && exec "$@"`;
  const p = topo.spawn(lan.host('srv').ns, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv]);
  return { p, files };
}

/**
 * Mount and superblock options of `mnt` as the process `pid` sees it (its mount namespace). After an ext4
 * error the kernel marks the superblock read-only (Linux 6.x shows it as `emergency_ro`; older kernels `ro`).
 */
async function mountOptions(pid: number, mnt: string): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
  for (const l of text.split('\n')) {
    const [left = '', right = ''] = l.split(' - ');
    const f = left.split(' ');
    if (f[4] === mnt) return [...(f[5] ?? '').split(','), ...(right.split(' ')[2] ?? '').split(',')];
  }
  return undefined;
}

test('filesystem forced read-only under the running server: silence, loud log, nothing lost after fsck and restart', { skip: skipRo, timeout: 240_000 }, async (t) => {
  const dir = await topo.tempDir();
  const started = await serverOnFreshExt4(t, dir);
  if (started === undefined) return;
  const { img, mnt } = started;
  let { p, files } = started;
  // Whatever fails below, no server of this test outlives it (a leftover would answer the next test's clients).
  t.after(() => p.stop('SIGTERM', 5000).then(() => undefined));
  const loopdev = /loopdev=(\/dev\/loop\d+)/.exec(p.output)?.[1];
  assert.ok(loopdev, `the image is loop-mounted:\n${p.output}`);
  const trigger = `/sys/fs/ext4/${basename(loopdev)}/trigger_fs_error`;
  if (!existsSync(trigger)) {
    await p.stop('SIGTERM', 5000);
    t.skip(`${trigger} does not exist (kernel without ext4 error injection)`);
    return;
  }

  // Before the fault: a perfdhcp burst, udhcpc and the renewing dhclient, all served and stored.
  const capBefore = await startCapture(lan.host('prf').ns, 'eth0', 'udp and src port 67', { topology: topo });
  await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '50', '-r', '50', '-n', '50', '-p', '4', '-b', 'mac=00:0c:78:00:00:00'], { check: false, timeoutMs: 30_000 });
  const ackedBefore = ackedLeases(await capBefore.stop());
  const clientBefore = await udhcpc('52:54:00:f6:00:21');
  assert.ok(clientBefore, 'udhcpc is served before the fault');
  ackedBefore.set(clientBefore, '52:54:00:f6:00:21');
  const renewer = await startRenewingClient(lan.host('ren'), await topo.tempDir());
  t.after(() => renewer.stop());
  const renewerAddress = await renewer.bound(30_000);
  assert.ok(ackedBefore.size >= 10, `clients were served before the fault (${ackedBefore.size})`);

  // The fault: ext4 records an error and, with errors=remount-ro, the kernel makes the mount read-only.
  const logBefore = p.output.length;
  await writeFile(trigger, 'rl-disk: simulated disk fault\n');
  const ro = await waitUntil(async () => ((await mountOptions(p.pid, mnt))?.some((o) => o === 'ro' || o === 'emergency_ro') ? true : undefined), { timeoutMs: 10_000, what: 'the kernel remounting the image read-only' });
  const renewFault = renewer.mark();
  const caps = await Promise.all(['prf', 'cli', 'ren'].map((h) => startCapture(lan.host(h).ns, 'eth0', 'udp and src port 67', { topology: topo })));
  await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '200', '-r', '100', '-n', '200', '-p', '4', '-b', 'mac=00:0c:79:00:00:00'], { check: false, timeoutMs: 30_000 });
  const faultClient = await udhcpc('52:54:00:f6:00:22');
  await renewer.waitAfter(renewFault, /^DHCPREQUEST for \S+ on \S+ to (?!255\.255\.255\.255 )\S+ port 67/m, 30_000);
  await delay(2000);
  const renewWhileRo = renewer.span(renewFault);
  const ackedWhileRo = new Map<string, string>();
  for (const c of caps) for (const [ip, mac] of ackedLeases(await c.stop())) ackedWhileRo.set(ip, mac);
  const faultLog = p.output.slice(logBefore);
  const errorLines = faultLog.split('\n').filter((l) => DISK_ERROR.test(l));
  const upWhileRo = !p.hasExited;

  // Recovery as an administrator does it: stop the server, e2fsck, mount again, start it.
  const stopped = await p.stop('SIGTERM', 10_000);
  const shutdownLog = p.output.slice(logBefore + faultLog.length);
  // The mount goes with the mount namespace; the loop device is released after it (autoclear), bounded.
  await waitUntil(async () => ((await run('losetup', ['-j', img], { check: false })).stdout.trim() === '' ? true : undefined), { timeoutMs: 15_000, what: 'the loop device to be released' });
  const fsck = await run('e2fsck', ['-f', '-y', img], { check: false, timeoutMs: 60_000 });
  ({ p, files } = startOnExt4(img, mnt, join(dir, 'dhcpd.conf')));
  await p.waitFor('Server starting service.', { timeoutMs: 60_000 });
  const renewBack = renewer.mark();
  const back = (await renewer.waitAfter(renewBack, /^DHCPACK of (\S+) from/m, 60_000))[1];
  const clientAfter = await udhcpc('52:54:00:f6:00:23', 5);

  // What the restart said about its files (an -lf that lost its unsynced tail in the fault must not be
  // taken for an administrator's edit and imported over the database).
  const restartLines = p.output.split('\n').filter((l) => /import|lease file|database|corrupt|malformed/i.test(l)).slice(0, 6);
  const store = await readStoredLeases(p, files.db, dir);
  let lostBefore: string[];
  let unstoredWhileRo: string[];
  try {
    lostBefore = notStoredIn(store, ackedBefore);
    unstoredWhileRo = notStoredIn(store, new Map([...ackedWhileRo, ...(clientAfter ? [[clientAfter, '52:54:00:f6:00:23'] as const] : [])]));
  } finally {
    store.close();
  }
  t.diagnostic(
    await recordFigures('disk-readonly-while-serving', {
      remountedRo: ro,
      acksBeforeFault: ackedBefore.size,
      acksWhileReadOnly: ackedWhileRo.size,
      udhcpcWhileReadOnly: faultClient ?? 'none',
      unicastRenewalsWhileReadOnly: renewWhileRo.unicastRequests,
      renewalAcksWhileReadOnly: renewWhileRo.acks.length,
      loudLogLines: errorLines.length,
      serverUpWhileReadOnly: upWhileRo,
      shutdownExit: `${stopped.code ?? stopped.signal}`,
      e2fsckStatus: fsck.code ?? -1,
      leasesLost: lostBefore.length,
      ackedButNotStored: unstoredWhileRo.length,
      renewerAfterRestart: back === renewerAddress ? 'same address' : (back ?? 'none'),
      clientAfterRestart: clientAfter ?? 'none',
      restartReimportedLf: restartLines.some((l) => /changed since|Imported/.test(l)),
    }),
  );
  t.diagnostic(`restart: ${restartLines.join(' | ')}`);
  t.diagnostic(`log while read-only: ${errorLines.slice(0, 3).join(' | ') || '(nothing about the disk)'}; at shutdown: ${shutdownLog.split('\n').filter((l) => l.trim()).slice(-3).join(' | ')}`);
  assert.ok(upWhileRo, `the server stays up on a read-only database:\n${faultLog.slice(-3000)}`);
  assert.equal(ackedWhileRo.size, 0, `no ACK while the database is read-only (${[...ackedWhileRo].join(', ')})`);
  assert.equal(faultClient, undefined, 'udhcpc gets no lease while the database is read-only');
  assert.ok(renewWhileRo.unicastRequests >= 1, 'the renewing client asked by unicast while the database was read-only');
  assert.equal(renewWhileRo.acks.length, 0, `the unicast renewal is not ACKed while read-only: ${JSON.stringify(renewWhileRo)}`);
  assert.ok(errorLines.length >= 1, `the server logs that it cannot store leases:\n${faultLog.slice(-2000)}`);
  assert.doesNotMatch(p.output + faultLog + shutdownLog, /internal error/, 'no crash (uncaught exception) on the read-only database or at shutdown');
  assert.ok(fsck.code !== null && fsck.code <= 1, `e2fsck repaired the image (status ${fsck.code}):\n${fsck.stdout}${fsck.stderr}`);
  assert.deepEqual(lostBefore, [], `every lease ACKed before the fault survives it; the restart said: ${restartLines.join(' | ')}`);
  assert.equal(back, renewerAddress, 'the renewing client gets its own address back after the restart');
  assert.ok(clientAfter, `a new client is served after the restart:\n${p.output.slice(-2000)}`);
  await renewer.stop();
  await p.stop('SIGTERM', 5000);
});

/**
 * Runs `chattr` on `files` (inside the server's mount namespace, through /proc/PID/root); returns its
 * result (status, output).
 */
async function chattr(p: NsProcess, flag: '+i' | '-i', files: readonly string[]): Promise<{ code: number | null; out: string }> {
  const r = await run('chattr', [flag, ...files.map((f) => inside(p, f))], { check: false, timeoutMs: 10_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

test('read-only database while serving (chattr +i): silence, loud log, live recovery without a restart once writable again', { skip: skipRo ?? (!existsSync('/usr/bin/chattr') ? 'chattr (e2fsprogs) not installed' : undefined), timeout: 180_000 }, async (t) => {
  const dir = await topo.tempDir();
  const started = await serverOnFreshExt4(t, dir);
  if (started === undefined) return;
  const { p, files } = started;
  const locked = [files.db, `${files.db}-wal`, files.leases];
  let unlocked = false;
  try {
    // Before: clients served and stored.
    const capBefore = await startCapture(lan.host('prf').ns, 'eth0', 'udp and src port 67', { topology: topo });
    await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '50', '-r', '50', '-n', '50', '-p', '4', '-b', 'mac=00:0c:7b:00:00:00'], { check: false, timeoutMs: 30_000 });
    const ackedBefore = ackedLeases(await capBefore.stop());
    const clientBefore = await udhcpc('52:54:00:f6:00:41');
    assert.ok(clientBefore, 'udhcpc is served before the database is made read-only');
    ackedBefore.set(clientBefore, '52:54:00:f6:00:41');
    const renewer = await startRenewingClient(lan.host('ren'), await topo.tempDir());
    try {
      const renewerAddress = await renewer.bound(30_000);
      assert.ok(ackedBefore.size >= 10, `clients were served before (${ackedBefore.size})`);

      // The database, its WAL and -lf become immutable: every write to them fails with EPERM (SQLite:
      // SQLITE_IOERR_WRITE "disk I/O error"), as for a database an administrator made read-only.
      const lock = await chattr(p, '+i', locked);
      assert.equal(lock.code, 0, `chattr +i: ${lock.out}`);
      const logBefore = p.output.length;
      const renewRo = renewer.mark();
      const caps = await Promise.all(['prf', 'cli', 'ren'].map((h) => startCapture(lan.host(h).ns, 'eth0', 'udp and src port 67', { topology: topo })));
      await lan.host('prf').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '200', '-r', '100', '-n', '200', '-p', '4', '-b', 'mac=00:0c:7c:00:00:00'], { check: false, timeoutMs: 30_000 });
      const roClient = await udhcpc('52:54:00:f6:00:42');
      await renewer.waitAfter(renewRo, /^DHCPREQUEST for \S+ on \S+ to (?!255\.255\.255\.255 )\S+ port 67/m, 30_000);
      await delay(2000);
      const renewWhileRo = renewer.span(renewRo);
      const ackedWhileRo = new Map<string, string>();
      for (const c of caps) for (const [ip, mac] of ackedLeases(await c.stop())) ackedWhileRo.set(ip, mac);
      const roLog = p.output.slice(logBefore);
      const errorLines = roLog.split('\n').filter((l) => DISK_ERROR.test(l));
      const upWhileRo = !p.hasExited;

      // Writable again: no restart, no fsck.
      const unlock = await chattr(p, '-i', locked);
      unlocked = unlock.code === 0;
      assert.ok(unlocked, `chattr -i: ${unlock.out}`);
      const recoveredAt = Date.now();
      const renewBack = renewer.mark();
      const clientAfter = await udhcpc('52:54:00:f6:00:43', 5);
      const back = (await renewer.waitAfter(renewBack, /^DHCPACK of (\S+) from/m, 60_000))[1];
      const recoveryMs = Date.now() - recoveredAt;
      // -lf catches up too (its failed writes are retried with a whole rewrite), and dhcpd -T accepts it.
      let lfHasAfter = false;
      for (const end = Date.now() + 20_000; !lfHasAfter && Date.now() < end; await delay(200)) {
        lfHasAfter = clientAfter !== undefined && (await readFile(inside(p, files.leases), 'latin1').catch(() => '')).includes(`lease ${clientAfter} {`);
      }
      const store = await readStoredLeases(p, files.db, dir);
      let lost: string[];
      let unstored: string[];
      let integrity: unknown;
      try {
        lost = notStoredIn(store, ackedBefore);
        unstored = notStoredIn(store, new Map([...ackedWhileRo, ...(clientAfter ? [[clientAfter, '52:54:00:f6:00:43'] as const] : [])]));
      } finally {
        store.close();
      }
      {
        const copy = join(dir, `integrity-${Date.now()}.sqlite`);
        for (const ext of ['', '-wal']) if (existsSync(inside(p, files.db + ext))) await copyFile(inside(p, files.db + ext), copy + ext);
        const raw = openSqliteLeaseStore(copy, { readOnly: true, integrityCheck: true });
        integrity = 'ok';
        raw.close();
      }
      let lfCheck = 'not run';
      if (existsSync(ISC_DHCPD)) {
        const lfCopy = join(dir, 'lf-after.leases');
        await copyFile(inside(p, files.leases), lfCopy);
        const r = await run(ISC_DHCPD, ['-4', '-T', '-lf', lfCopy, '-cf', join(dir, 'dhcpd.conf'), '-pf', join(dir, 'check.pid')], { check: false, timeoutMs: 20_000 });
        lfCheck = r.code === 0 && !/ line \d+:|orrupt lease file/.test(r.stdout + r.stderr) ? 'ok' : `status ${r.code}: ${(r.stdout + r.stderr).slice(-300)}`;
      }
      t.diagnostic(
        await recordFigures('disk-readonly-live-recovery', {
          acksBefore: ackedBefore.size,
          acksWhileReadOnly: ackedWhileRo.size,
          udhcpcWhileReadOnly: roClient ?? 'none',
          unicastRenewalsWhileReadOnly: renewWhileRo.unicastRequests,
          renewalAcksWhileReadOnly: renewWhileRo.acks.length,
          loudLogLines: errorLines.length,
          serverUpWhileReadOnly: upWhileRo,
          restarted: false,
          recoveryMs,
          leasesLost: lost.length,
          ackedButNotStored: unstored.length,
          renewerAfterRecovery: back === renewerAddress ? 'same address' : (back ?? 'none'),
          clientAfterRecovery: clientAfter ?? 'none',
          lfHasNewLease: lfHasAfter,
          lfDhcpdT: lfCheck,
        }),
      );
      const kinds = new Map<string, number>();
      for (const l of errorLines) {
        const k = l.replace(/\d+\.\d+\.\d+\.\d+|([0-9a-f]{2}:){5}[0-9a-f]{2}|\/\S+|\d+/g, '…').slice(0, 120);
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      t.diagnostic(`log while read-only, by kind: ${[...kinds].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `${n}× ${k}`).join(' | ') || '(nothing about the disk)'}`);
      assert.ok(upWhileRo, `the server stays up on a read-only database:\n${roLog.slice(-3000)}`);
      assert.equal(ackedWhileRo.size, 0, `no ACK while the database is read-only (${[...ackedWhileRo].join(', ')})`);
      assert.equal(roClient, undefined, 'udhcpc gets no lease while the database is read-only');
      assert.ok(renewWhileRo.unicastRequests >= 1, 'the renewing client asked by unicast while the database was read-only');
      assert.equal(renewWhileRo.acks.length, 0, `the unicast renewal is not ACKed while read-only: ${JSON.stringify(renewWhileRo)}`);
      assert.ok(errorLines.length >= 1, `the server logs that it cannot store leases:\n${roLog.slice(-2000)}`);
      assert.doesNotMatch(p.output, /internal error/, 'no uncaught exception');
      assert.equal(p.hasExited, false, 'the same process serves after recovery (no restart)');
      assert.deepEqual(lost, [], 'every lease ACKed before is still stored');
      assert.deepEqual(unstored, [], 'every ACK (while read-only: none; after) is a stored lease');
      assert.equal(integrity, 'ok');
      assert.ok(clientAfter, `a new client is served once the database is writable again:\n${p.output.slice(-2000)}`);
      assert.equal(back, renewerAddress, 'the renewing client keeps its address');
      assert.ok(lfHasAfter, '-lf catches up with the database after recovery');
      if (lfCheck !== 'not run') assert.equal(lfCheck, 'ok', 'dhcpd -T accepts -lf after recovery');
    } finally {
      await renewer.stop();
    }
  } finally {
    if (!unlocked) await chattr(p, '-i', locked); // or the image's files stay immutable (rm -rf fails)
    await p.stop('SIGTERM', 10_000);
  }
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
