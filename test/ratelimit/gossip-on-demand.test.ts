import t from 'tap';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { freePort, startGateway } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';

/**
 * Gossip serves the rate limits only: a gateway whose config has none binds
 * no gossip port and warns of no missing secret; a reload that brings a
 * rate-limit stage starts it.
 */

t.setTimeout(90_000);

/** Whether a UDP port on loopback can be bound now (a gossip member would hold it). */
async function udpFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

t.test('two processes, no rate limit: no gossip; a reload with one: gossip', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const [port, gossip] = [await freePort(), await freePort()];
  const config = (stages: unknown[]) => ({
    listeners: [{ name: 'main', host: '127.0.0.1', port }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [{ name: 'all', match: { path: '/*' }, upstream: 'app', public: true, stages }],
  });
  const gw = await startGateway(config([]), { processes: 2, env: { ZTGATE_GOSSIP_PORT: String(gossip) } });
  t.teardown(() => gw.stop());
  t.equal((await fetch(`${gw.url}/x`)).status, 200);
  t.notOk(gw.logs().some((l) => String(l.msg).includes('gossip')), 'no gossip line, no missing-secret warning');
  t.ok(await udpFree(gossip), 'the gossip port of process 0 is not bound');

  writeFileSync(gw.configPath, stringify(config([{ type: 'rate-limit', limits: [{ rate: '100/s' }] }])));
  gw.proc.kill('SIGHUP');
  const joined = () => gw.logs().filter((l) => l.msg === 'rate-limit gossip on loopback only (no ZTGATE_GOSSIP_SECRET)').length;
  const deadline = Date.now() + 30_000; // bounds a broken reload only
  while (joined() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(joined(), 2, 'both processes joined the gossip channel');
  await gw.waitForLog((l) => l.msg === 'config reloaded', 30_000);
  t.equal((await fetch(`${gw.url}/x`)).status, 200, 'the limited route serves');
  t.notOk(await udpFree(gossip), 'now a process holds its gossip port');
});
