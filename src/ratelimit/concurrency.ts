import { Errors } from '../errors.js';
import type { Principal } from '../identity/types.js';
import type { RequestContext, Stage, StageContext, StageFactory, StageResult } from '../pipeline/stage.js';

interface ConcurrencyOptions {
  /** Requests in flight at once, for the whole gateway (each process takes its share). */
  max: number;
  /** What is counted: this route, its upstream (shared by the routes using it), or each consumer. */
  per: 'route' | 'upstream' | 'consumer';
  retryAfterSec: number;
}

/**
 * In-flight counts of this process. An entry exists only while requests are
 * in flight, so the map is bounded by the requests in flight, not by the keys
 * ever seen.
 */
const inFlight = new Map<string, number>();
const STATE_KEY = 'concurrency';

class ConcurrencyStage implements Stage {
  readonly name = 'concurrency';
  private readonly share: number;

  constructor(
    private readonly o: ConcurrencyOptions,
    processes: number,
  ) {
    // Processes do not coordinate in-flight counts: each takes an equal share.
    this.share = Math.max(1, Math.ceil(o.max / processes));
  }

  private keyOf(ctx: RequestContext): string {
    switch (this.o.per) {
      case 'upstream':
        return `u:${ctx.route.config.upstream}`;
      case 'consumer': {
        const p = ctx.state.identity as Principal | undefined;
        return `c:${ctx.route.name}:${p?.consumer ?? p?.subject ?? ctx.clientAddress}`;
      }
      default:
        return `r:${ctx.route.name}`;
    }
  }

  onRequest(ctx: RequestContext): StageResult {
    const key = this.keyOf(ctx);
    const n = inFlight.get(key) ?? 0;
    if (n >= this.share) {
      return {
        error: Errors.CONCURRENCY_LIMITED,
        reason: `${n} requests in flight for ${key} (share ${this.share} of ${this.o.max})`,
        headers: [['retry-after', String(this.o.retryAfterSec)]],
      };
    }
    inFlight.set(key, n + 1);
    ctx.state[STATE_KEY] = key;
    return undefined;
  }

  onDone(ctx: RequestContext): void {
    const key = ctx.state[STATE_KEY] as string | undefined;
    if (key === undefined) return; // refused earlier in the chain, or by this stage
    const n = (inFlight.get(key) ?? 1) - 1;
    if (n <= 0) inFlight.delete(key);
    else inFlight.set(key, n);
  }
}

/** At most N requests in flight per route, upstream or consumer: a slow service is not buried. */
export const concurrencyStage: StageFactory = {
  type: 'concurrency',
  schema: {
    description: 'Caps the requests in flight at once, so a slow upstream is not buried; a request over the cap is answered 503 with `Retry-After` at once, never queued.',
    type: 'object',
    additionalProperties: false,
    required: ['type', 'max'],
    properties: {
      type: { const: 'concurrency', description: 'Selects the concurrency stage.' },
      max: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Requests in flight at once for the whole gateway; each gateway process takes an equal share (rounded up).' },
      per: { enum: ['route', 'upstream', 'consumer'], default: 'route', description: 'What is counted: this route, its upstream (shared by the routes with this stage that use it), or each consumer on this route (the client address when anonymous).' },
      retryAfterSec: { type: 'integer', minimum: 1, maximum: 3600, default: 1, description: 'Seconds sent in `Retry-After` with a refusal.' },
    },
  },
  compile(options, context: StageContext): Stage {
    return new ConcurrencyStage(options as unknown as ConcurrencyOptions, context.processes);
  },
};
