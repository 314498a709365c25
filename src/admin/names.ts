import { Errors } from '../errors.js';

/**
 * The metric families the admin views read (recorded by src/observe/recorder.ts
 * in every gateway process). A family that is absent simply shows as zero.
 */
export const FAMILY = {
  requests: 'ztgate_requests_total',
  consumers: 'ztgate_consumer_requests_total',
  answers: 'ztgate_gateway_answers_total',
  total: 'ztgate_request_duration_us',
  gateway: 'ztgate_gateway_duration_us',
  upstream: 'ztgate_upstream_duration_us',
  /** Gauge 1/0 per upstream target (active health checks, src/upstream/upstream.ts); absent without checks. */
  upstreamHealthy: 'ztgate_upstream_target_up',
  alerts: 'ztgate_alerts_total',
} as const;

/** Gateway answers (by ZTG_* code) that the dashboard counts as rate-limited, blocked or unauthenticated. */
export const RATE_LIMITED_CODES = new Set([Errors.RATE_LIMITED.code, Errors.CONCURRENCY_LIMITED.code]);
export const BLOCKED_CODES = new Set([Errors.THREAT_DETECTED.code, Errors.FORBIDDEN.code, Errors.BLOCKED.code]);
export const IDENTITY_FAILURE_CODES = new Set([Errors.UNAUTHENTICATED.code]);
