/**
 * Host + path + method router.
 *
 * Specs are compiled once into per-host tables:
 *  - exact hosts: Map<host, Table>
 *  - wildcard hosts ('*.example.com'): Map<'.example.com', Table>, probed at
 *    every '.' of the request host, longest suffix first
 *  - one table for routes without a host
 *
 * Each table holds
 *  - a Map from literal path to route group (exact patterns),
 *  - a segment trie for patterns with ':params' (literal child before param
 *    child, which yields "literal segment beats param, left to right"),
 *  - a Map from prefix to route group for '.../*' patterns, probed at every
 *    '/' of the request path from the longest candidate to the shortest.
 *
 * Candidates are visited from most to least specific (host level first, then
 * exact > params > prefix). The first one that accepts the method wins. If
 * some candidate matched host and path but none accepted the method, the
 * result is 'method-not-allowed' with the sorted union of their methods.
 *
 * Paths are expected to be normalized already (see normalize-path.ts); the
 * router does not decode or canonicalize them. Patterns are validated to be
 * in normalized form, otherwise they could never match.
 */

import { normalizePath } from './normalize-path.js';

export interface RouteSpec<T> {
  /** Exact host (case-insensitive) or '*.example.com' (any subdomain); undefined = any host. */
  host?: string;
  /** '/exact', '/users/:id' or '/prefix/*' ('/*' = everything). */
  path: string;
  /** Case-sensitive method tokens; undefined = any method. */
  methods?: string[];
  /** The path's ASCII letters match in either case (default: byte-exact). */
  caseInsensitive?: boolean;
  value: T;
}

export type RouteLookup<T> =
  | { kind: 'found'; value: T; params: Record<string, string> | null }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/** Thrown by the Router constructor for conflicting or invalid specs. */
export class RouteConflictError extends Error {
  /** Indexes (into the specs array) of the offending spec(s). */
  readonly specIndexes: readonly number[];

  constructor(message: string, specIndexes: readonly number[] = []) {
    super(message);
    this.name = 'RouteConflictError';
    this.specIndexes = specIndexes;
  }
}

interface Entry<T> {
  index: number;
  value: T;
  /** null = any method */
  methods: readonly string[] | null;
  /** Param names in segment order (param patterns only). */
  paramNames: readonly string[] | null;
  /** Pre-built (frozen) result for routes without params. */
  found: RouteLookup<T> | null;
}

/** All routes sharing one host key and one path pattern. */
interface Group<T> {
  pattern: string;
  entries: Entry<T>[];
  any: Entry<T> | null;
  byMethod: Map<string, Entry<T>>;
}

interface TrieNode<T> {
  literal: Map<string, TrieNode<T>> | null;
  param: TrieNode<T> | null;
  group: Group<T> | null;
}

interface Table<T> {
  hostLabel: string;
  exact: Map<string, Group<T>>;
  trie: TrieNode<T> | null;
  /** Segment counts of the param patterns in `trie` (a pattern matches only paths with as many). */
  trieSegmentCounts: Set<number>;
  prefixes: Map<string, Group<T>>;
  /** Lengths of all keys in `prefixes`, to skip pointless probes. */
  prefixLengths: Set<number>;
  /**
   * The same host's case-insensitive routes, their literals lowercased; asked
   * at each specificity level right after this table, with the path lowercased.
   */
  folded: Table<T> | null;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const COLON = 0x3a;

const NOT_FOUND: RouteLookup<never> = Object.freeze({ kind: 'not-found' as const });

function newTable<T>(hostLabel: string): Table<T> {
  return {
    hostLabel,
    exact: new Map(),
    trie: null,
    trieSegmentCounts: new Set(),
    prefixes: new Map(),
    prefixLengths: new Set(),
    folded: null,
  };
}

function newTrieNode<T>(): TrieNode<T> {
  return { literal: null, param: null, group: null };
}

function newGroup<T>(pattern: string): Group<T> {
  return { pattern, entries: [], any: null, byMethod: new Map() };
}

/**
 * Host from a request: strip ':port' (and IPv6 brackets' port), one trailing
 * dot, and lowercase. Allocation-free when already in that form.
 */
function requestHost(host: string): string {
  let end = host.length;
  if (end === 0) return host;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    if (close >= 0) end = close + 1;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && host.charCodeAt(end - 1) === DOT) end--;
  let upper = false;
  for (let i = 0; i < end; i++) {
    const c = host.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      break;
    }
  }
  const h = end === host.length ? host : host.slice(0, end);
  return upper ? h.toLowerCase() : h;
}

const HOST_CHARS = /^[a-z0-9._-]+$/;
const IPV6_HOST = /^\[[0-9a-f:.]+\]$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type HostKey = { kind: 'any' } | { kind: 'exact'; host: string } | { kind: 'wildcard'; suffix: string };

