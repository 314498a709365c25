import type { BlockList } from 'node:net';
import { inBlockList as inList } from '../core/cidr.js';
import { Errors } from '../errors.js';
import type { GatewayConfig } from '../config/types.js';
import type { RequestContext, Stage, StageContext, StageFactory, StageReply, StageResult } from '../pipeline/stage.js';
import { identityStageSchema } from './schema.js';
import { cidrList, IDENTITY_RUNTIME, type IdentityRuntime } from './runtime.js';
import type { AuthFailure, AuthResult, Principal } from './types.js';
import { blockedReply, SANCTIONS, type Sanctions } from '../observe/anomaly/sanctions.js';

type MethodOptions =
  | { jwt: { issuers: string[]; forwardCredentials?: boolean } }
  | { apiKey: { header: string; query?: string; forwardCredentials?: boolean } }
  | { mtls: Record<string, never> }
  | { introspection: { endpoint: string; forwardCredentials?: boolean } };

interface ClaimMatcher {
  claim: string;
  equals?: string | number | boolean;
  in?: (string | number | boolean)[];
  equalsHeader?: string;
}

interface IdentityOptions {
  environment: string;
  mode: 'any' | 'all';
  methods: MethodOptions[];
  scopes?: { allOf?: string[]; anyOf?: string[] };
  roles?: { allOf?: string[]; anyOf?: string[] };
  consumers?: string[];
  claims?: ClaimMatcher[];
  allowCidrs: string[];
  denyCidrs: string[];
  failOpen: boolean;
  propagateHeaders: boolean;
  propagateJwt: boolean;
}

/** One way of finding and checking credentials; `null`: this request carries none for it. */
type Authenticate = (ctx: RequestContext) => AuthResult | Promise<AuthResult> | null;

const REALM = 'Bearer realm="ztgate"';
const MAX_TOKEN = 8192;

function bearerToken(ctx: RequestContext): string | AuthFailure | null {
  const count = ctx.headers.count('authorization');
  if (count === 0) return null;
  if (count > 1) return { ok: false, error: 'invalid_request', reason: 'several Authorization headers' };
  const value = ctx.headers.get('authorization')!;
  if (value.length > MAX_TOKEN + 7) return { ok: false, error: 'invalid_request', reason: `Authorization of ${value.length} bytes` };
  if (value.length < 8 || value.slice(0, 7).toLowerCase() !== 'bearer ') return null; // another scheme: not ours
  return value.slice(7).trim();
}

/** Removes what a method authenticated with from the forwarded request (`forwardCredentials: false`). */
type HideCredentials = (ctx: RequestContext) => void;

const hideBearer: HideCredentials = (ctx) => ctx.headers.remove('authorization');

function hiderOf(m: MethodOptions): HideCredentials | null {
  // (ajv fills no defaults inside oneOf branches: absent means keep, as before the option existed)
  if ('jwt' in m) return m.jwt.forwardCredentials === false ? hideBearer : null;
  if ('introspection' in m) return m.introspection.forwardCredentials === false ? hideBearer : null;
  if ('apiKey' in m && m.apiKey.forwardCredentials === false) {
    const header = m.apiKey.header ?? 'x-api-key';
    const query = m.apiKey.query;
    return (ctx) => {
      ctx.headers.remove(header);
      if (query && ctx.query) ctx.query = withoutParameter(ctx.query, query);
    };
  }
  return null;
}

/** The query without any `name=...` pair (the other pairs byte for byte as they came). */
function withoutParameter(query: string, name: string): string {
  return query
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq < 0 ? pair : pair.slice(0, eq);
      if (raw === name) return false;
      try {
        return decodeURIComponent(raw.replace(/\+/g, ' ')) !== name;
      } catch {
        return true;
      }
    })
    .join('&');
}

function methodOf(m: MethodOptions, identity: IdentityRuntime): Authenticate {
  if ('jwt' in m) {
    const issuers = m.jwt.issuers;
    return (ctx) => {
      const token = bearerToken(ctx);
      if (token === null || typeof token !== 'string') return token;
      return identity.jwt.verify(token, issuers);
    };
  }
  if ('apiKey' in m) {
    // (ajv fills no defaults inside oneOf branches)
    const header = m.apiKey.header ?? 'x-api-key';
    const query = m.apiKey.query;
    return (ctx) => {
      const count = ctx.headers.count(header);
      if (count > 1) return { ok: false, error: 'invalid_request', reason: `several ${header} headers` };
      let key = count === 1 ? ctx.headers.get(header)! : null;
      if (key === null && query && ctx.query) key = new URLSearchParams(ctx.query).get(query);
      return key === null ? null : identity.apiKeys.authenticate(key);
    };
  }
  if ('mtls' in m) {
    return (ctx) => {
      const pem = ctx.peerCertificate();
      return pem === null ? null : identity.certificates.map(pem);
    };
  }
  const introspector = identity.introspectors.get(m.introspection.endpoint)!;
  return (ctx) => {
    const token = bearerToken(ctx);
    if (token === null || typeof token !== 'string') return token;
    return introspector.introspect(token);
  };
}


