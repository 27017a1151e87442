import { assertNever, isRoomEvent, type ChatEvent, type MemberRole, type RoomVisibility } from '@chat/contracts';
import { reject, type Rejected, type RoomSubjects, type StreamEvent } from '../store/events';

export interface RoomRecord {
  roomId: string;
  visibility: RoomVisibility;
  createdPosition: number;
}

/** A row of `room_members`: the user's state in the room as set by the event at `position`. */
export interface MemberRecord {
  roomId: string;
  userId: string;
  member: boolean;
  role: MemberRole | null;
  position: number;
}

/** What one room event changes: RoomCreated creates the room and makes its owner (if any) a member. */
export interface MembershipChange {
  position: number;
  room?: RoomRecord;
  member?: MemberRecord;
}

/**
 * The membership part of a batch plan. Rooms are inserted once (ON CONFLICT DO NOTHING); members
 * are upserted only over a row set by an older position, so the part can be applied again, and
 * in any order with other batches' parts, and the newest event about a (room, user) always wins.
 * One row per (room, user): a multi-row upsert may not touch the same row twice.
 */
export interface MembershipPart {
  rooms: RoomRecord[];
  members: MemberRecord[];
}

/**
 * RoomCreated / MemberJoined / MemberLeft -> the membership change (the event is already checked
 * whole by the chat stream's decoder). Only events on their own room's `…meta` subject count: that
 * subject is the room aggregate (rooms folds nothing else), and a room event stored elsewhere must
 * not grant anyone access.
 */
export function decodeRoomEvent(e: StreamEvent, ev: ChatEvent, subjects: RoomSubjects): MembershipChange | Rejected {
  if (!isRoomEvent(ev)) return reject(`the membership read model does not project ${ev.type}`);
  const roomId = ev.payload.roomId;
  if (e.subject !== subjects.roomMeta(roomId)) return reject(`${ev.type} for room "${roomId}" stored on subject ${e.subject}`);
  const position = e.position;
  switch (ev.type) {
    case 'RoomCreated': {
      const p = ev.payload;
      const room: RoomRecord = { roomId, visibility: p.visibility, createdPosition: position };
      if (p.ownerId === null) return { position, room };
      return { position, room, member: { roomId, userId: p.ownerId, member: true, role: 'owner', position } };
    }
    case 'MemberJoined':
      return { position, member: { roomId, userId: ev.payload.userId, member: true, role: ev.payload.role, position } };
    case 'MemberLeft':
      return { position, member: { roomId, userId: ev.payload.userId, member: false, role: null, position } };
    default:
      return assertNever(ev, 'room event');
  }
}

/** Collapses a batch's changes to the newest one per room and per (room, user). */
export function planMembership(changes: MembershipChange[]): MembershipPart {
  const rooms = new Map<string, RoomRecord>();
  const members = new Map<string, MemberRecord>();
  for (const c of changes) {
    // The first RoomCreated of a room wins, as in the table (a second one is never appended by rooms).
    if (c.room) {
      const had = rooms.get(c.room.roomId);
      if (!had || had.createdPosition > c.room.createdPosition) rooms.set(c.room.roomId, c.room);
    }
    if (c.member) {
      const key = `${c.member.roomId}\u0000${c.member.userId}`;
      const had = members.get(key);
      if (!had || had.position < c.member.position) members.set(key, c.member);
    }
  }
  return { rooms: [...rooms.values()], members: [...members.values()] };
}

/** The caller's standing in a room as the projection knows it. */
export type Standing = Pick<MemberRecord, 'member' | 'role' | 'position'> | null;

/**
 * May this user read the room's history? Members only, whatever the room's visibility; a
 * non-member of a public room, of a private room, and a missing room all get FORBIDDEN, which is
 * what the gateway answered before history decided (the error does not reveal whether the room
 * exists). Returns null when allowed, else the refusal.
 */
export function readRefusal(roomId: string, standing: Standing): { code: 'FORBIDDEN'; message: string } | null {
  if (standing?.member) return null;
  return { code: 'FORBIDDEN', message: `you are not a member of room "${roomId}"` };
}
