/**
 * Lease expiry in a failover pool while both servers are normal (ISC pool_timer + process_state_transition
 * with a peer, FAILOVER.md §6.6): the primary moves the lease active → expired and sends a BNDUPD; the
 * partner accepts it; on the BNDACK the lease returns to free, and THAT is the expiry event: its
 * `on expiry` statements run once (log line, `set` kept in the lease's scope) and the statements are
 * dropped from the lease. The secondary's copy ends free too.
 *
 * Two whole servers (startDhcpServer, fake DHCP transport, real SQLite stores, real config files), failover
 * link over loopback TCP (127.0.0.1 ↔ 127.0.0.2), real clock (a 2 s lease).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDhcpServer } from '../../src/server/dhcp-server.js';
import { FakeTransport } from '../../src/net/fake-transport.js';
import { createMemoryLogger } from '../../src/log/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket } from '../../src/wire/encode.js';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DhcpOption, ipv4ToString, messageType } from '../../src/wire/packet.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ETH0, ip, request, u32 } from '../engine/fixtures.js';
import { freePort, waitFor } from '../support/loopback.js';

function conf(role: 'primary' | 'secondary', pPort: number, sPort: number): string {
  const [me, peer, myPort, peerPort] = role === 'primary' ? ['127.0.0.1', '127.0.0.2', pPort, sPort] : ['127.0.0.2', '127.0.0.1', sPort, pPort];
  return `authoritative;
failover peer "fo-exp" {
  ${role};
  address ${me}; port ${myPort};
  peer address ${peer}; peer port ${peerPort};
  max-response-delay 30;
  max-unacked-updates 10;
  load balance max seconds 3;
${role === 'primary' ? '  mclt 60;\n  split 128;\n' : ''}}
subnet 192.168.102.0 netmask 255.255.255.0 {
  pool {
    failover peer "fo-exp";
    range 192.168.102.110 192.168.102.119;
    default-lease-time 2;
    max-lease-time 2;
    on expiry {
      log (info, concat ("on expiry ", binary-to-ascii (10, 8, ".", leased-address)));
      set gone = "expired";
    }
  }
}
`;
}

test('failover expiry in normal: active -> expired + BNDUPD, free on the ack, `on expiry` runs once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fo-exp-'));
  const pPort = await freePort('127.0.0.1');
  const sPort = await freePort('127.0.0.2');
  const stores = [openSqliteLeaseStore(join(dir, 'p.sqlite')), openSqliteLeaseStore(join(dir, 's.sqlite'))];
  const logs = [createMemoryLogger(), createMemoryLogger()];
  const transports = [new FakeTransport({ interfaces: [ETH0] }), new FakeTransport({ interfaces: [ETH0] })];
  const servers = [];
  for (const [i, role] of (['primary', 'secondary'] as const).entries()) {
    writeFileSync(join(dir, `${role}.conf`), conf(role, pPort, sPort));
    const loaded = loadConfig(join(dir, `${role}.conf`));
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors));
    servers.push(
      await startDhcpServer({ config: loaded.config, logger: logs[i]!, leaseStore: stores[i]!, transport: transports[i]!, pingCheck: { inUse: async () => false }, expiryIntervalSeconds: 0.2 }),
    );
  }
  const [P, S] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const pt = transports[0]!;
  const messages = (i: number): string[] => logs[i]!.lines.map((l) => l.message);
  try {
    await waitFor(() => messages(0).includes('failover peer fo-exp: Both servers normal') && messages(1).includes('failover peer fo-exp: Both servers normal'), 20_000, 'normal');
    // A client the primary serves (load balancing: try MACs until the primary offers).
    let mac = '';
    let offered = 0;
    for (let n = 1; n < 64 && mac === ''; n++) {
      const m = `52:54:00:00:0e:${n.toString(16).padStart(2, '0')}`;
      const before = pt.sent.length;
      pt.deliver(encodePacket(request(DHCPDISCOVER, m)));
      await P.idle();
      const reply = pt.sent[before] ? decodePacket(pt.sent[before]!.data) : undefined;
      if (reply?.ok && messageType(reply.packet) === DHCPOFFER) {
        mac = m;
        offered = reply.packet.yiaddr;
      }
    }
    assert.ok(mac !== '', 'the primary offered to one of the clients');
    const before = pt.sent.length;
    pt.deliver(encodePacket(request(DHCPREQUEST, mac, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(offered)], [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))]] })));
    await P.idle();
    const ack = decodePacket(pt.sent[before]!.data);
    assert.ok(ack.ok && messageType(ack.packet) === DHCPACK);
    const address = ack.packet.yiaddr;
    const fromAck = [messages(0).length, messages(1).length];
    const dotted = ipv4ToString(address);
    assert.match(stores[0]!.getByAddress(address)!.on.expiry ?? '', /on expiry/);
    // The partner learns the binding.
    await waitFor(() => stores[1]!.getByAddress(address)?.bindingState === 'active', 5000, 'the secondary has the active binding');
    assert.ok(!messages(0).some((m) => m.startsWith('on expiry')), 'nothing expired yet');

    // The lease runs out: expired + BNDUPD, the ack returns it to free, and `on expiry` runs then, once.
    await waitFor(() => messages(0).includes(`on expiry ${dotted}`), 10_000, '`on expiry` on the primary');
    await waitFor(() => stores[0]!.getByAddress(address)?.bindingState === 'free', 5000, 'the primary lease free after the ack');
    await waitFor(() => stores[1]!.getByAddress(address)?.bindingState === 'free', 5000, 'the secondary lease free');
    const pl = stores[0]!.getByAddress(address)!;
    assert.deepEqual(pl.scope.get('gone'), { kind: 'data', value: Buffer.from('expired') });
    assert.equal(pl.on.expiry, undefined, 'the statements ran and were dropped');
    assert.ok((pl.tsfp ?? 0) >= (pl.ends ?? 0) && (pl.ends ?? 0) > 0, `the partner acknowledged the expiry (tsfp ${pl.tsfp}, ends ${pl.ends})`);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(messages(0).filter((m) => m.startsWith('on expiry')).length, 1, 'on expiry ran more than once');
    assert.equal(messages(1).filter((m) => m.startsWith('on expiry')).length, 0, 'the secondary had no statements for it');
    for (const i of [0, 1]) {
      const later = messages(i).slice(fromAck[i]);
      assert.ok(!later.some((m) => /rejected|xid mismatch|no such lease/.test(m)), later.join('\n'));
    }
  } finally {
    await P.stop();
    await S.stop();
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
