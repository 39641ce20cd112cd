/**
 * The -lf file at server start (leases/commands.ts openServerLeaseStore, leases/lease-file-mirror.ts,
 * leases/lease-file-fingerprint.ts): a file still as we wrote it is neither read nor rewritten (start-up
 * does not grow with the number of leases), one we do not know is rewritten in the background without
 * stopping the event loop, an edit made while the server was stopped is read back (the file wins, as with
 * ISC dhcpd), a broken edit stops the start and leaves the database alone, and a crash is repaired from
 * the database, never imported.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, statSync, utimesSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openServerLeaseStore, LeaseImportError } from '../../leases/commands.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { checkLeaseFile, hashFile, readFingerprint, statFile, type LeaseFileFingerprint } from '../../leases/lease-file-fingerprint.js';
import { parseLeaseFileText } from '../../grammar/leases-parser.js';
import { streamLeaseFile } from '../../leases/isc-lease-file.js';
import { emptyLease, type Lease } from '../../leases/lease.js';
import { writeBigLeaseFile, BIG_FIRST_ADDRESS } from './support/big-lease-file.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leases-start-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function active(address: number, mac: number): Lease {
  const l = emptyLease(address);
  l.bindingState = 'active';
  l.nextBindingState = 'free';
  l.starts = 1_800_000_000;
  l.ends = 1_900_000_000;
  l.hardware = { htype: 1, address: Buffer.from([2, 0, 0, 0, 0, mac & 255]) };
  return l;
}

/** A fresh -lf with `n` leases, imported by a first start, mirrored, closed cleanly. */
async function prepared(name: string, n: number): Promise<{ lf: string; db: string }> {
  const lf = join(dir, `${name}.leases`);
  const db = join(dir, `${name}.sqlite`);
  writeBigLeaseFile(lf, n);
  const first = openServerLeaseStore({ leaseFile: lf, database: db });
  assert.ok(first.imported);
  await first.mirror!.idle();
  first.store.close();
  return { lf, db };
}

