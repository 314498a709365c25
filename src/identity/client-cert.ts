import { X509Certificate, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { AuthResult, ConsumerConfig } from './types.js';

/** Largest PEM accepted by `map` (a client certificate is a few KiB). */
export const MAX_PEM_LENGTH = 64 * 1024;

/**
 * RFC 8705 certificate thumbprint (`cnf["x5t#S256"]`): base64url (no padding)
 * SHA-256 of the certificate's DER encoding. Throws when `pem` is not a certificate.
 */
export function certificateBoundThumbprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/**
 * The subject DN in the form used by `certificates[].subject` matchers: the
 * relative distinguished names in the order Node prints them (the order they
 * are encoded in the certificate, e.g. as given to `openssl req -subj`), joined
 * by `,` with no spaces, each as Node prints it: short attribute names
 * (`CN`, `O`, `OU`, `C`, ...), RFC 2253 backslash escapes in values
 * (`CN=a\, b`), and ` + ` between the parts of a multi-valued RDN.
 *
 * Node prints `CN=client\nO=ztgate-test`; the matcher form is `CN=client,O=ztgate-test`.
 * In config, a space after a separating comma (`CN=client, O=ztgate-test`) and
 * newlines as separators are accepted too.
 */
export function subjectDn(cert: X509Certificate): string {
  return cert.subject.split('\n').join(',');
}

/** Config subject → matcher form (see subjectDn). */
export function normalizeSubject(subject: string): string {
  const rdns: string[] = [];
  let current = '';
  for (let i = 0; i < subject.length; i++) {
    const ch = subject[i]!;
    if (ch === '\\' && i + 1 < subject.length) {
      current += ch + subject[++i];
    } else if (ch === ',' || ch === '\n') {
      rdns.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  rdns.push(current);
  // Only leading spaces: a meaningful trailing space is escaped (`\ `).
  return rdns.map((r) => r.replace(/^ +/, '')).join(',');
}

/** `AB:CD:...` or `abcd...` → 64 lowercase hex characters, or null. */
function normalizeFingerprint(value: string): string | null {
  const hex = value.replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

function canonicalIp(value: string): string | null {
  const family = isIP(value);
  if (family === 4) return value;
  if (family === 6) return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  return null;
}

function emailKey(value: string): string {
  // The local part is case-sensitive in principle; the domain never is.
  const at = value.lastIndexOf('@');
  return `email:${value.slice(0, at + 1)}${value.slice(at + 1).toLowerCase()}`;
}

function dnsKey(value: string): string {
  return `dns:${value.toLowerCase().replace(/\.$/, '')}`;
}

/**
 * Config `san` → typed lookup key. `DNS:`, `email:` or `IP:` / `IP Address:`
 * prefixes are optional; without one, an IP address is an IP SAN, a value with
 * `@` an email SAN, anything else a DNS name (case-insensitive).
 */
function sanConfigKey(san: string): string | null {
  const m = /^(DNS|email|IP|IP Address):(.*)$/i.exec(san);
  const type = m ? m[1]!.toLowerCase() : null;
  const value = (m ? m[2]! : san).trim();
  if (value.length === 0) return null;
  if (type === 'ip' || type === 'ip address' || (type === null && isIP(value) !== 0)) {
    const ip = canonicalIp(value);
    return ip === null ? null : `ip:${ip}`;
  }
  if (type === 'email' || (type === null && value.includes('@'))) return emailKey(value);
  return dnsKey(value);
}

/**
 * Splits Node's `subjectAltName` string (`DNS:a, URI:b, IP Address:1.2.3.4`).
 * Entries whose value contains a separator are printed as a JSON string
 * (`URI:"http://x/a\u002cb"`); this is the same algorithm as Node's own
 * `tls.checkServerIdentity`.
 */
export function splitSubjectAltNames(altNames: string): string[] {
  const jsonString = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;
  const result: string[] = [];
  let token = '';
  let offset = 0;
  while (offset < altNames.length) {
    const sep = altNames.indexOf(', ', offset);
    const quote = altNames.indexOf('"', offset);
    if (quote !== -1 && (sep === -1 || quote < sep)) {
      token += altNames.slice(offset, quote);
      const m = jsonString.exec(altNames.slice(quote));
      if (!m) throw new Error('malformed subjectAltName');
      token += JSON.parse(m[0]) as string;
      offset = quote + m[0].length;
    } else if (sep !== -1) {
      token += altNames.slice(offset, sep);
      result.push(token);
      token = '';
      offset = sep + 2;
    } else {
      token += altNames.slice(offset);
      offset = altNames.length;
    }
  }
  if (token.length > 0) result.push(token);
  return result;
}

interface Target {
  readonly index: number;
  readonly consumer: ConsumerConfig;
  readonly roles: ReadonlySet<string>;
}

const NO_SCOPES: ReadonlySet<string> = Object.freeze(new Set<string>());

/**
 * Maps a client certificate (already verified by the TLS listener against its
 * client CA: this class checks neither the chain nor the validity dates) to the
 * configured consumer with a matching `certificates[]` entry:
 *
 * - `fingerprint256`: SHA-256 of the DER, hex, case-insensitive, colons optional;
 * - `spiffe`: exact SPIFFE ID; it matches only a certificate whose one and only
 *   URI SAN is that `spiffe://` URI (an X.509-SVID has exactly one);
 * - `subject`: exact subject DN in the form described at {@link subjectDn};
 * - `san`: a DNS name (case-insensitive), email or IP address (any notation)
 *   among the subject alternative names.
 *
 * Every lookup is a Map hit built at construction. A certificate whose
 * matchers point at two different consumers is refused (invalid_token) rather
 * than mapped to either.
 */
export class ClientCertMapper {
  readonly #byFingerprint = new Map<string, Target>();
  readonly #bySpiffe = new Map<string, Target>();
  readonly #bySubject = new Map<string, Target>();
  readonly #bySan = new Map<string, Target>();

  /** Throws when a matcher is malformed or the same matcher value is given to two consumers. */
  constructor(consumers: ConsumerConfig[]) {
    consumers.forEach((consumer, index) => {
      const target: Target = { index, consumer, roles: Object.freeze(new Set(consumer.groups)) };
      consumer.certificates.forEach((matcher, j) => {
        const at = `identity.consumers[${index}].certificates[${j}]`;
        const add = (map: Map<string, Target>, key: string | null, field: string, raw: string) => {
          if (key === null) throw new Error(`${at}.${field}: "${raw}" is not valid`);
          const existing = map.get(key);
          if (existing !== undefined && existing.consumer !== consumer) {
            throw new Error(`${at}.${field}: "${raw}" also maps to consumer "${existing.consumer.name}" (identity.consumers[${existing.index}])`);
          }
          map.set(key, target);
        };
        if (matcher.fingerprint256 !== undefined) add(this.#byFingerprint, normalizeFingerprint(matcher.fingerprint256), 'fingerprint256', matcher.fingerprint256);
        if (matcher.spiffe !== undefined) {
          add(this.#bySpiffe, matcher.spiffe.startsWith('spiffe://') ? matcher.spiffe : null, 'spiffe', matcher.spiffe);
        }
        if (matcher.subject !== undefined) {
          const dn = normalizeSubject(matcher.subject);
          add(this.#bySubject, dn.length > 0 ? dn : null, 'subject', matcher.subject);
        }
        if (matcher.san !== undefined) add(this.#bySan, sanConfigKey(matcher.san), 'san', matcher.san);
      });
    });
  }

  map(pem: string): AuthResult {
    if (typeof pem !== 'string' || pem.length === 0) return { ok: false, error: 'invalid_request', reason: 'no client certificate' };
    if (pem.length > MAX_PEM_LENGTH) return { ok: false, error: 'invalid_request', reason: 'client certificate too large' };
    let cert: X509Certificate;
    let altNames: string[];
    try {
      cert = new X509Certificate(pem);
      altNames = cert.subjectAltName ? splitSubjectAltNames(cert.subjectAltName) : [];
    } catch (err) {
      return { ok: false, error: 'invalid_request', reason: `unparsable client certificate: ${(err as Error).message}` };
    }

    const subject = subjectDn(cert);
    const uris = altNames.filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
    const spiffe = uris.length === 1 && uris[0]!.startsWith('spiffe://') ? uris[0] : undefined;

    const found = new Set<Target>();
    const hit = (t: Target | undefined) => {
      if (t !== undefined) found.add(t);
    };
    hit(this.#byFingerprint.get(normalizeFingerprint(cert.fingerprint256)!));
    if (spiffe !== undefined) hit(this.#bySpiffe.get(spiffe));
    if (subject.length > 0) hit(this.#bySubject.get(subject));
    if (this.#bySan.size > 0) {
      for (const name of altNames) {
        const colon = name.indexOf(':');
        const type = name.slice(0, colon);
        const value = name.slice(colon + 1);
        let key: string | null = null;
        if (type === 'DNS') key = dnsKey(value);
        else if (type === 'email') key = emailKey(value);
        else if (type === 'IP Address') {
          const ip = canonicalIp(value);
          key = ip === null ? null : `ip:${ip}`;
        }
        if (key !== null) hit(this.#bySan.get(key));
      }
    }

    if (found.size === 0) return { ok: false, error: 'invalid_token', reason: `client certificate "${subject}" matches no consumer` };
    if (found.size > 1) {
      const names = [...found].map((t) => t.consumer.name).join(', ');
      return { ok: false, error: 'invalid_token', reason: `client certificate "${subject}" matches several consumers (${names})` };
    }
    const { consumer, roles } = found.values().next().value as Target;
    const notAfter = Date.parse(cert.validTo);
    return {
      ok: true,
      principal: Object.freeze({
        method: 'mtls',
        subject: consumer.name,
        consumer: consumer.name,
        environment: consumer.environment,
        scopes: NO_SCOPES,
        roles,
        claims: Object.freeze({ subject, fingerprint256: cert.fingerprint256, ...(spiffe !== undefined ? { spiffe } : {}) }),
        ...(Number.isFinite(notAfter) ? { expiresAt: Math.floor(notAfter / 1000) } : {}),
      }),
    };
  }
}
