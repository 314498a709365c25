import t from 'tap';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LEVEL,
  THRESHOLDS,
  inspectForm,
  inspectJson,
  inspectValue,
  isAttack,
  type Level,
} from '../../src/inspect/detect.js';

const fixtures = fileURLToPath(new URL('../fixtures/benign-api/', import.meta.url));
const corpus = fileURLToPath(new URL('../../../shared/corpora/libinjection/', import.meta.url));
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));

t.test('exports', async (t) => {
  t.equal(DEFAULT_LEVEL, 2);
  for (const l of [1, 2, 3, 4] as Level[]) t.type(THRESHOLDS[l], 'number');
  t.ok(THRESHOLDS[4] <= THRESHOLDS[1], 'higher levels are at least as sensitive');
  const r = inspectValue("1' or '1'='1", 'query');
  t.ok(isAttack(r));
  t.same(inspectValue('hello', 'query'), { score: 0, rules: [] });
});

t.test('inspectJson walks keys and values with paths', async (t) => {
  const r = inspectJson(JSON.stringify({ a: { b: ['ok', "1' or '1'='1"] }, '<script>alert(1)</script>': 1 }));
  t.ok(isAttack(r));
  const paths = r.findings.map((f) => f.path).sort();
  t.same(paths, ['$#key', '$.a.b[1]'].sort());
  t.notOk(r.truncated);
  const deep = inspectJson('['.repeat(100) + ']'.repeat(100), 2, { maxDepth: 10, maxValues: 100, maxTotalChars: 1000 });
  t.ok(deep.truncated, 'depth bound');
  const many = inspectJson(JSON.stringify(Array.from({ length: 50 }, (_, i) => `v${i}`)), 2, { maxDepth: 10, maxValues: 10, maxTotalChars: 1000 });
  t.ok(many.truncated, 'value-count bound');
  t.ok(isAttack(inspectJson('not json <script>alert(1)</script>')), 'invalid JSON is inspected as text');
});

t.test('inspectForm walks pairs', async (t) => {
  const r = inspectForm('name=O%27Brien&q=1%27+or+%271%27%3D%271&x');
  t.ok(isAttack(r));
  t.same(r.findings.map((f) => f.path), ['q']);
  t.notOk(isAttack(inspectForm('name=O%27Brien&comment=select+union+drop+script+%3C3')));
  t.ok(isAttack(inspectForm('%3Cscript%3Ealert(1)%3C/script%3E=1')), 'keys are inspected');
});

t.test('realistic benign API traffic: at most 0.5% flagged at level 1 and 1% at level 2', async (t) => {
  for (const level of [1, 2] as const) {
    let total = 0;
    const flagged: string[] = [];
    for (const name of readdirSync(fixtures)) {
      for (const l of lines(fixtures + name)) {
        total++;
        let r;
        if (name.endsWith('.jsonl')) r = inspectJson(l, level);
        else if (name.endsWith('.form')) r = inspectForm(l, level);
        else if (name.endsWith('.headers')) {
          const i = l.indexOf(':');
          r = inspectValue(l.slice(i + 1).trim(), /^cookie$/i.test(l.slice(0, i)) ? 'cookie' : 'header', level);
        } else {
          const q = inspectValue(encodeURIComponent(l), 'query', level);
          const b = inspectValue(l, 'body', level);
          r = q.score >= b.score ? q : b;
        }
        if (isAttack(r, level)) flagged.push(`${name}: ${l.slice(0, 100)} (${r.rules.join(',')})`);
      }
    }
    t.ok(total >= 2000, `corpus has ${total} lines`);
    const limit = level === 1 ? 0.005 : 0.01;
    t.ok(flagged.length <= total * limit, `level ${level}: ${flagged.length}/${total} flagged\n${flagged.join('\n')}`);
  }
});

t.test('corpus goals (shared/corpora/libinjection)', { skip: !existsSync(corpus) && 'corpus not present' }, async (t) => {
  // CPU time, not wall time: the machine running the tests may be shared
  const started = process.cpuUsage();
  const th = THRESHOLDS[DEFAULT_LEVEL];
  let attacks = 0;
  let detected = 0;
  let benign = 0;
  let flagged = 0;
  for (const name of readdirSync(corpus)) {
    const kind = /^(sqli|xss)-/.test(name) ? 'attack' : name === 'false_positives.txt' ? 'benign' : null;
    if (!kind || !name.endsWith('.txt')) continue;
    for (const l of lines(corpus + name)) {
      const q = inspectValue(l, 'query').score >= th;
      const f = inspectForm('q=' + l.replace(/&/g, '%26')).score >= th;
      if (kind === 'attack') {
        attacks++;
        if (q && f) detected++;
      } else {
        benign++;
        if (q || f) flagged++;
      }
    }
  }
  t.ok(attacks > 10000 && benign > 400, `sizes ${attacks}/${benign}`);
  t.ok(detected / attacks >= 0.97, `detected ${detected}/${attacks} = ${((100 * detected) / attacks).toFixed(2)}%`);
  t.ok(flagged / benign <= 0.01, `benign flagged ${flagged}/${benign} = ${((100 * flagged) / benign).toFixed(2)}%`);
  const cpu = process.cpuUsage(started);
  t.ok((cpu.user + cpu.system) / 1000 < 20_000, `under 20 s of CPU (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`);
});

t.test('assorted common payloads are detected, tricky benign values pass (fixtures)', async (t) => {
  const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
  for (const l of lines(dir + 'attacks.txt')) {
    const r = inspectValue(l, 'query');
    t.ok(isAttack(r), `attack: ${l} (${r.rules.join(',')})`);
  }
  for (const l of lines(dir + 'benign-tricky.txt')) {
    const r = inspectValue(l, 'query');
    t.notOk(isAttack(r), `benign: ${l} (${r.rules.join(',')})`);
  }
});
