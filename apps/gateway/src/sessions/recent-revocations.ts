import type { SessionRevocation } from '@chat/contracts';

/** How long a revocation is remembered for the auths that were awaiting meanwhile. */
export const RECENT_REVOCATIONS_MS = 60_000;
/** At most this many are remembered (a burst beyond it ages the oldest out early). */
export const RECENT_REVOCATIONS_MAX = 10_000;

/**
 * The revocations this gateway handled in the last minute, numbered in arrival order. An `auth`
 * reads `mark()` before its first await (the session KV check) and asks `revoked(...)` after its
 * last one: a revocation handled in between (the KV read answered "exists" just before the
 * session was deleted) is not lost, although the connection was not yet known as that session
 * when it was handled. An auth that waited longer than this memory cannot be told and is
 * answered as revoked (fail closed: the client authenticates again).
 */
export class RecentRevocations {
  private readonly entries: { seq: number; atMs: number; revocation: SessionRevocation }[] = [];
  private seq = 0;
  /** Sequence numbers up to this one were forgotten. */
  private forgotten = 0;

  constructor(
    private readonly windowMs = RECENT_REVOCATIONS_MS,
    private readonly max = RECENT_REVOCATIONS_MAX,
    private readonly now: () => number = Date.now,
  ) {}

  note(revocation: SessionRevocation): void {
    this.prune();
    this.entries.push({ seq: ++this.seq, atMs: this.now(), revocation });
    if (this.entries.length > this.max) this.forgotten = this.entries.shift()!.seq;
  }

  /** The point after which revocations concern an auth starting now. */
  mark(): number {
    return this.seq;
  }

  /**
   * The revocation (handled after `since`) that ends login session `sessionId` of `userId`, or
   * a stand-in one when some of that period is forgotten; null when none does.
   */
  revoked(userId: string, sessionId: string, since: number): SessionRevocation | null {
    this.prune();
    if (since < this.forgotten) return { userId, sessionIds: [sessionId], exceptSessionId: null, reason: 'revoked' };
    for (let i = this.entries.length - 1; i >= 0 && this.entries[i].seq > since; i--) {
      const r = this.entries[i].revocation;
      if (r.userId !== userId) continue;
      if (r.sessionIds === 'all' ? sessionId !== r.exceptSessionId : r.sessionIds.includes(sessionId)) return r;
    }
    return null;
  }

  private prune(): void {
    const horizon = this.now() - this.windowMs;
    let n = 0;
    while (n < this.entries.length && this.entries[n].atMs < horizon) n++;
    if (n === 0) return;
    this.forgotten = this.entries[n - 1].seq;
    this.entries.splice(0, n);
  }
}
