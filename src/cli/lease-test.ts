/**
 * `dhcpd -T`: after the config test, read the lease file as the server would and report like ISC:
 * a missing file is ISC's fatal "Can't open lease database …"; every problem is printed as ISC's
 * `FILE line N: message` + source line + caret, followed by "Corrupt lease file - possible data loss!";
 * lease-file problems do not change the exit code (ISC skips bad statements and exits 0).
 * Unlike ISC, nothing is written: ISC rewrites a temporary copy and removes it; we only parse.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { iscCaretLine } from '../../grammar/errors.js';
import { formatLeaseDiagnostic, type LeaseParseContext } from '../../grammar/leases-parser.js';
import { readLeaseFile } from '../../leases/isc-lease-file.js';
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
  let parsed;
  try {
    parsed = readLeaseFile(file, leaseParseContext(config));
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
  logger.info(`Lease file test successful: ${parsed.leases.size} leases read from ${file}.`);
  return { ok: true, leases: parsed.leases.size, problems: parsed.diagnostics.length };
}
