import type { HealthCheckConfig } from './types.js';
import type { GatewayError } from '../errors.js';
import { UpstreamConnection, type ConnectionOwner, type ExchangeHandler } from './connection.js';
import type { ResponseHead } from './response-parser.js';
import type { Target } from './target.js';

/** A probe's socket is never reused: it closes as soon as the status is known. */
const THROWAWAY: ConnectionOwner = {
  onIdle: (conn) => conn.destroy(),
  onClosed: () => {},
};

/** "2xx" classes and single codes, as one 600-entry table. */
export function statusMatcher(expected: readonly (number | string)[]): Uint8Array {
  const ok = new Uint8Array(600);
  for (const e of expected) {
    if (typeof e === 'number') ok[e] = 1;
    else for (let s = Number(e[0]) * 100; s < Number(e[0]) * 100 + 100; s++) ok[s] = 1;
  }
  return ok;
}

/**
 * Active health checks of one target: every intervalMs a GET of the path on a
 * fresh connection of the project's own client (TLS and mTLS like requests),
 * passing on an expected status within timeoutMs. `healthyThreshold` passes in
 * a row mark the target healthy, `unhealthyThreshold` failures unhealthy.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | null = null;
  private conn: UpstreamConnection | null = null;
  private passes = 0;
  private failures = 0;
  private stopped = false;
  private readonly head: string;
  private readonly ok: Uint8Array;

  constructor(
    private readonly target: Target,
    private readonly config: HealthCheckConfig,
    /** Told after every probe: the verdict once a threshold is crossed (null while undecided), and why. */
    private readonly onVerdict: (healthy: boolean | null, passed: boolean, reason: string) => void,
  ) {
    this.head = `GET ${config.path} HTTP/1.1\r\nhost: ${target.authority}\r\nuser-agent: ztgate-health\r\nconnection: close\r\n\r\n`;
    this.ok = statusMatcher(config.expectedStatuses);
  }

  /** First probe after a random part of the interval, so processes and targets do not probe in step. */
  start(): void {
    this.schedule(Math.floor(Math.random() * Math.min(this.config.intervalMs, 1000)));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.conn?.abandon();
    this.conn = null;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.probe(), ms);
    this.timer.unref();
  }

  private probe(): void {
    this.timer = null;
    if (this.stopped) return;
    const ms = this.config.timeoutMs;
    let settled = false;
    const settle = (passed: boolean, reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      const conn = this.conn;
      this.conn = null;
      conn?.abandon();
      this.record(passed, reason);
      this.schedule(this.config.intervalMs);
    };
    const handler: ExchangeHandler = {
      onHead: (head: ResponseHead) =>
        settle(head.statusCode < 600 && this.ok[head.statusCode] === 1, `status ${head.statusCode}`),
      onBody: () => {},
      onComplete: () => {},
      onError: (error: GatewayError) => settle(false, error.reason),
      batch: (fn) => fn(),
      onDrain: () => {},
    };
    // One deadline for connect, handshake and head together.
    const deadline = setTimeout(() => settle(false, `no answer within ${ms} ms`), ms);
    deadline.unref();
    this.conn = new UpstreamConnection(this.target, THROWAWAY, { connectMs: ms, firstByteMs: ms, idleMs: ms, totalMs: 0 }, ms);
    this.conn.dispatch(handler, this.head, false, false);
  }

  private record(passed: boolean, reason: string): void {
    let verdict: boolean | null = null;
    if (passed) {
      this.failures = 0;
      if (++this.passes >= this.config.healthyThreshold) verdict = true;
    } else {
      this.passes = 0;
      if (++this.failures >= this.config.unhealthyThreshold) verdict = false;
    }
    this.onVerdict(verdict, passed, reason);
  }
}
