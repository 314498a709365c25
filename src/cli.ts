#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { callerPath, readTuning } from './config/env.js';
import type { GatewayConfig } from './config/types.js';
import type { Logger } from './observe/log.js';
import { resolveAdminToken, type AdminToken } from './admin/token.js';
import { loadUws } from './server/uws.js';

// The config loader, logger, supervisor and demo are imported when a path needs
// them: `--check`, `--help` and a refused environment then skip most of the
// module graph (each test spawn of the CLI paid for all of it).

const USAGE = `ztgate — zero-trust API gateway

usage:
  ztgate                      run the embedded demo (gateway on 127.0.0.1:8080, demo upstream on :8081)
  ztgate --config FILE        run with FILE (or set ZTGATE_CONFIG)
  ztgate --check FILE         validate FILE and exit (0 valid, 1 invalid)
  ztgate --version | --help

tuning (environment): ZTGATE_PROCESSES, ZTGATE_WORKERS, ZTGATE_SHARDS, ZTGATE_LOG_LEVEL,
ZTGATE_DRAIN_MS, ZTGATE_CONFIG; admin API: ZTGATE_ADMIN_PORT, ZTGATE_ADMIN_ADDR,
ZTGATE_ADMIN_TOKEN or ZTGATE_ADMIN_TOKEN_FILE; see README.`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`ztgate: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) return void process.stdout.write(`${USAGE}\n`);
  if (args.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return void process.stdout.write(`ztgate ${pkg.version}\n`);
  }
  if (args.check !== undefined) return check(callerPath(args.check));

  let tuning;
  try {
    tuning = readTuning();
  } catch (err) {
    process.stderr.write(`ztgate: ${(err as Error).message}\n`);
    process.exit(2);
  }
  try {
    loadUws(); // fail here, once and clearly, rather than in every gateway process
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const { createLogger } = await import('./observe/log.js');
  const log = createLogger(tuning.logLevel, { role: 'supervisor' });
  const path = args.config !== undefined ? callerPath(args.config) : tuning.configPath;
  let admin: AdminToken | null;
  try {
    admin = resolveAdminToken(tuning.admin, !path);
  } catch (err) {
    process.stderr.write(`ztgate: ${(err as Error).message}\n`);
    process.exit(2);
  }
  // Gateway processes inherit the environment; they have no use for the admin token.
  delete process.env.ZTGATE_ADMIN_TOKEN;
  if (admin?.warning) log.warn(admin.warning);
  if (admin === null && tuning.admin.port !== 0) log.warn('admin listener off: set ZTGATE_ADMIN_TOKEN or ZTGATE_ADMIN_TOKEN_FILE to turn it on');
  if (path) return runWithFile(path, tuning, log, admin);
  void runDemo(tuning, log, admin);
}

function adminOption(tuning: ReturnType<typeof readTuning>, admin: AdminToken | null) {
  return admin === null ? null : { host: tuning.admin.addr, port: tuning.admin.port, token: admin.token };
}

async function check(path: string): Promise<void> {
  const { ConfigError, loadConfigFile } = await import('./config/load.js');
  try {
    const config = loadConfigFile(path);
    process.stdout.write(
      `${path}: valid (${config.listeners.length} listeners, ${config.upstreams.length} upstreams, ${config.routes.length} routes)\n`,
    );
    const open = config.routes.filter((r) => r.public).map((r) => `  ${r.name} (${r.match.path})`);
    if (open.length > 0) process.stdout.write(`public routes (no identity required):\n${open.join('\n')}\n`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

async function runWithFile(path: string, tuning: ReturnType<typeof readTuning>, log: Logger, admin: AdminToken | null): Promise<void> {
  const [{ ConfigError, loadConfigFile }, { Supervisor }] = await Promise.all([import('./config/load.js'), import('./server/supervisor.js')]);
  let config: GatewayConfig;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`ztgate: ${err.message}\n`);
    process.exit(1);
  }
  new Supervisor({
    tuning,
    log,
    config,
    reloadConfig: () => loadConfigFile(path),
    admin: adminOption(tuning, admin),
    onListening: (urls, adminUrl) => log.info({ urls, processes: tuning.processes, config: path, admin: adminUrl ?? undefined }, 'ztgate listening'),
  }).start();
}

async function runDemo(tuning: ReturnType<typeof readTuning>, log: Logger, admin: AdminToken | null): Promise<void> {
  const [{ demoConfig }, { startDemoUpstream }, { makeDemoCredentials }, { tourLines }, { Supervisor }] = await Promise.all([
    import('./demo/config.js'),
    import('./demo/upstream.js'),
    import('./demo/credentials.js'),
    import('./demo/tour.js'),
    import('./server/supervisor.js'),
  ]);
  const ports = tuning.demo;
  const credentials = makeDemoCredentials();
  try {
    await startDemoUpstream('127.0.0.1', ports.upstream, credentials);
  } catch (err) {
    process.stderr.write(`ztgate: demo upstream cannot listen on 127.0.0.1:${ports.upstream} (${(err as NodeJS.ErrnoException).code}); set ZTGATE_DEMO_UPSTREAM_PORT\n`);
    process.exit(1);
  }
  new Supervisor({
    tuning,
    log,
    config: demoConfig(ports, credentials),
    reloadConfig: null,
    admin: adminOption(tuning, admin),
    onListening: (urls, adminUrl) => {
      log.info({ urls, processes: tuning.processes, config: 'embedded demo', admin: adminUrl ?? undefined }, 'ztgate listening');
      const base = urls[0].url;
      process.stdout.write(
        [
          '',
          `ztgate is running the embedded demo with ${tuning.processes} process(es); supervisor PID ${process.pid}`,
          `  (kill -HUP ${process.pid} reloads a config file, kill -TERM ${process.pid} drains and stops)`,
          `  gateway:        ${base}`,
          `  demo upstream:  http://127.0.0.1:${ports.upstream} (echoes what it receives)`,
          ...tourLines(base, credentials.apiKey),
          '  run your own:   npx ztgate --config gateway.yaml (see README)',
          ...adminLines(adminUrl, admin),
          '',
        ].join('\n') + '\n',
      );
    },
  }).start();
}

/** How to reach the admin API and dashboard; the token itself is never printed, only where to read it. */
function adminLines(url: string | null, admin: AdminToken | null): string[] {
  if (url === null || admin === null) return ['  admin API:      off (see README: Admin API and dashboard)'];
  const token = admin.generatedFile ? `$(cat ${admin.generatedFile})` : admin.source === 'ZTGATE_ADMIN_TOKEN' ? '$ZTGATE_ADMIN_TOKEN' : `$(cat ${admin.source})`;
  return [
    `  admin API:      ${url} (bearer token${admin.generatedFile ? ` generated into ${admin.generatedFile}, readable by you only` : ` from ${admin.source}`})`,
    `    curl -H "Authorization: Bearer ${token}" ${url}/stats`,
    `  dashboard:      open "${url}/dashboard#token=${token}"`,
  ];
}

await main();
