/**
 * -lf as a view of the database kept by leases/lease-file-mirror.ts: every change reaches the file within
 * about `debounceMs` through a temporary file renamed into place (a new inode each time, never a write into
 * the file a reader has open), a reader polling the file while commits flow always finds a whole file that
 * parses, flushes are paced, and a compaction (whole rewrite) runs in the background with flushes going on,
 * ending with everything committed meanwhile.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServerLeaseStore } from '../../leases/commands.js';
import { parseLeaseFileText } from '../../grammar/leases-parser.js';
import { streamLeaseFile } from '../../leases/isc-lease-file.js';
import { emptyLease, type Lease } from '../../leases/lease.js';
import { BIG_FIRST_ADDRESS } from './support/big-lease-file.js';

const DHCPD = '/usr/sbin/dhcpd';
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leases-view-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function active(address: number, mac: number, hostname?: string): Lease {
  const l = emptyLease(address);
  l.bindingState = 'active';
  l.nextBindingState = 'free';
  l.starts = 1_800_000_000;
  l.ends = 1_900_000_000;
  l.hardware = { htype: 1, address: Buffer.from([2, 0, 0, 0, (mac >> 8) & 255, mac & 255]) };
  if (hostname !== undefined) l.clientHostname = hostname;
  return l;
}

/** A database of `n` active leases from 10.128.0.2 and its -lf, written by a first run that stopped cleanly. */
async function prepared(name: string, n: number): Promise<{ lf: string; db: string }> {
  const lf = join(dir, `${name}.leases`);
  const db = join(dir, `${name}.sqlite`);
  const first = openServerLeaseStore({ leaseFile: lf, database: db, mirrorStartDelayMs: 0 });
  first.store.write((w) => {
    for (let i = 0; i < n; i++) w.putLease(active(BIG_FIRST_ADDRESS + i, i, `c${i}`));
  });
  await first.mirror!.idle();
  first.store.close();
  return { lf, db };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !done(); ) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('-lf kept current by renaming', () => {
  it('each change reaches the file within the flush interval, as a new inode; readers always see a whole file', async () => {
    const lf = join(dir, 'flow.leases');
    const db = join(dir, 'flow.sqlite');
    const s = openServerLeaseStore({ leaseFile: lf, database: db, mirrorStartDelayMs: 0, mirror: { debounceMs: 200 } });
    await s.mirror!.idle();
    assert.ok(existsSync(lf), 'written at start (a file the database did not know)');

    // One change: in the file within the interval (plus slack for a loaded machine), by a rename.
    const ino0 = statSync(lf).ino;
    const t0 = Date.now();
    s.store.commit([active(0x0a000001, 1, 'first')]);
    await until('the first record in -lf', () => parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.get(0x0a000001)?.clientHostname === 'first');
    const firstMs = Date.now() - t0;
    assert.notEqual(statSync(lf).ino, ino0, 'a new file renamed into place, not a write into the old one');

    // Commits every ~5 ms for 2 s while a reader parses the file as fast as it can: never a partial file.
    let reads = 0;
    let bad = 0;
    // Inode numbers are reused (ext4 hands the freed one to the next temporary file): count changes.
    let replaced = 0;
    let lastIno = statSync(lf).ino;
    const flushesBefore = s.mirror!.appends;
    let stop = false;
    const reader = (async (): Promise<void> => {
      while (!stop) {
        const text = readFileSync(lf, 'latin1');
        const ino = statSync(lf).ino;
        if (ino !== lastIno) replaced++;
        lastIno = ino;
        if (parseLeaseFileText(text, lf).diagnostics.length > 0 || !text.endsWith('}\n')) bad++;
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    let n = 0;
    for (const end = Date.now() + 2000; Date.now() < end; n++) {
      s.store.commit([active(0x0a000100 + (n % 200), n, `c${n}`)]);
      await sleep(5);
    }
    stop = true;
    await reader;
    const flushes = s.mirror!.appends - flushesBefore;
    // The last commit arrives within an interval and a flush.
    const last = 0x0a000100 + ((n - 1) % 200);
    await until('the last record in -lf', () => parseLeaseFileText(readFileSync(lf, 'latin1'), lf).leases.get(last)?.clientHostname === `c${n - 1}`);
    assert.equal(bad, 0, `${bad} of ${reads} reads found a file that does not parse`);
    assert.ok(reads >= 20, `the reader read (${reads})`);
    assert.ok(replaced >= 2, `the file was replaced while read (${replaced} times seen)`);
    // Paced: one flush start per 200 ms at most (2 s of commits: 10, plus the one under way at each end).
    assert.ok(flushes >= 2 && flushes <= 12, `${flushes} flushes for ${n} commits in 2 s`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('flow.leases.') && f.endsWith('.tmp')), [], 'no temporary file left');
    s.store.close();
    // At close the file holds the database: every address's last record is its lease.
    const view = parseLeaseFileText(readFileSync(lf, 'latin1'), lf);
    assert.equal(view.leases.size, Math.min(n, 200) + 1);
    for (let i = Math.max(0, n - 200); i < n; i++) assert.equal(view.leases.get(0x0a000100 + (i % 200))?.clientHostname, `c${i}`);
    console.log(`# first change in -lf after ${firstMs} ms; ${n} commits in 2 s → ${flushes} flushes; ${reads} reads, all whole`);
  });

  it('a compaction runs in the background while flushes go on, and ends with everything committed meanwhile', async () => {
    // 20,000 leases and slow slices so that the compaction lasts a while (several flush intervals: with
    // 10,000 it could end before the first flush once records were formatted faster); a deletion makes one
    // due (no record can say it). Write-back by 1 MiB: the ~5 MB file is copied and compacted in several
    // written-back chunks.
    const { lf, db } = await prepared('compact', 20_000);
    const s = openServerLeaseStore({
      leaseFile: lf,
      database: db,
      mirror: { debounceMs: 100, sliceMs: 1, syncChunkBytes: 1 << 20, flushSyncChunkBytes: 1 << 20 },
    });
    assert.equal(s.mirror!.rewriting, false, 'a known file: no rewrite at start');
    s.store.write((w) => w.deleteLease(BIG_FIRST_ADDRESS));
    await until('the compaction', () => s.mirror!.rewriting);
    const writes = s.mirror!.writes;
    const flushes = s.mirror!.appends;
    // Commits during the compaction reach the (old) file by flushes, before the compaction ends.
    let n = 0;
    let seenDuring = false;
    while (s.mirror!.rewriting && n < 2000) {
      s.store.commit([active(BIG_FIRST_ADDRESS + 1 + (n % 50), n, `during${n}`)]);
      n++;
      await sleep(20);
      if (s.mirror!.rewriting && s.mirror!.appends > flushes) seenDuring = true;
    }
    assert.ok(seenDuring, `flushes went on during the compaction (${s.mirror!.appends - flushes} flushes, ${n} commits)`);
    await s.mirror!.idle();
    assert.equal(s.mirror!.writes, writes + 1, 'one compaction');
    // Right after the compaction, before any later flush: the deleted lease is gone, every commit made during
    // it is there (the last record of each address), and the file parses.
    const seen = new Map<number, Lease>();
    const parsed = streamLeaseFile(lf, {}, (l) => seen.set(l.address, l));
    assert.deepEqual(parsed.diagnostics, []);
    assert.equal(seen.has(BIG_FIRST_ADDRESS), false, 'the deleted lease is not in the compacted file');
    for (let i = Math.max(0, n - 50); i < n; i++) assert.equal(seen.get(BIG_FIRST_ADDRESS + 1 + (i % 50))?.clientHostname, `during${i}`);
    assert.equal(seen.size, 19_999);
    if (existsSync(DHCPD)) {
      const conf = join(dir, 'compact.conf');
      writeFileSync(conf, 'subnet 10.128.0.0 netmask 255.255.0.0 { range 10.128.0.2 10.128.200.0; }\n');
      const r = spawnSync(DHCPD, ['-4', '-T', '-lf', lf, '-cf', conf, '-pf', join(dir, 'c.pid')], { encoding: 'latin1', timeout: 60_000 });
      assert.deepEqual(`${r.stdout}\n${r.stderr}`.split('\n').filter((l) => / line \d+:|orrupt lease file/.test(l)), []);
      assert.equal(r.status, 0, r.stderr.slice(-500));
    }
    s.store.close();
  });

  it('a stop during a compaction made only to shed repeated records drops it and flushes (quicker, as right)', async () => {
    const { lf, db } = await prepared('shed', 20_000);
    const s = openServerLeaseStore({ leaseFile: lf, database: db, mirror: { debounceMs: 0, sliceMs: 1 } });
    // More changed records than records written at the last whole write... of 1,000 at least: a compaction
    // to shed them is due (nothing else: the file is known and was closed cleanly).
    const changed: Lease[] = [];
    for (let i = 0; i < 21_000; i++) changed.push(active(BIG_FIRST_ADDRESS + (i % 20_000), i, `shed${i}`));
    s.store.write((w) => {
      for (const l of changed) w.putLease(l);
    });
    for (const end = Date.now() + 10_000; !s.mirror!.rewriting; ) {
      assert.ok(Date.now() < end, 'the compaction starts');
      await new Promise((r) => setImmediate(r));
    }
    const t0 = Date.now();
    s.store.close();
    const closeMs = Date.now() - t0;
    assert.equal(s.mirror!.writes, 0, 'the compaction was dropped, not completed');
    const seen = new Map<number, Lease>();
    assert.deepEqual(streamLeaseFile(lf, {}, (l) => seen.set(l.address, l)).diagnostics, []);
    assert.equal(seen.size, 20_000);
    for (let i = 1_000; i < 21_000; i++) assert.equal(seen.get(BIG_FIRST_ADDRESS + (i % 20_000))?.clientHostname, `shed${i}`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('shed.leases.') && f.endsWith('.tmp')), []);
    // Clean: the next start neither reads nor rewrites it (the compaction comes when changes do).
    const again = openServerLeaseStore({ leaseFile: lf, database: db });
    assert.equal(again.imported, null);
    assert.equal(again.mirror!.rewriting, false);
    again.store.close();
    console.log(`# close during a shedding compaction: ${closeMs} ms`);
  });

  it('temporary files left by a killed server are removed at the next start; a live process\'s are not', async () => {
    const { lf, db } = await prepared('stale', 10);
    // The pid of a process that has exited, and one that runs (this one's parent).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();
    const names = [`stale.leases.${dead}.tmp`, `stale.leases.${dead}.flush.tmp`, `stale.leases.${dead}.close.tmp`, `stale.leases.${process.ppid}.flush.tmp`, 'stale.leases.backup.tmp'];
    for (const n of names) writeFileSync(join(dir, n), 'lease 10.0.0.1 {\n');
    const s = openServerLeaseStore({ leaseFile: lf, database: db });
    s.store.close();
    const left = readdirSync(dir).filter((f) => f.startsWith('stale.leases.') && f.endsWith('.tmp')).sort();
    assert.deepEqual(left, [`stale.leases.${process.ppid}.flush.tmp`, 'stale.leases.backup.tmp'].sort());
  });

  it('a stop while a flush is under way writes its records too', async () => {
    const { lf, db } = await prepared('stop', 5_000);
    const s = openServerLeaseStore({ leaseFile: lf, database: db, mirror: { debounceMs: 0 } });
    s.store.commit([active(0x0a000001, 1, 'in-flight')]);
    // The flush starts on the next timer turn and copies the file off the event loop, in several steps each
    // needing an I/O round trip: polled every turn of the event loop, it is seen under way.
    for (const end = Date.now() + 5000; !s.mirror!.flushing; ) {
      assert.ok(Date.now() < end, 'a flush under way');
      await new Promise((r) => setImmediate(r));
    }
    s.store.commit([active(0x0a000002, 2, 'pending')]);
    s.store.close();
    const view = parseLeaseFileText(readFileSync(lf, 'latin1'), lf);
    assert.deepEqual(view.diagnostics, []);
    assert.equal(view.leases.get(0x0a000001)?.clientHostname, 'in-flight');
    assert.equal(view.leases.get(0x0a000002)?.clientHostname, 'pending');
    assert.equal(view.leases.size, 5_002);
    // Whatever the abandoned flush still does, it renames nothing over the file close wrote.
    const size = statSync(lf).size;
    await sleep(300);
    assert.equal(statSync(lf).size, size);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('stop.leases.') && f.endsWith('.tmp')), []);
  });
});
