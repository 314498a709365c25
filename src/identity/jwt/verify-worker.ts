/**
 * Piscina worker: checks the signatures of a batch of asymmetric JWTs with
 * node:crypto, synchronously. Loaded from dist as `verify-worker.js`. Each
 * public JWK is prepared once per worker (by issuer + kid + thumbprint + alg).
 */
import { SigningKeys } from './signature.js';
import { checkBatch, type SignatureBatch, type SignatureOutcome } from './verify-core.js';

const keys = new SigningKeys();

export default function verifyBatch(batch: SignatureBatch): SignatureOutcome[] {
  return checkBatch(batch, keys);
}
