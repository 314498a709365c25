import type { CircuitBreakerConfig } from './types.js';
import { WindowCounter } from './window.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker for one target. Closed: requests pass and outcomes are
 * counted over a sliding window; once at least minRequests were seen and the
 * failure share reaches failureRatio, it opens. Open: nothing passes for
 * openMs. Then half-open: up to halfOpenRequests probes pass at a time; as
 * many successes close it, one failure opens it again.
 */
export class CircuitBreaker {
  private st: CircuitState = 'closed';
  private readonly window: WindowCounter;
  private openedAt = 0;
  private probes = 0;
  private probeSuccesses = 0;

  constructor(
    private readonly config: CircuitBreakerConfig,
    /** Told of every state change (logs, metrics). */
    private readonly onChange: (state: CircuitState) => void,
  ) {
    this.window = new WindowCounter(config.windowMs);
  }

  state(now: number): CircuitState {
    if (this.st === 'open' && now - this.openedAt >= this.config.openMs) this.move('half-open');
    return this.st;
  }

  /** Whether a request may go now (no side effect: see onDispatch). */
  allows(now: number): boolean {
    if (!this.config.enabled) return true;
    const state = this.state(now);
    return state === 'closed' || (state === 'half-open' && this.probes < this.config.halfOpenRequests);
  }

  /** A request was sent; in half-open it takes a probe slot. Returns whether it is a probe. */
  onDispatch(): boolean {
    if (this.st !== 'half-open') return false;
    this.probes++;
    return true;
  }

  /** A probe ended without a verdict (the client went away): its slot is free again. */
  release(probe: boolean): void {
    if (probe && this.st === 'half-open' && this.probes > 0) this.probes--;
  }

  onResult(now: number, failed: boolean, probe: boolean): void {
    if (!this.config.enabled) return;
    if (this.st === 'half-open') {
      if (!probe) return; // sent before the circuit opened: says nothing about now
      this.probes--;
      if (failed) this.open(now);
      else if (++this.probeSuccesses >= this.config.halfOpenRequests) this.move('closed');
      return;
    }
    if (this.st === 'open') return;
    this.window.add(now, 1, failed ? 1 : 0);
    if (!failed) return;
    const [requests, failures] = this.window.totals(now);
    if (requests >= this.config.minRequests && failures >= requests * this.config.failureRatio) this.open(now);
  }

  private open(now: number): void {
    this.openedAt = now;
    this.move('open');
  }

  private move(state: CircuitState): void {
    if (state === this.st) return;
    this.st = state;
    this.probes = 0;
    this.probeSuccesses = 0;
    if (state === 'closed') this.window.reset();
    this.onChange(state);
  }
}
