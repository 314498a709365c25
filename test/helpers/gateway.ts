import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { spawnNode } from './spawn-node.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli.js');

/** A port that was free a moment ago (bind 0, read, close). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

export interface RunningGateway {
  port: number;
  url: string;
  proc: ChildProcess;
  configPath: string;
  /** Everything the gateway printed so far (stdout + stderr). */
  output(): string;
  /** Parsed JSON log lines printed so far. */
  logs(): Record<string, unknown>[];
  /** Waits until a log line satisfies `pred`. */
  waitForLog(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
}

export interface GatewayOptions {
  processes?: number;
  env?: Record<string, string>;
  /** Extra config merged at the top level. */
  args?: string[];
}

/** Writes `config` (an object, written as YAML) to a temp file and starts the real CLI on it. */
export async function startGateway(config: Record<string, unknown>, options: GatewayOptions = {}): Promise<RunningGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'ztgate-test-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, stringify(config));
  const listeners = config.listeners as { port: number; tls?: unknown }[];
  const port = listeners[0].port;
  const proc = spawnNode([CLI, '--config', configPath, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ZTGATE_PROCESSES: String(options.processes ?? 1), ZTGATE_LOG_LEVEL: 'debug', ...options.env },
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onChunk = (c: Buffer) => {
    out += c.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onChunk);
  proc.stderr!.on('data', onChunk);
  const exited = once(proc, 'exit');
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  const waitForLog = (pred: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const hit = logs().find(pred);
        if (hit) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`log line not seen within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const gw: RunningGateway = {
    port,
    url: `${listeners[0].tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    proc,
    configPath,
    output: () => out,
    logs,
    waitForLog,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
  try {
    await Promise.race([
      waitForLog((l) => l.msg === 'ztgate listening', 30_000),
      exited.then(() => {
        throw new Error(`gateway exited before listening:\n${out}`);
      }),
    ]);
  } catch (err) {
    // Never leave a half-started gateway behind a failed test.
    if (proc.exitCode === null) proc.kill('SIGTERM');
    throw err;
  }
  return gw;
}

/** A minimal config: one HTTP listener, one upstream, a public catch-all route. */
export function basicConfig(port: number, upstreamPort: number, route: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listeners: [{ name: 'main', host: '127.0.0.1', port, segment: 'external' }],
    upstreams: [{ name: 'app', targets: [{ url: `http://127.0.0.1:${upstreamPort}` }], timeouts: { connectMs: 1000, firstByteMs: 1500, idleMs: 1500 } }],
    routes: [{ name: 'all', match: { path: '/*' }, upstream: 'app', public: true, ...route }],
  };
}

export interface RawResponse {
  raw: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The connection was closed by the gateway. */
  closed: boolean;
}

export interface RawRequestOptions {
  /**
   * Stop as soon as one whole final response is in (framed by Content-Length
   * or chunked encoding, after any 1xx), instead of waiting `waitMs` of quiet
   * on a kept-alive connection. `closed` then only says whether the gateway
   * closed before that. Unframed responses still end at close or quiet.
   */
  untilResponse?: boolean;
}

/** Chunked body starting at `at`: complete once the last chunk and the trailer section are in. */
function chunkedComplete(buf: Buffer, at: number): boolean {
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return false;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0].trim(), 16);
    if (Number.isNaN(size)) return false;
    if (size === 0) return buf.indexOf('\r\n\r\n', eol) >= 0;
    at = eol + 2 + size + 2;
    if (at > buf.length) return false;
  }
}

/** True once `buf` holds a whole final (non-1xx) response. */
function holdsCompleteResponse(buf: Buffer): boolean {
  let start = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', start);
    if (end < 0) return false;
    const head = buf.subarray(start, end).toString('latin1');
    const status = Number(head.split(' ')[1]);
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    if (status === 204 || status === 304) return true;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length) return buf.length - (end + 4) >= Number(length[1]);
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) return chunkedComplete(buf, end + 4);
    return false;
  }
}

/** Sends raw bytes and collects what comes back until close or `waitMs` of quiet (or, with `untilResponse`, one whole response). */
export function rawRequest(port: number, bytes: string | Buffer, waitMs = 500, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = raw.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ raw, status: Number(lines[0].split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n'), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, waitMs);
    };
    socket.on('data', (c) => {
      chunks.push(c);
      if (options.untilResponse && holdsCompleteResponse(Buffer.concat(chunks))) return finish();
      arm();
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {
      closed = true;
      finish();
    });
    socket.write(bytes);
    arm();
  });
}

/** A raw TCP upstream whose behaviour per connection is scripted by the test. */
export async function rawUpstream(onConnection: (socket: Socket, firstRequest: string) => void): Promise<{ port: number; server: NetServer; connections: number; close(): Promise<void> }> {
  const state = { connections: 0 };
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    const onData = (c: Buffer) => {
      buffered += c.toString('latin1');
      if (buffered.includes('\r\n\r\n')) {
        socket.off('data', onData);
        onConnection(socket, buffered);
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    server,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
