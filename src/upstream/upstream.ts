import type { UpstreamConfig, TimeoutConfig } from '../config/types.js';
import { TargetPool } from './pool.js';
import { parseTarget } from './target.js';

/**
 * A named service: its targets, each with its own connection pool. Targets
 * are taken in turn; health, weights and other balancers are the upstream
 * resilience issue's.
 */
export class Upstream {
  readonly name: string;
  readonly pools: readonly TargetPool[];
  readonly timeouts: TimeoutConfig;
  private next = 0;

  constructor(config: UpstreamConfig) {
    this.name = config.name;
    this.timeouts = config.timeouts;
    this.pools = config.targets.map((t) => new TargetPool(parseTarget(t.url), config.pool, config.timeouts));
  }

  pick(): TargetPool {
    const pools = this.pools;
    if (pools.length === 1) return pools[0];
    const pool = pools[this.next];
    this.next = (this.next + 1) % pools.length;
    return pool;
  }

  retire(): void {
    for (const p of this.pools) p.retire();
  }
}
