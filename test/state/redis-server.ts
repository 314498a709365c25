import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { freePort } from '../helpers/gateway.js';

/** A real redis-server on a loopback port, persistence off, for one test file. */
export interface RedisServer {
  port: number;
  url: string;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a store that hangs with its connections open. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(500, () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''], { stdio: 'ignore' });
      // Generous: a loaded CI machine may take seconds to start it.
      for (let i = 0; i < 200; i++) {
        if (await answersPing(port)) return;
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('redis-server did not answer PING within 10 s');
    },
    async kill() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill('SIGCONT');
      p.kill('SIGKILL');
      await once(p, 'exit');
    },
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    async stop() {
      await server.kill();
    },
  };
  await server.start();
  return server;
}

/** Sends a command (inline protocol) and returns the raw reply. */
export async function redisCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`${line}\r\n`));
    s.on('error', reject);
    s.once('data', (d) => (s.destroy(), resolve(d.toString())));
  });
}
