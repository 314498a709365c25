import { createHash } from 'node:crypto';
import { Errors, type GatewayErrorKind } from '../errors.js';
import type { GatewayConfig } from '../config/types.js';
import type { Principal } from '../identity/types.js';
import type { Logger } from '../observe/log.js';
import type { RequestContext, ResponseContext, Stage, StageContext, StageReply, StageResult } from '../pipeline/stage.js';
import { defineStage, type OptionsSchema } from '../pipeline/define-stage.js';
import { limitFromRate, parseRate, type Decision, type Limit, type Policy } from './gcra.js';
import { limitHeaders, rateLimitPolicy } from './headers.js';
import { compileKey, KEY_ITEM_PATTERN, type KeyExtractor } from './keys.js';
import { RATE_LIMITER, type DistributedLimiter } from './limiter.js';
import { LRUCache } from 'lru-cache';
import type { SecretRef } from '../core/secrets.js';
import { resolveSecret } from '../core/secrets.js';
import { WebhookSender } from '../observe/webhook.js';
import { secretRef } from '../core/schema-parts.js';
import { SANCTIONS, type Sanctions } from '../observe/anomaly/sanctions.js';
import { StoreQuotas, type QuotaDecision, type QuotaGroup, type StoreFailurePolicy } from '../state/quota.js';
import { STATE_STORE, type StateStore } from '../state/store.js';

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
  /** With a state store: what a quota does when the store cannot answer in time (default local). */
  onStoreFailure?: StoreFailurePolicy;
}

/** With a state store, limits of this window or longer (quotas) are kept in it; shorter ones stay on the gateways (gossip). */
export const STORE_MIN_PERIOD_MS = 60_000;

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
    name: { type: 'string', pattern: '^[A-Za-z0-9_./-]{1,64}$', description: 'Name in the RateLimit headers (default: the rate text).' },
    rate: { type: 'string', pattern: RATE_PATTERN, description: 'Requests per period: `20/s`, `5000/h`, `100/10s`, `1000/day`.' },
    burst: { type: 'integer', minimum: 1, maximum: 1_000_000_000, description: 'Bucket capacity (default: the count of the rate).' },
    key: {
      type: 'array',
      maxItems: 4,
      items: { type: 'string', pattern: KEY_ITEM_PATTERN },
      description: 'What a bucket is kept per, combined: ip (or ip/<v4 bits>/<v6 bits>), consumer, route, apikey[:<header>], header:<name>, claim:<name> (default [ip]).',
    },
    cost: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Units per request (default 1).' },
    onStoreFailure: {
      enum: ['local', 'allow', 'deny'],
      default: 'local',
      description: 'With a state section, for a limit of a minute or longer (kept in the store): what happens when the store does not answer within state.redis.timeoutMs. local: this process decides on its own bucket holding its share of the limit (state.fallbackShare); allow: the limit admits; deny: the limit refuses (429).',
    },
  },
};

const limitsSchema = (description: string) => ({ type: 'array', minItems: 1, maxItems: 8, items: limitSchema, description });

