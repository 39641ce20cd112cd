import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { corpusLeaseFiles } from './support/corpus.js';
import { importLeases, exportLeases, LeaseImportError, openServerLeaseStore, formatImportSummary } from '../../leases/commands.js';
import { openSqliteLeaseStore, type SqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { formatLease, printTime, quotifyBuf, formatAgentOption } from '../../leases/isc-lease-file.js';
import { parseLeaseFileText, iscDateToEpoch } from '../../grammar/leases-parser.js';
import { emptyLease } from '../../leases/lease.js';
import { LeaseFileMirror } from '../../leases/lease-file-mirror.js';
import { SHARED_CORPUS_DIR } from '../support/shared-corpus.js';

const DHCPD = '/usr/sbin/dhcpd';
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leases-file-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Everything a store holds, for field-by-field comparison. */
function snapshot(s: SqliteLeaseStore) {
  return {
    leases: [...s.leases()],
    hosts: s.hosts().sort((a, b) => a.name.localeCompare(b.name)),
    groups: s.groups(),
    classes: s.classes(),
    failover: s.failoverStates(),
    meta: s.meta(),
  };
}

/** Runs ISC's lease-file check; returns its `line N:` / corrupt-file complaints. */
function iscCheck(leaseFile: string, conf: string): { status: number | null; complaints: string[] } {
  const r = spawnSync(DHCPD, ['-4', '-T', '-lf', leaseFile, '-cf', conf, '-pf', join(dir, 'dhcpd.pid')], { encoding: 'latin1', timeout: 20_000 });
  const complaints = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => / line \d+:|orrupt lease file/.test(l));
  return { status: r.status, complaints };
}

const corpus = corpusLeaseFiles();

describe('corpus dhcpd.leases files', () => {
  it('has the corpus', (t) => {
    if (corpus.length === 0) t.skip('corpus not present');
    else assert.ok(corpus.length >= 50);
  });

  for (const c of corpus) {
    if (c.verdict === 'ok') {
      it(`round trip: import(export(x)) = x for ${c.path}`, async () => {
        const tag = c.path.replace(/[^A-Za-z0-9]+/g, '_');
        const db1 = join(dir, `${tag}.1.sqlite`);
        const db2 = join(dir, `${tag}.2.sqlite`);
        const exported = join(dir, `${tag}.exported`);
        // The stub configs declare the failover peers the file names; they are not the subnets of the leases.
        const conf = c.family === 4 && c.confPath.includes('stubconf') ? { configFile: c.confPath, dropLeasesOutsideSubnets: false } : {};
        const first = importLeases({ leaseFile: c.absolutePath, database: db1, now: 1_764_000_000, ...conf });
        await exportLeases({ database: db1, output: exported, format: { now: 0 } });
        const second = importLeases({ leaseFile: exported, database: db2, now: 1_764_000_000, ...conf });
        const s1 = openSqliteLeaseStore(db1);
        const s2 = openSqliteLeaseStore(db2);
        try {
          const want = snapshot(s1);
          // ISC writes `authoring-byte-order` in every file it writes (new_lease_file); so does export.
          want.meta.authoringByteOrder ??= 'little-endian';
          assert.deepEqual(snapshot(s2), want);
        } finally {
          s1.close();
          s2.close();
        }
        assert.equal(second.leases, first.leases);
        assert.deepEqual(second.leasesByState, first.leasesByState);
        if (existsSync(DHCPD)) {
          const conf4 = c.family === 4 ? c.confPath : c.confPath.replace('minimal6', 'minimal4');
          const r = iscCheck(exported, conf4);
          assert.deepEqual(r.complaints, [], `ISC dhcpd -T complains about our export of ${c.path}`);
          assert.equal(r.status, 0);
        }
      });
    } else if (c.family === 4) {
      it(`refuses ${c.path} with ISC's first error (${c.firstError})`, () => {
        const db = join(dir, `${c.path.replace(/[^A-Za-z0-9]+/g, '_')}.bad.sqlite`);
        const conf = c.confPath.includes('stubconf') ? { configFile: c.confPath, dropLeasesOutsideSubnets: false } : {};
        assert.throws(
          () => importLeases({ leaseFile: c.absolutePath, database: db, ...conf }),
          (e: unknown) => {
            assert.ok(e instanceof LeaseImportError);
            // ISC names the file as it was given; compare "line N: message".
            assert.equal(e.message.replace(/^.* line /, 'line '), c.firstError.replace(/^.* line /, 'line '));
            assert.ok(e.message.startsWith(`${c.absolutePath} line ${c.errorLine}: `));
            return true;
          },
        );
        assert.equal(existsSync(db), false, 'nothing was imported (no database created)');
      });
    }
  }
});

