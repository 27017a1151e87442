import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RoomEventTypes, type RoomEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { evolve, type Room } from './room';

/**
 * Every room, folded from the CHAT stream's `…room.*.meta` subjects by an ordered consumer
 * that starts at the beginning and then follows live. Each replica keeps its own copy; writes
 * are guarded by the expected last sequence of the room's subject, so a stale copy can only
 * cause a retry, never a wrong append.
 */
@Injectable()
export class RoomStore implements OnApplicationShutdown {
  private readonly log = new Logger(RoomStore.name);
  private readonly rooms = new Map<string, Room>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly waiters = new Set<{ roomId: string; version: number; resolve: () => void }>();
  private stopFollow?: () => Promise<void>;
  private caughtUp = false;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /** Replays all room events; resolves once the replay has reached the stream's end. */
  async start(): Promise<void> {
    const f = await this.js.follow(this.s.streams.chat.name, this.s.chat.allRoomMeta, (m) => this.onDelivered(m));
    this.stopFollow = f.stop;
    await f.caughtUp;
    this.caughtUp = true;
  }

  isCaughtUp(): boolean {
    return this.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopFollow?.();
  }

  get(roomId: string): Room | null {
    return this.rooms.get(roomId) ?? null;
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }

  roomsOf(userId: string): string[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  /**
   * Applies an event at a position. Called by the follower and, right after a successful
   * append, by the command handler (so this replica reads its own writes). Events at or below
   * the room's version were applied already and are skipped, which makes the two paths safe.
   */
  apply(event: RoomEvent, position: number): void {
    const before = this.rooms.get(event.payload.roomId) ?? null;
    if (before && position <= before.version) return;
    const after = evolve(before, event, position);
    if (!after) return;
    this.rooms.set(after.roomId, after);
    for (const id of before?.members.keys() ?? []) if (!after.members.has(id)) this.byUser.get(id)?.delete(after.roomId);
    for (const id of after.members.keys()) {
      let set = this.byUser.get(id);
      if (!set) this.byUser.set(id, (set = new Set()));
      set.add(after.roomId);
    }
    for (const w of this.waiters) {
      if (w.roomId === after.roomId && after.version >= w.version) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Waits until this replica has applied the room's events up to `version` (bounded). */
  async waitForVersion(roomId: string, version: number, timeoutMs = 2000): Promise<boolean> {
    if ((this.get(roomId)?.version ?? 0) >= version) return true;
    return new Promise<boolean>((resolve) => {
      const w = { roomId, version, resolve: () => (clearTimeout(timer), resolve(true)) };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** The room subject's last sequence as stored in JetStream (0 if the room has no events). */
  async latestVersion(roomId: string): Promise<number> {
    const last = await this.js.lastOnSubject(this.s.streams.chat.name, this.s.chat.roomMeta(roomId));
    return last?.seq ?? 0;
  }

  private onDelivered(m: Delivered): void {
    const event = m.data as RoomEvent | undefined;
    if (!event || typeof event !== 'object' || !RoomEventTypes.includes(event.type) || typeof event.payload?.roomId !== 'string') {
      this.log.warn({ msg: 'skipping malformed room event', subject: m.subject, position: m.seq });
      return;
    }
    this.apply(event, m.seq);
  }
}
