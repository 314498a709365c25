#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readTuning } from './config/env.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { GatewayConfig } from './config/types.js';
import { demoConfig, demoPorts } from './demo/config.js';
import { startDemoUpstream } from './demo/upstream.js';
import { createLogger } from './observe/log.js';
import { loadUws } from './server/uws.js';
import { Supervisor } from './server/supervisor.js';

const USAGE = `ztgate — zero-trust API gateway

usage:
  ztgate                      run the embedded demo (gateway on 127.0.0.1:8080, demo upstream on :8081)
  ztgate --config FILE        run with FILE (or set ZTGATE_CONFIG)
  ztgate --check FILE         validate FILE and exit (0 valid, 1 invalid)
  ztgate --version | --help

tuning (environment): ZTGATE_PROCESSES, ZTGATE_WORKERS, ZTGATE_SHARDS, ZTGATE_LOG_LEVEL,
ZTGATE_DRAIN_MS, ZTGATE_CONFIG; see README.`;

function main(): void {
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
  if (args.check !== undefined) return check(args.check);

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
  const log = createLogger(tuning.logLevel, { role: 'supervisor' });
  const path = args.config ?? tuning.configPath;
  if (path) return void runWithFile(path, tuning, log);
  void runDemo(tuning, log);
}

function check(path: string): void {
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

function runWithFile(path: string, tuning: ReturnType<typeof readTuning>, log: ReturnType<typeof createLogger>): void {
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
    onListening: (urls) => log.info({ urls, processes: tuning.processes, config: path }, 'ztgate listening'),
  }).start();
}

async function runDemo(tuning: ReturnType<typeof readTuning>, log: ReturnType<typeof createLogger>): Promise<void> {
  const ports = demoPorts();
  try {
    await startDemoUpstream('127.0.0.1', ports.upstream);
  } catch (err) {
    process.stderr.write(`ztgate: demo upstream cannot listen on 127.0.0.1:${ports.upstream} (${(err as NodeJS.ErrnoException).code}); set ZTGATE_DEMO_UPSTREAM_PORT\n`);
    process.exit(1);
  }
  new Supervisor({
    tuning,
    log,
    config: demoConfig(ports),
    reloadConfig: null,
    onListening: (urls) => {
      log.info({ urls, processes: tuning.processes, config: 'embedded demo' }, 'ztgate listening');
      const base = urls[0].url;
      process.stdout.write(
        [
          '',
          `ztgate is running the embedded demo with ${tuning.processes} process(es).`,
          `  gateway:        ${base}`,
          `  demo upstream:  http://127.0.0.1:${ports.upstream} (echoes what it receives)`,
          '  try:',
          `    curl -i ${base}/api/hello?name=ztgate`,
          `    curl -i ${base}/health`,
          '  run your own:   ztgate --config gateway.yaml (see README)',
          '',
        ].join('\n') + '\n',
      );
    },
  }).start();
}

main();
