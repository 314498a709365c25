import t from 'tap';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { freePort } from '../helpers/gateway.js';
import { startDemo } from './helpers.js';

/**
 * `npm start` shows the tour: every command the banner prints is run here
 * exactly as printed (through bash, with the real curl), and does what the
 * banner says it does.
 */

t.setTimeout(120_000);
const run = promisify(execFile);

t.test('the demo banner: each printed command does what its line says', async (t) => {
  const demo = await startDemo(t, { ZTGATE_ADMIN_PORT: '0' }, 'run your own:');
  const out = demo.output();
  const proc = demo.proc;

  t.match(out, `supervisor PID ${proc.pid}`, 'the banner names the PID that kill -HUP needs');
  const commands = out.split('\n').filter((l) => /^ {6}(curl|TOKEN=|for )/.test(l)).map((l) => l.trim());
  t.equal(commands.length, 8, 'eight commands in the tour', { out });
  const sh = async (line: string) => (await run('bash', ['-c', line], { timeout: 20_000 })).stdout;
  const status = (text: string) => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];

  const [publicRoute, noKey, withKey, jwt, limited, sqli, anonymous, partner] = commands as [string, string, string, string, string, string, string, string];
  const echoed = await sh(publicRoute);
  t.equal(status(echoed), '200');
  t.match(echoed, '"service": "ztgate-demo-upstream"', 'the upstream echoes');
  t.equal(status(await sh(noKey)), '401', 'no API key: refused');
  const keyed = await sh(withKey);
  t.equal(status(keyed), '200', 'the printed key works');
  t.match(keyed, '"x-authenticated-subject": "demo-partner"', 'the upstream sees the verified consumer');
  t.equal(status(await sh(jwt)), '200', 'a minted demo JWT is accepted');
  t.equal(status(await sh(jwt.replace('Bearer $TOKEN', 'Bearer x$TOKEN'))), '401', 'a damaged one is not');
  t.match((await sh(limited)).trim(), /^200 200 200 429/, 'three in the burst, then 429');
  const limitedHead = await sh(`curl -si '${/'(http[^']+)'/.exec(limited)![1]}'`);
  t.match(limitedHead, /ratelimit-policy: "per-client"/i, 'RateLimit headers on the answer');
  const blocked = await sh(sqli);
  t.equal(status(blocked), '403', 'the injection is refused');
  t.match(blocked, 'ZTG_THREAT_DETECTED');
  const masked = await sh(anonymous);
  t.notMatch(masked, 'ada@example.com', 'anonymous: the email is masked');
  t.match(masked, '**** **** **** 1111', 'anonymous: the card keeps its last four');
  t.notMatch(masked, 'DE89 3704', 'anonymous: the IBAN is masked');
  const shown = await sh(partner);
  t.match(shown, 'ada@example.com', 'the demo consumer sees the email');
  t.match(shown, '4111 1111 1111 1111', 'and the card');
});

t.test('the demo leaves no admin token folder behind', async (t) => {
  const demo = await startDemo(t, { ZTGATE_ADMIN_PORT: String(await freePort()), ZTGATE_ADMIN_TOKEN: '' }, 'dashboard:');
  const { proc } = demo;
  const out = demo.output();
  const file = /generated into (\S+), readable/.exec(out)?.[1];
  t.ok(file && existsSync(file), 'the token file exists while the demo runs');
  proc.kill('SIGTERM');
  await once(proc, 'exit');
  t.notOk(existsSync(file!.replace(/\/token$/, '')), 'its folder is gone after SIGTERM');
});
