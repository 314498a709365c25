import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT } from '../helpers/gateway.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { startAdminGateway } from './helpers.js';

/**
 * The live dashboard in headless Chromium under real traffic: it connects
 * with the token from the URL fragment, shows non-zero requests/s, draws its
 * charts, lists the routes, loads nothing from elsewhere, and a screenshot is
 * kept in test-artifacts/dashboard.png.
 */

const CHROMIUM = '/usr/bin/chromium';
t.setTimeout(240_000);

t.test('dashboard under traffic', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (CI installs it: scripts/install-test-browser.sh)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const port = await freePort();
  const config = {
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstream.port}` }] }],
    routes: [
      { name: 'api', match: { path: '/api/*' }, upstream: 'app', public: true },
      { name: 'limited', match: { path: '/limited/*' }, upstream: 'app', public: true, stages: [{ type: 'rate-limit', limits: [{ rate: '2/s' }] }] },
    ],
  };
  // One process: the dashboard is the subject here (merging across processes is metrics.test.ts's).
  const a = await startAdminGateway(config, { processes: 1, env: { ZTGATE_LOG_LEVEL: 'info' } });
  t.teardown(() => a.gw.stop());

  // Steady traffic until the test ends: API calls, some refused by the limit, some misses.
  let running = true;
  const traffic = (async () => {
    for (let i = 0; running; i++) {
      const path = i % 10 === 0 ? '/limited/x' : i % 17 === 0 ? '/missing' : `/api/${i}`;
      await fetch(`${a.gw.url}${path}`).then((r) => r.arrayBuffer(), () => undefined);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  t.teardown(async () => {
    running = false;
    await traffic;
  });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const origin = `http://127.0.0.1:${a.adminPort}`;
  const elsewhere: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin)) elsewhere.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });

  // Hostile first: a wrong token is told apart from a gateway that is away, and shows nothing else.
  await page.goto(`${origin}/dashboard#token=not-the-right-token-at-all`);
  await page.waitForSelector('body[data-state="refused"]', { timeout: 30_000 });
  t.match(await page.textContent('#state'), /token refused/, 'the page says the token was refused');
  t.equal(await page.getAttribute('body', 'data-windows'), '0', 'no data with a wrong token');
  await a.gw.waitForLog((l) => l.msg === 'admin: refused, not authenticated' && l.path === '/events');
  consoleErrors.length = 0; // the 401 of EventSource is expected above

  await page.goto(`${origin}/dashboard#token=${a.token}`);
  await page.waitForFunction(
    () => {
      const b = document.body;
      const svg = document.getElementById('chart-rps');
      return b.dataset.state === 'live' && Number(b.dataset.rps) > 0 && Number(svg?.getAttribute('data-points')) >= 2;
    },
    undefined,
    { timeout: 60_000 },
  );
  t.equal(await page.evaluate(() => location.hash), '', 'the token is taken out of the address bar');
  const rps = Number(await page.getAttribute('body', 'data-rps'));
  t.ok(rps > 0, `requests/s shown: ${rps}`);
  t.ok(Number(await page.getAttribute('#card-rps', 'data-value')) > 0, 'the requests/s card shows it');
  const drawn = await page.getAttribute('#chart-rps path[data-series="all"]', 'd');
  t.ok((drawn ?? '').split(' L').length >= 2, 'the requests/s line is drawn');
  t.ok(Number(await page.getAttribute('#chart-rps', 'data-span-seconds')) >= 60, 'the time axis spans at least a minute');
  const labels = await page.$$eval('#chart-rps text.axis', (nodes) => nodes.map((n) => n.textContent));
  t.ok(labels.includes('now') && labels.some((l) => /^-\d+ s$/.test(l ?? '')), `the x axis is labelled in seconds: ${labels.join(' ')}`);
  await page.waitForFunction(() => Number(document.getElementById('chart-latency')?.getAttribute('data-points')) >= 2, undefined, { timeout: 30_000 });
  t.ok(Number(await page.getAttribute('#chart-latency path[data-series="upstream p99"]', 'data-latest')) > 0, 'upstream latency drawn');
  await page.waitForFunction(() => (document.querySelector('#top-routes tbody')?.textContent ?? '').includes('api'), undefined, { timeout: 30_000 });
  t.pass('top routes list the api route');
  t.match(await page.textContent('#upstreams tbody'), /app/, 'the upstream is listed');
  t.match(await page.textContent('#processes'), /1\/1 processes listening/);

  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'test-artifacts/dashboard.png'), fullPage: true });
  t.same(elsewhere, [], 'nothing loaded from anywhere but the admin listener');
  t.same(consoleErrors, [], 'no errors in the page (CSP included)');
  t.notOk(a.gw.output().includes(a.token), 'the token never reaches the log');
});
