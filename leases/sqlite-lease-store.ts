/**
 * The SQLite lease store (better-sqlite3). The only module in the product that opens the lease database.
 *
 * Schema (user_version 2, application_id 0x44484350 "DHCP"):
 * - `lease4(address INTEGER PRIMARY KEY, starts, ends, tstp, tsfp, atsfp, cltt INTEGER — NULL = never,
 *   0 = unset; state, next_state, rewind_state INTEGER — index in BINDING_CODES; flags INTEGER — bit 0
 *   reserved, bit 1 dynamic-bootp; htype INTEGER, hwaddr BLOB, uid BLOB, client_hostname TEXT, hostname
 *   TEXT, scope TEXT (JSON), agent BLOB (sub-option TLVs), billing TEXT (JSON), on_stmts TEXT (JSON),
 *   rec BLOB — the whole lease packed by leases/lease-record-codec.ts, the only column reads decode)`,
 *   indexes on hwaddr, uid, and a partial index on ends for leases with a pending state change.
 * - `host`, `grp`, `class` records, `failover_state(peer PRIMARY KEY, …)`, `meta(key, value)` for the
 *   server DUID and authoring byte order.
 *
 * Durability: journal_mode=WAL, synchronous=FULL (NORMAL with dont-use-fsync). Each write() is one
 * transaction, hence one WAL fsync: group commit is the caller batching one event-loop turn into one write().
 *
 * Open checks: application_id/user_version identify the database; `PRAGMA quick_check` (default; O(N),
 * checks every page and record but not index-vs-table consistency) or `integrity_check` (option) must say
 * ok; otherwise a {@link LeaseStoreError} is thrown. A corrupt database is never replaced or repaired here.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { snapshotLease } from './lease.js';
import type {
  AgentSubOption,
  BillingClass,
  BindingState,
  ClassRecord,
  FailoverStateName,
  FailoverStateRecord,
  GroupRecord,
  HardwareAddress,
  HostRecord,
  Lease,
  LeaseFileMeta,
  LeaseTime,
  OnStatements,
  ScopeValue,
} from './lease.js';
import {
  LeaseStoreError,
  type CommitInfo,
  type CommitListener,
  type LeaseQuery,
  type LeaseStore,
  type LeaseStoreOptions,
  type LeaseStoreWriter,
  type StateCounts,
} from './lease-store.js';
import { decodeLeaseRecord, encodeLeaseRecord } from './lease-record-codec.js';

/** Leases per page in {@link SqliteLeaseStore.leases}. */
const PAGE = 4096;

/** "DHCP" — marks the file as a dhcpd-ts lease database. */
export const APPLICATION_ID = 0x44484350;

/** Binding states by their stored code (ISC's FTS_* numbering, 1-based, plus the legacy words). */
const BINDING_CODES: readonly BindingState[] = [
  'free', // 0 unused placeholder (ISC numbers from 1); code 0 is never stored
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
  'reserved',
  'bootp',
];

function stateCode(s: BindingState): number {
  const i = BINDING_CODES.indexOf(s, 1);
  if (i < 1) throw new Error(`unknown binding state ${String(s)}`);
  return i;
}

function stateName(code: number): BindingState {
  return BINDING_CODES[code] ?? 'free';
}

/**
 * Schema migrations: MIGRATIONS[i] moves a database from user_version i to i+1. Never edit a released
 * entry; append a new one.
 */
