import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Bearer-token check for the admin listener. Both sides are hashed first, so
 * the comparison is constant-time whatever the length of what was sent.
 */
export class AdminAuth {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = createHash('sha256').update(token).digest();
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(createHash('sha256').update(candidate).digest(), this.digest);
  }

  /**
   * Why a request is refused, or null when its token is good. Only
   * `Authorization: Bearer` counts, except where `queryAllowed` (EventSource
   * cannot set headers): there `?token=` is read too.
   */
  refusal(req: IncomingMessage, url: URL, queryAllowed: boolean): string | null {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer +([\x21-\x7e]{1,1024})$/i.exec(header);
      if (m === null) return 'authorization header is not a bearer token';
      return this.matches(m[1]) ? null : 'wrong bearer token';
    }
    if (queryAllowed) {
      const q = url.searchParams.get('token');
      if (q !== null) return q.length <= 1024 && this.matches(q) ? null : 'wrong token in query';
    }
    return url.searchParams.has('token') ? 'token in the query string is accepted on /events only' : 'no bearer token';
  }
}
