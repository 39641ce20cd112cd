/**
 * Start-up failures of a foreground server (`-d`) and of a daemon (the command's exit code and stderr are
 * the daemon's), differentially against the real ISC dhcpd 4.4.3 run
 * with the same arguments in the same namespace: stderr (banner, bug paragraph and lease-file lines
 * normalized) and exit code. Both exit before serving, so nothing is ever answered.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupPrefix, createNamespace, deleteNamespace, exec, integrationSkipReason, run } from '../support/netns.js';
import { fatalLines } from '../../src/cli/isc-output.js';
import { bannerLines } from '../../src/cli/version.js';
import { processAlive } from '../../src/cli/pid-file.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? 'ts' : 'js';
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${ext}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const ISC = '/usr/sbin/dhcpd';
const skip =
  integrationSkipReason() ??
  (!existsSync(ISC) ? 'ISC dhcpd not installed' : false);

const PREFIX = 'clie';
const N = process.pid % 100000;
const NS = `${PREFIX}-${N}`;
const IF = `ce${N}a`;
const PEER = `ce${N}b`;
let dir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-startup-'));
  if (skip) return;
  await cleanupPrefix(PREFIX);
  await createNamespace(NS);
  await run('ip', ['-n', NS, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS, 'addr', 'add', '10.83.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS, 'link', 'set', PEER, 'up']);
});
after(async () => {
  if (!skip) await deleteNamespace(NS);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ISC_BANNER = /^Internet Systems Consortium DHCP Server .*\nCopyright .*\nAll rights reserved\.\nFor info, please visit .*\n/m;
const ISC_BUG = /\nIf you think you have received this message due to a bug rather\n(?:.*\n){3}process and the information we find helpful for debugging\.\n/;
/** Lines about the lease file differ by design (ISC rewrites it; dhcpd-ts imports it into SQLite). */
const dropLeaseLines = (s: string): string =>
  s
    .split('\n')
    .filter((l) => !/^Wrote \d+ leases to leases file\.$|^Imported \d+ leases from |^ {2}(hosts|by binding state): /.test(l))
    .join('\n');
const normIsc = (s: string): string => dropLeaseLines(s.replace(ISC_BANNER, '<BANNER>\n').replace(ISC_BUG, '\n<BUG>\n'));
function normOurs(s: string): string {
  const bug = fatalLines('X').slice(2, -2).join('\n');
  return dropLeaseLines(s.split(`${bannerLines().join('\n')}\n`).join('<BANNER>\n').split(`\n${bug}\n`).join('\n<BUG>\n'));
}

async function both(
  name: string,
  conf: string,
  ifaces: string[],
  mode: readonly string[] = ['-d'],
): Promise<{ isc: { code: number | null; stderr: string }; ours: { code: number | null; stderr: string } }> {
  const c = join(dir, `${name}.conf`);
  writeFileSync(c, conf);
  const common = (tag: string): string[] => [...mode, '-cf', c, '-lf', join(dir, `${name}-${tag}.leases`), '-pf', join(dir, `${name}-${tag}.pid`)];
  writeFileSync(join(dir, `${name}-isc.leases`), '');
  writeFileSync(join(dir, `${name}-ts.leases`), '');
  const isc = await exec(NS, ISC, [...common('isc'), ...ifaces], { check: false, timeoutMs: 15_000 });
  const ours = await exec(NS, process.execPath, [...NODE_ARGS, ...common('ts'), '-db', join(dir, `${name}.sqlite`), ...ifaces], { check: false, timeoutMs: 30_000 });
  return { isc, ours };
}

describe('start-up failures, as ISC dhcpd reports them', () => {
  test('the only interface has no subnet: "No subnet declaration …" then "Not configured to listen on any interfaces!"', { skip }, async () => {
    const { isc, ours } = await both('nosub', 'subnet 10.99.0.0 netmask 255.255.255.0 { }\n', [IF]);
    assert.equal(isc.code, 1);
    assert.equal(ours.code, 1);
    assert.equal(
      normOurs(ours.stderr).replace(/-ts\.(leases|pid)/g, '-X.$1'),
      normIsc(isc.stderr).replace(/-isc\.(leases|pid)/g, '-X.$1'),
    );
  });

  test('daemon mode (no -f/-d): the command exits 1 with the daemon\'s own error, as ISC\'s parent does', { skip }, async () => {
    const { isc, ours } = await both('nosubd', 'subnet 10.99.0.0 netmask 255.255.255.0 { }\n', [IF], []);
    assert.equal(isc.code, 1);
    assert.equal(ours.code, 1);
    assert.match(ours.stderr, /^Not configured to listen on any interfaces!$/m);
    assert.equal(
      normOurs(ours.stderr).replace(/-ts\.(leases|pid)/g, '-X.$1'),
      normIsc(isc.stderr).replace(/-isc\.(leases|pid)/g, '-X.$1'),
    );
    assert.equal(existsSync(join(dir, 'nosubd-ts.pid')), false, 'no pid file left by the failed daemon');
  });

  test('daemon mode, a good start: the same lines on stderr as ISC\'s (no "Server starting service." there)', { skip }, async () => {
    const c = join(dir, 'okd.conf');
    writeFileSync(c, 'subnet 10.83.0.0 netmask 255.255.255.0 {\n  range 10.83.0.10 10.83.0.20;\n}\n');
    const out: Record<string, string> = {};
    for (const tag of ['isc', 'ts']) {
      const leases = join(dir, `okd-${tag}.leases`);
      const pid = join(dir, `okd-${tag}.pid`);
      writeFileSync(leases, '');
      const cmd = tag === 'isc' ? [ISC] : [process.execPath, ...NODE_ARGS, '-db', join(dir, 'okd.sqlite')];
      const r = await exec(NS, cmd[0]!, [...cmd.slice(1), '-cf', c, '-lf', leases, '-pf', pid, IF], { check: false, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      const daemon = Number(readFileSync(pid, 'utf8'));
      assert.ok(daemon > 0);
      process.kill(daemon, 'SIGTERM');
      for (let i = 0; i < 100 && processAlive(daemon); i++) await new Promise((res) => setTimeout(res, 100));
      out[tag] = r.stderr.replace(new RegExp(`okd-${tag}\\.`, 'g'), 'okd-X.');
    }
    assert.match(out.isc!, /^Sending on {3}Socket\/fallback\/fallback-net$/m);
    assert.equal(normOurs(out.ts!), normIsc(out.isc!));
  });

  test(
    'a named interface that does not exist',
    { skip },
    async () => {
      const { isc, ours } = await both('noif', 'subnet 10.83.0.0 netmask 255.255.255.0 { }\n', ['nosuchif0']);
      assert.equal(ours.code, isc.code);
      assert.equal(normOurs(ours.stderr).replace(/-ts\.(leases|pid)/g, '-X.$1'), normIsc(isc.stderr).replace(/-isc\.(leases|pid)/g, '-X.$1'));
    },
  );
});
