/**
 * DHCPLEASEQUERY (RFC 4388, `allow leasequery`), differential against real ISC dhcpd 4.4.3: the same
 * dhcpd.conf, the same scripted clients (one with a client identifier, vendor class and relay agent
 * options, one with neither, one that releases), then the same leasequeries from the relay — by address,
 * by client identifier, by MAC, for a never-used address of the range, for an unknown client — against
 * both servers. Message types, header fields and options must be equal; the time options (51, 58, 59, 91)
 * within 2 s, since the two servers ran at different moments. A relay on a subnet that does not allow
 * leasequery is ignored with ISC's log line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTopology, integrationSkipReason, type Topology } from '../support/netns.js';
import { runQueryAll, startServer } from '../support/feature-diff.js';
import type { LeasequeryResult, QueryResult, QuerySpec } from '../support/dhcp-query.js';

const skip = integrationSkipReason();

const CONFIG = `
ddns-update-style none;
ping-check false;
authoritative;
default-lease-time 600;
max-lease-time 600;
shared-network lan {
  subnet 10.67.0.0 netmask 255.255.255.0 {
    option routers 10.67.0.1;
    option domain-name "lq.example";
    allow leasequery;
    range 10.67.0.100 10.67.0.120;
  }
  subnet 10.68.0.0 netmask 255.255.255.0 {
    range 10.68.0.100 10.68.0.120;
  }
}
`;

const CLIENT_ID = '01525400670001';
const SPEC: QuerySpec = {
  server: '10.67.0.1',
  giaddr: '10.67.0.2',
  timeoutMs: 3000,
  clients: [
    {
      mac: '52:54:00:67:00:01',
      prl: [1, 3, 6, 15, 51],
      options: { '61': CLIENT_ID, '60': Buffer.from('lq-vendor').toString('hex'), '82': '0106' + Buffer.from('port-7').toString('hex') },
    },
    { mac: '52:54:00:67:00:02', prl: [1, 3] },
    { mac: '52:54:00:67:00:03', prl: [1, 3], release: true },
  ],
  leasequeries: [
    { ciaddr: '@1' },
    { clientId: CLIENT_ID },
    { mac: '52:54:00:67:00:02' },
    { ciaddr: '10.67.0.119' },
    { mac: '52:54:00:67:00:99' },
    { ciaddr: '@3' },
    { mac: '52:54:00:67:00:03' },
  ],
};

/** Options that are seconds counted from "now" on each server. */
const TIMES = new Set(['51', '58', '59', '91']);

