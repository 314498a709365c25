import { randomFillSync } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the gateway joins
 * the caller's trace when its `traceparent` is well formed, or starts one, and
 * adds a span of its own that the upstream sees as its parent.
 */
export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's span, when the request carried a valid traceparent. */
  readonly parentId: string | null;
  readonly flags: string;
  /** Exported to the trace collector (the caller's sampled flag, or the configured ratio for new traces). */
  readonly sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Ids come from a pool of random bytes refilled 4 KiB at a time, not a syscall per request.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/**
 * The gateway's span for a request, from the client's traceparent header (or
 * none). A caller's sampling decision is kept (parent-based); a new trace is
 * sampled with probability `sampleRatio`.
 */
export function startSpan(traceparent: string | undefined, sampleRatio = 0): TraceSpan {
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  // Version ff is invalid; all-zero ids are invalid (§3.2.2): restart the trace.
  if (m !== null && m[1] !== 'ff' && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN) {
    return { traceId: m[2], spanId: randomHex(8), parentId: m[3], flags: m[4], sampled: (parseInt(m[4], 16) & 1) === 1 };
  }
  const sampled = sampleRatio > 0 && (sampleRatio >= 1 || Math.random() < sampleRatio);
  return { traceId: randomHex(16), spanId: randomHex(8), parentId: null, flags: sampled ? '01' : '00', sampled };
}

/** The traceparent the upstream gets: same trace, the gateway's span as parent. */
export function traceparentOf(span: TraceSpan): string {
  return `00-${span.traceId}-${span.spanId}-${span.flags}`;
}
