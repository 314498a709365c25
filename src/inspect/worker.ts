import { scanRequest, type ScanFinding, type ScanInput } from './request-scan.js';

/** piscina task: inspection of one large request, off the event loop. */
export default function scan(input: ScanInput): ScanFinding[] {
  return scanRequest(input);
}
