import { Errors, type GatewayErrorKind } from '../errors.js';
import type { SecretRef } from '../core/secrets.js';
import { resolveSecret } from '../core/secrets.js';
import { secretRef } from '../core/schema-parts.js';
import type { Principal } from '../identity/types.js';
import type { Logger } from '../observe/log.js';
import type { Counter } from '../core/metrics.js';
import type { RequestContext, ResponseContext, Stage, StageContext, StageFactory, StageResult } from '../pipeline/stage.js';
import { PoolOverloadedError, workerPool, type WorkerPool } from '../workers/pool.js';
import type { HeaderList } from '../pipeline/headers.js';
import { ENTITIES, ALL_ENTITIES, REGIONS, type JsonPiiSpan } from './detect.js';
import { applyToJson, applyToText, hash, mask, type Action } from './mask.js';
import { applyToForm } from './form.js';
import type { PiiSpan } from './detectors/common.js';
import { compileCustom, specProblems, type CompiledCustom, type CustomDetectorSpec } from './custom.js';
import { encryptValue, loadRecipient, type Recipient, type RecipientSpec } from './encrypt.js';
import { bodyKindOf, scanBody, type BodyKind, type ScanResult, type ScanTask } from './scan.js';
import { decodeBody, encodeBody, acceptsEncoding, DecompressLimitError, DECODABLE } from './compression.js';

type ActionName = 'mask' | 'redact' | 'hash' | 'allow';
/** An action as configured: a name, or `{ encrypt: <recipient> }`. */
type ActionConfig = ActionName | { encrypt: string };

interface Grant {
  consumers?: string[];
  groups?: string[];
  scopes?: string[];
  /** Entity → action for callers this grant matches. */
  actions: Record<string, ActionConfig>;
}

interface ProtectOptions {
  entities: string[];
  /** Detectors defined in config: pattern, keywords or JSON fields. */
  detectors: CustomDetectorSpec[];
  /** Entity → action for everyone without a grant (unlisted entities: mask). Grants only loosen or change it per caller. */
  actions: Record<string, ActionConfig>;
  keepLast: number;
  hashKey?: SecretRef;
  grants: Grant[];
  /** Public keys of the recipients named by `encrypt` actions. */
  recipients: Record<string, RecipientSpec>;
  /** Scan responses (default) and, when `requests` is set, request bodies before they go upstream. */
  responses: boolean;
  requests?: { actions: Record<string, ActionConfig> };
  /** Bodies larger than this are refused (fail closed) or passed with an alert. */
  maxScanBytes: number;
  /** Only bodies of these types are scanned (`type/subtype`, `type/*`); default: every non-binary type. */
  contentTypes?: string[];
  oversize: 'refuse' | 'pass';
  /** Compressed answers: ask for identity (default) or accept gzip/deflate/br and decompress to scan. */
  compressed: 'identity' | 'decompress';
  /** After a decompressed scan: compress again with the upstream's encoding when the client accepts it. */
  recompress: boolean;
  /** Worker-pool scans (bodies over 16 KiB) that take longer fail closed. */
  timeoutMs: number;
  /** Regions whose national phone numbers (written without a country code) are detected. */
  phoneRegions?: string[];
}

/**
 * Bodies up to this size are scanned inline: the detectors do a 4 KB JSON body in
 * tens of microseconds, below a piscina round trip (~85 us, issue 3).
 */
const INLINE_MAX_BYTES = 16 * 1024;

const WITHHELD = 'protect.withheld';
const CLIENT_ACCEPTS = 'protect.acceptEncoding';

