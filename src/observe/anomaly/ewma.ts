/**
 * An exponentially weighted moving average over fixed windows, bias-corrected:
 * it starts as the plain average of the windows seen so far (no slow climb
 * from zero during warm-up), and the weight of a window halves every
 * half-life after it.
 */
export class Ewma {
  private sum = 0;
  private weight = 0;

  /** Folds in one window's value; `keep` is what an older window keeps of its weight (decayFor). */
  add(x: number, keep: number): void {
    this.sum = this.sum * keep + (1 - keep) * x;
    this.weight = this.weight * keep + (1 - keep);
  }

  /** Folds in `n` windows of 0 at once (idle windows of a rate), in O(1). */
  addZeros(n: number, keep: number): void {
    if (n <= 0) return;
    const k = keep ** n;
    this.sum *= k;
    this.weight = this.weight * k + (1 - k);
  }

  /** Whether any window was folded in. */
  get known(): boolean {
    return this.weight > 0;
  }

  get value(): number {
    return this.weight === 0 ? 0 : this.sum / this.weight;
  }
}

/** The weight a window keeps after one more window, for a given half-life. */
export function decayFor(windowMs: number, halfLifeMs: number): number {
  return 2 ** (-windowMs / halfLifeMs);
}
