/**
 * Top-level canonical hosts (grammar/host-fast-path.ts) whose model is built on first use. Compiling
 * a 50,000-host file made ~600,000 objects that all survive (Host, Scope, option statement, locations,
 * byte views): most of the compile's CPU and nearly all of its garbage collection, for `dhcpd -t`, which
 * never reads them. The compiler checks what can go wrong with such a host while reading it (its options
 * and a duplicate name: the only errors the general path could report for it) and reserves its scope id;
 * ConfigBuilder builds the hosts, in order, the first time anything reads Config.hosts, hostsByName or
 * scopes (or before it compiles a host of another form), with the very objects and ids the eager path
 * makes (test/config/fast-compile compares both).
 */
import { CanonicalHost, completeFacts, OPT, O_BYTES, O_COLUMN, O_LINE, O_STRING, O_STRING_END, R_FIXED, R_FIXED_COUNT, R_HW, R_HW_LEN, R_LINE_START, R_NAME, R_NAME_END, R_OPT_COUNT, R_OPTS, R_START, REC } from '../../grammar/host-fast-path.js';
import { decodeIscString } from '../../grammar/tokens.js';
import type { OptionDefinition } from '../options/option-table.js';
import type { Host, Scope, SourceLoc, Statement } from './model.js';

/** Hosts read but not built, in file order. */
export class DeferredHosts {
  readonly hosts: CanonicalHost[] = [];
  readonly parents: Scope[] = [];
  /** Scope id reserved for each host. */
  readonly ids: number[] = [];
  /** The parent's `authoritative` when the host was read (a scope inherits it at creation). */
  readonly authoritative: boolean[] = [];
  /** The definitions of the hosts' options, in order (R_OPT_COUNT of each host). */
  readonly defs: OptionDefinition[] = [];
  /** Open-addressing table of the names (index + 1; 0 empty), hashed from the text, no strings made. */
  private slots: Int32Array;
  /** Each host's name hash (compared before the names). */
  private hashes: Int32Array;

  constructor(
    /** Config.hosts and hostsByName when the first host was deferred (built hosts join them). */
    readonly builtHosts: Host[],
    readonly byName: Map<string, Host>,
    /** Hosts expected (sizes the name table once). */
    expected: number,
  ) {
    let n = 1 << 10;
    while (n < expected * 2) n *= 2;
    this.slots = new Int32Array(n);
    this.hashes = new Int32Array(n >> 1);
  }

  get count(): number {
    return this.hosts.length;
  }

  /**
   * Adds `h` with its parent scope, reserved scope id and option definitions (the first `defCount` of
   * `defs`); false, with nothing added, when a deferred host has its name.
   */
  add(h: CanonicalHost, parent: Scope, id: number, defs: readonly OptionDefinition[], defCount: number): boolean {
    const mask = this.slots.length - 1;
    const hash = nameHash(h);
    let s = hash & mask;
    for (let k = this.slots[s]!; k !== 0; k = this.slots[s]!) {
      if (this.hashes[k - 1] === hash && sameName(this.hosts[k - 1]!, h)) return false;
      s = (s + 1) & mask;
    }
    if (this.hosts.length >= this.hashes.length) {
      const b = new Int32Array(this.hashes.length * 4);
      b.set(this.hashes);
      this.hashes = b;
    }
    this.hashes[this.hosts.length] = hash;
    this.hosts.push(h);
    this.parents.push(parent);
    this.ids.push(id);
    this.authoritative.push(parent.authoritative);
    for (let k = 0; k < defCount; k++) this.defs.push(defs[k]!);
    if (this.hosts.length * 2 > this.slots.length) this.rehash();
    else this.slots[s] = this.hosts.length;
    return true;
  }

