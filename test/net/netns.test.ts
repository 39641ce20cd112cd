/**
 * Tests of the namespace harness itself (root only): a LAN really connects its hosts, names/indexes/MACs are
 * reported as created, destroy() removes everything (also leftovers of a crashed run), and a real ISC dhcpd
 * started by the helper leases an address to a real udhcpc.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createLan,
  createTopology,
  exec,
  integrationSkipReason,
  listNamespaces,
  ping,
  startIscDhcpd,
  run,
} from '../support/netns.js';

const skip = integrationSkipReason();

test('createLan connects hosts and destroy removes every namespace', { skip, timeout: 20_000 }, async () => {
  const lan = await createLan('nt-harness', [
    { name: 'a', address: '10.231.0.1/24' },
    { name: 'b', address: '10.231.0.2/24', mac: '52:54:00:12:34:56' },
    { name: 'c' },
  ]);
  try {
    const names = await listNamespaces();
    for (const n of ['nt-harness-a', 'nt-harness-b', 'nt-harness-c', 'nt-harness-sw']) assert.ok(names.includes(n), n);
    const b = lan.host('b');
    assert.equal(b.mac, '52:54:00:12:34:56');
    assert.equal(b.ifname, 'eth0');
    const link = await b.exec('ip', ['-o', 'link', 'show', 'dev', 'eth0']);
    assert.match(link.stdout, new RegExp(`^${b.ifindex}: eth0@`));
    assert.match(link.stdout, /link\/ether 52:54:00:12:34:56/);
    assert.equal(await ping(lan.host('a').ns, '10.231.0.2'), true);
    assert.equal(await ping(lan.host('a').ns, '10.231.0.9', { timeoutS: 1 }), false);
    // The host without an address has none.
    const addr = await lan.host('c').exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.equal(addr.stdout.trim(), '');
    // The root namespace has no interface of ours.
    const root = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(root.stdout, /br-lan|\bp1\b/);
  } finally {
    await lan.destroy();
    await lan.destroy(); // idempotent
  }
  const after = await listNamespaces();
  assert.deepEqual(after.filter((n) => n.startsWith('nt-harness-')), []);
});

test('createTopology removes leftovers of a crashed run with the same prefix', { skip, timeout: 20_000 }, async () => {
  await run('ip', ['netns', 'add', 'nt-leftover-x']);
  const sleeper = await run('ip', ['netns', 'add', 'nt-leftover-y']);
  assert.equal(sleeper.code, 0);
  const t = await createTopology('nt-leftover');
  try {
    const names = await listNamespaces();
    assert.ok(!names.includes('nt-leftover-x'));
    assert.ok(!names.includes('nt-leftover-y'));
  } finally {
    await t.destroy();
  }
});

test('two LANs with a router: routes and forwarding work', { skip, timeout: 20_000 }, async () => {
  const t = await createTopology('nt-routed');
  try {
    await t.lan('a', [
      { name: 'cli', address: '10.232.1.2/24' },
      { name: 'rtr', address: '10.232.1.1/24' },
    ]);
    const b = await t.lan('b', [
      { name: 'rtr', address: '10.232.2.1/24' },
      { name: 'srv', address: '10.232.2.2/24' },
    ]);
    assert.equal(b.host('rtr').ifname, 'eth1');
    await t.enableForwarding('rtr');
    await t.addRoute('cli', '10.232.2.0/24', '10.232.1.1');
    await t.addRoute('srv', '10.232.1.0/24', '10.232.2.1');
    assert.equal(await ping(t.nsOf('cli'), '10.232.2.2'), true);
  } finally {
    await t.destroy();
  }
});

test('spawn reports the PID of the command and waitFor sees its output', { skip, timeout: 20_000 }, async () => {
  const t = await createTopology('nt-spawn');
  try {
    const ns = await t.namespace('x');
    const p = t.spawn(ns, 'sh', ['-c', 'echo "pid $$"; echo err >&2; exec sleep 30']);
    const m = await p.waitFor(/pid (\d+)/, { stream: 'stdout' });
    assert.equal(Number(m[1]), p.pid);
    await p.waitFor('err', { stream: 'stderr' });
    const r = await exec(ns, 'ip', ['netns', 'identify', String(p.pid)]);
    assert.equal(r.stdout.trim(), ns);
    await assert.rejects(p.waitFor('never printed', { timeoutMs: 200 }), /timeout/);
    const st = await p.stop();
    assert.equal(st.signal, 'SIGTERM');
  } finally {
    await t.destroy();
  }
});

test('startIscDhcpd runs a real ISC dhcpd that leases to udhcpc', { skip, timeout: 20_000 }, async () => {
  const lan = await createLan('nt-isc', [
    { name: 'srv', address: '10.233.0.1/24' },
    { name: 'cli', mac: '52:54:00:aa:bb:01' },
  ]);
  try {
    const dhcpd = await startIscDhcpd({
      ns: lan.host('srv').ns,
      topology: lan.topology,
      interfaces: ['eth0'],
      config: [
        'default-lease-time 600;',
        'max-lease-time 7200;',
        'ping-check false;',
        'subnet 10.233.0.0 netmask 255.255.255.0 {',
        '  range 10.233.0.100 10.233.0.110;',
        '}',
        '',
      ].join('\n'),
    });
    const r = await lan
      .host('cli')
      .exec('udhcpc', ['-f', '-q', '-n', '-i', 'eth0', '-t', '4', '-T', '1', '-s', '/bin/true'], { check: false });
    assert.match(r.stdout + r.stderr, /lease of 10\.233\.0\.1(0\d|10) obtained/);
    await dhcpd.process.waitFor(/DHCPACK on 10\.233\.0\.1\d+ to 52:54:00:aa:bb:01 via eth0/);
    const leases = await dhcpd.readLeases();
    assert.match(leases, /hardware ethernet 52:54:00:aa:bb:01;/);
    await dhcpd.stop();
    assert.ok(dhcpd.process.hasExited);
  } finally {
    await lan.destroy();
  }
});
