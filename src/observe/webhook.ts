import { createHmac } from 'node:crypto';
import type { Logger } from './log.js';

export interface WebhookConfig {
  url: string;
  /** HMAC-SHA256 key; the body's signature goes in `x-ztgate-signature: sha256=<hex>`. */
  secret?: string;
  /** Tries per event, the first included (default 4). */
  attempts?: number;
  /** Wait before the first retry, doubled for each next one (default 500 ms). */
  backoffMs?: number;
  /** Per attempt (default 5 s). */
  timeoutMs?: number;
  /** Events waiting beyond this are dropped (default 1000). */
  maxQueued?: number;
}

/**
 * Alert delivery off the request path: a bounded queue, one POST at a time,
 * HMAC-signed, retried with exponential backoff (0.5 s, 1 s, 2 s by default),
 * dropped and logged when the queue is full or every attempt failed.
 */
export class WebhookSender {
  private readonly queue: string[] = [];
  private sending = false;
  private closed = false;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  dropped = 0;
  delivered = 0;
  /** Deliveries that failed at least once (each retry counts). */
  retries = 0;

  constructor(
    private readonly config: WebhookConfig,
    private readonly log: Logger | null,
  ) {
    this.attempts = config.attempts ?? 4;
    this.backoffMs = config.backoffMs ?? 500;
    this.timeoutMs = config.timeoutMs ?? 5000;
    this.maxQueued = config.maxQueued ?? 1000;
  }

  /** Queues the event and returns at once; never throws. */
  send(event: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(JSON.stringify(event));
    if (!this.sending) void this.drain();
  }

  /** Events waiting (not counting the one being delivered). */
  get queued(): number {
    return this.queue.length;
  }

  /** Drops what waits; the delivery in progress ends after its current attempt. */
  close(): void {
    this.closed = true;
    this.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    let body: string | undefined;
    while ((body = this.queue.shift()) !== undefined) {
      if (await this.deliver(body)) this.delivered++;
      else {
        this.dropped++;
        this.log?.error({ webhook: this.config.url }, `alert webhook failed after ${this.attempts} attempts; alert dropped`);
      }
    }
    this.sending = false;
  }

  private async deliver(body: string): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.secret) headers['x-ztgate-signature'] = `sha256=${createHmac('sha256', this.config.secret).update(body).digest('hex')}`;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) {
        if (this.closed) return false;
        this.retries++;
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)).unref());
      }
      try {
        const res = await fetch(this.config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
      } catch {
        /* retried below */
      }
    }
    return false;
  }
}
