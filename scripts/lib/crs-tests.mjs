// The OWASP CRS regression suite (go-ftw YAML) read as plain test records: the
// raw request bytes go-ftw would send, what the test expects, the paranoia
// level of the rule it tests, and a fixed development / held-out half.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Paranoia level of every rule id in `rules/*.conf`: its `paranoia-level/N` tag, else the `@lt N` gate it sits behind. */
export function ruleLevels(rulesDir) {
  const levels = new Map();
  for (const name of readdirSync(rulesDir).filter((f) => f.endsWith('.conf')).sort()) {
    let gate = 1;
    // a rule spans several `\`-continued lines; join them first
    const text = readFileSync(join(rulesDir, name), 'utf8').replace(/\\\r?\n/g, ' ');
    for (const line of text.split('\n')) {
      const lt = /TX:DETECTION_PARANOIA_LEVEL\s+"@lt (\d)"/.exec(line);
      if (lt) {
        gate = Number(lt[1]);
        continue;
      }
      const id = /\bid:(\d{6})/.exec(line);
      if (!id) continue;
      const tag = /paranoia-level\/(\d)/.exec(line);
      levels.set(Number(id[1]), tag ? Number(tag[1]) : gate);
    }
  }
  return levels;
}

/** Deterministic half of a test id: 'dev' or 'held-out' (first byte of its SHA-256). */
export function halfOf(id) {
  return createHash('sha256').update(id).digest()[0] % 2 === 0 ? 'dev' : 'held-out';
}

/**
 * The bytes go-ftw sends for a stage input: `encoded_request` (base64, as is)
 * or the request line, the headers in their order and the data; with
 * `autocomplete_headers` (the default) a Content-Length for the data and
 * `Connection: close` are added when absent.
 */
export function buildRequest(input) {
  if (input.encoded_request) return Buffer.from(input.encoded_request, 'base64');
  const method = input.method ?? 'GET';
  const uri = input.uri ?? '/';
  const version = input.version ?? 'HTTP/1.1';
  const headers = Object.entries(input.headers ?? {}).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]);
  const body = input.data === undefined || input.data === null ? Buffer.alloc(0) : Buffer.from(String(input.data), 'utf8');
  const has = (name) => headers.some(([k]) => k.toLowerCase() === name);
  if (input.autocomplete_headers !== false) {
    if (body.length > 0 && !has('content-length')) headers.push(['Content-Length', String(body.length)]);
    if (!has('connection')) headers.push(['Connection', 'close']);
  }
  const head = `${method} ${uri} ${version}\r\n` + headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Is a must-not-fire test described as benign traffic (a false positive), rather than an attack another rule is for? */
function describedBenign(desc) {
  return /false[ -]?positive|\bFP\b|benign|legit/i.test(desc ?? '');
}

/**
 * Every test of the suite as `{ id, file, ruleId, family, pl, kind, half, desc, request, skip }`.
 * kind: 'attack' (expects a rule to fire), 'fp' (expects rules not to fire), 'other' (checks a status or an error).
 */
export function loadTests(testsDir, levels) {
  const out = [];
  for (const dir of readdirSync(testsDir).sort()) {
    if (!/^(?:REQUEST|RESPONSE)-\d{3}/.test(dir)) continue;
    for (const file of readdirSync(join(testsDir, dir)).filter((f) => f.endsWith('.yaml')).sort()) {
      const doc = parse(readFileSync(join(testsDir, dir, file), 'utf8'));
      if (!doc || !Array.isArray(doc.tests)) continue;
      const ruleId = Number(doc.rule_id ?? file.slice(0, 6));
      for (const t of doc.tests) {
        const id = `${ruleId}-${t.test_id}`;
        const stages = t.stages ?? [];
        // The test's verdict is its last stage's; earlier stages set up state (CRS's multi-stage tests).
        const stage = stages[stages.length - 1] ?? {};
        const log = stage.output?.log ?? {};
        const expect = log.expect_ids ?? [];
        const noExpect = log.no_expect_ids ?? [];
        let kind = 'other';
        if (expect.length > 0) kind = 'attack';
        else if (noExpect.length > 0) kind = 'fp';
        let skip = null;
        if (dir.startsWith('RESPONSE')) skip = 'response rule: inspect reads requests';
        else if (stages.length !== 1) skip = 'multi-stage test';
        else if (kind === 'other') skip = 'checks a status or an error, not a rule';
        const family = String(ruleId).slice(0, 3);
        out.push({
          id,
          file: `${dir}/${file}`,
          ruleId,
          family,
          pl: levels.get(ruleId) ?? 1,
          kind,
          benignDesc: kind === 'fp' && describedBenign(t.desc),
          half: halfOf(id),
          desc: String(t.desc ?? '').trim(),
          request: skip ? null : buildRequest(stage.input ?? {}),
          skip,
        });
      }
    }
  }
  return out;
}

/** The CRS folder next to the project (../shared/corpora/crs) or inside it. */
export function findCrs(root) {
  for (const c of [join(root, '../shared/corpora/crs'), join(root, 'shared/corpora/crs')]) if (existsSync(join(c, 'rules'))) return c;
  return null;
}
