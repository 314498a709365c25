import type { RequestContext } from '../../pipeline/stage.js';
import type { UpstreamTarget } from '../upstream-target.js';

/**
 * Picks one target for a request among those `usable` accepts (available now
 * and not already tried by this request), or null when none is.
 */
export interface Balancer {
  pick(ctx: RequestContext | null, usable: (t: UpstreamTarget) => boolean): UpstreamTarget | null;
}
