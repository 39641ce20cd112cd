/**
 * Unit tests of the config compiler's pure helpers: failover split -> hba mask (ISC confpars.c bit
 * layout), key secret base64 (RFC 4648 §10 vectors plus ISC's two diagnostics), dates, typed server
 * parameters with ISC's defaults (includes/dhcpd.h, dhcp.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitToHba, decodeBase64Isc, dateToEpoch } from '../../src/config/compile.js';
import { resolveServerParameters, DEFAULT_SERVER_PARAMETERS } from '../../src/config/parameters.js';
import type { Scope } from '../../src/config/model.js';
import { formatIp, parseIp, prefixLength } from '../../src/config/ip.js';

test('split N sets hash buckets 0..N-1, bit i at byte i/8 value 1<<(i%8)', () => {
  const h = splitToHba(128);
  assert.equal(h.length, 32);
  assert.deepEqual([...h.subarray(0, 16)], Array(16).fill(0xff));
  assert.deepEqual([...h.subarray(16)], Array(16).fill(0));
  assert.deepEqual([...splitToHba(3).subarray(0, 2)], [0x07, 0]);
  assert.deepEqual([...splitToHba(256)], Array(32).fill(0xff));
  assert.deepEqual([...splitToHba(0)], Array(32).fill(0));
});

test('base64 secrets: RFC 4648 test vectors and ISC diagnostics', () => {
  const s = (x: string) => {
    const r = decodeBase64Isc(x);
    return typeof r === 'string' ? r : Buffer.from(r).toString('latin1');
  };
  assert.equal(s('Zm9vYmFy'), 'foobar');
  assert.equal(s('Zm9vYmE='), 'fooba');
  assert.equal(s('Zm9vYg=='), 'foob');
  assert.equal(s('Zg=='), 'f');
  assert.equal(s('ab_c'), 'invalid base64 character 95.');
  // One dangling character leaves its 6 bits in ISC's accumulator.
  assert.equal(s('ZmE'), 'fa');
  assert.equal(s('Zm9vE'), 'partial base64 value left over: 4.');
  assert.equal(s('Zg==x'), "stuff after base64 '=' terminator: x.");
});

test('dates are UTC plus an optional offset', () => {
  const loc = { file: 'f', line: 1, column: 1 };
  assert.equal(dateToEpoch({ kind: 'date', loc, weekday: 4, year: 2030, month: 1, day: 1, hour: 0, minute: 0, second: 0 }), 1893456000);
  assert.equal(dateToEpoch({ kind: 'epoch', loc, seconds: 42 }), 42);
});

test('server parameters: ISC defaults, inner scopes override, unconditional constants only', () => {
  const mk = (kind: Scope['kind'], parent: Scope | null, stmts: [string, number[]][]): Scope => ({
    id: 0, kind, name: null, parent, loc: null, authoritative: false,
    statements: stmts.map(([name, data]) => ({
      kind: 'option', loc: { file: 'f', line: 1, column: 1 }, mode: 'supersede', space: 'server', name, code: 0,
      value: { kind: 'const', data: Uint8Array.from(data) },
    })),
  });
  const p0 = resolveServerParameters([]);
  assert.deepEqual(p0, DEFAULT_SERVER_PARAMETERS);
  assert.equal(p0.defaultLeaseTime, 43200);
  assert.equal(p0.maxLeaseTime, 86400);
  assert.equal(p0.pingCheck, true);
  assert.equal(p0.logFacility, 'daemon');
  const g = mk('global', null, [['default-lease-time', [0, 0, 2, 0x58]], ['log-facility', [184]], ['max-lease-time', [0, 0, 0, 100]]]);
  const s = mk('subnet', g, [['default-lease-time', [0, 0, 0, 60]], ['ping-check', [0]], ['allow-bootp', [2]]]);
  const p = resolveServerParameters([g, s]);
  assert.equal(p.defaultLeaseTime, 60);
  assert.equal(p.logFacility, 'local7');
  assert.equal(p.pingCheck, false);
  assert.equal(p.allowBootp, 'ignore');
  // min-lease-time never exceeds max-lease-time (dhcp.c).
  assert.equal(p.minLeaseTime, 100);
});

test('ip helpers', () => {
  assert.equal(formatIp(0xc0a80101), '192.168.1.1');
  assert.equal(parseIp('10.0.0.255'), 0x0a0000ff);
  assert.equal(parseIp('10.0.0.256'), null);
  assert.equal(prefixLength(0xffffff00), 24);
  assert.equal(prefixLength(0), 0);
});