  private insert(k: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashes[k]! & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = k + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 4);
    for (let k = 0; k < this.hosts.length; k++) this.insert(k);
  }

  /** Builds host `k` (the objects ConfigBuilder.beginHost/newScope and the compiler make for it). */
  build(k: number, scopeOf: (id: number, kind: 'host', parent: Scope, name: string, loc: SourceLoc, authoritative: boolean) => Scope): Host {
    const h = this.hosts[k]!;
    // What the scan left to read when the host is built (grammar/host-fast-path.ts matchBlock).
    completeFacts(h);
    const t = h.table;
    const r = h.index * REC;
    const rec = t.rec;
    const text = t.text;
    const file = t.file;
    const name = text.slice(rec[r + R_NAME]!, rec[r + R_NAME_END]!);
    const loc: SourceLoc = { file, line: h.line, column: rec[r + R_START]! - rec[r + R_LINE_START]! + 1 };
    const scope = scopeOf(this.ids[k]!, 'host', this.parents[k]!, name, loc, this.authoritative[k]!);
    const host: Host = {
      name, scope, hardware: null, clientId: null, hostIdentifier: null, fixedAddresses: [], groupName: null,
      dynamic: false, deleted: false, loc,
    };
    const hwLen = rec[r + R_HW_LEN]!;
    // Bytes are views into the scan's buffers: no ArrayBuffer per host.
    if (hwLen >= 0) host.hardware = { htype: 1, address: new Uint8Array(t.hw.buffer, rec[r + R_HW]!, hwLen) };
    const fixedCount = rec[r + R_FIXED_COUNT]!;
    if (fixedCount > 0) {
      // Arrays made at their size (a first push into `[]` reserves 17 slots).
      const off = rec[r + R_FIXED]!;
      const list: Host['fixedAddresses'] = new Array(fixedCount);
      for (let j = 0; j < fixedCount; j++) list[j] = { kind: 'address', address: t.fixed[off + j]! };
      host.fixedAddresses = list;
    }
    const optCount = rec[r + R_OPT_COUNT]!;
    if (optCount > 0) {
      const opts = t.opts;
      const optOff = rec[r + R_OPTS]!;
      const statements: Statement[] = new Array(optCount);
      for (let j = 0; j < optCount; j++) {
        const o = optOff + j * OPT;
        const def = this.defs[this.defIndex++]!;
        const from = opts[o + O_STRING]!;
        const to = opts[o + O_STRING_END]!;
        const bytes = opts[o + O_BYTES]!;
        const data = bytes >= 0 ? new Uint8Array(t.str.buffer, bytes, to - from) : latin1Bytes(decodeIscString(text.slice(from, to)));
        const oloc: SourceLoc = { file, line: opts[o + O_LINE]!, column: opts[o + O_COLUMN]! };
        statements[j] = { kind: 'option', loc: oloc, mode: 'option', space: def.space, name: def.name, code: def.code, value: { kind: 'const', data } };
      }
      scope.statements = statements;
    }
    return host;
  }
  /** Next unread entry of {@link defs} while building in order. */
  private defIndex = 0;
}

/** The name of a fast-path host (a new string). */
export function canonicalHostName(h: CanonicalHost): string {
  const r = h.index * REC;
  return h.table.text.slice(h.table.rec[r + R_NAME]!, h.table.rec[r + R_NAME_END]!);
}

function nameHash(h: CanonicalHost): number {
  const r = h.index * REC;
  const text = h.table.text;
  const end = h.table.rec[r + R_NAME_END]!;
  let x = 0x811c9dc5;
  for (let i = h.table.rec[r + R_NAME]!; i < end; i++) x = Math.imul(x ^ text.charCodeAt(i), 0x01000193);
  return x | 0;
}

function sameName(a: CanonicalHost, b: CanonicalHost): boolean {
  const ra = a.index * REC;
  const rb = b.index * REC;
  let i = a.table.rec[ra + R_NAME]!;
  const ie = a.table.rec[ra + R_NAME_END]!;
  let j = b.table.rec[rb + R_NAME]!;
  if (ie - i !== b.table.rec[rb + R_NAME_END]! - j) return false;
  const ta = a.table.text;
  const tb = b.table.text;
  for (; i < ie; i++, j++) if (ta.charCodeAt(i) !== tb.charCodeAt(j)) return false;
  return true;
}

function latin1Bytes(s: string): Uint8Array {
  const data = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) data[i] = s.charCodeAt(i);
  return data;
}
