/**
 * `make install` (issue 6): a staged install under DESTDIR holds a working dhcpd-ts with its native addon and
 * production dependencies only. Uses the existing build (`make install-files`), so it never rebuilds dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
/** The checkout: test/install/ under tsx, dist/test/install/ when built. */
const root = here.endsWith('.ts') ? resolve(here, '../../..') : resolve(here, '../../../..');

test('make install: by default to /usr/local (sbin/dhcpd-ts and lib/dhcpd-ts), under DESTDIR', () => {
  const plan = execFileSync('make', ['-s', '-n', 'install-files', 'DESTDIR=/stage'], { cwd: root, encoding: 'utf8' });
  assert.match(plan, /ln -sfn \.\.\/lib\/dhcpd-ts\/bin\/dhcpd-ts "\/stage\/usr\/local\/sbin\/dhcpd-ts"/);
  assert.match(plan, /"\/stage\/usr\/local\/lib\/dhcpd-ts\/bin"/);
  const install = execFileSync('make', ['-s', '-n', 'install'], { cwd: root, encoding: 'utf8' });
  assert.match(install, /tsc -p \./, 'make install builds first');
});

test('make install-files stages a runnable dhcpd-ts with production dependencies only', { timeout: 180_000 }, () => {
  const destdir = mkdtempSync(join(tmpdir(), 'dhcpd-ts-install-'));
  try {
    execFileSync('make', ['-s', 'install-files', `DESTDIR=${destdir}`, 'PREFIX=/opt/dts'], { cwd: root, stdio: 'pipe' });
    const sbin = join(destdir, 'opt/dts/sbin/dhcpd-ts');
    const lib = join(destdir, 'opt/dts/lib/dhcpd-ts');
    assert.equal(readlinkSync(sbin), '../lib/dhcpd-ts/bin/dhcpd-ts');
    assert.ok(existsSync(join(lib, 'src/native/build/Release/dhcpsock.node')), 'native addon installed');
    assert.ok(existsSync(join(lib, 'node_modules/better-sqlite3')), 'runtime dependency installed');
    assert.ok(existsSync(join(lib, 'node_modules/chevrotain')), 'runtime dependency installed');
    assert.ok(!existsSync(join(lib, 'node_modules/typescript')), 'dev dependency pruned');
    assert.ok(!existsSync(join(lib, 'node_modules/fast-check')), 'dev dependency pruned');
    assert.ok(!existsSync(join(lib, 'dist/test')), 'tests not installed');

    const version = spawnSync(sbin, ['--version'], { encoding: 'utf8' });
    assert.match(version.stdout + version.stderr, /dhcpd-ts.*compatible with ISC dhcpd 4\.4/);
    // Started with an empty environment (no PATH), as a bare init or a unit without Environment= might:
    // the installed launcher names node by its absolute path.
    assert.match(readFileSync(join(lib, 'bin/dhcpd-ts'), 'utf8'), /^node=\/\S+\/node$/m);
    const bare = spawnSync(sbin, ['--version'], { encoding: 'utf8', env: {} });
    assert.equal(bare.status, 0, bare.stderr);
    // The installed copy runs its own start-up snapshot (README "Command line"), bare environment or not.
    assert.ok(existsSync(join(lib, 'dist/src/cli/dhcpd-ts.blob')), 'start-up snapshot installed');
    const fromSnapshot = spawnSync(sbin, ['--version'], { encoding: 'utf8', env: { DHCPD_TS_LAUNCH_DEBUG: '1' } });
    assert.equal(fromSnapshot.status, 0, fromSnapshot.stderr);
    assert.match(fromSnapshot.stderr, new RegExp(`^dhcpd-ts: running from snapshot --snapshot-blob ${lib}/dist/src/cli/dhcpd-ts\\.blob$`, 'm'));
    assert.equal(fromSnapshot.stderr.split('\n').at(-2), version.stderr.trim());
    const check = spawnSync(sbin, ['-t', '-cf', join(root, 'examples/dhcpd-primary.conf')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    // The installed copy loads its own addon (not the source tree's): the check must not mention a load failure.
    const addon = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(join(lib, 'dist/src/native/index.js'))}).then(m => { m.loadAddon(); console.log('addon ok'); })`], { encoding: 'utf8' });
    assert.match(addon.stdout, /addon ok/, addon.stderr);
  } finally {
    rmSync(destdir, { recursive: true, force: true });
  }
});
