import type { StageFactory, Stage, RequestContext, ResponseContext } from '../stage.js';

interface HeaderEdits {
  set?: Record<string, string>;
  remove?: string[];
}

const editsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    set: {
      type: 'object',
      propertyNames: { pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' },
      additionalProperties: { type: 'string', pattern: '^[\\t\\x20-\\x7e]*$' },
    },
    remove: { type: 'array', items: { type: 'string', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' } },
  },
};

function compileEdits(edits: HeaderEdits | undefined): ((list: { set(n: string, v: string): void; remove(n: string): void }) => void) | undefined {
  if (!edits) return undefined;
  const remove = (edits.remove ?? []).map((n) => n.toLowerCase());
  const set = Object.entries(edits.set ?? {}).map(([n, v]) => [n.toLowerCase(), v] as const);
  return (list) => {
    for (const name of remove) list.remove(name);
    for (const [name, value] of set) list.set(name, value);
  };
}

/** Adds, replaces or removes request and response headers. */
export const headersStage: StageFactory = {
  type: 'headers',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: { type: { const: 'headers' }, request: editsSchema, response: editsSchema },
  },
  compile(options): Stage {
    const onReq = compileEdits(options.request as HeaderEdits | undefined);
    const onRes = compileEdits(options.response as HeaderEdits | undefined);
    return {
      name: 'headers',
      onRequest: onReq ? (ctx: RequestContext) => void onReq(ctx.headers) : undefined,
      onResponse: onRes ? (_ctx: RequestContext, res: ResponseContext) => void onRes(res.headers) : undefined,
    };
  },
};
