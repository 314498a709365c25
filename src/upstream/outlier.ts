import type { OutlierConfig } from './types.js';

/**
 * Passive health of one target: consecutive 5xx answers or connect failures
 * eject it for a time that doubles with each ejection in a row (capped), and
 * falls back to the base once it stayed in for maxEjectionMs. The cap on the
 * share of ejected targets is the upstream's (it sees them all).
 */
export class OutlierDetector {
  private consecutive5xx = 0;
  private consecutiveConnect = 0;
  private level = 0;
  private ejectedUntil = 0;
  private lastReturn = 0;
  ejected = false;

  constructor(private readonly config: OutlierConfig) {}

  /** Whether the target is ejected now; lifts an ejection whose time is up. */
  isEjected(now: number): boolean {
    if (this.ejected && now >= this.ejectedUntil) this.restore(now);
    return this.ejected;
  }

  /** Records an outcome; returns true when the target should now be ejected (the caller checks the cap). */
  onResult(status: number, connectFailed: boolean): boolean {
    if (connectFailed) {
      this.consecutiveConnect++;
      const n = this.config.consecutiveConnectFailures;
      return n > 0 && this.consecutiveConnect >= n;
    }
    this.consecutiveConnect = 0;
    if (status >= 500) {
      this.consecutive5xx++;
      const n = this.config.consecutive5xx;
      return n > 0 && this.consecutive5xx >= n;
    }
    this.consecutive5xx = 0;
    return false;
  }

  /** Ejects; returns the ejection time in ms. */
  eject(now: number): number {
    if (this.level > 0 && now - this.lastReturn >= this.config.maxEjectionMs) this.level = 0;
    this.level = Math.min(this.level + 1, 30);
    const ms = Math.min(this.config.baseEjectionMs * 2 ** (this.level - 1), Math.max(this.config.baseEjectionMs, this.config.maxEjectionMs));
    this.ejected = true;
    this.ejectedUntil = now + ms;
    return ms;
  }

  /** Back in rotation (time up, or an active check passed). */
  restore(now: number): void {
    this.ejected = false;
    this.lastReturn = now;
    this.consecutive5xx = 0;
    this.consecutiveConnect = 0;
  }
}
