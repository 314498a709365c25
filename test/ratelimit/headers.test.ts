import t from 'tap';
import { limitFromRate, makeLimit, newDecision } from '../../src/ratelimit/gcra.js';
import { limitHeaders, rateLimitField, rateLimitPolicy, retryAfter, seconds, sfString } from '../../src/ratelimit/headers.js';

const limits = [limitFromRate('burst', '20/s'), limitFromRate('hourly', '5000/h')];

t.test('sf-string and seconds', async (tt) => {
  tt.equal(sfString('burst'), '"burst"');
  tt.equal(sfString('a"b\\c'), '"a\\"b\\\\c"');
  tt.equal(sfString('é\nx'), '"x"', 'non-ASCII and controls dropped');
  tt.equal(seconds(0), 0);
  tt.equal(seconds(1), 1);
  tt.equal(seconds(1000), 1);
  tt.equal(seconds(1001), 2);
  tt.equal(seconds(0, 1), 1);
  tt.equal(seconds(Infinity), 999_999_999_999_999);
});

t.test('RateLimit-Policy lists every limit', async (tt) => {
  tt.equal(rateLimitPolicy(limits), '"burst";q=20;w=1, "hourly";q=5000;w=3600');
  tt.equal(rateLimitPolicy([makeLimit('half', 5, 500)]), '"half";q=5;w=1');
  // Structured Fields list syntax: items separated by ", ", each a string with ;key=integer params.
  for (const item of rateLimitPolicy(limits).split(', ')) tt.match(item, /^"[^"]+"(;[a-z]+=[0-9]+)+$/);
});

t.test('RateLimit and Retry-After for refused and admitted decisions', async (tt) => {
  const refused = { ...newDecision(), allowed: false, limitIndex: 1, remaining: 0, resetMs: 3_600_000, retryAfterMs: 719_500 };
  tt.equal(rateLimitField(limits[1], refused), '"hourly";r=0;t=720');
  tt.equal(retryAfter(refused), '720');
  tt.same(limitHeaders(limits, rateLimitPolicy(limits), refused), [
    ['retry-after', '720'],
    ['ratelimit-policy', '"burst";q=20;w=1, "hourly";q=5000;w=3600'],
    ['ratelimit', '"hourly";r=0;t=720'],
  ]);
  const tiny = { ...refused, limitIndex: 0, retryAfterMs: 3 };
  tt.equal(retryAfter(tiny), '1', 'never Retry-After: 0');
  const admitted = { ...newDecision(), allowed: true, limitIndex: 0, remaining: 17, resetMs: 150, retryAfterMs: 0 };
  tt.same(limitHeaders(limits, rateLimitPolicy(limits), admitted), [
    ['ratelimit-policy', '"burst";q=20;w=1, "hourly";q=5000;w=3600'],
    ['ratelimit', '"burst";r=17;t=1'],
  ]);
});
