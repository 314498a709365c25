import type { UpstreamTarget } from '../upstream-target.js';

/** What a balancer may key on (a request context is one): the upstream knows nothing else of the request. */
export interface BalanceKey {
  readonly headers: { get(name: string): string | undefined };
  readonly clientAddress: string;
}

/**
 * Picks one target for a request among those `usable` accepts (available now
 * and not already tried by this request), or null when none is.
 */
export interface Balancer {
  pick(ctx: BalanceKey | null, usable: (t: UpstreamTarget) => boolean): UpstreamTarget | null;
}
