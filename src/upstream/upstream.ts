import type { UpstreamConfig, TimeoutConfig } from './types.js';
import type { GatewayError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Counter, Gauge, Metrics } from '../core/metrics.js';
import type { Balancer, BalanceKey } from './balancers/balancer.js';
import { HashRing } from './balancers/hash-ring.js';
import { LeastOutstanding } from './balancers/least-outstanding.js';
import { RoundRobin } from './balancers/round-robin.js';
import type { CircuitState } from './circuit.js';
import { HealthChecker } from './health-check.js';
import { TargetPool } from './pool.js';
import { RetryBudget } from './retry-budget.js';
import { parseTarget } from './target.js';
import { ThrottledWarn, type WarnSink } from '../core/throttled-warn.js';

/** Repeated operational warnings of an upstream (one per request when every target is down) are logged once per this. */
export const UPSTREAM_WARN_INTERVAL_MS = 5000;
import { targetTlsOptions, upstreamTlsOptions } from './tls.js';
import { UpstreamTarget, type TargetHealth } from './upstream-target.js';

export type { TargetHealth } from './upstream-target.js';

/** Process-wide services an upstream reports to; both optional (tests, tools). */
export interface UpstreamServices {
  readonly log?: Logger;
  readonly metrics?: Metrics;
}

/** One try of a request on one target, from pick to outcome. */
export interface Attempt {
  readonly target: UpstreamTarget;
  /** The circuit was half-open and this try is one of its probes. */
  readonly probe: boolean;
}

/** How a try ended, as passive health and the circuit breaker count it. */
export type Outcome =
  /** An answer arrived: its status (5xx counts as a failure). */
  | { status: number }
  /** No answer: connect/TLS failure (`unsent`), reset, timeout, bad response. */
  | { error: GatewayError; unsent: boolean }
  /** The client went away or the gateway gave up for its own reasons: counts for nothing. */
  | null;

interface UpstreamMetrics {
  retries: Counter;
  retriesDenied: Counter;
  unavailable: Counter;
  ejections: Counter;
  circuit: Counter;
  health: Counter;
  up: Gauge;
}

const now = () => performance.now();

/**
 * A named service: its targets (each with a pool and health), a balancer, and
 * the retry budget. The exchange asks `begin()` for a target and reports the
 * try's outcome to `end()`; targets that fail active checks, are ejected for
 * consecutive failures or have an open circuit are skipped, and when none is
 * left `begin()` returns null at once (the caller answers 503).
 */
export class Upstream {
  readonly name: string;
  readonly timeouts: TimeoutConfig;
  readonly targets: readonly UpstreamTarget[];
  /** Kept for callers that walk the pools (reload, tests). */
  readonly pools: readonly TargetPool[];
  readonly maxAttempts: number;
  /** A retry may go back to the target that failed (retries.sameTarget). */
  readonly retrySameTarget: boolean;
  private readonly balancer: Balancer;
  private readonly budget: RetryBudget;
  private readonly checkers: HealthChecker[] = [];
  private readonly maxEjected: number;
  private capWarn: ThrottledWarn | null = null;
  private noTargetWarn: ThrottledWarn | null = null;
  private readonly log: Logger | null;
  private readonly metrics: UpstreamMetrics | null;
  /** State of the pick in progress, read by `usable` (one closure for every pick). */
  private pickAt = 0;
  private tried: readonly UpstreamTarget[] | null = null;
  private readonly usable = (x: UpstreamTarget): boolean => (this.tried === null || !this.tried.includes(x)) && x.available(this.pickAt);

  constructor(config: UpstreamConfig, services: UpstreamServices = {}) {
    this.name = config.name;
    this.timeouts = config.timeouts;
    this.log = services.log ?? null;
    this.metrics = services.metrics ? upstreamMetrics(services.metrics) : null;
    const tls = config.targets.some((t) => t.url.startsWith('https:')) ? upstreamTlsOptions(config.tls) : null;
    this.targets = config.targets.map((t, i) => {
      const parsed = parseTarget(t.url);
      const target = tls ? parseTarget(t.url, targetTlsOptions(tls, parsed.host)) : parsed;
      return new UpstreamTarget(i, new TargetPool(target, config.pool, config.timeouts), t.weight ?? 1, config, (tt, s) => this.onCircuit(tt, s));
    });
    this.pools = this.targets.map((t) => t.pool);
    this.maxAttempts = 1 + config.retries.attempts;
    this.retrySameTarget = config.retries.sameTarget === true;
    this.budget = new RetryBudget(config.retries);
    this.maxEjected = Math.floor((this.targets.length * config.outlierDetection.maxEjectedPercent) / 100);
    const b = config.balancer;
    this.balancer =
      b.algorithm === 'least-outstanding'
        ? new LeastOutstanding(this.targets)
        : b.algorithm === 'consistent-hash' && b.hashOn
          ? new HashRing(this.targets, b.hashOn, b.virtualNodes)
          : new RoundRobin(this.targets);
    for (const t of this.targets) this.metrics?.up.set([this.name, t.url], 1);
    if (config.healthCheck) {
      for (const t of this.targets) {
        const checker = new HealthChecker(t.pool.target, config.healthCheck, (healthy, passed, reason) => this.onCheck(t, healthy, passed, reason));
        this.checkers.push(checker);
        checker.start();
      }
    }
  }

  /**
   * Picks a target for a request (`tried`: targets this request already
   * failed on, skipped) and counts it in flight; null when no target can take
   * it.
   */
  begin(ctx: BalanceKey | null, tried: readonly UpstreamTarget[] | null = null): Attempt | null {
    const t = now();
    this.pickAt = t;
    this.tried = tried;
    const target = this.balancer.pick(ctx, this.usable);
    this.tried = null;
    if (target === null) {
      if (tried === null) this.metrics?.unavailable.inc([this.name]);
      return null;
    }
    if (tried === null) this.budget.onRequest(t);
    target.inFlight++;
    return { target, probe: target.circuit.onDispatch() };
  }