const ENTITY_NAME = '^[A-Z][A-Z0-9_]{0,31}$';
const actionSchema = {
  description: '`mask` (all but the last `keepLast` letters and digits), `redact` (removed), `hash` (keyed HMAC-SHA256, so equal values stay equal), `allow` (shown), or `{ encrypt: <recipient> }` (a JWE only that recipient can open).',
  oneOf: [
    { enum: ['mask', 'redact', 'hash', 'allow'] },
    { type: 'object', additionalProperties: false, required: ['encrypt'], properties: { encrypt: { type: 'string', minLength: 1, description: 'Name of the recipient (under `recipients`) whose public key the value is encrypted to.' } } },
  ],
};
const actionsSchema = { type: 'object', propertyNames: { pattern: ENTITY_NAME }, additionalProperties: actionSchema };
const names = { type: 'array', items: { type: 'string', minLength: 1 } };
const detectorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: ENTITY_NAME, description: 'Entity name (upper case, such as `EMPLOYEE_ID`) used in `actions` and in the audit log.' },
    pattern: { type: 'string', minLength: 1, maxLength: 256, description: 'Regular expression of the values; checked at load so a match stays bounded (every repeat `{m,n}` with n up to 64, no nested or unbounded quantifiers, no backreferences).' },
    ignoreCase: { type: 'boolean', description: 'Match `pattern` case-insensitively.' },
    keywords: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', pattern: '^[\\p{L}\\p{N}_]{1,64}$' }, description: 'Whole words that are the data, matched case-insensitively.' },
    fields: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'JSON keys (`password`) or paths (`$.customer.ssn`, `$.items[*].card`), or form field names, whose values are the data whatever they look like.' },
  },
};
const recipientSchema = {
  description: 'A recipient: its public key as `jwk` or as `publicKey`, exactly one.',
  type: 'object',
  additionalProperties: false,
  properties: {
    jwk: { type: 'object', required: ['kty'], description: 'The recipient\'s public key as a JWK (RSA, EC or X25519/X448).' },
    publicKey: { ...secretRef, description: 'The recipient\'s public key in PEM.' },
    kid: { type: 'string', minLength: 1, maxLength: 128, description: 'Key ID written in the JWE header; default: the JWK\'s `kid`.' },
  },
  oneOf: [{ required: ['jwk'] }, { required: ['publicKey'] }],
};

function matches(p: Principal | undefined, g: Grant): boolean {
  if (!p) return false;
  if (g.consumers && p.consumer && g.consumers.includes(p.consumer)) return true;
  if (g.groups && g.groups.some((x) => p.roles.has(x))) return true;
  if (g.scopes && g.scopes.some((x) => p.scopes.has(x))) return true;
  return false;
}

/** Least to most revealing is the wrong way round: redact shows nothing, encrypt only to its recipient, hash equality, mask the last digits. */
const STRICTNESS: Record<string, number> = { allow: 0, mask: 1, hash: 2, encrypt: 3, redact: 4 };

/** The strictest of the configured actions: what a caller no grant matches gets when `actions` does not say. */
function strictest(list: (ActionConfig | undefined)[]): ActionConfig {
  let best: ActionConfig = 'mask';
  for (const a of list) if (a !== undefined && STRICTNESS[actionLabel(a)]! > STRICTNESS[actionLabel(best)]!) best = a;
  return best;
}

function typeListed(types: readonly string[], contentType: string | undefined): boolean {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  for (const t of types) {
    if (t === ct) return true;
    if (t.endsWith('/*') && ct.startsWith(t.slice(0, -1))) return true;
  }
  return false;
}

const actionLabel = (a: ActionConfig): string => (typeof a === 'string' ? a : 'encrypt');

type Direction = 'request' | 'response';

class ProtectStage implements Stage {
  readonly name = 'protect';
  readonly needsResponseBody: boolean;
  readonly needsRequestBody: boolean;
  private readonly hashKey: string | null;
  /** The action per entity for callers without a grant. */
  private readonly defaults: Record<string, ActionConfig>;
  /** Per grant, the defaults with the grant's actions over them (merged once, at compile). */
  private readonly granted: Record<string, ActionConfig>[];
  private readonly requestActions: Record<string, ActionConfig> | null;
  private readonly recipients = new Map<string, Recipient>();
  private readonly custom: CompiledCustom;
  private readonly upstreamEncoding: string;

