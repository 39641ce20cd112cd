/**
 * The expiry pass's failover rules (src/server/dhcp-server.ts expiryContext, ISC pool_timer as in
 * FAILOVER.md §6.6): which due leases may change now, per relationship state and role.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expiryContext } from '../../src/server/dhcp-server.js';
import type { FailoverPeer } from '../../src/failover/engine.js';
import { emptyLease, type BindingState, type Lease } from '../../leases/lease.js';

const peerIn = (state: string, role: 'primary' | 'secondary', stos = 1000, mclt = 60): ReadonlyMap<string, FailoverPeer> =>
  new Map([['fo', { state, role, mclt, fsm: { stos } } as unknown as FailoverPeer]]);

function lease(state: BindingState, ends: number, tsfp: number | null = null): Lease {
  const l = emptyLease(0x0a000005);
  l.bindingState = state;
  l.ends = ends;
  l.tsfp = tsfp;
  return l;
}

test('no failover: every due lease changes', () => {
  assert.deepEqual(expiryContext(lease('active', 10), undefined, new Map(), 100), { failover: false });
});

test('active leases: not on a secondary in normal; otherwise expire (partner-down adds the reuse time)', () => {
  assert.equal(expiryContext(lease('active', 10), 'fo', peerIn('normal', 'secondary'), 100), null);
  assert.deepEqual(expiryContext(lease('active', 10), 'fo', peerIn('normal', 'primary'), 100), { failover: true });
  assert.deepEqual(expiryContext(lease('active', 10), 'fo', peerIn('communications-interrupted', 'secondary'), 100), { failover: true });
  assert.deepEqual(expiryContext(lease('active', 10), 'fo', peerIn('partner-down', 'secondary', 1000, 60), 100), { failover: true, partnerDownReuseTime: 1060 });
});

test('expired/released/reset: only in partner-down, and only after max(ends, tsfp)', () => {
  for (const st of ['expired', 'released', 'reset'] as const) {
    assert.equal(expiryContext(lease(st, 10), 'fo', peerIn('normal', 'primary'), 100), null, st);
    assert.equal(expiryContext(lease(st, 10), 'fo', peerIn('communications-interrupted', 'primary'), 100), null, st);
    assert.equal(expiryContext(lease(st, 10, 200), 'fo', peerIn('partner-down', 'primary'), 100), null, `${st} before tsfp`);
    assert.deepEqual(expiryContext(lease(st, 10, 90), 'fo', peerIn('partner-down', 'primary', 1000, 60), 100), { failover: true, partnerDownReuseTime: 1060 }, st);
  }
});
