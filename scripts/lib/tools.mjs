// The native tools of the comparison (wrk, nginx, haproxy): found on PATH or
// in the sbin directories, installed by scripts/install-bench-tools.sh when
// one that is wanted is missing.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, findBin, log } from './procs.mjs';

const INSTALL_SH = path.join(ROOT, 'scripts', 'install-bench-tools.sh');

export function detectTools() {
  return { wrk: findBin('wrk'), nginx: findBin('nginx'), haproxy: findBin('haproxy') };
}

/** `want`: { nginx, haproxy } booleans; wrk is always wanted. */
export function ensureTools(want) {
  let tools = detectTools();
  const missing = [!tools.wrk && 'wrk', want.nginx && !tools.nginx && 'nginx', want.haproxy && !tools.haproxy && 'haproxy'].filter(Boolean);
  if (missing.length) {
    log(`missing: ${missing.join(', ')}; running scripts/install-bench-tools.sh`);
    const r = spawnSync('bash', [INSTALL_SH], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0) log(`install-bench-tools.sh exited with ${r.status ?? r.signal}; going on with what is present`);
    tools = detectTools();
  }
  return tools;
}
