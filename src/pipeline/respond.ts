import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { problemBody, type GatewayErrorKind } from '../errors.js';

const statusLines = new Map<number, string>();

/** "404 Not Found", computed once per code. */
export function statusLine(code: number, message?: string): string {
  let line = statusLines.get(code);
  if (line === undefined) {
    line = `${code} ${STATUS_CODES[code] ?? message ?? 'Unknown'}`;
    if (statusLines.size < 1000) statusLines.set(code, line);
  }
  return line;
}

export interface ProblemOptions {
  headers?: readonly (readonly [string, string])[];
  extra?: Record<string, unknown>;
  /** Close the client connection after this answer (unread body, shutting down). */
  close?: boolean;
}

/** Writes an RFC 9457 problem answer; the caller corks when outside the uWS handler. */
export function writeProblem(res: HttpResponse, kind: GatewayErrorKind, requestId: string, options?: ProblemOptions): void {
  res.writeStatus(statusLine(kind.status));
  res.writeHeader('content-type', 'application/problem+json');
  res.writeHeader('x-request-id', requestId);
  res.writeHeader('cache-control', 'no-store');
  if (options?.headers) for (const [name, value] of options.headers) res.writeHeader(name, value);
  res.end(problemBody(kind, requestId, options?.extra), options?.close ?? false);
}
