/** A user of this gateway: their connections, the rooms they follow, and what reached them from their own subject. */
interface LocalUser<C> {
  conns: Set<C>;
  /** roomId -> the first stream position of the room delivered to this user (0: every live event). */
  rooms: Map<string, number>;
  /**
   * roomId -> the highest position of the room this user has had (from their own subject, or
   * when they stopped following it): an event about them at or below it is not shown again.
   * Created on first use: most users never get one.
   */
  seen?: Map<string, number>;
}

/**
 * Which local connections follow which room, from which stream position. Per user it keeps
 * the rooms the user follows (as far as this gateway knows) and the user's connections here;
 * every connection of a user follows every room of that user. Pure and synchronous: the live
 * subscriber turns the "room opened/closed" and "user added/gone" answers into NATS
 * subscriptions.
 */
export class RoomIndex<C> {
  /** roomId -> connection -> the first position delivered to it. */
  private readonly byRoom = new Map<string, Map<C, number>>();
  private readonly byUser = new Map<string, LocalUser<C>>();
  private readonly userOfConn = new Map<C, string>();
  /**
   * Connections waiting for their user's room list (`applyRoomList`), each with the rooms whose
   * membership for that user changed (join or leave applied here) since it was registered.
   */
  private readonly pending = new Map<C, Set<string>>();
  private static readonly none: ReadonlyMap<never, number> = new Map<never, number>();

  /**
   * Registers a connection of `userId`, in the rooms already known for the user's other
   * connections. The user's room list is fetched afterwards (`applyRoomList`): registering
   * first means that membership changes arriving while that list is on its way are applied
   * and remembered, so a stale list cannot undo them. Returns rooms that gained their first
   * local connection, and whether the user is new here (their first connection).
   */
  addConnection(conn: C, userId: string): { opened: string[]; newUser: boolean } {
    if (this.userOfConn.has(conn)) throw new Error('connection already registered');
    let user = this.byUser.get(userId);
    const newUser = !user;
    if (!user) {
      user = { conns: new Set(), rooms: new Map() };
      this.byUser.set(userId, user);
    }
    user.conns.add(conn);
    this.userOfConn.set(conn, userId);
    this.pending.set(conn, new Set());
    const opened: string[] = [];
    for (const [roomId, since] of user.rooms) this.addToRoom(roomId, conn, since, opened);
    return { opened, newUser };
  }

  /**
   * Merges the rooms service's list of the user's rooms, fetched after `addConnection`. The
   * list is a snapshot of unknown age relative to the live membership events: for a room whose
   * membership changed here since the connection was registered, the live event is at least
   * as new as anything the list can know (and any later change also arrives live), so the
   * index keeps its state; every other room takes the list's word. Returns the rooms that
   * gained their first local connection and those that lost their last.
   */
  applyRoomList(conn: C, roomIds: Iterable<string>): { opened: string[]; closed: string[] } {
    const userId = this.userOfConn.get(conn);
    const touched = this.pending.get(conn);
    if (userId === undefined || touched === undefined) return { opened: [], closed: [] };
    this.pending.delete(conn);
    const user = this.byUser.get(userId)!;
    const opened: string[] = [];
    const closed: string[] = [];
    const listed = new Set(roomIds);
    for (const roomId of [...user.rooms.keys()])
      if (!listed.has(roomId) && !touched.has(roomId) && this.leave(userId, roomId, 0).closed) closed.push(roomId);
    for (const roomId of listed) if (!touched.has(roomId) && this.join(userId, roomId, 0).opened) opened.push(roomId);
    return { opened, closed };
  }

  /**
   * Forgets a connection; a user without connections is forgotten too (`userGone`). Returns
   * rooms left without local connections.
   */
  removeConnection(conn: C): { closed: string[]; userGone: boolean } {
    const userId = this.userOfConn.get(conn);
    if (userId === undefined) return { closed: [], userGone: false };
    this.userOfConn.delete(conn);
    this.pending.delete(conn);
    const user = this.byUser.get(userId)!;
    user.conns.delete(conn);
    const closed: string[] = [];
    for (const roomId of user.rooms.keys()) if (this.removeFromRoom(roomId, conn)) closed.push(roomId);
    const userGone = user.conns.size === 0;
    if (userGone) this.byUser.delete(userId);
    return { closed, userGone };
  }

