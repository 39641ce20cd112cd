/**
 * The start-up JIT warm-up (src/server/warm-up.ts): it runs real DORAs through the engine with the server's
 * configuration, within its bounds, on a private store: no `execute()` runs, the process's executor is
 * restored, and a config with nothing to offer ends it early.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmUp } from '../../src/server/warm-up.js';
import { setStatementExecutor, statementExecutor } from '../../src/policy/execute-hook.js';
import { configFromText } from './config-text.js';
import { FakeClock, ip, ports, request, seedConfig, tempStore, u32 } from './fixtures.js';
import { DhcpEngine } from '../../src/engine/dhcp-engine.js';
import { DHCPDISCOVER, DHCPREQUEST, DhcpOption } from '../../src/wire/packet.js';

const iface = { name: 'eth0', ifindex: 2, addresses: [ip('192.168.102.100')], canUnicastWithoutArp: true };
const common = { iface, clock: new FakeClock(), resolveAddresses: () => undefined, serverPort: 67, clientPort: 68 };

test('warm-up runs bounded DORAs on the seed config and restores the statement executor', async () => {
  const calls: string[] = [];
  const mine = (command: string): void => void calls.push(command);
  setStatementExecutor(mine);
  try {
    const r = await warmUp({ ...common, config: seedConfig(), exchanges: 40, budgetMs: 30_000 });
    assert.equal(r.exchanges, 40);
    assert.equal(statementExecutor(), mine);
    assert.deepEqual(calls, []);
  } finally {
    setStatementExecutor(undefined);
  }
});

test('warm-up runs no execute() of an on-commit statement', async () => {
  const calls: string[] = [];
  setStatementExecutor((c) => void calls.push(c));
  try {
    const config = await configFromText(`
      authoritative;
      ping-check false;
      subnet 192.168.102.0 netmask 255.255.255.0 {
        range 192.168.102.10 192.168.102.200;
        on commit { execute("/bin/false", "warm"); }
      }
    `);
    const r = await warmUp({ ...common, config, exchanges: 16, budgetMs: 30_000 });
    assert.equal(r.exchanges, 16);
    assert.deepEqual(calls, []);
    // control: the same config through a serving engine does run the statement at commit
    const { store, cleanup } = tempStore();
    try {
      const engine = new DhcpEngine({ config, leases: store, ports: ports(new FakeClock()) });
      const turn = (p: ReturnType<typeof request>) => {
        const o = engine.handle({ packet: p, raw: Buffer.alloc(300), iface, sourceAddress: 0, sourcePort: 68 });
        store.commit(engine.takeCommits());
        return o;
      };
      const offer = turn(request(DHCPDISCOVER, '52:54:00:77:00:01')).replies[0]!;
      turn(request(DHCPREQUEST, '52:54:00:77:00:01', { options: [[DhcpOption.REQUESTED_ADDRESS, u32(offer.packet.yiaddr)]] }));
      assert.deepEqual(calls, ['/bin/false']);
    } finally {
      cleanup();
    }
  } finally {
    setStatementExecutor(undefined);
  }
});

test('warm-up stops early when the interface has nothing to offer', async () => {
  const config = await configFromText(`
    authoritative;
    subnet 192.168.102.0 netmask 255.255.255.0 { }
  `);
  const r = await warmUp({ ...common, config, exchanges: 10_000, budgetMs: 30_000 });
  assert.ok(r.exchanges >= 64 && r.exchanges <= 72, `stopped after ${r.exchanges}`);
});