describe('ISC syntax details', () => {
  it('prints dates as ISC print_time does', () => {
    // FAILOVER.md §9.3: `starts 0 2026/11/29 04:35:31;` (a Sunday, weekday 0).
    const t = Date.UTC(2026, 10, 29, 4, 35, 31) / 1000;
    assert.equal(printTime(t), '0 2026/11/29 04:35:31;');
    assert.equal(printTime(null), 'never;');
    assert.equal(iscDateToEpoch(2026, 11, 29, 4, 35, 31), t);
    assert.equal(iscDateToEpoch(2000, 2, 29, 0, 0, 0), Date.UTC(2000, 1, 29) / 1000);
    assert.equal(iscDateToEpoch(2038, 1, 1, 0, 0, 0), null, 'ISC reads 2038 and later as never');
  });

  it('writes a lease record in write_lease order with ISC escapes', () => {
    const text = `lease 10.77.0.110 {
  starts 0 2026/11/29 04:35:31;
  ends 0 2026/11/29 06:35:31;
  tstp 0 2026/11/29 07:35:31;
  tsfp 0 2026/11/29 07:35:31;
  atsfp 0 2026/11/29 07:35:31;
  cltt 0 2026/11/29 04:35:31;
  binding state active;
  next binding state expired;
  rewind binding state free;
  hardware ethernet 02:00:00:77:00:50;
  uid "\\001\\002\\000\\000w\\000Q";
  set ddns-txt = "a \\"q\\" \\\\ \\377";
  set n = %11;
  option agent.circuit-id "eth0\\$";
  option agent.remote-id 0:1:3:e9;
  client-hostname "pc1";
  on expiry or release {
    log (info, "bye");
  }
}
`;
    const parsed = parseLeaseFileText(text, 'x.leases', { now: 0 });
    assert.deepEqual(parsed.diagnostics, []);
    const l = parsed.leases.get(0x0a4d006e);
    assert.ok(l);
    assert.deepEqual(l.uid, Buffer.from([1, 2, 0, 0, 0x77, 0, 0x51]));
    assert.deepEqual(l.agentOptions, [
      { code: 1, data: Buffer.from('eth0$') },
      { code: 2, data: Buffer.from([0, 1, 3, 0xe9]) },
    ]);
    assert.deepEqual(l.scope.get('ddns-txt'), { kind: 'data', value: Buffer.from('a "q" \\ \xff', 'latin1') });
    assert.equal(formatLease(l, { now: 0 }), text);
  });

  it('escapes as quotify_buf and pretty_print_option do', () => {
    assert.equal(quotifyBuf(Buffer.from([0x01, 0x22, 0x5c, 0x20, 0x41, 0xff])), '"\\001\\"\\\\ A\\377"');
    assert.equal(formatAgentOption({ code: 1, data: Buffer.from('ab\0') }), 'option agent.circuit-id "ab";');
    assert.equal(formatAgentOption({ code: 9, data: Buffer.from([0, 0, 0x0d, 0xe9]) }), 'option agent.unknown-9 0:0:d:e9;');
    assert.equal(formatAgentOption({ code: 4, data: Buffer.from([0, 0, 0, 2]) }), 'option agent.DOCSIS-device-class 2;');
  });

  it('reads the epoch form, time zone offsets, never, legacy forms; the last record wins', () => {
    const p = parseLeaseFileText(
      `lease 10.0.0.1 { starts epoch 1700000000; # Tue Nov 14 22:13:20 2023
  ends never; binding state active; }
lease 10.0.0.2 { starts 2 2023/11/14 22:13:20 3600; ends 5 2199/01/01 00:00:00; abandoned; ddns-fwd-name "h.example"; }
lease 10.0.0.1 { starts epoch 1700000001; binding state bootp; }
host h1 { dynamic; hardware ethernet 00:11:22:33:44:55; fixed-address 10.0.0.9; }
host h1 { deleted; }
host h2 { deleted; }
`,
      'y.leases',
      { now: 0 },
    );
    assert.deepEqual(p.diagnostics, []);
    const a = p.leases.get(0x0a000001)!;
    assert.equal(a.starts, 1_700_000_001);
    assert.equal(a.bindingState, 'active');
    assert.equal(a.dynamicBootp, true);
    assert.equal(p.supersededLeaseRecords, 1);
    const b = p.leases.get(0x0a000002)!;
    assert.equal(b.starts, 1_700_000_000 + 3600);
    assert.equal(b.ends, null);
    assert.equal(b.bindingState, 'abandoned');
    assert.deepEqual(b.scope.get('ddns-fwd-name'), { kind: 'data', value: Buffer.from('h.example') });
    assert.equal(p.hosts.has('h1'), false, 'a deleted dynamic host is gone');
    assert.equal(p.hosts.get('h2')?.deleted, true, 'a deleted dhcpd.conf host stays recorded as deleted');
  });
});

