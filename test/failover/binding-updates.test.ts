import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLease } from '../../leases/lease.js';
import {
  applyBndupd,
  balancePool,
  bndupdFields,
  checkTransition,
  incomingWins,
  mayReallocate,
  mcltLeaseTime,
  validateBndupd,
} from '../../src/failover/binding-updates.js';
import { decodeMessage, encodeFields } from '../../src/failover/codec.js';
import { FTM } from '../../src/failover/messages.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';
import type { FailoverLease } from '../../src/failover/ports.js';

const ip = (s: string): number => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

test('MCLT rule: FAILOVER.md §6.4 worked example (run2, default-lease-time 7200, mclt 1800)', () => {
  const t0 = 1795926924;
  const first = mcltLeaseTime(7200, 0, 1800, t0, true);
  assert.deepEqual(first, { leaseTime: 1800, tstp: 1795935024 }); // the BNDUPD of §11.8
  assert.deepEqual(mcltLeaseTime(7200, 0, 1800, t0, false), { leaseTime: 1800 }); // OFFER: no tstp
  // After the BNDACK, tsfp = 1795935024; the INIT-REBOOT 7 s later gets the full 7200.
  const again = mcltLeaseTime(7200, 1795935024, 1800, t0 + 7, true);
  assert.deepEqual(again, { leaseTime: 7200, tstp: t0 + 7 + 7200 + 3600 });
  // Partially acknowledged: at most tsfp + MCLT - now.
  assert.equal(mcltLeaseTime(7200, t0 + 100, 1800, t0, true).leaseTime, 1900);
  // Short leases are never capped.
  assert.equal(mcltLeaseTime(600, 0, 1800, t0, true).leaseTime, 600);
});

test('BNDUPD fields for the §11.8 lease reproduce ISC bytes exactly', () => {
  const l = emptyLease(ip('10.77.0.110'));
  Object.assign(l, {
    bindingState: 'active',
    starts: 1795926924,
    ends: 1795928724,
    tstp: 1795935024,
    cltt: 1795926924,
    hardware: { htype: 1, address: Buffer.from('020000770050', 'hex') },
  });
  const hex = encodeFields(FTM.BNDUPD, 1795926924, 0x25, bndupdFields(l)).toString('hex');
  assert.equal(
    hex,
    '0044030c6b0bab8c00000025000200040a4d006e00030001020005000701020000770050000d00046b0bb294001200046b0bcb30001900046b0bab8c000600046b0bab8c',
  );
});

test('received BNDUPD: validation rejects and ISC storage rules (§6.3)', () => {
  assert.equal(validateBndupd({ bindingStatus: 2 })?.reason, 3);
  assert.equal(validateBndupd({ assignedIpAddress: 1, bindingStatus: 2 })?.message, 'BNDUPD without CHADDR');
  assert.equal(validateBndupd({ assignedIpAddress: 1, bindingStatus: 5, chaddr: Buffer.from([1, 2]) })?.message, 'BNDUPD to ABANDONED with a CHADDR');
  assert.equal(validateBndupd({ assignedIpAddress: 1, bindingStatus: 2, chaddr: Buffer.alloc(18) })?.message, 'chaddr too long');
  // ISC's BNDUPD with client-identifier (§11.10) applied to a free lease.
  const r = decodeMessage(
    Buffer.from(
      '004f030c6b0bab9f0000001c000200040a4d006c000300010200040007010200007700510005000701020000770051000d00046b0bb2a7001200046b0bcb43001900046b0bab9f000600046b0bab9f',
      'hex',
    ),
  );
  assert.ok(r.ok);
  const l = emptyLease(ip('10.77.0.108'));
  assert.equal(validateBndupd(r.message.fields), undefined);
  assert.equal(checkTransition(l, 'active', r.message.fields, 'primary', true, 1795926943), undefined);
  applyBndupd(l, 'active', r.message.fields);
  assert.equal(l.bindingState, 'active');
  assert.equal(l.ends, 1795928743);
  assert.equal(l.tsfp, 1795935043);
  assert.equal(l.atsfp, 1795935043);
  assert.equal(l.starts, 1795926943);
  assert.equal(l.cltt, 0, 'cltt is not copied');
  assert.equal(l.uid?.toString('hex'), '01020000770051');
  assert.equal(l.hardware?.address.toString('hex'), '020000770051');
  // released is stored as free (§6.1)
  applyBndupd(l, 'released', { chaddr: Buffer.from('01020000770051', 'hex'), potentialExpirationTime: 5 });
  assert.equal(l.bindingState, 'free');
});

