/**
 * A bounded burst from Kea's perfdhcp (500 DORA exchanges at 100/s, distinct clients) against the
 * server in a namespace: nearly every exchange completes, every ACK is a committed lease in the SQLite
 * store, addresses are unique, and the server stays up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLan, integrationSkipReason, type Lan, type NsProcess } from '../support/netns.js';
import { serverCommand } from '../engine/server-process.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';

const skip = integrationSkipReason();

describe('perfdhcp burst against the server', { skip }, () => {
  let lan: Lan;
  let server: NsProcess;
  let db: string;
  let perf = '';

  before(async () => {
    lan = await createLan('srvperf', [{ name: 'srv', address: '10.90.0.1/16' }, { name: 'cli', address: '10.90.0.2/16' }]);
    const dir = await lan.topology.tempDir();
    db = join(dir, 'leases.sqlite');
    await writeFile(join(dir, 'dhcpd.conf'), 'authoritative;\nping-check false;\nsubnet 10.90.0.0 netmask 255.255.0.0 {\n  option routers 10.90.0.1;\n  range 10.90.1.0 10.90.20.255;\n}\n');
    const c = serverCommand(join(dir, 'dhcpd.conf'), db, ['eth0']);
    server = lan.topology.spawn(lan.host('srv').ns, c.cmd, c.args, { cwd: c.cwd });
    await server.waitFor('Server starting service.', { timeoutMs: 20_000 });
    // Warm-up (JIT, SQLite page cache), then the measured burst.
    await lan.host('cli').exec('perfdhcp', ['-4', '-l', 'eth0', '-r', '50', '-n', '100', '-p', '5', '-R', '100', '-b', 'mac=00:0c:01:02:03:04', '10.90.0.1'], { check: false, timeoutMs: 20_000 });
    const r = await lan.host('cli').exec('perfdhcp', ['-4', '-l', 'eth0', '-r', '100', '-n', '500', '-p', '12', '-R', '500', '10.90.0.1'], { check: false, timeoutMs: 40_000 });
    perf = r.stdout + r.stderr;
  });

  after(async () => {
    await lan?.destroy();
  });

  test('at least 95% of the 4-way exchanges complete and the server is still running', () => {
    const received = [...perf.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(received.length, 2, perf);
    assert.ok(received[1]! >= 475, `ACKs received: ${received[1]} of 500\n${perf}`);
    assert.equal(server.hasExited, false);
  });

  test('every ACKed lease is in the SQLite store, active, with a distinct address', async () => {
    await server.stop();
    const store = openSqliteLeaseStore(db, { readOnly: true });
    try {
      const active = [...store.leases({ states: ['active'] })];
      const acked = new Set((server.output.match(/^DHCPACK on \S+/gm) ?? []).map((l) => l.slice('DHCPACK on '.length)));
      assert.ok(acked.size >= 475, `${acked.size} addresses ACKed`);
      const stored = new Set(active.map((l) => `${l.address >>> 24}.${(l.address >>> 16) & 255}.${(l.address >>> 8) & 255}.${l.address & 255}`));
      for (const a of acked) assert.ok(stored.has(a), `ACKed ${a} is not an active lease in the store`);
      assert.equal(new Set(active.map((l) => l.address)).size, active.length);
    } finally {
      store.close();
    }
  });
});
