/**
 * Privileges (issue 8, item 6): dhcpd-ts started as root with `-user nobody -group nogroup` (ISC's PARANOIA
 * flags, as Debian builds dhcpd) must, once serving:
 * - run as that user and group (real, effective, saved and filesystem ids; no supplementary groups, as
 *   ISC) with no capabilities left (CapEff/CapPrm 0: the sockets are bound before the drop);
 * - still store leases (a client gets one AFTER the drop, and it is in the database), which means the files
 *   it writes belong to the user it runs as, as ISC chowns its lease file to -user;
 * - leave no lease, database or pid file writable by group or others, even when started with umask 000
 *   (a daemon must not rely on the umask of whoever starts it);
 * - keep what it needs after the drop: replies that go out through its packet socket (udhcpc asks for
 *   link-layer unicast) and ping-check, whose raw ICMP socket must be opened before the drop as ISC does
 *   (icmp_startup before the setuid): a squatter on the first address is still found as nobody.
 * The same is measured on ISC dhcpd 4.4.3 with the same flags and umask, as the reference.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createTopology, delay, integrationSkipReason, ISC_DHCPD, startCapture, udhcpcArgs, type LanInfo, type Topology } from '../support/netns.js';
import { HAVE_SERVER, procStatus, recordFigures, serverFiles, startServer, dhcpdArgs, type ServerFiles } from '../support/reliability-server.js';
import { topologyPrefix } from '../support/reliability-server.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ipv4FromString } from '../../leases/lease.js';
import { chmod, readFile } from 'node:fs/promises';

function idOf(kind: 'passwd' | 'group', name: string): number | undefined {
  try {
    return Number(execFileSync('getent', [kind, name], { encoding: 'utf8' }).split(':')[2]);
  } catch {
    return undefined;
  }
}
const NOBODY = idOf('passwd', 'nobody');
const NOGROUP = idOf('group', 'nogroup');
const skip =
  integrationSkipReason() ?? (!HAVE_SERVER ? 'the server/CLI is not built' : NOBODY === undefined || NOGROUP === undefined ? 'no nobody/nogroup' : undefined);

const CONF =
  'ddns-update-style none;\nauthoritative;\nping-check false;\ndefault-lease-time 600;\n' +
  'subnet 10.244.0.0 netmask 255.255.255.0 {\n  range 10.244.0.50 10.244.0.90;\n}\n';

/** ping-check on (ISC's default), and a squatter answers ping on the first address of the range. */
const PING_CONF =
  'ddns-update-style none;\nauthoritative;\nping-check true;\ndefault-lease-time 600;\n' +
  'subnet 10.244.0.0 netmask 255.255.255.0 {\n  range 10.244.0.100 10.244.0.101;\n}\n';
const SQUATTED = '10.244.0.100';

/** Runs argv with umask 000 (exec keeps the PID: `ip netns exec` → sh → the server). */
const umask000 = (argv: readonly string[]): [string, string[]] => ['sh', ['-c', 'umask 000; exec "$@"', 'sh', ...argv]];

let topo: Topology;
let lan: LanInfo;

before(async () => {
  if (skip) return;
  topo = await createTopology(topologyPrefix('priv'));
  lan = await topo.lan('lan', [
    { name: 'srv', address: '10.244.0.1/24' },
    { name: 'cli', mac: '52:54:00:f4:00:01' },
    { name: 'cli2', mac: '52:54:00:f4:00:02' },
    { name: 'squat', address: `${SQUATTED}/24` },
  ]);
});

after(async () => {
  if (skip) return;
  await topo?.destroy();
});

