/**
 * Piscina worker: verifies a batch of asymmetric JWTs. Loaded from dist as
 * `verify-worker.js`. Each public JWK is imported once per worker (cached by
 * issuer + kid + thumbprint + alg).
 */
import { workerData } from 'node:worker_threads';
import { KeyImporter, verifyItem, type ClaimRules, type VerifyItem, type VerifyOutcome, type VerifyWorkerData } from './verify-core.js';

const rules = new Map<string, ClaimRules>(Object.entries((workerData as VerifyWorkerData).rules));
const importer = new KeyImporter();

export default async function verifyBatch(items: VerifyItem[]): Promise<VerifyOutcome[]> {
  // Concurrently: jose's WebCrypto calls complete asynchronously.
  return Promise.all(items.map((item) => verifyItem(item, rules, importer)));
}
