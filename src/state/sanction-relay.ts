import { randomUUID } from 'node:crypto';
import type { Redis } from 'iovalkey';
import type { Logger } from '../observe/log.js';

/** A sanction as it travels between processes: who, what, until when (epoch ms), and why. */
export interface SharedSanction {
  subject: string;
  type: 'block' | 'tighten';
  /** For `tighten`; 1 for `block`. */
  factor: number;
  until: number;
  rule: string;
}

/**
 * What the sanction table calls to share its sanctions with every gateway
 * process of every host, and how it hears theirs.
 */
export interface SanctionRelay {
  /** A sanction imposed here: tell the fleet (fire and forget). */
  publish(s: SharedSanction): void;
  /** Told of every sanction imposed elsewhere, and of those in force when this process (re)connects. */
  subscribe(listener: (s: SharedSanction) => void): void;
}

/** Sanctions are at most a day (the alerts schema); anything longer from the store is refused. */
const MAX_MS = 24 * 3600 * 1000;
/** Held in the store at most; the oldest give way (a hostile writer cannot grow the catch-up). */
const MAX_HELD = 10_000;
const SUBJECT = /^(consumer|network):[^\s]{1,256}$/;

/** A sanction read from the store, checked field by field: the store is not trusted to hold only ours. */
export function parseSanction(text: string, now = Date.now()): (SharedSanction & { origin?: string }) | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.subject !== 'string' || !SUBJECT.test(o.subject)) return null;
  if (o.type !== 'block' && o.type !== 'tighten') return null;
  if (typeof o.until !== 'number' || !(o.until > now) || o.until - now > MAX_MS) return null;
  if (typeof o.rule !== 'string' || o.rule.length > 128) return null;
  const factor = o.type === 'block' ? 1 : o.factor;
  if (typeof factor !== 'number' || !Number.isInteger(factor) || factor < 1 || factor > 1000) return null;
  return { subject: o.subject, type: o.type, factor, until: o.until, rule: o.rule, origin: typeof o.origin === 'string' ? o.origin : undefined };
}

/**
 * Sanctions through the store: each one is written to a hash (field: the
 * subject; pruned when expired) and published on a channel. Every process
 * subscribes on its own connection, and reads the hash when it (re)connects,
 * so a process started after a sanction still applies it.
 */
export class RedisSanctionRelay implements SanctionRelay {
  private readonly origin = randomUUID();
  private readonly hashKey: string;
  private readonly channel: string;
  private readonly listeners: ((s: SharedSanction) => void)[] = [];
  private subscriber: Redis | null = null;

  constructor(
    private readonly client: Redis,
    keyPrefix: string,
    private readonly log: Logger,
  ) {
    this.hashKey = `${keyPrefix}sanctions`;
    this.channel = `${keyPrefix}sanctions`;
  }

  publish(s: SharedSanction): void {
    if (this.client.status !== 'ready') return;
    const text = JSON.stringify({ ...s, origin: this.origin });
    this.client.hset(this.hashKey, s.subject, text).catch(() => {});
    this.client.publish(this.channel, text).catch(() => {});
  }

  subscribe(listener: (s: SharedSanction) => void): void {
    this.listeners.push(listener);
    if (this.subscriber) return;
    const sub = this.client.duplicate({ enableOfflineQueue: true, connectionName: 'ztgate-sanctions' });
    this.subscriber = sub;
    sub.on('error', () => {});
    sub.on('message', (_channel: string, text: string) => this.receive(text));
    sub.subscribe(this.channel).catch(() => {});
  }

  private receive(text: string): void {
    const s = parseSanction(text);
    if (!s) {
      this.log.warn({ code: 'ZTG_STATE_BAD_SANCTION' }, 'state store: a sanction that is not well-formed was ignored');
      return;
    }
    if (s.origin === this.origin) return;
    for (const l of this.listeners) l(s);
  }

  /** What is in force across the fleet now (the store calls it whenever it answers again). */
  async catchUp(): Promise<void> {
    if (this.listeners.length === 0) return;
    try {
      const all = await this.client.hgetall(this.hashKey);
      const now = Date.now();
      const expired: string[] = [];
      let applied = 0;
      for (const [subject, text] of Object.entries(all).slice(0, MAX_HELD)) {
        const s = parseSanction(text, now);
        if (!s) {
          expired.push(subject);
          continue;
        }
        applied++;
        for (const l of this.listeners) l(s);
      }
      if (expired.length > 0) this.client.hdel(this.hashKey, ...expired).catch(() => {});
      if (applied > 0) this.log.info({ sanctions: applied }, 'state store: sanctions in force across the fleet applied here');
    } catch {
      // Not connected after all: the next ready tries again.
    }
  }

  close(): void {
    this.subscriber?.disconnect();
  }
}
