import type { Stage, RequestContext, ResponseContext } from '../pipeline/stage.js';
import { defineStage, type OptionsSchema } from '../pipeline/define-stage.js';

interface HeaderEdits {
  set?: Record<string, string>;
  remove?: string[];
}

export interface HeadersOptions {
  request?: HeaderEdits;
  response?: HeaderEdits;
}

const NAME = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$';

const editsSchema = (side: string) => ({
  type: 'object',
  description: `Edits of the ${side} headers: removals first, then the values set.`,
  additionalProperties: false,
  properties: {
    set: {
      type: 'object',
      description: 'Header names (case-insensitive) and the value each is set to, replacing any the message had.',
      propertyNames: { pattern: NAME },
      // writeOnly: a value set here may be a credential for the service; /config does not show it.
      additionalProperties: { type: 'string', pattern: '^[\\t\\x20-\\x7e]*$', writeOnly: true },
    },
    remove: { type: 'array', description: 'Header names (case-insensitive) removed.', items: { type: 'string', pattern: NAME } },
  },
});

const schema: OptionsSchema<HeadersOptions> = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { const: 'headers' },
    request: editsSchema('request (before it goes upstream)'),
    response: editsSchema('response (before it goes to the client)'),
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
export const headersStage = defineStage<HeadersOptions>({
  type: 'headers',
  schema,
  compile(options): Stage {
    const onReq = compileEdits(options.request);
    const onRes = compileEdits(options.response);
    return {
      name: 'headers',
      onRequest: onReq ? (ctx: RequestContext) => void onReq(ctx.headers) : undefined,
      onResponse: onRes ? (_ctx: RequestContext, res: ResponseContext) => void onRes(res.headers) : undefined,
    };
  },
});
