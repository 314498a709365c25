import t from 'tap';
import { HeaderList } from '../../src/pipeline/headers.js';
import type { RequestContext, ResponseContext, Stage, StageContext } from '../../src/pipeline/stage.js';
import { Metrics } from '../../src/core/metrics.js';
import { protectStage } from '../../src/protect/stage.js';

const log = { info() {}, warn() {}, error() {}, debug() {}, isLevelEnabled: () => true } as unknown as StageContext['log'];

t.test('masking events are counted by route, detector and action', async (t) => {
  const metrics = new Metrics();
  const stage: Stage = protectStage.compile(
    { type: 'protect', entities: ['CREDIT_CARD', 'US_SSN', 'EMAIL_ADDRESS'], detectors: [], actions: { US_SSN: 'redact' }, keepLast: 4, grants: [], recipients: {}, responses: true, maxScanBytes: 1 << 20, oversize: 'pass', compressed: 'identity', recompress: true, timeoutMs: 1000 },
    { log, metrics, workers: 1 } as unknown as StageContext,
  );
  const ctx = { id: 'r1', route: { name: 'accounts' }, state: {}, headers: new HeaderList([]) } as unknown as RequestContext;
  const res: ResponseContext = {
    status: 200,
    headers: new HeaderList(['content-type', 'application/json', 'etag', '"v1"', 'content-md5', 'abc=']),
    body: Buffer.from(JSON.stringify({ a: '4111 1111 1111 1111', b: '5500 0000 0000 0004', s: '536-22-8726', n: 'nothing here' })),
  };
  await stage.onResponse!(ctx, res);
  t.same(res.headers.raw, ['content-type', 'application/json'], 'a rewritten body loses the ETag and digests of the original bytes');
  t.same(JSON.parse(res.body!.toString()), { a: '**** **** **** 1111', b: '**** **** **** 0004', s: '', n: 'nothing here' });
  const series = metrics.snapshot().counters.ztgate_pii_actions_total!.series;
  t.same(
    series.sort(),
    [
      [['accounts', 'CREDIT_CARD', 'mask'], 2],
      [['accounts', 'US_SSN', 'redact'], 1],
    ],
  );

  const big: ResponseContext = { status: 200, headers: new HeaderList(['content-type', 'text/plain']), body: Buffer.alloc(2 << 20, 'a') };
  await stage.onResponse!(ctx, big);
  t.same(metrics.snapshot().counters.ztgate_pii_unscanned_total!.series, [[['accounts', 'response'], 1]], 'oversize: pass raises the unscanned counter');
});

t.test('without an action in `actions`, callers no grant matches get the strictest configured one; contentTypes limits what is scanned', async (t) => {
  const stage: Stage = protectStage.compile(
    {
      type: 'protect',
      entities: ['CREDIT_CARD', 'US_SSN'],
      detectors: [],
      actions: {},
      keepLast: 4,
      grants: [
        { consumers: ['bank'], actions: { CREDIT_CARD: 'allow', US_SSN: 'redact' } },
        { consumers: ['bureau'], actions: { CREDIT_CARD: 'mask' } },
      ],
      recipients: {},
      responses: true,
      contentTypes: ['application/json'],
      maxScanBytes: 1 << 20,
      oversize: 'refuse',
      compressed: 'identity',
      recompress: true,
      timeoutMs: 1000,
    },
    { log, metrics: new Metrics(), workers: 1 } as unknown as StageContext,
  );
  const respond = async (type: string, consumer?: string) => {
    const ctx = { id: 'r', route: { name: 'r' }, state: { identity: consumer ? { consumer, roles: new Set(), scopes: new Set() } : undefined }, headers: new HeaderList([]) } as unknown as RequestContext;
    const res: ResponseContext = { status: 200, headers: new HeaderList(['content-type', type]), body: Buffer.from(JSON.stringify({ c: '4111 1111 1111 1111', s: '536-22-8726' })) };
    await stage.onResponse!(ctx, res);
    return res.body!.toString();
  };
  t.same(JSON.parse(await respond('application/json')), { c: '**** **** **** 1111', s: '' }, 'anonymous: mask for cards (nothing stricter configured), redact for SSNs (a grant configures it)');
  t.same(JSON.parse(await respond('application/json', 'bank')), { c: '4111 1111 1111 1111', s: '' });
  t.match(await respond('text/plain'), '4111 1111 1111 1111', 'a type not in contentTypes is not scanned');
});