export type Migration = string | ((db: Database.Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE lease4 (
    address INTEGER PRIMARY KEY,
    starts INTEGER, ends INTEGER, tstp INTEGER, tsfp INTEGER, atsfp INTEGER, cltt INTEGER,
    state INTEGER NOT NULL, next_state INTEGER NOT NULL, rewind_state INTEGER NOT NULL,
    flags INTEGER NOT NULL DEFAULT 0,
    htype INTEGER, hwaddr BLOB, uid BLOB,
    client_hostname TEXT, hostname TEXT,
    scope TEXT, agent BLOB, billing TEXT, on_stmts TEXT
  );
  CREATE INDEX lease4_hwaddr ON lease4(hwaddr) WHERE hwaddr IS NOT NULL;
  CREATE INDEX lease4_uid ON lease4(uid) WHERE uid IS NOT NULL;
  CREATE INDEX lease4_pending ON lease4(ends) WHERE state <> next_state;
  CREATE TABLE host (
    name TEXT PRIMARY KEY, dynamic INTEGER NOT NULL, deleted INTEGER NOT NULL,
    htype INTEGER, hwaddr BLOB, uid BLOB, fixed TEXT, grp TEXT, statements TEXT NOT NULL
  );
  CREATE TABLE grp (
    name TEXT PRIMARY KEY, dynamic INTEGER NOT NULL, static INTEGER NOT NULL, deleted INTEGER NOT NULL,
    statements TEXT NOT NULL
  );
  CREATE TABLE class (
    name TEXT NOT NULL, is_subclass INTEGER NOT NULL, subclass_data BLOB NOT NULL,
    dynamic INTEGER NOT NULL, deleted INTEGER NOT NULL, lease_limit INTEGER, statements TEXT NOT NULL,
    PRIMARY KEY (name, is_subclass, subclass_data)
  );
  CREATE TABLE failover_state (
    peer TEXT PRIMARY KEY, my_state TEXT NOT NULL, my_time INTEGER, partner_state TEXT NOT NULL,
    partner_time INTEGER, mclt INTEGER
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB);
  `,
  // v2: the packed record (leases/lease-record-codec.ts) read at start-up and by lookups; the columns stay
  // for indexes, queries and people inspecting the database with sqlite3.
  (db) => {
    db.exec('ALTER TABLE lease4 ADD COLUMN rec BLOB');
    const upd = db.prepare('UPDATE lease4 SET rec = ? WHERE address = ?');
    for (const r of db.prepare(`SELECT ${LEASE_COLUMNS} FROM lease4`).raw(true).all() as LeaseRow[]) {
      upd.run(encodeLeaseRecord(rowToLease(r)), Number(r[0]));
    }
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const LEASE_COLUMNS =
  'address, starts, ends, tstp, tsfp, atsfp, cltt, state, next_state, rewind_state, flags, htype, hwaddr, uid, ' +
  'client_hostname, hostname, scope, agent, billing, on_stmts';

type SqlValue = number | string | Buffer | null | bigint;
type LeaseRow = SqlValue[];

function timeToSql(t: LeaseTime): number | null {
  return t === null ? null : t;
}

function timeFromSql(v: SqlValue): LeaseTime {
  return v === null ? null : Number(v);
}

/** JSON form of a scope: [[name, 'd', base64] | [name, 'n', number] | [name, 'b', boolean]]. */
function scopeToSql(scope: Map<string, ScopeValue>): string | null {
  if (scope.size === 0) return null;
  const out: [string, string, string | number | boolean][] = [];
  for (const [name, v] of scope) {
    if (v.kind === 'data') out.push([name, 'd', v.value.toString('base64')]);
    else if (v.kind === 'number') out.push([name, 'n', v.value]);
    else out.push([name, 'b', v.value]);
  }
  return JSON.stringify(out);
}

function scopeFromSql(v: SqlValue): Map<string, ScopeValue> {
  const scope = new Map<string, ScopeValue>();
  if (typeof v !== 'string') return scope;
  for (const [name, kind, value] of JSON.parse(v) as [string, string, string | number | boolean][]) {
    if (kind === 'd') scope.set(name, { kind: 'data', value: Buffer.from(String(value), 'base64') });
    else if (kind === 'n') scope.set(name, { kind: 'number', value: Number(value) });
    else scope.set(name, { kind: 'boolean', value: value === true });
  }
  return scope;
}

function agentToSql(opts: readonly AgentSubOption[]): Buffer | null {
  if (opts.length === 0) return null;
  const parts: Buffer[] = [];
  for (const o of opts) {
    // Length as 2 bytes: a stashed sub-option may exceed 255 bytes after RFC 3396 concatenation.
    const h = Buffer.alloc(3);
    h[0] = o.code;
    h.writeUInt16BE(o.data.length, 1);
    parts.push(h, o.data);
  }
  return Buffer.concat(parts);
}

function agentFromSql(v: SqlValue): AgentSubOption[] {
  if (!Buffer.isBuffer(v)) return [];
  const out: AgentSubOption[] = [];
  let i = 0;
  while (i + 3 <= v.length) {
    const code = v[i] ?? 0;
    const len = v.readUInt16BE(i + 1);
    out.push({ code, data: Buffer.from(v.subarray(i + 3, i + 3 + len)) });
    i += 3 + len;
  }
  return out;
}

function billingToSql(b: BillingClass | null): string | null {
  if (!b) return null;
  return JSON.stringify(b.kind === 'class' ? { c: b.name } : { s: b.name, d: b.data.toString('base64') });
}

function billingFromSql(v: SqlValue): BillingClass | null {
  if (typeof v !== 'string') return null;
  const o = JSON.parse(v) as { c?: string; s?: string; d?: string };
  if (o.c !== undefined) return { kind: 'class', name: o.c };
  return { kind: 'subclass', name: o.s ?? '', data: Buffer.from(o.d ?? '', 'base64') };
}

function onToSql(on: OnStatements): string | null {
  if (on.expiry === undefined && on.release === undefined && on.commit === undefined) return null;
  return JSON.stringify(on);
}

function onFromSql(v: SqlValue): OnStatements {
  return typeof v === 'string' ? (JSON.parse(v) as OnStatements) : {};
}

function leaseToRow(l: Lease): LeaseRow {
  return [
    l.address >>> 0,
    timeToSql(l.starts),
    timeToSql(l.ends),
    timeToSql(l.tstp),
    timeToSql(l.tsfp),
    timeToSql(l.atsfp),
    timeToSql(l.cltt),
    stateCode(l.bindingState),
    stateCode(l.nextBindingState),
    stateCode(l.rewindBindingState),
    (l.reserved ? 1 : 0) | (l.dynamicBootp ? 2 : 0),
    l.hardware ? l.hardware.htype : null,
    l.hardware ? l.hardware.address : null,
    l.uid,
    l.clientHostname,
    l.hostname,
    scopeToSql(l.scope),
    agentToSql(l.agentOptions),
    billingToSql(l.billingClass),
    onToSql(l.on),
  ];
}

function rowToLease(r: LeaseRow): Lease {
  const flags = Number(r[10]);
  const htype = r[11];
  const hw = r[12];
  return {
    address: Number(r[0]) >>> 0,
    starts: timeFromSql(r[1] ?? null),
    ends: timeFromSql(r[2] ?? null),
    tstp: timeFromSql(r[3] ?? null),
    tsfp: timeFromSql(r[4] ?? null),
    atsfp: timeFromSql(r[5] ?? null),
    cltt: timeFromSql(r[6] ?? null),
    bindingState: stateName(Number(r[7])),
    nextBindingState: stateName(Number(r[8])),
    rewindBindingState: stateName(Number(r[9])),
    reserved: (flags & 1) !== 0,
    dynamicBootp: (flags & 2) !== 0,
    hardware: htype !== null && htype !== undefined && Buffer.isBuffer(hw) ? { htype: Number(htype), address: hw } : null,
    uid: Buffer.isBuffer(r[13]) ? r[13] : null,
    clientHostname: typeof r[14] === 'string' ? r[14] : null,
    hostname: typeof r[15] === 'string' ? r[15] : null,
    scope: scopeFromSql(r[16] ?? null),
    agentOptions: agentFromSql(r[17] ?? null),
    billingClass: billingFromSql(r[18] ?? null),
    on: onFromSql(r[19] ?? null),
  };
}

function recToLease(r: LeaseRow): Lease {
  return decodeLeaseRecord(Number(r[0]) >>> 0, r[1] as Buffer);
}

function hostFromRow(r: Record<string, SqlValue>): HostRecord {
  return {
    name: String(r['name']),
    dynamic: Number(r['dynamic']) !== 0,
    deleted: Number(r['deleted']) !== 0,
    hardware:
      r['htype'] !== null && Buffer.isBuffer(r['hwaddr']) ? { htype: Number(r['htype']), address: r['hwaddr'] } : null,
    uid: Buffer.isBuffer(r['uid']) ? r['uid'] : null,
    fixedAddresses: typeof r['fixed'] === 'string' ? (JSON.parse(r['fixed']) as number[]) : [],
    group: typeof r['grp'] === 'string' ? r['grp'] : null,
    statements: String(r['statements'] ?? ''),
  };
}

function rangeWhere(q: LeaseQuery | undefined, params: SqlValue[]): string {
  const where: string[] = [];
  if (q?.from !== undefined) {
    where.push('address >= ?');
    params.push(q.from >>> 0);
  }
  if (q?.to !== undefined) {
    where.push('address <= ?');
    params.push(q.to >>> 0);
  }
  if (q?.states && q.states.length > 0) {
    where.push(`state IN (${q.states.map(() => '?').join(',')})`);
    for (const s of q.states) params.push(stateCode(s));
  }
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/**
 * Opens (creating if allowed) the lease database at `path`, migrates it to {@link SCHEMA_VERSION}, checks
 * its integrity and returns the store. Throws {@link LeaseStoreError} for a database it cannot use.
 */
/** The SQLite store's writer: the contract's writes plus those only an import needs. */
export interface SqliteLeaseStoreWriter extends LeaseStoreWriter {
  /** Removes every lease record (an import replacing the database's leases with a file's). */
  clearLeases(): void;
}

export function openSqliteLeaseStore(path: string, options: LeaseStoreOptions = {}): SqliteLeaseStore {
  return new SqliteLeaseStore(path, options);
}

/** {@link LeaseStore} on SQLite. Use {@link openSqliteLeaseStore}. */
export class SqliteLeaseStore implements LeaseStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly listeners = new Set<CommitListener>();
  private readonly closeListeners = new Set<() => void>();
  private depth = 0;
  /** Changes of the open transaction, recorded only while someone listens to commits. */
  private changes: { leases: Lease[]; deletedLeases: number[]; hosts: HostRecord[]; failoverStates: FailoverStateRecord[]; otherChanges: boolean } = {
    leases: [],
    deletedLeases: [],
    hosts: [],
    failoverStates: [],
    otherChanges: false,
  };
  private readonly st: ReturnType<SqliteLeaseStore['prepare']>;
  private readonly writer: SqliteLeaseStoreWriter;
  private readonly txn: (fn: (w: SqliteLeaseStoreWriter) => void) => void;

  /** The connection's normal `synchronous` setting (FULL, or NORMAL with dont-use-fsync). */
  private readonly syncMode: 'FULL' | 'NORMAL';

  constructor(path: string, options: LeaseStoreOptions = {}) {
    this.path = path;
    this.syncMode = options.dontUseFsync ? 'NORMAL' : 'FULL';
    const readOnly = options.readOnly === true;
    const create = options.create ?? !readOnly;
    if (!create && !existsSync(path)) throw new LeaseStoreError(path, 'lease database does not exist', 'io');
    try {
      this.db = new Database(path, { readonly: readOnly, fileMustExist: !create });
    } catch (e) {
      throw new LeaseStoreError(path, `cannot open lease database: ${(e as Error).message}`, 'io');
    }
    try {
      this.init(readOnly, options);
    } catch (e) {
      this.db.close();
      if (e instanceof LeaseStoreError) throw e;
      const msg = (e as Error).message;
      const code = (e as { code?: string }).code ?? '';
      if (/NOTADB|CORRUPT/.test(code) || /not a database|malformed/.test(msg)) {
        throw new LeaseStoreError(path, `lease database is corrupt (${msg}); not replacing it`, 'corrupt');
      }
      throw new LeaseStoreError(path, `cannot open lease database: ${msg}`, 'io');
    }
    this.st = this.prepare();
    this.writer = this.makeWriter();
    this.txn = this.db.transaction((fn: (w: SqliteLeaseStoreWriter) => void) => fn(this.writer));
  }

  private init(readOnly: boolean, options: LeaseStoreOptions): void {
    const db = this.db;
    // Reading the header forces SQLite to validate the file ("file is not a database").
    const appId = Number(db.pragma('application_id', { simple: true }));
    const version = Number(db.pragma('user_version', { simple: true }));
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
    if (appId !== APPLICATION_ID && !(appId === 0 && version === 0 && tables.n === 0)) {
      throw new LeaseStoreError(this.path, 'not a dhcpd-ts lease database (application_id mismatch)', 'not-a-lease-database');
    }
    if (version > SCHEMA_VERSION) {
      throw new LeaseStoreError(
        this.path,
        `lease database schema version ${version} is newer than this dhcpd-ts supports (${SCHEMA_VERSION})`,
        'too-new',
      );
    }
    if (!readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.dontUseFsync ? 'NORMAL' : 'FULL'}`);
    }
    const check = options.integrityCheck ?? 'quick';
    if (check !== false && version > 0) {
      const rows = db.pragma(check === 'quick' ? 'quick_check' : 'integrity_check') as { [k: string]: string }[];
      const msgs = rows.map((r) => Object.values(r)[0]);
      if (!(msgs.length === 1 && msgs[0] === 'ok')) {
        throw new LeaseStoreError(
          this.path,
          `lease database failed its integrity check: ${msgs.slice(0, 5).join('; ')}; not replacing it`,
          'corrupt',
        );
      }
    }
    if (version < SCHEMA_VERSION) {
      if (readOnly) throw new LeaseStoreError(this.path, `lease database schema version ${version} needs migration`, 'too-new');
      const migrate = db.transaction(() => {
        for (let v = version; v < SCHEMA_VERSION; v++) {
          const m = MIGRATIONS[v];
          if (typeof m === 'string') db.exec(m);
          else if (m) m(db);
        }
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      });
      migrate();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      put: db.prepare(`INSERT OR REPLACE INTO lease4 (${LEASE_COLUMNS}, rec) VALUES (${LEASE_COLUMNS.split(',').map(() => '?').join(',')}, ?)`),
      del: db.prepare('DELETE FROM lease4 WHERE address = ?'),
      delAll: db.prepare('DELETE FROM lease4'),
      byAddr: db.prepare(`SELECT address, rec FROM lease4 WHERE address = ?`).raw(true),
      byHw: db.prepare(`SELECT address, rec FROM lease4 WHERE hwaddr = ? AND htype = ? ORDER BY address`).raw(true),
      byUid: db.prepare(`SELECT address, rec FROM lease4 WHERE uid = ? ORDER BY address`).raw(true),
      expired: db
        .prepare(
          `SELECT address, rec FROM lease4 WHERE state <> next_state AND ends IS NOT NULL AND ends <= ? ORDER BY ends LIMIT ?`,
        )
        .raw(true),
      nextExpiry: db.prepare('SELECT min(ends) AS t FROM lease4 WHERE state <> next_state AND ends IS NOT NULL AND ends > 0'),
      count: db.prepare('SELECT count(*) AS n FROM lease4'),
      putHost: db.prepare(
        'INSERT OR REPLACE INTO host (name, dynamic, deleted, htype, hwaddr, uid, fixed, grp, statements) VALUES (?,?,?,?,?,?,?,?,?)',
      ),
      delHost: db.prepare('DELETE FROM host WHERE name = ?'),
      hosts: db.prepare('SELECT * FROM host ORDER BY rowid'),
      host: db.prepare('SELECT * FROM host WHERE name = ?'),
      putGroup: db.prepare('INSERT OR REPLACE INTO grp (name, dynamic, static, deleted, statements) VALUES (?,?,?,?,?)'),
      groups: db.prepare('SELECT * FROM grp ORDER BY rowid'),
      putClass: db.prepare(
        'INSERT OR REPLACE INTO class (name, is_subclass, subclass_data, dynamic, deleted, lease_limit, statements) VALUES (?,?,?,?,?,?,?)',
      ),
      classes: db.prepare('SELECT * FROM class ORDER BY rowid'),
      putFo: db.prepare(
        'INSERT OR REPLACE INTO failover_state (peer, my_state, my_time, partner_state, partner_time, mclt) VALUES (?,?,?,?,?,?)',
      ),
      fos: db.prepare('SELECT * FROM failover_state ORDER BY rowid'),
      fo: db.prepare('SELECT * FROM failover_state WHERE peer = ?'),
      putMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      delMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    };
  }

  private makeWriter(): SqliteLeaseStoreWriter {
    const st = () => this.st;
    const rec = (): boolean => this.listeners.size > 0;
    const ch = () => this.changes;
    return {
      putLease: (lease) => {
        // (the row as one array argument: better-sqlite3 binds an array's items, without a 21-argument spread)
        const row: SqlValue[] = leaseToRow(lease);
        row.push(encodeLeaseRecord(lease));
        st().put.run(row);
        if (rec()) ch().leases.push(snapshotLease(lease));
      },
      deleteLease: (address) => {
        st().del.run(address >>> 0);
        if (rec()) ch().deletedLeases.push(address >>> 0);
      },
      clearLeases: () => {
        st().delAll.run();
        ch().otherChanges = true;
      },
      putHost: (h) => {
        if (rec()) {
          if (h.deleted) ch().otherChanges = true;
          else ch().hosts.push({ ...h, fixedAddresses: [...h.fixedAddresses] });
        }
        st().putHost.run(
          h.name,
          h.dynamic ? 1 : 0,
          h.deleted ? 1 : 0,
          h.hardware ? h.hardware.htype : null,
          h.hardware ? h.hardware.address : null,
          h.uid,
          h.fixedAddresses.length ? JSON.stringify(h.fixedAddresses.map((a) => a >>> 0)) : null,
          h.group,
          h.statements,
        );
      },
      deleteHost: (name) => {
        st().delHost.run(name);
        ch().otherChanges = true;
      },
      putGroup: (g) => {
        st().putGroup.run(g.name, g.dynamic ? 1 : 0, g.static ? 1 : 0, g.deleted ? 1 : 0, g.statements);
        ch().otherChanges = true;
      },
      putClass: (c) => {
        ch().otherChanges = true;
        st().putClass.run(
          c.name,
          c.subclassData ? 1 : 0,
          c.subclassData ?? Buffer.alloc(0),
          c.dynamic ? 1 : 0,
          c.deleted ? 1 : 0,
          c.leaseLimit,
          c.statements,
        );
      },
      putFailoverState: (f) => {
        st().putFo.run(f.peer, f.myState, timeToSql(f.myStateTime), f.partnerState, timeToSql(f.partnerStateTime), f.mclt);
        if (rec()) ch().failoverStates.push({ ...f });
      },
      setServerDuid: (duid) => {
        if (duid) st().putMeta.run('server-duid', duid);
        else st().delMeta.run('server-duid');
        ch().otherChanges = true;
      },
      setAuthoringByteOrder: (order) => {
        if (order) st().putMeta.run('authoring-byte-order', order);
        else st().delMeta.run('authoring-byte-order');
        ch().otherChanges = true;
      },
    };
  }

  /**
   * The client identities of up to `limit` leases with an address above `after`, in address order, as ONE
   * value SQLite builds (a page of a background scan: the engine's filter of known clients,
   * src/engine/lease-book.ts; per-row values cost better-sqlite3 more than the query): the last address of
   * the page, and `htype.HWHEX.UIDHEX` per lease joined by spaces (an empty field where the lease has none;
   * htype is empty exactly when there is no hardware address). [null, null] after the last lease.
   */
  clientIdentityPage(after: number, limit: number): [number | null, string | null] {
    this.clientPage ??= this.db
      .prepare(
        "SELECT max(address), group_concat(ifnull(htype, '') || '.' || ifnull(hex(hwaddr), '') || '.' || ifnull(hex(uid), ''), ' ') " +
          'FROM (SELECT address, htype, hwaddr, uid FROM lease4 WHERE address > ? ORDER BY address LIMIT ?)',
      )
      .raw(true);
    return this.clientPage.get(after, limit) as [number | null, string | null];
  }
  private clientPage: Database.Statement | undefined;

  getByAddress(address: number): Lease | undefined {
    const r = this.st.byAddr.get(address >>> 0) as LeaseRow | undefined;
    return r ? recToLease(r) : undefined;
  }

  getByHardware(hardware: HardwareAddress): Lease[] {
    return (this.st.byHw.all(hardware.address, hardware.htype) as LeaseRow[]).map(recToLease);
  }

  getByUid(uid: Buffer): Lease[] {
    return (this.st.byUid.all(uid) as LeaseRow[]).map(recToLease);
  }

  /**
   * Leases in address order. Rows are fetched in pages of {@link PAGE} leases, each page as ONE value that
   * SQLite builds (`address`, length and packed record of every lease, hex): per-row value conversion in
   * better-sqlite3 costs more than SQLite's own work, and this is what start-up spends its time on.
   */
  *leases(query?: LeaseQuery): IterableIterator<Lease> {
    const params: SqlValue[] = [];
    const where = rangeWhere(query, params);
    const sql =
      `SELECT max(address), group_concat(printf('%08X%08X', address, length(rec)) || hex(rec), '' ORDER BY address) ` +
      `FROM (SELECT address, rec FROM lease4 ${where ? `${where} AND` : 'WHERE'} address > ? ORDER BY address LIMIT ${PAGE})`;
    const page = this.db.prepare(sql).raw(true);
    let after = -1;
    for (;;) {
      const [last, hex] = page.get(...params, after) as [number | null, string | null];
      if (last === null || hex === null) return;
      const b = Buffer.from(hex, 'hex');
      for (let o = 0; o < b.length; ) {
        const address = b.readUInt32BE(o);
        const len = b.readUInt32BE(o + 4);
        yield decodeLeaseRecord(address, b.subarray(o + 8, o + 8 + len));
        o += 8 + len;
      }
      after = last;
    }
  }

  addresses(query?: LeaseQuery): Uint32Array {
    const params: SqlValue[] = [];
    const sql = `SELECT address FROM lease4 ${rangeWhere(query, params)} ORDER BY address`;
    const stmt = this.db.prepare(sql).pluck(true);
    const n = (this.db.prepare(`SELECT count(*) FROM lease4 ${rangeWhere(query, [])}`).pluck(true).get(...params) as number) ?? 0;
    const out = new Uint32Array(n);
    let i = 0;
    for (const a of stmt.iterate(...params) as IterableIterator<number>) {
      if (i >= out.length) break; // a concurrent writer cannot run inside this synchronous loop; defensive only
      out[i++] = a;
    }
    return i === out.length ? out : out.subarray(0, i);
  }

  countByState(query?: LeaseQuery): StateCounts {
    const params: SqlValue[] = [];
    const sql = `SELECT state, count(*) FROM lease4 ${rangeWhere(query, params)} GROUP BY state`;
    const out: StateCounts = {};
    for (const [code, n] of this.db.prepare(sql).raw(true).all(...params) as [number, number][]) {
      const s = stateName(code);
      out[s] = (out[s] ?? 0) + n;
    }
    return out;
  }

  leaseCount(): number {
    return (this.st.count.get() as { n: number }).n;
  }

  expiredAt(now: number, limit = 1_000_000): Lease[] {
    return (this.st.expired.all(now, limit) as LeaseRow[]).map(recToLease);
  }

  nextExpiry(): number | null {
    const r = this.st.nextExpiry.get() as { t: number | null };
    return r.t;
  }

  hosts(): HostRecord[] {
    return (this.st.hosts.all() as Record<string, SqlValue>[]).map(hostFromRow);
  }

  getHost(name: string): HostRecord | undefined {
    const r = this.st.host.get(name) as Record<string, SqlValue> | undefined;
    return r ? hostFromRow(r) : undefined;
  }

  groups(): GroupRecord[] {
    return (this.st.groups.all() as Record<string, SqlValue>[]).map((r) => ({
      name: String(r['name']),
      dynamic: Number(r['dynamic']) !== 0,
      static: Number(r['static']) !== 0,
      deleted: Number(r['deleted']) !== 0,
      statements: String(r['statements'] ?? ''),
    }));
  }

  classes(): ClassRecord[] {
    return (this.st.classes.all() as Record<string, SqlValue>[]).map((r) => ({
      name: String(r['name']),
      subclassData: Number(r['is_subclass']) !== 0 && Buffer.isBuffer(r['subclass_data']) ? r['subclass_data'] : null,
      dynamic: Number(r['dynamic']) !== 0,
      deleted: Number(r['deleted']) !== 0,
      leaseLimit: r['lease_limit'] === null ? null : Number(r['lease_limit']),
      statements: String(r['statements'] ?? ''),
    }));
  }

  failoverStates(): FailoverStateRecord[] {
    return (this.st.fos.all() as Record<string, SqlValue>[]).map(foFromRow);
  }

  getFailoverState(peer: string): FailoverStateRecord | undefined {
    const r = this.st.fo.get(peer) as Record<string, SqlValue> | undefined;
    return r ? foFromRow(r) : undefined;
  }

  meta(): LeaseFileMeta {
    const duid = this.st.getMeta.get('server-duid') as { value: SqlValue } | undefined;
    const order = this.st.getMeta.get('authoring-byte-order') as { value: SqlValue } | undefined;
    const o = order ? String(order.value) : null;
    return {
      serverDuid: duid && Buffer.isBuffer(duid.value) ? duid.value : null,
      authoringByteOrder: o === 'little-endian' || o === 'big-endian' ? o : null,
    };
  }

  write(fn: (w: SqliteLeaseStoreWriter) => void): void {
    const c = this.changes;
    const mark = [c.leases.length, c.deletedLeases.length, c.hosts.length, c.failoverStates.length, c.otherChanges] as const;
    this.depth++;
    try {
      this.txn(fn);
    } catch (e) {
      // Rolled back (this transaction or savepoint): forget what it recorded.
      c.leases.length = mark[0];
      c.deletedLeases.length = mark[1];
      c.hosts.length = mark[2];
      c.failoverStates.length = mark[3];
      c.otherChanges = mark[4];
      throw e;
    } finally {
      this.depth--;
    }
    if (this.depth === 0) {
      const info: CommitInfo = this.changes;
      this.changes = { leases: [], deletedLeases: [], hosts: [], failoverStates: [], otherChanges: false };
      for (const l of this.listeners) l(info);
    }
  }

  commit(leases: readonly Lease[]): void {
    if (leases.length === 0) return;
    this.write((w) => {
      for (const l of leases) w.putLease(l);
    });
  }

  /**
   * {@link write} without waiting for the disk (the DHCP server's group commit, src/server/wal-sync.ts): the
   * transaction commits with synchronous=NORMAL, so its WAL frames are written (visible to every reader of
   * the database at once) but not fsync'd. The caller must fsync {@link walPath} (off the event loop) before
   * anything relies on the data being durable, e.g. before an ACK is sent; SQLite's own fsync of a later
   * FULL commit or checkpoint covers it too. Every other write stays synchronous as configured.
   */
  writeWithoutSync(fn: (w: SqliteLeaseStoreWriter) => void): void {
    if (this.syncMode === 'NORMAL') return this.write(fn);
    // prepared once: db.pragma() compiles its statement on every call (~2 % of a busy server's CPU)
    this.syncPragmas ??= { normal: this.db.prepare('PRAGMA synchronous = NORMAL'), restore: this.db.prepare(`PRAGMA synchronous = ${this.syncMode}`) };
    this.syncPragmas.normal.run();
    try {
      this.write(fn);
    } finally {
      this.syncPragmas.restore.run();
    }
  }
  private syncPragmas: { normal: Database.Statement; restore: Database.Statement } | undefined;

  /** Whether commits are fsync'd (false with dont-use-fsync): a caller of {@link writeWithoutSync} need not sync then. */
  get fsyncsCommits(): boolean {
    return this.syncMode === 'FULL';
  }

  /**
   * SQLite's wal_autocheckpoint for this connection (pages of WAL after which a commit checkpoints; default
   * 1000). The DHCP server raises it and checkpoints from a worker thread instead (src/server/wal-sync.ts),
   * so that the copy into the database and its two fsyncs do not stall the event loop mid-traffic.
   */
  setWalAutoCheckpoint(pages: number): void {
    this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`);
  }

  /** The write-ahead log beside the database (`<path>-wal`, journal_mode=WAL); fsync it to make commits durable. */
  get walPath(): string {
    return `${this.path}-wal`;
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Loads every lease row as fast as SQLite allows (start-up): raw rows, converted one by one. */
  *loadAll(): IterableIterator<Lease> {
    yield* this.leases();
  }

  /**
   * A bookkeeping value of the `meta` table (e.g. the -lf fingerprint of leases/lease-file-fingerprint.ts),
   * or null. Not part of the lease data: never exported, never seen by commit listeners.
   */
  getMetaValue(key: string): string | null {
    const r = this.st.getMeta.get(key) as { value: SqlValue } | undefined;
    if (r === undefined || r.value === null) return null;
    return Buffer.isBuffer(r.value) ? r.value.toString('utf8') : String(r.value);
  }

  /**
   * Sets (or with null removes) a bookkeeping value: inside a {@link write} it joins that transaction,
   * otherwise it is its own small durable transaction. Commit listeners are not called.
   */
  setMetaValue(key: string, value: string | null): void {
    if (value === null) this.st.delMeta.run(key);
    else this.st.putMeta.run(key, value);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    if (!this.db.open) return;
    for (const l of [...this.closeListeners]) {
      try {
        l();
      } catch {
        // a listener's failure (e.g. the -lf rewrite) must not keep the database open
      }
    }
    this.closeListeners.clear();
    if (!this.db.readonly) {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // a checkpoint failure leaves the WAL in place; SQLite replays it on the next open
      }
    }
    this.db.close();
  }
}

function foFromRow(r: Record<string, SqlValue>): FailoverStateRecord {
  return {
    peer: String(r['peer']),
    myState: String(r['my_state']) as FailoverStateName,
    myStateTime: timeFromSql(r['my_time'] ?? null),
    partnerState: String(r['partner_state']) as FailoverStateName,
    partnerStateTime: timeFromSql(r['partner_time'] ?? null),
    mclt: r['mclt'] === null || r['mclt'] === undefined ? null : Number(r['mclt']),
  };
}
