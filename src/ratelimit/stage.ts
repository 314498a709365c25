import { createHash } from 'node:crypto';
import { Errors, type GatewayErrorKind } from '../errors.js';
import type { GatewayConfig } from '../config/types.js';
import type { Principal } from '../identity/types.js';
import type { Logger } from '../observe/log.js';
import type { RequestContext, ResponseContext, Stage, StageContext, StageFactory, StageReply, StageResult } from '../pipeline/stage.js';
import { limitFromRate, parseRate, type Decision, type Limit, type Policy } from './gcra.js';
import { limitHeaders, rateLimitPolicy } from './headers.js';
import { compileKey, KEY_ITEM_PATTERN, type KeyExtractor } from './keys.js';
import type { DistributedLimiter } from './limiter.js';
import { LRUCache } from 'lru-cache';
import type { SecretRef } from '../config/types.js';
import { resolveSecret } from '../config/secrets.js';
import { WebhookSender } from '../observe/webhook.js';
import { secretRef } from '../config/schema-parts.js';
import { processSanctions } from '../observe/anomaly/sanctions.js';

export const RATE_LIMITED: GatewayErrorKind = Errors.RATE_LIMITED;

export interface LimitOptions {
  /** Name in the RateLimit headers (default: the rate text). */
  name?: string;
  /** `20/s`, `5000/h`, `100/10s`, `1000/day`. */
  rate: string;
  /** Bucket capacity (default: the count of the rate). */
  burst?: number;
  /** Key items (see keys.ts); default ['ip']. */
  key?: string[];
  /** Units per request (default 1). */
  cost?: number;
}

export interface RateLimitOptions {
  mode?: 'block' | 'monitor';
  /** `route` (default): buckets per route; `global`: routes with the same limits and keys share buckets. */
  scope?: 'route' | 'global';
  /** Also send RateLimit-Policy / RateLimit on admitted responses (default false; always sent on a 429). */
  headers?: boolean;
  limits: LimitOptions[];
  /** The first override whose group the caller's principal has (consumer groups, roles) replaces `limits`. */
  overrides?: { group: string; limits: LimitOptions[] }[];
  /** Quota alerts: when a key has used these percentages of a limit, once per key and window. */
  alerts?: { at: number[]; webhook?: { url: string; secret?: SecretRef } };
}

const RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?/[0-9]*(ms|s|sec|second|m|min|minute|h|hour|d|day)$';

const limitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rate'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_./-]{1,64}$', description: 'Name of the limit in the `RateLimit` headers, logs and alerts; default: the rate text.' },
    rate: { type: 'string', pattern: RATE_PATTERN, description: 'Requests per period, such as `20/s`, `100/10s`, `5000/h` or `1000/day`; the allowance refills evenly over the period.' },
    burst: { type: 'integer', minimum: 1, maximum: 1_000_000_000, description: 'Most requests admitted at once after a quiet spell (the bucket size); default: the count of `rate`.' },
    key: { type: 'array', maxItems: 4, items: { type: 'string', pattern: KEY_ITEM_PATTERN }, description: 'What each bucket is for, combined: `ip` (or `ip/24`, `ip/24/56` for networks), `consumer`, `apikey` or `apikey:<header>`, `route`, `header:<name>`, `claim:<name>`. Default `[ip]`. A missing value counts as empty, so such requests share a bucket.' },
    cost: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Units each request takes from the bucket (default 1); must not exceed the burst.' },
  },
};

