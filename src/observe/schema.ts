/** Config schema of the `observe` section and of a route's `accessLog` override. */

export const accessLogSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', description: 'One access line per request.' },
    sample: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Share of successful (status < 400) requests logged; errors and refusals are always logged.',
    },
  },
} as const;

export const observeSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    metrics: { type: 'boolean', default: true, description: 'Per-route and per-upstream histograms and counters.' },
    accessLog: {
      ...accessLogSchema,
      default: {},
      properties: {
        enabled: { ...accessLogSchema.properties.enabled, default: true },
        sample: { ...accessLogSchema.properties.sample, default: 1 },
      },
    },
  },
} as const;

export interface AccessLogPolicy {
  enabled: boolean;
  sample: number;
}

export interface ObserveConfig {
  metrics: boolean;
  accessLog: AccessLogPolicy;
}
