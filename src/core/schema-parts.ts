/** JSON Schema fragments shared by the config sections. */

export const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' };

/** A secret from the environment or a file, never inline. */
export const secretRef = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['env'], properties: { env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Name of the environment variable that holds the secret; it must be set and not empty.' } } },
    { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string', minLength: 1, description: 'Path of a file that holds the secret (relative paths resolve against the config file\'s folder); trailing whitespace and newlines are dropped.' } } },
  ],
};
