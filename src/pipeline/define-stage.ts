import type { GatewayConfig } from '../config/types.js';
import type { Stage, StageContext, StageFactory } from './stage.js';

/** One option's JSON Schema: any keywords, and always a description (published in config.schema.json). */
export interface OptionSchema {
  readonly description: string;
  readonly [keyword: string]: unknown;
}

/**
 * The JSON Schema of a stage's options, tied to their TypeScript type: one
 * described property per option of `O` (no more, no fewer), the stage's `type`
 * constant, and the required ones named from `O`.
 */
export interface OptionsSchema<O> {
  readonly type: 'object';
  readonly description?: string;
  readonly additionalProperties: false;
  readonly required: readonly ('type' | RequiredKeys<O>)[];
  readonly properties: { readonly type: { readonly const: string } } & { readonly [K in keyof O]-?: OptionSchema };
}

type RequiredKeys<O> = { [K in keyof O]-?: undefined extends O[K] ? never : K }[keyof O] & string;

/** A stage type as its module writes it: options typed once, schema beside them. */
export interface StageDefinition<O> {
  readonly type: string;
  readonly schema: OptionsSchema<O>;
  /** Cross-checks against the rest of the config at load; returns `field: reason` issues. */
  validate?(options: O, config: GatewayConfig): string[];
  compile(options: O, context: StageContext): Stage;
}

/**
 * A stage type for the registry. The options a route gives reach `validate`
 * and `compile` typed as `O`: the config loader validated them against
 * `schema` (with its defaults filled in) before either runs, which is what
 * makes the one conversion below sound.
 */
export function defineStage<O>(definition: StageDefinition<O>): StageFactory {
  const typed = (options: Record<string, unknown>) => options as O;
  const check = definition.validate;
  return {
    type: definition.type,
    schema: withTypeDescribed(definition.type, definition.schema as unknown as Record<string, unknown>),
    validate: check ? (options, config) => check(typed(options), config) : undefined,
    compile: (options, context) => definition.compile(typed(options), context),
  };
}

/** The `type` constant described like every other field (editors show it on hover). */
function withTypeDescribed(type: string, schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  if (properties.type?.description) return schema;
  return { ...schema, properties: { ...properties, type: { ...properties.type, description: `Selects the ${type} stage.` } } };
}
