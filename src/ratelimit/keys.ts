import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { HeaderList } from '../pipeline/headers.js';
import type { Principal } from '../identity/types.js';

/**
 * What key extraction reads of a request (a subset of RequestContext, so the
 * extractors can be tested without a gateway).
 */
export interface KeySource {
  readonly clientAddress: string;
  readonly headers: HeaderList;
  readonly route: { readonly name: string };
  readonly state: Record<string, unknown>;
}

/** Builds a bucket key from a request. */
export type KeyExtractor = (req: KeySource) => string;

/**
 * Key items, as written in config:
 * - `ip`: the client address; `ip/24` groups IPv4 clients by /24 (IPv6 by /64);
 *   `ip/24/56` sets both prefixes.
 * - `consumer`: the identity principal's consumer (else its subject); without an
 *   identity, the client address (as Kong does).
 * - `apikey` or `apikey:<header>`: the API key header (default x-api-key), hashed.
 * - `route`: the route name.
 * - `header:<name>`: a request header's value.
 * - `claim:<name>`: a claim of the verified JWT (from the identity principal).
 * A missing header, key or claim is the empty value: such requests share a bucket.
 */
export const KEY_ITEM_PATTERN = '^(ip(/[0-9]{1,2}(/[0-9]{1,3})?)?|consumer|route|apikey(:[!#$%&\'*+.^_`|~0-9A-Za-z-]+)?|header:[!#$%&\'*+.^_`|~0-9A-Za-z-]+|claim:[A-Za-z0-9_.:/-]+)$';

/** Values longer than this are replaced by their hash (keys travel in gossip datagrams). */
const MAX_PART = 128;
const SEPARATOR = '\u001f';

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

function bounded(value: string): string {
  return value.length <= MAX_PART ? value : `#${digest(value)}`;
}

function v4ToInt(a: string): number {
  const p = a.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** `1.2.3.4` masked to its first `bits` bits, as `1.2.3.0/24`. */
export function ipv4Prefix(address: string, bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const n = (v4ToInt(address) & mask) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${bits}`;
}

/** The 8 groups of an IPv6 address (handles `::` and an embedded IPv4 tail). */
function v6Groups(address: string): number[] {
  let a = address;
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  const lastColon = a.lastIndexOf(':');
  if (a.indexOf('.', lastColon) !== -1) {
    // Embedded IPv4 tail: rewrite it as two hex groups.
    const n = v4ToInt(a.slice(lastColon + 1));
    a = `${a.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const double = a.indexOf('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)));
  if (double === -1) return parse(a);
  const h = parse(a.slice(0, double));
  const r = parse(a.slice(double + 2));
  return [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
}

/** An IPv6 address masked to its first `bits` bits, as `2001:db8:0:0:0:0:0:0/64`. */
export function ipv6Prefix(address: string, bits: number): string {
  const g = v6Groups(address);
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    g[i] = keep === 0 ? 0 : g[i] & ((0xffff << (16 - keep)) & 0xffff);
  }
  return `${g.map((x) => x.toString(16)).join(':')}/${bits}`;
}

/** The client address, or its prefix; IPv4-mapped IPv6 counts as IPv4. */
export function ipKey(address: string, v4Bits: number, v6Bits: number): string {
  let a = address;
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  if (isIPv4(a)) return v4Bits >= 32 ? a : ipv4Prefix(a, v4Bits);
  if (isIPv6(a)) return v6Bits >= 128 ? a.toLowerCase() : ipv6Prefix(a, v6Bits);
  return bounded(a);
}

function principalOf(req: KeySource): Principal | undefined {
  return req.state.identity as Principal | undefined;
}

function compileItem(item: string): KeyExtractor {
  if (item === 'ip' || item.startsWith('ip/')) {
    const parts = item.split('/');
    const v4 = parts.length > 1 ? Number(parts[1]) : 32;
    const v6 = parts.length > 2 ? Number(parts[2]) : parts.length > 1 ? 64 : 128;
    if (!(v4 >= 0 && v4 <= 32) || !(v6 >= 0 && v6 <= 128)) throw new Error(`key item "${item}": prefix out of range`);
    return (req) => ipKey(req.clientAddress, v4, v6);
  }
  if (item === 'consumer') {
    return (req) => {
      const p = principalOf(req);
      return p ? `c:${bounded(p.consumer ?? p.subject)}` : `ip:${req.clientAddress}`;
    };
  }
  if (item === 'route') return (req) => req.route.name;
  if (item === 'apikey' || item.startsWith('apikey:')) {
    const header = item === 'apikey' ? 'x-api-key' : item.slice(7).toLowerCase();
    return (req) => {
      const v = req.headers.get(header);
      return v === undefined ? '' : digest(v);
    };
  }
  if (item.startsWith('header:')) {
    const header = item.slice(7).toLowerCase();
    return (req) => bounded(req.headers.get(header) ?? '');
  }
  if (item.startsWith('claim:')) {
    const claim = item.slice(6);
    return (req) => {
      const v = principalOf(req)?.claims[claim];
      return typeof v === 'string' ? bounded(v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    };
  }
  throw new Error(`unknown key item "${item}"`);
}

/**
 * Compiles key items once (per route and limit) into one function. The key
 * starts with `prefix` (which names the route's policy), so different limits
 * never share buckets.
 */
export function compileKey(items: readonly string[], prefix: string): KeyExtractor {
  if (items.length === 0) return () => prefix;
  const parts = items.map(compileItem);
  if (parts.length === 1) {
    const [a] = parts;
    return (req) => prefix + SEPARATOR + a(req);
  }
  if (parts.length === 2) {
    const [a, b] = parts;
    return (req) => prefix + SEPARATOR + a(req) + SEPARATOR + b(req);
  }
  return (req) => {
    let key = prefix;
    for (let i = 0; i < parts.length; i++) key += SEPARATOR + parts[i](req);
    return key;
  };
}
