// Child processes for the bench and load scripts: each server runs in its own
// process group so stopping it also stops what it forks (nginx workers,
// cluster workers), and nothing is ever left behind on any exit path.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let tag = 'bench';
/** Removed on exit unless BENCH_KEEP_TMP=1. */
let tmpDir = null;

export function setTag(t) {
  tag = t;
}

export function setTmpDir(dir) {
  tmpDir = dir;
}

export function log(msg) {
  process.stderr.write(`[${tag}] ${msg}\n`);
}

/** Prints the error and exits; cleanup runs from the 'exit' handler. */
export function fail(msg, code = 1) {
  process.stderr.write(`[${tag}] error: ${msg}\n`);
  process.exit(code);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function findBin(name) {
  const dirs = (process.env.PATH || '').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(d)) dirs.push(d);
  }
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return null;
}

export function toolVersion(bin, args, re) {
  try {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
    const out = `${r.stdout || ''}\n${r.stderr || ''}`;
    const m = out.match(re);
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

export function readVersion(pkgJson) {
  try { return JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version; } catch { return null; }
}

/** Reserve `n` distinct free loopback ports (all held open together, then released). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One GET through a fresh connection; resolves to the status code or an Error. */
export function probe(port, timeoutMs = 1000, urlPath = '/') {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', (e) => resolve(e));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e));
  });
}

/** Every process we start, so that nothing is ever left behind. */
const children = new Set();

export class Child {
  constructor(name, cmd, args, opts = {}) {
    this.name = name;
    this.stdoutBuf = '';
    this.stderrTail = '';
    this.exited = false;
    this.exitInfo = null;
    // Own process group, so that stop() also reaches anything it forks
    // and a terminal ^C reaches only us.
    this.proc = spawn(cmd, args, {
      cwd: opts.cwd || ROOT,
      env: opts.env || process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(this);
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve(this.exitInfo);
      });
      this.proc.on('error', (err) => {
        this.exited = true;
        this.exitInfo = `spawn error: ${err.message}`;
        this.stderrTail += `\n${err.message}`;
        resolve(this.exitInfo);
      });
    });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      // A tail of 64-128 KiB, cut only now and then: an access line per request makes
      // megabytes a second here, and this process shares the cores with what it measures.
      this.stdoutBuf += d;
      if (this.stdoutBuf.length > 131072) this.stdoutBuf = this.stdoutBuf.slice(-65536);
      if (opts.onStdout) opts.onStdout(d);
    });
    this.proc.stderr.on('data', (d) => {
      this.stderrTail = (this.stderrTail + d).slice(-8192);
    });
  }

  get pid() {
    return this.proc.pid;
  }

  tail(lines = 20) {
    const t = this.stderrTail.trimEnd().split('\n').slice(-lines).join('\n');
    return t || '(no stderr output)';
  }

  stdoutTail(lines = 20) {
    const t = this.stdoutBuf.trimEnd().split('\n').slice(-lines).join('\n');
    return t || '(no stdout output)';
  }

  signalGroup(sig) {
    if (!this.pid) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try { process.kill(this.pid, sig); } catch { /* gone */ }
    }
  }

  groupAlive() {
    if (!this.pid) return false;
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Forget a child that ended by itself (a load generator run). */
  forget() {
    children.delete(this);
  }

  async stop(graceMs = 3000) {
    if (this.pid && (!this.exited || this.groupAlive())) {
      this.signalGroup('SIGTERM');
      const deadline = Date.now() + graceMs;
      while ((!this.exited || this.groupAlive()) && Date.now() < deadline) await sleep(50);
      if (!this.exited || this.groupAlive()) {
        log(`${this.name} did not stop within ${graceMs} ms, killing`);
        this.signalGroup('SIGKILL');
        await Promise.race([this.exitPromise, sleep(1000)]);
      }
    }
    children.delete(this);
  }
}

export async function stopAll() {
  await Promise.all([...children].map((c) => c.stop()));
}

/** Set by a SIGINT/SIGTERM/SIGHUP; long loops check it between runs. */
export const state = { interrupted: false };

/** Signal and error handlers that stop every child; call once at start. */
export function installCleanup() {
  process.on('exit', () => {
    for (const c of children) c.signalGroup('SIGKILL');
    if (tmpDir && !process.env.BENCH_KEEP_TMP) {
      try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch { /* ignore */ }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (state.interrupted) process.exit(130);
      state.interrupted = true;
      log(`${sig} received, stopping everything`);
      stopAll().finally(() => process.exit(130));
    });
  }
  let dying = false;
  const die = (err) => {
    if (dying) return; // one error while stopping must not start another stop (or a loop of them)
    dying = true;
    try { process.stderr.write(`[${tag}] unexpected error: ${err && err.stack ? err.stack : err}\n`); } catch { /* no reader */ }
    stopAll().finally(() => process.exit(1));
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // The reader of our output went away (a parent killed, `| head`): stop
  // everything and go, rather than fail every later write (EPIPE).
  const gone = () => {
    if (dying) return;
    dying = true;
    state.interrupted = true;
    stopAll().finally(() => process.exit(1));
  };
  for (const stream of [process.stdout, process.stderr]) stream.on('error', gone);
}

/** Poll GET `urlPath` until it answers 200, the process exits, or the time is up. */
export async function waitReady(child, port, timeoutMs, urlPath = '/') {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exited) return { ok: false, reason: `process ended (${child.exitInfo}) before answering` };
    const r = await probe(port, 1000, urlPath);
    if (r === 200) return { ok: true };
    last = r instanceof Error ? r.message : `HTTP ${r}`;
    await sleep(100);
  }
  return { ok: false, reason: `GET ${urlPath} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})` };
}
