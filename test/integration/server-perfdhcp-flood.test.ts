/**
 * Overload: perfdhcp floods the server with DISCOVERs as fast as it can (no rate; bounded by count and
 * period), and meanwhile a real ISC dhclient on the same LAN asks for a lease. With load shedding
 * (src/engine/load-shedding.ts: stale requests dropped, REQUESTs and the newest first) the dhclient still
 * gets its lease during the flood, perfdhcp still completes exchanges, the overload is logged with a count,
 * and the server stays up. Every ACKed lease (dhclient's included) is in the store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLan, dhclientArgs, integrationSkipReason, type Lan, type NsProcess } from '../support/netns.js';
import { serverCommand } from '../engine/server-process.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';

const skip = integrationSkipReason();
const DHCLIENT_MAC = '52:54:00:5f:10:0d';

describe('unpaced perfdhcp flood while a real client asks for a lease', { skip }, () => {
  let lan: Lan;
  let server: NsProcess;
  let db: string;
  let perf = '';
  let dhclientOut = '';
  let dhclientBound = false;
  let boundAfterMs = -1;
  let dir = '';

  before(async () => {
    lan = await createLan('srvflood', [
      { name: 'srv', address: '10.92.0.1/16' },
      { name: 'cli', address: '10.92.0.2/16' },
      { name: 'dhc', mac: DHCLIENT_MAC },
    ]);
    dir = await lan.topology.tempDir();
    db = join(dir, 'leases.sqlite');
    await writeFile(join(dir, 'dhcpd.conf'), 'authoritative;\nping-check false;\ndefault-lease-time 3600;\nsubnet 10.92.0.0 netmask 255.255.0.0 {\n  option routers 10.92.0.1;\n  range 10.92.1.0 10.92.250.255;\n}\n');
    const c = serverCommand(join(dir, 'dhcpd.conf'), db, ['eth0']);
    server = lan.topology.spawn(lan.host('srv').ns, c.cmd, c.args, { cwd: c.cwd });
    await server.waitFor('Server starting service.', { timeoutMs: 30_000 });
    // The flood: no -r (as fast as perfdhcp can), at most 200,000 exchanges or 12 s.
    const flood = lan.host('cli').exec('perfdhcp', ['-4', '-l', 'eth0', '-R', '200000', '-n', '200000', '-p', '12', '-d', '1', '10.92.0.1'], { check: false, timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 2500));
    // A real client in the middle of it (dhclient -1: one attempt of its normal retransmission schedule).
    const started = Date.now();
    const client = lan.host('dhc').spawn('dhclient', dhclientArgs(join(dir), 'eth0'));
    try {
      await client.waitFor(/bound to 10\.92\./, { timeoutMs: 45_000 });
      dhclientBound = true;
      boundAfterMs = Date.now() - started;
    } catch {
      dhclientBound = false;
    }
    dhclientOut = client.output;
    await client.stop();
    const r = await flood;
    perf = r.stdout + r.stderr;
    if (process.env.FLOOD_DEBUG) process.stderr.write(`${perf}\nbound after ${boundAfterMs} ms\n${server.output.split('\n').filter((l) => l.startsWith('Overloaded')).join('\n')}\n`);
  });

  after(async () => {
    await lan?.destroy();
  });

  test('the real client gets a lease during the flood', () => {
    assert.ok(dhclientBound, `dhclient did not get a lease within 45 s of the flood start:\n${dhclientOut}`);
    assert.ok(boundAfterMs >= 0 && boundAfterMs < 45_000);
  });

  test('perfdhcp still completes exchanges, the overload is logged with a count, the server is up', () => {
    const received = [...perf.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
    const sent = [...perf.matchAll(/sent packets: (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(received.length, 2, perf);
    // A flood: more DISCOVERs than the server can answer (perfdhcp counts the unanswered ones as drops:
    // 72.6 % with session 4's server, which ACKed 54,190 of 200,000 in 12 s; 95 %+ before), and still a
    // stream of ACKs (measured 310 to 54,190 in 12 s on the 2-core CI machine; 50 leaves room for a worse
    // minute). The overload itself is proven by the shedding line below.
    const discoverDrops = Number(/drops ratio: ([\d.]+) %/.exec(perf)?.[1] ?? NaN);
    assert.ok(sent[0]! > received[1]! && discoverDrops >= 20, `not a flood? sent ${sent[0]} DISCOVERs, ${received[1]} ACKs, ${discoverDrops} % of DISCOVERs unanswered\n${perf}`);
    assert.ok(received[1]! >= 50, `only ${received[1]} ACKs under the flood\n${perf}`);
    const shed = [...server.output.matchAll(/Overloaded: dropped (\d+) requests? that waited more than 1000 ms \((\d+) in total\)/g)];
    assert.ok(shed.length >= 1, `no shedding line in the server log:\n${server.output.slice(-3000)}`);
    assert.ok(Number(shed[0]![1]) > 0);
    assert.equal(server.hasExited, false);
  });

  test("every ACKed lease, the real client's too, is active in the store", async () => {
    await server.stop();
    const store = openSqliteLeaseStore(db, { readOnly: true });
    try {
      const active = [...store.leases({ states: ['active'] })];
      const stored = new Set(active.map((l) => `${l.address >>> 24}.${(l.address >>> 16) & 255}.${(l.address >>> 8) & 255}.${l.address & 255}`));
      const acked = new Set((server.output.match(/^DHCPACK on \S+/gm) ?? []).map((l) => l.slice('DHCPACK on '.length)));
      assert.ok(acked.size >= 50);
      for (const a of acked) assert.ok(stored.has(a), `ACKed ${a} is not an active lease in the store`);
      const mine = active.find((l) => l.hardware?.address.toString('hex') === DHCLIENT_MAC.replaceAll(':', ''));
      assert.ok(mine !== undefined, "the dhclient's lease is not in the store");
      const leaseFile = await readFile(join(dir, 'dhclient.leases'), 'latin1');
      const fixed = mine.address;
      assert.match(leaseFile, new RegExp(`fixed-address ${fixed >>> 24}\\.${(fixed >>> 16) & 255}\\.${(fixed >>> 8) & 255}\\.${fixed & 255};`));
    } finally {
      store.close();
    }
  });
});
