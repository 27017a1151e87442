/**
 * Per-user token buckets: a sender may send `burst` messages at once, then `ratePerS` a second
 * (the bucket refills continuously up to `burst`). A send takes one token; with none left the
 * answer says when the next one will be there. Time is given by the caller (ms), so this is
 * pure and testable. Kept in memory by each moderation replica: with several replicas behind
 * the queue group each sees only the sends it checks, so a user's effective limit is at most
 * the replica count times the configured one (a pace against spam bursts, not a quota; the
 * gateway's per-connection request limit stands in front of it). `ratePerS` 0 turns it off.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {}

  /** Takes a token for `key`, or says in how many ms one will be there. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (this.ratePerS <= 0) return { ok: true };
    this.sweep(now);
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) * this.ratePerS) / 1000) : this.burst;
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((1 - tokens) * 1000) / this.ratePerS)) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return { ok: true };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** At most once a minute, forgets buckets that have refilled (a full bucket is the same as none). */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    const fullAfterMs = (this.burst * 1000) / this.ratePerS;
    for (const [k, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(k);
  }
}