describe('import and export commands', () => {
  it('refuses a truncated lease file with FILE line N and imports nothing', () => {
    const good = `lease 10.0.0.1 {\n  starts 0 2026/11/29 04:35:31;\n  ends 0 2026/11/29 06:35:31;\n  binding state active;\n}\nlease 10.0.0.2 {\n  starts 0 2026/11/29 04:35:31;\n  ends 0 2026/11/29 06:`;
    const f = join(dir, 'truncated.leases');
    writeFileSync(f, good);
    const db = join(dir, 'truncated.sqlite');
    assert.throws(
      () => importLeases({ leaseFile: f, database: db }),
      (e: unknown) => e instanceof LeaseImportError && e.message === `${f} line 8: numeric minute expected.`,
    );
    assert.equal(existsSync(db), false);
    if (existsSync(DHCPD)) {
      const r = iscCheck(f, `${SHARED_CORPUS_DIR}/aux/minimal4.conf`);
      assert.match(r.complaints[0] ?? '', /line 8: numeric minute expected\./, 'ISC reports the same line and message');
    }
  });

  it('refuses garbage with ISC line numbers', () => {
    const f = join(dir, 'garbage.leases');
    writeFileSync(f, 'lease 10.0.0.1 {\n  starts 0 2026/11/29 04:35:31;\n  frobnicate 3;\n}\n');
    assert.throws(() => importLeases({ leaseFile: f, database: join(dir, 'g.sqlite') }), /garbage\.leases line 3: Unexpected configuration directive\./);
  });

  it('checks failover peers against the configuration; summarizes what it imported', () => {
    const conf = join(dir, 'fo.conf');
    writeFileSync(
      conf,
      'failover peer "fo" { primary; address 127.0.0.1; peer address 127.0.0.2; mclt 1800; split 128; }\nsubnet 10.0.0.0 netmask 255.255.255.0 { pool { failover peer "fo"; range 10.0.0.10 10.0.0.20; } }\n',
    );
    const lf = join(dir, 'fo.leases');
    writeFileSync(
      lf,
      'failover peer "fo" state {\n  my state normal at 0 2026/11/29 04:35:17;\n  partner state normal at 0 2026/11/29 04:35:17;\n}\nlease 10.0.0.10 { binding state backup; }\nlease 10.0.1.10 { binding state free; hardware ethernet 00:00:00:00:00:01; }\n',
    );
    const s = importLeases({ leaseFile: lf, database: join(dir, 'fo.sqlite'), configFile: conf });
    assert.equal(s.leases, 1);
    assert.deepEqual(s.leasesByState, { backup: 1 });
    assert.deepEqual(s.failoverStates, [{ peer: 'fo', myState: 'normal', partnerState: 'normal' }]);
    assert.equal(s.skipped.length, 1);
    assert.match(formatImportSummary(s), /skipped lease 10\.0\.1\.10: no subnet/);
    writeFileSync(lf, 'failover peer "other" state {\n  my state normal at 0 2026/11/29 04:35:17;\n}\n');
    assert.throws(() => importLeases({ leaseFile: lf, database: join(dir, 'fo2.sqlite'), configFile: conf }), /fo\.leases line 1: unknown failover peer: other/);
    writeFileSync(lf, 'failover peer "fo" state {\n  my state normal at 0 2026/11/29 04:35:17;\n  mclt 1800;\n}\n');
    assert.throws(() => importLeases({ leaseFile: lf, database: join(dir, 'fo3.sqlite'), configFile: conf }), /line 3: mclt not valid for primary/);
  });

  it('does not import over a database that holds leases unless asked to replace', () => {
    const lf = join(dir, 'twice.leases');
    writeFileSync(lf, 'lease 10.0.0.1 { binding state active; ends never; }\n');
    const db = join(dir, 'twice.sqlite');
    importLeases({ leaseFile: lf, database: db });
    assert.throws(() => importLeases({ leaseFile: lf, database: db }), /already holds 1 leases/);
    writeFileSync(lf, 'lease 10.0.0.2 { binding state active; ends never; }\n');
    const s = importLeases({ leaseFile: lf, database: db, replace: true });
    assert.equal(s.leases, 1);
    const st = openSqliteLeaseStore(db);
    assert.equal(st.getByAddress(0x0a000001), undefined);
    assert.ok(st.getByAddress(0x0a000002));
    st.close();
  });

  it('imports the lease file on the first server start, then opens the database', () => {
    const lf = join(dir, 'server.leases');
    writeFileSync(lf, 'lease 10.0.0.7 { binding state active; ends never; hardware ethernet 00:00:00:00:00:07; }\n');
    const logs: string[] = [];
    const first = openServerLeaseStore({ leaseFile: lf, log: (l) => logs.push(l) });
    assert.ok(first.imported);
    assert.equal(first.store.path, `${lf}.sqlite`);
    assert.equal(first.store.getByAddress(0x0a000007)?.bindingState, 'active');
    first.store.close();
    assert.match(logs[0] ?? '', /Imported 1 leases/);
    const second = openServerLeaseStore({ leaseFile: lf, log: (l) => logs.push(l), mirror: { debounceMs: 60_000 } });
    assert.equal(second.imported, null);
    // -lf is rewritten at start (as ISC does) and kept as a view of the database; the last rewrite is at close.
    assert.match(readFileSync(lf, 'latin1'), /^# The format of this file is documented in the dhcpd\.leases\(5\) manual page\.\n/);
    const added = emptyLease(0x0a000008);
    added.bindingState = 'active';
    added.ends = null;
    second.store.commit([added]);
    second.store.close();
    const view = parseLeaseFileText(readFileSync(lf, 'latin1'), lf);
    assert.deepEqual([...view.leases.keys()].sort(), [0x0a000007, 0x0a000008]);
    assert.equal(logs.length, 1);
  });

  it('mirrors the database into -lf: rewrite, then appended records within the debounce window, appended at close', async () => {
    const db = join(dir, 'mirror.sqlite');
    const lf = join(dir, 'mirror.leases');
    const store = openSqliteLeaseStore(db);
    const mirror = new LeaseFileMirror(store, lf, { debounceMs: 50 });
    // The writes happen on timers and in background slices: wait for them (a loaded CI disk may take a while
    // to fsync), then check that they were the expected ones.
    const waitFor = async (done: () => boolean): Promise<void> => {
      for (const end = Date.now() + 10_000; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
      await mirror.idle();
    };
    const l = emptyLease(0x0a000005);
    l.bindingState = 'active';
    l.ends = null;
    l.hardware = { htype: 1, address: Buffer.from('020000000005', 'hex') };
    store.commit([l]);
    store.commit([emptyLease(0x0a000006)]);
    assert.equal(existsSync(lf), false, 'not written synchronously');
    await waitFor(() => mirror.writes >= 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(mirror.writes, 1, 'a burst of commits is one (first, whole) write');
    let parsed = parseLeaseFileText(readFileSync(lf, 'latin1'), lf);
    assert.deepEqual([...parsed.leases.keys()], [0x0a000005, 0x0a000006]);

    // The next changes are appended as records, as ISC appends to dhcpd.leases; the last record wins.
    const released = { ...l, bindingState: 'released' as const, nextBindingState: 'free' as const };
    store.commit([released]);
    store.write((w) =>
      w.putFailoverState({ peer: 'fo', myState: 'normal', myStateTime: 1_764_390_917, partnerState: 'normal', partnerStateTime: 1_764_390_917, mclt: null }),
    );
    await waitFor(() => mirror.appends >= 1);
    assert.equal(mirror.writes, 1);
    assert.equal(mirror.appends, 1);
    const text = readFileSync(lf, 'latin1');
    assert.equal(text.match(/^lease 10\.0\.0\.5 \{/gm)?.length, 2, 'the old record stays, the new one follows');
    parsed = parseLeaseFileText(text, lf);
    assert.equal(parsed.leases.get(0x0a000005)?.bindingState, 'released');
    assert.equal(parsed.failoverStates.get('fo')?.myState, 'normal');
    if (existsSync(DHCPD)) {
      const conf = join(dir, 'mirror.conf');
      writeFileSync(conf, 'failover peer "fo" { secondary; address 127.0.0.1; peer address 127.0.0.2; }\nsubnet 10.0.0.0 netmask 255.255.255.0 { pool { failover peer "fo"; range 10.0.0.5 10.0.0.9; } }\n');
      assert.deepEqual(iscCheck(lf, conf).complaints, []);
      const pools = (f: string): string => spawnSync('/usr/bin/dhcpd-pools', ['-c', conf, '-l', f, '-f', 'c'], { encoding: 'utf8' }).stdout;
      if (existsSync('/usr/bin/dhcpd-pools')) {
        const whole = join(dir, 'mirror-whole.leases');
        await exportLeases({ database: db, output: whole });
        assert.equal(pools(lf), pools(whole), 'dhcpd-pools counts the appended file like a rewritten one');
      }
    }

    // A deletion cannot be appended: the file is rewritten.
    store.write((w) => w.deleteLease(0x0a000006));
    await waitFor(() => mirror.writes >= 2);
    assert.equal(mirror.writes, 2);
    assert.equal(parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.has(0x0a000006), false);

    const l2 = emptyLease(0x0a000007);
    l2.bindingState = 'abandoned';
    store.commit([l2]);
    const appendsBefore = mirror.appends;
    mirror.close();
    store.close();
    // At close the pending record is appended (the file was whole at the last rewrite); no rewrite is owed.
    assert.equal(mirror.writes, 2, 'no whole rewrite at close');
    assert.equal(mirror.appends, appendsBefore + 1);
    assert.equal(parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.get(0x0a000007)?.bindingState, 'abandoned');
    assert.equal(readFileSync(lf, 'latin1').match(/^lease 10\.0\.0\.5 \{/gm)?.length, 1);
  });
});
