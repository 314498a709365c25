import t from 'tap';
import { detectPii, detectJson } from '../../src/protect/detect.js';

// Held-out style: cases from the eval:pii generator (scripts/pii-eval/synth.mjs) with seeds
// none of its three sets uses, scored as it scores them (every entity, exact offsets).
// The goals of the synthetic evaluation, with the margin a small sample needs.
interface Label {
  entity: string;
  start: number;
  end: number;
}
interface Case {
  format: 'text' | 'json';
  text: string;
  labels: Label[];
}
interface Synth {
  generate(p: { seed: number; count: number; family: 'A' | 'B' }): Case[];
}
const synthUrl = new URL('../../scripts/pii-eval/synth.mjs', import.meta.url).href;
const { generate } = (await import(synthUrl)) as Synth;

function score(cases: Case[]): Record<string, { tp: number; fp: number; fn: number }> {
  const st: Record<string, { tp: number; fp: number; fn: number }> = {};
  const of = (e: string) => (st[e] ??= { tp: 0, fp: 0, fn: 0 });
  for (const c of cases) {
    const found = c.format === 'json' ? detectJson(c.text) : detectPii(c.text);
    const gold = c.labels.map((l) => ({ ...l, hit: false }));
    for (const f of found) {
      const g = gold.find((x) => !x.hit && x.entity === f.entity && x.start === f.start && x.end === f.end);
      if (g) {
        g.hit = true;
        of(f.entity).tp++;
      } else of(f.entity).fp++;
    }
    for (const g of gold) if (!g.hit) of(g.entity).fn++;
  }
  return st;
}

const GOALS: Record<string, { precision: number; recall: number }> = {
  CREDIT_CARD: { precision: 0.98, recall: 0.98 },
  US_SSN: { precision: 0.95, recall: 0.95 },
  EMAIL_ADDRESS: { precision: 0.98, recall: 0.98 },
  IBAN_CODE: { precision: 0.98, recall: 0.98 },
  PHONE_NUMBER: { precision: 0.97, recall: 0.94 },
};

for (const family of ['A', 'B'] as const) {
  t.test(`synthetic cases, template family ${family}`, async (t) => {
    const st = score(generate({ seed: family === 'A' ? 5 : 6, count: 1200, family }));
    for (const [entity, goal] of Object.entries(GOALS)) {
      const s = st[entity];
      if (!s) {
        t.fail(`${entity}: no case generated`);
        continue;
      }
      const precision = s.tp / (s.tp + s.fp || 1);
      const recall = s.tp / (s.tp + s.fn || 1);
      t.ok(precision >= goal.precision, `${entity} precision ${precision.toFixed(3)} (${s.fp} false)`);
      t.ok(recall >= goal.recall, `${entity} recall ${recall.toFixed(3)} (${s.fn} missed)`);
    }
  });
}