export const rateLimitSchema: Record<string, unknown> = {
  description: 'Limits request rates per client, consumer, key or route; over a limit a request gets 429 with `RateLimit` and `Retry-After` headers. Gateway processes and peers share the counts.',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'limits'],
  properties: {
    type: { const: 'rate-limit', description: 'Selects the rate-limit stage.' },
    mode: { enum: ['block', 'monitor'], default: 'block', description: '`block` refuses requests over a limit; `monitor` lets them through and logs them (sampled), for trying a limit out before enforcing it.' },
    scope: { enum: ['route', 'global'], default: 'route', description: '`route`: buckets belong to this route (`route` is added to every key). `global`: routes with the same limits and keys share buckets.' },
    headers: { type: 'boolean', default: false, description: 'Also send `RateLimit-Policy` and `RateLimit` on admitted responses; a 429 always carries them.' },
    limits: { type: 'array', minItems: 1, maxItems: 8, items: limitSchema, description: 'The limits (at most 8); a request must pass every one.' },
    alerts: {
      description: 'Quota alerts: a warning log line (and a webhook call) when a key has used a share of a limit, once per key, limit and period.',
      type: 'object',
      additionalProperties: false,
      required: ['at'],
      properties: {
        at: { type: 'array', minItems: 1, maxItems: 4, items: { type: 'integer', minimum: 1, maximum: 100 }, description: 'Percentages of the burst used (such as `[80, 100]`) that raise an alert.' },
        webhook: {
          description: 'Where quota alerts are also POSTed as JSON (the key is sent hashed).',
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', pattern: '^https?://', description: 'HTTP or HTTPS URL alerts are POSTed to.' },
            secret: { ...secretRef, description: 'HMAC-SHA256 key: each body is signed in `x-ztgate-signature: sha256=<hex>`.' },
          },
        },
      },
    },
    overrides: {
      description: 'Other limits for callers in a group: the first override whose `group` the caller holds replaces `limits`.',
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['group', 'limits'],
        properties: {
          group: { type: 'string', minLength: 1, maxLength: 128, description: 'A role or group of the caller (token role claims, or the consumer\'s `groups`), as set by the identity stage.' },
          limits: { type: 'array', minItems: 1, maxItems: 8, items: limitSchema, description: 'The limits for this group, instead of the stage\'s `limits`.' },
        },
      },
    },
  },
};

/** Limits sharing a key and a cost: one policy, checked in one call. */
interface Group {
  readonly policy: Policy;
  readonly extract: KeyExtractor;
  readonly cost: number;
}

/** The compiled form of one `limits` list. */
interface LimitSet {
  readonly groups: readonly Group[];
  /** Every limit, in config order (for RateLimit-Policy). */
  readonly limits: readonly Limit[];
  readonly policyHeader: string;
  /** For each group, the index of its first limit in `limits`. */
  readonly offsets: readonly number[];
}

export interface RateLimitCounters {
  admitted: number;
  /** Refused and answered 429. */
  limited: number;
  /** Over the limit in monitor mode (let through). */
  monitored: number;
}

/** What the stage leaves in ctx.state['rate-limit'] for the response headers. */
interface RequestLimitState {
  set: LimitSet;
  decision: Decision;
  index: number;
}

/** A tightened cost, kept within the smallest burst so a request still gets through now and then. */
function costOf(g: Group, scale: number): number {
  if (scale === 1) return g.cost;
  let burst = Infinity;
  for (const l of g.policy.limits) if (l.burst < burst) burst = l.burst;
  return Math.min(g.cost * scale, Math.max(g.cost, Math.floor(burst)));
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 12);
}

function validateLimits(list: LimitOptions[], path: string, issues: string[]): void {
  list.forEach((l, i) => {
    try {
      const { count } = parseRate(l.rate);
      if ((l.cost ?? 1) > (l.burst ?? count)) issues.push(`${path}[${i}].cost: larger than the burst, so never admitted`);
      compileKey(l.key ?? ['ip'], 'x');
    } catch (err) {
      issues.push(`${path}[${i}]: ${(err as Error).message}`);
    }
  });
}

function validate(options: Record<string, unknown>, _config: GatewayConfig): string[] {
  const o = options as unknown as RateLimitOptions;
  const issues: string[] = [];
  validateLimits(o.limits ?? [], 'limits', issues);
  (o.overrides ?? []).forEach((ov, i) => validateLimits(ov.limits, `overrides[${i}].limits`, issues));
  return issues;
}