  constructor(
    private readonly o: ProtectOptions,
    private readonly log: Logger,
    private readonly pool: WorkerPool<ScanTask, ScanResult> | null,
    private readonly actionsCounter: Counter | null,
    private readonly unscannedCounter: Counter | null,
  ) {
    this.hashKey = o.hashKey ? resolveSecret(o.hashKey) : null;
    const all = [...o.entities, ...o.detectors.map((d) => d.name)];
    // Zero trust: masked unless granted.
    this.defaults = Object.fromEntries(all.map((e) => [e, o.actions[e] ?? strictest(['mask', ...o.grants.map((g) => g.actions[e])])]));
    this.granted = o.grants.map((g) => ({ ...this.defaults, ...g.actions }));
    this.requestActions = o.requests ? { ...this.defaults, ...o.requests.actions } : null;
    for (const [name, spec] of Object.entries(o.recipients)) this.recipients.set(name, loadRecipient(name, spec));
    this.custom = compileCustom(o.detectors);
    this.needsResponseBody = o.responses;
    this.needsRequestBody = o.requests !== undefined;
    this.upstreamEncoding = o.compressed === 'decompress' ? DECODABLE.join(', ') : 'identity';
  }

  onRequest(ctx: RequestContext): StageResult | Promise<StageResult> {
    // A compressed answer is either refused (identity asked) or one we can decode.
    if (this.o.responses) {
      // What the client accepts decides the encoding of the answer; the upstream is asked for what we decode.
      if (this.o.compressed === 'decompress') ctx.state[CLIENT_ACCEPTS] = ctx.headers.get('accept-encoding');
      ctx.headers.set('accept-encoding', this.upstreamEncoding);
    }
    if (!this.requestActions || ctx.body === null || ctx.body.length === 0) return undefined;
    const encoding = ctx.headers.get('content-encoding');
    if (encoding && encoding.toLowerCase() !== 'identity') {
      return { error: Errors.UNSUPPORTED_MEDIA_TYPE, reason: `request body with content-encoding ${encoding} cannot be scanned for personal data` };
    }
    const kind = this.kindOf(ctx.headers.get('content-type'));
    if (kind === null) return undefined; // binary
    if (ctx.body.length > this.o.maxScanBytes) {
      if (this.o.oversize === 'refuse') return { error: Errors.BODY_TOO_LARGE, reason: `body of ${ctx.body.length} bytes over the PII scanning limit ${this.o.maxScanBytes}` };
      this.alertUnscanned(ctx, 'request', ctx.body.length);
      return undefined;
    }
    const actions = this.requestActions;
    return this.protect(ctx, ctx.body, kind, actions, 'request', (out) => {
      if (out !== null) {
        ctx.body = out; // the exchange sends it with its new Content-Length
        dropDigests(ctx.headers);
      }
      return undefined;
    }, (reason, overloaded) => (overloaded ? { error: Errors.OVERLOADED, reason, headers: [['retry-after', '1']] } : { error: Errors.INSPECTION_FAILED, reason }));
  }

