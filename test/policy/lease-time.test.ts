import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capLeaseTimeByMclt, chooseLeaseTime } from '../../src/policy/lease-time.js';

test('defaults: 43200 default, 86400 max, 300 min', () => {
  assert.equal(chooseLeaseTime({}, undefined), 43200);
  assert.equal(chooseLeaseTime({}, 100000), 86400);
  assert.equal(chooseLeaseTime({}, 60), 300);
});

test('seed pool: default 3600, max 86400; the client may ask for less or more', () => {
  const s = { defaultLeaseTime: 3600, maxLeaseTime: 86400 };
  assert.equal(chooseLeaseTime(s, undefined), 3600);
  assert.equal(chooseLeaseTime(s, 7200), 7200);
  assert.equal(chooseLeaseTime(s, 0xffffffff), 86400);
});

test('min-lease-time above the request wins; min 0 lets a requested 0 through (ISC quirk); default min capped by max', () => {
  assert.equal(chooseLeaseTime({ minLeaseTime: 1000 }, 500), 1000);
  assert.equal(chooseLeaseTime({ minLeaseTime: 0, defaultLeaseTime: 600 }, 0), 0);
  assert.equal(chooseLeaseTime({ minLeaseTime: 0, defaultLeaseTime: 600 }, undefined), 600);
  assert.equal(chooseLeaseTime({ maxLeaseTime: 120, defaultLeaseTime: 60 }, undefined), 120);
});

test('MCLT: first binding gets MCLT (seed step 4), then up to tsfp+MCLT (seed step 5)', () => {
  const first = capLeaseTimeByMclt({ desired: 3600, mclt: 1800, tsfp: 0, now: 1000, isAck: true });
  assert.equal(first.leaseTime, 1800);
  assert.equal(first.tstp, 1000 + 3600 + 900);
  // The peer acked tstp; at T1 (900 s later) desired 3600 fits into tsfp + MCLT.
  const renew = capLeaseTimeByMclt({ desired: 3600, mclt: 1800, tsfp: first.tstp!, now: 1900, isAck: true });
  assert.equal(renew.leaseTime, 3600);
  assert.equal(capLeaseTimeByMclt({ desired: 600, mclt: 1800, tsfp: 0, now: 0, isAck: false }).leaseTime, 600);
});
