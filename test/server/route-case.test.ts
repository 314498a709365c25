import t from 'tap';
import { freePort, rawRequest, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

/**
 * Path matching is byte-exact by default (`/ADMIN/users` is not `/admin/*`);
 * `match.caseInsensitive` makes a route match in any ASCII case, at the same
 * precedence as ever, and the path goes upstream as sent.
 */
let upstream: EchoUpstream;
let gw: RunningGateway;

const tag = (name: string) => [{ type: 'headers', request: { set: { 'x-route': name } } }];

t.before(async () => {
  upstream = await startEchoUpstream();
  const port = await freePort();
  gw = await startGateway({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      { name: 'admin', match: { path: '/admin/*', caseInsensitive: true }, upstream: 'app', public: true, stages: tag('admin') },
      { name: 'user', match: { path: '/Users/:id', caseInsensitive: true }, upstream: 'app', public: true, stages: tag('user') },
      { name: 'exact', match: { path: '/Reports/*' }, upstream: 'app', public: true, stages: tag('exact') },
      { name: 'rest', match: { path: '/*' }, upstream: 'app', public: true, stages: tag('rest') },
    ],
  });
});
t.teardown(async () => {
  await gw?.stop();
  await upstream?.close();
});

async function routeOf(path: string): Promise<{ route: string; url: string }> {
  const res = await rawRequest(gw.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, 2000, { untilResponse: true });
  t.equal(res.status, 200, path);
  const seen = upstream.seen.at(-1)!;
  return { route: String(seen.headers['x-route']), url: seen.url };
}

t.test('a case-insensitive prefix route matches any case; the path is forwarded as sent', async (t) => {
  t.same(await routeOf('/admin/users'), { route: 'admin', url: '/admin/users' });
  t.same(await routeOf('/ADMIN/users'), { route: 'admin', url: '/ADMIN/users' });
  t.same(await routeOf('/AdMiN'), { route: 'admin', url: '/AdMiN' });
});

t.test('a case-insensitive param route: literals in any case, the parameter as sent', async (t) => {
  t.same(await routeOf('/USERS/AbC'), { route: 'user', url: '/USERS/AbC' });
});

t.test('routes without the option stay byte-exact', async (t) => {
  t.equal((await routeOf('/Reports/q1')).route, 'exact');
  t.equal((await routeOf('/reports/q1')).route, 'rest', '/reports is not /Reports');
  t.equal((await routeOf('/administrator')).route, 'rest', 'a prefix still ends at a segment');
});