function specError(index: number, message: string): RouteConflictError {
  return new RouteConflictError(`route #${index}: ${message}`, [index]);
}

function parseHost(index: number, host: string | undefined): HostKey {
  if (host === undefined) return { kind: 'any' };
  if (typeof host !== 'string') throw specError(index, 'host must be a string');
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.startsWith('*.')) {
    const suffix = h.slice(1); // '.example.com'
    if (suffix.length < 2 || !HOST_CHARS.test(suffix.slice(1))) {
      throw specError(index, `invalid wildcard host "${host}"`);
    }
    return { kind: 'wildcard', suffix };
  }
  if (h.length === 0 || !(HOST_CHARS.test(h) || IPV6_HOST.test(h))) {
    throw specError(
      index,
      `invalid host "${host}" (expected a hostname without port, '*.suffix' or no host)`,
    );
  }
  return { kind: 'exact', host: h };
}

function parseMethods(index: number, methods: string[] | undefined): string[] | null {
  if (methods === undefined) return null;
  if (!Array.isArray(methods) || methods.length === 0) {
    throw specError(index, 'methods must be a non-empty array (omit it to allow any method)');
  }
  const out: string[] = [];
  for (const m of methods) {
    if (typeof m !== 'string' || !METHOD_TOKEN.test(m)) {
      throw specError(index, `invalid method ${JSON.stringify(m)}`);
    }
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

type ParsedPattern =
  | { kind: 'exact'; path: string }
  | { kind: 'params'; segments: (string | null)[]; names: string[] } // null = param
  | { kind: 'prefix'; prefix: string };

function parsePattern(index: number, pattern: string): ParsedPattern {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== SLASH) {
    throw specError(index, `invalid path pattern ${JSON.stringify(pattern)}: must start with /`);
  }
  const bad = (why: string): RouteConflictError =>
    specError(index, `invalid path pattern "${pattern}": ${why}`);

  let base = pattern;
  let isPrefix = false;
  if (pattern.endsWith('/*')) {
    isPrefix = true;
    base = pattern.slice(0, -2);
    if (base.endsWith('/')) throw bad('empty segment before /*');
  }
  if (base.includes('*')) throw bad("'*' is only allowed as a final '/*' segment");

  if (base.length > 0) {
    const norm = normalizePath(base, {
      allowSemicolon: true,
      allowEncodedSlash: true,
      maxLength: Number.POSITIVE_INFINITY,
    });
    if (!norm.ok) throw bad(norm.reason);
    if (norm.path !== base) throw bad(`not in normalized form (would match "${norm.path}")`);
  }

  const segs = base.split('/'); // segs[0] === ''
  let names: string[] | null = null;
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s.charCodeAt(0) !== COLON) continue;
    const name = s.slice(1);
    if (!PARAM_NAME.test(name)) throw bad(`invalid parameter name "${name}"`);
    if (isPrefix) throw bad('prefix patterns cannot contain parameters');
    names ??= [];
    if (names.includes(name)) throw bad(`duplicate parameter name "${name}"`);
    names.push(name);
  }

  if (isPrefix) return { kind: 'prefix', prefix: base };
  if (names === null) return { kind: 'exact', path: base };
  const segments: (string | null)[] = [];
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    segments.push(s.charCodeAt(0) === COLON ? null : s);
  }
  return { kind: 'params', segments, names };
}

function addToGroup<T>(group: Group<T>, entry: Entry<T>, table: Table<T>): void {
  for (const other of group.entries) {
    let overlap: string | null = null;
    if (other.methods === null || entry.methods === null) {
      overlap = 'any method';
    } else {
      const otherMethods = other.methods;
      const shared = entry.methods.filter((m) => otherMethods.includes(m));
      if (shared.length > 0) overlap = shared.join(', ');
    }
    if (overlap !== null) {
      throw new RouteConflictError(
        `routes #${other.index} and #${entry.index} conflict: same host (${table.hostLabel}) ` +
          `and path pattern "${group.pattern}" with overlapping methods (${overlap})`,
        [other.index, entry.index],
      );
    }
  }
  group.entries.push(entry);
  if (entry.methods === null) group.any = entry;
  else for (const m of entry.methods) group.byMethod.set(m, entry);
}

/** A case-insensitive route's literals lowercased (parameter names keep theirs). */
function foldIf(fold: boolean, parsed: ParsedPattern): ParsedPattern {
  if (!fold) return parsed;
  if (parsed.kind === 'exact') return { kind: 'exact', path: parsed.path.toLowerCase() };
  if (parsed.kind === 'prefix') return { kind: 'prefix', prefix: parsed.prefix.toLowerCase() };
  return { kind: 'params', segments: parsed.segments.map((s) => (s === null ? null : s.toLowerCase())), names: parsed.names };
}

