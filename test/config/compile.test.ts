/**
 * What loadConfig() builds: the runtime model for small configurations, checked against ISC dhcpd 4.4.3's
 * documented semantics (dhcpd.conf(5), server/confpars.c, server/mdb.c). Every config used here is also
 * given to the real `dhcpd -t` when it is installed, so the test's idea of valid/invalid is ISC's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { executionScopes, hardwareKey, scopeChain, resolveServerParameters, type Config } from '../../src/config/model.js';
import { runIscTest, iscAvailable } from './isc-oracle.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dhcpd-ts-compile-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Load `text`; also assert ISC's verdict agrees (when dhcpd is installed). */
function load(text: string): LoadResult {
  const name = `c${n++}.conf`;
  writeFileSync(join(dir, name), text, 'latin1');
  const r = loadConfig(join(dir, name));
  if (iscAvailable()) {
    const isc = runIscTest(join(dir, name), dir, dir);
    assert.equal(r.ok, isc.ok, `ISC: ${isc.ok ? 'ok' : isc.firstError}; ours: ${r.ok ? 'ok' : r.errors[0].message}`);
    if (!r.ok && !isc.ok) {
      assert.equal(r.errors[0].line, isc.line ?? 0, `ISC: ${isc.firstError}; ours: line ${r.errors[0].line}: ${r.errors[0].message}`);
    }
  }
  return r;
}

function ok(text: string): Config {
  const r = load(text);
  if (!r.ok) assert.fail(`${r.errors[0].file} line ${r.errors[0].line}: ${r.errors[0].message}`);
  return r.config;
}

function firstError(text: string): { line: number; message: string } {
  const r = load(text);
  assert.equal(r.ok, false, 'expected a rejection');
  return r.ok ? { line: -1, message: '' } : { line: r.errors[0].line, message: r.errors[0].message };
}

test('subnets and ranges are uint32; bare subnets get an implicit shared network named NET/LEN', () => {
  const c = ok(`subnet 192.168.1.0 netmask 255.255.255.0 {\n  range 192.168.1.100 192.168.1.10;\n  option routers 192.168.1.1;\n}\n`);
  assert.equal(c.subnets.length, 1);
  const s = c.subnets[0];
  assert.equal(s.network, 0xc0a80100);
  assert.equal(s.netmask, 0xffffff00);
  assert.equal(s.prefixLength, 24);
  assert.equal(s.sharedNetwork.implicit, true);
  assert.equal(s.sharedNetwork.name, '192.168.1.0/24');
  // A bare range lands in an anonymous pool that prohibits dynamic-bootp clients; high-to-low is allowed.
  assert.equal(c.pools.length, 1);
  assert.equal(c.pools[0].implicit, true);
  assert.deepEqual(c.pools[0].prohibitList, [{ type: 'dynamic-bootp-clients' }]);
  assert.deepEqual(
    c.pools[0].ranges.map((r) => [r.first, r.last]),
    [[0xc0a8010a, 0xc0a80164]],
  );
  const routers = s.scope.statements.find((x) => x.kind === 'option' && x.name === 'routers');
  assert.ok(routers && routers.kind === 'option' && routers.value.kind === 'const');
  if (routers && routers.kind === 'option' && routers.value.kind === 'const') assert.deepEqual([...routers.value.data], [192, 168, 1, 1]);
});

test('dynamic-bootp ranges go to a pool permitting all clients', () => {
  const c = ok(`subnet 10.0.0.0 netmask 255.255.255.0 {\n  range dynamic-bootp 10.0.0.10 10.0.0.20;\n  range 10.0.0.30 10.0.0.40;\n}\n`);
  assert.equal(c.pools.length, 2);
  assert.deepEqual(c.pools[0].permitList, [{ type: 'all-clients' }]);
  assert.equal(c.pools[0].dynamicBootp, true);
  assert.deepEqual(c.pools[1].prohibitList, [{ type: 'dynamic-bootp-clients' }]);
});

