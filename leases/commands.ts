/**
 * `dhcpd-ts import` / `dhcpd-ts export` and the server's first-start migration, for the CLI to wire.
 *
 * - {@link importLeases}: dhcpd.leases → database, in ONE transaction: all or nothing. A lease file with
 *   any diagnostic (ISC would log `FILE line N: …` and skip part of it) imports nothing and throws
 *   {@link LeaseImportError} whose message is ISC's first line.
 * - {@link exportLeases}: database → ISC dhcpd.leases (to a file via temp + rename, or to a stream).
 * - {@link openServerLeaseStore}: what `dhcpd-ts -lf FILE [-db DB]` does at start: open DB (default
 *   `FILE.sqlite`), or, when it does not exist yet, create it by importing FILE and say so.
 *
 * @module
 */
import { closeSync, existsSync, openSync, unlinkSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Writable } from 'node:stream';
import { ipv4ToString, type Lease } from './lease.js';
import type { StateCounts } from './lease-store.js';
import { openSqliteLeaseStore, type SqliteLeaseStore } from './sqlite-lease-store.js';
import { leaseFileParts, storeContents, streamLeaseFile, writeLeaseFile, writeParsedToStore, type LeaseFileFormatOptions, type StreamedLeaseFile } from './isc-lease-file.js';
import { formatLeaseDiagnostic, type LeaseFileDiagnostic, type LeaseParseContext, type SkippedRecord } from '../grammar/leases-parser.js';
import { inSomeSubnet, readLeaseConfigFacts, type LeaseConfigFacts } from './config-facts.js';
import { checkLeaseFile, readFingerprint, statFile, writeFingerprint, type LeaseFileFingerprint } from './lease-file-fingerprint.js';
import { LeaseFileMirror, type LeaseFileMirrorOptions } from './lease-file-mirror.js';

export { writeFileAtomically } from './atomic-write.js';

/** The database path used when none is given: beside the lease file. */
export function defaultDatabasePath(leaseFile: string): string {
  return `${leaseFile}.sqlite`;
}

export interface ImportOptions {
  /** The dhcpd.leases to read. */
  leaseFile: string;
  /** The database to write (created when missing). */
  database: string;
  /**
   * dhcpd.conf: when given, ISC's checks against it apply (unknown failover peer / class, host already
   * exists are errors; leases in no configured subnet are skipped, as ISC drops them).
   */
  configFile?: string;
  /**
   * With configFile: drop leases outside every configured subnet, as ISC does at start ("lease X: no
   * subnet."). Default true; false keeps them (and only the peer/class/host checks apply).
   */
  dropLeasesOutsideSubnets?: boolean;
  /** Allow importing into a database that already holds leases (its leases are replaced; other records are upserted). */
  replace?: boolean;
  /** Current time for ISC's derived binding states. Default now. */
  now?: number;
  /** `dont-use-fsync` (otherwise taken from configFile). */
  dontUseFsync?: boolean;
}

/** What an import did. */
export interface ImportSummary {
  leaseFile: string;
  database: string;
  /** Leases written. */
  leases: number;
  leasesByState: StateCounts;
  hosts: number;
  deletedHosts: number;
  groups: number;
  classes: number;
  /** Failover relationships whose state was imported, with the states. */
  failoverStates: { peer: string; myState: string; partnerState: string }[];
  serverDuid: boolean;
  /** Lease records superseded by a later record for the same address (ISC: the last wins). */
  supersededLeaseRecords: number;
  skipped: SkippedRecord[];
}

/** A lease file that cannot be imported. `message` is ISC's `FILE line N: message`. */
export class LeaseImportError extends Error {
  constructor(
    readonly diagnostics: LeaseFileDiagnostic[],
    message = diagnostics[0] ? formatLeaseDiagnostic(diagnostics[0]) : 'lease file cannot be imported',
  ) {
    super(message);
    this.name = 'LeaseImportError';
  }

  /** ISC's three-line display of the first diagnostic (message, source line, caret). */
  get display(): string {
    const d = this.diagnostics[0];
    if (!d) return this.message;
    let caret = '';
    for (let i = 0; i < d.column - 1 && i < d.sourceLine.length; i++) caret += d.sourceLine[i] === '\t' ? '\t' : ' ';
    return `${formatLeaseDiagnostic(d)}\n${d.sourceLine}\n${caret}^`;
  }
}