  onResponse(ctx: RequestContext, res: ResponseContext): void | Promise<void> {
    const body = res.body;
    if (!body || body.length === 0) return;
    const encoding = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      if (this.o.compressed === 'decompress' && DECODABLE.includes(encoding)) return this.decompressed(ctx, res, body, encoding);
      // Never pass on what could not be scanned.
      this.block(ctx, res, Errors.RESPONSE_WITHHELD, `upstream sent content-encoding ${encoding}, which this route does not decode`);
      return;
    }
    return this.scanResponse(ctx, res, body);
  }

  private scanResponse(ctx: RequestContext, res: ResponseContext, body: Buffer): void | Promise<void> {
    const kind = this.kindOf(res.headers.get('content-type'));
    if (kind === null) return; // binary
    if (body.length > this.o.maxScanBytes) {
      if (this.o.oversize === 'refuse') this.block(ctx, res, Errors.RESPONSE_WITHHELD, `response of ${body.length} bytes over the scan limit`);
      else this.alertUnscanned(ctx, 'response', body.length);
      return;
    }
    const actions = this.actionsFor(ctx.state.identity as Principal | undefined);
    return this.protect(ctx, body, kind, actions, 'response', (out) => {
      if (out !== null) {
        res.body = out;
        dropDigests(res.headers);
      }
    }, (reason, overloaded) => (overloaded ? this.shed(ctx, res, reason) : this.block(ctx, res, Errors.RESPONSE_WITHHELD, reason)));
  }

  /** gzip/deflate/br answer: decoded (async, capped at the scan limit), scanned, sent plain or encoded again. */
  private async decompressed(ctx: RequestContext, res: ResponseContext, body: Buffer, encoding: string): Promise<void> {
    let plain: Buffer;
    try {
      plain = await decodeBody(body, encoding, this.o.maxScanBytes);
    } catch (err) {
      if (err instanceof DecompressLimitError) this.block(ctx, res, Errors.DECOMPRESSION_LIMIT, `${encoding} response expands beyond ${this.o.maxScanBytes} bytes`);
      else this.block(ctx, res, Errors.RESPONSE_WITHHELD, `${encoding} response does not decode: ${(err as Error).message}`);
      return;
    }
    res.body = plain;
    res.headers.remove('content-encoding');
    dropDigests(res.headers); // they describe the encoded bytes
    await this.scanResponse(ctx, res, plain);
    if (ctx.state[WITHHELD]) return;
    if (this.o.recompress && res.body && acceptsEncoding(ctx.state[CLIENT_ACCEPTS] as string | undefined, encoding)) {
      res.body = await encodeBody(res.body, encoding);
      res.headers.set('content-encoding', encoding);
    }
  }

  private kindOf(contentType: string | undefined): BodyKind | null {
    if (this.o.contentTypes && !typeListed(this.o.contentTypes, contentType)) return null; // not asked for on this route
    // Without a type the body is read as text: scanning it costs less than guessing wrong.
    return contentType === undefined || contentType === '' ? 'text' : bodyKindOf(contentType);
  }

  /**
   * Scans (inline, or in the pool above INLINE_MAX_BYTES), applies the caller's
   * actions, logs and counts what was done. `done` gets the rewritten body or null
   * when nothing changed; `failed` the reason a pooled scan failed (fail closed).
   */
  private protect<R>(
    ctx: RequestContext,
    body: Buffer,
    kind: BodyKind,
    actions: Record<string, ActionConfig>,
    direction: Direction,
    done: (out: Buffer | null) => R,
    failed: (reason: string, overloaded: boolean) => R,
  ): R | Promise<R> {
    const text = body.toString('utf8');
    const task: ScanTask = { text, kind, entities: this.o.entities, custom: this.o.detectors, phoneRegions: this.o.phoneRegions };
    if (body.length <= INLINE_MAX_BYTES || !this.pool) {
      return this.finish(ctx, text, scanBody(task, this.custom), actions, direction, done);
    }
    return this.pool.run(task, { signal: AbortSignal.timeout(this.o.timeoutMs), maxWaitMs: this.o.timeoutMs }).then(
      (result: ScanResult) => this.finish(ctx, text, result, actions, direction, done),
      (err: Error) => {
        // Overload, not a failure: the pool logs it once a second with counts.
        if (err instanceof PoolOverloadedError) return failed(err.message, true);
        // A crashed or hung worker is replaced by piscina; the exchange still gets an answer.
        this.log.error({ reqId: ctx.id, route: ctx.route.name, direction, err: err.message }, 'protect: scan worker failed');
        return failed(`PII scan worker failed: ${err.message}`, false);
      },
    );
  }

  private finish<R>(ctx: RequestContext, text: string, result: ScanResult, actions: Record<string, ActionConfig>, direction: Direction, done: (out: Buffer | null) => R): R | Promise<R> {
    if (result.spans.length === 0) return done(null);
    const needsJwe = result.spans.some((s) => typeof actions[s.entity] === 'object');
    if (!needsJwe) return done(this.rewrite(ctx, text, result, actions, direction, null));
    // JWE is asynchronous in jose: encrypt every value first, then rewrite with the results.
    const pending = new Map<string, Promise<string>>();
    const collect: Action = (value, span) => {
      const a = actions[span.entity];
      if (typeof a === 'object') {
        const k = `${a.encrypt}\u0000${span.entity}\u0000${value}`;
        if (!pending.has(k)) pending.set(k, encryptValue(this.recipients.get(a.encrypt)!, value, span.entity));
      }
      return value;
    };
    applySpans(text, result, collect);
    const keys = [...pending.keys()];
    return Promise.all(pending.values()).then((jwes) => {
      const encrypted = new Map(keys.map((k, i) => [k, jwes[i]!]));
      return done(this.rewrite(ctx, text, result, actions, direction, encrypted));
    });
  }

  private rewrite(ctx: RequestContext, text: string, result: ScanResult, actions: Record<string, ActionConfig>, direction: Direction, encrypted: Map<string, string> | null): Buffer {
    // Counted per entity: a request's actions table gives each entity one action.
    const counts = new Map<string, number>();
    // Where: for the audit line only, so gathered only when it is written.
    const paths = this.log.isLevelEnabled('info') ? new Set<string>() : null;
    const act: Action = (value, span) => {
      const a = actions[span.entity] ?? 'allow';
      counts.set(span.entity, (counts.get(span.entity) ?? 0) + 1);
      const path = (span as JsonPiiSpan).path;
      if (path && paths !== null && paths.size < 32) paths.add(path);
      if (typeof a === 'object') return encrypted!.get(`${a.encrypt}\u0000${span.entity}\u0000${value}`)!;
      return this.apply(a, value, span);
    };
    const out = applySpans(text, result, act);
    // Audit: what was done, where; never the values.
    const pii: Record<string, number> = {};
    for (const [entity, n] of counts) {
      const action = actionLabel(actions[entity] ?? 'allow');
      pii[`${entity}:${action}`] = n;
      this.actionsCounter?.inc([ctx.route.name, entity, action], n);
    }
    if (paths !== null) {
      const p = ctx.state.identity as Principal | undefined;
      this.log.info({ reqId: ctx.id, route: ctx.route.name, direction, consumer: p?.consumer, pii, paths: [...paths] }, 'protect: personal data handled');
    }
    return Buffer.from(out, 'utf8');
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

  private actionsFor(p: Principal | undefined): Record<string, ActionConfig> {
    const grants = this.o.grants;
    for (let i = 0; i < grants.length; i++) if (matches(p, grants[i]!)) return this.granted[i]!;
    return this.defaults;
  }

  /** Passed unscanned by configuration (`oversize: pass`): an alert, as a log line and a counter. */
  private alertUnscanned(ctx: RequestContext, direction: Direction, bytes: number): void {
    this.log.warn({ reqId: ctx.id, route: ctx.route.name, direction, bytes, limit: this.o.maxScanBytes }, 'protect: body over the scan limit passed unscanned');
    this.unscannedCounter?.inc([ctx.route.name, direction]);
  }

  /** The scan pool is full: 503 with Retry-After; the pool's own line reports it, once a second. */
  private shed(ctx: RequestContext, res: ResponseContext, reason: string): void {
    this.block(ctx, res, Errors.OVERLOADED, reason, true);
    res.headers.set('retry-after', '1');
  }

  private block(ctx: RequestContext, res: ResponseContext, kind: GatewayErrorKind, reason: string, quiet = false): void {
    ctx.state[WITHHELD] = true;
    if (!quiet) this.log.warn({ reqId: ctx.id, route: ctx.route.name, code: kind.code, reason }, 'protect: response withheld');
    res.status = kind.status;
    res.headers.raw.length = 0;
    res.headers.set('content-type', 'application/problem+json');
    res.body = Buffer.from(JSON.stringify({ type: `urn:ztgate:error:${kind.code}`, title: kind.title, status: kind.status, code: kind.code, requestId: ctx.id }));
  }
}

