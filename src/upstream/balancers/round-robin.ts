import type { UpstreamTarget } from '../upstream-target.js';
import type { Balancer } from './balancer.js';

/**
 * Smooth weighted round robin (nginx's): each pick adds every usable target's
 * weight to its score and takes the highest, which then pays the total. Weights
 * 5:1:1 give a a b a c a a, spread out rather than in runs; a target that
 * leaves simply stops scoring.
 */
export class RoundRobin implements Balancer {
  constructor(private readonly targets: readonly UpstreamTarget[]) {}

  pick(_ctx: unknown, usable: (t: UpstreamTarget) => boolean): UpstreamTarget | null {
    const targets = this.targets;
    if (targets.length === 1) return usable(targets[0]) ? targets[0] : null;
    let best: UpstreamTarget | null = null;
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i];
      if (!usable(t)) continue;
      t.current += t.weight;
      total += t.weight;
      if (best === null || t.current > best.current) best = t;
    }
    if (best) best.current -= total;
    return best;
  }
}
