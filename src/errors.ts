/**
 * The one catalogue of errors a client can see. Responses, logs and tests use
 * the same stable codes; the `detail` never carries internal information.
 */
export interface GatewayErrorKind {
  readonly code: string;
  readonly status: number;
  readonly title: string;
}

function kind(code: string, status: number, title: string): GatewayErrorKind {
  return Object.freeze({ code, status, title });
}

export const Errors = Object.freeze({
  BAD_REQUEST: kind('ZTG_BAD_REQUEST', 400, 'Bad request'),
  BAD_PATH: kind('ZTG_BAD_PATH', 400, 'Bad request path'),
  BAD_FRAMING: kind('ZTG_BAD_FRAMING', 400, 'Ambiguous or invalid message framing'),
  BAD_HEADER: kind('ZTG_BAD_HEADER', 400, 'Invalid header'),
  UNAUTHENTICATED: kind('ZTG_UNAUTHENTICATED', 401, 'Authentication required'),
  FORBIDDEN: kind('ZTG_FORBIDDEN', 403, 'Not allowed'),
  THREAT_DETECTED: kind('ZTG_THREAT_DETECTED', 403, 'Request blocked by inspection'),
  BLOCKED: kind('ZTG_BLOCKED', 403, 'Temporarily blocked after unusual activity'),
  NOT_FOUND: kind('ZTG_ROUTE_NOT_FOUND', 404, 'No route matches this request'),
  RATE_LIMITED: kind('ZTG_RATE_LIMITED', 429, 'Too many requests'),
  METHOD_NOT_ALLOWED: kind('ZTG_METHOD_NOT_ALLOWED', 405, 'Method not allowed on this route'),
  BODY_TOO_LARGE: kind('ZTG_BODY_TOO_LARGE', 413, 'Request body too large'),
  URI_TOO_LONG: kind('ZTG_URI_TOO_LONG', 414, 'Request URI too long'),
  UNSUPPORTED_MEDIA_TYPE: kind('ZTG_UNSUPPORTED_MEDIA_TYPE', 415, 'Content type not accepted on this route'),
  HEADERS_TOO_LARGE: kind('ZTG_HEADERS_TOO_LARGE', 431, 'Request header fields too large'),
  BODY_MALFORMED: kind('ZTG_BODY_MALFORMED', 400, 'Request body is not well-formed'),
  BODY_INVALID: kind('ZTG_BODY_INVALID', 400, 'Request body failed validation'),
  UPSTREAM_CONNECT: kind('ZTG_UPSTREAM_CONNECT', 502, 'Upstream connection failed'),
  UPSTREAM_RESET: kind('ZTG_UPSTREAM_RESET', 502, 'Upstream closed the connection'),
  UPSTREAM_BAD_RESPONSE: kind('ZTG_UPSTREAM_BAD_RESPONSE', 502, 'Upstream sent an invalid response'),
  UPSTREAM_UNAVAILABLE: kind('ZTG_UPSTREAM_UNAVAILABLE', 503, 'No upstream target can take the request'),
  UPSTREAM_TLS: kind('ZTG_UPSTREAM_TLS', 502, 'Upstream TLS handshake failed'),
  NO_HEALTHY_UPSTREAM: kind('ZTG_NO_HEALTHY_UPSTREAM', 503, 'Every target of the upstream is down'),
  RESPONSE_WITHHELD: kind('ZTG_RESPONSE_WITHHELD', 502, 'Response withheld: it could not be scanned'),
  DECOMPRESSION_LIMIT: kind('ZTG_DECOMPRESSION_LIMIT', 502, 'Response withheld: it expands beyond the scanning limit'),
  SHUTTING_DOWN: kind('ZTG_SHUTTING_DOWN', 503, 'Gateway is shutting down'),
  UPLOAD_BACKLOG: kind('ZTG_UPLOAD_BACKLOG', 503, 'Upstream cannot take the upload this fast'),
  OVERLOADED: kind('ZTG_OVERLOADED', 503, 'Gateway overloaded, try again shortly'),
  CONCURRENCY_LIMITED: kind('ZTG_CONCURRENCY_LIMITED', 503, 'Too many requests in flight'),
  INSPECTION_FAILED: kind('ZTG_INSPECTION_FAILED', 503, 'Request could not be inspected'),
  IDENTITY_UNAVAILABLE: kind('ZTG_IDENTITY_UNAVAILABLE', 503, 'Identity provider unavailable'),
  UPSTREAM_TIMEOUT: kind('ZTG_UPSTREAM_TIMEOUT', 504, 'Upstream timed out'),
  INTERNAL: kind('ZTG_INTERNAL', 500, 'Internal gateway error'),
});

export type ErrorName = keyof typeof Errors;

/** An error raised on the request path that maps to a catalogue entry. */
export class GatewayError extends Error {
  constructor(
    readonly kind: GatewayErrorKind,
    /** For the log only; never sent to the client. */
    readonly reason: string,
  ) {
    super(`${kind.code}: ${reason}`);
  }
}

/** RFC 9457 problem document; `detail` is the catalogue title, never the internal reason. */
export function problemBody(kind: GatewayErrorKind, requestId: string, extra?: Record<string, unknown>): string {
  return JSON.stringify({
    type: `urn:ztgate:error:${kind.code}`,
    title: kind.title,
    status: kind.status,
    code: kind.code,
    requestId,
    ...extra,
  });
}