describe('-lf at start', () => {
  it('a file still as we wrote it is neither read nor rewritten; changes are appended; a clean stop keeps it so', async () => {
    const { lf, db } = await prepared('known', 100_000);
    const before = statSync(lf, { bigint: true });
    const ro = openSqliteLeaseStore(db, { readOnly: true });
    const fpBefore = readFingerprint(ro);
    ro.close();
    assert.ok(fpBefore?.sha256 && fpBefore.clean, 'the first start recorded the file it wrote');
    const logs: string[] = [];
    const t0 = Date.now();
    const second = openServerLeaseStore({ leaseFile: lf, database: db, log: (l) => logs.push(l), mirror: { debounceMs: 20 } });
    const openMs = Date.now() - t0;
    assert.equal(second.imported, null);
    assert.equal(second.mirror!.rewriting, false, 'no rewrite at start');
    assert.equal(second.store.leaseCount(), 100_000);
    assert.deepEqual(logs, []);
    const after1 = statSync(lf, { bigint: true });
    assert.equal(after1.mtimeNs, before.mtimeNs, 'the file was not touched at start');
    assert.equal(after1.ino, before.ino);
    second.store.commit([active(0x0a000001, 1)]);
    second.store.close();
    assert.equal(second.mirror!.writes, 0, 'no whole rewrite, at start or at close');
    assert.equal(second.mirror!.appends, 1);
    const text = readFileSync(lf, 'latin1');
    assert.match(text.slice(-400), /lease 10\.0\.0\.1 \{/);
    // Appended: the bytes of the file as it was are still its first bytes.
    assert.equal(hashFile(lf, Number(before.size)).prefixSha256, fpBefore?.sha256);
    // The fingerprint follows the appended file, and the stop was clean: the next start does nothing either.
    const ro2 = openSqliteLeaseStore(db, { readOnly: true });
    const fp = readFingerprint(ro2);
    ro2.close();
    assert.ok(fp && fp.clean && fp.pending === null && fp.size === text.length);
    const third = openServerLeaseStore({ leaseFile: lf, database: db });
    assert.equal(third.mirror!.rewriting, false);
    assert.equal(third.imported, null);
    third.store.close();
    // Reported so that a slow start is visible in the test log (no bound: shared CI machines vary).
    console.log(`# open with 100,000 leases and a known -lf: ${openMs} ms`);
  });

  it('a file it does not know is rewritten in the background, with the event loop turning meanwhile', async () => {
    const lf = join(dir, 'bg.leases');
    const db = join(dir, 'bg.sqlite');
    const src = join(dir, 'bg-source.leases');
    writeBigLeaseFile(src, 100_000);
    const imp = openServerLeaseStore({ leaseFile: src, database: db, mirror: false });
    imp.store.close();
    writeFileSync(lf, ''); // -lf names another (empty) file: the database is the truth
    const s = openServerLeaseStore({ leaseFile: lf, database: db, mirrorStartDelayMs: 50 });
    assert.equal(s.imported, null);
    assert.equal(s.mirror!.writes, 0, 'not written during the start itself');
    let ticks = 0;
    const timer = setInterval(() => {
      if (s.mirror!.rewriting) ticks++;
    }, 5);
    await s.mirror!.idle();
    clearInterval(timer);
    assert.equal(s.mirror!.writes, 1);
    assert.ok(ticks >= 3, `timers ran during the rewrite (${ticks} ticks)`);
    const seen = new Map<number, Lease>();
    const view = streamLeaseFile(lf, {}, (l) => seen.set(l.address, l));
    assert.deepEqual(view.diagnostics, []);
    assert.equal(seen.size, 100_000);
    assert.equal(seen.get(BIG_FIRST_ADDRESS + 99_999)?.clientHostname, 'c99999');
    s.store.close();
    // The rewritten file is known now (its hash recorded).
    const ro = openSqliteLeaseStore(db, { readOnly: true });
    const fp = readFingerprint(ro);
    ro.close();
    assert.equal(fp?.sha256, hashFile(lf).sha256);
  });

  it('a stop during a background rewrite completes that rewrite (not a second one) and appends what came meanwhile', async () => {
    const src = join(dir, 'stop-source.leases');
    const lf = join(dir, 'stop.leases');
    const db = join(dir, 'stop.sqlite');
    writeBigLeaseFile(src, 50_000);
    openServerLeaseStore({ leaseFile: src, database: db, mirror: false }).store.close();
    writeFileSync(lf, '');
    const s = openServerLeaseStore({ leaseFile: lf, database: db, mirrorStartDelayMs: 0, mirror: { sliceMs: 1 } });
    for (const end = Date.now() + 10_000; !s.mirror!.rewriting && Date.now() < end; ) await new Promise((r) => setImmediate(r));
    assert.equal(s.mirror!.rewriting, true);
    s.store.commit([active(0x0a000001, 1)]);
    s.store.close();
    assert.equal(s.mirror!.writes, 1, 'one whole write: the one under way, completed');
    const seen = new Map<number, Lease>();
    assert.deepEqual(streamLeaseFile(lf, {}, (l) => seen.set(l.address, l)).diagnostics, []);
    assert.equal(seen.size, 50_001);
    assert.equal(seen.get(0x0a000001)?.bindingState, 'active');
    const ro = openSqliteLeaseStore(db, { readOnly: true });
    const fp = readFingerprint(ro);
    ro.close();
    assert.ok(fp?.clean);
    assert.equal(fp.size, statFile(lf)?.size);
  });

  it('an edit made while the server was stopped is read back at start (the file wins) and logged', async () => {
    const lf = join(dir, 'edit.leases');
    const db = join(dir, 'edit.sqlite');
    const s = openServerLeaseStore({ leaseFile: lf, database: db });
    s.store.commit([active(0x0a000001, 1), active(0x0a000002, 2), active(0x0a000003, 3)]);
    s.store.close();
    // The admin frees 10.0.0.2, removes 10.0.0.3 and adds 10.0.0.4 (and a host) with an editor.
    let text = readFileSync(lf, 'latin1');
    const rec = (a: string): RegExp => new RegExp(`lease ${a.replace(/\./g, '\\.')} \\{[^}]*\\}\\n`);
    text = text.replace(rec('10.0.0.2'), (m) => m.replace('binding state active;', 'binding state free;'));
    text = text.replace(rec('10.0.0.3'), '');
    text += 'lease 10.0.0.4 {\n  binding state active;\n  ends never;\n  hardware ethernet 02:00:00:00:00:04;\n}\n';
    text += 'host printer {\n  dynamic;\n  hardware ethernet 02:00:00:00:00:99;\n  fixed-address 10.0.0.99;\n}\n';
    writeFileSync(lf, text, 'latin1');
    const logs: string[] = [];
    const again = openServerLeaseStore({ leaseFile: lf, database: db, log: (l) => logs.push(l) });
    assert.match(logs[0] ?? '', /^Lease file .*edit\.leases changed since dhcpd-ts last wrote it \(\d+ bytes at .*, now \d+ bytes at .*\): reading it into .*edit\.sqlite/);
    assert.match(logs[1] ?? '', /^Imported 3 leases from /);
    assert.ok(again.imported);
    const st = again.store;
    assert.equal(st.getByAddress(0x0a000001)?.bindingState, 'active');
    assert.equal(st.getByAddress(0x0a000002)?.bindingState, 'free');
    assert.equal(st.getByAddress(0x0a000003), undefined, 'a record removed from the file is gone');
    assert.equal(st.getByAddress(0x0a000004)?.ends, null);
    assert.equal(st.getHost('printer')?.fixedAddresses[0], 0x0a000063);
    await again.mirror!.idle();
    st.close();
    // Read once: the next start sees the file as written and does not import again.
    logs.length = 0;
    const third = openServerLeaseStore({ leaseFile: lf, database: db, log: (l) => logs.push(l) });
    assert.equal(third.imported, null);
    assert.deepEqual(logs, []);
    assert.equal(third.store.getByAddress(0x0a000002)?.bindingState, 'free');
    third.store.close();
  });

  it('an edit that does not parse stops the start with ISC\'s message and leaves the database as it was', () => {
    const lf = join(dir, 'bad.leases');
    const db = join(dir, 'bad.sqlite');
    const s = openServerLeaseStore({ leaseFile: lf, database: db });
    s.store.commit([active(0x0a000001, 1)]);
    s.store.close();
    appendFileSync(lf, 'lease 10.0.0.9 {\n  binding state bogus;\n}\n');
    assert.throws(
      () => openServerLeaseStore({ leaseFile: lf, database: db }),
      (e: unknown) => e instanceof LeaseImportError && /bad\.leases line \d+: bogus: expecting a binding state\./.test(e.message),
    );
    const st = openSqliteLeaseStore(db, { readOnly: true });
    assert.equal(st.leaseCount(), 1);
    assert.equal(st.getByAddress(0x0a000001)?.bindingState, 'active');
    st.close();
  });

  it('a touched but unchanged file is not imported (its hash is the recorded one)', async () => {
    const { lf, db } = await prepared('touch', 50);
    utimesSync(lf, new Date(), new Date(Date.now() + 5000));
    const logs: string[] = [];
    const s = openServerLeaseStore({ leaseFile: lf, database: db, log: (l) => logs.push(l) });
    assert.equal(s.imported, null);
    assert.deepEqual(logs, []);
    assert.equal(s.mirror!.rewriting, false);
    s.store.close();
  });

  it('after a crash the file is rewritten from the database, not imported (it may lack the last changes)', async () => {
    const lf = join(dir, 'crash.leases');
    const db = join(dir, 'crash.sqlite');
    const commands = new URL('../../leases/commands.js', import.meta.url).href;
    const leaseMod = new URL('../../leases/lease.js', import.meta.url).href;
    // A server process: commits A, waits for its append, commits B, and is killed before B reaches the file.
    const script = `import { openServerLeaseStore } from ${JSON.stringify(commands)};
      import { emptyLease } from ${JSON.stringify(leaseMod)};
      const s = openServerLeaseStore({ leaseFile: ${JSON.stringify(lf)}, database: ${JSON.stringify(db)}, mirror: { debounceMs: 10 } });
      const mk = (a) => { const l = emptyLease(a); l.bindingState = 'active'; l.ends = null; return l; };
      await s.mirror.idle();
      s.store.commit([mk(0x0a000001)]);
      while (s.mirror.appends === 0) await new Promise((r) => setTimeout(r, 10));
      s.mirror.flush = () => {}; // the kill comes before the next append
      s.store.commit([mk(0x0a000002)]);
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, 'SIGKILL', r.stderr.slice(-1000));
    assert.equal(parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.has(0x0a000002), false, 'B is only in the database');
    const logs: string[] = [];
    const s = openServerLeaseStore({ leaseFile: lf, database: db, log: (l) => logs.push(l) });
    assert.equal(s.imported, null, 'our own (lagging) file is not read back');
    assert.deepEqual(logs, []);
    assert.equal(s.store.getByAddress(0x0a000002)?.bindingState, 'active');
    await s.mirror!.idle();
    assert.equal(s.mirror!.writes, 1, 'rewritten from the database');
    assert.equal(parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.get(0x0a000002)?.bindingState, 'active');
    s.store.close();
  });

  it('a crash right after a first-start import, before the file was written, still gets the file rewritten', () => {
    const lf = join(dir, 'crash0.leases');
    const db = join(dir, 'crash0.sqlite');
    writeFileSync(lf, '');
    const commands = new URL('../../leases/commands.js', import.meta.url).href;
    const leaseMod = new URL('../../leases/lease.js', import.meta.url).href;
    const script = `import { openServerLeaseStore } from ${JSON.stringify(commands)};
      import { emptyLease } from ${JSON.stringify(leaseMod)};
      const s = openServerLeaseStore({ leaseFile: ${JSON.stringify(lf)}, database: ${JSON.stringify(db)} });
      const l = emptyLease(0x0a000001); l.bindingState = 'active'; l.ends = null;
      s.store.commit([l]);
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, 'SIGKILL', r.stderr.slice(-1000));
    assert.equal(readFileSync(lf, 'latin1'), '', 'the import recorded the empty file; nothing was written to it');
    const s = openServerLeaseStore({ leaseFile: lf, database: db });
    assert.equal(s.imported, null);
    s.store.close(); // a stop before the delayed rewrite: done at close
    assert.equal(parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.get(0x0a000001)?.bindingState, 'active');
  });
});

