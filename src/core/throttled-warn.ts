/** The part of a pino logger a throttled warning needs. */
export interface WarnSink {
  warn(fields: Record<string, unknown>, msg: string): void;
}

/**
 * An operational warning that may repeat once per request (every target down,
 * a pool shedding load): the first occurrence is logged at once, the ones after
 * it are counted and logged as one line with `count` at the end of each
 * interval in which they happened, so a flood costs one line per interval.
 */
export class ThrottledWarn {
  private suppressed = 0;
  private last: Record<string, unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: WarnSink,
    private readonly msg: string,
    private readonly intervalMs = 1000,
  ) {}

  /** One occurrence; `fields` describe it (the last ones of an interval go in its line). */
  hit(fields: Record<string, unknown>): void {
    if (this.timer === null) {
      this.log.warn({ ...fields, count: 1 }, this.msg);
      this.arm();
      return;
    }
    this.suppressed++;
    this.last = fields;
  }

  private arm(): void {
    this.timer = setTimeout(this.flush, this.intervalMs);
    this.timer.unref();
  }

  private readonly flush = (): void => {
    this.timer = null;
    if (this.suppressed === 0) return;
    this.log.warn({ ...this.last, count: this.suppressed, intervalMs: this.intervalMs }, this.msg);
    this.suppressed = 0;
    this.last = null;
    this.arm(); // a flood still going on gets its next line one interval later
  };
}
