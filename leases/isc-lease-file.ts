/**
 * ISC dhcpd.leases in both directions.
 *
 * Writing follows ISC dhcpd 4.4's server/db.c byte for byte where it matters to readers: the header, the
 * record order of write_leases (dynamic classes, groups, deleted static hosts, dynamic hosts, failover
 * states, leases), the field order and omissions of write_lease, print_time's date forms, quotify_buf's
 * escapes for uids and `set` data, pretty_print_option for stashed agent options.
 *
 * Reading is grammar/leases-parser.ts; {@link readLeaseFile} adds the file I/O and the "last record wins"
 * result as store-ready records.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync, readSync, openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, ftruncateSync } from 'node:fs';
import {
  ipv4ToString,
  hardwareTypeName,
  type ClassRecord,
  type FailoverStateRecord,
  type GroupRecord,
  type HostRecord,
  type Lease,
  type LeaseTime,
  type BindingState,
  type AgentSubOption,
} from './lease.js';
import type { LeaseStore } from './lease-store.js';
import { LeaseFileStreamParser } from '../grammar/leases-stream.js';
import {
  AGENT_OPTIONS,
  parseLeaseFileText,
  type LeaseParseContext,
  type LeaseRecordSink,
  type ParsedLeaseFile,
} from '../grammar/leases-parser.js';

/** What goes into a lease file. */
export interface LeaseFileContents {
  leases: Iterable<Lease>;
  hosts?: Iterable<HostRecord>;
  groups?: Iterable<GroupRecord>;
  classes?: Iterable<ClassRecord>;
  failoverStates?: Iterable<FailoverStateRecord>;
  serverDuid?: Buffer | null;
  authoringByteOrder?: 'little-endian' | 'big-endian' | null;
}

/** Formatting choices ISC takes from dhcpd.conf. */
export interface LeaseFileFormatOptions {
  /** `db-time-format local;` writes `epoch N; # <local time>` instead of `W YYYY/MM/DD HH:MM:SS;`. */
  dbTimeFormat?: 'default' | 'local';
  /** `lease-id-format hex;` writes uids and the server-duid as colon hex instead of octal-escaped strings. */
  leaseIdFormat?: 'octal' | 'hex';
  /** The current time: ISC writes `billing class` only for leases whose `ends` is later. Default: now. */
  now?: number;
  /** Who wrote the file (second header line). */
  writtenBy?: string;
}

