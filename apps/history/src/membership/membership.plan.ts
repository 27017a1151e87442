import { isRoomId, type MemberRole, type RoomVisibility } from '@chat/contracts';
import { isObject, reject, UUID, type Envelope, type Rejected, type RoomSubjects, type StreamEvent } from '../store/events';

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

const VISIBILITIES: readonly string[] = ['public', 'private'];
const ROLES: readonly string[] = ['owner', 'admin', 'member'];
const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/**
 * RoomCreated / MemberJoined / MemberLeft -> the membership change. Only events on their own
 * room's `…meta` subject count: that subject is the room aggregate (rooms folds nothing else),
 * and a room event stored elsewhere must not grant anyone access.
 */
export function decodeRoomEvent(e: StreamEvent, ev: Envelope, subjects: RoomSubjects): MembershipChange | Rejected {
  const type = ev.type;
  if (ev.version !== 1) return reject(`unsupported ${type} version ${JSON.stringify(ev.version)}`);
  const p = ev.payload;
  if (!isObject(p)) return reject(`${type}: payload must be an object`);
  if (!isRoomId(p.roomId)) return reject(`${type}: roomId must be a room id`);
  const roomId = p.roomId;
  if (e.subject !== subjects.roomMeta(roomId)) return reject(`${type} for room "${roomId}" stored on subject ${e.subject}`);
  const position = e.position;
  switch (type) {
    case 'RoomCreated': {
      if (typeof p.visibility !== 'string' || !VISIBILITIES.includes(p.visibility))
        return reject('RoomCreated: visibility must be public or private');
      if (p.ownerId !== null && !isUuid(p.ownerId)) return reject('RoomCreated: ownerId must be a UUID or null');
      const room: RoomRecord = { roomId, visibility: p.visibility as RoomVisibility, createdPosition: position };
      if (p.ownerId === null) return { position, room };
      return { position, room, member: { roomId, userId: p.ownerId, member: true, role: 'owner', position } };
    }
    case 'MemberJoined':
      if (!isUuid(p.userId)) return reject('MemberJoined: userId must be a UUID');
      if (typeof p.role !== 'string' || !ROLES.includes(p.role)) return reject('MemberJoined: role must be owner, admin or member');
      return { position, member: { roomId, userId: p.userId, member: true, role: p.role as MemberRole, position } };
    case 'MemberLeft':
      if (!isUuid(p.userId)) return reject('MemberLeft: userId must be a UUID');
      return { position, member: { roomId, userId: p.userId, member: false, role: null, position } };
    default:
      return reject(`unknown event type "${type}"`);
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
