import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as UWS from 'uWebSockets.js';

export type { UWS };

/** uWS.js exposes the peer certificate at run time but its .d.ts does not declare it. */
export interface HttpResponseWithCert extends UWS.HttpResponse {
  getX509Certificate(): string | ArrayBuffer;
}

let loaded: typeof UWS | undefined;

/**
 * Loads the native uWebSockets.js binding, or explains exactly why it cannot.
 * There is no fallback: a slow JavaScript stand-in would silently void every
 * performance promise the gateway makes.
 */
export function loadUws(): typeof UWS {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = require('uWebSockets.js') as typeof UWS;
    // Pre-6.x builds or a broken install may load but lack the API we use.
    if (typeof loaded.App !== 'function' || typeof loaded.SSLApp !== 'function') {
      throw new Error('module loaded but App/SSLApp are missing');
    }
    return loaded;
  } catch (err) {
    throw new Error(explainLoadFailure(err, bindingDir(require), process.versions.modules, glibcVersion()));
  }
}

/** Node's module ABI → its major version, for the builds the pinned package ships. */
const NODE_OF_ABI: Record<string, number> = { '108': 18, '115': 20, '127': 22, '131': 23, '137': 24, '141': 25, '147': 26 };

/**
 * The one line that says why the binding did not load. The package's own
 * message ends in a require stack, so its last line named a file, not the
 * cause: look at what the package ships for this ABI instead.
 */
export function explainLoadFailure(err: unknown, dir: string | null, abi: string, glibc: string | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  const binary = `uws_${process.platform}_${process.arch}_${abi}.node`;
  const node = `Node ${process.version} (ABI ${abi}), ${process.platform}-${process.arch}, glibc ${glibc ?? 'unknown'}`;
  let cause: string;
  const needGlibc = /GLIBC_([0-9.]+)' not found/.exec(message)?.[1];
  const shipped = dir === null ? [] : safeList(dir).filter((f) => f.startsWith(`uws_${process.platform}_${process.arch}_`));
  if (needGlibc) cause = `${binary} needs glibc ${needGlibc} or newer; this system has ${glibc ?? 'an older one'}`;
  else if (dir !== null && !shipped.includes(binary)) {
    const nodes = shipped.map((f) => NODE_OF_ABI[/_(\d+)\.node$/.exec(f)?.[1] ?? ''] ?? f).join(', ');
    cause = `the installed build has no binary for this Node.js (no ${binary}; it ships Node ${nodes || 'none for this platform'})`;
  } else cause = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return [
    'ztgate: the native uWebSockets.js binding could not be loaded, and ztgate never runs without it.',
    `  ${node}`,
    `  cause: ${cause}`,
    '  fix: use Node.js 20 or 22 (18 and 23 work too) on glibc 2.27 or newer; Node 24 and 25 need glibc 2.38;',
    '       Node 26 has no build yet. Then run `npm install` again (package.json pins "uWebSockets.js": "npm:@based/uws@6.0.1").',
  ].join('\n');
}

function bindingDir(require: NodeJS.Require): string | null {
  try {
    return dirname(require.resolve('uWebSockets.js')); // uws.js sits beside the binaries
  } catch {
    return null;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}
