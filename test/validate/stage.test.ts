import t from 'tap';
import { HeaderList } from '../../src/pipeline/headers.js';
import type { RequestContext, Stage, StageContext, StageReply } from '../../src/pipeline/stage.js';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { validateStage } from '../../src/validate/stage.js';

const compile = (options: Record<string, unknown>): Stage => validateStage.compile({ type: 'validate', ...options }, {} as StageContext);

function request(init: { method?: string; path?: string; query?: string; headers?: [string, string][]; body?: string | Buffer | null }): RequestContext {
  const raw: string[] = ['host', 'example.test'];
  for (const [n, v] of init.headers ?? []) raw.push(n, v);
  const body = init.body === undefined || init.body === null ? null : Buffer.from(init.body);
  if (body && !raw.includes('content-length')) raw.push('content-length', String(body.length));
  return { method: init.method ?? 'POST', path: init.path ?? '/x', query: init.query ?? '', headers: new HeaderList(raw), body } as unknown as RequestContext;
}

const json = (body: unknown, headers: [string, string][] = []) =>
  request({ body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: [['content-type', 'application/json'], ...headers] });
const reply = (stage: Stage, ctx: RequestContext) => stage.onRequest!(ctx) as StageReply | undefined;

t.test('needsRequestBody only with json limits or a schema', async (t) => {
  t.notOk(compile({ methods: ['GET'], contentTypes: ['application/json'], maxBodyBytes: 10 }).needsRequestBody);
  t.ok(compile({ json: {} }).needsRequestBody);
  t.ok(compile({ schema: { type: 'object' } }).needsRequestBody);
});

t.test('methods, url, headers', async (t) => {
  const s = compile({ methods: ['GET', 'POST'], maxUrlBytes: 20, maxHeaders: 3, maxHeaderBytes: 60 });
  t.equal(reply(s, request({ method: 'GET' })), undefined);
  t.match(reply(s, request({ method: 'PUT' })), { error: { status: 405 }, headers: [['allow', 'GET, POST']], extra: { limit: 'methods' } });
  t.equal(reply(s, request({ method: 'GET', path: '/0123456789', query: 'a=123456' })), undefined, '20 bytes: path, ? and query');
  t.match(reply(s, request({ method: 'GET', path: '/0123456789', query: 'a=1234567' })), { error: { status: 414 }, extra: { limit: 'maxUrlBytes', max: 20 } });
  t.match(reply(s, request({ method: 'GET', headers: [['a', '1'], ['b', '2'], ['c', '3']] })), { error: { status: 431 }, extra: { limit: 'maxHeaders', max: 3 } });
  t.match(reply(s, request({ method: 'GET', headers: [['a', 'x'.repeat(60)]] })), { error: { status: 431 }, extra: { limit: 'maxHeaderBytes' } });
});

t.test('content types and body size', async (t) => {
  const s = compile({ contentTypes: ['application/json', 'text/*'], maxBodyBytes: 10 });
  t.equal(reply(s, request({ method: 'GET' })), undefined, 'no body: no content type needed');
  t.equal(reply(s, request({ body: '{}', headers: [['content-type', 'Application/JSON; charset=utf-8']] })), undefined, 'parameters and case ignored');
  t.equal(reply(s, request({ body: 'hi', headers: [['content-type', 'text/plain']] })), undefined, 'type/* entries');
  t.match(reply(s, request({ body: 'a=1', headers: [['content-type', 'application/x-www-form-urlencoded']] })), { error: { status: 415 }, extra: { limit: 'contentTypes' } });
  t.match(reply(s, request({ body: '{}' })), { error: { status: 415 } }, 'a body without a Content-Type');
  t.match(reply(s, request({ body: '{}', headers: [['content-type', 'application/json'], ['content-type', 'text/plain']] })), { error: { status: 415 } }, 'two Content-Types');
  t.match(reply(s, request({ body: '{"a":"0123456789"}', headers: [['content-type', 'application/json']] })), { error: { status: 413 }, extra: { limit: 'maxBodyBytes', max: 10 } });
  // Without the body collected, the announced length decides.
  t.match(reply(s, request({ headers: [['content-type', 'application/json'], ['content-length', '11']] })), { error: { status: 413 } });
});

