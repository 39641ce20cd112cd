/**
 * ISC's error layout (grammar/errors.ts + token-stream.ts): the echoed source text and the caret depend on
 * how far ISC's lexer had read (look-ahead char, peeks across line ends, comments, tabs, lines over 80
 * chars). Each case is compared byte for byte with the real `dhcpd -4 -t`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBoth, haveDhcpd } from './isc-oracle.js';
import { iscCaretLine, formatIscError, plainError } from '../../grammar/errors.js';

test('caret line: tabs expand to the next multiple of 8; column 81+ has no indentation', () => {
  assert.equal(iscCaretLine('\tab', 3), '         ^');
  assert.equal(iscCaretLine('abc', 3), '  ^');
  assert.equal(iscCaretLine('x'.repeat(90), 85), '^');
  // ISC compares with an unsigned lexchar-1: column 0 indents over the whole line.
  assert.equal(iscCaretLine('12', 0), '  ^');
  assert.equal(formatIscError(plainError('a.conf', "Can't open a.conf: No such file or directory")), "Can't open a.conf: No such file or directory");
});

const cases: Record<string, string> = {
  'error after blank lines and comments': 'authoritative;\n\n# comment\n\n  }\n',
  'error after a peek across a comment line': 'subnet 10.0.0.0 netmask 255.255.255.0 {\n range 10.0.0.1 10.0.0.5 # no semicolon\n # another\n}\n',
  'tabs before the error': '\t\tsubnet 10.0.0.1 netmask\t255.255.255.0 { }\n',
  'long line': `option domain-name "${'x'.repeat(70)}"; option routers 10.0.0.1; bogus-word 1;\n`,
  'error at end of file': 'subnet 10.0.0.0 netmask 255.255.255.0 {\n',
  'error right after a string': 'host h { hardware ethernet 1:2:3:4:5:6; } class foo {\n}\n',
  'expression error': 'if (option host-name = "a") or (known) {\n}\n',
};

for (const [name, conf] of Object.entries(cases)) {
  test(`echo and caret as dhcpd: ${name}`, { skip: !haveDhcpd && 'dhcpd not installed' }, () => {
    const v = checkBoth(conf);
    assert.ok(v.iscFirst, 'ISC reported no positioned error');
    // Values are checked by the compiler; for those RawValue.errorAt gives the report. Here: parse errors.
    assert.equal(v.oursFirst, v.iscFirst);
  });
}

test('value errors: RawValue.errorAt reproduces ISC for a second string', { skip: !haveDhcpd && 'dhcpd not installed' }, () => {
  const v = checkBoth('option domain-name "a" "b";\n');
  assert.deepEqual(v.ours.errors, []);
  const o = v.ours.ast.statements[0]!;
  assert.ok(o.kind === 'option' && o.value.kind === 'tokens');
  const e = o.value.errorAt(1, 'semicolon expected.', false);
  assert.equal(formatIscError(e), v.iscFirst);
});