describe('DHCPLEASEQUERY: dhcpd-ts vs ISC dhcpd 4.4.3', { skip }, () => {
  let topo: Topology;
  const results: Record<'isc' | 'ts', { clients: QueryResult[]; leasequeries: LeasequeryResult[] }> = { isc: { clients: [], leasequeries: [] }, ts: { clients: [], leasequeries: [] } };
  const logs = { isc: '', ts: '' };
  const denied = { isc: '', ts: '' };
  const leaseFiles = { isc: '', ts: '' };

  before(async () => {
    topo = await createTopology('lqry');
    await topo.lan('lan', [
      { name: 'srv', address: '10.67.0.1/24' },
      { name: 'cli', address: '10.67.0.2/24' },
    ]);
    // A second relay address, on a subnet without `allow leasequery`.
    await topo.exec('cli', 'ip', ['addr', 'add', '10.68.0.2/24', 'dev', 'eth0']);
    await topo.exec('srv', 'ip', ['addr', 'add', '10.68.0.1/24', 'dev', 'eth0']);
    for (const kind of ['isc', 'ts'] as const) {
      const server = await startServer(topo, topo.nsOf('srv'), kind, CONFIG, ['eth0']);
      try {
        // First the clients, so that the addresses they got can be queried.
        const first = await runQueryAll(topo, topo.nsOf('cli'), { ...SPEC, leasequeries: [] });
        const addr = (i: number): string => first.clients[i - 1]?.ack?.yiaddr ?? '0.0.0.0';
        const lqs = (SPEC.leasequeries ?? []).map((q) => (q.ciaddr?.startsWith('@') ? { ciaddr: addr(Number(q.ciaddr.slice(1))) } : q));
        const second = await runQueryAll(topo, topo.nsOf('cli'), { ...SPEC, clients: [], leasequeries: lqs });
        results[kind] = { clients: first.clients, leasequeries: second.leasequeries };
        const mark = server.process.output.length;
        const d = await runQueryAll(topo, topo.nsOf('cli'), { server: '10.68.0.1', giaddr: '10.68.0.2', timeoutMs: 1500, clients: [], leasequeries: [{ ciaddr: addr(1) }] });
        assert.equal(d.leasequeries[0]?.reply, null, `${kind} answered a relay that is not allowed`);
        await new Promise((r) => setTimeout(r, 300));
        denied[kind] = server.process.output.slice(mark);
      } finally {
        await server.stop();
        logs[kind] = server.process.output;
        leaseFiles[kind] = await readFile(join(server.dir, 'dhcpd.leases'), 'latin1').catch(() => '');
      }
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  test('both servers leased the same addresses and answered every leasequery', () => {
    assert.deepEqual(
      results.ts.clients.map((c) => c.ack?.yiaddr),
      results.isc.clients.map((c) => c.ack?.yiaddr),
    );
    for (const kind of ['isc', 'ts'] as const) {
      assert.equal(results[kind].leasequeries.length, SPEC.leasequeries!.length, logs[kind]);
      for (const r of results[kind].leasequeries) assert.notEqual(r.reply, null, `${kind}: no answer to leasequery ${r.leasequery}\n${logs[kind]}`);
    }
  });

  test('the answers are ISC’s: message type, header fields and options (times within 2 s)', () => {
    for (let i = 0; i < SPEC.leasequeries!.length; i++) {
      const isc = results.isc.leasequeries[i]!.reply!;
      const ts = results.ts.leasequeries[i]!.reply!;
      const label = `leasequery ${i} ${JSON.stringify(SPEC.leasequeries![i])}`;
      assert.equal(ts.type, isc.type, label);
      assert.deepEqual({ ...ts, options: undefined }, { ...isc, options: undefined }, label);
      assert.deepEqual(Object.keys(ts.options).sort(), Object.keys(isc.options).sort(), `${label}: ${JSON.stringify(ts.options)} vs ISC ${JSON.stringify(isc.options)}`);
      for (const [code, hex] of Object.entries(isc.options)) {
        if (TIMES.has(code)) {
          const d = Math.abs(Buffer.from(ts.options[code]!, 'hex').readUInt32BE(0) - Buffer.from(hex, 'hex').readUInt32BE(0));
          assert.ok(d <= 2, `${label} option ${code}: ${ts.options[code]} vs ISC ${hex}`);
        } else assert.equal(ts.options[code], hex, `${label} option ${code}`);
      }
    }
  });

  test('what ISC answers, spelled out (checked on both)', () => {
    for (const kind of ['isc', 'ts'] as const) {
      const t = results[kind].leasequeries.map((r) => r.reply?.type);
      // active by IP, by client-id, by MAC; never-used address: unassigned; unknown MAC: unknown;
      // released address and its client: unassigned.
      assert.deepEqual(t, [13, 13, 13, 11, 12, 11, 11], kind);
      const active = results[kind].leasequeries[0]!.reply!;
      assert.equal(active.options['60'], Buffer.from('lq-vendor').toString('hex'), kind);
      assert.equal(active.options['82'], '0106' + Buffer.from('port-7').toString('hex'), kind);
      assert.equal(active.options['61'], CLIENT_ID, kind);
      assert.equal(active.options['54'], '0a430001', kind);
      assert.match(logs[kind], /^DHCPLEASEQUERY from 10\.67\.0\.2 for MAC address 52:54:00:67:00:02$/m, kind);
      assert.match(logs[kind], /^DHCPLEASEACTIVE to 10\.67\.0\.2 for client-id .* \(0 associated IPs\)$/m, kind);
      assert.match(denied[kind], /^DHCPLEASEQUERY from 10\.68\.0\.2: LEASEQUERY not allowed, query ignored$/m, `${kind}:\n${denied[kind]}`);
    }
  });

  test('the vendor class the client sent is kept in the lease as ISC keeps it (set vendor-class-identifier)', () => {
    const sets = (text: string): string[] => [...new Set(text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('set vendor-class-identifier')))];
    assert.deepEqual(sets(leaseFiles.isc), ['set vendor-class-identifier = "lq-vendor";'], leaseFiles.isc);
    assert.deepEqual(sets(leaseFiles.ts), sets(leaseFiles.isc), leaseFiles.ts);
  });
});
