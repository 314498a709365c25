import pino from 'pino';
import type { Logger } from './log.js';
import type { RequestRecord } from './request-record.js';
import { scrubString } from '../protect/log-scrub.js';

/**
 * The access line, written straight to the logger's destination as pino would
 * print it (same level, time, bindings and message). pino's generic path
 * (hooks, a key walk, JSON.stringify per value) cost a quarter of a busy bare
 * proxy's throughput for this one line per request (native-bench/NOTES.md);
 * here every field but the path is a number or a value the gateway made or
 * checked (ids, names from config, status, address, a method token), so only
 * the path is scrubbed of PII and escaped.
 */
export function accessLineWriter(log: Logger): (r: RequestRecord) => void {
  const stream = (log as unknown as Record<symbol, { write(s: string): void } | undefined>)[pino.symbols.streamSym];
  const chindings = (log as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? '';
  // pino's documented symbols; a version without them fails here at start, not per request.
  if (!stream || typeof stream.write !== 'function') throw new Error('access log: the pino logger has no destination stream');
  const level = log.levels.values.info;
  return (r) => stream.write(formatAccessLine(r, level, chindings));
}

export function formatAccessLine(r: RequestRecord, level: number, chindings: string): string {
  let line = `{"level":${level},"time":${Date.now()}${chindings},"access":true,"reqId":${JSON.stringify(r.id)},"traceId":"${r.span.traceId}","spanId":"${r.span.spanId}","listener":${JSON.stringify(r.listener)},"route":${JSON.stringify(r.route)}`;
  if (r.upstream) line += `,"upstream":${JSON.stringify(r.upstream)}`;
  line += `,"method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path && scrubString(r.path))},"status":${r.status}`;
  if (r.code !== null) line += `,"code":"${r.code}"`;
  if (r.consumer !== null) line += `,"consumer":${JSON.stringify(r.consumer)}`;
  line += `,"client":${JSON.stringify(r.clientAddress)},"bytesIn":${r.bytesIn},"bytesOut":${r.bytesOut},"ms":${ms(r.totalMs)}`;
  if (r.upstreamMs !== null) line += `,"upstreamMs":${ms(r.upstreamMs)}`;
  if (r.upstreamTtfbMs !== null) line += `,"ttfbMs":${ms(r.upstreamTtfbMs)}`;
  if (r.upstreamConnectMs !== null) line += `,"connectMs":${ms(r.upstreamConnectMs)}`;
  line += ',"stages":{';
  let first = true;
  for (const name in r.stages) {
    line += `${first ? '' : ','}${JSON.stringify(name)}:${ms(r.stages[name])}`;
    first = false;
  }
  return `${line}},"msg":"access"}\n`;
}

function ms(v: number): number {
  return Math.round(v * 1000) / 1000;
}
