/**
 * -user/-group: looked up as ISC does (getpwnam/getgrnam from /etc/passwd and /etc/group, the user's own
 * group by default), and the switch really changes the process's ids (checked in a child process).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { preparePrivilegeDrop } from '../../src/cli/privileges.js';

const root = process.getuid?.() === 0;
const rootSkip = root ? false : 'needs root';
const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
const modUrl = new URL(`../../src/cli/privileges.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;

/** uid and gid of a passwd entry, read independently of the module under test. */
function passwd(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

describe('privilege drop', () => {
  test('unknown user or group: ISC\'s messages', { skip: rootSkip }, () => {
    assert.deepEqual(preparePrivilegeDrop('nosuchuser-cli', undefined), { ok: false, message: 'no such user: nosuchuser-cli' });
    assert.deepEqual(preparePrivilegeDrop(undefined, 'nosuchgroup-cli'), { ok: false, message: 'no such group: nosuchgroup-cli' });
    assert.deepEqual(preparePrivilegeDrop(undefined, undefined), { ok: true, drop: undefined });
  });

  test('-user nobody: the child process runs as nobody with nobody\'s group afterwards', { skip: rootSkip }, () => {
    const want = passwd('nobody');
    assert.ok(want, 'nobody exists in /etc/passwd');
    const script =
      `const m = await import(${JSON.stringify(modUrl)});` +
      `const r = m.preparePrivilegeDrop('nobody', undefined);` +
      `if (!r.ok) { console.log('ERR ' + r.message); process.exit(1); }` +
      `r.drop.apply(); console.log(process.getuid(), process.geteuid(), process.getgid(), process.getegid());`;
    const args = fromSource ? ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script] : ['--input-type=module', '-e', script];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stdout.trim(), `${want.uid} ${want.uid} ${want.gid} ${want.gid}`);
  });

  test('-group overrides the user\'s own group', { skip: rootSkip }, () => {
    const r = preparePrivilegeDrop('nobody', 'root');
    assert.ok(r.ok && r.drop);
    if (r.ok && r.drop) {
      assert.equal(r.drop.gid, 0);
      assert.equal(r.drop.uid, passwd('nobody')?.uid);
    }
  });

  const setprivSkip = rootSkip || (!existsSync('/usr/bin/setpriv') ? 'setpriv not installed' : !existsSync('/usr/sbin/dhcpd') ? 'ISC dhcpd not installed' : false);
  test('not root: ISC\'s "you must be root to set user/group", same output as ISC 4.4.3 run as nobody', { skip: setprivSkip }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-priv-'));
    try {
      chmodSync(dir, 0o755);
      const conf = join(dir, 'good.conf');
      writeFileSync(conf, 'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n', { mode: 0o644 });
      const main = fileURLToPath(new URL(`../../src/cli/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
      const ours = [process.execPath, ...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), main];
      const asNobody = (cmd: string[]) =>
        spawnSync('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...cmd], { encoding: 'utf8', timeout: 20_000, cwd: dir });
      if (asNobody([...ours, '--version']).status !== 0) {
        t.skip('this checkout is not readable by nobody');
        return;
      }
      for (const flags of [['-user', 'nobody'], ['-group', 'nogroup']]) {
        const isc = asNobody(['/usr/sbin/dhcpd', '-t', ...flags, '-cf', conf]);
        const r = asNobody([...ours, '-t', ...flags, '-cf', conf]);
        assert.equal(isc.status, 1, isc.stderr);
        assert.equal(r.status, 1, r.stderr);
        // After the four banner lines: ISC's message and nothing of the config.
        const firstLine = (s: string) => s.split('\n')[4];
        assert.equal(firstLine(r.stderr), `you must be root to set ${flags[0].slice(1)}`);
        assert.equal(firstLine(r.stderr), firstLine(isc.stderr));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