test('pools in a shared network, permit lists, failover peer with ISC defaults', () => {
  const c = ok(`failover peer "fo" {
  primary;
  address 10.9.0.1;
  peer address 10.9.0.2;
  mclt 3600;
  split 128;
  load balance max seconds 3;
}
class "phones" { match if substring (option vendor-class-identifier, 0, 4) = "SIPp"; }
shared-network office {
  subnet 10.1.0.0 netmask 255.255.255.0 { }
  subnet 10.2.0.0 netmask 255.255.255.0 { }
  pool {
    failover peer "fo";
    allow members of "phones";
    deny dynamic bootp clients;
    range 10.2.0.10 10.2.0.50;
  }
}
`);
  const share = c.sharedNetworks.find((s) => s.name === 'office')!;
  assert.equal(share.subnets.length, 2);
  const pool = c.pools[0];
  assert.equal(pool.failoverPeer, 'fo');
  assert.equal(pool.ranges[0].subnet.network, 0x0a020000);
  assert.deepEqual(pool.permitList, [{ type: 'class', className: 'phones' }]);
  assert.deepEqual(pool.prohibitList, [{ type: 'dynamic-bootp-clients' }]);
  const peer = c.failoverPeers.get('fo')!;
  assert.equal(peer.role, 'primary');
  assert.equal(peer.me.port, 647);
  assert.equal(peer.peer.port, 647);
  assert.equal(peer.me.maxResponseDelay, 20);
  assert.equal(peer.me.maxUnackedUpdates, 100);
  assert.equal(peer.maxLeaseMisbalance, 15);
  assert.equal(peer.maxLeaseOwnership, 10);
  assert.equal(peer.maxBalance, 3600);
  assert.equal(peer.minBalance, 60);
  assert.equal(peer.mclt, 3600);
  assert.equal(peer.split, 128);
  assert.deepEqual([...peer.hba!], [...Array(16).fill(0xff), ...Array(16).fill(0)]);
  assert.deepEqual(peer.peer.address, { kind: 'address', address: 0x0a090002 });
  const cls = c.classes.get('phones')!;
  assert.ok(cls.matchIf && cls.matchIf.op === 'equal');
});

test('hosts are global, indexed by hardware address, uid and host-identifier; named groups become parents', () => {
  const c = ok(`group g1 { option domain-name "g1.example"; }
subnet 10.0.0.0 netmask 255.255.255.0 {
  host a { hardware ethernet 00:11:22:33:44:55; fixed-address 10.0.0.5, pc.example.org; }
}
host b { uid 01:00:aa:bb:cc:dd:ee; group g1; }
host c { host-identifier option agent.circuit-id "port7"; }
`);
  assert.equal(c.hosts.length, 3);
  const a = c.hostsByHardware.get(hardwareKey({ htype: 1, address: Uint8Array.of(0, 0x11, 0x22, 0x33, 0x44, 0x55) }))![0];
  assert.equal(a.name, 'a');
  assert.deepEqual(a.fixedAddresses, [{ kind: 'address', address: 0x0a000005 }, { kind: 'hostname', hostname: 'pc.example.org' }]);
  assert.equal(a.scope.parent?.kind, 'subnet');
  const b = c.hostsByClientId.get('0100aabbccddee')![0];
  assert.equal(b.name, 'b');
  assert.equal(b.scope.parent, c.groups.get('g1'));
  const hc = [...c.hostsByIdentifier.values()][0][0];
  assert.equal(hc.name, 'c');
  assert.equal(hc.hostIdentifier?.space, 'agent');
  assert.deepEqual([...hc.hostIdentifier!.data], [...Buffer.from('port7')]);
});