/** Mode, owner and group of every file in `dir` (name → "0644 uid:gid"). */
function filesIn(dir: string): Record<string, { mode: number; uid: number; gid: number }> {
  const out: Record<string, { mode: number; uid: number; gid: number }> = {};
  for (const f of readdirSync(dir)) {
    const s = statSync(join(dir, f));
    out[f] = { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  }
  return out;
}
const show = (m: Record<string, { mode: number; uid: number; gid: number }>): string =>
  Object.entries(m)
    .map(([f, s]) => `${f} ${s.mode.toString(8).padStart(4, '0')} ${s.uid}:${s.gid}`)
    .join(', ');

/** A fresh directory like /var/lib/dhcp: root-owned, 0755. */
async function stateDir(): Promise<string> {
  const d = await topo.tempDir();
  await chmod(d, 0o755);
  return d;
}

let iscFiles: string | undefined;
let iscStatus: ReturnType<typeof procStatus>;

test('reference: ISC dhcpd 4.4.3 with -user nobody -group nogroup', { skip: skip ?? (!existsSync(ISC_DHCPD) ? 'ISC dhcpd not installed' : undefined), timeout: 150_000 }, async (t) => {
  const f = await serverFiles(await stateDir(), CONF);
  const [cmd, args] = umask000([ISC_DHCPD, ...dhcpdArgs(f, ['eth0'], ['-user', 'nobody', '-group', 'nogroup'])]);
  const p = topo.spawn(lan.host('srv').ns, cmd, args);
  await p.waitFor('Server starting service.', { timeoutMs: 60_000 });
  await delay(300);
  iscStatus = procStatus(p.pid);
  const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 8, timeoutS: 2 }), { check: false, timeoutMs: 40_000 });
  await p.stop('SIGTERM', 10_000);
  iscFiles = show(filesIn(f.dir));
  t.diagnostic(
    `ISC (umask 000): Uid ${iscStatus?.uid.join(' ')} Gid ${iscStatus?.gid.join(' ')} Groups ${iscStatus?.groups.join(' ')} CapEff ${iscStatus?.capEff} CapPrm ${iscStatus?.capPrm} ` +
      `CapInh ${iscStatus?.capInh} CapBnd ${iscStatus?.capBnd} CapAmb ${iscStatus?.capAmb} NoNewPrivs ${iscStatus?.noNewPrivs}; files: ${iscFiles}; client: ${/lease of \S+ obtained/.exec(r.stdout + r.stderr)?.[0] ?? 'no lease'}`,
  );
  assert.ok(iscStatus);
  assert.deepEqual(iscStatus.uid, [NOBODY, NOBODY, NOBODY, NOBODY]);
});

describe_dhcpd_ts();

