/** A token bucket's state, kept on each session. */
export interface Bucket {
  rateTokens: number;
  /** When `rateTokens` was last brought up to date; 0: never (the bucket starts full). */
  rateAtMs: number;
}

/**
 * Takes one token from the bucket (refilled at `perS` per second up to `burst`). Returns 0 when
 * the request may go ahead, else the ms until a token is there (the client's retry hint). Pure
 * but for the bucket it updates.
 */
export function takeToken(bucket: Bucket, nowMs: number, perS: number, burst: number): number {
  if (bucket.rateAtMs === 0) bucket.rateTokens = burst;
  else bucket.rateTokens = Math.min(burst, bucket.rateTokens + ((nowMs - bucket.rateAtMs) * perS) / 1000);
  bucket.rateAtMs = nowMs;
  if (bucket.rateTokens >= 1) {
    bucket.rateTokens -= 1;
    return 0;
  }
  return Math.max(1, Math.ceil(((1 - bucket.rateTokens) * 1000) / perS));
}
