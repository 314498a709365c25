import type { GatewayConfig } from '../config/types.js';
import { labelOf, type MergedFamily, type MergedMetrics } from '../observe/metrics-merge.js';
import { percentiles } from './live.js';
import { FAMILY } from './names.js';
import type { ProcessState } from './stats.js';

/** What only the supervisor knows, as families beside the merged ones in /metrics. */
export function supervisorFamilies(
  p: ProcessState,
  reloads: { applied: number; rejected: number; failed: number },
): [string, { kind: 'counter' | 'gauge'; family: MergedFamily<number> }][] {
  const one = (help: string, value: number): MergedFamily<number> => ({ help, labels: [], series: new Map([['', { labels: [], value }]]) });
  return [
    ['ztgate_processes_configured', { kind: 'gauge', family: one('Gateway processes the supervisor keeps running (ZTGATE_PROCESSES).', p.configured) }],
    ['ztgate_processes_up', { kind: 'gauge', family: one('Gateway processes alive now.', p.up) }],
    ['ztgate_processes_listening', { kind: 'gauge', family: one('Gateway processes listening now.', p.listening) }],
    ['ztgate_process_restarts_total', { kind: 'counter', family: one('Gateway processes restarted after an unexpected exit.', p.restarts) }],
    ['ztgate_config_generation', { kind: 'gauge', family: one('Config generation running (0: as started; +1 per accepted reload).', p.configGeneration) }],
    [
      'ztgate_config_reloads_total',
      {
        kind: 'counter',
        family: {
          help: 'Config reloads (SIGHUP or POST /reload) by outcome.',
          labels: ['outcome'],
          series: new Map(Object.entries(reloads).map(([k, v]) => [k, { labels: [k], value: v }])),
        },
      },
    ],
  ];
}

/** Per upstream: p99 of the upstream's time (ms, since start) and target health when reported. */
export function upstreamSummary(m: MergedMetrics, config: GatewayConfig): { upstream: string; p99: number | null; targets: Record<string, boolean> | null }[] {
  const latency = m.histograms.get(FAMILY.upstream);
  const healthy = m.gauges.get(FAMILY.upstreamHealthy);
  return config.upstreams.map((u) => {
    let p99: number | null = null;
    if (latency) for (const s of latency.series.values()) if (labelOf(latency.labels, s.labels, 'upstream') === u.name) p99 = percentiles(s.value)?.p99 ?? null;
    let targets: Record<string, boolean> | null = null;
    if (healthy) {
      for (const s of healthy.series.values()) {
        if (labelOf(healthy.labels, s.labels, 'upstream') !== u.name) continue;
        targets ??= {};
        const t = labelOf(healthy.labels, s.labels, 'target') || u.name;
        targets[t] = (targets[t] ?? true) && s.value > 0;
      }
    }
    return { upstream: u.name, p99, targets };
  });
}
