import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

/**
 * What the embedded demo makes at start and forgets at exit: an API key for
 * its demo consumer (the config holds only its digest, as a real config
 * would) and the ES256 key pair of its demo issuer (the config holds the
 * public JWK; the demo upstream signs tokens with the private key).
 */
export interface DemoCredentials {
  apiKey: string;
  apiKeySha256: string;
  issuer: string;
  audience: string;
  keyId: string;
  publicJwk: Record<string, unknown>;
  privateKey: KeyObject;
}

export function makeDemoCredentials(): DemoCredentials {
  const apiKey = `demo-${randomBytes(18).toString('base64url')}`;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyId = `demo-${randomBytes(4).toString('hex')}`;
  return {
    apiKey,
    apiKeySha256: createHash('sha256').update(apiKey).digest('hex'),
    issuer: 'https://demo.ztgate.invalid',
    audience: 'ztgate-demo',
    keyId,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid: keyId, alg: 'ES256', use: 'sig' },
    privateKey,
  };
}
