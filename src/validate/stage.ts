import { isUtf8 } from 'node:buffer';
import AjvModule, { type ValidateFunction } from 'ajv';
import { unsafeRegexReason } from './safe-regex.js';
import { Errors } from '../errors.js';
import type { RequestContext, Stage, StageFactory, StageReply, StageResult } from '../pipeline/stage.js';
import { checkJsonLimits, type JsonLimits } from './json-limits.js';

interface ValidateOptions {
  /** Allowed methods (405 with Allow otherwise). */
  methods?: string[];
  /** Allowed media types of requests with a body, lowercase, parameters ignored; `type/*` allowed. */
  contentTypes?: string[];
  /** Path (as normalized) plus query, in bytes. */
  maxUrlBytes?: number;
  maxHeaders?: number;
  /** Total of header names and values, in bytes. */
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /** Structural limits of JSON bodies; present (even empty) turns JSON checking on. */
  json?: JsonLimits;
  /** JSON Schema for JSON request bodies (compiled once, at config load). */
  schema?: Record<string, unknown> | boolean;
}

// Same token rule as routes' match.methods (src/config/schema.ts).
const method = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Z-]{1,32}$" };
const mediaType = { type: 'string', pattern: "^[a-z0-9!#$&^_.+-]+/([a-z0-9!#$&^_.+-]+|\\*)$" };
const size = (max: number) => ({ type: 'integer', minimum: 0, maximum: max });

const schema = {
  description: 'Checks the shape of requests before they reach the upstream: methods, media types, URL, header and body sizes, JSON structure and an optional JSON Schema. Every limit is off unless set.',
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { const: 'validate', description: 'Selects the validate stage.' },
    methods: { type: 'array', minItems: 1, uniqueItems: true, items: method, description: 'Upper-case methods allowed; another method gets 405 with `Allow`.' },
    contentTypes: { type: 'array', minItems: 1, uniqueItems: true, items: mediaType, description: 'Media types (lower case, parameters ignored; `type/*` allowed) a request with a body may have; another type, or a body without `Content-Type`, gets 415.' },
    maxUrlBytes: { ...size(1024 * 1024), description: 'Longest normalized path plus query in bytes; longer gets 414.' },
    maxHeaders: { ...size(10_000), description: 'Most request header fields; more gets 431.' },
    maxHeaderBytes: { ...size(1024 * 1024), description: 'Most bytes of all header names and values together; more gets 431.' },
    maxBodyBytes: { ...size(Number.MAX_SAFE_INTEGER), description: 'Largest request body in bytes; larger gets 413. The route\'s own `maxBodyBytes` applies as well.' },
    json: {
      description: 'Structural limits of JSON bodies (`application/json` or `+json`), checked by a streaming scan before anything is parsed; a body over one gets 400. Setting it, even `{}`, turns the check on; `schema` turns it on with these defaults.',
      type: 'object',
      additionalProperties: false,
      properties: {
        maxDepth: { type: 'integer', minimum: 1, maximum: 4096, default: 32, description: 'Deepest nesting of arrays and objects; the top-level value is depth 1.' },
        maxKeys: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 1000, description: 'Most members of any one object.' },
        maxArrayLength: { type: 'integer', minimum: 1, maximum: 100_000_000, default: 10_000, description: 'Most elements of any one array.' },
        maxStringLength: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1024 * 1024, description: 'Longest string, keys included, in characters (an escape counts as one).' },
      },
    },
    schema: { type: ['object', 'boolean'], description: 'JSON Schema (draft-07) JSON bodies must satisfy, compiled at load; a misspelt keyword or a pattern that could backtrack badly is a config error. A body that fails gets 400; a non-JSON body gets 415.' },
  },
};

const DEFAULT_LIMITS: JsonLimits = { maxDepth: 32, maxKeys: 1000, maxArrayLength: 10_000, maxStringLength: 1024 * 1024 };

const Ajv = AjvModule as unknown as typeof AjvModule.default;

function safeRegExp(pattern: string, flags: string): RegExp {
  const reason = unsafeRegexReason(pattern);
  if (reason) throw new Error(`pattern "${truncate(pattern, 64)}" could backtrack catastrophically (${reason})`);
  return new RegExp(pattern, flags);
}
safeRegExp.code = 'new RegExp';

/** Compiled validators by schema object: validate() at config load compiles, compile() reuses. */
const compiledSchemas = new WeakMap<object, ValidateFunction>();

