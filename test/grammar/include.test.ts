/**
 * `include` handling: statements land in the including scope, paths are relative to the working
 * directory as in ISC, errors inside an included file name that file, and unreadable includes or include
 * cycles end in clean errors. Where ISC has an opinion, the real dhcpd is the oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkBoth, haveDhcpd } from './isc-oracle.js';
import { parseConfigFile } from '../../grammar/conf-parser.js';
import { formatIscError } from '../../grammar/errors.js';

test('included statements are parsed in the including scope', () => {
  const v = checkBoth('subnet 10.0.0.0 netmask 255.255.255.0 {\n  include "inc/range.conf";\n}\n', {
    'inc/range.conf': 'range 10.0.0.5 10.0.0.9;\noption routers 10.0.0.1;\n',
  });
  assert.deepEqual(v.ours.errors, []);
  if (haveDhcpd) assert.equal(v.iscCode, 0);
  const sn = v.ours.ast.statements[0]!;
  assert.ok(sn.kind === 'subnet');
  const inc = sn.body[0]!;
  assert.ok(inc.kind === 'include');
  assert.equal(inc.path, 'inc/range.conf');
  assert.deepEqual(inc.statements.map((s) => s.kind), ['range', 'option']);
  assert.equal(inc.statements[0]!.loc.file, 'inc/range.conf');
  assert.equal(inc.statements[1]!.loc.line, 2);
  assert.deepEqual(v.ours.files, ['t.conf', 'inc/range.conf']);
});

test('a range in an included file is only allowed where the include is', () => {
  const v = checkBoth('include "r.conf";\nsubnet 10.0.0.0 netmask 255.255.255.0 { }\n', { 'r.conf': '\nrange 10.0.0.5 10.0.0.9;\n' });
  assert.ok(v.oursFirst);
  assert.equal(v.oursFirst.split('\n')[0], 'r.conf line 2: range declaration not allowed here.');
  if (haveDhcpd) assert.equal(v.oursFirst, v.iscFirst);
  // ISC then blames the include statement itself.
  assert.equal(formatIscError(v.ours.errors[1]!).split('\n')[0], 't.conf line 1: r.conf: bad parse.');
});

test('an error inside an included file names that file, with ISC echo and caret', () => {
  const v = checkBoth('subnet 10.0.0.0 netmask 255.255.255.0 {\n include "bad.inc";\n}\n', { 'bad.inc': 'range 10.0.0.5 10.0.0.9;\nrange 10.0.0.x;\n' });
  assert.equal(v.oursFirst?.split('\n')[0], 'bad.inc line 2: expecting numeric value.');
  if (haveDhcpd) assert.equal(v.oursFirst, v.iscFirst);
});

test('include paths are relative to the working directory (ISC), not to the including file', () => {
  // sub/main.conf includes "inc.conf": ISC opens ./inc.conf, which does not exist, although sub/inc.conf does.
  const dir = mkdtempSync(path.join(tmpdir(), 'grammar-inc-'));
  try {
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'inc.conf'), 'authoritative;\n');
    writeFileSync(path.join(dir, 'sub', 'main.conf'), 'include "inc.conf";\n');
    const r = parseConfigFile(path.join(dir, 'sub', 'main.conf'), { includeBase: dir });
    assert.equal(r.ok, false);
    assert.equal(formatIscError(r.errors[0]!), "Can't open inc.conf: No such file or directory");
    // With the including file's directory as base it would be found: the option exists for callers that want it.
    const r2 = parseConfigFile(path.join(dir, 'sub', 'main.conf'), { includeBase: path.join(dir, 'sub') });
    assert.deepEqual(r2.errors, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing include is a plain fatal error like ISC', () => {
  const v = checkBoth('include "nothere.conf";\n');
  assert.equal(v.ours.ok, false);
  assert.equal(v.ours.errors.length, 1);
  assert.equal(v.ours.errors[0]!.plain, true);
  assert.equal(formatIscError(v.ours.errors[0]!), "Can't open nothere.conf: No such file or directory");
  if (haveDhcpd) assert.equal(v.iscCode, 1);
});

test('an unreadable include (a directory) is a clean error', () => {
  const v = checkBoth('include "adir";\n', { 'adir/x': '' });
  assert.equal(v.ours.ok, false);
  assert.match(formatIscError(v.ours.errors[0]!), /^Can't open adir: /);
});

test('an include cycle is a clean error, not a crash', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'grammar-cyc-'));
  try {
    writeFileSync(path.join(dir, 'a.conf'), 'authoritative;\ninclude "b.conf";\n');
    writeFileSync(path.join(dir, 'b.conf'), 'include "a.conf";\n');
    const r = parseConfigFile(path.join(dir, 'a.conf'), { includeBase: dir });
    assert.equal(r.ok, false);
    assert.ok(r.errors.some((e) => e.message === 'a.conf: include cycle.' && e.file === 'b.conf' && e.line === 1), JSON.stringify(r.errors));
    // The statement before the cycle is kept in the tree.
    assert.equal(r.ast.statements[0]!.kind, 'authoritative');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
