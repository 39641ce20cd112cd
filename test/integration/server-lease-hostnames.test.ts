/**
 * `get-lease-hostnames`, differential against real ISC dhcpd 4.4.3: a tiny authoritative DNS server
 * (test/support/ptr-dns-server.ts) in the server's namespace holds PTR records for some addresses; both
 * servers get it as their only name server through a private /etc/resolv.conf, serve the same dhcpd.conf,
 * and answer the same scripted clients (test/support/dhcp-query.ts, raw option bytes). The OFFERs and ACKs
 * must be byte-for-byte equal option by option, both must log "No hostname for ADDR" for the address with
 * no PTR record, and neither may query DNS where ISC does not (a host-name configured or given by
 * use-host-decl-names), and a name in /etc/hosts is found there first, as gethostbyaddr(3) finds it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopology, integrationSkipReason, type NsProcess, type Topology } from '../support/netns.js';
import { logLines, runQuery, startServer, supportScript } from '../support/feature-diff.js';
import type { QueryResult, QuerySpec } from '../support/dhcp-query.js';

const skip = integrationSkipReason();

const CONFIG = `
ddns-update-style none;
ping-check false;
authoritative;
default-lease-time 600;
max-lease-time 900;
get-lease-hostnames true;
subnet 10.63.0.0 netmask 255.255.255.0 {
  option routers 10.63.0.1;
  range 10.63.0.100 10.63.0.101;
}
host ptr-found { hardware ethernet 52:54:00:63:00:01; fixed-address 10.63.0.11; }
host ptr-missing { hardware ethernet 52:54:00:63:00:02; fixed-address 10.63.0.12; }
host not-requested { hardware ethernet 52:54:00:63:00:03; fixed-address 10.63.0.13; }
host decl-name { hardware ethernet 52:54:00:63:00:04; fixed-address 10.63.0.14; use-host-decl-names on; }
host configured { hardware ethernet 52:54:00:63:00:05; fixed-address 10.63.0.15; option host-name "configured-name"; }
host switched-off { hardware ethernet 52:54:00:63:00:07; fixed-address 10.63.0.17; get-lease-hostnames false; }
host in-hosts-file { hardware ethernet 52:54:00:63:00:09; fixed-address 10.63.0.19; }
`;

const PTR: Record<string, string> = {
  '11.0.63.10.in-addr.arpa': 'alpha.example.test',
  '13.0.63.10.in-addr.arpa': 'gamma.example.test',
  '14.0.63.10.in-addr.arpa': 'delta-ptr.example.test',
  '15.0.63.10.in-addr.arpa': 'epsilon-ptr.example.test',
  '17.0.63.10.in-addr.arpa': 'eta-ptr.example.test',
  '100.0.63.10.in-addr.arpa': 'dyn-a.example.test',
  '101.0.63.10.in-addr.arpa': 'dyn-b.example.test',
};

const WITH_12 = [1, 3, 6, 12, 15, 28, 51, 54];
const SPEC: QuerySpec = {
  server: '10.63.0.1',
  giaddr: '10.63.0.2',
  timeoutMs: 4000,
  clients: [
    { mac: '52:54:00:63:00:01', prl: WITH_12 },
    { mac: '52:54:00:63:00:02', prl: WITH_12 },
    { mac: '52:54:00:63:00:03', prl: [1, 3, 6, 15] },
    { mac: '52:54:00:63:00:04', prl: WITH_12 },
    { mac: '52:54:00:63:00:05', prl: WITH_12 },
    { mac: '52:54:00:63:00:06', prl: WITH_12 },
    { mac: '52:54:00:63:00:07', prl: WITH_12 },
    // No parameter request list: ISC sends every option it has, host-name included.
    { mac: '52:54:00:63:00:08' },
    // Named in /etc/hosts (the name service switch asks files before DNS).
    { mac: '52:54:00:63:00:09', prl: WITH_12 },
  ],
};

const RESOLV = 'nameserver 10.63.0.1\noptions timeout:1 attempts:1\n';
const HOSTS = '127.0.0.1 localhost\n10.63.0.19 from-hosts-file.example.test from-hosts-file\n';

describe('get-lease-hostnames: dhcpd-ts vs ISC dhcpd 4.4.3 with a real DNS server', { skip }, () => {
  let topo: Topology;
  let dns: NsProcess;
  const results: Record<'isc' | 'ts', QueryResult[]> = { isc: [], ts: [] };
  const logs = { isc: '', ts: '' };
  const queries = { isc: '', ts: '' };

  before(async () => {
    topo = await createTopology('glhn');
    await topo.lan('lan', [
      { name: 'srv', address: '10.63.0.1/24' },
      { name: 'cli', address: '10.63.0.2/24' },
    ]);
    const s = supportScript('ptr-dns-server');
    dns = topo.spawn(topo.nsOf('srv'), s.cmd, [...s.args, '10.63.0.1', '53', JSON.stringify(PTR)], { cwd: s.cwd });
    await dns.waitFor('dns ready', { timeoutMs: 15_000 });
    for (const kind of ['isc', 'ts'] as const) {
      const before = dns.output.length;
      const server = await startServer(topo, topo.nsOf('srv'), kind, CONFIG, ['eth0'], { resolvConf: RESOLV, hosts: HOSTS });
      try {
                results[kind] = await runQuery(topo, topo.nsOf('cli'), SPEC);
      } finally {
        await server.stop();
        logs[kind] = server.process.output;
        queries[kind] = dns.output.slice(before);
      }
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  test('every client got an OFFER and an ACK from both servers', () => {
    for (const kind of ['isc', 'ts'] as const) {
      assert.equal(results[kind].length, SPEC.clients.length, `${kind}: ${logs[kind]}`);
      for (const r of results[kind]) {
        assert.notEqual(r.offer, null, `${kind} ${r.mac}: no OFFER`);
        assert.notEqual(r.ack, null, `${kind} ${r.mac}: no ACK`);
      }
    }
  });

  test('OFFER and ACK options are the same bytes as ISC sends', () => {
    for (let i = 0; i < SPEC.clients.length; i++) {
      const isc = results.isc[i]!;
      const ts = results.ts[i]!;
      assert.deepEqual(ts.offer, isc.offer, `OFFER to ${isc.mac}`);
      assert.deepEqual(ts.ack, isc.ack, `ACK to ${isc.mac}`);
    }
  });

  test('the PTR name is sent as host-name when found and requested (ISC facts, checked on both)', () => {
    const name = (r: QueryResult | undefined): string | undefined => {
      const hex = r?.ack?.options['12'];
      return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('latin1');
    };
    for (const kind of ['isc', 'ts'] as const) {
      const by = new Map(results[kind].map((r) => [r.mac, r]));
      // ISC stores the name with its terminating NUL (strlen + 1 bytes).
      assert.equal(name(by.get('52:54:00:63:00:01')), 'alpha.example.test\0', kind);
      assert.equal(name(by.get('52:54:00:63:00:02')), undefined, kind);
      assert.equal(name(by.get('52:54:00:63:00:03')), undefined, kind);
      assert.equal(name(by.get('52:54:00:63:00:04')), 'decl-name', kind);
      assert.equal(name(by.get('52:54:00:63:00:05')), 'configured-name', kind);
      assert.match(name(by.get('52:54:00:63:00:06')) ?? '', /^dyn-[ab]\.example\.test\0$/, kind);
      assert.equal(name(by.get('52:54:00:63:00:07')), undefined, kind);
      assert.match(name(by.get('52:54:00:63:00:08')) ?? '', /^dyn-[ab]\.example\.test\0$/, kind);
      assert.equal(name(by.get('52:54:00:63:00:09')), 'from-hosts-file.example.test\0', kind);
    }
  });

  test('a failed lookup is logged as ISC logs it', () => {
    for (const kind of ['isc', 'ts'] as const) {
      assert.ok(logLines({ output: logs[kind] } as NsProcess, /^No hostname for 10\.63\.0\.12$/).length >= 1, `${kind} log:\n${logs[kind]}`);
    }
  });

  test('DNS is asked only where ISC asks (not when host-name is configured, given by the host, or switched off)', () => {
    for (const kind of ['isc', 'ts'] as const) {
      const asked = new Set(queries[kind].split('\n').filter((l) => l.startsWith('query ')).map((l) => l.split(' ')[1]));
      for (const a of ['11', '12', '13', '100', '101']) assert.ok(asked.has(`${a}.0.63.10.in-addr.arpa`), `${kind} did not look up 10.63.0.${a}: ${[...asked].join(', ')}`);
      for (const a of ['14', '15', '17', '19']) assert.ok(!asked.has(`${a}.0.63.10.in-addr.arpa`), `${kind} looked up 10.63.0.${a}`);
    }
  });
});
