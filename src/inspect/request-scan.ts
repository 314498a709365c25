import { inspectForm, inspectJson, inspectValue, type Level, type LocatedFinding } from './detect.js';

/** What of a request is inspected; plain data, so it can cross to a worker thread. */
export interface ScanInput {
  level: Level;
  path: string | null;
  query: string | null;
  /** [name, value] pairs (cookies split into their own pairs). */
  headers: [string, string][];
  cookies: [string, string][];
  body: string | null;
  bodyKind: 'json' | 'form' | 'text' | null;
}

export interface ScanFinding extends LocatedFinding {
  location: 'path' | 'query' | 'header' | 'cookie' | 'body';
  /** First characters of the value, digits masked (no PII in logs). */
  snippet: string;
}

function snippet(value: string): string {
  return value.slice(0, 48).replace(/[0-9]/g, '#');
}

/** Every finding of a request, one per inspected value that scored anything. */
export function scanRequest(input: ScanInput): ScanFinding[] {
  const out: ScanFinding[] = [];
  const level = input.level;
  if (input.path !== null) {
    const r = inspectValue(input.path, 'path', level);
    if (r.score > 0) out.push({ ...r, path: '$path', location: 'path', snippet: snippet(input.path) });
  }
  if (input.query) {
    for (const f of inspectForm(input.query, level, undefined, 'query').findings) out.push({ ...f, location: 'query', snippet: '' });
  }
  for (const [name, value] of input.headers) {
    const r = inspectValue(value, 'header', level);
    if (r.score > 0) out.push({ ...r, path: name, location: 'header', snippet: snippet(value) });
  }
  for (const [name, value] of input.cookies) {
    const r = inspectValue(value, 'cookie', level);
    if (r.score > 0) out.push({ ...r, path: name, location: 'cookie', snippet: snippet(value) });
  }
  if (input.body !== null && input.bodyKind !== null) {
    if (input.bodyKind === 'json') for (const f of inspectJson(input.body, level).findings) out.push({ ...f, location: 'body', snippet: '' });
    else if (input.bodyKind === 'form') for (const f of inspectForm(input.body, level).findings) out.push({ ...f, location: 'body', snippet: '' });
    else {
      const r = inspectValue(input.body, 'body', level);
      if (r.score > 0) out.push({ ...r, path: '$body', location: 'body', snippet: snippet(input.body) });
    }
  }
  return out;
}
