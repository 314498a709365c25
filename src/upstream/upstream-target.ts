import type { UpstreamConfig } from './types.js';
import { CircuitBreaker, type CircuitState } from './circuit.js';
import { OutlierDetector } from './outlier.js';
import type { TargetPool } from './pool.js';

/** What an upstream tells its owner about one target (for the admin and #7's metrics). */
export interface TargetHealth {
  url: string;
  weight: number;
  /** Active health checks (true when none are configured). */
  healthy: boolean;
  /** Passive outlier ejection. */
  ejected: boolean;
  circuit: CircuitState;
  inFlight: number;
}

/**
 * One target of an upstream with everything known about it: its pool, its
 * weight, requests in flight, and the three health signals (active checks,
 * passive ejection, circuit breaker). It takes traffic only when all agree.
 */
export class UpstreamTarget {
  inFlight = 0;
  /** Active checks' verdict. */
  healthy = true;
  readonly outlier: OutlierDetector;
  readonly circuit: CircuitBreaker;
  /** Smooth weighted round robin's running score. */
  current = 0;

  constructor(
    readonly index: number,
    readonly pool: TargetPool,
    readonly weight: number,
    config: UpstreamConfig,
    onCircuit: (target: UpstreamTarget, state: CircuitState) => void,
  ) {
    this.outlier = new OutlierDetector(config.outlierDetection);
    this.circuit = new CircuitBreaker(config.circuitBreaker, (state) => onCircuit(this, state));
  }

  get url(): string {
    return this.pool.target.url;
  }

  available(now: number): boolean {
    return this.healthy && !this.outlier.isEjected(now) && this.circuit.allows(now);
  }

  health(now: number): TargetHealth {
    return {
      url: this.url,
      weight: this.weight,
      healthy: this.healthy,
      ejected: this.outlier.isEjected(now),
      circuit: this.circuit.state(now),
      inFlight: this.inFlight,
    };
  }
}
