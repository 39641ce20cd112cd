import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteLeaseStore, SCHEMA_VERSION, APPLICATION_ID, MIGRATIONS } from '../../leases/sqlite-lease-store.js';
import { LeaseStoreError } from '../../leases/lease-store.js';
import { emptyLease, type Lease } from '../../leases/lease.js';
import { GroupCommitter } from '../../leases/group-commit.js';
import { expireDueLeases, makeBindingStateTransition } from '../../leases/expiry.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leases-store-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fullLease(address: number): Lease {
  const l = emptyLease(address);
  l.starts = 1_764_390_931;
  l.ends = null;
  l.tstp = 1_764_398_131;
  l.tsfp = 1_764_398_131;
  l.atsfp = 0;
  l.cltt = 1_764_390_931;
  l.bindingState = 'active';
  l.nextBindingState = 'expired';
  l.rewindBindingState = 'free';
  l.reserved = true;
  l.dynamicBootp = true;
  l.hardware = { htype: 1, address: Buffer.from('020000770050', 'hex') };
  l.uid = Buffer.from([1, 2, 0, 0, 0x77, 0, 0x51, 0x5c, 0x22]);
  l.clientHostname = 'pc "one"';
  l.hostname = 'fixed-pc';
  l.scope.set('ddns-fwd-name', { kind: 'data', value: Buffer.from('pc.example.com') });
  l.scope.set('count', { kind: 'number', value: 42 });
  l.scope.set('flag', { kind: 'boolean', value: false });
  l.agentOptions = [
    { code: 1, data: Buffer.from('eth0/1') },
    { code: 2, data: Buffer.alloc(300, 7) },
  ];
  l.billingClass = { kind: 'subclass', name: 'vendor', data: Buffer.from([0xab, 0xcd]) };
  l.on = { expiry: 'log (info, "gone");', release: 'log (info, "gone");', expiryOrRelease: true };
  return l;
}