export const rateLimitSchema: OptionsSchema<RateLimitOptions> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'limits'],
  properties: {
    type: { const: 'rate-limit' },
    mode: { enum: ['block', 'monitor'], default: 'block', description: '`block` answers 429 over a limit; `monitor` counts and logs, and lets the request through.' },
    scope: {
      enum: ['route', 'global'],
      default: 'route',
      description: '`route`: buckets per route; `global`: routes with the same limits and keys share buckets.',
    },
    headers: { type: 'boolean', default: false, description: 'Also send RateLimit-Policy / RateLimit on admitted responses (always sent on a 429).' },
    limits: limitsSchema('The limits a request must be within, all of them.'),
    alerts: {
      type: 'object',
      description: 'Quota alerts: when a key has used these percentages of a limit, once per key and window.',
      additionalProperties: false,
      required: ['at'],
      properties: {
        at: { type: 'array', minItems: 1, maxItems: 4, items: { type: 'integer', minimum: 1, maximum: 100 }, description: 'Percentages of a limit used.' },
        webhook: {
          type: 'object',
          description: 'Where alerts are posted as JSON.',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', pattern: '^https?://', description: 'The receiver.' },
            secret: { ...secretRef, description: 'HMAC-SHA256 key: the body is signed in `x-ztgate-signature: sha256=<hex>`.' },
          },
        },
      },
    },
    overrides: {
      type: 'array',
      maxItems: 32,
      description: "The first override whose group the caller's principal has (consumer groups, roles) replaces `limits`.",
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['group', 'limits'],
        properties: {
          group: { type: 'string', minLength: 1, maxLength: 128, description: 'A consumer group or role.' },
          limits: limitsSchema('The limits in place of the base ones for that group.'),
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

/** The limits of a set kept in the state store (quotas), checked in one store call. */
interface QuotaPart {
  readonly quotas: StoreQuotas;
  /** Key and cost per quota group, in the order of `quotas.groups`. */
  readonly groups: readonly Group[];
  /** For each quota group, the index of its first limit in the set's `limits`. */
  readonly offsets: readonly number[];
}

/** The compiled form of one `limits` list. */
interface LimitSet {
  readonly groups: readonly Group[];
  /** Every limit, in config order (for RateLimit-Policy). */
  readonly limits: readonly Limit[];
  readonly policyHeader: string;
  /** For each group, the index of its first limit in `limits`. */
  readonly offsets: readonly number[];
  /** The quotas kept in the state store, or null (no store, or no limit of a minute or longer). */
  readonly store: QuotaPart | null;
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
  /** Index in set.limits of the decision's limit. */
  limitIndex: number;
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

function validate(o: RateLimitOptions, _config: GatewayConfig): string[] {
  const issues: string[] = [];
  validateLimits(o.limits ?? [], 'limits', issues);
  (o.overrides ?? []).forEach((ov, i) => validateLimits(ov.limits, `overrides[${i}].limits`, issues));
  return issues;
}

function compileSet(list: LimitOptions[], scope: string, tag: string, store: StateStore | null): LimitSet {
  const byKey = new Map<string, { key: string[]; cost: number; limits: Limit[] }>();
  const inStore = new Map<string, { key: string[]; cost: number; limits: Limit[]; onStoreFailure: StoreFailurePolicy }>();
  const all: Limit[] = [];
  for (const l of list) {
    const key = [...(l.key ?? ['ip'])];
    if (scope === 'route' && !key.includes('route')) key.unshift('route');
    const cost = l.cost ?? 1;
    const limit = limitFromRate(l.name ?? l.rate, l.rate, l.burst);
    all.push(limit);
    if (store && limit.periodMs >= STORE_MIN_PERIOD_MS) {
      const onStoreFailure = l.onStoreFailure ?? 'local';
      const sig = JSON.stringify([key, cost, onStoreFailure]);
      let q = inStore.get(sig);
      if (!q) inStore.set(sig, (q = { key, cost, limits: [], onStoreFailure }));
      q.limits.push(limit);
      continue;
    }
    const sig = JSON.stringify([key, cost]);
    let g = byKey.get(sig);
    if (!g) byKey.set(sig, (g = { key, cost, limits: [] }));
    g.limits.push(limit);
  }
  const groups: Group[] = [];
  const offsets: number[] = [];
  for (const g of byKey.values()) {
    // The id travels in gossip: the same config gives the same id in every member.
    const id = `rl:${digest([tag, g.key, g.cost, g.limits.map((l) => [l.count, l.periodMs, l.burst])])}`;
    groups.push({ policy: Object.freeze({ id, limits: g.limits }), extract: compileKey(g.key, id), cost: g.cost });
    offsets.push(all.indexOf(g.limits[0]));
  }
  return { groups, limits: all, policyHeader: rateLimitPolicy(all), offsets, store: store && inStore.size > 0 ? compileQuotas(store, tag, [...inStore.values()], all) : null };
}

/** The store's groups: ids from the config alone, so every process and host of the fleet shares the same keys. */
function compileQuotas(store: StateStore, tag: string, list: { key: string[]; cost: number; limits: Limit[]; onStoreFailure: StoreFailurePolicy }[], all: Limit[]): QuotaPart {
  const groups: QuotaGroup[] = [];
  const local: Group[] = [];
  for (const q of list) {
    const id = `q:${digest([tag, q.key, q.cost, q.limits.map((l) => [l.count, l.periodMs, l.burst])])}`;
    groups.push({ id, limits: q.limits, onStoreFailure: q.onStoreFailure });
    local.push({ policy: Object.freeze({ id, limits: q.limits }), extract: compileKey(q.key, id), cost: q.cost });
  }
  return { quotas: new StoreQuotas(store, groups), groups: local, offsets: list.map((q) => all.indexOf(q.limits[0])) };
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
    /** Alert sanctions of the process: a tightened consumer or network gets a share of its limits. */
    private readonly sanctions: Sanctions | null = null,
    /** The process's state store (quotas), or null: every limit is decided on the gateways. */
    store: StateStore | null = null,
  ) {
    const scope = options.scope ?? 'route';
    this.monitor = options.mode === 'monitor';
    this.sendHeaders = options.headers === true;
    this.base = compileSet(options.limits, scope, '', store);
    this.overrides = (options.overrides ?? []).map((o) => ({ group: o.group, set: compileSet(o.limits, scope, `group:${o.group}`, store) }));
    if (store) this.logPaths();
    for (const s of [this.base, ...this.overrides.map((o) => o.set)]) for (const g of s.groups) limiter.register(g.policy);
    if (this.sendHeaders) this.onResponse = (ctx, res) => this.addHeaders(ctx, res);
    this.alertAt = [...(options.alerts?.at ?? [])].sort((a, b) => a - b).map((p) => p / 100);
    // Bounded: an attacker rotating keys cannot grow it; an entry lives one window at most.
    this.alerted = this.alertAt.length > 0 ? new LRUCache({ max: 100_000, ttl: 24 * 3600 * 1000, ttlAutopurge: false }) : null;
    const hook = options.alerts?.webhook;
    this.webhook = hook ? new WebhookSender({ url: hook.url, secret: hook.secret ? resolveSecret(hook.secret) : undefined }, log) : null;
  }

  /** Which limit is decided where: one line per limit list at compile. */
  private logPaths(): void {
    for (const [group, set] of [['', this.base] as const, ...this.overrides.map((o) => [o.group, o.set] as const)]) {
      const inStore = new Set(set.store ? set.store.quotas.groups.flatMap((g) => g.limits) : []);
      const paths = set.limits.map((l) => ({ limit: l.name, path: inStore.has(l) ? 'store' : 'gateway' }));
      this.log?.info({ override: group || undefined, paths }, 'rate-limit: limits of a minute or longer are kept in the state store');
    }
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

  onRequest(ctx: RequestContext): StageResult | Promise<StageResult> {
    const set = this.setFor(ctx);
    // An alert rule may have tightened this consumer or network: each request then costs `scale` times more.
    const scale = this.sanctions === null || !this.sanctions.active ? 1 : this.sanctions.tightenFactor((ctx.state.identity as Principal | undefined)?.consumer ?? null, ctx.clientAddress);
    if (set.store) return this.withStore(ctx, set, set.store, scale);
    const local = this.decideLocally(ctx, set, scale);
    return this.conclude(ctx, set, local.key, local.decision, local.limitIndex);
  }

  /**
   * Local limits first, without charging them (a refusal there costs no round
   * trip), then every quota in one store call, then the local limits charged.
   */
  private withStore(ctx: RequestContext, set: LimitSet, part: QuotaPart, scale: number): Promise<StageResult> | StageResult {
    for (let i = 0; i < set.groups.length; i++) {
      const g = set.groups[i];
      const key = g.extract(ctx);
      const d = this.limiter.check(key, g.policy, costOf(g, scale), true);
      if (!d.allowed) return this.conclude(ctx, set, key, d, set.offsets[i] + d.limitIndex);
    }
    const keys = part.groups.map((g) => g.extract(ctx));
    const costs = part.groups.map((g) => costOf(g, scale));
    return part.quotas.check(keys, costs).then((q: QuotaDecision) => {
      const quota: Decision = { allowed: q.allowed, limitIndex: q.limitIndex, remaining: q.remaining, resetMs: q.resetMs, retryAfterMs: q.retryAfterMs, fallback: q.fallback };
      const quotaIndex = part.offsets[q.groupIndex] + q.limitIndex;
      if (!q.allowed || set.groups.length === 0) return this.conclude(ctx, set, keys[q.groupIndex], quota, quotaIndex);
      const local = this.decideLocally(ctx, set, scale);
      if (!local.decision.allowed || local.decision.remaining < quota.remaining) return this.conclude(ctx, set, local.key, local.decision, local.limitIndex);
      return this.conclude(ctx, set, keys[q.groupIndex], quota, quotaIndex);
    });
  }

  /** The limits decided on the gateways (gossip-shared), charged when all admit. */
  private decideLocally(ctx: RequestContext, set: LimitSet, scale: number): { key: string; decision: Decision; limitIndex: number } {
    const groups = set.groups;
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
    return { key, decision, limitIndex: set.offsets[index] + decision.limitIndex };
  }

  /** `limitIndex`: the decision's limit in set.limits. */
  private conclude(ctx: RequestContext, set: LimitSet, key: string, decision: Decision, limitIndex: number): StageResult {
    if (this.alerted) this.checkAlerts(ctx, key, set.limits[limitIndex], decision);
    if (decision.allowed) {
      this.counters.admitted++;
      if (this.sendHeaders) ctx.state['rate-limit'] = { set, decision, limitIndex } satisfies RequestLimitState;
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
    const d = { ...st.decision, limitIndex: st.limitIndex };
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
export const rateLimitStage = defineStage<RateLimitOptions>({
  type: 'rate-limit',
  schema: rateLimitSchema,
  validate,
  compile(options, context: StageContext): Stage {
    const limiter = context.services.get(RATE_LIMITER);
    return new RateLimitStage(options, limiter, context.log ?? null, context.services.find(SANCTIONS), context.services.find(STATE_STORE));
  },
});
