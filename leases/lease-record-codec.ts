/**
 * A compact binary form of a {@link Lease}, stored in the `rec` column of `lease4` so that start-up reads one
 * value per lease (better-sqlite3 converts every column of every row into a JS value, and that, not SQLite,
 * dominates loading a million leases).
 *
 * Layout (big-endian), version 1:
 *   u8 version, u8 flags (bit0 hardware, 1 uid, 2 client-hostname, 3 hostname, 4 reserved, 5 dynamic-bootp),
 *   u8 state, u8 next state, u8 rewind state (codes of BINDING_CODE_ORDER),
 *   u8 time-present mask, u8 time-never mask (bits 0..5 = starts ends tstp tsfp atsfp cltt),
 *   f64 per present time,
 *   [hardware: u8 htype, u8 len, bytes] [uid: u16 len, bytes] [client-hostname: u16 len, latin1]
 *   [hostname: u16 len, latin1],
 *   u16 scope count, per entry: u16 name len, name, u8 kind (0 data, 1 number, 2 boolean), then u32 len + bytes /
 *   f64 / u8,
 *   u8 agent count, per sub-option: u8 code, u16 len, bytes,
 *   u8 billing kind (0 none, 1 class, 2 subclass), [u16 len name] [u16 len data],
 *   u8 on mask (bit0 expiry, 1 release, 2 commit, 3 expiry-or-release), per present text: u32 len, latin1.
 *
 * @module
 */
import type { BindingState, Lease, LeaseTime, ScopeValue } from './lease.js';

/** Binding state codes (ISC FTS_* numbering from 1, then the legacy words). */
export const BINDING_CODE_ORDER: readonly BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup', 'reserved', 'bootp'];

export function bindingCode(s: BindingState): number {
  const i = BINDING_CODE_ORDER.indexOf(s);
  if (i < 0) throw new Error(`unknown binding state ${String(s)}`);
  return i + 1;
}

export function bindingFromCode(c: number): BindingState {
  return BINDING_CODE_ORDER[c - 1] ?? 'free';
}

class Writer {
  buf: Buffer;
  off = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private need(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(b, 0, 0, this.off);
    this.buf = b;
  }
  u8(v: number): void {
    this.need(1);
    this.buf[this.off++] = v & 255;
  }
  u16(v: number): void {
    this.need(2);
    this.buf.writeUInt16BE(v, this.off);
    this.off += 2;
  }
  u32(v: number): void {
    this.need(4);
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }
  f64(v: number): void {
    this.need(8);
    this.buf.writeDoubleBE(v, this.off);
    this.off += 8;
  }
  bytes(b: Buffer): void {
    this.need(b.length);
    b.copy(this.buf, this.off);
    this.off += b.length;
  }
  latin1(s: string): void {
    const n = s.length;
    this.need(n);
    this.buf.write(s, this.off, n, 'latin1');
    this.off += n;
  }
}

const TIME_FIELDS = ['starts', 'ends', 'tstp', 'tsfp', 'atsfp', 'cltt'] as const;

/** Packs a lease. */
export function encodeLeaseRecord(l: Lease): Buffer {
  const w = new Writer(96);
  w.u8(1);
  const flags =
    (l.hardware ? 1 : 0) |
    (l.uid ? 2 : 0) |
    (l.clientHostname !== null ? 4 : 0) |
    (l.hostname !== null ? 8 : 0) |
    (l.reserved ? 16 : 0) |
    (l.dynamicBootp ? 32 : 0);
  w.u8(flags);
  w.u8(bindingCode(l.bindingState));
  w.u8(bindingCode(l.nextBindingState));
  w.u8(bindingCode(l.rewindBindingState));
  let present = 0;
  let never = 0;
  TIME_FIELDS.forEach((f, i) => {
    const t = l[f];
    if (t === null) never |= 1 << i;
    else if (t !== 0) present |= 1 << i;
  });
  w.u8(present);
  w.u8(never);
  TIME_FIELDS.forEach((f, i) => {
    if (present & (1 << i)) w.f64(l[f] as number);
  });
  if (l.hardware) {
    w.u8(l.hardware.htype);
    w.u8(l.hardware.address.length);
    w.bytes(l.hardware.address);
  }
  if (l.uid) {
    w.u16(l.uid.length);
    w.bytes(l.uid);
  }
  if (l.clientHostname !== null) {
    w.u16(l.clientHostname.length);
    w.latin1(l.clientHostname);
  }
  if (l.hostname !== null) {
    w.u16(l.hostname.length);
    w.latin1(l.hostname);
  }
  w.u16(l.scope.size);
  for (const [name, v] of l.scope) {
    w.u16(name.length);
    w.latin1(name);
    if (v.kind === 'data') {
      w.u8(0);
      w.u32(v.value.length);
      w.bytes(v.value);
    } else if (v.kind === 'number') {
      w.u8(1);
      w.f64(v.value);
    } else {
      w.u8(2);
      w.u8(v.value ? 1 : 0);
    }
  }
  w.u8(l.agentOptions.length);
  for (const o of l.agentOptions) {
    w.u8(o.code);
    w.u16(o.data.length);
    w.bytes(o.data);
  }
  const b = l.billingClass;
  if (!b) w.u8(0);
  else {
    w.u8(b.kind === 'class' ? 1 : 2);
    w.u16(b.name.length);
    w.latin1(b.name);
    if (b.kind === 'subclass') {
      w.u16(b.data.length);
      w.bytes(b.data);
    }
  }
  const on = l.on;
  const mask = (on.expiry !== undefined ? 1 : 0) | (on.release !== undefined ? 2 : 0) | (on.commit !== undefined ? 4 : 0) | (on.expiryOrRelease ? 8 : 0);
  w.u8(mask);
  for (const t of [on.expiry, on.release, on.commit]) {
    if (t !== undefined) {
      w.u32(t.length);
      w.latin1(t);
    }
  }
  return w.buf.subarray(0, w.off);
}

