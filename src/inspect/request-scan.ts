import { inspectForm, inspectJson, inspectValue, type Level, type LocatedFinding } from './detect.js';
import { parseMultipart } from './multipart.js';
import { scannerName } from './scanner.js';
import { CRITICAL } from './types.js';

/** What of a request is inspected; plain data, so it can cross to a worker thread. */
export interface ScanInput {
  level: Level;
  path: string | null;
  query: string | null;
  /** [name, value] pairs (cookies split into their own pairs). */
  headers: [string, string][];
  cookies: [string, string][];
  body: string | null;
  /** 'undeclared': no Content-Type, read both as text and as a form (as CRS does). */
  bodyKind: 'json' | 'form' | 'multipart' | 'text' | 'undeclared' | null;
  /** The multipart boundary, for bodyKind 'multipart'. */
  boundary?: string | null;
}

export interface ScanFinding extends LocatedFinding {
  location: 'path' | 'query' | 'header' | 'cookie' | 'body';
  /** First characters of the value, digits masked (no PII in logs). */
  snippet: string;
}

const FORM_LIKE = /^[A-Za-z0-9_.\[\]-]{1,64}=/;

/** Uploads a server may execute or read as its own configuration. */
const RISKY_UPLOAD =
  /\.(?:ph(?:p[0-9s]?|tml|ar|t|pt)|jspx?|aspx?|ashx|asmx|asa|cer|shtml?|cgi|pl|py|sh|bash|exe|bat|cmd|com|ps1|vbs|war|jar|svg)\s*$|(?:^|[\/\\])(?:\.htaccess|\.htpasswd|\.user\.ini|web\.config|wp-config\.php|config\.ya?ml|\.env|\.git|\.ssh|authorized_keys|\.bashrc|\.profile)\s*$/i;

/** An upload's file name (multipart `filename`, `X-Filename` headers) that names executable or config content. */
export function riskyUpload(name: string): boolean {
  // Windows drops trailing dots and spaces: `a.php..` is saved as `a.php`
  return RISKY_UPLOAD.test(name.replace(/[\s\0.]+$/, '').replace(/\s*\.\s*/g, '.'));
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
    if ((name === 'x-filename' || name === 'x-file-name' || name === 'x_filename' || name === 'x_file_name') && riskyUpload(value)) out.push({ score: CRITICAL, rules: ['upload-risky-filename'], path: name, location: 'header', snippet: snippet(value) });
    if (name === 'user-agent' && scannerName(value)) out.push({ score: CRITICAL, rules: ['scanner-user-agent'], path: name, location: 'header', snippet: snippet(value) });
  }
  for (const [name, value] of input.cookies) {
    const r = inspectValue(value, 'cookie', level);
    if (r.score > 0) out.push({ ...r, path: name, location: 'cookie', snippet: snippet(value) });
    const k = inspectValue(name, 'cookie', level);
    if (k.score > 0) out.push({ ...k, path: `${name}#key`, location: 'cookie', snippet: snippet(name) });
  }
  if (input.body !== null && input.bodyKind !== null) {
    if (input.bodyKind === 'json') for (const f of inspectJson(input.body, level).findings) out.push({ ...f, location: 'body', snippet: '' });
    else if (input.bodyKind === 'form') for (const f of inspectForm(input.body, level).findings) out.push({ ...f, location: 'body', snippet: '' });
    else if (input.bodyKind === 'multipart' && input.boundary && scanMultipart(input.body, input.boundary, level, out)) {
      // parts inspected one by one
    } else {
      // a body without a declared form type that reads as one is inspected as a form too
      if (input.bodyKind === 'undeclared' || FORM_LIKE.test(input.body)) for (const f of inspectForm(input.body, level).findings) out.push({ ...f, location: 'body', snippet: '' });
      const r = inspectValue(input.body, 'body', level);
      if (r.score > 0) out.push({ ...r, path: '$body', location: 'body', snippet: snippet(input.body) });
    }
  }
  return out;
}

/** Inspects each part of a multipart body; false when the body is not multipart after all (then read as text). */
function scanMultipart(body: string, boundary: string, level: Level, out: ScanFinding[]): boolean {
  const parsed = parseMultipart(body, boundary);
  if (parsed.malformed) return false;
  for (const rule of new Set(parsed.anomalies)) out.push({ score: CRITICAL, rules: [rule], path: '$body', location: 'body', snippet: '' });
  for (const f of parsed.fields) {
    if (f.value.length === 0) continue;
    if (f.path.endsWith('#filename') && /(?:^|[\/\\])\.\.(?:[\/\\]|$)/.test(f.value)) out.push({ score: CRITICAL, rules: ['traversal-filename'], path: f.path, location: 'body', snippet: '' });
    if (f.path.endsWith('#filename') && riskyUpload(f.value)) out.push({ score: CRITICAL, rules: ['upload-risky-filename'], path: f.path, location: 'body', snippet: '' });
    const r = inspectValue(f.value, 'body', level);
    if (r.score > 0) out.push({ ...r, path: f.path, location: 'body', snippet: '' });
  }
  return true;
}