function contextFrom(facts: LeaseConfigFacts | undefined, now: number | undefined): LeaseParseContext {
  const ctx: LeaseParseContext = {};
  if (now !== undefined) ctx.now = now;
  if (facts) {
    ctx.failoverPeers = facts.failoverPeers;
    ctx.classes = facts.classes;
    ctx.hosts = facts.hosts;
  }
  return ctx;
}

/**
 * Imports a dhcpd.leases into the database in one transaction. Throws {@link LeaseImportError} (nothing
 * written) for a file with any diagnostic, or when the database already holds leases and `replace` is not
 * set; throws LeaseStoreError for a database it cannot use.
 */
export function importLeases(opts: ImportOptions): ImportSummary {
  // A lease file that cannot be read fails here, before any database is created (fs's ENOENT/EACCES error).
  closeSync(openSync(opts.leaseFile, 'r'));
  const facts = opts.configFile ? readLeaseConfigFacts(opts.configFile) : undefined;
  const created = !existsSync(opts.database);
  const store = openSqliteLeaseStore(opts.database, { dontUseFsync: opts.dontUseFsync ?? facts?.dontUseFsync ?? false });
  let ok = false;
  try {
    const summary = importIntoStore(store, opts, facts);
    ok = true;
    return summary;
  } finally {
    store.close();
    // A database this import created and could not fill is removed: nothing half-made stays behind.
    if (!ok && created) removeDatabase(opts.database);
  }
}

/**
 * The import itself, into an open store (what {@link importLeases} and the server's start-up do). The
 * file's size, mtime and hash as read are recorded with the data (leases/lease-file-fingerprint.ts), so
 * that a server whose -lf is this file knows it and reads it again only after it changes.
 */
export function importIntoStore(store: SqliteLeaseStore, opts: ImportOptions, facts?: LeaseConfigFacts): ImportSummary {
  const skipped: SkippedRecord[] = [];
  const keep = (l: Lease): boolean => {
    if (facts && opts.dropLeasesOutsideSubnets !== false && !inSomeSubnet(facts, l.address)) {
      skipped.push({ line: 0, what: `lease ${ipv4ToString(l.address)}`, reason: 'no subnet (not in any subnet of the configuration; ISC drops it too)' });
      return false;
    }
    return true;
  };
  const existing = store.leaseCount();
  if (existing > 0 && !opts.replace) {
    throw new LeaseImportError([], `${opts.database}: database already holds ${existing} leases; not importing over them`);
  }
  const path = resolvePath(opts.leaseFile);
  const before = statFile(path);
  let parsed: StreamedLeaseFile | undefined;
  let written = 0;
  // One transaction, all or nothing: the file is parsed record by record and each lease written as it
  // comes (INSERT OR REPLACE: the last record of an address wins, as in ISC), so memory stays bounded
  // whatever the file's size. A diagnostic anywhere rolls everything back.
  store.write((w) => {
    if (existing > 0) w.clearLeases();
    parsed = streamLeaseFile(opts.leaseFile, contextFrom(facts, opts.now), (l) => {
      if (keep(l)) {
        w.putLease(l);
        written++;
      }
    });
    if (parsed.diagnostics.length > 0) throw new LeaseImportError(parsed.diagnostics);
    writeParsedToStore(parsed, w);
    const after = statFile(path);
    // Recorded only if the file did not change while it was read.
    if (before !== null && after !== null && before.size === after.size && before.mtimeNs === after.mtimeNs && after.size === parsed.bytes) {
      const fp: LeaseFileFingerprint = { path, size: after.size, mtimeNs: after.mtimeNs, sha256: parsed.sha256, records: parsed.leaseRecords, appended: 0, pending: null, clean: true };
      writeFingerprint(store, fp);
    }
  });
  const p = parsed!;
  const hosts = [...p.hosts.values()];
  const leases = store.leaseCount();
  return {
    leaseFile: opts.leaseFile,
    database: opts.database,
    leases,
    leasesByState: store.countByState(),
    hosts: hosts.filter((h) => !h.deleted).length,
    deletedHosts: hosts.filter((h) => h.deleted).length,
    groups: p.groups.size,
    classes: p.classes.size,
    failoverStates: [...p.failoverStates.values()].map((f) => ({ peer: f.peer, myState: f.myState, partnerState: f.partnerState })),
    serverDuid: p.serverDuid !== null,
    supersededLeaseRecords: written - leases,
    skipped: [...p.skipped, ...skipped],
  };
}

