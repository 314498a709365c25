import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { HeaderList } from '../../src/pipeline/headers.js';
import { runDoneStages, runRequestStages, runResponseStages, type StagedRequest } from '../../src/pipeline/run.js';
import type { RequestContext, Stage, StageContext, StageReply } from '../../src/pipeline/stage.js';
import type { GatewayError } from '../../src/errors.js';
import { headersStage } from '../../src/headers/stage.js';
import { validateStage } from '../../src/validate/stage.js';
import { concurrencyStage } from '../../src/ratelimit/concurrency.js';
import { RequestRecorder } from '../../src/observe/recorder.js';
import { networkAdmission, Sanctions } from '../../src/observe/anomaly/sanctions.js';
import { Metrics } from '../../src/core/metrics.js';
import { fakeRequestContext, routeOf } from '../helpers/request-context.js';

/** Error lines the runners logged (a real pino logger on an in-memory stream). */
const errors: Record<string, unknown>[] = [];
const log = pino(
  { level: 'error' },
  new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) errors.push(JSON.parse(line));
      done();
    },
  }),
);
const context = { log, processes: 1 } as StageContext;

const headers = (options: Record<string, unknown>) => headersStage.compile({ type: 'headers', ...options }, context);
const validate = (options: Record<string, unknown>) => validateStage.compile({ type: 'validate', ...options }, context);
const concurrency = (max: number) => concurrencyStage.compile({ type: 'concurrency', max, per: 'route', retryAfterSec: 1 }, context);

/** What a runner did with the request: how it ended, and when. */
class Staged implements StagedRequest {
  aborted = false;
  ended: { how: 'forward' } | { how: 'reply'; reply: StageReply } | { how: 'fail'; error: GatewayError; close: boolean } | null = null;
  bodyAsked = 0;
  private resolve!: () => void;
  readonly settled = new Promise<void>((r) => (this.resolve = r));
  constructor(
    readonly ctx: RequestContext,
    private readonly body = Buffer.alloc(0),
  ) {}
  collectBody(): Promise<Buffer> {
    this.bodyAsked++;
    return Promise.resolve(this.body);
  }
  reply(reply: StageReply): void {
    this.end({ how: 'reply', reply });
  }
  forward(): void {
    this.end({ how: 'forward' });
  }
  fail(error: GatewayError, close: boolean): void {
    this.end({ how: 'fail', error, close });
  }
  private end(e: NonNullable<Staged['ended']>): void {
    if (this.ended) throw new Error(`ended twice: ${this.ended.how} then ${e.how}`);
    this.ended = e;
    this.resolve();
  }
}

t.test('a route without request stages forwards at once, synchronously', async (t) => {
  const staged = new Staged(fakeRequestContext({ route: routeOf([]) }));
  runRequestStages(staged, log);
  t.same(staged.ended, { how: 'forward' }, 'no promise in between');
});

t.test('request stages run in order, each timed, then the request is forwarded', async (t) => {
  const route = routeOf([headers({ request: { set: { 'x-a': '1' } } }), validate({ methods: ['GET'] })]);
  const ctx = fakeRequestContext({ route });
  const staged = new Staged(ctx);
  runRequestStages(staged, log);
  await staged.settled;
  t.same(staged.ended, { how: 'forward' });
  t.equal(ctx.headers.get('x-a'), '1', 'the headers stage edited the request');
  t.same(Object.keys(ctx.stageMs).sort(), ['headers', 'validate'], 'each stage timed under its name');
});

t.test('a refusing stage answers, later stages do not run, the refusal is counted', async (t) => {
  const metrics = new Metrics();
  const recorder = new RequestRecorder(log, metrics, (s) => s);
  const route = routeOf([validate({ methods: ['GET'] }), headers({ request: { set: { 'x-late': '1' } } })], { recorder });
  const ctx = fakeRequestContext({ method: 'DELETE', route });
  const staged = new Staged(ctx);
  runRequestStages(staged, log);
  await staged.settled;
  t.match(staged.ended, { how: 'reply', reply: { error: { status: 405 } } });
  t.equal(ctx.headers.get('x-late'), undefined, 'the stage after the refusal did not run');
  const refusals = metrics.snapshot().counters.ztgate_stage_refusals_total;
  t.equal(refusals.series.length, 1);
  t.same(refusals.series[0][0].slice(0, 2), ['orders', 'validate'], 'by route and stage');
  t.equal(refusals.series[0][0][2], (staged.ended as { reply: StageReply }).reply.error.code, 'and code');
  t.equal(refusals.series[0][1], 1);
});

