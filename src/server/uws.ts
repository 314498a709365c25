import { createRequire } from 'node:module';
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
    const detail = err instanceof Error ? err.message.split('\n').slice(-1)[0] : String(err);
    throw new Error(
      [
        'ztgate: the native uWebSockets.js binding could not be loaded, and ztgate never runs without it.',
        `  Node ${process.version} (ABI ${process.versions.modules}), ${process.platform}-${process.arch}, ` +
          `glibc ${glibcVersion() ?? 'unknown'}`,
        `  cause: ${detail}`,
        '  fix: use Node.js 18, 20, 22 or 23 on glibc Linux x64/arm64, macOS or Windows, then run `npm install` again',
        '       (package.json pins "uWebSockets.js": "npm:@based/uws@6.0.1"; see README "uWebSockets.js build").',
      ].join('\n'),
    );
  }
}

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}
