import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { freePort, startGateway, type GatewayOptions, type RunningGateway } from '../helpers/gateway.js';

export interface AdminGateway {
  gw: RunningGateway;
  adminPort: number;
  token: string;
  /** Calls the admin listener; `token: null` sends no Authorization header. */
  call(path: string, init?: { method?: string; headers?: Record<string, string>; token?: string | null }): Promise<AdminResponse>;
}

export interface AdminResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function adminCall(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A real gateway (dist/cli.js) with its admin listener on a free loopback port and a random token. */
export async function startAdminGateway(config: Record<string, unknown>, options: GatewayOptions = {}): Promise<AdminGateway> {
  const adminPort = await freePort();
  const token = randomBytes(18).toString('base64url');
  const gw = await startGateway(config, { ...options, env: { ZTGATE_ADMIN_PORT: String(adminPort), ZTGATE_ADMIN_TOKEN: token, ...options.env } });
  return {
    gw,
    adminPort,
    token,
    call(path, init = {}) {
      const headers = { ...init.headers };
      const t = init.token === undefined ? token : init.token;
      if (t !== null) headers.authorization = `Bearer ${t}`;
      return adminCall(adminPort, path, init.method ?? 'GET', headers);
    },
  };
}

/** Polls `read` until `done` holds (no timing assertion: the deadline only bounds a broken run). */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, deadlineMs = 15_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
