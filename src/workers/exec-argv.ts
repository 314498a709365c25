/**
 * Node options for worker-pool threads: the parent's, minus module hooks
 * (--import/--loader/--require). A test runner's TypeScript loader costs
 * seconds per thread start and the compiled workers do not need it.
 */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const hooks = /^(?:--import|--loader|--experimental-loader|--require|-r)(?:=|$)/;
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if (!hooks.test(arg)) out.push(arg);
    else if (!arg.includes('=')) i++; // skip the separate value
  }
  return out;
}
