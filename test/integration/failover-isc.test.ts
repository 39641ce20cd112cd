/**
 * Interop with a REAL ISC dhcpd 4.4.3 as failover partner (FAILOVER.md §10.1 Recipe A): one private network
 * namespace created by this test; failover TCP over its loopback (127.0.0.1 ↔ 127.0.0.2); a throw-away veth
 * gives dhcpd an interface. The dhcpd-ts side is test/failover/fo-peer-harness.ts (src/failover's link,
 * state machine and lease side over an in-memory store).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNamespace, deleteNamespace, exec, integrationSkipReason, spawn, type NsProcess } from '../support/netns.js';
import { encodeFields } from '../../src/failover/codec.js';
import { FTM } from '../../src/failover/messages.js';

const skip = integrationSkipReason();
const NS = 'fot-isc';
const here = dirname(fileURLToPath(import.meta.url));
const isTs = import.meta.url.endsWith('.ts');
const harness = resolve(here, '..', 'failover', isTs ? 'fo-peer-harness.ts' : 'fo-peer-harness.js');
const repoRoot = isTs ? resolve(here, '..', '..') : resolve(here, '..', '..', '..');

const ISC_PRIMARY = `ddns-update-style none;
authoritative;
default-lease-time 7200;
max-lease-time 14400;
failover peer "fo-lo" {
  primary;
  address 127.0.0.1; port 10647;
  peer address 127.0.0.2; peer port 10648;
  max-response-delay 30;
  max-unacked-updates 10;
  mclt 1800;
  split 128;
  load balance max seconds 3;
}
subnet 10.77.0.0 netmask 255.255.255.0 {
  pool {
    failover peer "fo-lo";
    range 10.77.0.100 10.77.0.119;
  }
}
`;
const ISC_SECONDARY = ISC_PRIMARY.replace('primary;', 'secondary;')
  .replace('address 127.0.0.1; port 10647;', 'address 127.0.0.2; port 10648;')
  .replace('peer address 127.0.0.2; peer port 10648;', 'peer address 127.0.0.1; peer port 10647;')
  .replace('  mclt 1800;\n  split 128;\n', '');

let dir = '';
const procs: NsProcess[] = [];

async function startIsc(
  role: 'primary' | 'secondary',
  options: { mclt?: number; keepLeases?: boolean } = {},
): Promise<{ proc: NsProcess; leases: string }> {
  const conf = join(dir, `isc-${role}.conf`);
  const leases = join(dir, `isc-${role}.leases`);
  let text = role === 'primary' ? ISC_PRIMARY : ISC_SECONDARY;
  if (options.mclt !== undefined) text = text.replace('mclt 1800;', `mclt ${options.mclt};`);
  await writeFile(conf, text);
  if (!options.keepLeases) await writeFile(leases, '');
  const port = role === 'primary' ? '10067' : '10167';
  const proc = spawn(NS, '/usr/sbin/dhcpd', ['-4', '-f', '-d', '-p', port, '-cf', conf, '-lf', leases, '-pf', join(dir, `isc-${role}.pid`), 's0']);
  procs.push(proc);
  await proc.waitFor('Server starting service.', { timeoutMs: 10_000 });
  return { proc, leases };
}

interface Harness {
  proc: NsProcess;
  send(line: string): void;
}

async function startHarness(role: 'primary' | 'secondary', extra: Record<string, unknown> = {}, stateFile = join(dir, `ts-${role}.json`)): Promise<Harness> {
  const cfg = {
    name: 'fo-lo',
    role,
    address: role === 'primary' ? '127.0.0.1' : '127.0.0.2',
    port: role === 'primary' ? 10647 : 10648,
    peerAddress: role === 'primary' ? '127.0.0.2' : '127.0.0.1',
    peerPort: role === 'primary' ? 10648 : 10647,
    maxResponseDelay: 30,
    maxUnackedUpdates: 10,
    mclt: 1800,
    split: 128,
    loadBalanceMaxSeconds: 3,
    poolFrom: '10.77.0.100',
    poolTo: '10.77.0.119',
    label: '10.77.0.0/24',
    stateFile,
    ...extra,
  };
  const file = join(dir, `ts-${role}-${Date.now()}.conf.json`);
  await writeFile(file, JSON.stringify(cfg));
  const args = isTs ? ['--import', 'tsx', harness, file] : [harness, file];
  const proc = spawn(NS, process.execPath, args, { stdin: true, cwd: repoRoot });
  procs.push(proc);
  await proc.waitFor('harness ready', { timeoutMs: 15_000 });
  return { proc, send: (line) => proc.child.stdin?.write(`${line}\n`) };
}

async function stopAll(): Promise<void> {
  while (procs.length) await procs.pop()!.stop('SIGTERM', 2000);
}

const NORMAL = [
  'failover peer fo-lo: I move from recover-done to normal',
  'failover peer fo-lo: peer moves from recover-done to normal',
  'failover peer fo-lo: Both servers normal',
];

describe('failover interop with ISC dhcpd 4.4.3', { skip }, () => {
  before(async () => {
    await deleteNamespace(NS);
    dir = await mkdtemp(join(tmpdir(), 'fot-isc-'));
    await createNamespace(NS);
    await exec(NS, 'ip', ['link', 'add', 's0', 'type', 'veth', 'peer', 'name', 'c0']);
    await exec(NS, 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', 's0']);
    await exec(NS, 'ip', ['link', 'set', 's0', 'up']);
    await exec(NS, 'ip', ['link', 'set', 'c0', 'up']);
  });
  after(async () => {
    await stopAll();
    await deleteNamespace(NS);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('dhcpd-ts primary + ISC secondary: normal, pool balance, MCLT binding stored by ISC, restart', { timeout: 60_000 }, async () => {
    try {
      const isc = await startIsc('secondary');
      const ts = await startHarness('primary');
      for (const line of NORMAL) {
        await isc.proc.waitFor(line, { timeoutMs: 8000 });
        await ts.proc.waitFor(line, { timeoutMs: 8000 });
      }
      // ISC accepted our 10 pool-balance BNDUPD(backup)s and wrote them to its lease file.
      await ts.proc.waitFor('balanced pool pool0 10.77.0.0/24  total 20  free 10  backup 10  lts 0  max-misbal 3', { timeoutMs: 2000 });
      await isc.proc.waitFor(/balanced pool \S+ 10\.77\.0\.0\/24  total 20  free 10  backup 10  lts -10|balancing pool \S+ 10\.77\.0\.0\/24  total 20  free 20  backup 0  lts -10/, { timeoutMs: 5000 }).catch(() => undefined);
      // What the DHCP engine does on a first DHCPACK: MCLT, potential expiry now + 7200 + 900.
      ts.send('bind 10.77.0.110 02:00:00:77:00:50 7200');
      const m = await ts.proc.waitFor(/granted 10\.77\.0\.110 (\d+) (\d+)/, { timeoutMs: 3000, stream: 'stdout' });
      assert.equal(m[1], '1800');
      const tstp = Number(m[2]);
      // ISC acks within ~2 s and writes the binding with our ends and tsfp = our potential expiry.
      let text = '';
      for (let i = 0; i < 60; i++) {
        text = await readFile(isc.leases, 'utf8');
        if (/lease 10\.77\.0\.110 \{[^}]*binding state active;/.test(text)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const blocks = text.split(/(?=lease )/).filter((b) => b.startsWith('lease 10.77.0.110 '));
      const last = blocks[blocks.length - 1] ?? '';
      assert.match(last, /binding state active;/);
      assert.match(last, /hardware ethernet 02:00:00:77:00:50;/);
      const d = new Date(tstp * 1000);
      const iscDate = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}`;
      assert.ok(last.includes(`tsfp ${d.getUTCDay()} ${iscDate};`), `ISC tsfp ≠ our tstp ${iscDate}:\n${last}`);
      assert.ok(text.includes('binding state backup;'));
      // Our side got the BNDACK: tsfp = tstp.
      await new Promise((r) => setTimeout(r, 2500));
      ts.send('lease 10.77.0.110');
      const l = await ts.proc.waitFor(/lease 10\.77\.0\.110 active \d+ (\d+)/, { timeoutMs: 3000, stream: 'stdout' });
      assert.equal(Number(l[1]), tstp);

      // Load balancing with our HBA (split 128) as ISC applies it: a client in bucket 201 is served by the ISC
      // secondary from a backup lease we handed it; a client in bucket 67 is left to us (§7.3).
      await exec(NS, 'ip', ['link', 'set', 'c0', 'address', '02:00:00:77:00:54']);
      const clientLeases = join(dir, 'client1.leases');
      await writeFile(clientLeases, '');
      await writeFile(join(dir, 'client1.conf'), 'request subnet-mask;\n');
      const client = spawn(NS, 'dhclient', ['-4', '-d', '-v', '-p', '10168', '-cf', join(dir, 'client1.conf'), '-lf', clientLeases, '-pf', join(dir, 'client1.pid'), '-sf', '/bin/true', 'c0']);
      procs.push(client);
      const bound = await client.waitFor(/bound to (10\.77\.0\.\d+)/, { timeoutMs: 20_000 });
      await client.stop('SIGTERM');
      procs.splice(procs.indexOf(client), 1);
      const addr = bound[1]!;
      assert.ok(text.split(/(?=lease )/).some((b) => b.startsWith(`lease ${addr} `) && b.includes('binding state backup;')), `${addr} was one of the backups we gave ISC`);
      await isc.proc.waitFor(`DHCPACK on ${addr} to 02:00:00:77:00:54 via s0`, { timeoutMs: 2000 });
      for (let i = 0; i < 30; i++) {
        ts.send(`lease ${addr}`);
        await new Promise((r) => setTimeout(r, 200));
        if (ts.proc.stdout.includes(`lease ${addr} active`)) break;
      }
      assert.ok(ts.proc.stdout.includes(`lease ${addr} active`), 'the ISC secondary told us about its binding (BNDUPD active)');

      // Hard kill of dhcpd-ts, restart with its saved state (normal): ISC goes communications-interrupted
      // and back to normal, with no UPDREQALL (§5.4 b).
      await ts.proc.stop('SIGKILL');
      await isc.proc.waitFor('failover peer fo-lo: I move from normal to communications-interrupted', { timeoutMs: 5000 });
      const ts2 = await startHarness('primary');
      await ts2.proc.waitFor('failover peer fo-lo: I move from normal to startup', { timeoutMs: 3000 });
      await ts2.proc.waitFor('failover peer fo-lo: I move from startup to normal', { timeoutMs: 15_000 });
      await isc.proc.waitFor('failover peer fo-lo: I move from communications-interrupted to normal', { timeoutMs: 10_000 });
      await ts2.proc.waitFor('failover peer fo-lo: Both servers normal', { timeoutMs: 5000 });
      assert.ok(!ts2.proc.output.includes('Sent update request all'));
      assert.ok(!isc.proc.output.includes('dhcpd: exiting'));
    } finally {
      await stopAll();
    }
  });

  test('ISC primary + dhcpd-ts secondary: normal, ISC hands us backup leases; hostile input to our listener', { timeout: 60_000 }, async () => {
    try {
      const isc = await startIsc('primary');
      // Our max-response-delay 6 → ISC must send CONTACT every 2 s (receive-timer / 3) to keep the link.
      const ts = await startHarness('secondary', { maxResponseDelay: 6 });
      for (const line of NORMAL) {
        await isc.proc.waitFor(line, { timeoutMs: 8000 });
        await ts.proc.waitFor(line, { timeoutMs: 8000 });
      }
      await isc.proc.waitFor(/balanced pool \S+ 10\.77\.0\.0\/24  total 20  free 10  backup 10  lts 0  max-misbal 3/, { timeoutMs: 3000 });
      // ISC's pool balance gave us 10 leases as backup; our store and ISC's lease file agree on which.
      let ours = '';
      for (let i = 0; i < 30 && ours.split(',').length !== 10; i++) {
        await new Promise((r) => setTimeout(r, 200));
        ts.send('backups');
        const m = await ts.proc.waitFor(/backups (\S*)\n(?![\s\S]*backups )/, { timeoutMs: 3000, stream: 'stdout' });
        ours = m[1] ?? '';
      }
      assert.equal(ours.split(',').length, 10, `our backups: ${ours}\nISC:\n${isc.proc.output}`);
      await new Promise((r) => setTimeout(r, 2500)); // ISC writes after its BNDACK batching
      const text = await readFile(isc.leases, 'utf8');
      const iscLast = new Map<string, string>();
      for (const b of text.split(/(?=lease )/)) {
        const m = /^lease (\S+) \{[\s\S]*?binding state (\S+);/.exec(b);
        if (m) iscLast.set(m[1]!, m[2]!);
      }
      const iscBackups = [...iscLast].filter(([, st]) => st === 'backup').map(([a]) => a).sort();
      assert.deepEqual(ours.split(',').sort(), iscBackups);
      // A real client (dhclient, chaddr bucket 67 → the ISC primary) gets a lease from ISC: ISC tells us with
      // BNDUPD(active) and we store it as ISC sent it: ends = MCLT later, tsfp = potential expiry (§6.4).
      await exec(NS, 'ip', ['link', 'set', 'c0', 'address', '02:00:00:77:00:50']);
      const clientLeases = join(dir, 'client.leases');
      await writeFile(clientLeases, '');
      await writeFile(join(dir, 'client.conf'), 'request subnet-mask;\n');
      const client = spawn(NS, 'dhclient', ['-4', '-d', '-v', '-p', '10068', '-cf', join(dir, 'client.conf'), '-lf', clientLeases, '-pf', join(dir, 'client.pid'), '-sf', '/bin/true', 'c0']);
      procs.push(client);
      const bound = await client.waitFor(/bound to (10\.77\.0\.\d+)/, { timeoutMs: 20_000 });
      const addr = bound[1]!;
      const ack = await isc.proc.waitFor(new RegExp(`DHCPACK on ${addr.replace(/\./g, '\\.')} to 02:00:00:77:00:50`), { timeoutMs: 3000 });
      assert.ok(ack);
      let stored: RegExpMatchArray | undefined;
      for (let i = 0; i < 30 && !stored; i++) {
        ts.send(`lease ${addr}`);
        const m = await ts.proc.waitFor(new RegExp(`lease ${addr.replace(/\./g, '\\.')} (\\S+) (\\d+) (\\d+)\\n(?![\\s\\S]*lease ${addr.replace(/\./g, '\\.')} )`), { timeoutMs: 3000, stream: 'stdout' });
        if (m[1] === 'active') stored = m;
        else await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(stored, 'dhcpd-ts stored the active binding');
      const ends = Number(stored[2]);
      const tsfp = Number(stored[3]);
      const leaseTime = ends - Math.floor(Date.now() / 1000);
      assert.ok(leaseTime > 1700 && leaseTime <= 1800, `lease time ${leaseTime} ≈ MCLT`);
      assert.equal(tsfp, ends - 1800 + 7200 + 900, 'potential expiry = start + desired + granted/2');
      await client.stop('SIGTERM');
      procs.splice(procs.indexOf(client), 1);

      // A connection from an address that is not the peer, and garbage from the peer's address: closed and
      // logged, the established link stays up.
      const script = (from: string, hex: string): string =>
        `const s=require('net').connect({host:'127.0.0.2',port:10648,localAddress:'${from}'});s.on('connect',()=>{s.write(Buffer.from('${hex}','hex'));setTimeout(()=>process.exit(0),300)});s.on('error',()=>process.exit(0));`;
      const connect = encodeFields(FTM.CONNECT, Math.floor(Date.now() / 1000), 0, { relationshipName: Buffer.from('fo-lo') }).toString('hex');
      await exec(NS, process.execPath, ['-e', script('127.0.0.3', connect)]);
      await ts.proc.waitFor('failover: listener: no matching state', { timeoutMs: 3000 });
      await exec(NS, process.execPath, ['-e', script('127.0.0.1', 'ffff00000000deadbeef')]);
      await ts.proc.waitFor('message length wait: bad length 65535', { timeoutMs: 3000 });
      // Keepalives both ways: after 8 s (> our 6 s receive timer) the link is still up.
      await new Promise((r) => setTimeout(r, 8000));
      assert.ok(!ts.proc.output.includes('timeout waiting for failover peer'), ts.proc.output);
      ts.send('state');
      await ts.proc.waitFor('state normal normal', { timeoutMs: 3000, stream: 'stdout' });
      assert.equal(ts.proc.hasExited, false);
      // A CONTACT from ISC every 10 s keeps the link; ISC still sees us normal.
      assert.ok(!isc.proc.output.includes('timeout waiting for failover peer'));
    } finally {
      await stopAll();
    }
  });

  test('partner failure: ISC primary dies, auto-partner-down, ISC returns through recover-wait to normal', { timeout: 60_000 }, async () => {
    try {
      let isc = await startIsc('primary', { mclt: 6 });
      const ts = await startHarness('secondary', { autoPartnerDown: 2 }, join(dir, 'ts-pd.json'));
      await ts.proc.waitFor('failover peer fo-lo: Both servers normal', { timeoutMs: 8000 });
      await isc.proc.waitFor('failover peer fo-lo: Both servers normal', { timeoutMs: 8000 });
      ts.send('state');
      await ts.proc.waitFor('state normal normal', { timeoutMs: 3000, stream: 'stdout' });
      // Hard stop of ISC (SIGTERM: no graceful failover shutdown on this build, §4.7).
      await isc.proc.stop('SIGTERM');
      procs.splice(procs.indexOf(isc.proc), 1);
      await ts.proc.waitFor('peer fo-lo: disconnected', { timeoutMs: 5000 });
      await ts.proc.waitFor('failover peer fo-lo: I move from normal to communications-interrupted', { timeoutMs: 5000 });
      await ts.proc.waitFor('failover peer fo-lo: I move from communications-interrupted to partner-down', { timeoutMs: 5000 });
      // ISC restarts with its saved normal; we are partner-down: ISC → recover → recover-wait (MCLT) →
      // recover-done; we → normal; ISC → normal (§5.3, §5.4 c).
      isc = await startIsc('primary', { mclt: 6, keepLeases: true });
      await isc.proc.waitFor('failover peer fo-lo: I move from normal to startup', { timeoutMs: 3000 });
      // The 'from' state is the one ISC last wrote to its lease file for us: normal, or recover-done when
      // ISC was stopped before it wrote our move to normal (seen once under load 16).
      await isc.proc.waitFor(/failover peer fo-lo: peer moves from (normal|recover-done) to partner-down/, { timeoutMs: 10_000 });
      await isc.proc.waitFor('failover peer fo-lo: I move from startup to recover', { timeoutMs: 5000 });
      await isc.proc.waitFor('failover peer fo-lo: I move from recover to recover-wait', { timeoutMs: 5000 });
      await ts.proc.waitFor('failover peer fo-lo: peer moves from recover to recover-wait', { timeoutMs: 5000 });
      await isc.proc.waitFor('failover peer fo-lo: I move from recover-wait to recover-done', { timeoutMs: 15_000 });
      await ts.proc.waitFor('failover peer fo-lo: I move from partner-down to normal', { timeoutMs: 5000 });
      await isc.proc.waitFor('failover peer fo-lo: I move from recover-done to normal', { timeoutMs: 5000 });
      await isc.proc.waitFor('failover peer fo-lo: Both servers normal', { timeoutMs: 5000 });
      await ts.proc.waitFor(/peer moves from recover-done to normal\n(.*\n)*?failover peer fo-lo: Both servers normal/, { timeoutMs: 5000 });
    } finally {
      await stopAll();
    }
  });

  test('hostile dhcpd-ts secondary vs ISC primary: unknown relationship name → ISC sees reject reason 8', { timeout: 60_000 }, async () => {
    try {
      const isc = await startIsc('primary');
      const bad = await startHarness('secondary', { name: 'not-fo-lo' }, join(dir, 'bad-sec.json'));
      await bad.proc.waitFor('Failover CONNECT from fo-lo: unknown failover relationship name', { timeoutMs: 10_000 });
      await isc.proc.waitFor('Failover CONNECT to fo-lo rejected: Connection rejected, invalid failover partner.', { timeoutMs: 5000 });
      assert.ok(!isc.proc.output.includes('Both servers normal'));
      assert.equal(isc.proc.hasExited, false);
      assert.equal(bad.proc.hasExited, false);
    } finally {
      await stopAll();
    }
  });

  test('hostile dhcpd-ts primary vs ISC secondary: wrong name → reason 8, clock skew 120 s → reason 4', { timeout: 60_000 }, async () => {
    try {
      const isc = await startIsc('secondary');
      const bad = await startHarness('primary', { name: 'not-fo-lo' }, join(dir, 'bad-name.json'));
      await isc.proc.waitFor('Failover CONNECT from not-fo-lo: unknown failover relationship name', { timeoutMs: 8000 });
      await isc.proc.waitFor('failover: disconnect: unknown failover relationship name', { timeoutMs: 2000 });
      await bad.proc.waitFor('Failover CONNECT to not-fo-lo rejected: Connection rejected, invalid failover partner.', { timeoutMs: 3000 });
      await bad.proc.stop('SIGTERM');
      const skewed = await startHarness('primary', { clockSkew: 120 }, join(dir, 'skewed.json'));
      await isc.proc.waitFor('Failover CONNECT from fo-lo: time offset too large', { timeoutMs: 8000 });
      await skewed.proc.waitFor('Failover CONNECT to fo-lo rejected: Connection rejected, time mismatch too great.', { timeoutMs: 3000 });
      assert.ok(!skewed.proc.output.includes('Both servers normal'));
      assert.equal(skewed.proc.hasExited, false);
      assert.equal(isc.proc.hasExited, false);
      // A raw peer sending a truncated CONNECT from the peer address: ISC waits, we never crash anyone.
      const sock = `const s=require('net').connect({host:'127.0.0.2',port:10648,localAddress:'127.0.0.1'});s.on('connect',()=>{s.write(Buffer.from('006d050c','hex'));setTimeout(()=>process.exit(0),300)});s.on('error',()=>process.exit(0));`;
      await exec(NS, process.execPath, ['-e', sock]);
      assert.equal(isc.proc.hasExited, false);
    } finally {
      await stopAll();
    }
  });
});

