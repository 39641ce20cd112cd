/**
 * The shared tokenizer (grammar/tokens.ts): ISC conflex.c classification rules, string escapes, ISC's
 * caret column bookkeeping, and agreement of tokenizeConfig (the Scanner other modules use) with the parser's
 * tokens (the Chevrotain ConfigLexer, lexConfig's keyword/number classification, IscCursor's positions)
 * on every file of the shared corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { tokenizeConfig, lexConfig, classifyNumberWord, decodeIscString, type Tok } from '../../grammar/tokens.js';
import { IscCursor } from '../../grammar/token-stream.js';
import { SHARED_CORPUS_DIR } from '../support/shared-corpus.js';

const kinds = (text: string): string[] =>
  tokenizeConfig(text, 'x')
    .tokens.filter((t) => t.kind !== 'eof')
    .map((t) => `${t.kind}${t.keyword ? '!' : ''}:${t.text}`);

test('words starting with a digit or "-" are NUMBER, NUMBER_OR_NAME or NAME (read_number)', () => {
  assert.equal(classifyNumberWord('600'), 'number');
  assert.equal(classifyNumberWord('-18000'), 'number');
  assert.equal(classifyNumberWord('09'), 'number');
  assert.equal(classifyNumberWord('0c'), 'numberOrName');
  assert.equal(classifyNumberWord('00aa'), 'numberOrName');
  assert.equal(classifyNumberWord('1e'), 'numberOrName');
  assert.equal(classifyNumberWord('0x1f'), 'numberOrName');
  assert.equal(classifyNumberWord('0x'), 'name');
  assert.equal(classifyNumberWord('0xg'), 'name');
  assert.equal(classifyNumberWord('3com-phone'), 'name');
  assert.equal(classifyNumberWord('01-pc'), 'name');
  assert.equal(classifyNumberWord('2ndfloor'), 'name');
  // A lone "-" stays a NUMBER token in ISC 4.4 (its MINUS check never fires).
  assert.equal(classifyNumberWord('-'), 'number');
});

test('letter-initial words: keywords case-insensitive, hex-looking names, never keywords when digit-initial', () => {
  assert.deepEqual(kinds('SUBNET Netmask dead x g1 xff k0 add pc1 host-name 1host'), [
    'name!:SUBNET',
    'name!:Netmask',
    'numberOrName:dead',
    'numberOrName:x',
    'numberOrName:g1',
    'numberOrName:xff',
    'numberOrName:k0',
    'numberOrName!:add',
    'numberOrName:pc1',
    'name:host-name',
    'name:1host',
  ]);
  const t = tokenizeConfig('Option', 'x').tokens[0]!;
  assert.equal(t.keyword, 'option');
  assert.equal(t.image, 'Option');
});

test('punctuation is one char a token; dots and colons split addresses and MACs', () => {
  assert.deepEqual(kinds('10.0.0.1;'), ['number:10', 'punct:.', 'number:0', 'punct:.', 'number:0', 'punct:.', 'number:1', 'punct:;']);
  assert.deepEqual(kinds('00:0c:29'), ['number:00', 'punct::', 'numberOrName:0c', 'punct::', 'number:29']);
  assert.deepEqual(kinds('a.b != ~= ~~ _x'), ['numberOrName:a', 'punct:.', 'numberOrName:b', 'punct:!', 'punct:=', 'punct:~', 'punct:=', 'punct:~', 'punct:~', 'punct:_', 'numberOrName:x']);
});

test('comments, CRLF and whitespace', () => {
  assert.deepEqual(kinds('a # comment "x" ;\r\nb;#c\n"#not a comment"'), ['numberOrName:a', 'numberOrName:b', 'punct:;', 'string:#not a comment']);
  const toks = tokenizeConfig('a\r\n  b', 'x').tokens;
  assert.equal(toks[1]!.line, 2);
  assert.equal(toks[1]!.column, 3);
});

test('strings: ISC escapes, octal always three digits, embedded newlines, unterminated', () => {
  assert.equal(decodeIscString('a\\tb\\nc\\rd\\be'), 'a\tb\nc\rd\be');
  assert.equal(decodeIscString('\\x41\\x4a'), 'AJ');
  assert.equal(decodeIscString('\\001\\270'), '\x01\xb8');
  assert.equal(decodeIscString('\\"\\\\\\.'), '"\\.');
  const r = tokenizeConfig('"line1\nline2" x', 'x');
  assert.equal(r.tokens[0]!.text, 'line1\nline2');
  assert.equal(r.tokens[1]!.line, 2);
  const u = tokenizeConfig('x "abc', 'f');
  assert.equal(u.tokens[1]!.unterminated, true);
  assert.deepEqual(u.diagnostics.map((d) => d.message), ['eof in string constant']);
  // Bytes above 0x7f pass through strings untouched (files are read as latin1).
  assert.equal(tokenizeConfig('"ex\xc3\xa4mple"', 'x').tokens[0]!.text, 'ex\xc3\xa4mple');
});

test("ISC's caret column runs one ahead after a put-back character", () => {
  const t = tokenizeConfig('option routers 10.0.0.1;\n# c\n"s";x', 'x').tokens;
  const by = (text: string, n = 0): Tok => t.filter((x) => x.text === text)[n]!;
  assert.equal(by('option').iscChar, 1); // start of file
  assert.equal(by('routers').iscChar, by('routers').column + 1); // after whitespace
  assert.equal(by('.').iscChar, by('.').column + 1); // after a number
  assert.equal(by('0').iscChar, by('0').column); // after punctuation
  assert.equal(by('s').iscChar, 1); // after a comment's newline
  assert.equal(by('x').iscChar, by('x').column); // after punctuation
});

test("tokenizeConfig agrees with the parser's Chevrotain tokens on every corpus file", () => {
  const root = path.join(SHARED_CORPUS_DIR, 'files');
  if (!existsSync(root)) return;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(root);
  assert.ok(files.length > 300);
  const strip = (t: Tok): unknown[] => [t.kind, t.image, t.text, t.keyword, t.line, t.column, t.offset, t.end, t.iscChar, t.unterminated];
  for (const f of files) {
    const text = readFileSync(f, 'latin1');
    const a = tokenizeConfig(text, f);
    const lexed = lexConfig(text);
    const cur = new IscCursor(f, text, lexed);
    // The Scanner's list ends with its eof token; the parser's view has the same at index `count`.
    assert.equal(a.tokens.length, lexed.count + 1, f);
    for (let i = 0; i < a.tokens.length; i++) assert.deepEqual(strip(cur.tok(i)), strip(a.tokens[i]!), `${f} token ${i}`);
  }
});
