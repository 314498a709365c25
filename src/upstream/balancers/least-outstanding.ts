import type { UpstreamTarget } from '../upstream-target.js';
import type { Balancer } from './balancer.js';

/**
 * Power of two random choices: two distinct usable targets at random, the one
 * with fewer requests in flight per unit of weight wins. Close to "least
 * loaded" without scanning for the minimum or herding every process onto the
 * same target.
 */
export class LeastOutstanding implements Balancer {
  /** Indices of usable targets; reused, filled per pick (bounded by the target count). */
  private readonly scratch: Int32Array;

  constructor(private readonly targets: readonly UpstreamTarget[]) {
    this.scratch = new Int32Array(targets.length);
  }

  pick(_ctx: unknown, usable: (t: UpstreamTarget) => boolean): UpstreamTarget | null {
    const targets = this.targets;
    let n = 0;
    for (let i = 0; i < targets.length; i++) if (usable(targets[i])) this.scratch[n++] = i;
    if (n === 0) return null;
    if (n === 1) return targets[this.scratch[0]];
    const i = Math.floor(Math.random() * n);
    let j = Math.floor(Math.random() * (n - 1));
    if (j >= i) j++;
    const a = targets[this.scratch[i]];
    const b = targets[this.scratch[j]];
    // Compare (inFlight + 1) / weight without dividing.
    return (a.inFlight + 1) * b.weight <= (b.inFlight + 1) * a.weight ? a : b;
  }
}
