import type { HashOn } from '../types.js';
import { hash32 } from '../hash.js';
import type { UpstreamTarget } from '../upstream-target.js';
import type { Balancer, BalanceKey } from './balancer.js';
import { RoundRobin } from './round-robin.js';
import { cookieValue } from './cookie.js';

/** Ring points, all targets together: memory and build time stay bounded. */
export const MAX_RING_POINTS = 65_536;

/**
 * Consistent hashing on a header, a cookie or the client address: a ring of
 * virtual nodes (points) per target, `virtualNodes × weight` each (scaled down
 * to fit MAX_RING_POINTS). A key goes to the first point clockwise from its
 * hash whose target is usable, so ejecting a target moves only its own keys,
 * and they come back when it does. A request without the key is balanced in
 * turn.
 */
export class HashRing implements Balancer {
  private readonly points: Uint32Array;
  /** Target index per point. */
  private readonly owners: Uint16Array;
  private readonly fallback: RoundRobin;
  private readonly tested: Uint8Array;
  /** Lowercase header name, cookie name, or null for the client address. */
  private readonly header: string | null;
  private readonly cookie: string | null;

  constructor(
    private readonly targets: readonly UpstreamTarget[],
    hashOn: HashOn,
    virtualNodes: number,
  ) {
    this.fallback = new RoundRobin(targets);
    this.tested = new Uint8Array(targets.length);
    this.header = 'header' in hashOn ? hashOn.header.toLowerCase() : null;
    this.cookie = 'cookie' in hashOn ? hashOn.cookie : null;
    const totalWeight = targets.reduce((s, t) => s + t.weight, 0);
    const scale = Math.min(1, MAX_RING_POINTS / (totalWeight * virtualNodes));
    const entries: [number, number][] = [];
    for (const t of targets) {
      const n = Math.max(1, Math.floor(t.weight * virtualNodes * scale));
      for (let v = 0; v < n; v++) entries.push([hash32(`${t.url}#${v}`), t.index]);
    }
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = Uint16Array.from(entries, (e) => e[1]);
  }

  pick(ctx: BalanceKey | null, usable: (t: UpstreamTarget) => boolean): UpstreamTarget | null {
    const key = ctx ? this.keyOf(ctx) : null;
    if (key === null) return this.fallback.pick(ctx, usable);
    return this.lookup(hash32(key), usable);
  }

  /** The first usable target clockwise from `h`; at most one lap of the ring. */
  lookup(h: number, usable: (t: UpstreamTarget) => boolean): UpstreamTarget | null {
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    const n = points.length;
    // Each target is tested once: the walk ends when all were, not after a whole lap.
    const tested = this.tested;
    tested.fill(0);
    let left = this.targets.length;
    for (let k = 0; k < n && left > 0; k++) {
      const owner = this.owners[(lo + k) % n];
      if (tested[owner] === 1) continue;
      tested[owner] = 1;
      left--;
      const t = this.targets[owner];
      if (usable(t)) return t;
    }
    return null;
  }

  private keyOf(ctx: BalanceKey): string | null {
    if (this.header !== null) return ctx.headers.get(this.header) ?? null;
    if (this.cookie !== null) {
      const cookie = ctx.headers.get('cookie');
      return cookie === undefined ? null : cookieValue(cookie, this.cookie);
    }
    return ctx.clientAddress;
  }
}
