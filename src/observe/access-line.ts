import pino from 'pino';
import type { Logger } from './log.js';
import type { RequestRecord } from './request-record.js';

/** Replaces personal data in a string (the protect module's log scrubber, passed in by the assembly). */
export type Scrub = (s: string) => string;

/**
 * The access line, written straight to the logger's destination as pino would
 * print it (same level, time, bindings and message). pino's generic path
 * (hooks, a key walk, JSON.stringify per value) cost a quarter of a busy bare
 * proxy's throughput for this one line per request (native-bench/NOTES.md);
 * here every field but the path is a number or a value the gateway made or
 * checked (ids, names from config, status, address, a method token), so only
 * the path is scrubbed of PII and escaped.
 */
export function accessLineWriter(log: Logger, scrub: Scrub): (r: RequestRecord) => void {
  const stream = (log as unknown as Record<symbol, LineStream | undefined>)[pino.symbols.streamSym];
  const chindings = (log as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? '';
  // pino's documented symbols; a version without them fails here at start, not per request.
  if (!stream || typeof stream.write !== 'function') throw new Error('access log: the pino logger has no destination stream');
  const level = log.levels.values.info;
  const batch = batchFor(stream);
  return (r) => batch.add(formatAccessLine(r, level, chindings, scrub));
}

interface LineStream {
  write(s: string): void;
  flushSync?(): void;
}

/**
 * Access lines of one event-loop turn, handed to the destination as one string.
 * pino's destination (sonic-boom) appends each write to its pending chunk (up to
 * 16 KB) and measures that chunk's byte length, which flattens it: written a line
 * at a time, each line paid for every line before it in the chunk, ~10 µs of
 * process CPU a line against ~6 this way (native-bench/NOTES.md).
 * A turn's lines go out before the next turn starts, so they keep their order
 * with the process's other lines to within the turn.
 */
class LineBatch {
  private pending = '';
  private scheduled = false;

  constructor(private readonly stream: LineStream) {
    // The last turn's lines, when the process exits before that turn's flush.
    process.once('exit', () => {
      if (this.pending === '') return;
      this.flush();
      try {
        this.stream.flushSync?.();
      } catch {
        /* destination not ready: nothing to flush */
      }
    });
  }

  add(line: string): void {
    this.pending += line;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const lines = this.pending;
    this.pending = '';
    if (lines !== '') this.stream.write(lines);
  };
}

/** One batch per destination: every config generation's recorder shares the process's. */
const batches = new WeakMap<LineStream, LineBatch>();
function batchFor(stream: LineStream): LineBatch {
  let b = batches.get(stream);
  if (b === undefined) batches.set(stream, (b = new LineBatch(stream)));
  return b;
}

export function formatAccessLine(r: RequestRecord, level: number, chindings: string, scrub: Scrub): string {
  let line = `{"level":${level},"time":${Date.now()}${chindings},"access":true,"reqId":${JSON.stringify(r.id)},"traceId":"${r.span.traceId}","spanId":"${r.span.spanId}","listener":${JSON.stringify(r.listener)},"route":${JSON.stringify(r.route)}`;
  if (r.upstream) line += `,"upstream":${JSON.stringify(r.upstream)}`;
  line += `,"method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path && scrub(r.path))},"status":${r.status}`;
  if (r.code !== null) line += `,"code":"${r.code}"`;
  if (r.cut !== undefined) line += `,"cut":"${r.cut}"`;
  if (r.consumer !== null) line += `,"consumer":${JSON.stringify(r.consumer)}`;
  line += `,"client":${JSON.stringify(r.clientAddress)},"bytesIn":${r.bytesIn},"bytesOut":${r.bytesOut},"ms":${ms(r.totalMs)}`;
  if (r.upstreamMs !== null) line += `,"upstreamMs":${ms(r.upstreamMs)}`;
  if (r.upstreamTtfbMs !== null) line += `,"ttfbMs":${ms(r.upstreamTtfbMs)}`;
  if (r.upstreamConnectMs !== null) line += `,"connectMs":${ms(r.upstreamConnectMs)}`;
  if (r.budgetLeftMs !== undefined) line += `,"budgetLeftMs":${Math.round(r.budgetLeftMs)}`;
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