/** Header values from tokens are attacker-influenced: keep them to visible ASCII. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

class IdentityStage implements Stage {
  readonly name = 'identity';
  private readonly methods: Authenticate[];
  private readonly hiders: (HideCredentials | null)[];
  private readonly allow: BlockList | null;
  private readonly deny: BlockList | null;
  private readonly consumers: ReadonlySet<string> | null;

  constructor(
    private readonly options: IdentityOptions,
    private readonly identity: IdentityRuntime,
    /** Alert sanctions of the process: a blocked consumer is refused once known. */
    private readonly sanctions: Sanctions | null = null,
  ) {
    this.methods = options.methods.map((m) => methodOf(m, identity));
    this.hiders = options.methods.map(hiderOf);
    this.allow = cidrList(options.allowCidrs);
    this.deny = cidrList(options.denyCidrs);
    this.consumers = options.consumers ? new Set(options.consumers) : null;
  }

  onRequest(ctx: RequestContext): StageResult | Promise<StageResult> {
    // Network segmentation first: nothing about credentials is revealed to a network that may not ask.
    const address = ctx.clientAddress;
    if ((this.deny && inList(this.deny, address)) || (this.allow && !inList(this.allow, address))) {
      return forbidden(`client address ${address} not allowed on this route`, false);
    }
    return this.options.mode === 'any' ? this.any(ctx) : this.all(ctx);
  }

  private any(ctx: RequestContext): StageResult | Promise<StageResult> {
    // The first method for which the request carries credentials decides; a
    // failed token never falls through to a weaker method.
    for (let i = 0; i < this.methods.length; i++) {
      const result = this.methods[i](ctx);
      if (result === null) continue;
      const hide = this.hiders[i];
      return result instanceof Promise ? result.then((r) => this.decide(ctx, r, hide)) : this.decide(ctx, result, hide);
    }
    return unauthenticated('no credentials');
  }

  private async all(ctx: RequestContext): Promise<StageResult> {
    let first: Principal | null = null;
    for (let i = 0; i < this.methods.length; i++) {
      const pending = this.methods[i](ctx);
      if (pending === null) return unauthenticated('a required credential is missing');
      const result = await pending;
      if (!result.ok) return this.failure(result);
      this.hiders[i]?.(ctx);
      if (first && result.principal.consumer && first.consumer && result.principal.consumer !== first.consumer) {
        return invalid('invalid_token', `credentials name different consumers (${first.consumer}, ${result.principal.consumer})`);
      }
      first ??= result.principal;
    }
    return this.authorize(ctx, first!);
  }

  private decide(ctx: RequestContext, result: AuthResult, hide: HideCredentials | null): StageResult | Promise<StageResult> {
    if (!result.ok) return this.failure(result);
    hide?.(ctx);
    return this.authorize(ctx, result.principal);
  }

  private failure(result: AuthFailure): StageResult {
    if (result.error !== 'unavailable') return invalid(result.error, result.reason);
    if (this.options.failOpen) return undefined; // configured: pass unauthenticated while no key was ever loaded
    return { error: Errors.IDENTITY_UNAVAILABLE, reason: result.reason, label: 'unavailable', headers: [['retry-after', '5']] };
  }

  private authorize(ctx: RequestContext, p: Principal): StageResult | Promise<StageResult> {
    const o = this.options;
    if (p.environment !== o.environment) {
      return invalid('invalid_token', `credential from environment "${p.environment}" on a "${o.environment}" route`);
    }
    if (p.consumer && this.sanctions?.active) {
      const block = this.sanctions.blockedConsumer(p.consumer);
      if (block) return blockedReply(block);
    }
    if (this.consumers && (!p.consumer || !this.consumers.has(p.consumer))) return forbidden(`consumer ${p.consumer ?? p.subject} not allowed`, true);
    if (p.consumer) {
      const c = this.identity.consumers.get(p.consumer);
      if (c && ((c.deny && inList(c.deny, ctx.clientAddress)) || (c.allow && !inList(c.allow, ctx.clientAddress)))) {
        return forbidden(`consumer ${p.consumer} not allowed from ${ctx.clientAddress}`, false);
      }
    }
    if (o.scopes && !matches(p.scopes, o.scopes)) return forbidden('missing scope', true);
    if (o.roles && !matches(p.roles, o.roles)) return forbidden('missing role', true);
    if (o.claims) {
      for (const m of o.claims) {
        const value = p.claims[m.claim];
        const ok =
          m.equals !== undefined
            ? value === m.equals
            : m.in !== undefined
              ? m.in.includes(value as string)
              : value !== undefined && value !== null && String(value) === ctx.headers.get(m.equalsHeader!);
        if (!ok) return forbidden(`claim ${m.claim} does not match`, true);
      }
    }
    ctx.state.identity = p;
    if (o.propagateHeaders) {
      const h = ctx.upstreamHeaders;
      h.push('x-authenticated-method', p.method, 'x-authenticated-subject', headerSafe(p.subject));
      if (p.consumer) h.push('x-consumer-id', headerSafe(p.consumer));
      if (p.source) h.push('x-authenticated-source', p.source);
      if (p.scopes.size > 0) h.push('x-authenticated-scopes', headerSafe([...p.scopes].join(' ')));
      if (p.roles.size > 0) h.push('x-consumer-groups', headerSafe([...p.roles].join(',')));
    }
    const signer = this.identity.signer;
    if (o.propagateJwt && signer) {
      const token = signer.token(p, ctx.route.config.upstream);
      if (typeof token === 'string') ctx.upstreamHeaders.push(signer.config.header, token);
      else return token.then((t) => void ctx.upstreamHeaders.push(signer.config.header, t));
    }
    return undefined;
  }
}

