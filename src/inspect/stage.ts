import type { Counter } from '../core/metrics.js';
import { Errors } from '../errors.js';
import type { RequestContext, Stage, StageContext, StageFactory, StageResult } from '../pipeline/stage.js';
import type { Logger } from '../observe/log.js';
import { PoolOverloadedError, workerPool, type WorkerPool } from '../workers/pool.js';
import { THRESHOLDS, type Level } from './detect.js';
import { scanRequest, type ScanFinding, type ScanInput } from './request-scan.js';

/**
 * Requests up to this many inspected bytes are scanned inline: the detector
 * does a 2 KB JSON body in about 80 us (scripts/eval-threats.mjs figures, 2-core
 * VM), about one piscina round trip (~85 us, issue 3), so moving small inputs
 * to the pool would cost more than it saves. Larger ones go to the pool.
 */
const INLINE_MAX_BYTES = 16 * 1024;

interface Exclusion {
  location?: ScanFinding['location'];
  /** Header/cookie/parameter name or JSON path the exclusion applies to. */
  name?: string;
  rules?: string[];
}

interface InspectOptions {
  level: Level;
  mode: 'block' | 'monitor';
  locations: { path: boolean; query: boolean; headers: boolean; cookies: boolean; body: boolean };
  exclude: Exclusion[];
  /** Bodies larger than this are not inspected: refused (default) or passed with a log line. */
  maxInspectBytes: number;
  oversize: 'refuse' | 'pass';
  /** When the worker pool fails or times out: refuse (default) or pass. */
  failOpen: boolean;
  timeoutMs: number;
}

/** Headers that carry no user input worth scanning, or are checked elsewhere. */
const SKIP_HEADERS = new Set(['host', 'content-length', 'content-type', 'connection', 'authorization', 'cookie', 'x-request-id', 'traceparent', 'tracestate', 'accept', 'accept-encoding', 'accept-language']);

const location = { enum: ['path', 'query', 'header', 'cookie', 'body'] };
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { const: 'inspect' },
    level: { enum: [1, 2, 3, 4], default: 2 },
    mode: { enum: ['block', 'monitor'], default: 'block' },
    locations: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: Object.fromEntries(['path', 'query', 'headers', 'cookies', 'body'].map((k) => [k, { type: 'boolean', default: true }])),
    },
    exclude: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { location, name: { type: 'string', minLength: 1 }, rules: { type: 'array', items: { type: 'string' } } },
      },
    },
    maxInspectBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 },
    oversize: { enum: ['refuse', 'pass'], default: 'refuse' },
    failOpen: { type: 'boolean', default: false },
    timeoutMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 2000 },
  },
};

function bodyKind(contentType: string | undefined): ScanInput['bodyKind'] {
  if (!contentType) return 'text';
  const ct = contentType.toLowerCase();
  if (ct.includes('json')) return 'json';
  if (ct.startsWith('application/x-www-form-urlencoded')) return 'form';
  if (ct.startsWith('text/') || ct.startsWith('multipart/form-data') || ct.includes('xml')) return 'text';
  return null; // binary: nothing a detector can read
}

function splitCookies(value: string, into: [string, string][]): void {
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) into.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
}

class InspectStage implements Stage {
  readonly name = 'inspect';
  readonly needsRequestBody: boolean;
  private readonly threshold: number;

  constructor(
    private readonly o: InspectOptions,
    private readonly pool: WorkerPool<ScanInput, ScanFinding[]> | null,
    private readonly log: Logger,
    private readonly threats: Counter,
  ) {
    this.needsRequestBody = o.locations.body;
    this.threshold = THRESHOLDS[o.level];
  }

