import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { detectPii } from '../../src/protect/detect.js';

// The corpus goals of issue 6, scored as scripts/eval-pii.mjs scores them (exact
// offsets, every detector running, overlaps resolved).
const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, '../../../shared/corpora/presidio/recognizer-cases.json');

interface Case {
  entity: string;
  text: string;
  count: number;
  spans: Array<[number, number]>;
}

function score(cases: Case[]): Record<string, { precision: number; recall: number; tp: number; fp: number; fn: number }> {
  const st: Record<string, { tp: number; fp: number; fn: number }> = {};
  for (const c of cases) {
    const s = (st[c.entity] ??= { tp: 0, fp: 0, fn: 0 });
    const gold = c.spans.map(([a, b]) => ({ a, b, hit: false }));
    for (const f of detectPii(c.text).filter((x) => x.entity === c.entity)) {
      const g = gold.find((x) => !x.hit && x.a === f.start && x.b === f.end);
      if (g) {
        g.hit = true;
        s.tp++;
      } else s.fp++;
    }
    s.fn += gold.filter((g) => !g.hit).length;
  }
  return Object.fromEntries(
    Object.entries(st).map(([e, s]) => [e, { ...s, precision: s.tp / (s.tp + s.fp || 1), recall: s.tp / (s.tp + s.fn || 1) }]),
  );
}

/** Texts labelled twice with different spans are scored once against the union (see eval-pii.mjs). */
function mergeConflicts(cases: Case[]): Case[] {
  const groups = new Map<string, Case[]>();
  for (const c of cases) {
    const k = c.entity + '\u0000' + c.text;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const out: Case[] = [];
  for (const list of groups.values()) {
    const labels = new Set(list.map((c) => JSON.stringify(c.spans)));
    if (labels.size === 1) out.push(...list);
    else {
      const spans: Array<[number, number]> = [];
      for (const c of list) for (const s of c.spans) if (!spans.some((x) => x[0] === s[0] && x[1] === s[1])) spans.push(s);
      out.push({ entity: list[0]!.entity, text: list[0]!.text, count: spans.length, spans });
    }
  }
  return out;
}

t.test('presidio recognizer cases', { skip: existsSync(corpus) ? false : `no corpus at ${corpus}` }, async (t) => {
  const cases = JSON.parse(readFileSync(corpus, 'utf8')) as Case[];
  const raw = score(cases);
  for (const e of ['CREDIT_CARD', 'US_SSN', 'EMAIL_ADDRESS', 'IBAN_CODE']) {
    t.ok(raw[e]!.precision >= 0.99, `${e} precision ${raw[e]!.precision.toFixed(4)}`);
    t.ok(raw[e]!.recall >= 0.99, `${e} recall ${raw[e]!.recall.toFixed(4)}`);
  }
  // Three phone texts appear twice with contradicting labels, so scored line by line
  // one point per pair is lost whatever the detector does: the goal is asserted on
  // the merged labels, and the raw figures are held at their best reachable level.
  const merged = score(mergeConflicts(cases));
  t.ok(merged.PHONE_NUMBER!.precision >= 0.95, `PHONE_NUMBER precision (merged) ${merged.PHONE_NUMBER!.precision.toFixed(4)}`);
  t.ok(merged.PHONE_NUMBER!.recall >= 0.95, `PHONE_NUMBER recall (merged) ${merged.PHONE_NUMBER!.recall.toFixed(4)}`);
  const p = raw.PHONE_NUMBER!;
  t.ok(p.fp + p.fn <= 3, `PHONE_NUMBER raw errors ${p.fp + p.fn} (3 are forced by the conflicting labels)`);
});
