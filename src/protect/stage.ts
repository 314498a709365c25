import { Errors } from '../errors.js';
import type { SecretRef } from '../config/types.js';
import { resolveSecret } from '../config/secrets.js';
import { secretRef } from '../config/schema-parts.js';
import type { Principal } from '../identity/types.js';
import type { Logger } from '../observe/log.js';
import type { RequestContext, ResponseContext, Stage, StageContext, StageFactory } from '../pipeline/stage.js';
import { detectJson, detectPii, ENTITIES, JsonScanError, type JsonPiiSpan } from './detect.js';
import { applyToJson, applyToText, hash, mask, type Action } from './mask.js';
import type { PiiSpan } from './detectors/common.js';

type ActionName = 'mask' | 'redact' | 'hash' | 'allow';

interface Grant {
  consumers?: string[];
  groups?: string[];
  scopes?: string[];
  /** Entity → action for callers this grant matches. */
  actions: Record<string, ActionName>;
}

interface ProtectOptions {
  entities: string[];
  /** Entity → action for everyone without a grant (unlisted entities: mask). Grants only loosen or change it per caller. */
  actions: Record<string, ActionName>;
  keepLast: number;
  hashKey?: SecretRef;
  grants: Grant[];
  /** Responses larger than this are refused (fail closed) or passed with a log line. */
  maxScanBytes: number;
  oversize: 'refuse' | 'pass';
}

const actionEnum = { enum: ['mask', 'redact', 'hash', 'allow'] };
const actionsSchema = { type: 'object', propertyNames: { enum: [...ENTITIES] }, additionalProperties: actionEnum };
const names = { type: 'array', items: { type: 'string', minLength: 1 } };

function matches(p: Principal | undefined, g: Grant): boolean {
  if (!p) return false;
  if (g.consumers && p.consumer && g.consumers.includes(p.consumer)) return true;
  if (g.groups && g.groups.some((x) => p.roles.has(x))) return true;
  if (g.scopes && g.scopes.some((x) => p.scopes.has(x))) return true;
  return false;
}

class ProtectStage implements Stage {
  readonly name = 'protect';
  readonly needsResponseBody = true;
  private readonly hashKey: string | null;
  /** The action per entity for callers without a grant. */
  private readonly defaults: Record<string, ActionName>;

  constructor(
    private readonly o: ProtectOptions,
    private readonly log: Logger,
  ) {
    this.hashKey = o.hashKey ? resolveSecret(o.hashKey) : null;
    // Zero trust: masked unless granted.
    this.defaults = Object.fromEntries(o.entities.map((e) => [e, o.actions[e] ?? 'mask']));
  }

  /** Ask for an uncompressed answer: a compressed body could not be scanned. */
  onRequest(ctx: RequestContext): undefined {
    ctx.headers.set('accept-encoding', 'identity');
    return undefined;
  }

  onResponse(ctx: RequestContext, res: ResponseContext): void {
    const body = res.body;
    if (!body || body.length === 0) return;
    const encoding = res.headers.get('content-encoding');
    if (encoding && encoding.toLowerCase() !== 'identity') {
      // Never pass on what could not be scanned.
      this.block(ctx, res, `upstream sent content-encoding ${encoding} despite accept-encoding: identity`);
      return;
    }
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    const json = type.includes('json');
    if (!json && !type.startsWith('text/') && !type.includes('x-www-form-urlencoded') && !type.includes('xml')) return; // binary
    if (body.length > this.o.maxScanBytes) {
      if (this.o.oversize === 'refuse') this.block(ctx, res, `response of ${body.length} bytes over the scan limit`);
      else this.log.warn({ reqId: ctx.id, route: ctx.route.name, bytes: body.length }, 'protect: response over the scan limit passed unscanned');
      return;
    }
    const actions = this.actionsFor(ctx.state.identity as Principal | undefined);
    const counts: Record<string, number> = {};
    const paths = new Set<string>();
    const act: Action = (value, span) => {
      const name = actions[span.entity] ?? 'allow';
      counts[`${span.entity}:${name}`] = (counts[`${span.entity}:${name}`] ?? 0) + 1;
      if ((span as JsonPiiSpan).path) paths.add((span as JsonPiiSpan).path);
      return this.apply(name, value, span);
    };
    const text = body.toString('utf8');
    let out: string;
    try {
      if (json) out = applyToJson(text, detectJson(text, this.o.entities), act);
      else out = applyToText(text, detectPii(text, this.o.entities), act);
    } catch (err) {
      if (!(err instanceof JsonScanError)) throw err;
      // Not JSON after all (or over the walk limits): scan it as text rather than pass it unscanned.
      out = applyToText(text, detectPii(text, this.o.entities), act);
    }
    if (Object.keys(counts).length === 0) return;
    // Audit: what was done, where; never the values.
    this.log.info({ reqId: ctx.id, route: ctx.route.name, consumer: (ctx.state.identity as Principal | undefined)?.consumer, pii: counts, paths: [...paths].slice(0, 32) }, 'protect: personal data handled');
    res.body = Buffer.from(out, 'utf8');
  }

  private apply(name: ActionName, value: string, span: PiiSpan): string {
    switch (name) {
      case 'allow':
        return value;
      case 'redact':
        return '';
      case 'hash':
        return hash(value, this.hashKey!, span.entity);
      default:
        return mask(value, this.o.keepLast);
    }
  }

  private actionsFor(p: Principal | undefined): Record<string, ActionName> {
    for (const g of this.o.grants) if (matches(p, g)) return { ...this.defaults, ...g.actions };
    return this.defaults;
  }

  private block(ctx: RequestContext, res: ResponseContext, reason: string): void {
    this.log.warn({ reqId: ctx.id, route: ctx.route.name, reason }, 'protect: response withheld');
    res.status = Errors.UPSTREAM_BAD_RESPONSE.status;
    res.headers.raw.length = 0;
    res.headers.set('content-type', 'application/problem+json');
    res.body = Buffer.from(JSON.stringify({ type: `urn:ztgate:error:ZTG_RESPONSE_WITHHELD`, title: 'Response withheld: it could not be scanned', status: 502, code: 'ZTG_RESPONSE_WITHHELD', requestId: ctx.id }));
  }
}

/** Detects personal data in responses and masks, redacts or hashes it per consumer. */
export const protectStage: StageFactory = {
  type: 'protect',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: 'protect' },
      entities: { type: 'array', items: { enum: [...ENTITIES] }, default: [...ENTITIES] },
      actions: { ...actionsSchema, default: {} },
      keepLast: { type: 'integer', minimum: 0, maximum: 8, default: 4 },
      hashKey: secretRef,
      grants: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['actions'],
          properties: { consumers: names, groups: names, scopes: names, actions: actionsSchema },
        },
      },
      maxScanBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 },
      oversize: { enum: ['refuse', 'pass'], default: 'refuse' },
    },
  },
  validate(options) {
    const o = options as unknown as ProtectOptions;
    const all = [o.actions, ...o.grants.map((g) => g.actions)].flatMap((a) => Object.values(a));
    return all.includes('hash') && !o.hashKey ? ['hashKey: the hash action needs a key'] : [];
  },
  compile(options, context: StageContext): Stage {
    return new ProtectStage(options as unknown as ProtectOptions, context.log);
  },
};
