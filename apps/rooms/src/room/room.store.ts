import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { decodeChatEvent, isRoomEvent, type RoomEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { byRoomName, evolveInPlace, type Room } from './room';

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
  /** Indexes for the queries: user -> rooms they are a member of (groups and conversations). */
  private readonly byMember: UserIndex = new Map();
  /** user -> rooms with a pending invitation for them. */
  private readonly byInvitee: UserIndex = new Map();
  /** Public, live group rooms -> their name as the directory matches it (NFKC, lower case). */
  private readonly directory = new Map<string, string>();
  /** The directory's rooms sorted by name; rebuilt on the first read after a change. */
  private directorySorted: string[] | null = null;
  private readonly waiters = new Set<{ roomId: string; version: number; resolve: () => void }>();
  /** Position of the last event the follower delivered (stream order), and who waits for it to pass a position. */
  private followed = 0;
  private readonly followWaiters = new Set<{ position: number; resolve: () => void }>();
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

  /** Every room (group or conversation) `userId` is a member of: what their gateway follows. */
  roomsOf(userId: string): string[] {
    return entriesOf(this.byMember, userId);
  }

  /** Rooms with a pending invitation for `userId`. */
  invitedTo(userId: string): Room[] {
    return this.pick(entriesOf(this.byInvitee, userId));
  }

  /** The user's rooms as Room states (groups and conversations). */
  memberOf(userId: string): Room[] {
    return this.pick(entriesOf(this.byMember, userId));
  }

  /** Public live group rooms whose name contains `query` (NFKC, case-insensitive), by name. */
  searchDirectory(query: string): Room[] {
    const q = searchKey(query);
    const ids = this.sortedDirectory();
    return this.pick(q ? ids.filter((id) => this.directory.get(id)!.includes(q)) : ids);
  }

  private sortedDirectory(): string[] {
    this.directorySorted ??= [...this.directory.keys()].sort((x, y) => byRoomName(this.rooms.get(x)!, this.rooms.get(y)!));
    return this.directorySorted;
  }

  private pick(ids: Iterable<string> | undefined): Room[] {
    const out: Room[] = [];
    for (const id of ids ?? []) {
      const room = this.rooms.get(id);
      if (room) out.push(room);
    }
    return out;
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
    if (!event) {
      if (before) (before as { version: number }).version = position;
    } else {
      // The users whose index entries this event may change: those it is about, and everyone
      // in the room when it is deleted (read before the event empties it).
      const touched = new Set(usersOf(event));
      if (event.type === 'RoomDeleted' && before)
        for (const id of [...before.members.keys(), ...before.invitations.keys()]) touched.add(id);
      const after = evolveInPlace(before, event, position);
      if (after) {
        this.rooms.set(roomId, after);
        for (const userId of touched) this.index(after, userId);
        this.indexDirectory(after);
        // A renamed room may move in the directory's order even when its search key stays.
        if (event.type === 'RoomSettingsChanged') this.directorySorted = null;
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

  /**
   * Waits until the follower has applied every room event stored up to now (bounded): for
   * answers about many rooms at once (a user's rooms), where a lagging replica must not answer
   * from before a change the caller may already have seen. The follower reads the rooms' events
   * in stream order, so its last position is a true watermark (the command handler's own
   * writes, applied out of that order, do not move it).
   */
  async waitForAllRooms(timeoutMs = 2000): Promise<boolean> {
    const last = await this.js.lastOnSubject(this.s.streams.chat.name, this.s.chat.allRoomMeta);
    if (!last || last.seq <= this.followed) return true;
    return new Promise<boolean>((resolve) => {
      const w = { position: last.seq, resolve: () => (clearTimeout(timer), resolve(true)) };
      const timer = setTimeout(() => {
        this.followWaiters.delete(w);
        resolve(false);
      }, timeoutMs);
      this.followWaiters.add(w);
    });
  }

  /** The room subject's last sequence as stored in JetStream (0 if the room has no events). */
  async latestVersion(roomId: string): Promise<number> {
    const last = await this.js.lastOnSubject(this.s.streams.chat.name, this.s.chat.roomMeta(roomId));
    return last?.seq ?? 0;
  }

  private onDelivered(m: Delivered): void {
    const roomId = this.roomOf(m.subject);
    if (!roomId) this.log.warn({ msg: 'skipping an event on a subject without a room id', subject: m.subject, position: m.seq });
    else this.apply(roomId, this.understood(roomId, m), m.seq);
    this.followed = m.seq;
    for (const w of this.followWaiters) {
      if (m.seq >= w.position) {
        this.followWaiters.delete(w);
        w.resolve();
      }
    }
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

  private index(room: Room, userId: string) {
    toggle(this.byMember, userId, room.roomId, room.members.has(userId));
    toggle(this.byInvitee, userId, room.roomId, room.invitations.has(userId));
  }

  private indexDirectory(room: Room) {
    const listed = room.kind === 'group' && !room.deleted && room.visibility === 'public';
    const key = listed ? searchKey(room.name) : undefined;
    if (this.directory.get(room.roomId) === key) return;
    if (key === undefined) this.directory.delete(room.roomId);
    else this.directory.set(room.roomId, key);
    this.directorySorted = null;
  }
}

/** How the directory compares names: NFKC, then case-folded (as usernames are). */
export const searchKey = (text: string) => text.normalize('NFKC').toUpperCase().toLowerCase();

/** The users a room event is about (whose memberships or invitations it may change). */
function usersOf(event: RoomEvent): string[] {
  switch (event.type) {
    case 'RoomCreated':
      return event.payload.ownerId ? [event.payload.ownerId] : [];
    case 'ConversationOpened':
      return [event.payload.userAId, event.payload.userBId];
    case 'MemberJoined':
    case 'MemberLeft':
    case 'MemberInvited':
    case 'InvitationDeclined':
    case 'MemberKicked':
    case 'MemberBanned':
      return [event.payload.userId];
    default:
      return [];
  }
}

/**
 * user -> room ids. Most users are in one room (or have one invitation), so a single id is kept
 * as the string itself and only a second one makes a Set: with 100,000 rooms that is one Set
 * fewer per user.
 */
type UserIndex = Map<string, string | Set<string>>;

function entriesOf(index: UserIndex, userId: string): string[] {
  const entry = index.get(userId);
  return entry === undefined ? [] : typeof entry === 'string' ? [entry] : [...entry];
}

function toggle(index: UserIndex, userId: string, roomId: string, on: boolean) {
  const entry = index.get(userId);
  if (on) {
    if (entry === undefined) index.set(userId, roomId);
    else if (typeof entry === 'string') {
      if (entry !== roomId) index.set(userId, new Set([entry, roomId]));
    } else entry.add(roomId);
  } else if (entry === roomId) {
    index.delete(userId);
  } else if (typeof entry === 'object' && entry.delete(roomId) && entry.size === 1) {
    index.set(userId, entry.values().next().value as string);
  }
}