t.test('the admission refuses a blocked network before any stage', async (t) => {
  const sanctions = new Sanctions();
  sanctions.impose('network:203.0.113.0/24', { type: 'block', durationMs: 60_000 }, 'scan');
  const route = routeOf([headers({ request: { set: { 'x-a': '1' } } })], { admission: networkAdmission(sanctions) });
  const blocked = new Staged(fakeRequestContext({ route, clientAddress: '203.0.113.9' }));
  runRequestStages(blocked, log);
  t.match(blocked.ended, { how: 'reply', reply: { error: { code: 'ZTG_BLOCKED' }, headers: [['retry-after', /^\d+$/]] } });
  t.equal(blocked.ctx.headers.get('x-a'), undefined, 'no stage ran');
  const other = new Staged(fakeRequestContext({ route, clientAddress: '198.51.100.7' }));
  runRequestStages(other, log);
  await other.settled;
  t.same(other.ended, { how: 'forward' }, 'another network passes');
});

t.test('a body-reading stage gets the whole body before it runs', async (t) => {
  const route = routeOf([validate({ json: {} })]);
  const ctx = fakeRequestContext({ method: 'POST', route, headers: ['host', 'x', 'content-type', 'application/json', 'content-length', '8'] });
  const staged = new Staged(ctx, Buffer.from('{"a": 1}'));
  runRequestStages(staged, log);
  await staged.settled;
  t.equal(staged.bodyAsked, 1);
  t.equal(ctx.body?.toString(), '{"a": 1}');
  t.same(staged.ended, { how: 'forward' });
});

t.test('a stage that throws fails the request with 500 and closes; one that finds the client gone stops the chain', async (t) => {
  const throwing: Stage = {
    name: 'broken',
    onRequest: async () => {
      throw new Error('boom');
    },
  };
  const staged = new Staged(fakeRequestContext({ route: routeOf([throwing]) }));
  runRequestStages(staged, log);
  await staged.settled;
  t.match(staged.ended, { how: 'fail', error: { kind: { status: 500 } }, close: true });
  t.match(errors.at(-1), { route: 'orders', msg: 'request stage threw' });

  const gone = new Staged(fakeRequestContext({ route: routeOf([validate({ methods: ['GET'] })]) }));
  const leaving: Stage = { name: 'leaving', onRequest: async () => void (gone.aborted = true) };
  const ctx = gone.ctx as { route: unknown };
  ctx.route = routeOf([leaving, validate({ methods: ['POST'] })]);
  runRequestStages(gone, log);
  await new Promise((r) => setImmediate(r));
  t.equal(gone.ended, null, 'neither answered nor forwarded: the client left');
});

t.test('response stages run in order over the response and stop once the exchange is finished', async (t) => {
  const route = routeOf([headers({ response: { set: { 'x-one': '1' } } }), headers({ response: { remove: ['server'] } })]);
  const ctx = fakeRequestContext({ route });
  ctx.stageMs.headers = 1;
  const response = { status: 200, headers: new HeaderList(['server', 'up', 'content-type', 'text/plain']), body: null };
  await runResponseStages(ctx, response, { finished: false });
  t.equal(response.headers.get('x-one'), '1');
  t.equal(response.headers.get('server'), undefined);
  t.ok(ctx.stageMs.headers >= 1, 'time added to what the stage took on the request');

  const again = { status: 200, headers: new HeaderList(['server', 'up']), body: null };
  await runResponseStages(fakeRequestContext({ route }), again, { finished: true });
  t.equal(again.headers.get('x-one'), '1', 'the first ran');
  t.equal(again.headers.get('server'), 'up', 'the second did not: the exchange was over');
});

t.test('every onDone runs once the exchange ended, even past one that throws', async (t) => {
  const limit = concurrency(1);
  const throwing: Stage = {
    name: 'broken',
    onDone: () => {
      throw new Error('boom');
    },
  };
  const route = routeOf([throwing, limit]);
  const first = fakeRequestContext({ route });
  t.equal(limit.onRequest!(first), undefined, 'the one slot taken');
  t.match(limit.onRequest!(fakeRequestContext({ route })), { error: { status: 503 } }, 'a second waits for it');
  runDoneStages(first, 200, log);
  t.match(errors.at(-1), { stage: 'broken', msg: 'onDone threw' });
  t.equal(limit.onRequest!(fakeRequestContext({ route })), undefined, 'the slot was released by the stage after the throwing one');
});
