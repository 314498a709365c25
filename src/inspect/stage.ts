import type { Counter } from '../core/metrics.js';
import { Errors } from '../errors.js';
import type { RequestContext, Stage, StageContext, StageFactory, StageResult } from '../pipeline/stage.js';
import type { Logger } from '../observe/log.js';
import { PoolOverloadedError, workerPool, type WorkerPool } from '../workers/pool.js';
import { THRESHOLDS, type Level } from './detect.js';
import { scanRequest, type ScanFinding, type ScanInput } from './request-scan.js';
import { boundaryOf } from './multipart.js';

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

/** A field that holds prose (a comment box, a ticket body): judged for markup and script only. */
interface FreeText {
  location?: ScanFinding['location'];
  /** Parameter name or JSON path (`$.ticket.body`). */
  name: string;
}

/** Rules that still apply to a free-text field: what a browser would run if the text were rendered. */
const MARKUP_RULE = /^(?:xss-|js-)/;

interface InspectOptions {
  level: Level;
  mode: 'block' | 'monitor';
  locations: { path: boolean; query: boolean; headers: boolean; cookies: boolean; body: boolean };
  exclude: Exclusion[];
  freeText: FreeText[];
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
  description: 'Scans requests for attacks (SQL injection, XSS, path traversal, command and CRLF injection) and refuses them with 403. Every matched rule adds to a score; a request at the level\'s threshold is an attack.',
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { const: 'inspect', description: 'Selects the inspect stage.' },
    level: { enum: [1, 2, 3, 4], default: 2, description: 'Sensitivity, 1 to 4: each level adds rules that catch more attacks and also flag more harmless input (level 4 also lowers the threshold). Raise it where false positives are acceptable.' },
    mode: { enum: ['block', 'monitor'], default: 'block', description: '`block` refuses attacks with 403; `monitor` lets them through and logs a warning, for tuning `level` and `exclude` first.' },
    locations: {
      description: 'Which parts of the request are scanned; all by default.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: Object.fromEntries(['path', 'query', 'headers', 'cookies', 'body'].map((k) => [k, { type: 'boolean', default: true, description: `Scan the request ${k}${k === 'headers' ? ' (except Host, Authorization, Cookie and other fixed-format headers)' : k === 'body' ? ' (JSON, form and text bodies; binary bodies are not read)' : ''}.` }])),
    },
    exclude: {
      description: 'Known-good input to leave out: a finding matching every field given (`location`, `name`, `rules`) is ignored. Use it for a field that legitimately holds markup or SQL.',
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          location: { ...location, description: 'Where the finding is: `path`, `query`, `header`, `cookie` or `body`.' },
          name: { type: 'string', minLength: 1, description: 'Header, cookie or parameter name, or JSON path of a body field (`$.comment`), as shown in the log line of the finding.' },
          rules: { type: 'array', items: { type: 'string' }, description: 'Rule IDs to ignore there (such as `sqli-union-select`); omit to ignore every rule.' },
        },
      },
    },
    freeText: {
      type: 'array',
      default: [],
      description:
        'Fields that hold prose, code snippets or Markdown (a comment box, a ticket body), by parameter name or JSON path: only markup and script rules (xss-*, js-*) apply to them; command, SQL, code and protocol rules do not.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          location: { ...location, description: 'Where the field is; any location when absent.' },
          name: { type: 'string', minLength: 1, description: 'Parameter name, or JSON path such as $.ticket.body.' },
        },
      },
    },
    maxInspectBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024, description: 'Largest body in bytes that is scanned; see `oversize` for larger ones.' },
    oversize: { enum: ['refuse', 'pass'], default: 'refuse', description: 'A body over `maxInspectBytes`: `refuse` answers 413, `pass` forwards it unscanned with a warning log line.' },
    failOpen: { type: 'boolean', default: false, description: 'When the scanning worker fails or times out: `false` refuses with 503, `true` lets the request through (the failure is logged either way).' },
    timeoutMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 2000, description: 'Milliseconds a scan in the worker pool may take (inputs over 16 KB are scanned there; smaller ones inline).' },
  },
};

function bodyKind(contentType: string | undefined): ScanInput['bodyKind'] {
  if (!contentType) return 'undeclared';
  const ct = contentType.toLowerCase();
  if (ct.includes('json')) return 'json';
  if (ct.startsWith('application/x-www-form-urlencoded')) return 'form';
  if (ct.startsWith('multipart/form-data')) return 'multipart';
  if (ct.startsWith('text/') || ct.includes('xml')) return 'text';
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
          if (kind === 'multipart') input.boundary = boundaryOf(ctx.headers.get('content-type') ?? '');
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
      const score = kept.length === f.rules.length || !f.ruleScores ? f.score : this.keptScore(f, kept);
      if (score > worst) {
        worst = score;
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

  /** The summed score of the rules a free-text field keeps. */
  private keptScore(f: ScanFinding, kept: string[]): number {
    let score = 0;
    for (let i = 0; i < f.rules.length; i++) if (kept.includes(f.rules[i])) score += f.ruleScores![i];
    return score;
  }

  /** The finding's rules that no exclusion covers. */
  private excluded(f: ScanFinding): string[] {
    let rules = f.rules;
    for (const ft of this.o.freeText) {
      if (ft.location && ft.location !== f.location) continue;
      if (ft.name === f.path) rules = rules.filter((r) => MARKUP_RULE.test(r));
    }
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
