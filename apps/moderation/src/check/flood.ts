import { skeleton } from '../rules/text/normalise';

/**
 * Texts shorter than this (in skeleton characters: letters and digits once folded, a stretched
 * letter counted once) are not tracked: "hi", "ok", "谢谢" said in three rooms are greetings,
 * not a flood.
 */
export const FLOOD_MIN_CHARS = 5;
/** Recent sends kept per user (bounds memory whatever the window). */
const KEPT_PER_USER = 64;

/**
 * The key a text is compared by: its word-list skeleton (see rules/text/normalise.ts), so case,
 * width, invisible characters, look-alikes, punctuation and spacing do not make the same text
 * look different ("Buy NOW!!" and "buy now" are one text), in Chinese too. null: too short.
 */
export function floodKey(text: string): string | null {
  const key = skeleton(text).text;
  return key.length >= FLOOD_MIN_CHARS ? key : null;
}

/**
 * Flood detection: the same text from one user in `rooms` or more distinct rooms within
 * `windowMs` is a flood. Each send is noted (refused ones too: going on is still flooding) and
 * the answer says whether this one makes a flood and when it would not any more (when the
 * oldest of the rooms that make it leaves the window). Time is given by the caller (ms): pure.
 * Kept in memory per replica, like the token buckets.
 */
export class FloodTracker {
  private readonly recent = new Map<string, Array<{ key: string; roomId: string; at: number }>>();
  private sweptAt = 0;

  constructor(
    private readonly rooms: number,
    private readonly windowMs: number,
  ) {}

  note(userId: string, roomId: string, text: string, now: number): { flood: false } | { flood: true; rooms: number; retryAfterMs: number } {
    this.sweep(now);
    const key = floodKey(text);
    if (key === null) return { flood: false };
    const since = now - this.windowMs;
    const mine = (this.recent.get(userId) ?? []).filter((e) => e.at > since);
    // The latest time of the same text in each other room.
    const others = new Map<string, number>();
    for (const e of mine) if (e.key === key && e.roomId !== roomId) others.set(e.roomId, Math.max(others.get(e.roomId) ?? 0, e.at));
    mine.push({ key, roomId, at: now });
    this.recent.set(userId, mine.slice(-KEPT_PER_USER));
    if (others.size + 1 < this.rooms) return { flood: false };
    // It stops being a flood once fewer than rooms-1 other rooms are left in the window.
    const times = [...others.values()].sort((a, b) => b - a);
    const limiting = times[this.rooms - 2];
    return { flood: true, rooms: others.size + 1, retryAfterMs: Math.max(1, limiting + this.windowMs - now) };
  }

  /** At most once a minute, forgets users whose sends all left the window. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [u, es] of this.recent) if (!es.some((e) => e.at > now - this.windowMs)) this.recent.delete(u);
  }
}
