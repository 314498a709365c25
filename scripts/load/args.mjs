// Command line of `npm run load -- <scenario> [options]`: parsed strictly,
// every bad value refused with a message naming the option (exit 2).
import { parseArgs } from 'node:util';
import { SCENARIOS, DISTINCT_TOKENS_DEFAULT } from '../lib/scenarios.mjs';

export const USAGE = `usage: npm run load -- <scenario> [options]

scenarios:
${Object.entries(SCENARIOS).map(([n, s]) => `  ${n.padEnd(14)} ${s.what}`).join('\n')}

options:
  --duration S       seconds measured (default 10)
  --warmup S         seconds of unrecorded load first (default 2, 0 = none)
  --connections N    concurrent keep-alive connections (default 64)
  --rate N           fixed rate: N requests/s in all instead of maximum throughput (wrk: each connection
                     pauses connections/N s after an answer; autocannon: overallRate, coordinated-omission corrected)
  --tool T           auto | autocannon | wrk (default auto: wrk when installed, autocannon otherwise)
  --threads N        wrk threads (default 1)
  --processes N      ZTGATE_PROCESSES of the gateway started (default 1)
  --log-level L      ZTGATE_LOG_LEVEL of the gateway started (default warn: no access lines; info writes one
                     a request, to a pipe this script drains)
  --url URL          load a running gateway instead of starting one (e.g. http://127.0.0.1:8080)
  --header 'K: V'    extra request header (repeatable), e.g. the credential a running gateway wants
  --token T          bearer token for the jwt scenarios with --url
  --tokens-file F    file of tokens, one a line, for jwt-distinct with --url
  --distinct N       distinct tokens signed for jwt-distinct (default ${DISTINCT_TOKENS_DEFAULT})
  --json             print the JSON result on stdout instead of the table
  --out FILE         where the JSON goes (default native-bench/results/load-<scenario>.json; '-' = nowhere)
  --profile DIR      run the gateway's processes under node --cpu-prof, profiles written to DIR, and print
                     where the gateway process spent its samples (scripts/profile-summary.mjs)
`;

export class UsageError extends Error {}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function num(name, raw, { min, integer = true, def }) {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)}: want ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return v;
}

export function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        rate: { type: 'string' },
        tool: { type: 'string' },
        threads: { type: 'string' },
        processes: { type: 'string' },
        'log-level': { type: 'string' },
        url: { type: 'string' },
        header: { type: 'string', multiple: true },
        token: { type: 'string' },
        'tokens-file': { type: 'string' },
        distinct: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        profile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return { help: true };
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one scenario at a time (got ${positionals.join(' ')})` : 'no scenario named');
  const scenario = positionals[0];
  if (!Object.hasOwn(SCENARIOS, scenario)) throw new UsageError(`unknown scenario "${scenario}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const tool = v.tool ?? 'auto';
  if (!['auto', 'autocannon', 'wrk'].includes(tool)) throw new UsageError(`--tool ${JSON.stringify(tool)}: want auto, autocannon or wrk`);
  const logLevel = v['log-level'] ?? 'warn';
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level ${JSON.stringify(logLevel)}: want one of ${LOG_LEVELS.join(', ')}`);
  const rate = num('rate', v.rate, { min: 1, def: 0 });
  const headers = {};
  for (const h of v.header ?? []) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n]*)$/.exec(h);
    if (!m) throw new UsageError(`--header ${JSON.stringify(h)}: want 'Name: value'`);
    headers[m[1].toLowerCase()] = m[2];
  }
  let url = null;
  if (v.url !== undefined) {
    try {
      url = new URL(v.url);
    } catch {
      throw new UsageError(`--url ${JSON.stringify(v.url)}: not a URL`);
    }
    if (url.protocol !== 'http:') throw new UsageError(`--url ${v.url}: only http:// is supported`);
    url = url.origin;
  }
  const opts = {
    scenario,
    url,
    tool,
    rate,
    headers,
    duration: num('duration', v.duration, { min: 1, def: 10 }),
    warmup: num('warmup', v.warmup, { min: 0, integer: false, def: 2 }),
    connections: num('connections', v.connections, { min: 1, def: 64 }),
    threads: num('threads', v.threads, { min: 1, def: 1 }),
    processes: num('processes', v.processes, { min: 1, def: 1 }),
    logLevel,
    distinct: num('distinct', v.distinct, { min: 1, def: DISTINCT_TOKENS_DEFAULT }),
    token: v.token ?? null,
    tokensFile: v['tokens-file'] ?? null,
    json: Boolean(v.json),
    out: v.out ?? null,
    profile: v.profile ?? null,
  };
  if (url && v['log-level'] !== undefined) throw new UsageError('--log-level needs a gateway this script starts (not --url)');
  if (url && opts.profile) throw new UsageError('--profile needs a gateway this script starts (not --url)');
  if (url && (scenario === 'jwt' || scenario === 'jwt-ratelimit' || scenario === 'full') && !opts.token && !headers.authorization) {
    throw new UsageError(`${scenario} against --url needs --token (or --header 'Authorization: Bearer ...')`);
  }
  if (url && scenario === 'jwt-distinct' && !opts.tokensFile) throw new UsageError('jwt-distinct against --url needs --tokens-file');
  return opts;
}