function describe_dhcpd_ts(): void {
  let f: ServerFiles;
  let status: ReturnType<typeof procStatus>;
  let leased: string | undefined;
  let files: Record<string, { mode: number; uid: number; gid: number }> = {};
  let output = '';
  let lfWhileRunning = '';
  let replies: string[] = [];

  test('dhcpd-ts with -user nobody -group nogroup: serves, then runs as nobody:nogroup with no capabilities', { skip, timeout: 180_000 }, async (t) => {
    f = await serverFiles(await stateDir(), CONF);
    const p = await startServer(topo, lan.host('srv').ns, f, ['eth0'], { extra: ['-user', 'nobody', '-group', 'nogroup'], wrap: umask000, timeoutMs: 60_000 });
    // The ids are changed before "Server starting service." is printed; the pause only lets it settle.
    await delay(300);
    status = procStatus(p.pid);
    // udhcpc asks for unicast replies (no broadcast flag, no ciaddr): RFC 2131 §4.1 says to the yiaddr at the
    // chaddr, which goes out through the packet socket opened before the drop (no CAP_NET_RAW needed after).
    const cap = await startCapture(lan.host('cli').ns, 'eth0', 'udp and src port 67', { topology: topo });
    const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 8, timeoutS: 2 }), { check: false, timeoutMs: 40_000 });
    leased = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1];
    replies = await cap.stop();
    files = filesIn(f.dir);
    // The -lf mirror appends within 1 s of a commit (debounce): wait for the record, bounded (a busy machine
    // can be late), then keep what the file holds while running.
    const record = leased ? `lease ${leased} {` : undefined;
    const deadline = Date.now() + 20_000;
    do {
      await delay(250);
      lfWhileRunning = await readFile(f.leases, 'latin1');
    } while (record !== undefined && !lfWhileRunning.includes(record) && Date.now() < deadline);
    await p.stop('SIGTERM', 10_000);
    output = p.output;
    t.diagnostic(output.split('\n').filter((l) => /rror|EACCES|denied|fail/i.test(l)).join(' | ') || 'no error lines');
    t.diagnostic(
      await recordFigures('privileges', {
        uid: status?.uid.join(' ') ?? '',
        gid: status?.gid.join(' ') ?? '',
        groups: status?.groups.join(' ') ?? '',
        capEff: status?.capEff ?? '',
        capPrm: status?.capPrm ?? '',
        capInh: status?.capInh ?? '',
        capAmb: status?.capAmb ?? '',
        capBnd: status?.capBnd ?? '',
        iscCapBnd: iscStatus?.capBnd ?? '',
        files: show(files),
        iscFiles: iscFiles ?? '',
        iscCapEff: iscStatus?.capEff ?? '',
        clientLease: leased ?? 'none',
      }),
    );
    assert.ok(status, 'the server runs');
    assert.deepEqual(status.uid, [NOBODY, NOBODY, NOBODY, NOBODY], 'Uid: real effective saved fs');
    assert.deepEqual(status.gid, [NOGROUP, NOGROUP, NOGROUP, NOGROUP], 'Gid');
    // Supplementary groups: none at all, as ISC 4.4.3 (setgroups(0, NULL) before setgid); never root's.
    assert.deepEqual(status.groups, [], `supplementary groups ${status.groups.join(' ')}`);
    assert.equal(BigInt(`0x${status.capEff}`), 0n, `CapEff ${status.capEff}`);
    assert.equal(BigInt(`0x${status.capPrm}`), 0n, `CapPrm ${status.capPrm}`);
    // Nothing to pass on to a program it runs (`execute`, on commit/expiry statements) either.
    assert.equal(BigInt(`0x${status.capInh}`), 0n, `CapInh ${status.capInh}`);
    assert.equal(BigInt(`0x${status.capAmb}`), 0n, `CapAmb ${status.capAmb}`);
    // The bounding set only limits what an exec'd set-uid/file-capability program could gain; ISC leaves it
    // as it found it, and so does dhcpd-ts: the same set as ISC's when both ran.
    if (iscStatus) assert.equal(status.capBnd, iscStatus.capBnd, 'CapBnd as ISC');
  });

  test('as nobody with no capabilities, the server still sends link-layer unicast replies (its packet socket)', { skip }, () => {
    assert.ok(leased, 'the client got a lease');
    const acks = replies.filter((l) => /DHCP-Message[^:]*: ACK/.test(l));
    assert.ok(acks.length >= 1, `no ACK captured at the client: ${replies.join('\n')}`);
    // tcpdump -e: "SRC-MAC > DST-MAC, ethertype IPv4 …, SRC.67 > DST.68:"
    const unicast = acks.filter((l) => l.includes('> 52:54:00:f4:00:01,') && l.includes(`> ${leased}.68:`));
    assert.ok(unicast.length >= 1, `the ACK was not sent to ${leased} at 52:54:00:f4:00:01: ${acks.join('\n')}`);
  });

  test('started with umask 000, no lease, database, pid or socket file is writable by group or others', { skip }, () => {
    assert.ok(Object.keys(files).length >= 3, `files: ${show(files)}`);
    for (const [name, s] of Object.entries(files)) assert.equal(s.mode & 0o022, 0, `${name} mode ${s.mode.toString(8)}`);
  });

  test('after dropping privileges the server still stores leases (a client gets one, and it is in the database)', { skip }, () => {
    assert.ok(leased, `no lease for the client after the drop; server output:\n${output.slice(-2500)}\nfiles: ${show(files)}`);
    const store = openSqliteLeaseStore(f.db, { readOnly: true });
    try {
      const l = store.getByAddress(ipv4FromString(leased)!);
      assert.equal(l?.bindingState, 'active');
    } finally {
      store.close();
    }
    assert.doesNotMatch(output, /Lease database update failed|readonly database|SQLITE_READONLY/i);
  });

  // ISC chowns its lease file to -user (dhcpd.leases above is 65534:65534); so does dhcpd-ts since 702ff16
  // (it failed with EACCES after the drop before: found by this test).
  test('running as -user, the server keeps its ISC lease file (-lf) current: the new lease is in it, no EACCES', { skip }, () => {
    assert.ok(leased);
    assert.match(lfWhileRunning, new RegExp(`lease ${leased.replace(/\./g, '\\.')} \\{`), 'the lease given after the drop is in -lf');
    assert.doesNotMatch(output, /EACCES|permission denied/i);
  });
}

test('after dropping privileges ping-check still works (raw ICMP socket opened before the drop, as ISC)', { skip, timeout: 120_000 }, async (t) => {
  const f = await serverFiles(await stateDir(), PING_CONF);
  const p = await startServer(topo, lan.host('srv').ns, f, ['eth0'], { extra: ['-user', 'nobody', '-group', 'nogroup'], timeoutMs: 60_000 });
  try {
    const r = await lan.host('cli2').exec('udhcpc', udhcpcArgs('eth0', { tries: 6, timeoutS: 3 }), { check: false, timeoutMs: 60_000 });
    const leased = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1];
    t.diagnostic(`client: ${leased ?? 'no lease'}; server: ${p.output.split('\n').filter((l) => /Abandon|ping|ICMP|EPERM|DHCPOFFER/i.test(l)).join(' | ')}`);
    assert.equal(procStatus(p.pid)?.uid[1], NOBODY, 'the server runs as nobody');
    assert.match(p.output, new RegExp(`Abandoning IP address ${SQUATTED.replace(/\./g, '\\.')}: pinged before offer`), 'the squatter answered the ping');
    assert.notEqual(leased, SQUATTED, 'the squatted address is not leased');
    assert.equal(leased, '10.244.0.101');
  } finally {
    await p.stop('SIGTERM', 10_000);
  }
});