  /**
   * The user's connections follow the room from stream position `since` on (0: every live
   * event). Users without connections here are ignored (changed: false): another gateway
   * serves them. A user already following keeps their position.
   */
  join(userId: string, roomId: string, since: number): { changed: boolean; opened: boolean } {
    const user = this.byUser.get(userId);
    if (!user) return { changed: false, opened: false };
    this.touch(user.conns, roomId);
    if (user.rooms.has(roomId)) return { changed: false, opened: false };
    user.rooms.set(roomId, since);
    const opened: string[] = [];
    for (const conn of user.conns) this.addToRoom(roomId, conn, since, opened);
    return { changed: true, opened: opened.length > 0 };
  }

  /** The user's connections stop following the room; they have had it up to `seenUpTo`. */
  leave(userId: string, roomId: string, seenUpTo: number): { changed: boolean; closed: boolean } {
    const user = this.byUser.get(userId);
    if (!user) return { changed: false, closed: false };
    this.touch(user.conns, roomId);
    // Only a user who followed the room has had it: a removal of someone not following it here
    // (a ban of a non-member, seen on the room's subject first) must still reach them from
    // their own subject.
    if (!user.rooms.delete(roomId)) return { changed: false, closed: false };
    this.markSeen(userId, roomId, seenUpTo);
    let closed = false;
    for (const conn of user.conns) closed = this.removeFromRoom(roomId, conn) || closed;
    return { changed: true, closed };
  }

  /** Every local user stops following the room (it was deleted at `position`). */
  leaveEveryone(roomId: string, position: number): void {
    const users = new Set<string>();
    for (const conn of this.connectionsIn(roomId).keys()) users.add(this.userOfConn.get(conn)!);
    for (const userId of users) this.leave(userId, roomId, position);
  }

  /**
   * Whether an event about the user at `position`, arriving on the user's own subject, is to
   * be shown to their connections (and if so, notes it as seen): not when they follow the room
   * from that position or earlier (the room's subject delivers it, or did), nor when they have
   * had that position of the room already (a repeat, or older than what they have).
   */
  takeUserEvent(userId: string, roomId: string, position: number): boolean {
    const since = this.followingSince(userId, roomId);
    if (since !== undefined && position >= since) return false;
    if (position <= this.seen(userId, roomId)) return false;
    this.markSeen(userId, roomId, position);
    const user = this.byUser.get(userId);
    if (!user) return false;
    // A change of the user's membership known here: a room list fetched before it (from a
    // rooms replica that had not applied it yet) must not undo it.
    this.touch(user.conns, roomId);
    return true;
  }

  /** From which position the user's connections follow the room; undefined when they do not. */
  followingSince(userId: string, roomId: string): number | undefined {
    return this.byUser.get(userId)?.rooms.get(roomId);
  }

  seen(userId: string, roomId: string): number {
    return this.byUser.get(userId)?.seen?.get(roomId) ?? 0;
  }

  markSeen(userId: string, roomId: string, position: number): void {
    const user = this.byUser.get(userId);
    if (user && position > (user.seen?.get(roomId) ?? 0)) (user.seen ??= new Map()).set(roomId, position);
  }

  /** The connections following the room, each with the first position it gets. */
  connectionsIn(roomId: string): ReadonlyMap<C, number> {
    return this.byRoom.get(roomId) ?? RoomIndex.none;
  }

  connectionsOf(userId: string): ReadonlySet<C> {
    return this.byUser.get(userId)?.conns ?? new Set();
  }

  userOf(conn: C): string | undefined {
    return this.userOfConn.get(conn);
  }

  roomsOf(userId: string): string[] {
    return [...(this.byUser.get(userId)?.rooms.keys() ?? [])];
  }

  /** Every registered connection. */
  connections(): IterableIterator<C> {
    return this.userOfConn.keys();
  }

  /** Rooms with at least one local connection. */
  activeRooms(): string[] {
    return [...this.byRoom.keys()];
  }

  get connectionCount(): number {
    return this.userOfConn.size;
  }

  /** Notes a membership change of the user in `roomId` for their connections awaiting a room list. */
  private touch(conns: Set<C>, roomId: string) {
    for (const conn of conns) this.pending.get(conn)?.add(roomId);
  }

  private addToRoom(roomId: string, conn: C, since: number, opened: string[]) {
    let conns = this.byRoom.get(roomId);
    if (!conns) {
      conns = new Map();
      this.byRoom.set(roomId, conns);
      opened.push(roomId);
    }
    conns.set(conn, since);
  }

  /** true when the room has no local connections left. */
  private removeFromRoom(roomId: string, conn: C): boolean {
    const conns = this.byRoom.get(roomId);
    if (!conns) return false;
    conns.delete(conn);
    if (conns.size > 0) return false;
    this.byRoom.delete(roomId);
    return true;
  }
}