test('host tables: every host sharing an address is listed in declaration order; a deleted host is not listed', () => {
  const c = ok(`host x1 { hardware ethernet 00:00:00:00:00:01; option host-name "x1"; }
host x2 { hardware ethernet 00:00:00:00:00:01; uid "id-2"; }
host x3 { hardware ethernet 00:00:00:00:00:03; uid "id-2"; }
host x3 { deleted; }
host x4 { hardware ethernet 00:00:00:00:00:04; }
`);
  const key = (last: number): string => hardwareKey({ htype: 1, address: Uint8Array.of(0, 0, 0, 0, 0, last) });
  assert.deepEqual(c.hostsByHardware.get(key(1))?.map((h) => h.name), ['x1', 'x2']);
  assert.equal(c.hostsByHardware.get(key(3)), undefined);
  assert.deepEqual(c.hostsByHardware.get(key(4))?.map((h) => h.name), ['x4']);
  assert.deepEqual(c.hostsByClientId.get(Buffer.from('id-2').toString('hex'))?.map((h) => h.name), ['x2']);
  assert.deepEqual(c.hosts.map((h) => h.name), ['x1', 'x2', 'x4']);
  // The tables are ordinary properties once built (spread/enumeration see them).
  assert.equal({ ...c }.hostsByHardware, c.hostsByHardware);
  assert.equal(c.hostsByHardware.size, 2);
  // The text value of a host option (the compiler's fast path) is the string's bytes.
  const x1 = c.hosts[0].scope.statements[0];
  assert.ok(x1.kind === 'option' && x1.value.kind === 'const');
  assert.deepEqual([...x1.value.data], [...Buffer.from('x1')]);
});

test('scope chains, ISC execution order and the authoritative flag copied at creation', () => {
  const c = ok(`default-lease-time 100;
subnet 10.0.0.0 netmask 255.255.255.0 {
  default-lease-time 200;
  pool { default-lease-time 300; range 10.0.0.10 10.0.0.20; }
}
authoritative;
subnet 10.1.0.0 netmask 255.255.255.0 { }
`);
  const [s0, s1] = c.subnets;
  assert.equal(s0.scope.authoritative, false, 'authoritative written after the subnet does not reach it (ISC clone_group)');
  assert.equal(s1.scope.authoritative, true);
  const pool = c.pools[0];
  assert.deepEqual(executionScopes(pool.scope, pool.sharedNetwork.scope), [pool.scope]);
  const chain = [...scopeChain(s0.scope), ...executionScopes(pool.scope, pool.sharedNetwork.scope)];
  assert.equal(resolveServerParameters(chain).defaultLeaseTime, 300);
  assert.equal(resolveServerParameters(scopeChain(s0.scope)).defaultLeaseTime, 200);
  assert.equal(resolveServerParameters(scopeChain(s1.scope)).defaultLeaseTime, 100);
  assert.equal(resolveServerParameters(scopeChain(s1.scope)).maxLeaseTime, 86400);
});

test('option definitions and spaces extend the table for later statements', () => {
  const c = ok(`option space ipxe;
option ipxe.no-pxedhcp code 176 = unsigned integer 8;
option arch code 93 = unsigned integer 16;
option rfc3442-classless-static-routes code 121 = array of integer 8;
option ipxe.no-pxedhcp 1;
option rfc3442-classless-static-routes 24, 192, 168, 1, 10, 0, 0, 1;
`);
  assert.equal(c.options.lookupCode('dhcp', 93)?.name, 'arch');
  assert.equal(c.options.lookup('ipxe', 'no-pxedhcp')?.code, 176);
  const st = c.global.statements.find((x) => x.kind === 'option' && x.code === 121);
  assert.ok(st && st.kind === 'option' && st.value.kind === 'const');
  if (st && st.kind === 'option' && st.value.kind === 'const') assert.deepEqual([...st.value.data], [24, 192, 168, 1, 10, 0, 0, 1]);
});