function compileSet(list: LimitOptions[], scope: string, tag: string): LimitSet {
  const byKey = new Map<string, { key: string[]; cost: number; limits: Limit[] }>();
  const all: Limit[] = [];
  for (const l of list) {
    const key = [...(l.key ?? ['ip'])];
    if (scope === 'route' && !key.includes('route')) key.unshift('route');
    const cost = l.cost ?? 1;
    const sig = JSON.stringify([key, cost]);
    let g = byKey.get(sig);
    if (!g) byKey.set(sig, (g = { key, cost, limits: [] }));
    const limit = limitFromRate(l.name ?? l.rate, l.rate, l.burst);
    g.limits.push(limit);
    all.push(limit);
  }
  const groups: Group[] = [];
  const offsets: number[] = [];
  for (const g of byKey.values()) {
    // The id travels in gossip: the same config gives the same id in every member.
    const id = `rl:${digest([tag, g.key, g.cost, g.limits.map((l) => [l.count, l.periodMs, l.burst])])}`;
    groups.push({ policy: Object.freeze({ id, limits: g.limits }), extract: compileKey(g.key, id), cost: g.cost });
    offsets.push(all.indexOf(g.limits[0]));
  }
  return { groups, limits: all, policyHeader: rateLimitPolicy(all), offsets };
}

export class RateLimitStage implements Stage {
  readonly name = 'rate-limit';
  readonly counters: RateLimitCounters = { admitted: 0, limited: 0, monitored: 0 };
  readonly onResponse?: (ctx: RequestContext, res: ResponseContext) => void;
  private readonly base: LimitSet;
  private readonly overrides: { group: string; set: LimitSet }[];
  private readonly monitor: boolean;
  private readonly sendHeaders: boolean;
  private lastLog = 0;
  private suppressed = 0;
  /** Thresholds (fractions, ascending) and what was already alerted, per key, limit and window. */
  private readonly alertAt: number[];
  private readonly alerted: LRUCache<string, number> | null;
  private readonly webhook: WebhookSender | null;

  constructor(
    options: RateLimitOptions,
    private readonly limiter: DistributedLimiter,
    private readonly log: Logger | null,
  ) {
    const scope = options.scope ?? 'route';
    this.monitor = options.mode === 'monitor';
    this.sendHeaders = options.headers === true;
    this.base = compileSet(options.limits, scope, '');
    this.overrides = (options.overrides ?? []).map((o) => ({ group: o.group, set: compileSet(o.limits, scope, `group:${o.group}`) }));
    for (const s of [this.base, ...this.overrides.map((o) => o.set)]) for (const g of s.groups) limiter.register(g.policy);
    if (this.sendHeaders) this.onResponse = (ctx, res) => this.addHeaders(ctx, res);
    this.alertAt = [...(options.alerts?.at ?? [])].sort((a, b) => a - b).map((p) => p / 100);
    // Bounded: an attacker rotating keys cannot grow it; an entry lives one window at most.
    this.alerted = this.alertAt.length > 0 ? new LRUCache({ max: 100_000, ttl: 24 * 3600 * 1000, ttlAutopurge: false }) : null;
    const hook = options.alerts?.webhook;
    this.webhook = hook ? new WebhookSender({ url: hook.url, secret: hook.secret ? resolveSecret(hook.secret) : undefined }, log) : null;
  }

  /** Quota alerts: the first request of a window that takes a key past a threshold raises it. */
  private checkAlerts(ctx: RequestContext, key: string, limit: Limit, decision: Decision): void {
    const used = 1 - decision.remaining / limit.burst;
    let level = -1;
    for (let i = 0; i < this.alertAt.length; i++) if (used >= this.alertAt[i] - 1e-9) level = i;
    if (level < 0) return;
    const id = `${limit.name}\n${key}`;
    const previous = this.alerted!.get(id) ?? -1;
    if (level <= previous) return;
    this.alerted!.set(id, level, { ttl: limit.periodMs });
    const event = {
      type: 'quota',
      route: ctx.route.name,
      limit: limit.name,
      key: createHash('sha256').update(key).digest('hex').slice(0, 16),
      percent: Math.round(this.alertAt[level] * 100),
      at: new Date().toISOString(),
    };
    this.log?.warn(event, `quota alert: ${event.percent}% of "${limit.name}" used`);
    this.webhook?.send(event);
  }