function searchExact<T>(t: Table<T>, method: string, path: string, allow: Set<string>): RouteLookup<T> | null {
  const exact = t.exact.get(path);
  if (exact === undefined) return null;
  const e = pick(exact, method);
  if (e !== null) return e.found;
  for (const m of exact.byMethod.keys()) allow.add(m);
  return null;
}

function pick<T>(group: Group<T>, method: string): Entry<T> | null {
  return group.byMethod.get(method) ?? group.any;
}

export class Router<T> {
  private readonly exactHosts = new Map<string, Table<T>>();
  private readonly wildcardHosts = new Map<string, Table<T>>();
  private readonly wildcardLengths = new Set<number>();
  private anyHost: Table<T> | null = null;

  // Per-lookup scratch state. lookup() is synchronous and not re-entrant, so
  // sharing these across calls is safe and avoids per-request allocation.
  private readonly allow = new Set<string>();
  private readonly paramValues: string[] = [];
  private segments: string[] | null = null;
  private segmentCount = -1;

  constructor(specs: RouteSpec<T>[]) {
    if (!Array.isArray(specs)) throw new RouteConflictError('specs must be an array');
    for (let index = 0; index < specs.length; index++) {
      const spec = specs[index]!;
      const hostKey = parseHost(index, spec.host);
      const methods = parseMethods(index, spec.methods);
      const parsed = foldIf(spec.caseInsensitive === true, parsePattern(index, spec.path));
      const hostTable = this.tableFor(hostKey);
      const table = spec.caseInsensitive === true ? (hostTable.folded ??= newTable<T>(`${hostTable.hostLabel}, case-insensitive`)) : hostTable;

      const entry: Entry<T> = {
        index,
        value: spec.value,
        methods,
        paramNames: parsed.kind === 'params' ? parsed.names : null,
        found:
          parsed.kind === 'params'
            ? null
            : Object.freeze({ kind: 'found' as const, value: spec.value, params: null }),
      };

      let group: Group<T>;
      if (parsed.kind === 'exact') {
        group = table.exact.get(parsed.path) ?? newGroup<T>(parsed.path);
        table.exact.set(parsed.path, group);
      } else if (parsed.kind === 'prefix') {
        group = table.prefixes.get(parsed.prefix) ?? newGroup<T>(spec.path);
        table.prefixes.set(parsed.prefix, group);
        table.prefixLengths.add(parsed.prefix.length);
      } else {
        table.trieSegmentCounts.add(parsed.segments.length);
        let node = (table.trie ??= newTrieNode<T>());
        for (const seg of parsed.segments) {
          if (seg === null) {
            node = node.param ??= newTrieNode<T>();
          } else {
            const lit = (node.literal ??= new Map());
            let next = lit.get(seg);
            if (next === undefined) {
              next = newTrieNode<T>();
              lit.set(seg, next);
            }
            node = next;
          }
        }
        // Pattern label with params anonymized: '/users/:id' ≡ '/users/:name'.
        group = node.group ??= newGroup<T>(
          '/' + parsed.segments.map((s) => (s === null ? ':' : s)).join('/'),
        );
      }
      addToGroup(group, entry, table);
    }
  }

  private tableFor(key: HostKey): Table<T> {
    if (key.kind === 'any') return (this.anyHost ??= newTable<T>('any host'));
    if (key.kind === 'exact') {
      let t = this.exactHosts.get(key.host);
      if (t === undefined) {
        t = newTable<T>(key.host);
        this.exactHosts.set(key.host, t);
      }
      return t;
    }
    let t = this.wildcardHosts.get(key.suffix);
    if (t === undefined) {
      t = newTable<T>('*' + key.suffix);
      this.wildcardHosts.set(key.suffix, t);
      this.wildcardLengths.add(key.suffix.length);
    }
    return t;
  }

