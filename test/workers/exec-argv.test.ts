import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const dist = (p: string) => pathToFileURL(join(ROOT, 'dist', p)).href;

// A real piscina pool (the PII scanner's) started in a process run with flags a thread refuses.
const script = `
import { workerExecArgv } from '${dist('workers/exec-argv.js')}';
import { workerPool } from '${dist('workers/pool.js')}';
const pool = workerPool(new URL('${dist('protect/worker.js')}'), 1);
const r = await pool.run({ text: 'call 536-22-8726', kind: 'text', entities: ['US_SSN'], custom: [] });
console.log(JSON.stringify({ argv: workerExecArgv(), spans: r.spans.map((s) => s.entity) }));
await pool.destroy();
`;

t.test('worker pools start under V8 and process-wide flags, which the threads do not get', async (t) => {
  const flags = ['--max-old-space-size=256', '--stack-size=900', '--title=ztgate-test', '--trace-gc', '--enable-source-maps'];
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-execargv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pool.mjs');
  writeFileSync(file, script);
  // Without the test runner's NODE_OPTIONS (its TypeScript loader): the flags are the only ones.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [...flags, file], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const [code] = await once(child, 'exit');
  t.equal(code, 0, `exit 0 (stderr: ${err.slice(-400)})`);
  const line = out.split('\n').find((l) => l.startsWith('{"argv"'));
  t.ok(line, 'the pool ran a task');
  const r = JSON.parse(line!) as { argv: string[]; spans: string[] };
  t.same(r.spans, ['US_SSN'], 'the worker answered');
  t.same(r.argv, ['--enable-source-maps'], 'the threads keep the flags they accept, without the refused ones');
});
