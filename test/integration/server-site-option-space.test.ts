/**
 * `site-option-space`, differential against real ISC dhcpd 4.4.3: the same dhcpd.conf served by both, the
 * same scripted clients (test/support/dhcp-query.ts, raw option bytes) with and without a parameter request
 * list. Site-local codes must come from the named space, dhcp-space options at those codes must be left
 * out, a space with codes below 224 moves the cut-off down (with ISC's RFC 3942 warning), and a client with
 * no site-option-space in scope gets the dhcp-space options.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopology, integrationSkipReason, type Topology } from '../support/netns.js';
import { runQuery, startServer } from '../support/feature-diff.js';
import type { QueryResult, QuerySpec } from '../support/dhcp-query.js';

const skip = integrationSkipReason();

const CONFIG = `
ddns-update-style none;
ping-check false;
authoritative;
default-lease-time 600;
max-lease-time 900;

option space site;
option site.motd code 224 = text;
option site.addr code 230 = ip-address;
option site.count code 250 = unsigned integer 16;
option space low;
option low.early code 200 = text;
option low.late code 240 = text;

option dhcp-210 code 210 = text;
option dhcp-224 code 224 = text;
option dhcp-250 code 250 = unsigned integer 32;

option dhcp-210 "d210";
option dhcp-224 "d224";
option dhcp-250 99;
option site.motd "hello from site";
option site.addr 10.64.0.9;
option site.count 7;
option low.early "low early";
option low.late "low late";

subnet 10.64.0.0 netmask 255.255.255.0 {
  option routers 10.64.0.1;
  range 10.64.0.100 10.64.0.120;
}
group {
  site-option-space "site";
  host site-prl { hardware ethernet 52:54:00:64:00:01; }
  host site-noprl { hardware ethernet 52:54:00:64:00:02; }
}
group {
  site-option-space "low";
  host low-prl { hardware ethernet 52:54:00:64:00:03; }
  host low-noprl { hardware ethernet 52:54:00:64:00:04; }
}
host unknown-space { hardware ethernet 52:54:00:64:00:07; site-option-space "nosuch"; }
`;

const PRL = [1, 3, 200, 210, 224, 230, 240, 250];
const SPEC: QuerySpec = {
  server: '10.64.0.1',
  giaddr: '10.64.0.2',
  timeoutMs: 4000,
  clients: [
    { mac: '52:54:00:64:00:01', prl: PRL },
    { mac: '52:54:00:64:00:02' },
    { mac: '52:54:00:64:00:03', prl: PRL },
    { mac: '52:54:00:64:00:04' },
    { mac: '52:54:00:64:00:05', prl: PRL },
    { mac: '52:54:00:64:00:06' },
    // site-option-space naming no space: ISC logs it and sends no reply.
    { mac: '52:54:00:64:00:07', discoverOnly: true },
  ],
};
const ANSWERED = SPEC.clients.length - 1;

const text = (r: QueryResult | undefined, code: number): string | undefined => {
  const hex = r?.ack?.options[String(code)];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('latin1');
};

describe('site-option-space: dhcpd-ts vs ISC dhcpd 4.4.3', { skip }, () => {
  let topo: Topology;
  const results: Record<'isc' | 'ts', QueryResult[]> = { isc: [], ts: [] };
  const logs = { isc: '', ts: '' };

  before(async () => {
    topo = await createTopology('sops');
    await topo.lan('lan', [
      { name: 'srv', address: '10.64.0.1/24' },
      { name: 'cli', address: '10.64.0.2/24' },
    ]);
    for (const kind of ['isc', 'ts'] as const) {
      const server = await startServer(topo, topo.nsOf('srv'), kind, CONFIG, ['eth0']);
      try {
        results[kind] = await runQuery(topo, topo.nsOf('cli'), SPEC);
      } finally {
        await server.stop();
        logs[kind] = server.process.output;
      }
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  test('every client got an OFFER and an ACK from both', () => {
    for (const kind of ['isc', 'ts'] as const) {
      assert.equal(results[kind].length, SPEC.clients.length, logs[kind]);
      for (const r of results[kind].slice(0, ANSWERED)) assert.ok(r.offer !== null && r.ack !== null, `${kind} ${r.mac}:\n${logs[kind]}`);
    }
  });

  test('an unknown site-option-space: logged, and no reply at all (as ISC)', () => {
    for (const kind of ['isc', 'ts'] as const) {
      assert.equal(results[kind][ANSWERED]?.offer, null, kind);
      assert.match(logs[kind], /^unknown option space nosuch\.$/m, kind);
    }
  });

  test('OFFER and ACK options are the same bytes as ISC sends', () => {
    for (let i = 0; i < SPEC.clients.length; i++) {
      assert.deepEqual(results.ts[i]!.offer?.options, results.isc[i]!.offer?.options, `OFFER to ${SPEC.clients[i]!.mac}`);
      assert.deepEqual(results.ts[i]!.ack?.options, results.isc[i]!.ack?.options, `ACK to ${SPEC.clients[i]!.mac}`);
    }
  });

  test('the site space replaces the dhcp space from its minimum code up (facts checked on both)', () => {
    for (const kind of ['isc', 'ts'] as const) {
      const by = new Map(results[kind].map((r) => [r.mac, r]));
      for (const mac of ['52:54:00:64:00:01', '52:54:00:64:00:02']) {
        const r = by.get(mac);
        assert.equal(text(r, 224), 'hello from site', `${kind} ${mac}`);
        assert.equal(r?.ack?.options['230'], '0a400009', `${kind} ${mac}`);
        assert.equal(r?.ack?.options['250'], '0007', `${kind} ${mac}`);
        assert.equal(text(r, 210), 'd210', `${kind} ${mac}`);
      }
      // Space "low" starts at 200: 210, 224 and 250 come from it (unset there, so absent).
      for (const mac of ['52:54:00:64:00:03', '52:54:00:64:00:04']) {
        const r = by.get(mac);
        assert.equal(text(r, 200), 'low early', `${kind} ${mac}`);
        assert.equal(text(r, 240), 'low late', `${kind} ${mac}`);
        for (const code of [210, 224, 230, 250]) assert.equal(r?.ack?.options[String(code)], undefined, `${kind} ${mac} option ${code}`);
      }
      // No site-option-space: the dhcp space's own options.
      for (const mac of ['52:54:00:64:00:05', '52:54:00:64:00:06']) {
        const r = by.get(mac);
        assert.equal(text(r, 224), 'd224', `${kind} ${mac}`);
        assert.equal(r?.ack?.options['250'], '00000063', `${kind} ${mac}`);
        assert.equal(r?.ack?.options['200'], undefined, `${kind} ${mac}`);
      }
    }
  });

  test("codes below 224 in the site space get ISC's RFC 3942 warning", () => {
    const re = /WARNING: site-local option codes less than 224 have been deprecated by RFC3942\.  You have options listed in site local space low that number as low as 200\./;
    assert.match(logs.isc, re);
    assert.match(logs.ts, re);
  });
});