  onRequest(ctx: RequestContext): StageResult | Promise<StageResult> {
    const o = this.o;
    const input: ScanInput = {
      level: o.level,
      path: o.locations.path ? ctx.path : null,
      query: o.locations.query ? ctx.query : null,
      headers: [],
      cookies: [],
      body: null,
      bodyKind: null,
    };
    const raw = ctx.headers.raw;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i] === 'cookie') {
        if (o.locations.cookies) splitCookies(raw[i + 1], input.cookies);
      } else if (o.locations.headers && !SKIP_HEADERS.has(raw[i])) input.headers.push([raw[i], raw[i + 1]]);
    }
    let size = (input.path?.length ?? 0) + (input.query?.length ?? 0);
    if (ctx.body !== null && ctx.body.length > 0) {
      const kind = bodyKind(ctx.headers.get('content-type'));
      if (kind !== null) {
        if (ctx.body.length > o.maxInspectBytes) {
          if (o.oversize === 'refuse') return { error: Errors.BODY_TOO_LARGE, reason: `body of ${ctx.body.length} bytes over the inspection limit ${o.maxInspectBytes}` };
          this.log.warn({ reqId: ctx.id, route: ctx.route.name, bytes: ctx.body.length }, 'inspection: body over the limit passed uninspected');
        } else {
          input.body = ctx.body.toString('utf8');
          input.bodyKind = kind;
          size += ctx.body.length;
        }
      }
    }
    if (size <= INLINE_MAX_BYTES || !this.pool) return this.decide(ctx, scanRequest(input));
    return this.pool.run(input, { signal: AbortSignal.timeout(o.timeoutMs), maxWaitMs: o.timeoutMs }).then(
      (findings: ScanFinding[]) => this.decide(ctx, findings),
      (err: Error) => {
        // Overload, not a failure: the pool logs it once a second with counts.
        if (err instanceof PoolOverloadedError) return o.failOpen ? undefined : { error: Errors.OVERLOADED, reason: err.message, headers: [['retry-after', '1']] };
        // A crashed or hung worker is replaced by piscina; the request still gets an answer.
        this.log.error({ reqId: ctx.id, route: ctx.route.name, err: err.message }, 'inspection worker failed');
        return o.failOpen ? undefined : { error: Errors.INSPECTION_FAILED, reason: `inspection worker failed: ${err.message}` };
      },
    );
  }

  private decide(ctx: RequestContext, findings: ScanFinding[]): StageResult {
    let worst = 0;
    let rules: string[] = [];
    let where: ScanFinding | null = null;
    for (const f of findings) {
      const kept = this.excluded(f);
      if (kept.length === 0) continue;
      if (f.score > worst) {
        worst = f.score;
        rules = kept;
        where = f;
      }
    }
    if (worst < this.threshold || !where) return undefined;
    const action = this.o.mode === 'monitor' ? 'passed' : 'blocked';
    for (const rule of rules) this.threats.inc([ctx.route.name, rule, action]);
    const detail = { reqId: ctx.id, route: ctx.route.name, score: worst, rules, location: where.location, at: where.path, snippet: where.snippet };
    if (this.o.mode === 'monitor') {
      this.log.warn(detail, 'inspection: attack pattern (monitor mode, passed)');
      return undefined;
    }
    this.log.warn(detail, 'inspection: attack pattern blocked');
    return { error: Errors.THREAT_DETECTED, reason: `score ${worst} at ${where.location} ${where.path}`, label: where.location, extra: { rules } };
  }

  /** The finding's rules that no exclusion covers. */
  private excluded(f: ScanFinding): string[] {
    let rules = f.rules;
    for (const e of this.o.exclude) {
      if (e.location && e.location !== f.location) continue;
      if (e.name && e.name !== f.path) continue;
      rules = e.rules ? rules.filter((r) => !e.rules!.includes(r)) : [];
    }
    return rules;
  }
}

/** Request validation against SQL injection, XSS, traversal, command and CRLF injection. */
export const inspectStage: StageFactory = {
  type: 'inspect',
  schema,
  compile(options, context: StageContext): Stage {
    return new InspectStage(
      options as unknown as InspectOptions,
      workerPool(new URL('./worker.js', import.meta.url), context.workers, context.log),
      context.log,
      context.metrics.counter('ztgate_threats_total', 'Attack patterns found, by route, rule and action (blocked, or passed in monitor mode).', ['route', 'rule', 'action']),
    );
  },
};
