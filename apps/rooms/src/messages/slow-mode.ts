import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Limits, decodeChatEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';

/**
 * When each user last posted in each room (ms since epoch, the stored MessagePosted's time),
 * for slow mode (decidePost). Room state is folded from `…room.*.meta`, but messages live on
 * `…room.*.msg`, which the room store does not fold (it would mean replaying every message ever
 * sent). So every rooms replica keeps this map itself, fed from two sides:
 * - what this replica stores (`note`, right after the append's ack), so its own next decision
 *   sees its own last post at once;
 * - what it sees on the stream: an ordered consumer on `…room.*.msg`, starting
 *   `Limits.slowModeSecondsMax` before start-up (older posts can never hold a sender back) and
 *   then following live, so a post stored by another replica counts here too and two replicas
 *   agree once each has seen it.
 * Not exact across replicas at the same millisecond: two sends of one user handled by two
 * replicas before either sees the other's post may both pass (as may two concurrent sends on
 * one replica, both decided before either is stored). Slow mode is a pace for people, not a
 * hard quota; the per-connection request rate limit of the gateway stays in front of it.
 * Entries older than the longest slow mode are dropped as the map is swept.
 */
@Injectable()
export class SlowModeClock implements OnApplicationShutdown {
  private readonly last = new Map<string, number>();
  private stopFollow?: () => Promise<void>;
  private sweptAt = Date.now();

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /** Reads the posts of the last `slowModeSecondsMax`, then keeps following; resolves once caught up. */
  async start(): Promise<void> {
    const since = new Date(Date.now() - Limits.slowModeSecondsMax * 1000);
    const f = await this.js.follow(this.s.streams.chat.name, this.s.chat.allRoomMessages, (m) => this.onMessage(m), since);
    this.stopFollow = f.stop;
    await f.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopFollow?.();
  }

  /** The sender's last post in the room, or null when none is known within the longest slow mode. */
  lastPost(roomId: string, userId: string): number | null {
    return this.last.get(key(roomId, userId)) ?? null;
  }

  /** A post stored at `time` (ISO): kept if later than what is known. */
  note(roomId: string, userId: string, time: string): void {
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) return;
    const k = key(roomId, userId);
    if ((this.last.get(k) ?? 0) < ms) this.last.set(k, ms);
    this.sweep();
  }

  private onMessage(m: Delivered): void {
    const decoded = decodeChatEvent(m.raw ?? m.data);
    if (decoded.ok && decoded.event.type === 'MessagePosted') {
      const p = decoded.event.payload;
      this.note(p.roomId, p.senderId, decoded.event.time);
    }
  }

  /** At most once a minute, forgets posts older than the longest slow mode. */
  private sweep(now = Date.now()): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    const horizon = now - Limits.slowModeSecondsMax * 1000;
    for (const [k, ms] of this.last) if (ms < horizon) this.last.delete(k);
  }
}

const key = (roomId: string, userId: string) => `${roomId}\u0000${userId}`;
