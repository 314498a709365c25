// WorkerPool: a real piscina pool (threads run from a file), and the statistics the
// metrics snapshot reads from it instead of piscina's own (see src/workers/pool.ts).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const { WorkerPool } = (await import(pathToFileURL(join(ROOT, 'dist', 'workers', 'pool.js')).href)) as typeof import('../../src/workers/pool.js');

const dir = mkdtempSync(join(tmpdir(), 'ztgate-pool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// A task holds its thread for `ms` (Atomics.wait: no CPU burnt) and answers ms * 2; a negative ms throws.
const worker = join(dir, 'worker.mjs');
writeFileSync(
  worker,
  `const cell = new Int32Array(new SharedArrayBuffer(4));
export default (ms) => {
  if (ms < 0) throw new Error('bad task');
  Atomics.wait(cell, 0, 0, ms);
  return ms * 2;
};
`,
);

const pool = new WorkerPool<number, number>({ filename: pathToFileURL(worker).href, minThreads: 1, maxThreads: 1 });
t.teardown(() => pool.destroy());

t.test('a window without tasks: no task time, no utilization', async (t) => {
  await pool.run(0); // the thread is up
  pool.window();
  const w = pool.window();
  t.equal(w.taskMs, null, 'no task ended in the window');
  t.equal(w.utilization, 0, 'nothing handed to the threads');
  t.equal(w.queued, 0);
  t.equal(w.threads, 1);
});

t.test('tasks are timed (queue wait included) and the busy time integrated; the window then resets', async (t) => {
  pool.window();
  // Four 40 ms tasks on one thread: the last waits for the other three.
  const results = await Promise.all([40, 40, 40, 40].map((ms) => pool.run(ms)));
  t.same(results, [80, 80, 80, 80], 'answers come back');
  const w = pool.window();
  t.ok(w.taskMs, 'task time reported');
  t.ok(w.taskMs!.p50 >= 40, `a task takes at least its own 40 ms (p50 ${w.taskMs!.p50} ms)`);
  t.ok(w.taskMs!.max >= 160, `the last one also waited for three others (max ${w.taskMs!.max} ms)`);
  t.ok(w.utilization > 0.5 && w.utilization <= 1, `the thread was busy for most of the window (${w.utilization.toFixed(2)})`);
  const next = pool.window();
  t.equal(next.taskMs, null, 'reset: nothing ended since');
});

t.test('a failing task: its error reaches the caller, and it still counts', async (t) => {
  pool.window();
  await t.rejects(pool.run(-1), /bad task/);
  t.ok(pool.window().taskMs, 'the failed task was timed');
  t.equal(await pool.run(1), 2, 'the pool keeps working');
});
