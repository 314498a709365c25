import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { callerPath, readTuning } from '../../src/config/env.js';
import { CLI, ROOT } from '../helpers/gateway.js';

/** `npm start -- --config gateway.yaml` runs in the package root: a relative path means the caller's directory (INIT_CWD). */

const run = promisify(execFile);

t.test('callerPath resolves against INIT_CWD when npm set it, else the working directory', async (t) => {
  t.equal(callerPath('gateway.yaml', { INIT_CWD: '/home/u/project' }), '/home/u/project/gateway.yaml');
  t.equal(callerPath('/etc/ztgate.yaml', { INIT_CWD: '/home/u/project' }), '/etc/ztgate.yaml');
  t.equal(callerPath('gateway.yaml', {}), join(process.cwd(), 'gateway.yaml'));
  t.equal(readTuning({ ZTGATE_CONFIG: 'gateway.yaml', INIT_CWD: '/home/u/project' }).configPath, '/home/u/project/gateway.yaml', 'ZTGATE_CONFIG too');
});

t.test('--check finds a relative file in the caller directory, not the package root', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-caller-'));
  writeFileSync(
    join(dir, 'mine.yaml'),
    'listeners:\n  - { name: l, host: 127.0.0.1, port: 8080 }\nupstreams:\n  - { name: u, targets: [{ url: "http://127.0.0.1:9000" }] }\nroutes:\n  - { name: r, match: { path: /a }, upstream: u, public: true }\n',
  );
  const env = { ...process.env, INIT_CWD: dir };
  const { stdout } = await run(process.execPath, [CLI, '--check', 'mine.yaml'], { cwd: ROOT, env });
  t.match(stdout, `${join(dir, 'mine.yaml')}: valid`);
});

t.test('examples/gateway.yaml passes --check as it stands', async (t) => {
  const { stdout } = await run(process.execPath, [CLI, '--check', 'examples/gateway.yaml'], { cwd: ROOT, env: { ...process.env, INIT_CWD: ROOT } });
  t.match(stdout, 'examples/gateway.yaml: valid');
});
