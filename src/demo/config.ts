import type { GatewayConfig } from '../config/types.js';
import { validateConfig } from '../config/load.js';

export interface DemoPorts {
  gateway: number;
  upstream: number;
}

/** The embedded default: one loopback listener, the demo upstream, two public routes. */
export function demoConfig(ports: DemoPorts): GatewayConfig {
  return validateConfig(
    {
      listeners: [{ name: 'demo', host: '127.0.0.1', port: ports.gateway, segment: 'external' }],
      upstreams: [{ name: 'demo', targets: [{ url: `http://127.0.0.1:${ports.upstream}` }] }],
      routes: [
        { name: 'demo-api', match: { path: '/api/*' }, upstream: 'demo', public: true },
        { name: 'demo-health', match: { path: '/health', methods: ['GET', 'HEAD'] }, upstream: 'demo', public: true },
      ],
    },
    process.cwd(),
  );
}
