/** A detector finding: a rule id, its anomaly score, and the lowest sensitivity level it is enabled at. */
export interface Finding {
  rule: string;
  score: number;
  level: 1 | 2 | 3 | 4;
}

/** Anomaly scores, as in the OWASP Core Rule Set. */
export const CRITICAL = 5;
export const ERROR = 4;
export const WARNING = 3;
export const NOTICE = 2;