/** Removes a database file with its WAL and shared-memory files. */
function removeDatabase(database: string): void {
  for (const f of [database, `${database}-wal`, `${database}-shm`]) {
    try {
      unlinkSync(f);
    } catch {
      // not there
    }
  }
}

/** A human summary of an import, one fact per line (what `dhcpd-ts import` prints). */
export function formatImportSummary(s: ImportSummary): string {
  const lines = [`Imported ${s.leases} leases from ${s.leaseFile} into ${s.database}.`];
  const states = Object.entries(s.leasesByState)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  if (states) lines.push(`  by binding state: ${states}`);
  lines.push(`  hosts: ${s.hosts} (deleted: ${s.deletedHosts}), groups: ${s.groups}, classes: ${s.classes}`);
  for (const f of s.failoverStates) lines.push(`  failover peer "${f.peer}": my state ${f.myState}, partner state ${f.partnerState}`);
  if (s.serverDuid) lines.push('  server-duid: kept');
  if (s.supersededLeaseRecords) lines.push(`  ${s.supersededLeaseRecords} older records for the same address superseded (the last wins)`);
  for (const k of s.skipped) lines.push(`  skipped ${k.what}${k.line ? ` (line ${k.line})` : ''}: ${k.reason}`);
  return lines.join('\n');
}

export interface ExportOptions {
  database: string;
  /** A file path (written to a temp file and renamed into place), `-` for stdout, or a stream. */
  output: string | Writable;
  /** dhcpd.conf, for `db-time-format` and `lease-id-format`. */
  configFile?: string;
  format?: LeaseFileFormatOptions;
}

export interface ExportSummary {
  leases: number;
  bytes: number;
}

/** Writes the database as an ISC dhcpd.leases. The database is opened read-only. */
export async function exportLeases(opts: ExportOptions): Promise<ExportSummary> {
  const facts = opts.configFile ? readLeaseConfigFacts(opts.configFile) : undefined;
  const format: LeaseFileFormatOptions = { ...opts.format };
  if (facts) {
    format.dbTimeFormat ??= facts.dbTimeFormat;
    format.leaseIdFormat ??= facts.leaseIdFormat;
  }
  const store = openSqliteLeaseStore(opts.database, { readOnly: true, integrityCheck: 'quick' });
  try {
    const leases = store.leaseCount();
    if (typeof opts.output === 'string' && opts.output !== '-') {
      const r = writeLeaseFile(opts.output, storeContents(store), format);
      return { leases, bytes: r.bytes };
    }
    const out = opts.output === '-' ? process.stdout : opts.output;
    let bytes = 0;
    let chunk: string[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      const b = Buffer.from(chunk.join(''), 'latin1');
      chunk = [];
      size = 0;
      bytes += b.length;
      await new Promise<void>((resolve, reject) => out.write(b, (e) => (e ? reject(e) : resolve())));
    };
    for (const part of leaseFileParts(storeContents(store), format)) {
      chunk.push(part);
      size += part.length;
      if (size >= 1 << 20) await flush();
    }
    await flush();
    return { leases, bytes };
  } finally {
    store.close();
  }
}

export interface ServerStoreOptions {
  /** `-lf FILE`. */
  leaseFile: string;
  /** `-db FILE`; default {@link defaultDatabasePath}. */
  database?: string;
  configFile?: string;
  dontUseFsync?: boolean;
  /** Told about the first-start import (ISC-style info line) and about lease-file rewrite failures. */
  log?: (line: string) => void;
  /**
   * Keep `leaseFile` current as an ISC-format view of the database (default true): within about
   * `debounceMs` of each commit a copy of the file with the changed records appended is renamed into place
   * (leases/lease-file-mirror.ts), compacted (rewritten whole) in the background when needed (a file we
   * did not write, a crash, a deletion, repeated records outnumbering records, hourly), and pending records
   * written when the store is closed.
   */
  mirror?: boolean | LeaseFileMirrorOptions;
  /** Delay before a rewrite owed at start begins (ms, default 2000: after the server's own start-up). */
  mirrorStartDelayMs?: number;
}