/** Unpacks a lease; `address` comes from the row key. Buffers in the result are views of `rec`. */
export function decodeLeaseRecord(address: number, rec: Buffer): Lease {
  let o = 1;
  const flags = rec[o++]!;
  const bindingState = bindingFromCode(rec[o++]!);
  const nextBindingState = bindingFromCode(rec[o++]!);
  const rewindBindingState = bindingFromCode(rec[o++]!);
  const present = rec[o++]!;
  const never = rec[o++]!;
  const times: LeaseTime[] = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 6; i++) {
    if (never & (1 << i)) times[i] = null;
    else if (present & (1 << i)) {
      times[i] = rec.readDoubleBE(o);
      o += 8;
    }
  }
  let hardware: Lease['hardware'] = null;
  if (flags & 1) {
    const htype = rec[o++]!;
    const n = rec[o++]!;
    hardware = { htype, address: rec.subarray(o, o + n) };
    o += n;
  }
  let uid: Buffer | null = null;
  if (flags & 2) {
    const n = rec.readUInt16BE(o);
    o += 2;
    uid = rec.subarray(o, o + n);
    o += n;
  }
  let clientHostname: string | null = null;
  if (flags & 4) {
    const n = rec.readUInt16BE(o);
    o += 2;
    clientHostname = rec.toString('latin1', o, o + n);
    o += n;
  }
  let hostname: string | null = null;
  if (flags & 8) {
    const n = rec.readUInt16BE(o);
    o += 2;
    hostname = rec.toString('latin1', o, o + n);
    o += n;
  }
  const scope = new Map<string, ScopeValue>();
  const sc = rec.readUInt16BE(o);
  o += 2;
  for (let i = 0; i < sc; i++) {
    const nl = rec.readUInt16BE(o);
    o += 2;
    const name = rec.toString('latin1', o, o + nl);
    o += nl;
    const kind = rec[o++]!;
    if (kind === 0) {
      const n = rec.readUInt32BE(o);
      o += 4;
      scope.set(name, { kind: 'data', value: rec.subarray(o, o + n) });
      o += n;
    } else if (kind === 1) {
      scope.set(name, { kind: 'number', value: rec.readDoubleBE(o) });
      o += 8;
    } else {
      scope.set(name, { kind: 'boolean', value: rec[o++] === 1 });
    }
  }
  const agentOptions: Lease['agentOptions'] = [];
  const ac = rec[o++]!;
  for (let i = 0; i < ac; i++) {
    const code = rec[o++]!;
    const n = rec.readUInt16BE(o);
    o += 2;
    agentOptions.push({ code, data: rec.subarray(o, o + n) });
    o += n;
  }
  let billingClass: Lease['billingClass'] = null;
  const bk = rec[o++]!;
  if (bk) {
    const n = rec.readUInt16BE(o);
    o += 2;
    const name = rec.toString('latin1', o, o + n);
    o += n;
    if (bk === 1) billingClass = { kind: 'class', name };
    else {
      const d = rec.readUInt16BE(o);
      o += 2;
      billingClass = { kind: 'subclass', name, data: rec.subarray(o, o + d) };
      o += d;
    }
  }
  const on: Lease['on'] = {};
  const mask = rec[o++] ?? 0;
  const text = (): string => {
    const n = rec.readUInt32BE(o);
    o += 4;
    const s = rec.toString('latin1', o, o + n);
    o += n;
    return s;
  };
  if (mask & 1) on.expiry = text();
  if (mask & 2) on.release = text();
  if (mask & 4) on.commit = text();
  if (mask & 8) on.expiryOrRelease = true;
  return {
    address,
    starts: times[0] as LeaseTime,
    ends: times[1] as LeaseTime,
    tstp: times[2] as LeaseTime,
    tsfp: times[3] as LeaseTime,
    atsfp: times[4] as LeaseTime,
    cltt: times[5] as LeaseTime,
    bindingState,
    nextBindingState,
    rewindBindingState,
    reserved: (flags & 16) !== 0,
    dynamicBootp: (flags & 32) !== 0,
    hardware,
    uid,
    clientHostname,
    hostname,
    scope,
    agentOptions,
    billingClass,
    on,
  };
}