  private setFor(ctx: RequestContext): LimitSet {
    if (this.overrides.length === 0) return this.base;
    const p = ctx.state.identity as Principal | undefined;
    if (p) for (const o of this.overrides) if (p.roles.has(o.group)) return o.set;
    return this.base;
  }

  onRequest(ctx: RequestContext): StageResult {
    const set = this.setFor(ctx);
    const groups = set.groups;
    // An alert rule may have tightened this consumer or network: each request then costs `scale` times more.
    const scale = !processSanctions.active ? 1 : processSanctions.tightenFactor((ctx.state.identity as Principal | undefined)?.consumer ?? null, ctx.clientAddress);
    let decision: Decision;
    let index = 0;
    let key: string;
    if (groups.length === 1) {
      const g = groups[0];
      key = g.extract(ctx);
      decision = this.limiter.check(key, g.policy, costOf(g, scale));
    } else {
      // Several keys: all must admit, and none is charged unless all do.
      const keys = groups.map((g) => g.extract(ctx));
      key = keys[0];
      decision = this.limiter.check(keys[0], groups[0].policy, costOf(groups[0], scale), true);
      for (let i = 1; i < groups.length && decision.allowed; i++) {
        const d = this.limiter.check(keys[i], groups[i].policy, costOf(groups[i], scale), true);
        if (!d.allowed || d.remaining < decision.remaining) {
          decision = d;
          index = i;
          key = keys[i];
        }
      }
      if (decision.allowed) {
        for (let i = 0; i < groups.length; i++) {
          const d = this.limiter.check(keys[i], groups[i].policy, costOf(groups[i], scale));
          if (i === index) decision = d;
        }
      }
    }
    const limitIndex = set.offsets[index] + decision.limitIndex;
    if (this.alerted) this.checkAlerts(ctx, key, set.limits[limitIndex], decision);
    if (decision.allowed) {
      this.counters.admitted++;
      if (this.sendHeaders) ctx.state['rate-limit'] = { set, decision, index } satisfies RequestLimitState;
      return undefined;
    }
    const limit = set.limits[limitIndex];
    if (this.monitor) {
      this.counters.monitored++;
      this.logSampled(ctx, key, limit, true);
      return undefined;
    }
    this.counters.limited++;
    // (The exchange logs every answered error; only monitor mode needs its own line.)
    const reply: StageReply = {
      error: RATE_LIMITED,
      reason: `rate limit "${limit.name}" exceeded`,
      label: limit.name,
      headers: limitHeaders(set.limits, set.policyHeader, { ...decision, limitIndex }),
    };
    return reply;
  }

  private addHeaders(ctx: RequestContext, res: ResponseContext): void {
    const st = ctx.state['rate-limit'] as RequestLimitState | undefined;
    if (!st) return;
    const d = { ...st.decision, limitIndex: st.set.offsets[st.index] + st.decision.limitIndex };
    for (const [name, value] of limitHeaders(st.set.limits, st.set.policyHeader, d)) res.headers.set(name, value);
  }

  /** At most one line a second per stage, with the count of the lines left out. */
  private logSampled(ctx: RequestContext, key: string, limit: Limit, monitor: boolean): void {
    if (!this.log) return;
    const now = Date.now();
    if (now - this.lastLog < 1000) {
      this.suppressed++;
      return;
    }
    this.lastLog = now;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.log.warn(
      { requestId: ctx.id, route: ctx.route.name, limit: limit.name, key, monitor, suppressed },
      monitor ? 'rate limit exceeded (monitor mode: let through)' : 'rate limit exceeded',
    );
  }
}

/** The `rate-limit` stage type, on the process's limiter (shared over gossip). */
export const rateLimitStage: StageFactory = {
  type: 'rate-limit',
  schema: rateLimitSchema,
  validate,
  compile(options, context: StageContext): Stage {
    const limiter = context.rateLimiter;
    return new RateLimitStage(options as unknown as RateLimitOptions, limiter, context.log ?? null);
  },
};
