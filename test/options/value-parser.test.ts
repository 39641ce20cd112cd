/**
 * Option value parsing and wire encoding per ISC format code. Expected bytes come from the RFCs
 * (RFC 2132 option layouts, RFC 1035 §3.1/§4.1.4 names and compression, RFC 3397 §3 example) and ISC's
 * documented value syntax; error wording is ISC's (common/parse.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenizeConfig } from '../../grammar/tokens.js';
import { toValueTokens } from '../../src/config/tok-adapter.js';
import { OptionTable, formatFromTypeSpec } from '../../src/options/option-table.js';
import { parseOptionValue, type ValueResult } from '../../src/options/value-parser.js';
import { encodeDomainList, domainNameToWire } from '../../src/options/dns-name.js';

const table = OptionTable.builtin();

function parse(space: string, name: string, text: string): ValueResult {
  const def = table.lookup(space, name);
  assert.ok(def, `${space}.${name} defined`);
  const toks = toValueTokens(tokenizeConfig(text, 't.conf').tokens, 't.conf');
  return parseOptionValue(def, toks, { file: 't.conf', line: 1, column: text.length + 1 });
}

function bytes(space: string, name: string, text: string): string {
  const r = parse(space, name, text);
  if (!r.ok) assert.fail(`unexpected error: ${r.error.message}`);
  assert.equal(r.value.kind, 'const');
  return r.value.kind === 'const' ? Buffer.from(r.value.data).toString('hex') : '';
}

function error(space: string, name: string, text: string): string {
  const r = parse(space, name, text);
  assert.equal(r.ok, false, `expected ${name} ${text} to be rejected`);
  return r.ok ? '' : r.error.message;
}

test('ip-address and arrays of ip-address (RFC 2132 §3.3, §3.5)', () => {
  assert.equal(bytes('dhcp', 'subnet-mask', '255.255.255.0'), 'ffffff00');
  assert.equal(bytes('dhcp', 'routers', '10.0.0.1, 10.0.0.2'), '0a0000010a000002');
  assert.equal(bytes('dhcp', 'routers', '10 . 0 . 0 . 1'), '0a000001');
  assert.equal(error('dhcp', 'routers', '10.0.0'), 'too few numbers.');
  assert.equal(error('dhcp', 'routers', '10.0.0.256'), '256 exceeds max (255) for precision.');
});

test('host names in ip-address fields become lookups (single field limited to 4 bytes)', () => {
  const r = parse('dhcp', 'domain-name-servers', 'ns1.example.com, 10.0.0.1');
  assert.ok(r.ok && r.value.kind === 'expr');
  if (r.ok && r.value.kind === 'expr') {
    assert.deepEqual(r.value.expr, {
      op: 'concat',
      parts: [{ op: 'host-lookup', hostname: 'ns1.example.com' }, { op: 'const-data', data: Uint8Array.of(10, 0, 0, 1) }],
    });
  }
  const s = parse('dhcp', 'subnet-mask', 'mask.example.com');
  assert.ok(s.ok && s.value.kind === 'expr');
  if (s.ok && s.value.kind === 'expr') assert.deepEqual(s.value.expr, { op: 'host-lookup', hostname: 'mask.example.com', limit: 4 });
});

test('integers: widths, signedness, C base detection, ISC range messages', () => {
  assert.equal(bytes('dhcp', 'time-offset', '-18000'), 'ffffb9b0');
  assert.equal(bytes('dhcp', 'boot-size', '0x10'), '0010');
  assert.equal(bytes('dhcp', 'boot-size', '010'), '0008');
  assert.equal(bytes('dhcp', 'default-ip-ttl', '64'), '40');
  assert.equal(bytes('server', 'default-lease-time', '0600'), '00000180');
  assert.equal(bytes('server', 'max-lease-time', 'infinite'), 'ffffffff');
  assert.equal(bytes('dhcp', 'path-mtu-plateau-table', '68, 296, 1500'), '0044012805dc');
  assert.equal(error('server', 'max-lease-time', '09'), 'Bogus number 09: digit 9 not in base 8');
  assert.equal(error('dhcp', 'default-ip-ttl', '2255'), '2255 exceeds max (255) for precision.');
  assert.equal(error('dhcp', 'interface-mtu', '100000'), '100000 exceeds max (65535) for precision.');
  assert.equal(error('dhcp', 'interface-mtu', '1500.5'), 'semicolon expected.');
  // A hex-looking word is a NUMBER_OR_NAME, converted as decimal by ISC: a digit error.
  assert.equal(error('dhcp', 'interface-mtu', 'abc'), 'Bogus number abc: digit 10 not in base 10');
  assert.equal(error('dhcp', 'interface-mtu', '"x"'), 'expecting number.');
});

test('text and string (quoted or colon-hex)', () => {
  assert.equal(bytes('dhcp', 'domain-name', '"example.com"'), Buffer.from('example.com').toString('hex'));
  assert.equal(bytes('dhcp', 'domain-name', 'example'), Buffer.from('example').toString('hex'));
  assert.equal(error('dhcp', 'domain-name', 'example.com'), 'semicolon expected.');
  assert.equal(bytes('dhcp', 'dhcp-client-identifier', '01:00:11:22:33:44:55'), '01001122334455');
  assert.equal(bytes('dhcp', 'dhcp-client-identifier', '"ab\\x01"'), '616201');
  assert.equal(bytes('dhcp', 'vendor-class-identifier', '1:2:a'), '01020a');
  assert.equal(error('dhcp', 'vendor-class-identifier', '1:2:zz'), 'expecting hexadecimal number.');
});

test('boolean and enumerations', () => {
  assert.equal(bytes('dhcp', 'ip-forwarding', 'on'), '01');
  assert.equal(bytes('dhcp', 'ip-forwarding', 'FALSE'), '00');
  assert.equal(bytes('server', 'authoritative', 'ignore'), '02');
  assert.equal(error('dhcp', 'ip-forwarding', 'maybe'), 'expecting boolean.');
  assert.equal(bytes('server', 'ddns-update-style', 'interim'), '02');
  assert.equal(bytes('server', 'log-facility', 'local7'), 'b8');
  assert.equal(error('server', 'ddns-update-style', 'fancy'), 'unknown value');
});

test('domain-list compressed matches RFC 3397 §3 example', () => {
  // "example.com" then "eng.example.com" -> the second uses a pointer to offset 0.
  assert.equal(
    bytes('dhcp', 'domain-search', '"example.com", "eng.example.com"'),
    '076578616d706c6503636f6d00' + '03656e67c000',
  );
  assert.equal(error('dhcp', 'domain-search', 'example.com'), 'Expecting a domain string.');
  // Uncompressed list (bcms-controller-names, format D) writes names in series.
  assert.equal(bytes('dhcp', 'bcms-controller-names', '"a.b", "c.b"'), '016101620001630162' + '00');
});

test('domain-name (d) and RFC 1035 encoding details', () => {
  assert.equal(bytes('dhcp', 'v4-lost', 'example.com'), '076578616d706c6503636f6d00');
  assert.equal(error('dhcp', 'v4-lost', '"quoted"'), 'not a valid domain name.');
  assert.equal(Buffer.from(domainNameToWire('a\\.b.c')!).toString('hex'), '03612e620163' + '00');
  assert.equal(domainNameToWire('x'.repeat(64)), null);
  // Suffix compression across names, case-insensitive, pointer to the label "b" inside the first name.
  assert.equal(Buffer.from(encodeDomainList(['a.b.c', 'D.B.C'], true)!).toString('hex'), '0161016201630001' + '44c002');
});

test('records, optional fields and arrays of records', () => {
  assert.equal(bytes('dhcp', 'static-routes', '10.0.0.0 10.0.0.1, 10.1.0.0 10.0.0.2'), '0a0000000a0000010a0100000a000002');
  assert.equal(bytes('dhcp', 'slp-service-scope', 'true "scope"'), '01' + Buffer.from('scope').toString('hex'));
  assert.equal(bytes('dhcp', 'slp-service-scope', 'false'), '00');
  assert.equal(bytes('dhcp', 'slp-directory-agent', 'true 10.0.0.1, 10.0.0.2'), '010a0000010a000002');
  assert.equal(bytes('dhcp', 'pxe-client-id', '0 01:02:03'), '00010203');
  assert.equal(bytes('dhcp', 'option-6rd', '16 32 2001:db8:: 10.0.0.1'), '1020' + '20010db8000000000000000000000000' + '0a000001');
});

test('user-defined types become ISC format strings, with ISC diagnostics', () => {
  const t = OptionTable.builtin();
  const f = (spec: Parameters<typeof formatFromTypeSpec>[0]) => formatFromTypeSpec(spec, t);
  assert.deepEqual(f({ kind: 'array', of: { kind: 'integer', bits: 8, signed: false } }), { ok: true, format: 'BA' });
  assert.deepEqual(f({ kind: 'record', fields: [{ kind: 'ip-address' }, { kind: 'array', of: { kind: 'integer', bits: 16, signed: true } }] }), { ok: true, format: 'Isa' });
  assert.deepEqual(f({ kind: 'array', of: { kind: 'record', fields: [{ kind: 'ip-address' }, { kind: 'boolean' }] } }), { ok: true, format: 'IfA' });
  assert.deepEqual(f({ kind: 'array', of: { kind: 'text' } }), { ok: false, message: 'arrays of text strings not yet supported.' });
  assert.deepEqual(f({ kind: 'array', of: { kind: 'array', of: { kind: 'boolean' } } }), { ok: false, message: 'no nested arrays.' });
  assert.deepEqual(f({ kind: 'domain-list', compressed: true }), { ok: true, format: 'Dc' });
  assert.deepEqual(f({ kind: 'encapsulate', space: 'nope' }), { ok: false, message: 'unknown option space nope' });
  // A defined record option parses and encodes.
  t.defineSpace('ipxe');
  const def = t.define('dhcp', 'rfc3442-classless-static-routes', 121, 'BA');
  const toks = toValueTokens(tokenizeConfig('24, 192, 168, 1, 10, 0, 0, 1', 'x').tokens, 'x');
  const r = parseOptionValue(def, toks, { file: 'x', line: 1, column: 1 });
  assert.ok(r.ok && r.value.kind === 'const');
  if (r.ok && r.value.kind === 'const') assert.equal(Buffer.from(r.value.data).toString('hex'), '18c0a8010a000001');
});

test('zerolen takes no value', () => {
  assert.equal(bytes('agent', 'relay-port', ''), '');
  assert.equal(error('agent', 'relay-port', '1'), 'semicolon expected.');
});
