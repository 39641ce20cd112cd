/**
 * `dhcpd probe` end to end: dhcpd-ts serves in one namespace, the probe runs in another (as a relay on
 * 10.82.0.2 would) and prints the OFFER with ISC's message name, the offered address and the server that
 * sent it; without a server it exits 1 after its timeout. Argument errors exit 2 with the usage.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupPrefix, createNamespace, deleteNamespace, exec, integrationSkipReason, run, spawn, waitUntil, type NsProcess } from '../support/netns.js';
import { parseProbeArgs } from '../../src/cli/probe-command.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? 'ts' : 'js';
const MAIN = join(here, '..', '..', 'src', 'cli', `main.${ext}`);
const NODE_ARGS = fromSource ? ['--import', import.meta.resolve('tsx'), MAIN] : [MAIN];
const skip = integrationSkipReason() ?? false;

const PREFIX = 'clip';
const N = process.pid % 100000;
const NS_S = `${PREFIX}-${N}-s`;
const NS_C = `${PREFIX}-${N}-c`;
const IF = `cp${N}a`;
const PEER = `cp${N}b`;
let dir = '';
let server: NsProcess | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-probe-'));
  if (skip) return;
  await cleanupPrefix(PREFIX);
  await createNamespace(NS_S);
  await createNamespace(NS_C);
  await run('ip', ['-n', NS_S, 'link', 'add', IF, 'type', 'veth', 'peer', 'name', PEER]);
  await run('ip', ['-n', NS_S, 'link', 'set', PEER, 'netns', NS_C]);
  await run('ip', ['-n', NS_S, 'addr', 'add', '10.82.0.1/24', 'dev', IF]);
  await run('ip', ['-n', NS_C, 'addr', 'add', '10.82.0.2/24', 'dev', PEER]);
  await run('ip', ['-n', NS_S, 'link', 'set', IF, 'up']);
  await run('ip', ['-n', NS_C, 'link', 'set', PEER, 'up']);
});

after(async () => {
  try {
    if (server) await server.stop();
  } catch {
    /* gone */
  }
  if (!skip) {
    await deleteNamespace(NS_C);
    await deleteNamespace(NS_S);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dhcpd probe', () => {
  test('argument errors', () => {
    assert.deepEqual(parseProbeArgs(['-s', '10.0.0.1']), { error: 'probe needs -s server and -g giaddr' });
    assert.deepEqual(parseProbeArgs(['-s']), { error: 'No argument for command: -s ' });
    assert.deepEqual(parseProbeArgs(['-x', '1']), { error: 'Unknown command -x' });
    assert.deepEqual(parseProbeArgs(['-s', '10.0.0.256', '-g', '10.0.0.2']), { error: '-s: not an IPv4 address: 10.0.0.256' });
    assert.deepEqual(parseProbeArgs(['-s', '10.0.0.1', '-g', '10.0.0.2', '-p', '0']), { error: 'Port number specified is out of range (1-65535).' });
  });

  test('no server: exit 1 after the timeout', { skip }, async () => {
    const r = await exec(NS_C, process.execPath, [...NODE_ARGS, 'probe', '-s', '10.82.0.1', '-g', '10.82.0.2', '-timeout', '500'], { check: false, timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^dhcpd probe: no reply after 1 attempt\(s\) of 500 ms$/m);
  });

  test('a DHCPOFFER from dhcpd-ts, printed with the offered address', { skip }, async () => {
    const conf = join(dir, 'p.conf');
    writeFileSync(conf, 'subnet 10.82.0.0 netmask 255.255.255.0 {\n  range 10.82.0.100 10.82.0.150;\n  ping-check false;\n}\n');
    writeFileSync(join(dir, 'p.leases'), '');
    server = spawn(NS_S, process.execPath, [...NODE_ARGS, '-d', '--no-pid', '-cf', conf, '-lf', join(dir, 'p.leases'), IF]);
    await waitUntil(() => (server?.stderr.includes('Server starting service.') ? true : undefined), { timeoutMs: 20_000, what: 'server start' });
    const r = await exec(NS_C, process.execPath, [...NODE_ARGS, 'probe', '-s', '10.82.0.1', '-g', '10.82.0.2', '-m', '52:54:00:02:bf:f8', '-n', '3'], {
      check: false,
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DHCPOFFER on 10\.82\.0\.(1[0-4]\d|150) from 10\.82\.0\.1:67 \(attempt \d, \d+ ms\)$/m);
    assert.match(r.stdout, /^ {2}option 53: 02$/m);
    assert.match(r.stdout, /^ {2}option 54: 0a:52:00:01$/m);
    assert.match(server.stderr, /DHCPDISCOVER from 52:54:00:02:bf:f8 via 10\.82\.0\.2/);
  });
});
