/**
 * SIGHUP reload with failover (the server's `reload(config)`): a relationship whose `failover peer`
 * declaration is unchanged keeps running untouched (same link, no state change); a changed declaration
 * restarts it (link dropped and re-established, both back in normal, the new parameters in use); a
 * relationship removed from the config stops, one added starts.
 *
 * Two whole servers (startDhcpServer, a fake DHCP transport, real SQLite stores, real config files) whose
 * failover link runs over loopback TCP (127.0.0.1 ↔ 127.0.0.2).
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
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ETH0 } from '../engine/fixtures.js';
import { freePort, waitFor } from '../support/loopback.js';

interface Opts {
  readonly pPort: number;
  readonly sPort: number;
  readonly delay?: number;
  readonly withPeer?: boolean;
}

function conf(role: 'primary' | 'secondary', o: Opts): string {
  const failover = o.withPeer === false;
  const [me, peer, myPort, peerPort] = role === 'primary' ? ['127.0.0.1', '127.0.0.2', o.pPort, o.sPort] : ['127.0.0.2', '127.0.0.1', o.sPort, o.pPort];
  return `authoritative;
default-lease-time 600;
${
  failover
    ? ''
    : `failover peer "fo-hup" {
  ${role};
  address ${me}; port ${myPort};
  peer address ${peer}; peer port ${peerPort};
  max-response-delay ${o.delay ?? 30};
  max-unacked-updates 10;
  load balance max seconds 3;
${role === 'primary' ? '  mclt 60;\n  split 128;\n' : ''}}
`
}subnet 192.168.102.0 netmask 255.255.255.0 {
  pool {
    ${failover ? '' : 'failover peer "fo-hup";'}
    range 192.168.102.110 192.168.102.119;
  }
}
`;
}

test('reload: an unchanged failover peer keeps running; a changed one restarts; removed stops; added starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fo-hup-'));
  const pPort = await freePort('127.0.0.1');
  const sPort = await freePort('127.0.0.2');
  const base: Opts = { pPort, sPort };
  const files = { primary: join(dir, 'p.conf'), secondary: join(dir, 's.conf') };
  const load = (role: 'primary' | 'secondary', o: Opts) => {
    writeFileSync(files[role], conf(role, o));
    const r = loadConfig(files[role]);
    assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.errors));
    return r.config;
  };
  const stores = [openSqliteLeaseStore(join(dir, 'p.sqlite')), openSqliteLeaseStore(join(dir, 's.sqlite'))];
  const pLog = createMemoryLogger();
  const sLog = createMemoryLogger();
  const start = (role: 'primary' | 'secondary', i: number, logger: typeof pLog) =>
    startDhcpServer({ config: load(role, base), logger, leaseStore: stores[i]!, transport: new FakeTransport({ interfaces: [ETH0] }), pingCheck: { inUse: async () => false } });
  const P = await start('primary', 0, pLog);
  const S = await start('secondary', 1, sLog);
  const lines = (l: typeof pLog): string[] => l.lines.map((x) => x.message);
  const count = (l: typeof pLog, s: string): number => lines(l).filter((m) => m === s).length;
  try {
    await waitFor(() => count(pLog, 'failover peer fo-hup: Both servers normal') === 1 && count(sLog, 'failover peer fo-hup: Both servers normal') === 1, 20_000, 'normal');

    // 1. Unchanged declaration (another statement changed): nothing happens to the relationship.
    const before = { p: lines(pLog).length, s: lines(sLog).length };
    writeFileSync(files.primary, conf('primary', base).replace('default-lease-time 600;', 'default-lease-time 900;'));
    const same = loadConfig(files.primary);
    assert.ok(same.ok);
    await P.reload(same.config);
    await new Promise((r) => setTimeout(r, 500));
    const after = { p: lines(pLog).slice(before.p), s: lines(sLog).slice(before.s) };
    for (const m of [...after.p, ...after.s]) assert.doesNotMatch(m, /move from|disconnected|restarting|CONNECT/, `unchanged peer was touched:\n${[...after.p, ...after.s].join('\n')}`);

    // 2. Changed declaration (max-response-delay): the relationship restarts and the pair is normal again.
    await P.reload(load('primary', { ...base, delay: 45 }));
    assert.ok(lines(pLog).includes('failover peer fo-hup: declaration changed, restarting the relationship'));
    await waitFor(() => count(sLog, 'peer fo-hup: disconnected') >= 1, 10_000, 'the secondary sees the old link go');
    await waitFor(() => count(pLog, 'failover peer fo-hup: Both servers normal') >= 2 && count(sLog, 'failover peer fo-hup: Both servers normal') >= 2, 30_000, 'normal again after the restart');

    // 3. Removed: the relationship stops (the partner loses the link); 4. added back: it starts again.
    await P.reload(load('primary', { ...base, withPeer: false }));
    assert.ok(lines(pLog).includes('failover peer fo-hup: removed from the configuration, stopped'));
    await waitFor(() => count(sLog, 'peer fo-hup: disconnected') >= 2, 10_000, 'the secondary sees the link go');
    await P.reload(load('primary', base));
    await waitFor(() => count(pLog, 'failover peer fo-hup: Both servers normal') >= 3 && count(sLog, 'failover peer fo-hup: Both servers normal') >= 3, 30_000, 'normal after the relationship came back');
  } finally {
    await P.stop();
    await S.stop();
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
