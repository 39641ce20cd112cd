/**
 * The parser quirks of GRAMMAR.md §7 (and a few more), each checked two ways: against the expected
 * verdict written here, and — when ISC dhcpd is installed — against the real `dhcpd -4 -t` on the same
 * file (identical first error line, echoed source line and caret).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBoth, haveDhcpd } from './isc-oracle.js';
import { parseConfigText } from '../../grammar/conf-parser.js';
import type { Statement } from '../../grammar/ast.js';
import { formatIscError } from '../../grammar/errors.js';

const NET = 'subnet 10.0.0.0 netmask 255.255.255.0 { }\n';

interface Case {
  name: string;
  conf: string;
  /** undefined = accepted; otherwise the expected first line of our error. */
  error?: string;
}

const cases: Case[] = [
  { name: '§7.1 if (A) or (B) { is an error', conf: 'if (option host-name = "a") or (option host-name = "b") { }\n', error: 't.conf line 1: left brace expected.' },
  { name: '§7.1 if (A or B) { is fine', conf: 'if (option host-name = "a" or option host-name = "b") { }\n' },
  { name: '§7.2 subnet { }; is an error', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 { };\n', error: 't.conf line 1: expecting a declaration' },
  { name: '§7.2 group { }; is an error', conf: 'group { };\n', error: 't.conf line 1: expecting a declaration' },
  { name: '§7.2 zone { }; is an error', conf: 'zone example.com. { primary 127.0.0.1; };\n', error: 't.conf line 1: expecting a parameter or declaration' },
  { name: '§7.2 key { }; is fine', conf: 'key k { algorithm hmac-md5; secret "aGVsbG8="; };\n' },
  { name: '§7.3 empty statement ;; is an error', conf: 'authoritative;;\n', error: 't.conf line 1: expecting a parameter or declaration' },
  { name: '§7.5 quoted host name rejected', conf: 'host "q" { }\n', error: 't.conf line 1: expecting a name for host declaration.' },
  { name: '§7.5 unquoted class name rejected', conf: 'class foo { }\n', error: 't.conf line 1: Expecting class name' },
  { name: '§7.5 quoted zone name rejected', conf: 'zone "example.com" { primary 127.0.0.1; }\n', error: 't.conf line 1: expecting hostname.' },
  { name: '§7.5 class names are case-sensitive', conf: 'class "A" { }\nsubclass "a" "x";\n', error: 't.conf line 2: no class named a' },
  { name: '§7.6 bare unknown word is accepted', conf: 'authoritativ;\n' },
  { name: '§7.6 unknown parameter with a value is not', conf: 'ddns-update-styl none;\n', error: 't.conf line 1: semicolon expected.' },
  { name: '§7.10 deny known-clients outside a pool', conf: 'deny known-clients;\n', error: 't.conf line 1: expecting allow/deny key' },
  { name: '§7.10 allow booting inside a pool', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 { pool { range 10.0.0.5 10.0.0.9; allow booting; } }\n', error: 't.conf line 1: expecting permit type.' },
  { name: '§7.10 deny known-clients inside a pool is fine', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 { pool { range 10.0.0.5 10.0.0.9; deny known-clients; allow members of "c"; } }\n'.replace('allow members of "c"; ', '') },
  { name: '§7.12 subnet number with host bits', conf: 'subnet 10.0.0.1 netmask 255.255.255.0 { }\n', error: 't.conf line 1: subnet 10.0.0.1 netmask 255.255.255.0: bad subnet number/mask combination.' },
  { name: '§7.12 pool without range', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 {\n pool {\n }\n}\n', error: 't.conf line 3: Pool declaration with no address range.' },
  { name: '§7.12 empty shared-network', conf: 'shared-network s {\n}\n', error: 't.conf line 2: empty shared-network decl' },
  { name: '§7.14 numeric case label in a data switch', conf: 'switch (option host-name) { case 1: break; }\n', error: 't.conf line 1: expecting hexadecimal number.' },
  { name: '§7.14 numeric switch takes numeric cases', conf: 'switch (extract-int(option dhcp-message-type, 8)) { case 1: break; default: break; }\n' },
  { name: '§7.15 set x = 1 + 2 fails', conf: 'set x = 1 + 2;\n', error: 't.conf line 1: expecting numeric expressions' },
  { name: '§7.16 ldap parameters are unknown words', conf: 'ldap-server "x";\n', error: 't.conf line 1: semicolon expected.' },
  { name: '§7.17 vendor-class needs an existing class', conf: 'vendor-class "foo" { }\n', error: 't.conf line 1: no class named foo' },
  { name: '§7.18 host inside a subnet is accepted', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 { host h { hardware ethernet 0:1:2:3:4:5; } }\n' },
  { name: '§7.19 not option X = "v" is rejected', conf: 'if not option host-name = "a" { }\n', error: 't.conf line 1: boolean expression expected' },
  { name: '§7.19 not (option X = "v") is fine', conf: 'if not (option host-name = "a") { }\n' },
  { name: '§7.21 hex-looking variable names read as hex', conf: 'define f (a) { return x; }\n', error: 't.conf line 1: Bogus number x: digit 33 not in base 16' },
  { name: '§7.22 option unknown-0 is rejected', conf: 'option unknown-0 1;\n', error: 't.conf line 1: Option codes 0 and 255 are illegal in the dhcp space.' },
  { name: '§7.22 option unknown-77 is accepted', conf: 'option unknown-77 "x";\n' },
  { name: 'keywords are case-insensitive', conf: 'SUBNET 10.0.0.0 NETMASK 255.255.255.0 { Option Routers 10.0.0.1; }\n' },
  { name: 'whitespace inside an address', conf: 'option routers 10 . 0 . 0 . 1;\n' },
  { name: 'elsif and else if', conf: 'if exists host-name { } elsif known { } else if static { } else { }\n' },
  { name: 'on commit/expiry/release with set, log and execute', conf: 'on commit or expiry { set a = "x"; log (info, concat("x", a)); execute ("/bin/true", a); }\non release;\n' },
  { name: 'failover peer without peer address', conf: 'failover peer "f" {\n primary;\n address 10.0.0.1;\n mclt 10;\n split 128;\n}\n', error: 't.conf line 6: peer address may not be omitted' },
  { name: 'secondary with split', conf: 'failover peer "f" { secondary; split 128; }\n', error: 't.conf line 1: secondary may not define load balance settings.' },
  { name: 'pool references an undeclared peer', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 { pool { failover peer "nope"; range 10.0.0.5 10.0.0.9; } }\n', error: 't.conf line 1: failover peer nope: not found' },
  { name: 'option definition with records and arrays', conf: 'option rfc3442 code 121 = array of unsigned integer 8;\noption rec code 222 = { ip-address, array of unsigned integer 16 };\noption ar code 223 = array of { ip-address, ip-address };\noption rec rec 10.0.0.1 1, 2;\n'.replace('option rec rec 10.0.0.1 1, 2;\n', '') },
  { name: 'arrays of text are not supported', conf: 'option t code 222 = array of text;\n', error: 't.conf line 1: arrays of text strings not yet supported.' },
  { name: 'option definitions may not be scoped', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 { option t code 222 = text; }\n', error: 't.conf line 1: option definitions may not be scoped.' },
  { name: 'bad base64 secret', conf: 'key k { algorithm hmac-md5; secret ab_c; }\n', error: 't.conf line 1: invalid base64 character 95.' },
  { name: 'stray closing brace at top level', conf: 'authoritative;\n}\n', error: 't.conf line 1: expecting a parameter or declaration' },
  { name: 'error before any token reads line 0', conf: '1\n', error: 't.conf line 0: expecting a parameter or declaration' },
  { name: 'comments, CRLF and tabs', conf: '# c\r\nddns-update-style none; # trailing\r\n\tauthoritative;\r\n' },
  { name: 'percent lines are ignored', conf: '%something ignored;\nauthoritative;\n' },
  { name: 'ISC 4.4.3: `no failover peer;` leaves its `;` behind', conf: 'subnet 10.0.0.0 netmask 255.255.255.0 {\n pool { range 10.0.0.5; no failover peer; }\n}\n', error: 't.conf line 2: expecting a parameter or declaration' },
  { name: 'ISC 4.4.3: a group flag must be followed by a statement', conf: 'group { static; }\n', error: 't.conf line 1: expecting a parameter or declaration' },
  { name: 'group flag then a statement is fine', conf: 'group { static; authoritative; }\n' },
  { name: 'failover state: mclt only on a secondary', conf: 'failover peer "f" { primary; address 10.0.0.1; peer address 10.0.0.2; mclt 10; split 128; }\nfailover peer "f" state { my state normal at 4 2030/01/01 00:00:00; mclt 10; }\nsubnet 10.0.0.0 netmask 255.255.255.0 { pool { failover peer "f"; range 10.0.0.5; } }\n', error: 't.conf line 2: mclt not valid for primary' },
  { name: 'function call needs an argument', conf: 'set a = foo();\n', error: 't.conf line 1: expecting expression.' },
  { name: 'pool6 in -4 without range6', conf: 'subnet 10.0.0.0 netmask 255.0.0.0 { pool6 { }\n}\n', error: 't.conf line 1: Pool6 declaration with no address range6 or prefix6.' },
  { name: 'fixed-address6 is accepted by -4', conf: 'host a { fixed-address6 2001:db8::1; }\n' },
  { name: 'server-duid is accepted by -4', conf: 'server-duid llt ethernet 12345 00:01:02:03:04:05;\n' },
  { name: 'server-duid needs a type', conf: 'server-duid "x";\n', error: 't.conf line 1: DUID type of LLT, EN, or LL expected' },
  { name: 'zone primary6 needs an IPv6 literal', conf: 'zone example.com. { primary6 key; }\n', error: 't.conf line 1: Invalid IPv6 address.' },
  { name: 'unterminated string', conf: 'option domain-name "abc;\n', error: 't.conf line 1: eof in string constant' },
];

for (const c of cases) {
  test(c.name, () => {
    const v = checkBoth(c.conf + (c.error || c.conf.includes('subnet') || c.conf.includes('failover') ? '' : NET));
    if (c.error === undefined) {
      assert.deepEqual(v.ours.errors, [], `we rejected: ${v.oursFirst}`);
      if (haveDhcpd) assert.equal(v.iscCode, 0, `ISC rejected: ${v.iscFirst}`);
    } else {
      assert.ok(v.oursFirst, 'we accepted');
      assert.equal(v.oursFirst.split('\n')[0], c.error);
      // Same first line, echoed source text and caret as the real dhcpd.
      if (haveDhcpd) assert.equal(v.oursFirst, v.iscFirst);
    }
  });
}

function first<K extends Statement['kind']>(stmts: Statement[], kind: K): Extract<Statement, { kind: K }> {
  const s = stmts.find((x) => x.kind === kind);
  assert.ok(s, `no ${kind}`);
  return s as Extract<Statement, { kind: K }>;
}

test('§7.20 numbers in data context are hex bytes', () => {
  const r = parseConfigText('if option dhcp-message-type = 10 { }\nif extract-int(option dhcp-message-type, 8) = 10 { }\n', 'x.conf');
  assert.equal(r.ok, true);
  const [a, b] = r.ast.statements;
  assert.ok(a?.kind === 'if' && a.condition.op === 'binary' && a.condition.right.op === 'const-data');
  assert.deepEqual(a.condition.right.bytes, [0x10]);
  assert.ok(b?.kind === 'if' && b.condition.op === 'binary' && b.condition.right.op === 'const-int');
  assert.equal(b.condition.right.value, 10);
});

test('§7.4 leading-zero values stay raw tokens for the compiler', () => {
  const r = parseConfigText('default-lease-time 0600;\nmax-lease-time 09;\n', 'x.conf');
  assert.equal(r.ok, true);
  const p = first(r.ast.statements, 'parameter');
  assert.equal(p.name, 'default-lease-time');
  assert.ok(p.value.kind === 'tokens');
  assert.equal(p.value.tokens.length, 1);
  assert.equal(p.value.tokens[0]!.text, '0600');
  assert.equal(p.value.tokens[0]!.kind, 'number');
  // The compiler can ask where ISC reports a problem with a value token.
  const e = p.value.errorAt(0, 'Bogus number 09: digit 9 not in base 8');
  assert.equal(e.line, 1);
});

test('AST: subnet, pool, range, host, class, failover and positions', () => {
  const text =
    'failover peer "fo" { primary; address 10.0.0.2; peer address 10.0.0.3; port 647; peer port 647; mclt 3600; split 128; load balance max seconds 3; }\n' +
    'class "c" { match if substring(option vendor-class-identifier, 0, 9) = "PXEClient"; }\n' +
    'subnet 10.0.0.0 netmask 255.255.255.0 {\n  pool { failover peer "fo"; range dynamic-bootp 10.0.0.10 10.0.0.20; allow members of "c"; }\n}\n' +
    'host h1 { hardware ethernet 00:0c:29:aa:bb:cc; fixed-address 10.0.0.5, h2.example.com; }\n';
  const r = parseConfigText(text, 'x.conf');
  assert.deepEqual(r.errors, []);
  const fo = first(r.ast.statements, 'failover-peer');
  assert.equal(fo.name, 'fo');
  assert.deepEqual(fo.params.map((p) => p.kind), ['role', 'address', 'address', 'port', 'port', 'mclt', 'split', 'load-balance-max-seconds']);
  const sn = first(r.ast.statements, 'subnet');
  assert.deepEqual(sn.network.octets, [10, 0, 0, 0]);
  assert.deepEqual(sn.loc, { file: 'x.conf', line: 3, column: 1 });
  const pool = first(sn.body, 'pool');
  const range = first(pool.body, 'range');
  assert.equal(range.dynamicBootp, true);
  assert.deepEqual(range.high?.octets, [10, 0, 0, 20]);
  assert.deepEqual(range.loc, { file: 'x.conf', line: 4, column: 30 });
  const host = first(r.ast.statements, 'host');
  const hw = first(host.body, 'hardware');
  assert.deepEqual(hw.address, [0, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]);
  const fa = first(host.body, 'fixed-address');
  assert.deepEqual(fa.addresses.map((a) => a.kind), ['ip', 'name']);
});

test('a value running into the next line: RawValue.errorAt gives ISC\'s report', () => {
  const v = checkBoth('default-lease-time 600\nmax-lease-time 7200;\n' + NET);
  // The parser leaves value checking to the compiler: raw tokens up to the `;`.
  const p = first(v.ours.ast.statements, 'parameter');
  assert.ok(p.value.kind === 'tokens');
  assert.deepEqual(p.value.tokens.map((t) => t.text), ['600', 'max-lease-time', '7200']);
  // A lease-time takes one token; ISC then wants `;` and gets `max-lease-time`.
  const e = p.value.errorAt(1, 'semicolon expected.', false);
  e.file = 't.conf';
  assert.equal(formatIscError(e).split('\n')[0], 't.conf line 2: semicolon expected.');
  if (haveDhcpd) assert.equal(formatIscError(e), v.iscFirst);
});

test('subnet6 in a v4 config is a v6 node carrying ISC -4\'s error and position', () => {
  const v = checkBoth('subnet6 2001:db8::/64 { range6 2001:db8::1 2001:db8::9; }\n');
  assert.deepEqual(v.ours.errors, []);
  const n = first(v.ours.ast.statements, 'v6');
  assert.equal(n.keyword, 'subnet6');
  assert.equal(n.rejectedInV4, true);
  const e = formatIscError({ ...n.at, file: 't.conf', message: n.message, sourceLine: n.at.sourceLine });
  assert.equal(e.split('\n')[0], 't.conf line 1: subnet6 statement is only supported in DHCPv6 mode.');
  if (haveDhcpd) assert.equal(e, v.iscFirst);
});