  /** The try ended; called exactly once per `begin()` that returned an attempt. */
  end(attempt: Attempt, outcome: Outcome): void {
    const target = attempt.target;
    target.inFlight--;
    if (outcome === null) {
      // Not the target's fault; a probe slot must still be given back.
      target.circuit.release(attempt.probe);
      return;
    }
    const t = now();
    const status = 'status' in outcome ? outcome.status : 0;
    const failed = status >= 500 || 'error' in outcome;
    target.circuit.onResult(t, failed, attempt.probe);
    const connectFailed = 'error' in outcome && outcome.unsent;
    // A reset or timeout is neither a 5xx nor a connect failure: it only counts for the circuit.
    if ('error' in outcome && !connectFailed) return;
    if (target.outlier.onResult(status, connectFailed) && !target.outlier.ejected) this.eject(target, t, connectFailed);
  }

  /**
   * A request found no target to take it: logged once per interval with the
   * count (every request's access line still has its 503).
   */
  warnNoTarget(log: WarnSink, fields: Record<string, unknown>): void {
    (this.noTargetWarn ??= new ThrottledWarn(log, 'Every target of the upstream is down', UPSTREAM_WARN_INTERVAL_MS)).hit({ upstream: this.name, ...fields });
  }

  /** Whether this request may be tried again: attempts left and the upstream's retry budget allows it. */
  mayRetry(attemptsSoFar: number): boolean {
    if (attemptsSoFar >= this.maxAttempts) return false;
    if (!this.budget.tryRetry(now())) {
      this.metrics?.retriesDenied.inc([this.name]);
      return false;
    }
    this.metrics?.retries.inc([this.name]);
    return true;
  }

  /** Per-target state: for the admin API and #7's dashboards. */
  health(): TargetHealth[] {
    const t = now();
    return this.targets.map((x) => x.health(t));
  }

  /** Config reload: stop probing; idle sockets close now, busy ones after their exchange. */
  retire(): void {
    for (const c of this.checkers) c.stop();
    for (const t of this.targets) t.pool.retire();
  }

  private eject(target: UpstreamTarget, t: number, connectFailed: boolean): void {
    const why = connectFailed ? 'consecutive connect failures' : 'consecutive 5xx';
    let ejected = 0;
    for (const x of this.targets) if (x.outlier.isEjected(t)) ejected++;
    // The share is rounded down, but one target unreachable may always go (an upstream of one fails
    // fast); a target that answers, even 5xx, stays when the share says so: its own answer tells
    // the client more than the gateway's 503 would.
    const cap = connectFailed ? Math.max(1, this.maxEjected) : this.maxEjected;
    if (ejected >= cap) {
      if (this.log) (this.capWarn ??= new ThrottledWarn(this.log, 'upstream target not ejected: ejection cap reached', UPSTREAM_WARN_INTERVAL_MS)).hit({ upstream: this.name, target: target.url, why, ejected, maxEjected: this.maxEjected });
      return;
    }
    const ms = target.outlier.eject(t);
    this.metrics?.ejections.inc([this.name, target.url]);
    this.log?.warn({ upstream: this.name, target: target.url, why, ejectionMs: ms }, 'upstream target ejected');
  }

  private onCheck(target: UpstreamTarget, healthy: boolean | null, passed: boolean, reason: string): void {
    // A passing check brings an ejected target back at once: traffic returns within the interval.
    if (passed && target.outlier.ejected) {
      target.outlier.restore(now());
      this.log?.info({ upstream: this.name, target: target.url }, 'upstream target restored by health check');
    }
    if (healthy === null || healthy === target.healthy) return;
    target.healthy = healthy;
    this.metrics?.health.inc([this.name, target.url, healthy ? 'healthy' : 'unhealthy']);
    this.metrics?.up.set([this.name, target.url], healthy ? 1 : 0);
    const line = { upstream: this.name, target: target.url, reason };
    if (healthy) this.log?.info(line, 'upstream target healthy');
    else this.log?.warn(line, 'upstream target unhealthy');
  }

  private onCircuit(target: UpstreamTarget, state: CircuitState): void {
    this.metrics?.circuit.inc([this.name, target.url, state]);
    const line = { upstream: this.name, target: target.url, circuit: state };
    if (state === 'open') this.log?.warn(line, 'upstream circuit opened');
    else this.log?.info(line, `upstream circuit ${state}`);
  }
}

function upstreamMetrics(m: Metrics): UpstreamMetrics {
  return {
    retries: m.counter('ztgate_upstream_retries_total', 'Requests tried again on another target', ['upstream']),
    retriesDenied: m.counter('ztgate_upstream_retries_denied_total', 'Retries refused by the retry budget', ['upstream']),
    unavailable: m.counter('ztgate_upstream_unavailable_total', 'Requests with no target able to take them', ['upstream']),
    ejections: m.counter('ztgate_upstream_ejections_total', 'Targets ejected by passive health', ['upstream', 'target']),
    circuit: m.counter('ztgate_upstream_circuit_transitions_total', 'Circuit breaker state changes', ['upstream', 'target', 'state']),
    health: m.counter('ztgate_upstream_health_transitions_total', 'Active health check verdict changes', ['upstream', 'target', 'state']),
    up: m.gauge('ztgate_upstream_target_up', 'Active health verdict per target (1 healthy)', ['upstream', 'target']),
  };
}
