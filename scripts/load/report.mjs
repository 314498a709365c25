// The load script's result: one JSON object (stable field names, documented
// in the README) and the same as a short table.
import { fmtNum, formatTable, round } from '../lib/stats.mjs';

/** `sample` is a load generator report (scripts/lib/loadgen.mjs). */
export function buildResult({ opts, scenario, target, tool, sample, cpuSeconds, machine }) {
  return {
    scenario: opts.scenario,
    what: scenario.what,
    mode: opts.rate ? 'rate' : 'max',
    target,
    request: { method: sample.request.method, path: sample.request.path, body_bytes: sample.request.body ? Buffer.byteLength(sample.request.body) : 0 },
    settings: {
      duration_s: opts.duration,
      warmup_s: opts.warmup,
      connections: opts.connections,
      rate: opts.rate || null,
      tool: `${tool.name}${tool.version ? ` ${tool.version}` : ''}`,
      latency_source: sample.latency_source,
    },
    result: {
      requests: sample.requests,
      duration_s: round(sample.duration_s, 3),
      rps: round(sample.rps, 1),
      latency_ms: {
        p50: round(sample.p50_ms), p90: round(sample.p90_ms), p99: round(sample.p99_ms), p999: round(sample.p999_ms),
        max: round(sample.max_ms), mean: round(sample.mean_ms),
      },
      errors: {
        socket: sample.errors_socket ?? ((sample.errors_connect ?? 0) + (sample.errors_read ?? 0) + (sample.errors_write ?? 0)),
        timeout: sample.errors_timeout ?? 0,
        non2xx: sample.non2xx ?? 0,
        total: sample.errors_total ?? 0,
      },
      status: sample.status,
    },
    // CPU of the gateway process group over the measured run (only when this script started it).
    gateway_cpu_s: round(cpuSeconds, 2),
    requests_per_cpu_s: cpuSeconds ? round(sample.requests / cpuSeconds, 0) : null,
    machine,
  };
}

export function formatResult(r) {
  const l = r.result.latency_ms;
  const head = `${r.scenario} (${r.what}) → ${r.target.url}${r.target.started ? ` [started, ZTGATE_PROCESSES=${r.target.processes}]` : ''}\n` +
    `${r.mode === 'rate' ? `fixed rate ${r.settings.rate}/s` : 'maximum throughput'}, ${r.settings.connections} connections, ` +
    `${r.settings.duration_s} s, ${r.settings.tool}`;
  const table = formatTable(
    ['req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'non-2xx', 'req/CPU-s'],
    [[
      Math.round(r.result.rps).toString(), fmtNum(l.p50, 3), fmtNum(l.p90, 3), fmtNum(l.p99, 3), fmtNum(l.p999, 3), fmtNum(l.max, 3),
      String(r.result.errors.socket + r.result.errors.timeout), String(r.result.errors.non2xx),
      r.requests_per_cpu_s == null ? '-' : String(r.requests_per_cpu_s),
    ]],
  );
  return `${head}\n${table}\n`;
}
