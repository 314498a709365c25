/**
 * Balancing through a real gateway process: weights shape round robin, a
 * consistent-hash key sticks to one target (and moves only when that target
 * goes), least outstanding steers around a target that holds requests.
 */
import t from 'tap';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';
import { answer, rawServer, send } from './helpers.js';

const named = (name: string) =>
  startEchoUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
    res.end(name);
  });
const a: EchoUpstream = await named('a');
const b: EchoUpstream = await named('b');
const c: EchoUpstream = await named('c');
const held: (() => void)[] = [];
// Answers only when released: requests pile up in flight on it.
const slow = await rawServer((socket) => held.push(() => answer(socket, 200, 'slow')));
const url = (u: { port: number }, weight = 1) => ({ url: `http://127.0.0.1:${u.port}`, weight });
const upstreams = [
  { name: 'weighted', targets: [url(a, 3), url(b, 1)] },
  { name: 'hashed', targets: [url(a), url(b), url(c)], balancer: { algorithm: 'consistent-hash', hashOn: { header: 'x-user' } } },
  { name: 'least', targets: [url(slow), url(c)], balancer: { algorithm: 'least-outstanding' } },
];
const port = await freePort();
const gw = await startGateway({
  listeners: [{ name: 'main', host: '127.0.0.1', port }],
  upstreams,
  routes: upstreams.map((u) => ({ name: u.name, match: { path: `/${u.name}/*` }, upstream: u.name, public: true })),
});
t.teardown(async () => {
  for (const release of held) release();
  await gw.stop();
  for (const u of [a, b, c]) await u.close();
  await slow.close();
});

t.test('weights 3:1 → three of every four requests on the heavy target', async (t) => {
  const seen: string[] = [];
  for (let i = 0; i < 16; i++) seen.push((await send(port, '/weighted/x')).body);
  t.equal(seen.filter((s) => s === 'a').length, 12, 'a: 12 of 16');
  t.equal(seen.filter((s) => s === 'b').length, 4, 'b: 4 of 16');
  t.notMatch(seen.join(''), /bb/, 'smooth: the light target never twice in a row');
});

t.test('consistent hash on a header: each user sticks to one target, users spread over all', async (t) => {
  const first = new Map<string, string>();
  for (let u = 0; u < 30; u++) first.set(`user-${u}`, (await send(port, '/hashed/x', { headers: { 'x-user': `user-${u}` } })).body);
  for (let u = 0; u < 30; u++) {
    const again = (await send(port, '/hashed/y', { headers: { 'x-user': `user-${u}` } })).body;
    if (again !== first.get(`user-${u}`)) t.fail(`user-${u} moved from ${first.get(`user-${u}`)} to ${again}`);
  }
  t.same([...new Set(first.values())].sort(), ['a', 'b', 'c'], 'every target owns users');
});

t.test('least outstanding: with a request held on one target, new ones go to the other', async (t) => {
  // Send until one request is held on the slow target (ties are broken at random).
  const pending = [];
  while (slow.requests.length === 0 && pending.length < 50) {
    pending.push(send(port, '/least/x'));
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(slow.requests.length, 1, 'one request in flight on the holding target');
  for (let i = 0; i < 8; i++) t.equal((await send(port, '/least/y')).body, 'c', 'a sequential request avoids the target holding one (round robin would not)');
  t.equal(slow.requests.length, 1, 'nothing more went to the holding target');
  for (const release of held.splice(0)) release();
  const statuses = (await Promise.all(pending)).map((r) => r.status);
  t.ok(statuses.every((s) => s === 200), 'the held one completes once released');
});
