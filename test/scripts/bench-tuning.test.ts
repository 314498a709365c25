import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/gateway.js';
import { runScript, type ScriptRun } from '../helpers/run-script.js';

// The tuning sweep (scripts/bench-tuning.mjs) without its load: a real run
// takes minutes, so only what fails fast is run here: its command line, and
// the token rotation that keeps jwt-distinct from measuring cache hits.

const SCRIPT = join(ROOT, 'scripts/bench-tuning.mjs');

const run = (args: string[]): Promise<ScriptRun> => runScript(SCRIPT, args);

t.test('bad command lines: exit 2 with a message naming the problem, nothing started', async (t) => {
  const out = join(tmpdir(), `ztgate-tuning-never-${process.pid}.json`);
  const cases: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--knobs', 'processes,threads'], /--knobs: unknown knob "threads" \(known: processes, workers, shards\)/],
    [['--knobs', ','], /--knobs: name at least one of processes, workers, shards/],
    [['--runs', '0'], /--runs "0": want an integer >= 1/],
    [['--duration', '1.5'], /--duration "1.5": want an integer >= 1/],
    [['--warmup=-1'], /--warmup "-1": want a number >= 0/],
    [['--out='], /--out: want a file name/],
  ];
  // An --out on every line but the one about --out: a line refused by mistake would have to write it.
  const results = await Promise.all(cases.map(([args]) => run(args[0] === '--out=' ? args : [...args, '--out', out])));
  cases.forEach(([args, message], i) => {
    t.equal(results[i].code, 2, `${args.join(' ')}: exit 2`);
    t.match(results[i].stderr, message, `${args.join(' ')}: says why`);
    t.notMatch(results[i].stderr, /signing|round\(s\)/, `${args.join(' ')}: nothing started`);
  });
  t.notOk(existsSync(out), 'no result written');
});

t.test('--help lists every knob with its settings and scenarios, exit 0', async (t) => {
  const r = await run(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /ZTGATE_PROCESSES 1, 2 on bare, full/);
  t.match(r.stdout, /ZTGATE_WORKERS 1, 2, 4 on jwt-distinct/);
  t.match(r.stdout, /ZTGATE_SHARDS 1, 16, 64, 1024 on ratelimit, ratelimit-keys/);
});

t.test('token rotation: each run of one owner starts where its last run stopped; owners are independent', async (t) => {
  const { TokenRotation } = (await import(join(ROOT, 'scripts/lib/token-rotation.mjs'))) as {
    TokenRotation: new (file: string, dir: string) => {
      count: number;
      next(owner: string, o?: { asArray?: boolean }): { tokens: string | string[]; done(requests: number, slack?: number): void };
    };
  };
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-rotation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tokens.txt');
  writeFileSync(file, 'a\nb\nc\nd\ne\n');
  const rot = new TokenRotation(file, dir);
  t.equal(rot.count, 5);
  const lines = (x: string | string[]): string[] => (Array.isArray(x) ? x : readFileSync(x, 'utf8').split('\n').filter(Boolean));

  let r = rot.next('gw1');
  t.same(lines(r.tokens), ['a', 'b', 'c', 'd', 'e'], 'the first run starts at the first token');
  r.done(2, 1); // 2 answered, 1 in flight at the end
  r = rot.next('gw1');
  t.same(lines(r.tokens), ['d', 'e', 'a', 'b', 'c'], 'the next run starts after every token the last one took');
  r.done(4);
  r = rot.next('gw1', { asArray: true });
  t.same(r.tokens, ['c', 'd', 'e', 'a', 'b'], 'wraps around, and as an array for autocannon');
  r.done(0);
  t.same(lines(rot.next('gw2').tokens), ['a', 'b', 'c', 'd', 'e'], 'another gateway has its own cursor');
});
