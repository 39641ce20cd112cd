/**
 * ISC ping-check through the addon's raw ICMP socket, in namespaces: an address that a host on the LAN
 * answers for is "in-use" (well before the timeout); an unused address is "free" after ping-timeout.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLan, integrationSkipReason, type Lan } from '../support/netns.js';
import { TransportAgent } from '../net/fixtures/agent-handle.js';

const skip = integrationSkipReason();
let lan: Lan;
let agent: TransportAgent;

before(async () => {
  if (skip) return;
  lan = await createLan('nt-ping', [
    { name: 'srv', address: '10.244.0.1/24' },
    { name: 'live', address: '10.244.0.2/24' },
  ]);
  agent = await TransportAgent.start(lan.topology, lan.host('srv').ns, { interfaces: ['eth0'] });
});

after(async () => {
  if (skip) return;
  await agent?.stop();
  await lan?.destroy();
});

async function ping(address: string, timeoutMs: number): Promise<{ result: string; elapsedMs: number }> {
  const r = await agent.request({ cmd: 'ping', address, timeoutMs }, timeoutMs + 5000);
  assert.ok(r.ok, r.error);
  return r.value as { result: string; elapsedMs: number };
}

test('a live address is in use', { skip, timeout: 10_000 }, async () => {
  const r = await ping('10.244.0.2', 1000);
  assert.equal(r.result, 'in-use');
  assert.ok(r.elapsedMs < 900, `answered in ${r.elapsedMs} ms`);
});

test('an unused address is free after the timeout', { skip, timeout: 10_000 }, async () => {
  const r = await ping('10.244.0.77', 1000);
  assert.equal(r.result, 'free');
  assert.ok(r.elapsedMs >= 990 && r.elapsedMs < 2500, `took ${r.elapsedMs} ms`);
});

test('concurrent checks are told apart by address', { skip, timeout: 10_000 }, async () => {
  const [a, b] = await Promise.all([ping('10.244.0.2', 700), ping('10.244.0.78', 700)]);
  assert.equal(a.result, 'in-use');
  assert.equal(b.result, 'free');
});

test('an address that cannot be routed is an error, not a crash', { skip, timeout: 10_000 }, async () => {
  const r = await agent.request({ cmd: 'ping', address: '192.0.2.1', timeoutMs: 300 });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'ENETUNREACH');
});
