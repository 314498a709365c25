import { createHmac } from 'node:crypto';
import type { Logger } from './log.js';

export interface WebhookConfig {
  url: string;
  /** HMAC-SHA256 key; the body's signature goes in `x-ztgate-signature: sha256=<hex>`. */
  secret?: string;
}

const MAX_QUEUED = 1000;
const ATTEMPTS = 4;
const TIMEOUT_MS = 5000;

/**
 * Alert delivery off the request path: a bounded queue, one POST at a time,
 * HMAC-signed, retried with exponential backoff (0.5 s, 1 s, 2 s), dropped and
 * logged when the queue is full or every attempt failed.
 */
export class WebhookSender {
  private readonly queue: string[] = [];
  private sending = false;
  dropped = 0;
  delivered = 0;

  constructor(
    private readonly config: WebhookConfig,
    private readonly log: Logger | null,
  ) {}

  send(event: Record<string, unknown>): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(JSON.stringify(event));
    if (!this.sending) void this.drain();
  }

  private async drain(): Promise<void> {
    this.sending = true;
    let body: string | undefined;
    while ((body = this.queue.shift()) !== undefined) {
      if (await this.deliver(body)) this.delivered++;
      else {
        this.dropped++;
        this.log?.error({ webhook: this.config.url }, `alert webhook failed after ${ATTEMPTS} attempts; alert dropped`);
      }
    }
    this.sending = false;
  }

  private async deliver(body: string): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.secret) headers['x-ztgate-signature'] = `sha256=${createHmac('sha256', this.config.secret).update(body).digest('hex')}`;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt).unref());
      try {
        const res = await fetch(this.config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
      } catch {
        /* retried below */
      }
    }
    return false;
  }
}