t.test('JSON limits and schema', async (t) => {
  const s = compile({
    json: { maxDepth: 3, maxKeys: 4, maxArrayLength: 5, maxStringLength: 10 },
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, tags: { type: 'array' } } },
  });
  t.equal(reply(s, json({ name: 'ok', tags: [1, 2] })), undefined);
  t.match(reply(s, json({ name: 'x', a: { b: { c: {} } } })), { error: { status: 400, code: 'ZTG_BODY_INVALID' }, extra: { limit: 'json.maxDepth', max: 3 } });
  t.match(reply(s, json({ name: 'x', a: 1, b: 2, c: 3, d: 4 })), { extra: { limit: 'json.maxKeys' } });
  t.match(reply(s, json({ name: 'x', tags: [1, 2, 3, 4, 5, 6] })), { extra: { limit: 'json.maxArrayLength' } });
  t.match(reply(s, json({ name: 'SECRET-0123456789' })), { extra: { limit: 'json.maxStringLength' } });
  t.match(reply(s, json('{"name": "x",}')), { error: { status: 400, code: 'ZTG_BODY_MALFORMED' }, extra: { limit: 'json.syntax' } });
  t.match(reply(s, json(Buffer.from([0x22, 0xff, 0x22]))), { error: { code: 'ZTG_BODY_MALFORMED' } }, 'invalid UTF-8');
  const r = reply(s, json({ nome: 'SECRET' }));
  t.match(r, { error: { status: 400, code: 'ZTG_BODY_INVALID' }, extra: { limit: 'schema', keyword: 'required', schemaPath: '#/required' } });
  t.notMatch(JSON.stringify(r!.extra), /SECRET|nome/, 'the reply never echoes the payload');
  t.match(reply(s, json({ name: 42 })), { extra: { limit: 'schema', keyword: 'type' } });
  t.match(reply(s, request({ body: 'name=x', headers: [['content-type', 'application/x-www-form-urlencoded']] })), { error: { status: 415 }, extra: { limit: 'schema' } }, 'a schema requires a JSON body');
  t.equal(reply(s, request({ method: 'GET' })), undefined, 'no body: nothing to validate');

  const limitsOnly = compile({ json: {} });
  t.equal(reply(limitsOnly, request({ body: '<<not json>>', headers: [['content-type', 'text/plain']] })), undefined, 'limits apply to JSON bodies only');
  t.match(reply(limitsOnly, json('['.repeat(33) + ']'.repeat(33))), { extra: { limit: 'json.maxDepth', max: 32 } }, 'defaults apply');
  t.equal(reply(limitsOnly, request({ body: '{"a":1}', headers: [['content-type', 'application/problem+json']] })), undefined, '+json types are JSON');
  t.match(reply(limitsOnly, request({ body: '{"a":', headers: [['content-type', 'application/vnd.api+json']] })), { extra: { limit: 'json.syntax' } });
});

t.test('the schema is checked at config load', async (t) => {
  const cfg = (stage: Record<string, unknown>) => ({
    routes: [{ name: 'r', match: { path: '/*' }, upstream: 'app', public: true, stages: [{ type: 'validate', ...stage }] as Record<string, unknown>[] }],
    listeners: [{ name: 'l', port: 8080 }],
    upstreams: [{ name: 'app', targets: [{ url: 'http://127.0.0.1:9000' }] }],
  });
  const issues = (stage: Record<string, unknown>) => {
    try {
      validateConfig(cfg(stage), '/');
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.issues;
      throw err;
    }
  };
  t.same(issues({ schema: { type: 'object' }, json: {} }), []);
  t.match(issues({ schema: { type: 'strng' } }), [/^routes\[0\]\.stages\[0\]\.schema: schema is invalid/]);
  t.match(issues({ schema: { type: 'object', requried: ['a'] } }), [/stages\[0\]\.schema: .*unknown keyword: "requried"/], 'a misspelt keyword is an error, not a silent no-op');
  t.match(issues({ schema: { type: 'string', format: 'email' } }), [/unknown format "email"/]);
  t.match(issues({ schema: { type: 'string', pattern: '(' } }), [/stages\[0\]\.schema: .*regular expression/]);
  t.match(issues({ schema: { $ref: 'http://example.test/s.json' } }), [/can't resolve reference/]);
  t.match(issues({ json: { maxDepth: 0 } }), [/json\.maxDepth/]);
  t.match(issues({ methods: ['get'] }), [/methods\[0\]/]);
  t.match(issues({ contentTypes: ['json'] }), [/contentTypes\[0\]/]);

  // The same $id on two routes (each schema gets its own compiler).
  const twice = cfg({ schema: { $id: 'urn:example:order', type: 'object' } });
  twice.routes.push({ ...twice.routes[0], name: 'r2', match: { path: '/other/*' }, stages: [{ type: 'validate', schema: { $id: 'urn:example:order', type: 'object' } }] });
  t.doesNotThrow(() => validateConfig(twice, '/'));
  const stages = validateConfig(twice, '/').routes.map((r) => compile(r.stages[0]));
  t.match(reply(stages[1], json([])), { extra: { limit: 'schema', keyword: 'type' } });

  const loaded = validateConfig(cfg({ json: {} }), '/') as GatewayConfig;
  t.same(loaded.routes[0].stages[0], { type: 'validate', json: { maxDepth: 32, maxKeys: 1000, maxArrayLength: 10_000, maxStringLength: 1024 * 1024 } }, 'json defaults');
});
