import { scanBody, type ScanResult, type ScanTask } from './scan.js';

/** piscina task: PII scan of one large body, off the event loop. */
export default function scan(task: ScanTask): ScanResult {
  return scanBody(task);
}