test('transition table: active lease on the primary accepts only released/abandoned in normal', () => {
  const l = emptyLease(1);
  Object.assign(l, { bindingState: 'active', ends: 1000 });
  const f = { potentialExpirationTime: 0 };
  assert.equal(checkTransition(l, 'released', f, 'primary', true, 500), undefined);
  assert.equal(checkTransition(l, 'free', f, 'primary', true, 500)?.message, '0.0.0.1: invalid state transition: active to free');
  assert.equal(checkTransition(l, 'free', f, 'secondary', true, 500), undefined, 'secondary: potential expiry <= now');
  assert.equal(checkTransition(l, 'expired', f, 'secondary', true, 900)?.reason, 2);
  assert.equal(checkTransition(l, 'expired', f, 'secondary', true, 935), undefined, 'ends - 65 <= now');
  assert.equal(checkTransition(l, 'backup', f, 'primary', false, 500)?.reason, 2, 'not normal: active → free/backup rejected');
});

test('duelling updates: higher cltt wins, ties go to the primary (§6.7)', () => {
  const l = emptyLease(1);
  Object.assign(l, { bindingState: 'active', cltt: 100 });
  assert.equal(incomingWins(l, 'active', 100, 'primary'), false);
  assert.equal(incomingWins(l, 'active', 100, 'secondary'), true);
  assert.equal(incomingWins(l, 'active', 101, 'primary'), true);
  assert.equal(incomingWins(l, 'expired', 0, 'primary'), true);
  const f = emptyLease(2);
  assert.equal(incomingWins(f, 'free', 0, 'primary'), false);
  assert.equal(incomingWins(f, 'active', 0, 'primary'), true);
});

test('lease_mine_to_reallocate (§6.2)', () => {
  const now = 10_000;
  const ctx = (role: 'primary' | 'secondary', partnerDown: boolean, stos = 5000) => ({ role, partnerDown, stos, mclt: 1800, now });
  const free = emptyLease(1);
  const backup = { ...emptyLease(2), bindingState: 'backup' as const };
  assert.equal(mayReallocate(free, ctx('primary', false)), true);
  assert.equal(mayReallocate(free, ctx('secondary', false)), false);
  assert.equal(mayReallocate(backup, ctx('secondary', false)), true);
  assert.equal(mayReallocate(backup, ctx('primary', false)), false);
  assert.equal(mayReallocate(backup, ctx('primary', true, 5000)), true, 'PD since stos 5000, + MCLT < now');
  assert.equal(mayReallocate(backup, ctx('primary', true, 9000)), false, 'PD but MCLT not yet passed');
  const released = { ...emptyLease(3), bindingState: 'released' as const, rewindBindingState: 'active' as const, tsfp: 20_000 };
  assert.equal(mayReallocate(released, ctx('primary', false)), false);
  assert.equal(mayReallocate(released, ctx('primary', true)), false, 'tsfp not yet passed');
  assert.equal(mayReallocate({ ...released, rewindBindingState: 'free' }, ctx('primary', false)), true, 'never reported to the peer');
  assert.equal(mayReallocate({ ...emptyLease(4), bindingState: 'active' }, ctx('primary', true)), false);
});

test('pool balance at first start: primary gives 10 of 20 never-used leases, oldest first (§8)', () => {
  const leases: FailoverLease[] = [];
  for (let a = ip('10.77.0.100'); a <= ip('10.77.0.119'); a++) leases.push(emptyLease(a));
  const r = balancePool(leases, { role: 'primary', hba: hbaFromSplit(128), maxLeaseMisbalance: 15, maxLeaseOwnership: 10 });
  assert.deepEqual([r.total, r.free, r.backup, r.lts, r.hold, r.thresh, r.ltsAfter], [20, 20, 0, 10, 2, 3, 0]);
  assert.deepEqual(
    r.give.map((l) => l.address - ip('10.77.0.100')),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  const s = balancePool(leases, { role: 'secondary', hba: hbaFromSplit(128), maxLeaseMisbalance: 15, maxLeaseOwnership: 10 });
  assert.equal(s.lts, -10);
  assert.equal(s.give.length, 0);
});