describe('SqliteLeaseStore', () => {
  it('creates a versioned database and stores every lease field', () => {
    const path = join(dir, 'fields.sqlite');
    const s = openSqliteLeaseStore(path);
    const l = fullLease(0x0a4d006e);
    s.commit([l, emptyLease(0x0a4d006f)]);
    s.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(raw.pragma('application_id', { simple: true }), APPLICATION_ID);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
    const s2 = openSqliteLeaseStore(path);
    assert.deepEqual(s2.getByAddress(0x0a4d006e), l);
    assert.deepEqual(s2.getByAddress(0x0a4d006f), emptyLease(0x0a4d006f));
    assert.equal(s2.getByAddress(0x0a4d0070), undefined);
    assert.equal(s2.leaseCount(), 2);
    s2.close();
  });

  it('looks leases up by hardware address, uid, range and state', () => {
    const s = openSqliteLeaseStore(join(dir, 'lookup.sqlite'));
    const leases: Lease[] = [];
    for (let i = 0; i < 20; i++) {
      const l = emptyLease(0xc0a80100 + i);
      l.bindingState = i % 2 ? 'active' : 'free';
      l.hardware = { htype: 1, address: Buffer.from([0, 1, 2, 3, 4, i % 5]) };
      l.uid = Buffer.from([1, i]);
      leases.push(l);
    }
    s.commit(leases);
    const byHw = s.getByHardware({ htype: 1, address: Buffer.from([0, 1, 2, 3, 4, 3]) });
    assert.deepEqual(
      byHw.map((l) => l.address & 255),
      [3, 8, 13, 18],
    );
    assert.equal(s.getByHardware({ htype: 6, address: Buffer.from([0, 1, 2, 3, 4, 3]) }).length, 0);
    assert.deepEqual(
      s.getByUid(Buffer.from([1, 7])).map((l) => l.address & 255),
      [7],
    );
    const range = [...s.leases({ from: 0xc0a80105, to: 0xc0a8010a, states: ['active'] })];
    assert.deepEqual(
      range.map((l) => l.address & 255),
      [5, 7, 9],
    );
    assert.deepEqual(s.countByState(), { free: 10, active: 10 });
    assert.deepEqual(s.countByState({ from: 0xc0a80100, to: 0xc0a80102 }), { free: 2, active: 1 });
    s.close();
  });

  it('keeps hosts, groups, classes, failover state and server-duid', () => {
    const path = join(dir, 'records.sqlite');
    const s = openSqliteLeaseStore(path);
    let commits = 0;
    s.onCommit(() => commits++);
    s.write((w) => {
      w.putHost({
        name: 'h1',
        dynamic: true,
        deleted: false,
        hardware: { htype: 1, address: Buffer.from('aabbccddeeff', 'hex') },
        uid: null,
        fixedAddresses: [0x0a000005],
        group: null,
        statements: '',
      });
      w.putHost({ name: 'gone', dynamic: false, deleted: true, hardware: null, uid: null, fixedAddresses: [], group: null, statements: '' });
      w.putGroup({ name: 'g', dynamic: true, static: false, deleted: false, statements: 'option domain-name "x";' });
      w.putClass({ name: 'vendor', subclassData: Buffer.from('MSFT'), dynamic: true, deleted: false, leaseLimit: 4, statements: '' });
      w.putFailoverState({
        peer: 'fo',
        myState: 'normal',
        myStateTime: 1_764_390_917,
        partnerState: 'normal',
        partnerStateTime: 1_764_390_917,
        mclt: 1800,
      });
      w.setServerDuid(Buffer.from([0, 1, 0, 1, 2, 3]));
      w.setAuthoringByteOrder('little-endian');
    });
    assert.equal(commits, 1);
    s.close();
    const s2 = openSqliteLeaseStore(path);
    assert.deepEqual(
      s2.hosts().map((h) => [h.name, h.deleted, h.fixedAddresses]),
      [
        ['h1', false, [0x0a000005]],
        ['gone', true, []],
      ],
    );
    assert.equal(s2.groups()[0]?.statements, 'option domain-name "x";');
    assert.deepEqual(s2.classes()[0]?.subclassData, Buffer.from('MSFT'));
    assert.equal(s2.classes()[0]?.leaseLimit, 4);
    assert.deepEqual(s2.getFailoverState('fo'), {
      peer: 'fo',
      myState: 'normal',
      myStateTime: 1_764_390_917,
      partnerState: 'normal',
      partnerStateTime: 1_764_390_917,
      mclt: 1800,
    });
    assert.deepEqual(s2.meta(), { serverDuid: Buffer.from([0, 1, 0, 1, 2, 3]), authoringByteOrder: 'little-endian' });
    s2.close();
  });

  it('rolls a failed transaction back completely', () => {
    const s = openSqliteLeaseStore(join(dir, 'rollback.sqlite'));
    s.commit([emptyLease(1)]);
    assert.throws(
      () =>
        s.write((w) => {
          w.putLease(emptyLease(2));
          w.deleteLease(1);
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.ok(s.getByAddress(1));
    assert.equal(s.getByAddress(2), undefined);
    s.close();
  });

  it('group-commits the writes of one event-loop turn in one transaction', async () => {
    const s = openSqliteLeaseStore(join(dir, 'group.sqlite'));
    const gc = new GroupCommitter(s);
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) ps.push(gc.commit([emptyLease(1000 + i)]));
    assert.equal(s.leaseCount(), 0, 'nothing is written before the turn ends');
    await Promise.all(ps);
    assert.equal(s.leaseCount(), 100);
    assert.equal(gc.stats.transactions, 1);
    assert.equal(gc.stats.largestBatch, 100);
    // A failing operation rejects every caller of its batch and writes nothing of it.
    const ok = gc.commit([emptyLease(5000)]);
    const bad = gc.enqueue(() => {
      throw new Error('bad write');
    });
    await assert.rejects(ok, /bad write/);
    await assert.rejects(bad, /bad write/);
    assert.equal(s.getByAddress(5000), undefined);
    s.close();
  });

  it('refuses a file that is not a lease database, and a corrupt one, without replacing it', () => {
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, Buffer.alloc(8192, 0x41));
    assert.throws(
      () => openSqliteLeaseStore(garbage),
      (e: unknown) => e instanceof LeaseStoreError && e.kind === 'corrupt' && e.message.startsWith(garbage),
    );
    assert.deepEqual(readFileSync(garbage), Buffer.alloc(8192, 0x41), 'the file was left as it was');

    const other = join(dir, 'other.sqlite');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    assert.throws(() => openSqliteLeaseStore(other), (e: unknown) => e instanceof LeaseStoreError && e.kind === 'not-a-lease-database');

    // A real lease database with a damaged b-tree page: integrity_check must catch it.
    const path = join(dir, 'damaged.sqlite');
    const s = openSqliteLeaseStore(path);
    const many: Lease[] = [];
    for (let i = 0; i < 3000; i++) many.push(fullLease(0x0a000000 + i));
    s.commit(many);
    s.close();
    const size = statSync(path).size;
    const pageSize = 4096;
    const fd = openSync(path, 'r+');
    // Overwrite the middle of a few pages after the header page with junk (keeping page 1 intact).
    for (let p = 3; p < Math.min(12, size / pageSize); p++) writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, p * pageSize + 8);
    closeSync(fd);
    assert.throws(
      () => openSqliteLeaseStore(path),
      (e: unknown) => e instanceof LeaseStoreError && e.kind === 'corrupt' && /not replacing it/.test(e.message),
    );
  });

  it('migrates a version-1 database (columns only) to the packed-record schema', () => {
    const path = join(dir, 'v1.sqlite');
    const raw = new Database(path);
    const v1 = MIGRATIONS[0];
    assert.equal(typeof v1, 'string');
    raw.exec(v1 as string);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 1');
    // A version-1 row as that schema stored it.
    raw
      .prepare(
        'INSERT INTO lease4 (address, starts, ends, tstp, tsfp, atsfp, cltt, state, next_state, rewind_state, flags, htype, hwaddr, uid, client_hostname, hostname, scope, agent, billing, on_stmts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
      )
      .run(0x0a000001, 1000, null, 1000, 0, 0, 900, 2, 1, 1, 2, 1, Buffer.from('001122334455', 'hex'), Buffer.from([1, 2]), 'pc', null, JSON.stringify([['x', 'n', 5]]), Buffer.from([1, 0, 2, 0x61, 0x62]), JSON.stringify({ c: 'gold' }), JSON.stringify({ expiry: 'log (info, "x");' }));
    raw.close();
    const s = openSqliteLeaseStore(path);
    const l = s.getByAddress(0x0a000001);
    assert.ok(l);
    assert.equal(l.starts, 1000);
    assert.equal(l.ends, null);
    assert.equal(l.bindingState, 'active');
    assert.equal(l.nextBindingState, 'free');
    assert.equal(l.dynamicBootp, true);
    assert.deepEqual(l.hardware, { htype: 1, address: Buffer.from('001122334455', 'hex') });
    assert.deepEqual(l.scope.get('x'), { kind: 'number', value: 5 });
    assert.deepEqual(l.agentOptions, [{ code: 1, data: Buffer.from('ab') }]);
    assert.deepEqual(l.billingClass, { kind: 'class', name: 'gold' });
    assert.deepEqual(l.on, { expiry: 'log (info, "x");' });
    s.close();
    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  it('refuses a database written by a newer schema', () => {
    const path = join(dir, 'newer.sqlite');
    openSqliteLeaseStore(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => openSqliteLeaseStore(path), (e: unknown) => e instanceof LeaseStoreError && e.kind === 'too-new');
  });

  it('expires due leases into their next binding state and reports on-expiry statements', () => {
    const s = openSqliteLeaseStore(join(dir, 'expiry.sqlite'));
    const now = 1_800_000_000;
    const due = fullLease(10);
    due.ends = now - 5;
    due.nextBindingState = 'free';
    const later = fullLease(11);
    later.ends = now + 100;
    later.nextBindingState = 'free';
    const never = fullLease(12); // ends never
    never.nextBindingState = 'free';
    const free = emptyLease(13);
    s.commit([due, later, never, free]);
    assert.equal(s.nextExpiry(), now - 5);
    const events: string[] = [];
    const r = expireDueLeases(s, now, () => ({ failover: false }), (ev) => events.push(`${ev.event}:${ev.statements}`));
    assert.equal(r.length, 1);
    assert.deepEqual(events, ['expiry:log (info, "gone");']);
    const after = s.getByAddress(10);
    assert.equal(after?.bindingState, 'free');
    assert.equal(after?.nextBindingState, 'free');
    assert.equal(after?.clientHostname, null);
    assert.deepEqual(after?.agentOptions, []);
    assert.deepEqual(after?.on, {});
    assert.equal(after?.tstp, now - 5);
    assert.equal(s.getByAddress(11)?.bindingState, 'active');
    assert.equal(s.nextExpiry(), now + 100);
    s.close();
  });

  it('with failover, active expires to expired and then waits (next binding state free)', () => {
    const l = fullLease(20);
    l.nextBindingState = 'expired';
    const r = makeBindingStateTransition(l, { failover: true });
    assert.equal(r.lease.bindingState, 'expired');
    assert.equal(r.lease.nextBindingState, 'free');
    assert.equal(r.event, null, 'ISC runs the expiry event only when the lease reaches free/backup under failover');
    const r2 = makeBindingStateTransition(r.lease, { failover: true, partnerDownReuseTime: 99 });
    assert.equal(r2.lease.bindingState, 'free');
    assert.equal(r2.event, 'expiry');
  });
});

describe('crash safety', () => {
  it('keeps every committed lease when the writer is killed with SIGKILL mid-commit', async (t) => {
    const here = fileURLToPath(import.meta.url);
    const ts = here.endsWith('.ts');
    const child = join(dirname(here), 'support', `crash-writer.${ts ? 'ts' : 'js'}`);
    for (const round of [1, 2, 3]) {
      const path = join(dir, `crash-${round}.sqlite`);
      const args = [...(ts ? ['--import', 'tsx'] : []), child, path, String(10 * round)];
      const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let last = -1;
      let buf = '';
      const killAfter = 40 + Math.floor(Math.random() * 60);
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          reject(new Error('crash writer did not produce commits in time'));
        }, 20_000);
        proc.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const m = /^committed (\d+)$/.exec(line);
            if (m) {
              last = Number(m[1]);
              if (++seen === killAfter) proc.kill('SIGKILL');
            }
          }
        });
        proc.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      assert.equal(proc.signalCode, 'SIGKILL', 'the writer was killed, not finished');
      assert.ok(last >= 0x0a000000, 'the writer committed something first');
      const s = openSqliteLeaseStore(path); // runs integrity_check; throws if damaged
      for (let a = 0x0a000000; a <= last; a++) {
        const l = s.getByAddress(a);
        if (!l) assert.fail(`committed lease ${a.toString(16)} is missing after the crash (round ${round})`);
        assert.equal(l.bindingState, 'active');
      }
      s.close();
      const raw = new Database(path, { readonly: true });
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
      raw.close();
      t.diagnostic(`round ${round}: ${last - 0x0a000000 + 1} leases committed before SIGKILL, all present`);
    }
  });
});

describe('addresses()', () => {
  it('lists the recorded addresses of a range (and states) without decoding, as leases() would', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leases-addr-'));
    try {
      const s = openSqliteLeaseStore(join(dir, 'a.sqlite'));
      const states = ['active', 'free', 'backup', 'expired'] as const;
      const ls: Lease[] = [];
      for (let i = 0; i < 2000; i += 3) {
        const l = emptyLease(0xc0a80000 + i); // above 2^31: unsigned all the way
        l.bindingState = states[i % 4]!;
        ls.push(l);
      }
      s.commit(ls);
      for (const q of [undefined, { from: 0xc0a80100, to: 0xc0a80200 }, { from: 0xc0a80000, to: 0xc0a807ff, states: ['free', 'backup'] as const }, { from: 5, to: 6 }]) {
        const want = [...s.leases(q && { ...q, states: q.states ? [...q.states] : undefined })].map((l) => l.address);
        const got = s.addresses(q && { ...q, states: q.states ? [...q.states] : undefined });
        assert.ok(got instanceof Uint32Array);
        assert.deepEqual([...got], want);
      }
      assert.equal(s.addresses().length, ls.length);
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
