/**
 * AddressCover (the "lease A is declared twice!" check of ConfigBuilder.addRange) against the pairwise
 * comparison it replaced, on random ranges: clustered, so that they overlap, touch, nest and repeat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressCover } from '../../src/config/address-cover.js';

/** The pairwise rule: the lowest address of [first, last] in any earlier range. */
function pairwise(earlier: [number, number][], first: number, last: number): number {
  let dup = -1;
  for (const [f, l] of earlier) {
    const lo = Math.max(first, f);
    if (lo <= Math.min(last, l) && (dup < 0 || lo < dup)) dup = lo;
  }
  return dup;
}

test('address cover: the lowest already-declared address of each range, as the pairwise comparison', () => {
  const base = fc.constantFrom(0, 0x0a000000, 0xfffffff0);
  const range = fc.tuple(base, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 12 })).map(([b, off, len]): [number, number] => {
    const first = Math.min(b + off, 0xffffffff);
    return [first, Math.min(first + len, 0xffffffff)];
  });
  let checks = 0;
  fc.assert(
    fc.property(fc.array(range, { minLength: 5, maxLength: 40 }), (ranges) => {
      const cover = new AddressCover();
      const earlier: [number, number][] = [];
      for (const [first, last] of ranges) {
        assert.equal(cover.firstCovered(first, last), pairwise(earlier, first, last), JSON.stringify({ earlier, first, last }));
        cover.add(first, last);
        earlier.push([first, last]);
        checks++;
      }
    }),
    { numRuns: 400, seed: 7 },
  );
  assert.ok(checks > 1500, `only ${checks} ranges checked`);
});

test('address cover: ranges in address order, touching and apart', () => {
  const cover = new AddressCover();
  cover.add(10, 20);
  cover.add(21, 30); // touches: one run
  cover.add(40, 50);
  assert.equal(cover.firstCovered(0, 9), -1);
  assert.equal(cover.firstCovered(0, 10), 10);
  assert.equal(cover.firstCovered(25, 60), 25);
  assert.equal(cover.firstCovered(31, 39), -1);
  assert.equal(cover.firstCovered(31, 45), 40);
  assert.equal(cover.firstCovered(51, 0xffffffff), -1);
  cover.add(5, 45); // swallows both runs
  assert.equal(cover.firstCovered(0, 4), -1);
  assert.equal(cover.firstCovered(0, 5), 5);
  assert.equal(cover.firstCovered(46, 100), 46);
});
