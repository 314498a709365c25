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
      description: 'Headers to add, replacing any of the same name (names are case-insensitive; values are visible ASCII and tabs).',
      type: 'object',
      propertyNames: { pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' },
      additionalProperties: { type: 'string', pattern: '^[\\t\\x20-\\x7e]*$', description: 'Value of the header.' },
    },
    remove: { type: 'array', items: { type: 'string', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' }, description: 'Names of headers to remove (case-insensitive); removal happens before `set`.' },
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
    description: 'Adds, replaces or removes request headers before they go upstream and response headers before they go to the client.',
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: 'headers', description: 'Selects the headers stage.' },
      request: { ...editsSchema, description: 'Edits of the request headers sent upstream.' },
      response: { ...editsSchema, description: 'Edits of the response headers sent to the client.' },
    },
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
