import type { HttpResponse } from 'uWebSockets.js';
import { Router } from '../routing/router.js';
import { normalizePath } from '../routing/normalize-path.js';
import type { IdentitySigner } from '../identity/signer.js';

/** An answer the gateway gives itself, on every listener, ahead of the configured routes. */
export interface InternalRoute {
  readonly name: string;
  /** Answers inside the uWS handler (corked by uWS); `method` is GET or HEAD. */
  serve(res: HttpResponse, method: string): void;
}

/**
 * The gateway's own endpoints as a router of their own, asked before the
 * configured routes: one that matches answers, whatever route would also
 * match; any other request goes on to the configured routes unchanged (a POST
 * to the JWKS path included). Null when there is none, so a gateway without
 * them pays no lookup.
 */
export function internalRoutes(signer: IdentitySigner | null): Router<InternalRoute> | null {
  if (!signer) return null;
  // A path not in normalized form could never be asked for (requests are normalized first).
  const path = signer.config.jwksPath;
  const normalized = normalizePath(path, { allowSemicolon: false, allowEncodedSlash: false });
  if (!normalized.ok || normalized.path !== path) return null;
  return new Router([{ path: signer.config.jwksPath, methods: ['GET', 'HEAD'], value: jwksRoute(signer) }]);
}

/** The identity-signing key, published for upstream services to verify what the gateway vouches for. */
function jwksRoute(signer: IdentitySigner): InternalRoute {
  return {
    name: 'jwks',
    serve(res, method) {
      res.writeStatus('200 OK').writeHeader('content-type', 'application/jwk-set+json').writeHeader('cache-control', 'max-age=300');
      res.end(method === 'HEAD' ? '' : signer.jwks);
    },
  };
}
