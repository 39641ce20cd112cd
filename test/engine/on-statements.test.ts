/**
 * `on release` and `on expiry` (dhcp-eval(5)) as ISC runs them: the statements in effect at commit are
 * stored with the lease (as text, like dhcpd.leases), run at DHCPRELEASE and at expiry (the server's
 * expiry pass, fake clock), their `log` lines logged and their `set`s kept in the lease's scope. Real
 * config file, real SQLite store, the server with a fake transport.
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
import { DHCPACK, DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST, DhcpOption, ipv4ToString, messageType } from '../../src/wire/packet.js';
import { onBodyText, compileOnText, primeOnStatementSources } from '../../src/engine/on-statements.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { ETH0, FakeClock, ip, request, u32 } from './fixtures.js';

const CONF = `authoritative;
subnet 192.168.102.0 netmask 255.255.255.0 {
  pool {
    range 192.168.102.110 192.168.102.120;
    default-lease-time 60;
    max-lease-time 60;
    on release {
      log (info, concat ("on release ", binary-to-ascii (10, 8, ".", leased-address)));
      set gone = "released";
    }
    on expiry {
      log (info, concat ("on expiry ", binary-to-ascii (10, 8, ".", leased-address)));
      set gone = "expired";
    }
  }
}
`;

test('on release / on expiry: stored at commit, run at release and at expiry, logged, sets kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'on-stmts-'));
  const confFile = join(dir, 'dhcpd.conf');
  writeFileSync(confFile, CONF);
  const loaded = loadConfig(confFile);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  const store = openSqliteLeaseStore(join(dir, 'leases.sqlite'));
  const transport = new FakeTransport({ interfaces: [ETH0] });
  const logger = createMemoryLogger();
  const clock = new FakeClock();
  const server = await startDhcpServer({
    config: loaded.config,
    logger,
    leaseStore: store,
    transport,
    clock,
    pingCheck: { inUse: async () => false },
    expiryIntervalSeconds: 0.05,
  });
  const sid: [number, Buffer] = [DhcpOption.SERVER_IDENTIFIER, u32(ip('192.168.102.100'))];
  const dora = async (mac: string): Promise<number> => {
    const before = transport.sent.length;
    transport.deliver(encodePacket(request(DHCPDISCOVER, mac)));
    await server.idle();
    const offer = decodePacket(transport.sent[before]!.data);
    assert.ok(offer.ok);
    transport.deliver(encodePacket(request(DHCPREQUEST, mac, { options: [[DhcpOption.REQUESTED_ADDRESS, u32(offer.packet.yiaddr)], sid] })));
    await server.idle();
    const ack = decodePacket(transport.sent[before + 1]!.data);
    assert.ok(ack.ok && messageType(ack.packet) === DHCPACK);
    return ack.packet.yiaddr;
  };
  const messages = (): string[] => logger.lines.map((l) => l.message);
  try {
    const a = await dora('52:54:00:00:0a:01');
    const b = await dora('52:54:00:00:0b:01');
    // Stored with the lease, as the text ISC writes in dhcpd.leases.
    const la = store.getByAddress(a)!;
    assert.match(la.on.release ?? '', /^log \(info, concat \("on release "/);
    assert.match(la.on.expiry ?? '', /^log \(info, concat \("on expiry "/);
    assert.match(la.on.expiry ?? '', /set gone = "expired";$/);
    assert.equal(la.on.expiryOrRelease, undefined);

    // DHCPRELEASE of A: `on release` runs (and only it), the lease is free, its set kept, both dropped.
    transport.deliver(encodePacket(request(DHCPRELEASE, '52:54:00:00:0a:01', { ciaddr: ipv4ToString(a), options: [sid] })));
    await server.idle();
    assert.ok(messages().includes(`on release ${ipv4ToString(a)}`), messages().join('\n'));
    assert.ok(!messages().some((m) => m.startsWith('on expiry')));
    const ra = store.getByAddress(a)!;
    assert.equal(ra.bindingState, 'free');
    assert.deepEqual(ra.scope.get('gone'), { kind: 'data', value: Buffer.from('released') });
    assert.equal(ra.on.release, undefined);
    assert.equal(ra.on.expiry, undefined);

    // B's lease runs out (fake clock): the expiry pass runs `on expiry` once, B is free, its set kept.
    clock.advance(61);
    const deadline = Date.now() + 5000;
    while (!messages().includes(`on expiry ${ipv4ToString(b)}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(messages().includes(`on expiry ${ipv4ToString(b)}`), messages().join('\n'));
    const eb = store.getByAddress(b)!;
    assert.equal(eb.bindingState, 'free');
    assert.deepEqual(eb.scope.get('gone'), { kind: 'data', value: Buffer.from('expired') });
    assert.equal(eb.on.expiry, undefined);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(messages().filter((m) => m.startsWith('on expiry')).length, 1, 'on expiry ran more than once');
    assert.ok(!messages().includes(`on expiry ${ipv4ToString(a)}`), 'a released lease must not expire');
  } finally {
    await server.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('statement text helpers: the body of an `on` at a source position; compiled once; bad text is null', () => {
  const dir = mkdtempSync(join(tmpdir(), 'on-text-'));
  try {
    const f = join(dir, 'x.conf');
    writeFileSync(f, 'group {\n  on expiry or release { if (1 = 1) { log (info, "x"); } }\n}\n');
    assert.equal(onBodyText({ file: f, line: 2, column: 3 }), 'if (1 = 1) { log (info, "x"); }');
    assert.equal(onBodyText({ file: f, line: 1, column: 1 }), undefined, 'not an on statement');
    assert.equal(onBodyText({ file: join(dir, 'missing.conf'), line: 1, column: 1 }), undefined);
    const s = compileOnText('log (info, "x");');
    assert.equal(s?.length, 1);
    assert.equal(compileOnText('log (info, "x");'), s, 'cached');
    assert.equal(compileOnText('log (info'), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the text stored is the one of the configuration in use, even when the file is edited without a reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'on-prime-'));
  try {
    const f = join(dir, 'dhcpd.conf');
    writeFileSync(f, CONF);
    const loaded = loadConfig(f);
    assert.ok(loaded.ok);
    primeOnStatementSources(loaded.config);
    writeFileSync(f, CONF.replace('"on release "', '"edited "'));
    const at = CONF.split('\n').findIndex((l) => l.includes('on release {'));
    const text = onBodyText({ file: f, line: at + 1, column: 5 });
    assert.match(text ?? '', /^log \(info, concat \("on release "/);
    // A reload reads the file again.
    primeOnStatementSources(loaded.config);
    assert.match(onBodyText({ file: f, line: at + 1, column: 5 }) ?? '', /^log \(info, concat \("edited "/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
