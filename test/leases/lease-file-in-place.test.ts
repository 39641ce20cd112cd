/**
 * writeLeaseFile's in-place mode (a server running as -user rewrites its chowned dhcpd.leases in a
 * directory it cannot create files in): the same bytes as the temp-file + rename write, a longer old file
 * truncated, the inode kept (so the owner ISC gave it stays), and no temp file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLeaseFile, type LeaseFileContents } from '../../leases/isc-lease-file.js';
import { emptyLease, ipv4FromString } from '../../leases/lease.js';

test('in-place lease file rewrite: same bytes as the atomic write, truncated, same inode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-inplace-'));
  try {
    const l = emptyLease(ipv4FromString('10.0.0.5')!);
    l.bindingState = 'active';
    l.nextBindingState = 'free';
    l.starts = 1_800_000_000;
    l.ends = 1_800_000_600;
    l.hardware = { htype: 1, address: Buffer.from([0x52, 0x54, 0, 0, 0, 1]) };
    const c: LeaseFileContents = { leases: [l], authoringByteOrder: 'little-endian' };
    const atomic = join(dir, 'a.leases');
    writeLeaseFile(atomic, c);
    const inPlace = join(dir, 'b.leases');
    writeFileSync(inPlace, 'x'.repeat(100_000));
    const ino = statSync(inPlace).ino;
    const r = writeLeaseFile(inPlace, c, {}, true);
    const expected = readFileSync(atomic);
    assert.ok(readFileSync(inPlace).equals(expected));
    assert.equal(r.bytes, expected.length);
    assert.equal(statSync(inPlace).ino, ino);
    assert.match(expected.toString('latin1'), /lease 10\.0\.0\.5 \{/);
    assert.deepEqual(readdirSync(dir).sort(), ['a.leases', 'b.leases']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
