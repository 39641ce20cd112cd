/**
 * `dhcpd -T`: after the config test, read the lease file as the server would and report like ISC:
 * a missing file is ISC's fatal "Can't open lease database …"; every problem is printed as ISC's
 * `FILE line N: message` + source line + caret, followed by "Corrupt lease file - possible data loss!";
 * lease-file problems do not change the exit code (ISC skips bad statements and exits 0). A lease whose address
 * is in no pool's range is ISC's "lease A.B.C.D: no subnet." and is not counted.
 * Unlike ISC, nothing is written: ISC rewrites a temporary copy and removes it; we only parse.
 *
 * The file is read in bounded memory (1 MB at a time, record by record, as leases/isc-lease-file.ts's
 * streamLeaseFile does): a 1,000,000-lease file is ~260 MB of text, more than V8's heap takes as one
 * parse. Only the addresses are kept (4 bytes a record, outside the JS heap) to count distinct leases.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type { Config } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { iscCaretLine } from '../../grammar/errors.js';
import { formatLeaseDiagnostic, type LeaseParseContext, type ParsedLeaseFile } from '../../grammar/leases-parser.js';
import { LeaseFileStreamParser } from '../../grammar/leases-stream.js';
import { strerror } from './argv.js';

const CORRUPT = 'Corrupt lease file - possible data loss!';

/** The lines ISC logs (as one log_fatal) when the lease database cannot be opened. */
export function cantOpenLeaseDatabase(file: string, reason: string): string {
  return (
    `Can't open lease database ${file}: ${reason} --\n` +
    '  check for failed database rewrite attempt!\n' +
    'Please read the dhcpd.leases manual page if you\n' +
    "don't know what to do about this."
  );
}

/** What the configuration tells the lease parser (ISC checks failover peers, classes, hosts). */
export function leaseParseContext(config: Config): LeaseParseContext {
  const peers = new Map<string, 'primary' | 'secondary'>();
  for (const [name, p] of config.failoverPeers) peers.set(name, p.role);
  return { failoverPeers: peers, classes: new Set(config.classes.keys()), hosts: new Set(config.hostsByName.keys()) };
}

export type LeaseTestResult = { ok: true; leases: number; problems: number } | { ok: false; fatal: string };

/** Reads `file`, logging ISC's diagnostics through `logger`. */
export function testLeaseFile(file: string, config: Config, logger: Logger): LeaseTestResult {
  if (!existsSync(file)) return { ok: false, fatal: cantOpenLeaseDatabase(file, 'No such file or directory') };
  const addresses = new AddressCounter();
  const inRange = rangeMembership(config);
  let parsed: ParsedLeaseFile;
  try {
    parsed = streamLeases(file, leaseParseContext(config), (address) => {
      // ISC's enter_lease: an address in no pool's range has no lease structure to take the record.
      if (inRange(address)) addresses.add(address);
      else logger.error(`lease ${formatAddress(address)}: no subnet.`);
    });
  } catch (e) {
    return { ok: false, fatal: cantOpenLeaseDatabase(file, strerror(e)) };
  }
  let corruptLine = false;
  for (const d of parsed.diagnostics) {
    // ISC logs this one bare (log_error, not parse_warn), after the positioned ones.
    if (d.message === CORRUPT) {
      corruptLine = true;
      continue;
    }
    logger.error(formatLeaseDiagnostic(d));
    logger.error(d.sourceLine);
    logger.error(iscCaretLine(d.sourceLine, d.column));
  }
  if (corruptLine || parsed.diagnostics.length > 0) logger.error(CORRUPT);
  const leases = addresses.distinct();
  logger.info(`Lease file test successful: ${leases} leases read from ${file}.`);
  return { ok: true, leases, problems: parsed.diagnostics.length };
}

function formatAddress(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** A test for "inside some pool's range" (binary search over the merged ranges of the config). */
export function rangeMembership(config: Config): (address: number) => boolean {
  const spans = config.pools.flatMap((p) => p.ranges.map((r) => [r.first, r.last] as [number, number])).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [first, last] of spans) {
    const top = merged[merged.length - 1];
    if (top && first <= top[1] + 1) top[1] = Math.max(top[1], last);
    else merged.push([first, last]);
  }
  return (address) => {
    let lo = 0;
    let hi = merged.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, last] = merged[mid]!;
      if (address < first) hi = mid - 1;
      else if (address > last) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/**
 * Parses `file` 1 MB at a time, giving every lease record's address to `onLease`. Not streamLeaseFile
 * itself: it stops calling its sink at the first diagnostic (right for an import), but ISC's -T goes on
 * entering the leases after a bad statement, and the count we print includes them.
 */
function streamLeases(file: string, ctx: LeaseParseContext, onLease: (address: number) => void): ParsedLeaseFile {
  const parser = new LeaseFileStreamParser(file, ctx, (l) => onLease(l.address));
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      // latin1: one char a byte, as ISC reads (a chunk boundary never splits a character).
      parser.push(buf.toString('latin1', 0, n));
    }
  } finally {
    closeSync(fd);
  }
  return parser.end();
}

/** Distinct IPv4 addresses (uint32) among many: a growing typed array, sorted once at the end. */
class AddressCounter {
  private buf = new Uint32Array(1 << 16);
  private n = 0;

  add(address: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Uint32Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = address;
  }

  /** How many different addresses were added (ISC keeps one lease an address: the last record wins). */
  distinct(): number {
    const a = this.buf.subarray(0, this.n).sort();
    let count = 0;
    for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) count++;
    return count;
  }
}
