// Scores detector output against labelled cases: a found span is a true positive when
// its entity and offsets equal a label's; every other found span is a false positive
// (a decoy found, a wrong entity, wrong bounds), every label not found a miss.
// Totals per entity, per locale and per label tag (what kind of value was missed).

export function score(cases, detect, entities) {
  const perEntity = {};
  const perLocale = {};
  const perTag = {};
  const misses = [];
  const bump = (table, key, field) => ((table[key] ??= { tp: 0, fp: 0, fn: 0 })[field]++);
  for (const c of cases) {
    const found = detect(c).filter((s) => entities.includes(s.entity));
    const gold = c.labels.filter((l) => entities.includes(l.entity)).map((l) => ({ ...l, hit: false }));
    for (const s of found) {
      const g = gold.find((x) => !x.hit && x.entity === s.entity && x.start === s.start && x.end === s.end);
      if (g) {
        g.hit = true;
        bump(perEntity, s.entity, 'tp');
        bump(perLocale, `${c.locale} ${s.entity}`, 'tp');
        bump(perTag, `${s.entity} ${g.tag}`, 'tp');
      } else {
        bump(perEntity, s.entity, 'fp');
        bump(perLocale, `${c.locale} ${s.entity}`, 'fp');
        const over = gold.find((x) => x.start < s.end && s.start < x.end);
        misses.push({ kind: 'fp', id: c.id, entity: s.entity, value: c.text.slice(s.start, s.end), why: over ? `overlaps ${over.entity} ${JSON.stringify(c.text.slice(over.start, over.end))}` : 'no label', text: c.text });
      }
    }
    for (const g of gold) {
      if (g.hit) continue;
      bump(perEntity, g.entity, 'fn');
      bump(perLocale, `${c.locale} ${g.entity}`, 'fn');
      bump(perTag, `${g.entity} ${g.tag}`, 'fn');
      misses.push({ kind: 'fn', id: c.id, entity: g.entity, value: c.text.slice(g.start, g.end), tag: g.tag, text: c.text });
    }
  }
  return { perEntity: rates(perEntity), perLocale: rates(perLocale), perTag: rates(perTag), misses };
}

function rates(table) {
  const out = {};
  for (const [k, st] of Object.entries(table)) {
    out[k] = { ...st, precision: st.tp + st.fp === 0 ? 1 : st.tp / (st.tp + st.fp), recall: st.tp + st.fn === 0 ? 1 : st.tp / (st.tp + st.fn) };
  }
  return out;
}
