import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * pino on an asynchronous destination: a log line never blocks the event loop.
 * Headers that carry credentials are redacted wherever they appear in a line,
 * and personal data in any string of a line (a path holding a card number, an
 * error quoting a body) is replaced by its entity name by `scrubArgs` (the
 * protect module's scrubber, src/protect/log-scrub.ts, passed in by the entry files).
 */
/** Lines are written in batches of this many bytes, or every FLUSH_MS, whichever comes first. */
const BATCH_BYTES = 8 * 1024;
const FLUSH_MS = 100;

export function createLogger(level: string, bindings: Record<string, unknown>, scrubArgs: (args: unknown[]) => unknown[]): Logger {
  // One write(2) per batch instead of one per line: an access line per request made
  // the writes a fifth of a busy gateway's CPU (native-bench/NOTES.md).
  const destination = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
  setInterval(() => destination.flush(), FLUSH_MS).unref();
  const logger = pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: {
        paths: [
          'headers.authorization',
          'headers.cookie',
          'headers["set-cookie"]',
          'headers["x-api-key"]',
          'headers["proxy-authorization"]',
        ],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          return method.apply(this, scrubArgs(args) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // Flush what is buffered when the process exits normally.
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      /* destination not ready: nothing to flush */
    }
  });
  return logger;
}
