import { HeaderList } from '../../src/pipeline/headers.js';
import type { CompiledRoute, RequestContext, Stage } from '../../src/pipeline/stage.js';
import { startSpan } from '../../src/core/trace.js';

/**
 * A request context as the intake builds one, for tests that drive stages or
 * the runners without a listener: every field present, `over` replaces any.
 * `headers` is a flat name/value list (lowercase names).
 */
export function fakeRequestContext(over: Partial<Omit<RequestContext, 'headers'>> & { headers?: string[] } = {}): RequestContext {
  const { headers, ...rest } = over;
  return {
    id: 'req-1',
    method: 'GET',
    path: '/',
    query: '',
    headers: new HeaderList(headers ?? ['host', 'example.test']),
    clientAddress: '198.51.100.7',
    peerAddress: '198.51.100.7',
    listener: { name: 'public', segment: 'external', scheme: 'http', mtls: false },
    route: { name: 'orders' } as CompiledRoute,
    params: null,
    body: null,
    state: {},
    upstreamHeaders: [],
    peerCertificate: () => null,
    startedAt: performance.now(),
    span: startSpan(undefined),
    stageMs: {},
    ...rest,
  };
}

/**
 * A compiled route around `stages` (hooks pre-filtered as the compiler does),
 * for the runners; what the runners do not read is left out.
 */
export function routeOf(stages: Stage[], over: Partial<CompiledRoute> = {}): CompiledRoute {
  return {
    name: 'orders',
    stages,
    admission: null,
    requestStages: stages.filter((s) => s.onRequest),
    responseStages: stages.filter((s) => s.onResponse),
    doneStages: stages.filter((s) => s.onDone),
    needsRequestBody: stages.some((s) => s.needsRequestBody),
    needsResponseBody: stages.some((s) => s.needsResponseBody),
    ...over,
  } as CompiledRoute;
}