/**
 * Opens the server's lease store. When the database does not exist yet and the lease file does, the lease
 * file is imported first (one transaction) and the import is logged; a lease file that cannot be imported
 * throws {@link LeaseImportError}. A corrupt database throws LeaseStoreError (never replaced).
 *
 * When the database exists, the lease file is compared with what the database recorded when dhcpd-ts last
 * wrote it (size, mtime, hash; leases/lease-file-fingerprint.ts). A file changed since (edited while the
 * server was stopped, as ISC users do) is read back: imported over the database's leases, the last record
 * of an address winning, and logged; a file that cannot be parsed stops the start with ISC's `FILE line N:`
 * message and leaves the database as it was. A file still as we wrote it is not read (start-up does not
 * depend on the number of leases) and the mirror goes on flushing changes onto it (a copy with the
 * records appended, renamed into place); a file we know nothing about is rewritten from the database in
 * the background.
 */
export function openServerLeaseStore(opts: ServerStoreOptions): {
  store: SqliteLeaseStore;
  imported: ImportSummary | null;
  /** The -lf view writer (closed, with pending records written, when the store is closed). */
  mirror: LeaseFileMirror | null;
} {
  const database = opts.database ?? defaultDatabasePath(opts.leaseFile);
  let imported: ImportSummary | null = null;
  const facts = opts.configFile !== undefined && existsSync(opts.configFile) ? readLeaseConfigFacts(opts.configFile) : undefined;
  const io: ImportOptions = { leaseFile: opts.leaseFile, database };
  if (opts.configFile !== undefined) io.configFile = opts.configFile;
  if (opts.dontUseFsync !== undefined) io.dontUseFsync = opts.dontUseFsync;
  if (!existsSync(database) && existsSync(opts.leaseFile)) {
    try {
      imported = importLeases(io);
    } catch (e) {
      // Leave no half-made database behind: the next start retries the import.
      removeDatabase(database);
      throw e;
    }
    opts.log?.(formatImportSummary(imported));
  }
  const store = openSqliteLeaseStore(database, { dontUseFsync: opts.dontUseFsync ?? facts?.dontUseFsync ?? false });
  let known = false;
  let clean = false;
  try {
    const path = resolvePath(opts.leaseFile);
    const state = imported !== null ? null : checkLeaseFile(path, readFingerprint(store));
    if (state?.kind === 'ours') {
      known = true;
      const fp = readFingerprint(store)!;
      clean = fp.clean === true && fp.pending === null;
      if (fp.size !== state.size || fp.mtimeNs !== state.mtimeNs || fp.pending !== null) {
        // A write of ours that completed without its final note (crash), or a touch: note the file as it is
        // (a crash also left it unclean: it is rewritten below).
        try {
          writeFingerprint(store, { ...fp, size: state.size, mtimeNs: state.mtimeNs, sha256: state.sha256, pending: null });
        } catch {
          clean = false; // cannot note it (disk full?): rewrite it when possible
        }
      }
    } else if (state?.kind === 'edited') {
      const when = (ns: string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
      opts.log?.(
        `Lease file ${opts.leaseFile} changed since dhcpd-ts last wrote it (${state.was.size} bytes at ${when(state.was.mtimeNs)}, ` +
          `now ${state.now.size} bytes at ${when(state.now.mtimeNs)}): reading it into ${database}, the last record of each address wins.`,
      );
      const summary = importIntoStore(store, { ...io, replace: true }, facts);
      opts.log?.(formatImportSummary(summary));
      imported = summary;
    }
  } catch (e) {
    store.close();
    throw e;
  }
  let mirror: LeaseFileMirror | null = null;
  if (opts.mirror !== false) {
    const mo: LeaseFileMirrorOptions = typeof opts.mirror === 'object' ? { ...opts.mirror } : {};
    mo.fsync ??= !(opts.dontUseFsync ?? facts?.dontUseFsync ?? false);
    mo.format ??= { dbTimeFormat: facts?.dbTimeFormat ?? 'default', leaseIdFormat: facts?.leaseIdFormat ?? 'octal' };
    mo.onError ??= (e) => opts.log?.(`Can't write lease file ${opts.leaseFile}: ${e instanceof Error ? e.message : String(e)}`);
    // After an import the file is written anew in ISC's layout (as ISC rewrites it at start), in the
    // background; a file still as we wrote it at a clean shutdown only gets records appended (to a copy
    // renamed into place).
    mirror = new LeaseFileMirror(store, opts.leaseFile, mo, { known, clean });
    const m = mirror;
    store.onClose(() => m.close());
    // Not known, or known but the last run did not stop cleanly (the file may lack its last changes):
    // rewritten from the database, in the background, once the server has started.
    if (!known || !clean) mirror.start(opts.mirrorStartDelayMs);
  }
  return { store, imported, mirror };
}
