import {
  assertNever,
  isRoomEvent,
  type ChatEvent,
  type MemberRole,
  type PostPolicy,
  type RoomKind,
  type RoomVisibility,
} from '@chat/contracts';
import { reject, storable, type Rejected, type RoomSubjects, type StreamEvent } from '../store/events';

/** A row of `room_changes`: what one event sets on its room; undefined fields it leaves as they were. */
export interface RoomChange {
  roomId: string;
  position: number;
  /** RoomCreated / ConversationOpened: the room exists from here on. */
  created: boolean;
  /** RoomDeleted: the room and its history are gone, whatever comes before or after. */
  deleted: boolean;
  kind?: RoomKind;
  name?: string;
  visibility?: RoomVisibility;
  postPolicy?: PostPolicy;
  /** RoomRetentionSet: the room's retention period in days (null: the deployment's default). */
  retention?: { days: number | null };
}

/** A row of `member_changes`: the user's membership in the room as set by the event at `position`. */
export interface MemberChange {
  roomId: string;
  userId: string;
  username: string;
  member: boolean;
  /** null when not a member. */
  role: MemberRole | null;
  position: number;
  /** The event's time (joined_at when it starts a membership). */
  time: Date;
}

/** A row of `block_changes`: in a direct room, `blockerId` blocks (or unblocks) `blockedId`. */
export interface BlockChange {
  roomId: string;
  blockerId: string;
  blockedId: string;
  blocked: boolean;
  position: number;
}

/**
 * Stored messages whose verdict this event can change: those of the room (of `userId` alone
 * when set) after `from`. Only non-empty when events reach history out of stream order (a
 * redelivered or late batch): in order, nothing after the event is stored yet.
 */
export interface Recheck {
  roomId: string;
  from: number;
  userId: string | null;
}

/** What one room event changes. Invitations, declines and unbans change nothing history keeps. */
export interface MembershipChange {
  position: number;
  room?: RoomChange;
  members: MemberChange[];
  block?: BlockChange;
  recheck?: Recheck;
}

/**
 * The membership part of a batch plan: log rows (inserted once, keyed by position, so applying
 * the part again or out of order with other batches changes nothing), the rooms and members
 * whose newest state is then recomputed from the logs, and the rechecks.
 */
export interface MembershipPart {
  rooms: RoomChange[];
  members: MemberChange[];
  blocks: BlockChange[];
  /** Rooms whose `rooms` row (and owner) is recomputed. */
  touchedRooms: string[];
  /** (room, user) pairs whose `room_members` row is recomputed. */
  touchedMembers: Array<{ roomId: string; userId: string }>;
  /** One per (room, user-or-room): the lowest position. */
  rechecks: Recheck[];
}

const none: MemberChange[] = [];

/**
 * A room event -> the change it makes (the event is already checked whole by the chat stream's
 * decoder, MemberLeft v1 upcast to v2). Only events on their own room's `…meta` subject count:
 * that subject is the room aggregate (rooms folds nothing else), and a room event stored
 * elsewhere must not grant anyone access.
 */
