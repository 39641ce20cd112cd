/**
 * The Chevrotain parser is one instance reused for every parse (plus one per include level being parsed):
 * a parse that ends in an error, a stack overflow or an include error must leave nothing behind that
 * changes the next parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseConfigFile, parseConfigText } from '../../grammar/conf-parser.js';
import { formatIscError } from '../../grammar/errors.js';

const GOOD =
  'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.5 10.0.0.9;\n  option routers 10.0.0.1;\n}\n' +
  'host a {\n  hardware ethernet 00:11:22:33:44:55;\n  fixed-address 10.0.0.7;\n}\n';

/** The tree as JSON (positions, values, echoed source text included). */
const dump = (text: string): string => JSON.stringify(parseConfigText(text, 'good.conf'));

test('a parse after failing parses gives the same tree as a fresh one', () => {
  const fresh = dump(GOOD);
  const bad = [
    'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.5 10.0.0.9\n}\n', // CONSUME mismatch
    'host a { host b { } }\n', // check in an action
    'host a {\n  hardware ethernet 00:11', // end of file inside a block
    'group { '.repeat(20000), // JS stack exhausted
    'option domain-name "unterminated\n', // lexing error
  ];
  for (const b of bad) {
    const r = parseConfigText(b, 'bad.conf');
    assert.equal(r.ok, false, b.slice(0, 40));
    assert.doesNotMatch(r.errors[0]!.message, /internal/);
    assert.equal(dump(GOOD), fresh, `after ${JSON.stringify(b.slice(0, 40))}`);
  }
});

test('nested includes three levels deep, and an error two levels down, then a clean parse', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'grammar-reuse-'));
  try {
    writeFileSync(path.join(dir, 'main.conf'), 'include "a.conf";\nauthoritative;\n');
    writeFileSync(path.join(dir, 'a.conf'), 'include "b.conf";\ndefault-lease-time 60;\n');
    writeFileSync(path.join(dir, 'b.conf'), 'include "c.conf";\n');
    writeFileSync(path.join(dir, 'c.conf'), 'max-lease-time 120;\n');
    const main = path.join(dir, 'main.conf');
    const ok = parseConfigFile(main, { includeBase: dir });
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.files, [main, 'a.conf', 'b.conf', 'c.conf']);
    writeFileSync(path.join(dir, 'c.conf'), 'max-lease-time 120\n');
    const bad = parseConfigFile(main, { includeBase: dir });
    // ISC 4.4.3 (dhcpd -t) prints these, plus its own second error inside c.conf after recovering.
    assert.deepEqual(
      bad.errors.map((e) => formatIscError(e).split('\n')[0]),
      ['c.conf line 1: semicolon expected.', 'b.conf line 1: c.conf: bad parse.', 'a.conf line 1: b.conf: bad parse.', `${main} line 1: a.conf: bad parse.`],
    );
    writeFileSync(path.join(dir, 'c.conf'), 'max-lease-time 120;\n');
    assert.deepEqual(JSON.stringify(parseConfigFile(main, { includeBase: dir })), JSON.stringify(ok));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
