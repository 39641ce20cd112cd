/**
 * The addresses covered by the ranges declared so far, as sorted disjoint runs, for ISC's "lease A is
 * declared twice!" check (mdb.c new_address_range: one global lease table). Comparing each new range with
 * every earlier one was quadratic: 125,000 comparisons for 500 ranges, in cold code.
 */
export class AddressCover {
  /** Run k is [starts[k], ends[k]]; runs are disjoint, not adjacent, in address order. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Index of the first run that ends at or after `a` (the run count when none). */
  private firstEndingFrom(a: number): number {
    const ends = this.ends;
    let lo = 0;
    let hi = ends.length;
    // Ranges come in address order in most files: the last run answers at once.
    if (hi > 0 && ends[hi - 1]! < a) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < a) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The lowest address of [first, last] already covered, or -1. */
  firstCovered(first: number, last: number): number {
    const k = this.firstEndingFrom(first);
    if (k === this.starts.length || this.starts[k]! > last) return -1;
    return Math.max(first, this.starts[k]!);
  }

  /** Covers [first, last] (first <= last, unsigned 32-bit numbers). */
  add(first: number, last: number): void {
    // Runs that overlap or touch [first, last] merge with it.
    const lo = this.firstEndingFrom(first - 1);
    let hi = lo;
    while (hi < this.starts.length && this.starts[hi]! <= last + 1) hi++;
    const start = lo < hi ? Math.min(first, this.starts[lo]!) : first;
    const end = lo < hi ? Math.max(last, this.ends[hi - 1]!) : last;
    if (lo === this.starts.length) {
      this.starts.push(start);
      this.ends.push(end);
    } else {
      this.starts.splice(lo, hi - lo, start);
      this.ends.splice(lo, hi - lo, end);
    }
  }
}
