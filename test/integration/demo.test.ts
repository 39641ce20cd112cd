/**
 * `make demo` (issue 6): bin/demo runs the seed scenario live in namespaces it makes and deletes; this runs it
 * and checks what it prints: both servers reach normal with ISC's lines, the primary logs the seed's four
 * DHCP lines, the client's lease goes from MCLT (1800 s) to default-lease-time (3600 s), and a SIGTERM to the
 * secondary ends it cleanly (status 0, pid file removed) with the primary told at once (communications-interrupted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { integrationSkipReason } from '../support/netns.js';

/** The checkout: the nearest ancestor with a package.json (works from test/ under tsx and from dist/test/). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while ((!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) && dir !== dirname(dir)) dir = dirname(dir);
  return dir;
}
const root = projectRoot();
const skip = integrationSkipReason();

test('make demo: the seed scenario with a dhcpd-ts failover pair and dhclient', { skip, timeout: 180_000 }, () => {
  const run = spawnSync('bash', [resolve(root, 'bin/demo')], { encoding: 'utf8', timeout: 170_000 });
  const out = run.stdout + run.stderr;
  assert.equal(run.status, 0, out);
  for (const role of ['pri', 'sec']) {
    assert.match(out, new RegExp(`${role}: failover peer dhcp-failover: I move from recover-done to normal`), out);
    assert.match(out, new RegExp(`${role}: failover peer dhcp-failover: peer moves from recover-done to normal`), out);
  }
  const offered = /pri: DHCPOFFER on (192\.168\.102\.\d+) to 52:54:00:02:bf:f8/.exec(out);
  assert.ok(offered, out);
  const address = offered[1]!;
  assert.match(out, /pri: DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0/);
  assert.ok(out.includes(`pri: DHCPREQUEST for ${address} (192.168.102.100) from 52:54:00:02:bf:f8`), out);
  assert.ok(out.includes(`DHCPACK on ${address} to 52:54:00:02:bf:f8`), out);
  // SIGTERM to the secondary: a clean exit, and the primary is told at once (the link closes).
  assert.match(out, /^ {2}secondary exited with status 0$/m, out);
  assert.match(out, /^ {2}secondary pid file removed$/m, out);
  assert.match(out, /sec: Received SIGTERM, shutting down\./, out);
  assert.match(out, /pri: failover peer dhcp-failover: I move from normal to communications-interrupted/, out);
  const leaseTimes = [...out.matchAll(/option dhcp-lease-time (\d+);/g)].map((m) => Number(m[1]));
  assert.deepEqual(leaseTimes, [1800, 3600], out);
  // The demo leaves no namespace behind: none of its own (<prefix>-*, the prefix named in its first line) is
  // left. Other tests running alongside create and delete theirs meanwhile, so the whole list may differ.
  const prefix = /bridge in (dtsdemo\d+)-sw/.exec(out)?.[1];
  assert.ok(prefix, out);
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`${prefix}-`));
  assert.deepEqual(left, []);
});
