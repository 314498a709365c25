import type { BlockList } from 'node:net';
import { inBlockList as isTrusted } from '../core/cidr.js';
import type { RequestContext } from '../pipeline/stage.js';
import type { Target } from '../upstream/target.js';
import { traceparentOf } from '../core/trace.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1 and the legacy Proxy-Connection). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate'];

/** Hop-by-hop or rewritten by the gateway: never copied from the client. */
const DROP_REQUEST = new Set([
  ...HOP_BY_HOP,
  'proxy-authorization',
  'host',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-request-id',
  'traceparent',
  'tracestate',
]);

/** Hop-by-hop in responses, plus what uWS writes itself (framing and Date). */
export const DROP_RESPONSE = new Set([...HOP_BY_HOP, 'content-length', 'date']);

/** Names listed in a Connection header are hop-by-hop too. */
export function connectionTokens(value: string | undefined): Set<string> | null {
  if (!value) return null;
  const set = new Set<string>();
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token) set.add(token);
  }
  return set;
}

/** Identity is the gateway's to assert: a client never sends these upstream. */
function isIdentityHeader(name: string): boolean {
  return name.charCodeAt(0) === 120 /* x */ && (name.startsWith('x-consumer-') || name.startsWith('x-authenticated-'));
}

/** The client as seen behind trusted proxies: walk X-Forwarded-For from the right past trusted hops. */
export function clientAddressOf(peer: string, xff: string | undefined, trusted: BlockList | null): string {
  if (!trusted || !xff || !isTrusted(trusted, peer)) return peer;
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i].trim();
    if (!hop) continue;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return peer;
}


export type BodyFraming = number | 'chunked';

/**
 * The request head the gateway writes upstream: one string, built once, with
 * the client's end-to-end headers and the gateway's own forwarding headers.
 * `framing`: a Content-Length, 'chunked', or 0 for no body.
 */
export function buildRequestHead(
  ctx: RequestContext,
  target: Target,
  framing: BodyFraming,
  trusted: BlockList | null,
): string {
  const headers = ctx.headers.raw;
  const listed = connectionTokens(ctx.headers.get('connection'));
  const strip = ctx.route.stripHeaders;
  const query = ctx.query;
  let head = `${ctx.method} ${ctx.path}${query ? '?' + query : ''} HTTP/1.1\r\n`;
  const clientHost = ctx.headers.get('host') ?? '';
  head += `host: ${ctx.route.preserveHost && clientHost ? clientHost : target.authority}\r\n`;

  let inboundXff: string | undefined;
  let inboundForwarded: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (DROP_REQUEST.has(name)) {
      if (name === 'x-forwarded-for') inboundXff = inboundXff ? `${inboundXff}, ${headers[i + 1]}` : headers[i + 1];
      else if (name === 'forwarded') inboundForwarded = inboundForwarded ? `${inboundForwarded}, ${headers[i + 1]}` : headers[i + 1];
      continue;
    }
    if (listed !== null && listed.has(name)) continue;
    if (isIdentityHeader(name) || strip.has(name)) continue;
    head += `${name}: ${headers[i + 1]}\r\n`;
  }

  const peer = ctx.peerAddress;
  const fromTrustedProxy = trusted !== null && isTrusted(trusted, peer);
  const proto = (fromTrustedProxy && ctx.headers.get('x-forwarded-proto')) || ctx.listener.scheme;
  const host = (fromTrustedProxy && ctx.headers.get('x-forwarded-host')) || clientHost;
  head += `x-forwarded-for: ${fromTrustedProxy && inboundXff ? `${inboundXff}, ${peer}` : peer}\r\n`;
  head += `x-forwarded-proto: ${proto}\r\n`;
  if (host) head += `x-forwarded-host: ${host}\r\n`;
  // The peer is uWS's text form of the socket address: only an IPv6 one has a colon.
  const forwardedFor = peer.includes(':') ? `"[${peer}]"` : peer;
  const element = `for=${forwardedFor};proto=${ctx.listener.scheme}${clientHost ? `;host="${quotable(clientHost)}"` : ''}`;
  head += `forwarded: ${fromTrustedProxy && inboundForwarded ? `${inboundForwarded}, ${element}` : element}\r\n`;
  head += `x-request-id: ${ctx.id}\r\n`;
  // The gateway's span is the upstream's parent; tracestate belongs to the caller's trace only
  // (a malformed traceparent restarted the trace: W3C Trace Context §4.3).
  head += `traceparent: ${traceparentOf(ctx.span)}\r\n`;
  if (ctx.span.parentId !== null) {
    const tracestate = ctx.headers.get('tracestate');
    if (tracestate) head += `tracestate: ${tracestate}\r\n`;
  }
  // What the gateway itself asserts (verified identity), after the client's headers were filtered.
  const own = ctx.upstreamHeaders;
  for (let i = 0; i < own.length; i += 2) head += `${own[i]}: ${own[i + 1]}\r\n`;
  if (framing === 'chunked') head += 'transfer-encoding: chunked\r\n';
  else if (framing > 0 || methodExpectsBody(ctx.method)) head += `content-length: ${framing}\r\n`;
  return head + 'connection: keep-alive\r\n\r\n';
}

/** A Host value inside a quoted-string: quotes and backslashes dropped (rarely present, so not searched for with a regex each time). */
function quotable(value: string): string {
  return value.includes('"') || value.includes('\\') ? value.replace(/["\\]/g, '') : value;
}

function methodExpectsBody(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}
