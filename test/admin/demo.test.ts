import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { freePort } from '../helpers/gateway.js';
import { adminCall, startDemo } from './helpers.js';

/**
 * `npm start` without a config: the admin listener works too, with a random
 * token written to a file only its user can read; the output says where the
 * file is and how to use it, never the token itself.
 */

t.setTimeout(180_000);

t.test('demo: generated token in a 0600 file, URL and how to use it printed, token never printed', async (t) => {
  const admin = await freePort();
  const demo = await startDemo(t, { ZTGATE_ADMIN_PORT: String(admin), ZTGATE_ADMIN_TOKEN: '' }, 'dashboard:');
  const out = demo.output();
  const gateway = demo.gatewayPort;

  const file = /bearer token generated into (\S+), readable by you only/.exec(out)?.[1];
  t.ok(file, 'the output names the token file', { out: out.slice(-3000) });
  t.equal(statSync(file!).mode & 0o777, 0o600, 'the file is 0600');
  t.equal(statSync(file!.replace(/\/token$/, '')).mode & 0o777, 0o700, 'in a 0700 directory');
  const token = readFileSync(file!, 'utf8').trim();
  t.ok(token.length >= 32, 'a long random token');
  t.match(out, `curl -H "Authorization: Bearer $(cat ${file})" http://127.0.0.1:${admin}/stats`);
  t.match(out, `open "http://127.0.0.1:${admin}/dashboard#token=$(cat ${file})"`);

  t.equal((await adminCall(admin, '/health')).status, 401, 'no token: refused');
  const stats = await adminCall(admin, '/stats', 'GET', { authorization: `Bearer ${token}` });
  t.equal(stats.status, 200, 'the generated token works');
  t.equal(stats.json().processes.configured, 1);
  const reload = await adminCall(admin, '/reload', 'POST', { authorization: `Bearer ${token}` });
  t.equal(reload.status, 409, 'nothing to reload in the demo');
  t.equal(reload.json().outcome, 'unavailable');
  t.equal((await fetch(`http://127.0.0.1:${gateway}/api/hello`)).status, 200, 'the demo serves');
  t.notOk(demo.output().includes(token), 'the token is never printed or logged');
});
