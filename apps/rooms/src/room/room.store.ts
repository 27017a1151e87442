import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { decodeChatEvent, isRoomEvent, type RoomEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { evolve, type Room } from './room';

/**
 * Every room, folded from the CHAT stream's `…room.*.meta` subjects by an ordered consumer
 * that starts at the beginning and then follows live. Each replica keeps its own copy; writes
 * are guarded by the expected last sequence of the room's subject, so a stale copy can only
 * cause a retry, never a wrong append.
 *
 * The version of a room is the sequence of the last event on its subject, whatever that event
 * is: an event this version does not understand (a type added by a newer replica during a
 * rolling deploy, or a malformed one) changes nothing in the room but still moves the version,
 * or every later write would expect a sequence the subject has left behind and fail forever.
 */
@Injectable()
export class RoomStore implements OnApplicationShutdown {
  private readonly log = new Logger(RoomStore.name);
  private readonly rooms = new Map<string, Room>();
  /** Last sequence seen on each room's subject, including rooms without state yet. */
  private readonly versions = new Map<string, number>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly waiters = new Set<{ roomId: string; version: number; resolve: () => void }>();
  private readonly unknownTypes = new Set<string>();
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

  /** The sequence of the last event on the room's subject this replica has applied (0: none). */
  versionOf(roomId: string): number {
    return this.versions.get(roomId) ?? 0;
  }

  /**
   * Applies the event at `position` on the room's subject; null stands for an event this
   * version does not understand, which only moves the version. Called by the follower and,
   * right after a successful append, by the command handler (so this replica reads its own
   * writes). Positions at or below the room's version were applied already and are skipped,
   * which makes the two paths safe.
   */
  apply(roomId: string, event: RoomEvent | null, position: number): void {
    if (position <= this.versionOf(roomId)) return;
    this.versions.set(roomId, position);
    const before = this.rooms.get(roomId) ?? null;
    const after = event ? evolve(before, event, position) : before && { ...before, version: position };
    if (after) {
      this.rooms.set(roomId, after);
      for (const id of before?.members.keys() ?? []) if (!after.members.has(id)) this.byUser.get(id)?.delete(roomId);
      for (const id of after.members.keys()) {
        let set = this.byUser.get(id);
        if (!set) this.byUser.set(id, (set = new Set()));
        set.add(roomId);
      }
    }
    for (const w of this.waiters) {
      if (w.roomId === roomId && position >= w.version) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Waits until this replica has applied the room's events up to `version` (bounded). */
  async waitForVersion(roomId: string, version: number, timeoutMs = 2000): Promise<boolean> {
    if (this.versionOf(roomId) >= version) return true;
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
    const roomId = this.roomOf(m.subject);
    if (!roomId) {
      this.log.warn({ msg: 'skipping an event on a subject without a room id', subject: m.subject, position: m.seq });
      return;
    }
    this.apply(roomId, this.understood(roomId, m), m.seq);
  }

  /** The room of a `…room.<id>.meta` subject (null for any other subject). */
  private roomOf(subject: string): string | null {
    const id = this.s.chat.roomIdOf(subject);
    return id && this.s.chat.roomMeta(id) === subject ? id : null;
  }

  /** The event if this version knows its type and it is well-formed; else null (logged). */
  private understood(roomId: string, m: Delivered): RoomEvent | null {
    const decoded = decodeChatEvent(m.data);
    if (!decoded.ok && decoded.kind === 'unknown-type') {
      // Expected while a newer replica writes event types this one does not know yet: warn once
      // per type, not per event.
      if (!this.unknownTypes.has(decoded.type)) {
        this.unknownTypes.add(decoded.type);
        this.log.warn({
          msg: 'room event of an unknown type; ignored, only the room version moves (a newer version is writing?)',
          type: decoded.type,
          subject: m.subject,
          position: m.seq,
        });
      }
      return null;
    }
    if (!decoded.ok) return this.malformed(m, decoded.reason);
    const e = decoded.event;
    if (!isRoomEvent(e)) return this.malformed(m, `a ${e.type} is not a room event`);
    if (e.payload.roomId !== roomId) return this.malformed(m, `${e.type} of room "${e.payload.roomId}"`);
    return e;
  }

  private malformed(m: Delivered, why: string): null {
    this.log.warn({ msg: 'malformed room event; only the room version moves', why, subject: m.subject, position: m.seq });
    return null;
  }
}
