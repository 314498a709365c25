/**
 * Two counts (e.g. requests and failures) over a sliding window, kept in ten
 * buckets that are cleared lazily as time moves on: fixed memory, O(1) per
 * event, no timer.
 */
const BUCKETS = 10;

export class WindowCounter {
  private readonly a = new Float64Array(BUCKETS);
  private readonly b = new Float64Array(BUCKETS);
  private readonly bucketMs: number;
  /** Index of the bucket that `current` started, in bucket units since time 0. */
  private epoch = 0;

  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  add(now: number, a: number, b: number): void {
    const i = this.advance(now);
    this.a[i] += a;
    this.b[i] += b;
  }

  /** Sums over the window: [a, b]. */
  totals(now: number): [number, number] {
    this.advance(now);
    let a = 0;
    let b = 0;
    for (let i = 0; i < BUCKETS; i++) {
      a += this.a[i];
      b += this.b[i];
    }
    return [a, b];
  }

  reset(): void {
    this.a.fill(0);
    this.b.fill(0);
  }

  /** Clears the buckets that slid out of the window; returns the current one. */
  private advance(now: number): number {
    const epoch = Math.floor(now / this.bucketMs);
    const gap = epoch - this.epoch;
    if (gap > 0) {
      if (gap >= BUCKETS) this.reset();
      else for (let e = this.epoch + 1; e <= epoch; e++) this.a[e % BUCKETS] = this.b[e % BUCKETS] = 0;
      this.epoch = epoch;
    }
    return epoch % BUCKETS;
  }
}