test("ISC's load-time checks, with ISC's wording and line", () => {
  assert.deepEqual(firstError('subnet 10.0.0.1 netmask 255.255.255.0 { }\n'), {
    line: 1, message: 'subnet 10.0.0.1 netmask 255.255.255.0: bad subnet number/mask combination.',
  });
  assert.deepEqual(firstError('subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.1.1 10.0.1.5;\n}\n'), {
    line: 0, message: 'bad range, address 10.0.1.1 not in subnet 10.0.0.0 netmask 255.255.255.0',
  });
  assert.deepEqual(firstError('subnet 10.0.0.0 netmask 255.255.255.0 {\n  pool {\n    failover peer "x";\n    range 10.0.0.1 10.0.0.5;\n  }\n}\n'), {
    line: 3, message: 'failover peer x: not found',
  });
  const fo = (body: string) => `failover peer "f" {\n${body}\n}\nsubnet 10.0.0.0 netmask 255.255.255.0 { pool { failover peer "f"; range 10.0.0.1 10.0.0.9; } }\n`;
  assert.equal(firstError(fo('primary; peer address 10.0.0.2; mclt 10;')).message, 'primary failover server must have hba or split.');
  assert.equal(firstError(fo('primary; peer address 10.0.0.2; split 128;')).message, 'primary failover server must have mclt.');
  assert.equal(firstError(fo('secondary; peer address 10.0.0.2; split 128;')).message, 'secondary may not define load balance settings.');
  assert.equal(firstError(fo('primary; mclt 10; split 1;')).message, 'peer address may not be omitted');
  assert.equal(
    firstError('failover peer "f" { primary; peer address 10.0.0.2; mclt 10; split 10; }\n').message,
    'ERROR: Failover peer, f, has no referring pools. You must refer to each peer in at least one pool declaration.',
  );
  assert.equal(
    firstError(fo('primary; peer address 10.0.0.2; mclt 10; split 10;').replace('range 10.0.0.1', 'range dynamic-bootp 10.0.0.1')).message,
    'dynamic-bootp flag is not permitted for address',
  );
  // ISC reuses the pool *before* a matching ad-hoc pool (confpars.c keeps `last`): the second dynamic-bootp
  // range lands in the failover pool and is refused there, the first is not.
  assert.deepEqual(
    firstError(
      fo('primary; peer address 10.0.0.2; mclt 10; split 10;')
        .replace('range 10.0.0.1 10.0.0.9; } }', 'range 10.0.0.100 10.0.0.110; }\n  range dynamic-bootp 10.0.0.10 10.0.0.20;\n  range dynamic-bootp 10.0.0.30 10.0.0.40;\n}'),
    ),
    { line: 6, message: 'dynamic-bootp flag is not permitted for address' },
  );
  assert.deepEqual(firstError('host a { hardware ethernet 0:1:2:3:4:5; }\nhost a {\n  hardware ethernet 0:1:2:3:4:6;\n}\n'), {
    line: 4, message: 'host a: already exists',
  });
  assert.deepEqual(firstError('subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.1 10.0.0.9;\n  range 10.0.0.5 10.0.0.20;\n}\n'), {
    line: 3, message: 'lease 10.0.0.5 is declared twice!',
  });
  assert.deepEqual(firstError('shared-network n {\n  pool { range 10.0.0.1 10.0.0.9; }\n  subnet 10.0.0.0 netmask 255.255.255.0 { }\n}\n'), {
    line: 2, message: 'address range not on network n',
  });
  assert.equal(firstError('subnet 10.0.0.0 netmask 255.255.255.0 { pool { allow unknown-clients; } }\n').message, 'Pool declaration with no address range.');
  assert.equal(firstError('option foo-bar 1;\n').message, 'unknown option dhcp.foo-bar');
  assert.equal(firstError('option default-ip-ttl 300;\n').message, '300 exceeds max (255) for precision.');
  assert.equal(firstError('omapi-key nokey;\n').message, 'OMAPI key nokey: not found');
  assert.equal(firstError('ddns-update-style ad-hoc;\n').message, 'ddns-update-style ad_hoc no longer supported');
});
