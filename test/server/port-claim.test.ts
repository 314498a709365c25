import t from 'tap';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { basicConfig, CLI, freePort, rawRequest, ROOT, startGateway } from '../helpers/gateway.js';
import { spawnNode } from '../helpers/spawn-node.js';
import { startEchoUpstream } from '../helpers/upstream.js';

/**
 * The gateway processes share their ports with SO_REUSEPORT; a second,
 * unrelated ztgate on the same port must not start, or the kernel would split
 * connections between two configs.
 */
t.test('a second gateway on a port another one holds refuses to start, naming the port', async (t) => {
  const upstream = await startEchoUpstream();
  const port = await freePort();
  const first = await startGateway(basicConfig(port, upstream.port), { processes: 2 });
  t.teardown(async () => {
    await first.stop();
    await upstream.close();
  });
  t.equal((await rawRequest(port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n', 2000, { untilResponse: true })).status, 200, 'two processes of one supervisor share the port');

  const dir = mkdtempSync(join(tmpdir(), 'ztgate-test-'));
  const configPath = join(dir, 'second.yaml');
  writeFileSync(configPath, stringify(basicConfig(port, upstream.port)));
  const second = spawnNode([CLI, '--config', configPath], { cwd: ROOT, env: { ...process.env, ZTGATE_PROCESSES: '1' } });
  let out = '';
  second.stdout!.on('data', (c: Buffer) => (out += c));
  second.stderr!.on('data', (c: Buffer) => (out += c));
  const timer = setTimeout(() => second.kill('SIGKILL'), 20_000);
  const [code] = await once(second, 'exit');
  clearTimeout(timer);
  t.equal(code, 1, 'the second gateway exits 1');
  t.match(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already held by another process`), 'and says which port');
  t.notMatch(out, /ztgate listening/, 'it never listened');

  for (let i = 0; i < 5; i++) {
    t.equal((await rawRequest(port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n', 2000, { untilResponse: true })).status, 200, 'the first one serves every connection');
  }
});
