/**
 * The overload policy (src/engine/load-shedding.ts) as a pure function: stale requests shed, arrival order
 * kept when the turn is not backlogged, REQUESTs and the newest first when it is; and the option-53 peek on
 * real encoded packets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { peekMessageType, planTurn, RequestQueue } from '../../src/engine/load-shedding.js';
import { encodePacket } from '../../src/wire/encode.js';
import { DHCPDISCOVER, DHCPINFORM, DHCPREQUEST, DhcpOption } from '../../src/wire/packet.js';
import { request } from './fixtures.js';

const D = DHCPDISCOVER;
const R = DHCPREQUEST;
const q = (id: number, receivedAt: number, messageType: number) => ({ id, receivedAt, messageType });
const ids = (l: readonly { id: number }[]) => l.map((x) => x.id);

test('under the budget: everything fresh runs in arrival order, the stale are shed', () => {
  const now = 100_000;
  const queue = [q(1, now - 1500, D), q(2, now - 900, R), q(3, now - 10, D), q(4, now - 1001, R), q(5, now, DHCPINFORM)];
  const p = planTurn(queue, now, { maxAgeMs: 1000, turnBudget: 10, reorderAfterMs: 100 });
  assert.deepEqual(ids(p.run), [2, 3, 5]);
  assert.deepEqual(ids(p.stale), [1, 4]);
  assert.deepEqual(ids(p.later), []);
});

test('a young burst larger than the budget is served oldest first, in arrival order', () => {
  const now = 70_000;
  const queue = [q(1, now - 50, D), q(2, now - 40, D), q(3, now - 30, R), q(4, now - 20, D), q(5, now - 10, R)];
  const p = planTurn(queue, now, { maxAgeMs: 1000, turnBudget: 3, reorderAfterMs: 100 });
  assert.deepEqual(ids(p.run), [1, 2, 3]);
  assert.deepEqual(ids(p.later), [4, 5]);
});

test('the queue sheds what aged while it waited and keeps serving the newest first', () => {
  const rq = new RequestQueue<ReturnType<typeof q>>({ maxAgeMs: 1000, turnBudget: 2, reorderAfterMs: 100 });
  for (let i = 0; i < 6; i++) rq.push(q(i, 10_000 + i * 100, D));
  rq.push(q(6, 10_550, R));
  let t = rq.takeTurn(10_600);
  assert.deepEqual(ids(t.run), [5, 6]);
  assert.deepEqual(ids(t.stale), []);
  assert.equal(rq.length, 5);
  t = rq.takeTurn(11_250); // 0, 1 and 2 waited longer than 1 s
  assert.deepEqual(ids(t.stale), [0, 1, 2]);
  assert.deepEqual(ids(t.run), [3, 4]);
  assert.equal(rq.length, 0);
  for (let i = 0; i < 3000; i++) rq.push(q(100 + i, 20_000, i % 3 === 0 ? R : D));
  let served = 0;
  while (rq.length > 0) served += rq.takeTurn(20_500).run.length;
  assert.equal(served, 3000);
});

test('backlogged: REQUESTs first, then others, then DISCOVERs, newest first; run and later keep arrival order', () => {
  const now = 50_000;
  const queue = [
    q(1, now - 500, D),
    q(2, now - 400, R),
    q(3, now - 300, D),
    q(4, now - 200, DHCPINFORM),
    q(5, now - 100, D),
    q(6, now - 50, R),
    q(7, now - 10, D),
  ];
  const p = planTurn(queue, now, { maxAgeMs: 1000, turnBudget: 4, reorderAfterMs: 100 });
  // REQUESTs 2 and 6, the INFORM 4, then the newest DISCOVER 7.
  assert.deepEqual(ids(p.run), [2, 4, 6, 7]);
  assert.deepEqual(ids(p.later), [1, 3, 5]);
  assert.deepEqual(ids(p.stale), []);
});

test('property (arrivals in time order): a partition of the queue; the stale are exactly the old ones; budget respected; no fresher DISCOVER waits while an older one runs', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ age: fc.integer({ min: 0, max: 3000 }), type: fc.constantFrom(0, D, R, DHCPINFORM, 7) }), { maxLength: 80 }),
      fc.integer({ min: 1, max: 40 }),
      (items, budget) => {
        const now = 1_000_000;
        // Arrival order is receive-time order (one socket's kernel stamps ascend).
        const ages = items.map((it) => it.age).sort((a, b) => b - a);
        const queue = items.map((it, i) => q(i, now - ages[i]!, it.type));
        const p = planTurn(queue, now, { maxAgeMs: 1000, turnBudget: budget, reorderAfterMs: 100 });
        const all = [...ids(p.run), ...ids(p.stale), ...ids(p.later)].sort((a, b) => a - b);
        assert.deepEqual(all, queue.map((x) => x.id));
        assert.deepEqual(ids(p.stale), ids(queue.filter((x) => x.receivedAt < now - 1000)));
        assert.ok(p.run.length <= Math.max(budget, 0) || p.later.length === 0);
        if (p.later.length > 0) assert.equal(p.run.length, budget);
        for (const list of [p.run, p.later]) for (let i = 1; i < list.length; i++) assert.ok(list[i - 1]!.id < list[i]!.id);
        const fresh = queue.filter((x) => x.receivedAt >= now - 1000);
        if (fresh.length > 0 && fresh[0]!.receivedAt > now - 100) {
          // A young burst: plain arrival order.
          assert.deepEqual(ids(p.run), ids(fresh.slice(0, budget)));
          return;
        }
        const runD = p.run.filter((x) => x.messageType === D);
        for (const w of p.later) {
          if (w.messageType === R) assert.equal(p.run.some((x) => x.messageType !== R), false, 'a REQUEST waits while a non-REQUEST runs');
          if (w.messageType === D) for (const r of runD) assert.ok(r.receivedAt >= w.receivedAt);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('peekMessageType reads option 53 of encoded packets, 0 for BOOTP and garbage', () => {
  assert.equal(peekMessageType(encodePacket(request(DHCPDISCOVER, '52:54:00:00:00:01'))), DHCPDISCOVER);
  const req = request(DHCPREQUEST, '52:54:00:00:00:02', { options: [[DhcpOption.HOST_NAME, Buffer.from('x')]] });
  assert.equal(peekMessageType(encodePacket(req)), DHCPREQUEST);
  const bootp = request(DHCPDISCOVER, '52:54:00:00:00:03');
  bootp.options.delete(DhcpOption.MESSAGE_TYPE);
  assert.equal(peekMessageType(encodePacket(bootp)), 0);
  assert.equal(peekMessageType(Buffer.alloc(100)), 0);
  const truncated = Buffer.from(encodePacket(request(DHCPINFORM, '52:54:00:00:00:04'))).subarray(0, 241);
  assert.equal(peekMessageType(truncated), 0);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => Number.isInteger(peekMessageType(b))));
});