function compileSchema(s: Record<string, unknown> | boolean): ValidateFunction {
  let fn = typeof s === 'object' ? compiledSchemas.get(s) : undefined;
  if (!fn) {
    // One Ajv per schema: two routes (or two config generations) may use the same $id, and a
    // shared instance would refuse the second and keep every old schema alive across reloads.
    // Fail fast (one error is enough to refuse; allErrors costs time on hostile bodies).
    // strictSchema: a misspelt keyword ("requried") or an unknown format would silently
    // validate nothing, so they are config errors instead.
    // User patterns run on V8's backtracking engine: refuse the catastrophic ones at load.
    const ajv = new Ajv({
      allErrors: false,
      strictSchema: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      logger: false,
      code: { regExp: safeRegExp },
    });
    fn = ajv.compile(s);
    if (typeof s === 'object') compiledSchemas.set(s, fn);
  }
  return fn;
}

function isJsonType(media: string): boolean {
  return media === 'application/json' || media.endsWith('+json');
}

/** The media type of a Content-Type value: lowercase, parameters (charset...) dropped. */
function mediaTypeOf(value: string): string {
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function truncate(s: string, max = 128): string {
  return s.length <= max ? s : `${s.slice(0, max)}...`;
}

class ValidateStage implements Stage {
  readonly name = 'validate';
  readonly needsRequestBody: boolean;
  /** maxBodyBytes, for the route to refuse larger uploads before collecting them (see the report). */
  readonly maxRequestBodyBytes: number | undefined;
  private readonly methods: ReadonlySet<string> | null;
  private readonly allow: [string, string][];
  private readonly exactTypes: ReadonlySet<string> | null;
  /** `type/` prefixes from `type/*` entries. */
  private readonly typePrefixes: string[];
  private readonly limits: JsonLimits | null;
  private readonly validator: ValidateFunction | null;

  constructor(private readonly o: ValidateOptions) {
    this.methods = o.methods ? new Set(o.methods) : null;
    this.allow = [['allow', (o.methods ?? []).join(', ')]];
    const types = o.contentTypes?.map((t) => t.toLowerCase()) ?? null;
    this.exactTypes = types ? new Set(types.filter((t) => !t.endsWith('/*'))) : null;
    this.typePrefixes = types ? types.filter((t) => t.endsWith('/*')).map((t) => t.slice(0, -1)) : [];
    this.validator = o.schema !== undefined ? compileSchema(o.schema) : null;
    // A schema implies JSON parsing, and parsing is never done without the limits.
    this.limits = o.json || this.validator ? { ...DEFAULT_LIMITS, ...o.json } : null;
    this.needsRequestBody = this.limits !== null;
    this.maxRequestBodyBytes = o.maxBodyBytes;
  }

  onRequest(ctx: RequestContext): StageResult {
    const o = this.o;
    if (this.methods && !this.methods.has(ctx.method)) {
      return { error: Errors.METHOD_NOT_ALLOWED, reason: `method ${truncate(ctx.method, 32)} not in the route's validate.methods`, headers: this.allow, extra: { limit: 'methods' } };
    }
    if (o.maxUrlBytes !== undefined) {
      const bytes = Buffer.byteLength(ctx.path) + (ctx.query.length > 0 ? 1 + Buffer.byteLength(ctx.query) : 0);
      if (bytes > o.maxUrlBytes) return refuse(Errors.URI_TOO_LONG, 'maxUrlBytes', o.maxUrlBytes, `url of ${bytes} bytes over maxUrlBytes ${o.maxUrlBytes}`);
    }
    if (o.maxHeaders !== undefined || o.maxHeaderBytes !== undefined) {
      const raw = ctx.headers.raw;
      const count = raw.length >> 1;
      if (o.maxHeaders !== undefined && count > o.maxHeaders) {
        return refuse(Errors.HEADERS_TOO_LARGE, 'maxHeaders', o.maxHeaders, `${count} headers over maxHeaders ${o.maxHeaders}`);
      }
      if (o.maxHeaderBytes !== undefined) {
        let bytes = 0;
        for (let i = 0; i < raw.length; i++) bytes += Buffer.byteLength(raw[i]);
        if (bytes > o.maxHeaderBytes) return refuse(Errors.HEADERS_TOO_LARGE, 'maxHeaderBytes', o.maxHeaderBytes, `headers of ${bytes} bytes over maxHeaderBytes ${o.maxHeaderBytes}`);
      }
    }

    // A body is announced by its framing; with needsRequestBody it is also here in full.
    const contentLength = ctx.headers.get('content-length');
    const chunked = ctx.headers.get('transfer-encoding') !== undefined;
    const bodyBytes = ctx.body !== null ? ctx.body.length : contentLength !== undefined ? Number(contentLength) : 0;
    const hasBody = bodyBytes > 0 || (ctx.body === null && chunked);
    if (!hasBody) return undefined; // nothing left to check: no body (GET, DELETE...)

    const typeCount = ctx.headers.count('content-type');
    if (typeCount > 1) return refuse(Errors.UNSUPPORTED_MEDIA_TYPE, 'contentTypes', undefined, `${typeCount} Content-Type headers`);
    const media = typeCount === 1 ? mediaTypeOf(ctx.headers.get('content-type')!) : '';
    if (this.exactTypes && !this.exactTypes.has(media) && !this.typePrefixes.some((p) => media.startsWith(p))) {
      return refuse(Errors.UNSUPPORTED_MEDIA_TYPE, 'contentTypes', undefined, media ? `media type "${truncate(media, 64)}" not in contentTypes` : 'body without a Content-Type');
    }
    if (o.maxBodyBytes !== undefined && bodyBytes > o.maxBodyBytes) {
      return refuse(Errors.BODY_TOO_LARGE, 'maxBodyBytes', o.maxBodyBytes, `body of ${bodyBytes} bytes over maxBodyBytes ${o.maxBodyBytes}`);
    }

    if (!this.limits || ctx.body === null) return undefined;
    if (!isJsonType(media)) {
      // Limits apply to JSON bodies; a schema says the body must be JSON.
      if (this.validator) return refuse(Errors.UNSUPPORTED_MEDIA_TYPE, 'schema', undefined, `a schema applies but the body is ${media ? `"${truncate(media, 64)}"` : 'untyped'}, not JSON`);
      return undefined;
    }
    return this.checkJson(ctx.body);
  }

  private checkJson(body: Buffer): StageReply | undefined {
    const check = checkJsonLimits(body, this.limits!);
    if (!check.ok) {
      if (check.kind === 'syntax') return refuse(Errors.BODY_MALFORMED, 'json.syntax', undefined, check.reason);
      return refuse(Errors.BODY_INVALID, `json.${check.limit!}`, this.limits![check.limit!], check.reason);
    }
    // The tokenizer checked the grammar; invalid UTF-8 inside strings is all JSON.parse would let through.
    if (!isUtf8(body)) return refuse(Errors.BODY_MALFORMED, 'json.syntax', undefined, 'malformed JSON: invalid UTF-8');
    if (!this.validator) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      // Not reached after the tokenizer; V8's message would quote the input, so it is not logged.
      return refuse(Errors.BODY_MALFORMED, 'json.syntax', undefined, 'malformed JSON: JSON.parse refused it');
    }
    if (this.validator(value)) return undefined;
    const e = this.validator.errors?.[0];
    const keyword = e?.keyword ?? 'schema';
    const schemaPath = e?.schemaPath ?? '#';
    // instancePath may hold the client's keys: the log gets a bounded copy, the client never.
    return {
      error: Errors.BODY_INVALID,
      reason: `schema: ${keyword} failed at ${truncate(e?.instancePath || '(root)')} (schema ${truncate(schemaPath)}): ${e?.message ?? 'invalid'}`,
      extra: { limit: 'schema', keyword, schemaPath: truncate(schemaPath) },
    };
  }
}

function refuse(error: StageReply['error'], limit: string, max: number | undefined, reason: string): StageReply {
  return { error, reason, extra: max === undefined ? { limit } : { limit, max } };
}

/**
 * Structural request validation per route: methods, media types, URL, header
 * and body sizes, JSON shape limits (checked by a streaming tokenizer before
 * anything is parsed) and an optional JSON Schema for JSON bodies.
 */
export const validateStage: StageFactory = {
  type: 'validate',
  schema,
  validate(options) {
    const o = options as unknown as ValidateOptions;
    const issues: string[] = [];
    if (o.schema !== undefined) {
      try {
        compileSchema(o.schema);
      } catch (err) {
        issues.push(`schema: ${truncate((err as Error).message, 300)}`);
      }
    }
    return issues;
  },
  compile(options): Stage {
    return new ValidateStage(options as unknown as ValidateOptions);
  },
};
