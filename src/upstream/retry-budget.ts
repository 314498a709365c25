import type { RetryConfig } from './types.js';
import { WindowCounter } from './window.js';

/**
 * Retries per upstream stay under `budgetRatio` of its requests over a sliding
 * window, plus a small floor: when every target fails, retries add at most
 * that share of load instead of multiplying the outage.
 */
export class RetryBudget {
  private readonly window: WindowCounter;

  constructor(private readonly config: RetryConfig) {
    this.window = new WindowCounter(config.budgetWindowMs);
  }

  onRequest(now: number): void {
    this.window.add(now, 1, 0);
  }

  /** Takes one retry from the budget if there is one left. */
  tryRetry(now: number): boolean {
    const [requests, retries] = this.window.totals(now);
    if (retries >= this.config.budgetMinRetries + requests * this.config.budgetRatio) return false;
    this.window.add(now, 0, 1);
    return true;
  }
}
