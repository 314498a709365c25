/**
 * Client headers that backends read as identity, client address or the
 * request's own URL and method. The gateway vouches only for what it sets
 * itself, so the intake drops these before any stage or upstream sees them.
 */

/** What to do with a header whose name has an underscore (CGI, WSGI and Rack fold `_` and `-` into one variable). */
export type UnderscorePolicy = 'drop' | 'reject' | 'allow';

/** What to do with X-HTTP-Method-Override and its kin (frameworks run the named method instead of the routed one). */
export type MethodOverridePolicy = 'strip' | 'keep';

export interface ClientHeadersConfig {
  underscores: UnderscorePolicy;
  methodOverride: MethodOverridePolicy;
}

/**
 * Client-address and URL-override headers: believed only from a trusted
 * proxy (X-Forwarded-For/-Proto/-Host and Forwarded are rewritten by the
 * head builder, the others are not set by the gateway at all).
 */
export const SPOOFABLE_HEADERS: ReadonlySet<string> = new Set([
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-original-forwarded-for',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-host',
]);

export const METHOD_OVERRIDE_HEADERS: ReadonlySet<string> = new Set(['x-http-method-override', 'x-method-override', 'x-http-method']);

/**
 * RFC 3986 host [":" port], without userinfo: `x@secure.test` is refused,
 * since parsers disagree on which side of the `@` is the host. One pass, no
 * backtracking (the classes do not overlap the separators).
 */
export const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]{2,64}\]|[A-Za-z0-9._~!$&'()*+,;=%-]{1,255})(?::[0-9]{1,5})?$/;