export function decodeRoomEvent(e: StreamEvent, ev: ChatEvent, subjects: RoomSubjects): MembershipChange | Rejected {
  if (!isRoomEvent(ev)) return reject(`the membership read model does not project ${ev.type}`);
  const roomId = ev.payload.roomId;
  if (e.subject !== subjects.roomMeta(roomId)) return reject(`${ev.type} for room "${roomId}" stored on subject ${e.subject}`);
  const position = e.position;
  const time = new Date(ev.time);
  const member = (userId: string, username: string, role: MemberRole | null): MemberChange => ({
    roomId,
    userId,
    username: storable(username),
    member: role !== null,
    role,
    position,
    time,
  });
  const room = (over: Partial<RoomChange>): RoomChange => ({ roomId, position, created: false, deleted: false, ...over });
  const recheck = (userId: string | null, from = position): Recheck => ({ roomId, from, userId });
  switch (ev.type) {
    case 'RoomCreated': {
      const p = ev.payload;
      const created = room({ created: true, kind: 'group', name: storable(p.name), visibility: p.visibility, postPolicy: p.postPolicy });
      return { position, room: created, members: p.ownerId === null ? none : [member(p.ownerId, p.ownerName ?? p.ownerId, 'owner')] };
    }
    case 'ConversationOpened': {
      const p = ev.payload;
      const opened = room({ created: true, kind: 'direct', visibility: 'private', postPolicy: 'members' });
      return { position, room: opened, members: [member(p.userAId, p.userAName, 'member'), member(p.userBId, p.userBName, 'member')] };
    }
    case 'MemberJoined':
      return { position, members: [member(ev.payload.userId, ev.payload.username, ev.payload.role)], recheck: recheck(ev.payload.userId) };
    case 'MemberLeft': {
      const p = ev.payload;
      const members = [member(p.userId, p.username, null)];
      if (p.successorId !== null) members.push(member(p.successorId, p.successorName ?? p.successorId, 'owner'));
      return { position, members, recheck: recheck(p.successorId === null ? p.userId : null) };
    }
    case 'MemberKicked':
    case 'MemberBanned':
      return { position, members: [member(ev.payload.userId, ev.payload.username, null)], recheck: recheck(ev.payload.userId) };
    case 'MemberRoleChanged':
      return { position, members: [member(ev.payload.userId, ev.payload.username, ev.payload.role)], recheck: recheck(ev.payload.userId) };
    case 'OwnershipTransferred': {
      const p = ev.payload;
      return {
        position,
        members: [member(p.userId, p.username, 'owner'), member(p.byUserId, p.byUsername, 'admin')],
        recheck: recheck(null),
      };
    }
    case 'RoomSettingsChanged': {
      const p = ev.payload;
      const changed = room({ name: storable(p.name), visibility: p.visibility, postPolicy: p.postPolicy });
      return { position, room: changed, members: none, recheck: recheck(null) };
    }
    case 'RoomDeleted':
      // Its whole history goes, messages before the deletion included.
      return { position, room: room({ deleted: true }), members: none, recheck: recheck(null, 0) };
    case 'UserBlocked':
    case 'UserUnblocked': {
      const p = ev.payload;
      const block = { roomId, blockerId: p.blockerId, blockedId: p.blockedId, blocked: ev.type === 'UserBlocked', position };
      return { position, members: none, block, recheck: recheck(null) };
    }
    case 'RoomRetentionSet':
      return { position, room: room({ retention: { days: ev.payload.days } }), members: none };
    case 'MemberInvited':
    case 'InvitationDeclined':
    case 'MemberUnbanned':
      return { position, members: none };
    default:
      return assertNever(ev, 'room event');
  }
}

/** The batch's log rows, what to recompute from them, and the rechecks merged per room (and user). */
export function planMembership(changes: MembershipChange[]): MembershipPart {
  const part: MembershipPart = { rooms: [], members: [], blocks: [], touchedRooms: [], touchedMembers: [], rechecks: [] };
  const rooms = new Set<string>();
  const members = new Map<string, { roomId: string; userId: string }>();
  const rechecks = new Map<string, Recheck>();
  for (const c of changes) {
    if (c.room) {
      part.rooms.push(c.room);
      rooms.add(c.room.roomId);
    }
    for (const m of c.members) {
      part.members.push(m);
      members.set(`${m.roomId}\u0000${m.userId}`, { roomId: m.roomId, userId: m.userId });
      // The owner is read off the members: a role or membership change may change it.
      rooms.add(m.roomId);
    }
    if (c.block) part.blocks.push(c.block);
    if (c.recheck) {
      const key = `${c.recheck.roomId}\u0000${c.recheck.userId ?? ''}`;
      const had = rechecks.get(key);
      if (!had || had.from > c.recheck.from) rechecks.set(key, c.recheck);
    }
  }
  part.touchedRooms = [...rooms];
  part.touchedMembers = [...members.values()];
  // A room-wide recheck covers that room's per-user ones from the same position on.
  part.rechecks = [...rechecks.values()].filter((r) => {
    const roomWide = rechecks.get(`${r.roomId}\u0000`);
    return r.userId === null || !roomWide || roomWide.from > r.from;
  });
  return part;
}

/** A room as history.page's authorisation sees it (null: no RoomCreated/ConversationOpened projected). */
export interface RoomAccess {
  kind: RoomKind;
  visibility: RoomVisibility;
  deleted: boolean;
}

/** The caller's standing in a room as the projection knows it. */
export interface MemberStanding {
  member: boolean;
  role: MemberRole | null;
  position: number;
}
export type Standing = MemberStanding | null;

export type ReadRefusal = { code: 'NOT_FOUND' | 'FORBIDDEN'; message: string };

/** The one answer for a room that does not exist, is deleted, or is hidden from the caller: nothing tells them apart. */
export const roomNotFound = (roomId: string): ReadRefusal => ({ code: 'NOT_FOUND', message: `room "${roomId}" does not exist` });

/**
 * May this user read the room's history (docs/rooms.md, Reading)? Members may. A room that does
 * not exist or is deleted, and a private room or conversation the caller is not in, answer the
 * very same NOT_FOUND; a public room the caller is not in answers FORBIDDEN (join to read).
 * Returns null when allowed, else the refusal.
 */
export function readRefusal(roomId: string, room: RoomAccess | null, standing: Standing): ReadRefusal | null {
  if (!room || room.deleted) return roomNotFound(roomId);
  if (standing?.member) return null;
  if (room.kind === 'direct' || room.visibility === 'private') return roomNotFound(roomId);
  return { code: 'FORBIDDEN', message: `you are not a member of room "${roomId}"; join it to read its history` };
}