function matches(have: ReadonlySet<string>, want: { allOf?: string[]; anyOf?: string[] }): boolean {
  if (want.allOf && !want.allOf.every((s) => have.has(s))) return false;
  if (want.anyOf && want.anyOf.length > 0 && !want.anyOf.some((s) => have.has(s))) return false;
  return true;
}

function unauthenticated(reason: string): StageReply {
  return { error: Errors.UNAUTHENTICATED, reason, label: 'missing', headers: [['www-authenticate', REALM]] };
}

function invalid(error: 'invalid_request' | 'invalid_token', reason: string): StageReply {
  return { error: Errors.UNAUTHENTICATED, reason, label: error, headers: [['www-authenticate', `${REALM}, error="${error}"`]] };
}

function forbidden(reason: string, scope: boolean): StageReply {
  return {
    error: Errors.FORBIDDEN,
    reason,
    label: scope ? 'insufficient_scope' : 'policy',
    headers: scope ? [['www-authenticate', `${REALM}, error="insufficient_scope"`]] : undefined,
  };
}

function validate(options: Record<string, unknown>, config: GatewayConfig): string[] {
  const o = options as unknown as IdentityOptions;
  const issues: string[] = [];
  const env = o.environment;
  const issuers = new Map(config.identity.issuers.map((i) => [i.name, i]));
  const endpoints = new Map(config.identity.introspection.map((i) => [i.name, i]));
  const consumers = new Map(config.identity.consumers.map((c) => [c.name, c]));
  o.methods.forEach((m, i) => {
    if ('jwt' in m) {
      for (const name of m.jwt.issuers) {
        const issuer = issuers.get(name);
        if (!issuer) issues.push(`methods[${i}].jwt.issuers: unknown issuer "${name}"`);
        else if (issuer.environment !== env) issues.push(`methods[${i}].jwt.issuers: issuer "${name}" belongs to environment "${issuer.environment}", not "${env}"`);
      }
    } else if ('introspection' in m) {
      const e = endpoints.get(m.introspection.endpoint);
      if (!e) issues.push(`methods[${i}].introspection.endpoint: unknown introspection endpoint "${m.introspection.endpoint}"`);
      else if (e.environment !== env) issues.push(`methods[${i}].introspection.endpoint: "${e.name}" belongs to environment "${e.environment}", not "${env}"`);
    }
  });
  if (o.propagateJwt && !config.identity.signing) issues.push('propagateJwt: needs identity.signing');
  o.consumers?.forEach((name, i) => {
    const c = consumers.get(name);
    if (!c) issues.push(`consumers[${i}]: unknown consumer "${name}"`);
    else if (c.environment !== env) issues.push(`consumers[${i}]: consumer "${name}" belongs to environment "${c.environment}", not "${env}"`);
  });
  for (const field of ['allowCidrs', 'denyCidrs'] as const) {
    try {
      cidrList(o[field]);
    } catch (err) {
      issues.push(`${field}: ${(err as Error).message}`);
    }
  }
  return issues;
}

/** Authentication (JWT, API key, mTLS, introspection) and least-privilege authorization for a route. */
export const identityStage: StageFactory = {
  type: 'identity',
  schema: identityStageSchema,
  validate,
  compile(options, context: StageContext): Stage {
    const identity = context.services.find(IDENTITY_RUNTIME);
    if (!identity) throw new Error('identity stage without an identity runtime');
    return new IdentityStage(options as unknown as IdentityOptions, identity, context.services.find(SANCTIONS));
  },
};
