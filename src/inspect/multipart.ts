// multipart/form-data, read as its parts: each field name, file name and
// (text) value is inspected as a value of its own, so the part's header lines
// never read as command separators or header injection. One pass with indexOf
// over the body; the part count is bounded.

/** Charsets a form part may declare; anything else is an evasion (UTF-7, UTF-32, IBM037...). */
const CHARSETS = new Set(['utf-8', 'utf8', 'iso-8859-1', 'iso-8859-15', 'us-ascii', 'ascii', 'windows-1252', 'latin1']);
const MAX_PARTS = 1000;

export interface MultipartField {
  /** `name`, `name#filename`, `name#header` */
  path: string;
  value: string;
}

export interface ParsedMultipart {
  fields: MultipartField[];
  /** Structural findings: rule ids (a part's Content-Transfer-Encoding, a foreign charset). */
  anomalies: string[];
  /** The body did not have the boundary the header announced. */
  malformed: boolean;
}

/** The `boundary` parameter of a multipart Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

const PARAMS: Record<string, RegExp> = {
  name: /(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;]*))/i,
  filename: /(?:^|;)\s*filename\s*=\s*(?:"([^"]*)"|([^;]*))/i,
  charset: /(?:^|;)\s*charset\s*=\s*(?:"([^"]*)"|([^;]*))/i,
};

function param(header: string, name: 'name' | 'filename' | 'charset'): string | null {
  const m = PARAMS[name].exec(header);
  return m ? (m[1] ?? m[2]).trim() : null;
}

export function parseMultipart(body: string, boundary: string): ParsedMultipart {
  const out: ParsedMultipart = { fields: [], anomalies: [], malformed: false };
  const delim = '--' + boundary;
  let pos = body.indexOf(delim);
  if (pos < 0) {
    out.malformed = true;
    return out;
  }
  let parts = 0;
  while (pos >= 0 && parts < MAX_PARTS) {
    let start = pos + delim.length;
    if (body.startsWith('--', start)) break; // closing delimiter
    // the delimiter line ends with CRLF or LF
    const eol = body.indexOf('\n', start);
    if (eol < 0) break;
    start = eol + 1;
    const next = body.indexOf(delim, start);
    const end = next < 0 ? body.length : next;
    let part = body.slice(start, end);
    // the line break before the next delimiter belongs to it
    if (part.endsWith('\r\n')) part = part.slice(0, -2);
    else if (part.endsWith('\n')) part = part.slice(0, -1);
    let sep = part.indexOf('\r\n\r\n');
    let sepLen = 4;
    const lf = part.indexOf('\n\n');
    if (lf >= 0 && (sep < 0 || lf < sep)) {
      sep = lf;
      sepLen = 2;
    }
    const head = sep < 0 ? part : part.slice(0, sep);
    const value = sep < 0 ? '' : part.slice(sep + sepLen);
    let name = '';
    let filename: string | null = null;
    let ctype = '';
    for (const line of head.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const hname = line.slice(0, colon).trim().toLowerCase();
      const hval = line.slice(colon + 1).trim();
      if (hname === 'content-disposition') {
        name = param(hval, 'name') ?? '';
        filename = param(hval, 'filename');
      } else if (hname === 'content-type') ctype = hval.toLowerCase();
      else if (hname === 'content-transfer-encoding') out.anomalies.push('multipart-transfer-encoding');
      else out.fields.push({ path: `${name}#${hname}`, value: hval });
    }
    const charset = param(ctype, 'charset');
    if (charset && !CHARSETS.has(charset.toLowerCase())) out.anomalies.push('multipart-charset');
    if (name === '_charset_' && value && !CHARSETS.has(value.trim().toLowerCase())) out.anomalies.push('multipart-charset');
    out.fields.push({ path: `${name}#key`, value: name });
    if (filename !== null) out.fields.push({ path: `${name}#filename`, value: filename });
    // file contents are read when they are text a server might interpret, not images or archives
    const textual = ctype === '' || ctype.startsWith('text/') || ctype.includes('json') || ctype.includes('xml') || ctype.includes('x-www-form-urlencoded') || ctype.includes('javascript') || ctype.includes('php');
    if (textual) out.fields.push({ path: name, value });
    parts++;
    pos = next;
  }
  return out;
}
