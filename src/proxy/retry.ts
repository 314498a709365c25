import type { BalanceKey } from '../upstream/balancers/balancer.js';
import type { Attempt, Outcome, Upstream } from '../upstream/upstream.js';
import type { UpstreamTarget } from '../upstream/upstream-target.js';

/** Methods a request may be sent again for (RFC 9110 §9.2.2). */
/** Skips no target, and (not being null) does not count as a new request for the retry budget. */
const NONE_TRIED: readonly UpstreamTarget[] = [];

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * The tries of one request (the part of undici's RetryHandler that decides):
 * which target each goes to, when a failed one may be tried again and where,
 * and the accounting the upstream needs (in flight, passive health, circuit,
 * retry budget). The exchange sends and answers; this decides.
 */
export class RetryPolicy {
  /** The try in progress on one target; null between tries and after the last. */
  attempt: Attempt | null = null;
  private attempts = 0;
  /** Targets this request failed on: a retry goes elsewhere. */
  private tried: UpstreamTarget[] | null = null;
  private replayed = false;

  constructor(
    private readonly upstream: Upstream,
    private readonly key: BalanceKey,
    private readonly method: string,
  ) {}

  /** The first try: its target, or null when none can take the request now. */
  first(): Attempt | null {
    const attempt = this.upstream.begin(this.key);
    if (attempt !== null) this.start(attempt);
    return attempt;
  }

  /** The try ended (once per attempt; later calls do nothing): the upstream counts it for the target. */
  settle(outcome: Outcome): void {
    const attempt = this.attempt;
    if (attempt === null) return;
    this.attempt = null;
    this.upstream.end(attempt, outcome);
  }

  /**
   * A pooled socket we reused was closed by the upstream: the request may go
   * once more, on a fresh socket to the same target, when its method is
   * idempotent and its body is at hand; at most once (replaying() counts it).
   */
  mayReplay(bodyAtHand: boolean): boolean {
    return !this.replayed && bodyAtHand && IDEMPOTENT.has(this.method);
  }

  replaying(): void {
    this.replayed = true;
  }

  /**
   * After a failed try (settled) with nothing sent to the client: the next
   * try, on another target (or the same one with retries.sameTarget), when it is safe (the body is at hand; any method
   * if the request never left, idempotent ones otherwise), there is one, and
   * the attempts and the upstream's retry budget allow it. Null: answer the failure.
   */
  next(failedOn: UpstreamTarget, unsent: boolean, bodyAtHand: boolean): Attempt | null {
    if (!bodyAtHand || !(unsent || IDEMPOTENT.has(this.method))) return null;
    (this.tried ??= []).push(failedOn);
    // Another target; the same one only when the upstream allows it (retries.sameTarget).
    const next = this.upstream.begin(this.key, this.tried) ?? (this.upstream.retrySameTarget ? this.upstream.begin(this.key, NONE_TRIED) : null);
    if (next === null) return null;
    if (!this.upstream.mayRetry(this.attempts)) {
      this.upstream.end(next, null);
      return null;
    }
    this.start(next);
    return next;
  }

  private start(attempt: Attempt): void {
    this.attempt = attempt;
    this.attempts++;
  }
}