  /**
   * @param host   Host header value; a ':port' suffix is ignored, case-insensitive.
   * @param method Method token (case-sensitive).
   * @param path   Normalized path (output of normalizePath), no query string.
   *
   * Results for routes without params are shared frozen objects: do not mutate.
   */
  lookup(host: string, method: string, path: string): RouteLookup<T> {
    if (path.length === 0 || path.charCodeAt(0) !== SLASH) return NOT_FOUND;
    this.allow.clear();
    this.segments = null;
    this.segmentCount = -1;
    this.paramValues.length = 0;
    try {
      const h = requestHost(host);
      let r: RouteLookup<T> | null = null;

      if (this.exactHosts.size > 0) {
        const t = this.exactHosts.get(h);
        if (t !== undefined && (r = this.searchTable(t, method, path)) !== null) return r;
      }
      if (this.wildcardHosts.size > 0) {
        // Leftmost dot first = longest suffix first. A dot at index 0 would
        // mean an empty label, so the wildcard needs at least one character.
        for (let i = 1; i < h.length; i++) {
          if (h.charCodeAt(i) !== DOT || !this.wildcardLengths.has(h.length - i)) continue;
          const t = this.wildcardHosts.get(h.slice(i));
          if (t !== undefined && (r = this.searchTable(t, method, path)) !== null) return r;
        }
      }
      if (this.anyHost !== null && (r = this.searchTable(this.anyHost, method, path)) !== null) {
        return r;
      }

      if (this.allow.size === 0) return NOT_FOUND;
      const allow = Array.from(this.allow).sort();
      return { kind: 'method-not-allowed', allow };
    } finally {
      this.segments = null;
      this.paramValues.length = 0;
    }
  }

  /** Most specific match in one host table (and its case-insensitive routes), or null (recording allowed methods). */
  private searchTable(t: Table<T>, method: string, path: string): RouteLookup<T> | null {
    const f = t.folded;
    // Paths are ASCII once normalized: lowercasing keeps every '/' where it was.
    const lower = f === null ? path : path.toLowerCase();
    let r = searchExact(t, method, path, this.allow);
    if (r === null && f !== null) r = searchExact(f, method, lower, this.allow);
    if (r !== null) return r;

    const count = t.trie !== null || (f !== null && f.trie !== null) ? this.countSegments(path) : -1;
    if (t.trie !== null && t.trieSegmentCounts.has(count)) {
      const segs = (this.segments ??= path.split('/'));
      const found = this.searchTrie(t.trie, segs, segs, 1, method);
      if (found !== null) return found;
    }
    if (f !== null && f.trie !== null && f.trieSegmentCounts.has(count)) {
      const segs = (this.segments ??= path.split('/'));
      const found = this.searchTrie(f.trie, lower.split('/'), segs, 1, method);
      if (found !== null) return found;
    }

    if (t.prefixes.size > 0 || (f !== null && f.prefixes.size > 0)) {
      // Candidates: the whole path, then the part before each '/', right to left.
      for (let i = path.length; i >= 0; i--) {
        if (i !== path.length && path.charCodeAt(i) !== SLASH) continue;
        if ((r = this.probePrefix(t, method, path, i)) !== null) return r;
        if (f !== null && (r = this.probePrefix(f, method, lower, i)) !== null) return r;
      }
    }
    return null;
  }

  private probePrefix(t: Table<T>, method: string, path: string, i: number): RouteLookup<T> | null {
    if (!t.prefixLengths.has(i)) return null;
    const g = t.prefixes.get(i === path.length ? path : path.slice(0, i));
    if (g === undefined) return null;
    const e = pick(g, method);
    if (e !== null) return e.found;
    this.recordAllow(g);
    return null;
  }

  /**
   * Depth-first over the param trie, literal child before param child. Each
   * trie node is reachable by at most one route for a given path, so the work
   * is bounded by min(trie size, path segments × trie depth).
   */
  private searchTrie(
    node: TrieNode<T>,
    segs: string[],
    /** The segments as sent (parameter values keep their case). */
    values: string[],
    depth: number,
    method: string,
  ): RouteLookup<T> | null {
    if (depth === segs.length) {
      const g = node.group;
      if (g === null) return null;
      const e = pick(g, method);
      if (e === null) {
        this.recordAllow(g);
        return null;
      }
      const names = e.paramNames!;
      const params: Record<string, string> = Object.create(null);
      for (let i = 0; i < names.length; i++) params[names[i]!] = this.paramValues[i]!;
      return { kind: 'found', value: e.value, params };
    }
    const seg = segs[depth]!;
    if (node.literal !== null) {
      const child = node.literal.get(seg);
      if (child !== undefined) {
        const r = this.searchTrie(child, segs, values, depth + 1, method);
        if (r !== null) return r;
      }
    }
    if (node.param !== null && seg.length > 0) {
      this.paramValues.push(values[depth]!);
      const r = this.searchTrie(node.param, segs, values, depth + 1, method);
      this.paramValues.pop();
      if (r !== null) return r;
    }
    return null;
  }

  /** Number of '/'-separated segments after the leading '/', cached per lookup. */
  private countSegments(path: string): number {
    if (this.segmentCount < 0) {
      let n = 0;
      for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === SLASH) n++;
      this.segmentCount = n;
    }
    return this.segmentCount;
  }

  private recordAllow(g: Group<T>): void {
    // A group with an any-method entry always matches, so only explicit methods get here.
    for (const m of g.byMethod.keys()) this.allow.add(m);
  }
}
