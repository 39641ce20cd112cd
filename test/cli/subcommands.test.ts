/**
 * `dhcpd import` and `dhcpd export` through the command line: an ISC lease file goes into a real SQLite
 * database and comes back out as a lease file that the real ISC dhcpd 4.4.3 reads without a complaint
 * (`dhcpd -T`), with the same leases. A corrupt lease file is refused with ISC's first error line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { parseSubcommandArgs } from '../../src/cli/subcommands.js';

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const ISC = '/usr/sbin/dhcpd';
const skip = !existsSync(ISC) ? 'ISC dhcpd not installed' : false;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-sub-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ours(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stderr = new PassThrough();
  const stdout = new PassThrough();
  let err = '';
  let out = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await main(argv, { stderr, stdout, env: { PATH: '/usr/bin:/bin' } });
  return { code, stdout: out, stderr: err };
}

const CONF = 'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n';
const LEASES =
  'lease 10.0.0.11 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2036/11/26 11:00:00;\n  binding state active;\n' +
  '  next binding state free;\n  hardware ethernet 52:54:00:02:bf:f8;\n  client-hostname "alpha";\n}\n' +
  'lease 10.0.0.12 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2026/11/26 11:00:00;\n  binding state free;\n' +
  '  hardware ethernet 52:54:00:02:bf:f9;\n}\n';

/** The addresses and binding states ISC reads from a lease file (`lease A {` … `binding state S;`). */
function leaseStates(text: string): string[] {
  const out: string[] = [];
  const re = /lease (\d+\.\d+\.\d+\.\d+) \{[^}]*?\n\s*binding state (\w+);/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(`${m[1]} ${m[2]}`);
  return out.sort();
}

describe('import / export', () => {
  test('import then export: ISC dhcpd -T reads the export cleanly, with the same leases', { skip }, async () => {
    writeFileSync(join(dir, 'd.conf'), CONF);
    writeFileSync(join(dir, 'in.leases'), LEASES);
    const db = join(dir, 'd.sqlite');
    const imp = await ours(['import', '-cf', join(dir, 'd.conf'), '-lf', join(dir, 'server.leases'), '-db', db, join(dir, 'in.leases')]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^Imported 2 leases from .*in\.leases into .*d\.sqlite\.$/m);
    assert.ok(existsSync(db));

    const outFile = join(dir, 'out.leases');
    const exp = await ours(['export', '-cf', join(dir, 'd.conf'), '-db', db, outFile]);
    assert.equal(exp.code, 0, exp.stderr);
    const text = readFileSync(outFile, 'latin1');
    assert.deepEqual(leaseStates(text), leaseStates(LEASES));
    assert.match(text, /client-hostname "alpha";/);

    const isc = spawnSync(ISC, ['-T', '-cf', join(dir, 'd.conf'), '-lf', outFile], { encoding: 'utf8', cwd: dir });
    assert.equal(isc.status, 0, isc.stderr);
    assert.doesNotMatch(isc.stderr, / line \d+: |Corrupt lease file/);
    assert.match(isc.stderr, /^Wrote 2 leases to leases file\.$/m);
  });

  test('importing again over a filled database is refused unless --replace', { skip }, async () => {
    const db = join(dir, 'd.sqlite');
    const again = await ours(['import', '-cf', join(dir, 'd.conf'), '-db', db, join(dir, 'in.leases')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds 2 leases/);
    const replaced = await ours(['import', '-cf', join(dir, 'd.conf'), '-db', db, '--replace', join(dir, 'in.leases')]);
    assert.equal(replaced.code, 0, replaced.stderr);
  });

  test('a corrupt lease file: nothing imported, ISC\'s first error line', { skip }, async () => {
    const bad = join(dir, 'bad.leases');
    writeFileSync(bad, `${LEASES}lease 10.0.0.13 { bogus; }\n`);
    const isc = spawnSync(ISC, ['-T', '-cf', join(dir, 'd.conf'), '-lf', bad], { encoding: 'utf8', cwd: dir });
    const iscFirst = isc.stderr.split('\n').find((l) => / line \d+: /.test(l));
    assert.ok(iscFirst, isc.stderr);
    const db = join(dir, 'bad.sqlite');
    const r = await ours(['import', '-cf', join(dir, 'd.conf'), '-db', db, bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n')[0], iscFirst);
  });

  test('argument errors', async () => {
    assert.deepEqual(parseSubcommandArgs(['-lf'], {}), { error: 'No argument for command: -lf ' });
    assert.deepEqual(parseSubcommandArgs(['-x'], {}), { error: 'Unknown command -x' });
    const r = await ours(['export', '-bogus']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Unknown command -bogus\nUsage: dhcpd export /);
  });

  test('partner-down: the state record ISC would read, refused for an unknown peer or a running server', { skip }, async () => {
    const conf = join(dir, 'primary.conf');
    writeFileSync(conf, readFileSync(join(here, '..', '..', ...(ext === 'ts' ? [] : ['..']), 'examples', 'dhcpd-primary.conf'), 'utf8'));
    writeFileSync(join(dir, 'fo.leases'), '');
    const db = join(dir, 'fo.sqlite');
    assert.equal((await ours(['import', '-cf', conf, '-db', db, join(dir, 'fo.leases')])).code, 0);

    const unknown = await ours(['partner-down', '-cf', conf, '-db', db, '-pf', join(dir, 'none.pid'), 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown failover peer "nope" \(declared: dhcp-failover\)/);

    // A live process in the pid file: refused, nothing written.
    const pidFile = join(dir, 'live.pid');
    writeFileSync(pidFile, `${process.pid}\n`);
    const busy = await ours(['partner-down', '-cf', conf, '-db', db, '-pf', pidFile]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /a server is running/);

    const r = await ours(['partner-down', '-cf', conf, '-db', db, '-pf', join(dir, 'none.pid')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^failover peer dhcp-failover: my state recorded as partner-down/m);

    const out = join(dir, 'fo-out.leases');
    assert.equal((await ours(['export', '-cf', conf, '-db', db, out])).code, 0);
    const text = readFileSync(out, 'latin1');
    assert.match(text, /failover peer "dhcp-failover" state \{\n\s+my state partner-down at \d /);
    const isc = spawnSync(ISC, ['-T', '-cf', conf, '-lf', out], { encoding: 'utf8', cwd: dir });
    assert.equal(isc.status, 0, isc.stderr);
    assert.doesNotMatch(isc.stderr, / line \d+: |Corrupt lease file/);
  });
});
