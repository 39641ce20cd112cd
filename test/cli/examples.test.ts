/**
 * examples/: the seed configs are accepted by ISC dhcpd 4.4.3 and by dhcpd-ts (`-t`), the systemd unit
 * passes `systemd-analyze verify` (run in a private mount namespace where /usr/local/sbin/dhcpd-ts exists),
 * and the init script is valid POSIX sh; every `dhcpd-ts …` command shown in MIGRATION.md and the README is
 * one our command line accepts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { parseArgv } from '../../src/cli/argv.js';
import { parseSubcommandArgs } from '../../src/cli/subcommands.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const repoRoot = fromSource ? join(here, '..', '..') : join(here, '..', '..', '..');
const EX = join(repoRoot, 'examples');
const ISC = '/usr/sbin/dhcpd';

async function ours(argv: string[]): Promise<{ code: number; stderr: string }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(argv, { stderr, stdout: new PassThrough(), env: { PATH: '/usr/bin:/bin' } });
  return { code, stderr: err };
}

describe('examples', () => {
  for (const f of ['dhcpd-primary.conf', 'dhcpd-secondary.conf']) {
    test(`${f}: accepted by ISC dhcpd -t and by dhcpd-ts -t`, { skip: existsSync(ISC) ? false : 'ISC dhcpd not installed' }, async () => {
      const isc = spawnSync(ISC, ['-t', '-q', '-cf', join(EX, f)], { encoding: 'utf8' });
      assert.equal(isc.status, 0, isc.stderr);
      const r = await ours(['-t', '-cf', join(EX, f)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^Config file: .*\.conf$/m);
    });
  }

  test('the primary and secondary differ only where the seed says', () => {
    const rd = (f: string): string[] =>
      spawnSync('cat', [join(EX, f)], { encoding: 'utf8' }).stdout.split('\n');
    const p = rd('dhcpd-primary.conf');
    const s = rd('dhcpd-secondary.conf');
    const onlyP = p.filter((l) => !s.includes(l)).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
    const onlyS = s.filter((l) => !p.includes(l)).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
    assert.deepEqual(onlyP.sort(), ['address 192.168.102.100;', 'mclt 1800;', 'peer address', 'primary; #', 'split 128;'].sort());
    assert.deepEqual(onlyS.sort(), ['address 192.168.102.101;', 'peer address', 'secondary; #'].sort());
  });

  const verifySkip =
    process.getuid?.() !== 0 ? 'needs root (mount namespace)' : !existsSync('/usr/bin/systemd-analyze') ? 'systemd-analyze not installed' : false;
  test('systemd unit: systemd-analyze verify', { skip: verifySkip }, () => {
    const script =
      'mount -t tmpfs tmpfs /usr/local/sbin && ln -s "$1" /usr/local/sbin/dhcpd-ts && exec systemd-analyze verify "$2"';
    const r = spawnSync(
      '/usr/bin/unshare',
      ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', join(repoRoot, 'bin', 'dhcpd-ts'), join(EX, 'systemd', 'dhcpd-ts.service')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stderr.trim(), '');
  });

  test('init script: valid sh, LSB header, reads /etc/default/isc-dhcp-server', () => {
    const f = join(EX, 'init.d', 'dhcpd-ts');
    const r = spawnSync('/bin/sh', ['-n', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const text = spawnSync('cat', [f], { encoding: 'utf8' }).stdout;
    assert.match(text, /^### BEGIN INIT INFO$/m);
    assert.match(text, /\/etc\/default\/isc-dhcp-server/);
    assert.match(text, /\$INTERFACESv4/);
    assert.match(text, /\$OPTIONS/);
  });

  test('every dhcpd-ts command in MIGRATION.md and the README parses (flags, subcommands and their arguments)', () => {
    let count = 0;
    for (const doc of [join(EX, 'MIGRATION.md'), join(repoRoot, 'README.md')]) {
      const blocks = [...readFileSync(doc, 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
      for (const line of blocks.flatMap((b) => b.split('\n'))) {
        const cmd = /^\s*(?:\S+\s+&&\s+)?(?:[^#]*?\s)?dhcpd-ts\s+([^#&|]*)/.exec(line);
        if (!cmd || /^\s*(cp|systemctl|ln|rm)\b/.test(line)) continue;
        const argv = cmd[1].trim().split(/\s+/).filter((w) => w !== '');
        const r = parseArgv(argv, { env: {}, realpath: (p) => p });
        assert.ok(r.kind === 'server' || r.kind === 'subcommand' || r.kind === 'version' || r.kind === 'help', `${doc}: ${line} -> ${JSON.stringify(r)}`);
        if (r.kind === 'subcommand' && r.name !== 'probe') {
          const sub = parseSubcommandArgs(r.argv, {});
          assert.ok(!('error' in sub), `${doc}: ${line} -> ${JSON.stringify(sub)}`);
        }
        count++;
      }
    }
    assert.ok(count >= 10, `found ${count} commands`);
  });
});
