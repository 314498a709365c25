import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Test } from 'tap';
import { CLI, freePort, ROOT, startGateway, type GatewayOptions, type RunningGateway } from '../helpers/gateway.js';
import { spawnNode } from '../helpers/spawn-node.js';

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

export interface RunningDemo {
  proc: ChildProcess;
  gatewayPort: number;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
}

/** `npm start` without a config, one process, on free ports; waits for `ready` in its output; stopped at teardown. */
export async function startDemo(t: Test, env: Record<string, string>, ready: string): Promise<RunningDemo> {
  const [gatewayPort, upstreamPort] = [await freePort(), await freePort()];
  const proc = spawnNode([CLI], {
    cwd: ROOT,
    env: { ...process.env, ZTGATE_PROCESSES: '1', ZTGATE_DEMO_PORT: String(gatewayPort), ZTGATE_DEMO_UPSTREAM_PORT: String(upstreamPort), ...env },
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  t.teardown(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
  });
  const deadline = Date.now() + 60_000; // bounds a broken start only
  while (!out.includes(ready) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  return { proc, gatewayPort, output: () => out };
}