/** Headers that describe the exact bytes of a body we rewrote: they would be wrong now. */
function dropDigests(headers: HeaderList): void {
  for (const name of ['etag', 'content-md5', 'digest', 'content-digest', 'repr-digest']) headers.remove(name);
}

function applySpans(text: string, result: ScanResult, act: Action): string {
  if (result.kind === 'json') return applyToJson(text, result.spans as JsonPiiSpan[], act);
  if (result.kind === 'form') return applyToForm(text, result.spans as JsonPiiSpan[], act);
  return applyToText(text, result.spans, act);
}

/** Detects personal data in responses (and request bodies) and masks, redacts, hashes or encrypts it per consumer. */
export const protectStage: StageFactory = {
  type: 'protect',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: 'protect', description: 'Selects the protect stage.' },
      entities: {
        type: 'array',
        items: { enum: [...ALL_ENTITIES] },
        default: [...ENTITIES],
        description: `Built-in detectors to run. Default: ${ENTITIES.join(', ')}. Also available, each only when listed: US_ITIN, UK_NHS, UK_NINO, IP_ADDRESS, CRYPTO_WALLET.`,
      },
      detectors: { type: 'array', maxItems: 64, items: detectorSchema, default: [], description: 'Detectors of your own, each by `pattern`, `keywords` or `fields`.' },
      actions: { ...actionsSchema, default: {}, description: 'Action per entity for callers no grant matches. An entity not listed gets the strictest action any grant gives it, and at least `mask`.' },
      keepLast: { type: 'integer', minimum: 0, maximum: 8, default: 4, description: 'Letters and digits `mask` leaves visible at the end of a value (never more than half of them).' },
      hashKey: { ...secretRef, description: 'HMAC key of the `hash` action; required when any action is `hash`.' },
      grants: {
        description: 'Per-caller actions: the first grant matching the caller (by consumer, group or scope) applies its `actions` over the stage\'s `actions`. Anonymous callers match none.',
        type: 'array',
        default: [],
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['actions'],
          properties: {
            consumers: { ...names, description: 'Consumer names this grant is for.' },
            groups: { ...names, description: 'Roles or groups (token role claims, consumer `groups`); holding any one matches.' },
            scopes: { ...names, description: 'Token scopes; holding any one matches.' },
            actions: { ...actionsSchema, description: 'Action per entity for matching callers; entities not listed keep the stage\'s defaults.' },
          },
        },
      },
      recipients: { type: 'object', propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }, additionalProperties: recipientSchema, default: {}, description: 'Public keys, by name, that `encrypt` actions encrypt values to (JWE with A256GCM; RSA-OAEP-256 or ECDH-ES+A256KW).' },
      responses: { type: 'boolean', default: true, description: 'Scan response bodies. Turn off to scan only request bodies (then `requests` is needed).' },
      requests: { type: 'object', additionalProperties: false, properties: { actions: { ...actionsSchema, default: {}, description: 'Action per entity in request bodies, over the stage\'s `actions`.' } }, description: 'Also scan request bodies before they go upstream; a compressed request body is refused with 415.' },
      contentTypes: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9!#$&^_.+-]+/([a-z0-9!#$&^_.+-]+|\\*)$' }, description: 'Only bodies of these media types (`type/subtype` or `type/*`) are scanned; default: JSON, form, text, XML, HTML and JavaScript types (other bodies are treated as binary and not scanned).' },
      maxScanBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024, description: 'Largest body in bytes that is scanned (after decompression); see `oversize` for larger ones.' },
      oversize: { enum: ['refuse', 'pass'], default: 'refuse', description: 'A body over `maxScanBytes`: `refuse` withholds a response (502) or refuses a request (413); `pass` lets it through unscanned with a warning and the `ztgate_pii_unscanned_total` counter.' },
      compressed: { enum: ['identity', 'decompress'], default: 'identity', description: '`identity` asks the upstream for uncompressed answers and withholds (502) any that come compressed; `decompress` accepts gzip, deflate and br and decodes them to scan.' },
      recompress: { type: 'boolean', default: true, description: 'After a decompressed scan, compress the answer again with the upstream\'s encoding when the client accepts it.' },
      timeoutMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 2000, description: 'Milliseconds a scan in the worker pool (bodies over 16 KB) may take; a failed or slow scan withholds the response (502) or refuses the request (503).' },
      phoneRegions: {
        type: 'array',
        minItems: 1,
        maxItems: 300,
        uniqueItems: true,
        items: { type: 'string', pattern: '^[A-Z]{2}$' },
        description:
          'ISO 3166 country codes whose national phone numbers (written without +country code) are detected: their trunk prefixes and number lengths, from libphonenumber metadata. International numbers (+ or 00) are detected from every country. Default: EU and EFTA countries, GB, US, CA, MX, BR, AR, IN, AU, NZ, JP, KR, CN, SG, ZA, IL, TR.',
      },
    },
  },
  validate(options) {
    const o = options as unknown as ProtectOptions;
    const issues: string[] = [];
    const known = new Set<string>(o.entities);
    const seen = new Set<string>();
    o.detectors.forEach((d, i) => {
      issues.push(...specProblems(d, `detectors[${i}]`, ALL_ENTITIES));
      if (seen.has(d.name)) issues.push(`detectors[${i}].name: ${d.name} is defined twice`);
      seen.add(d.name);
      known.add(d.name);
    });
    const tables: [string, Record<string, ActionConfig>][] = [
      ['actions', o.actions],
      ...o.grants.map((g, i) => [`grants[${i}].actions`, g.actions] as [string, Record<string, ActionConfig>]),
      ...(o.requests ? [['requests.actions', o.requests.actions] as [string, Record<string, ActionConfig>]] : []),
    ];
    for (const [at, table] of tables) {
      for (const [entity, a] of Object.entries(table)) {
        if (!known.has(entity)) issues.push(`${at}.${entity}: not a detector of this stage (built-in ones in entities, or one in detectors)`);
        if (a === 'hash' && !o.hashKey) issues.push(`${at}.${entity}: the hash action needs hashKey`);
        if (typeof a === 'object' && !o.recipients[a.encrypt]) issues.push(`${at}.${entity}: unknown recipient "${a.encrypt}" (add it under recipients)`);
      }
    }
    for (const [name, spec] of Object.entries(o.recipients)) {
      try {
        loadRecipient(name, spec);
      } catch (err) {
        issues.push(`recipients.${name}: ${(err as Error).message}`);
      }
    }
    if (!o.responses && !o.requests) issues.push('responses: false without requests leaves nothing to protect');
    const regions = new Set(REGIONS);
    for (const r of o.phoneRegions ?? []) if (!regions.has(r)) issues.push(`phoneRegions: ${r} is not a region with a phone numbering plan`);
    return issues;
  },
  compile(options, context: StageContext): Stage {
    const o = options as unknown as ProtectOptions;
    const metrics = context.metrics;
    const actions = metrics?.counter('ztgate_pii_actions_total', 'Personal data values handled, by route, detector and action', ['route', 'detector', 'action']) ?? null;
    const unscanned = metrics?.counter('ztgate_pii_unscanned_total', 'Bodies over the scan limit passed unscanned (oversize: pass)', ['route', 'direction']) ?? null;
    return new ProtectStage(o, context.log, workerPool(new URL('./worker.js', import.meta.url), context.workers, context.log), actions, unscanned);
  },
};
