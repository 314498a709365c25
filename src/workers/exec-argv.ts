import { Worker } from 'node:worker_threads';

let cached: string[] | null = null;

/**
 * Node options for worker-pool threads: the parent's, minus module hooks
 * (--import/--loader/--require), and minus what a thread refuses. A test runner's
 * TypeScript loader costs seconds per thread start and the compiled workers do not
 * need it; V8 and process-wide flags (`--max-old-space-size`, `--trace-gc`, `--title`)
 * make `new Worker` throw, so a gateway started with them could not start its pools.
 */
export function workerExecArgv(): string[] {
  if (cached === null) {
    const out: string[] = [];
    const hooks = /^(?:--import|--loader|--experimental-loader|--require|-r)(?:=|$)/;
    for (let i = 0; i < process.execArgv.length; i++) {
      const arg = process.execArgv[i]!;
      if (!hooks.test(arg)) out.push(arg);
      else if (!arg.includes('=')) i++; // skip the separate value
    }
    cached = out.length === 0 ? out : withoutRefused(out);
  }
  return cached.slice();
}

/**
 * Which flags a thread refuses is Node's to say: one probe at start (only when the
 * process has flags at all), its error names them ("...invalid execArgv flags: a, b").
 */
function withoutRefused(args: string[]): string[] {
  try {
    void new Worker('', { eval: true, execArgv: args }).terminate();
    return args;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    const list = e.message.slice(e.message.indexOf('flags:') + 6); // a flag may hold ':' itself (--inspect=host:port)
    const refused = new Set(list.split(',').map((s) => s.trim()));
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (!refused.has(args[i]!)) out.push(args[i]!);
      else if (!args[i]!.includes('=') && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) i++; // its value
    }
    return out;
  }
}