/** ISC's `isascii && isprint`. */
function printable(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/** `\ooo`-escaped, backslashed or plain text of each byte value, as quotify_buf writes it. */
const QUOTIFY: readonly string[] = Array.from({ length: 256 }, (_, c) =>
  !printable(c) ? '\\' + c.toString(8).padStart(3, '0') : c === 0x22 || c === 0x5c ? '\\' + String.fromCharCode(c) : String.fromCharCode(c),
);

/** Two lower-case hex digits of each byte value. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, c) => c.toString(16).padStart(2, '0'));

/** ISC quotify_buf with `"`: printable as is, `"` and `\` backslashed, others `\ooo`. */
export function quotifyBuf(b: Buffer): string {
  let s = '"';
  for (let i = 0; i < b.length; i++) s += QUOTIFY[b[i]!];
  return s + '"';
}

/** ISC buf_to_hex / print_hw_addr: `%02x` joined by `:`. */
export function hexColon(b: Buffer): string {
  if (b.length === 0) return '';
  let s = HEX2[b[0]!]!;
  for (let i = 1; i < b.length; i++) s += ':' + HEX2[b[i]!];
  return s;
}

/** {@link dbPrintable} of a latin1 string's octets. */
function dbPrintableText(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i) & 0xff;
    if (!printable(c) || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** ISC db_printable_len: every byte printable and neither `"` nor `\`. */
function dbPrintable(b: Buffer): boolean {
  for (const c of b) if (!printable(c) || c === 0x22 || c === 0x5c) return false;
  return true;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Two decimal digits, 00..99. */
const DEC2: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/** ISC print_time: `never;`, `W YYYY/MM/DD HH:MM:SS;` (UTC) or `epoch N; # Www Mmm DD HH:MM:SS YYYY`. */
export function printTime(t: LeaseTime, format: 'default' | 'local' = 'default'): string {
  if (t === null) return 'never;';
  if (format === 'default') {
    // The same few times recur in every record written in one second (starts = cltt, ends): remembered.
    let text = PRINTED_TIMES.get(t);
    if (text === undefined) {
      if (PRINTED_TIMES.size >= 8192) PRINTED_TIMES.clear();
      PRINTED_TIMES.set(t, (text = printUtcTime(t)));
    }
    return text;
  }
  return printUtcTimeOrLocal(t, format);
}

/** Recently printed `default` times. */
const PRINTED_TIMES = new Map<number, string>();

function printUtcTime(t: number): string {
  return printUtcTimeOrLocal(t, 'default');
}

function printUtcTimeOrLocal(t: number, format: 'default' | 'local'): string {
  if (format === 'local') {
    const d = new Date(t * 1000);
    const p2 = (n: number): string => DEC2[n] ?? String(n);
    return `epoch ${t}; # ${WEEKDAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
  }
  // gmtime by arithmetic (days since 1970-01-01 to a civil date, H. Hinnant's algorithm): this runs for
  // every time of every lease when a large file is written.
  const days = Math.floor(t / 86400);
  let rem = t - days * 86400;
  const hh = Math.floor(rem / 3600);
  rem -= hh * 3600;
  const mm = Math.floor(rem / 60);
  const ss = rem - mm * 60;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const wday = (((days + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  return `${wday} ${year}/${DEC2[month]}/${DEC2[day]} ${DEC2[hh]}:${DEC2[mm]}:${DEC2[ss]};`;
}

/** ISC pretty_escape inside a quoted option string. */
function prettyText(b: Buffer): string {
  let s = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (!printable(c)) {
      if (i + 1 !== b.length || c !== 0) s += '\\' + c.toString(8).padStart(3, '0');
    } else if ('"\'$`\\|&'.includes(String.fromCharCode(c))) s += '\\' + String.fromCharCode(c);
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

/** `option agent.NAME VALUE` text of a stashed sub-option (ISC pretty_print_option, quotes and commas on). */
export function formatAgentOption(o: AgentSubOption): string | null {
  if (o.data.length === 0) return null; // ISC writes only options with data
  const def = AGENT_OPTIONS.find((d) => d.code === o.code);
  const name = def?.name ?? `unknown-${o.code}`;
  const format = def?.format ?? 'X';
  let value: string;
  if (format === 'I' && o.data.length === 4) value = `${o.data[0]}.${o.data[1]}.${o.data[2]}.${o.data[3]}`;
  else if (format === 'L' && o.data.length === 4) value = String(o.data.readUInt32BE(0));
  else {
    let k = 0;
    while (k < o.data.length && printable(o.data[k]!)) k++;
    if (k === o.data.length || (k + 1 === o.data.length && o.data[k] === 0)) value = prettyText(o.data);
    else value = [...o.data].map((c) => c.toString(16)).join(':');
  }
  return `option agent.${name} ${value};`;
}

function stateWord(s: BindingState): string {
  return s === 'reserved' || s === 'bootp' ? 'active' : s;
}

function indentLines(text: string, indent: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => `\n${indent}${l.trim()}`)
    .join('');
}

/** One `lease A.B.C.D { … }` record, as ISC write_lease prints it (ending with a newline). */
export function formatLease(l: Lease, opts: LeaseFileFormatOptions = {}): string {
  const tf = opts.dbTimeFormat ?? 'default';
  let s = `lease ${ipv4ToString(l.address)} {`;
  if (l.starts !== 0) s += `\n  starts ${printTime(l.starts, tf)}`;
  if (l.ends !== 0) s += `\n  ends ${printTime(l.ends, tf)}`;
  if (l.tstp !== 0) s += `\n  tstp ${printTime(l.tstp, tf)}`;
  if (l.tsfp !== 0) s += `\n  tsfp ${printTime(l.tsfp, tf)}`;
  if (l.atsfp !== 0) s += `\n  atsfp ${printTime(l.atsfp, tf)}`;
  if (l.cltt !== 0) s += `\n  cltt ${printTime(l.cltt, tf)}`;
  const bs = stateWord(l.bindingState);
  s += `\n  binding state ${bs};`;
  if (stateWord(l.nextBindingState) !== bs) s += `\n  next binding state ${stateWord(l.nextBindingState)};`;
  if (stateWord(l.rewindBindingState) !== bs) s += `\n  rewind binding state ${stateWord(l.rewindBindingState)};`;
  if (l.reserved || l.bindingState === 'reserved') s += '\n  reserved;';
  if (l.dynamicBootp || l.bindingState === 'bootp') s += '\n  dynamic-bootp;';
  // ISC writes the billing class only while the lease is still valid (write_lease: ends > cur_time).
  if (l.billingClass && (l.ends === null || l.ends > (opts.now ?? Math.floor(Date.now() / 1000)))) {
    const b = l.billingClass;
    s += b.kind === 'class' ? `\n  billing class "${b.name}";` : `\n  billing subclass "${b.name}" ${hashString(b.data)};`;
  }
  if (l.hardware) s += `\n  hardware ${hardwareTypeName(l.hardware.htype)} ${hexColon(l.hardware.address)};`;
  if (l.uid && l.uid.length > 0) s += `\n  uid ${opts.leaseIdFormat === 'hex' ? hexColon(l.uid) : quotifyBuf(l.uid)};`;
  for (const [name, v] of l.scope) {
    if (v.kind === 'data') s += `\n  set ${name} = ${quotifyBuf(v.value)};`;
    else if (v.kind === 'number') s += `\n  set ${name} = %${v.value};`;
    else s += `\n  set ${name} = ${v.value ? 'true' : 'false'};`;
  }
  for (const o of l.agentOptions) {
    const t = formatAgentOption(o);
    if (t) s += `\n  ${t}`;
  }
  if (l.clientHostname !== null && dbPrintableText(l.clientHostname)) {
    s += `\n  client-hostname "${l.clientHostname}";`;
  }
  const both = l.on.expiry !== undefined && l.on.expiryOrRelease === true && l.on.release === l.on.expiry;
  if (l.on.expiry !== undefined) s += `\n  on expiry${both ? ' or release' : ''} {${indentLines(l.on.expiry, '    ')}\n  }`;
  if (l.on.release !== undefined && !both) s += `\n  on release {${indentLines(l.on.release, '    ')}\n  }`;
  // `on commit` is not written by ISC (it runs at commit time); we keep it in the database only.
  return s + '\n}\n';
}

/** ISC print_hash_string: printable data as a plain quoted string, else `%2.2x` colon hex. */
function hashString(b: Buffer): string {
  if ([...b].every(printable) && b.length > 0) return `"${b.toString('latin1')}"`;
  return hexColon(b);
}

function formatHost(h: HostRecord): string {
  let s = `host ${h.name} {`;
  if (h.dynamic) s += '\n  dynamic;';
  if (h.deleted) return s + '\n  deleted;\n}\n';
  if (h.hardware) s += `\n  hardware ${hardwareTypeName(h.hardware.htype)} ${hexColon(h.hardware.address)};`;
  if (h.uid && h.uid.length > 0) s += dbPrintable(h.uid) ? `\n  uid "${h.uid.toString('latin1')}";` : `\n  uid ${hexColon(h.uid)};`;
  if (h.fixedAddresses.length) s += `\n  fixed-address ${h.fixedAddresses.map(ipv4ToString).join(',')};`;
  if (h.group !== null) s += `\n  group "${h.group}";`;
  if (h.statements) s += indentLines(h.statements, '        ');
  return s + '\n}\n';
}

function formatGroup(g: GroupRecord): string {
  let s = `group ${g.name} {`;
  if (g.dynamic) s += '\n  dynamic;';
  if (g.static) s += '\n  static;';
  if (g.deleted) s += '\n  deleted;';
  else if (g.statements) s += indentLines(g.statements, '        ');
  return s + '\n}\n';
}

function formatClass(c: ClassRecord): string {
  let s = c.subclassData ? `subclass "${c.name}" ${hashString(c.subclassData)} {\n` : `class "${c.name}" {\n`;
  s += c.deleted ? '  deleted;\n' : '  dynamic;\n';
  if (c.leaseLimit !== null && c.leaseLimit > 0) s += `  lease limit ${c.leaseLimit};\n`;
  if (c.statements) s += c.statements.split('\n').map((l) => `  ${l.trim()}\n`).join('');
  return s + '}\n\n';
}

function formatFailoverState(f: FailoverStateRecord, tf: 'default' | 'local'): string {
  let s = `\nfailover peer "${f.peer}" state {`;
  s += `\n  my state ${f.myState} at ${printTime(f.myStateTime, tf)}`;
  s += `\n  partner state ${f.partnerState} at ${printTime(f.partnerStateTime, tf)}`;
  if (f.mclt !== null) s += `\n  mclt ${f.mclt};`;
  return s + '\n}\n';
}

/** The header ISC's new_lease_file writes (and server-duid, which ISC writes first for DHCPv6). */
export function leaseFileHeader(c: Pick<LeaseFileContents, 'serverDuid' | 'authoringByteOrder'>, opts: LeaseFileFormatOptions = {}): string {
  let s = '# The format of this file is documented in the dhcpd.leases(5) manual page.\n';
  s += `# This lease file was written by ${opts.writtenBy ?? 'dhcpd-ts (isc-dhcp-4.4.3-P1 format)'}\n\n`;
  s += '# authoring-byte-order entry is generated, DO NOT DELETE\n';
  s += `authoring-byte-order ${c.authoringByteOrder ?? 'little-endian'};\n\n`;
  if (c.serverDuid && c.serverDuid.length > 0) {
    s += `server-duid ${opts.leaseIdFormat === 'hex' ? hexColon(c.serverDuid) : quotifyBuf(c.serverDuid)};\n\n`;
  }
  return s;
}

/** Text of one host record (ISC write_host), for appending to a lease file. */
export function formatHostRecord(h: HostRecord): string {
  return formatHost(h);
}

/** Text of one failover state record (ISC write_failover_state), for appending to a lease file. */
export function formatFailoverStateRecord(f: FailoverStateRecord, opts: LeaseFileFormatOptions = {}): string {
  return formatFailoverState(f, opts.dbTimeFormat ?? 'default');
}

/**
 * The file as a sequence of parts (header, then one record each), in ISC's new_lease_file + write_leases
 * order: dynamic classes, groups, deleted hosts, dynamic hosts, failover states, leases (in the order
 * given; the store gives address order). Streams: nothing holds the whole file.
 */
export function* leaseFileParts(c: LeaseFileContents, opts: LeaseFileFormatOptions = {}): Generator<string> {
  const tf = opts.dbTimeFormat ?? 'default';
  yield leaseFileHeader(c, opts);
  for (const cl of c.classes ?? []) if (cl.dynamic || cl.deleted) yield formatClass(cl);
  for (const g of c.groups ?? []) yield formatGroup(g);
  const hosts = [...(c.hosts ?? [])];
  for (const h of hosts) if (h.deleted) yield formatHost(h);
  for (const h of hosts) if (!h.deleted) yield formatHost(h);
  for (const f of c.failoverStates ?? []) yield formatFailoverState(f, tf);
  for (const l of c.leases) yield formatLease(l, opts);
}

/** The whole file as one string (small files; use {@link writeLeaseFile} for large ones). */
export function formatLeaseFile(c: LeaseFileContents, opts: LeaseFileFormatOptions = {}): string {
  return [...leaseFileParts(c, opts)].join('');
}

/** What a store holds, as {@link LeaseFileContents} (leases are iterated lazily, in address order). */
export function storeContents(store: LeaseStore): LeaseFileContents {
  const meta = store.meta();
  return {
    leases: store.leases(),
    hosts: store.hosts(),
    groups: store.groups(),
    classes: store.classes(),
    failoverStates: store.failoverStates(),
    serverDuid: meta.serverDuid,
    authoringByteOrder: meta.authoringByteOrder,
  };
}

/** Writes the whole store as an ISC lease file text. */
export function formatStoreAsLeaseFile(store: LeaseStore, opts: LeaseFileFormatOptions = {}): string {
  return formatLeaseFile(storeContents(store), opts);
}

/**
 * Writes a lease file to `path` in bounded memory: parts are gathered into ~1 MB chunks written to
 * `path.<pid>.tmp`, which is fsynced and renamed over `path` (readers see the old or the new file).
 * Returns the number of records (parts after the header) and bytes written.
 */
export function writeLeaseFile(
  path: string,
  c: LeaseFileContents,
  opts: LeaseFileFormatOptions = {},
  /**
   * Overwrite `path` itself (no temp file + rename): for a server running as `-user` whose lease file was
   * chowned to it (as ISC does) in a directory it may not create files in. Not atomic.
   */
  inPlace = false,
  /**
   * Called after the data is written and fsynced, before the rename: the -lf mirror notes the coming file's
   * size and hash in the database (a crash between rename and its final note must not look like an edit).
   */
  beforeRename?: (bytes: number, sha256: string) => void,
): { records: number; bytes: number; sha256: string } {
  const tmp = inPlace ? path : `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, inPlace ? 'r+' : 'w', 0o664);
  let records = -1;
  let bytes = 0;
  const hash = createHash('sha256');
  try {
    // Parts are latin1 (one char a byte): copied straight into a 1 MB buffer, written when it fills.
    let buf = Buffer.allocUnsafe(1 << 20);
    let used = 0;
    const flush = (): void => {
      let off = 0;
      while (off < used) off += writeSync(fd, buf, off, used - off);
      hash.update(buf.subarray(0, used));
      bytes += used;
      used = 0;
    };
    for (const part of leaseFileParts(c, opts)) {
      records++;
      if (used + part.length > buf.length) {
        flush();
        if (part.length > buf.length) buf = Buffer.allocUnsafe(part.length);
      }
      used += buf.write(part, used, 'latin1');
    }
    flush();
    if (inPlace) ftruncateSync(fd, bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    if (inPlace) throw e;
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw e;
  }
  closeSync(fd);
  const sha256 = hash.digest('hex');
  beforeRename?.(bytes, sha256);
  if (!inPlace) renameSync(tmp, path);
  return { records, bytes, sha256 };
}

/** Reads and parses a dhcpd.leases file (bytes as latin1, as ISC reads them). */
export function readLeaseFile(path: string, ctx: LeaseParseContext = {}, displayName = path): ParsedLeaseFile {
  const text = readFileSync(path, 'latin1');
  return parseLeaseFileText(text, displayName, ctx);
}

/** What {@link streamLeaseFile} returns: the file's non-lease records and diagnostics, and counts. */
export interface StreamedLeaseFile extends ParsedLeaseFile {
  /** Lease records read (repeated records for one address each count). */
  leaseRecords: number;
  /** Bytes read. */
  bytes: number;
  /** SHA-256 (hex) of the bytes read. */
  sha256: string;
}

/**
 * Reads a dhcpd.leases in bounded memory: 1 MB at a time, parsed record by record; every lease record goes
 * to `sink` in file order (so a store written with it keeps the last record of an address, as ISC does)
 * until the first diagnostic, after which parsing goes on (to report every diagnostic) but the sink is no
 * longer called. `leases` of the result stays empty.
 */
export function streamLeaseFile(path: string, ctx: LeaseParseContext, sink: LeaseRecordSink, displayName = path): StreamedLeaseFile {
  let diagnostics: ParsedLeaseFile['diagnostics'] = [];
  const parser = new LeaseFileStreamParser(displayName, ctx, (l, line) => {
    if (diagnostics.length === 0) sink(l, line);
  });
  // The parser's result object is the one it fills: watch its diagnostics from the sink.
  diagnostics = parser.peekResult().diagnostics;
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      bytes += n;
      hash.update(buf.subarray(0, n));
      parser.push(buf.toString('latin1', 0, n));
    }
  } finally {
    closeSync(fd);
  }
  const r = parser.end();
  return Object.assign(r, { leaseRecords: parser.leaseRecords, bytes, sha256: hash.digest('hex') });
}

/** Writes everything parsed from a lease file into the store through one writer (caller's transaction). */
export function writeParsedToStore(
  parsed: ParsedLeaseFile,
  w: Parameters<Parameters<LeaseStore['write']>[0]>[0],
  keepLease: (l: Lease) => boolean = () => true,
): void {
  for (const l of parsed.leases.values()) if (keepLease(l)) w.putLease(l);
  for (const h of parsed.hosts.values()) w.putHost(h);
  for (const g of parsed.groups.values()) w.putGroup(g);
  for (const c of parsed.classes.values()) w.putClass(c);
  for (const f of parsed.failoverStates.values()) w.putFailoverState(f);
  if (parsed.serverDuid) w.setServerDuid(parsed.serverDuid);
  if (parsed.authoringByteOrder) w.setAuthoringByteOrder(parsed.authoringByteOrder);
}