describe('lease file fingerprint', () => {
  const base = (lf: string): LeaseFileFingerprint => {
    const st = statFile(lf)!;
    return { path: lf, size: st.size, mtimeNs: st.mtimeNs, sha256: hashFile(lf).sha256, records: 1, appended: 0, pending: null, clean: true };
  };

  it('tells our completed and cut-short writes from edits', () => {
    const lf = join(dir, 'fp.leases');
    writeFileSync(lf, 'lease 10.0.0.1 {\n  binding state free;\n}\n');
    const fp = base(lf);
    assert.equal(checkLeaseFile(lf, fp).kind, 'ours');
    assert.equal(checkLeaseFile(lf, { ...fp, path: join(dir, 'other.leases') }).kind, 'unknown');
    assert.equal(checkLeaseFile(join(dir, 'missing.leases'), { ...fp, path: join(dir, 'missing.leases') }).kind, 'unknown');
    assert.equal(checkLeaseFile(lf, null).kind, 'unknown');
    const record = 'lease 10.0.0.2 {\n  binding state free;\n}\n';
    // An append that completed before its final note: the pending size (and hash) match.
    appendFileSync(lf, record);
    const full = hashFile(lf).sha256;
    assert.equal(checkLeaseFile(lf, { ...fp, pending: { size: fp.size + record.length, sha256: full } }).kind, 'ours');
    assert.equal(checkLeaseFile(lf, { ...fp, pending: { size: fp.size + record.length, sha256: null }, sha256: null }).kind, 'ours');
    // Without a pending note, the same bytes are an edit (someone appended by hand).
    assert.equal(checkLeaseFile(lf, fp).kind, 'edited');
    // Cut short: our content, then part of the pending append.
    writeFileSync(lf, readFileSync(lf).subarray(0, fp.size + 10));
    assert.equal(checkLeaseFile(lf, { ...fp, pending: { size: fp.size + record.length, sha256: full } }).kind, 'damaged');
    // The same size but our content changed before it: an edit.
    const b = readFileSync(lf);
    b[0] = 0x23;
    writeFileSync(lf, b);
    assert.equal(checkLeaseFile(lf, { ...fp, pending: { size: fp.size + record.length, sha256: full } }).kind, 'edited');
    assert.ok(existsSync(lf));
  });
});
