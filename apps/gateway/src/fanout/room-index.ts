/**
 * Which local connections are in which room. Per user it keeps the rooms the user is a member
 * of (as far as this gateway knows) and the user's connections here; every connection of a user
 * is in every room of that user. Pure and synchronous: the live subscriber turns the "room
 * opened/closed" answers into NATS subscriptions.
 */
export class RoomIndex<C> {
  private readonly byRoom = new Map<string, Set<C>>();
  private readonly byUser = new Map<string, { conns: Set<C>; rooms: Set<string> }>();
  private readonly userOf = new Map<C, string>();
  /**
   * Connections waiting for their user's room list (`applyRoomList`), each with the rooms whose
   * membership for that user changed (join or leave applied here) since it was registered.
   */
  private readonly pending = new Map<C, Set<string>>();
  private static readonly none: ReadonlySet<never> = new Set();

  /**
   * Registers a connection of `userId`, in the rooms already known for the user's other
   * connections. The user's room list is fetched afterwards (`applyRoomList`): registering
   * first means that membership changes arriving while that list is on its way are applied
   * and remembered, so a stale list cannot undo them. Returns rooms that gained their first
   * local connection.
   */
  addConnection(conn: C, userId: string): { opened: string[] } {
    if (this.userOf.has(conn)) throw new Error('connection already registered');
    let user = this.byUser.get(userId);
    if (!user) {
      user = { conns: new Set(), rooms: new Set() };
      this.byUser.set(userId, user);
    }
    user.conns.add(conn);
    this.userOf.set(conn, userId);
    this.pending.set(conn, new Set());
    const opened: string[] = [];
    for (const roomId of user.rooms) this.addToRoom(roomId, conn, opened);
    return { opened };
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
    const userId = this.userOf.get(conn);
    const touched = this.pending.get(conn);
    if (userId === undefined || touched === undefined) return { opened: [], closed: [] };
    this.pending.delete(conn);
    const user = this.byUser.get(userId)!;
    const opened: string[] = [];
    const closed: string[] = [];
    const listed = new Set(roomIds);
    for (const roomId of [...user.rooms])
      if (!listed.has(roomId) && !touched.has(roomId) && this.leave(userId, roomId).closed) closed.push(roomId);
    for (const roomId of listed) if (!touched.has(roomId) && this.join(userId, roomId).opened) opened.push(roomId);
    return { opened, closed };
  }

  /** Forgets a connection; a user without connections is forgotten too. Returns rooms left without local connections. */
  removeConnection(conn: C): string[] {
    const userId = this.userOf.get(conn);
    if (userId === undefined) return [];
    this.userOf.delete(conn);
    this.pending.delete(conn);
    const user = this.byUser.get(userId)!;
    user.conns.delete(conn);
    const closed: string[] = [];
    for (const roomId of user.rooms) if (this.removeFromRoom(roomId, conn)) closed.push(roomId);
    if (user.conns.size === 0) this.byUser.delete(userId);
    return closed;
  }

  /**
   * Records that a local user joined a room and puts all their connections in it. Users
   * without connections here are ignored (changed: false): another gateway serves them.
   */
  join(userId: string, roomId: string): { changed: boolean; opened: boolean } {
    const user = this.byUser.get(userId);
    if (!user) return { changed: false, opened: false };
    this.touch(user.conns, roomId);
    if (user.rooms.has(roomId)) return { changed: false, opened: false };
    user.rooms.add(roomId);
    const opened: string[] = [];
    for (const conn of user.conns) this.addToRoom(roomId, conn, opened);
    return { changed: true, opened: opened.length > 0 };
  }

  leave(userId: string, roomId: string): { changed: boolean; closed: boolean } {
    const user = this.byUser.get(userId);
    if (!user) return { changed: false, closed: false };
    this.touch(user.conns, roomId);
    if (!user.rooms.delete(roomId)) return { changed: false, closed: false };
    let closed = false;
    for (const conn of user.conns) closed = this.removeFromRoom(roomId, conn) || closed;
    return { changed: true, closed };
  }

  isMember(userId: string, roomId: string): boolean {
    return this.byUser.get(userId)?.rooms.has(roomId) ?? false;
  }

  connectionsIn(roomId: string): ReadonlySet<C> {
    return this.byRoom.get(roomId) ?? RoomIndex.none;
  }

  connectionsOf(userId: string): ReadonlySet<C> {
    return this.byUser.get(userId)?.conns ?? RoomIndex.none;
  }

  roomsOf(userId: string): string[] {
    return [...(this.byUser.get(userId)?.rooms ?? [])];
  }

  /** Every registered connection. */
  connections(): IterableIterator<C> {
    return this.userOf.keys();
  }

  /** Rooms with at least one local connection. */
  activeRooms(): string[] {
    return [...this.byRoom.keys()];
  }

  get connectionCount(): number {
    return this.userOf.size;
  }

  /** Notes a membership change of the user in `roomId` for their connections awaiting a room list. */
  private touch(conns: Set<C>, roomId: string) {
    for (const conn of conns) this.pending.get(conn)?.add(roomId);
  }

  private addToRoom(roomId: string, conn: C, opened: string[]) {
    let set = this.byRoom.get(roomId);
    if (!set) {
      set = new Set();
      this.byRoom.set(roomId, set);
      opened.push(roomId);
    }
    set.add(conn);
  }

  /** true when the room has no local connections left. */
  private removeFromRoom(roomId: string, conn: C): boolean {
    const set = this.byRoom.get(roomId);
    if (!set) return false;
    set.delete(conn);
    if (set.size > 0) return false;
    this.byRoom.delete(roomId);
    return true;
  }
}
