import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { Router } from './router.js';

/**
 * One router per listener, holding only the routes reachable from it: a route
 * limited to the internal segment does not exist on the external listener, so
 * it can neither match there nor shadow a less specific route.
 */
export function buildRouters<T>(cfg: GatewayConfig, valueOf: (route: RouteConfig, index: number) => T): Map<string, Router<T>> {
  const values = cfg.routes.map(valueOf);
  const routers = new Map<string, Router<T>>();
  for (const listener of cfg.listeners) {
    const specs = [];
    for (let i = 0; i < cfg.routes.length; i++) {
      const r = cfg.routes[i];
      if (r.listeners && !r.listeners.includes(listener.name)) continue;
      if (r.segments && !r.segments.includes(listener.segment)) continue;
      specs.push({ host: r.match.host, path: r.match.path, methods: r.match.methods, caseInsensitive: r.match.caseInsensitive, value: values[i] });
    }
    routers.set(listener.name, new Router(specs));
  }
  return routers;
}
