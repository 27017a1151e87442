import {
  DEFAULT_ROOM_ID,
  assertNever,
  type MemberRole,
  type RoomEvent,
  type RoomKind,
  type RoomSettings,
  type RoomSummary,
  type UserView,
} from '@chat/contracts';

export interface Member {
  userId: string;
  username: string;
  role: MemberRole;
  /** ISO time of the event that made them a member (their current membership). */
  joinedAt: string;
  /**
   * Stream position of that event: strictly increasing, so the earliest current membership
   * ("longest-standing", who succeeds a leaving owner) is the smallest, with no ties.
   */
  joinedPosition: number;
}

/** A pending invitation, as its event knows it. */
export interface Invitation {
  userId: string;
  username: string;
  byUserId: string;
  byUsername: string;
  roomName: string;
  time: string;
}

export interface Ban {
  userId: string;
  username: string;
  byUserId: string;
  byUsername: string;
  reason: string;
  time: string;
}

/** What only a one-to-one conversation has: its two participants and who blocks whom. */
export interface Conversation {
  /** userA.userId < userB.userId (as strings), as in ConversationOpened. */
  userA: UserView;
  userB: UserView;
  /** blocker's user id -> ISO time of the block. */
  blocks: ReadonlyMap<string, string>;
}

/**
 * A room as its events say it is. `version` is the stream position of the last event applied.
 * A deleted room stays as a tombstone (`deleted`, no members, invitations or bans), so its id
 * is never used again and every operation on it answers as for a missing room.
 */
export interface Room extends RoomSettings {
  roomId: string;
  kind: RoomKind;
  createdAt: string;
  /** null for rooms the system creates (the default room) and for conversations. */
  createdBy: UserView | null;
  /** null: the default room, an empty public room, and conversations. */
  ownerId: string | null;
  members: ReadonlyMap<string, Member>;
  /** Pending invitations by invitee. */
  invitations: ReadonlyMap<string, Invitation>;
  bans: ReadonlyMap<string, Ban>;
  /** Only for kind `direct`. */
  direct: Conversation | null;
  /** The room's own retention period in days; null: the deployment's default. */
  retentionDays: number | null;
  deleted: boolean;
  version: number;
}

type Draft = { -readonly [K in keyof Room]: Room[K] } & { direct: { -readonly [K in keyof Conversation]: Conversation[K] } | null };

/**
 * The empty collection every room starts with and shares until its first entry: most rooms
 * never have an invitation, a ban or a block, and with 100,000 rooms three empty maps each
 * would be most of their memory. Never written to: `edit` replaces it with a room's own map.
 */
const NONE: ReadonlyMap<string, never> = new Map<string, never>();

/** The room's own, writable map for `key`. */
function edit<K extends 'members' | 'invitations' | 'bans'>(room: Draft, key: K): Map<string, MapValue<Room[K]>> {
  if (room[key] === NONE) (room as Record<K, unknown>)[key] = new Map();
  return room[key] as Map<string, MapValue<Room[K]>>;
}
type MapValue<M> = M extends ReadonlyMap<string, infer V> ? V : never;

function editBlocks(direct: NonNullable<Draft['direct']>): Map<string, string> {
  if (direct.blocks === NONE) direct.blocks = new Map();
  return direct.blocks as Map<string, string>;
}

/** Applies one event to a room. Pure: returns a new room, never changes the one given. */
export function evolve(room: Room | null, event: RoomEvent, position: number): Room | null {
  return evolveInPlace(room && copyRoom(room), event, position);
}

/**
 * The same rules as `evolve`, changing the given room instead of copying it: the store's path,
 * where copying a room's member map on every join would make replaying a large room quadratic.
 * The store owns its rooms, so nobody else sees a room change under them between two reads in
 * one synchronous step. Returns the room (null while there is none: events on a subject before
 * its room was created are not a room).
 */
export function evolveInPlace(current: Room | null, event: RoomEvent, position: number): Room | null {
  if (event.type === 'RoomCreated' || event.type === 'ConversationOpened') {
    if (current) return { ...current, version: position };
    return created(event, position);
  }
  if (!current) return null;
  const room = current as Draft;
  room.version = position;
  if (room.deleted) return room;
  switch (event.type) {
    case 'MemberJoined': {
      const { userId, username, role } = event.payload;
      edit(room, 'members').set(userId, { userId, username, role, joinedAt: event.time, joinedPosition: position });
      if (room.invitations.has(userId)) edit(room, 'invitations').delete(userId);
      if (role === 'owner') setOwner(room, userId);
      return room;
    }
    case 'MemberLeft': {
      removeMember(room, event.payload.userId);
      const successor = event.payload.successorId ? room.members.get(event.payload.successorId) : undefined;
      if (successor) setOwner(room, successor.userId);
      return room;
    }
    case 'MemberKicked':
      removeMember(room, event.payload.userId);
      return room;
    case 'MemberBanned': {
      const { userId, username, byUserId, byUsername, reason } = event.payload;
      removeMember(room, userId);
      if (room.invitations.has(userId)) edit(room, 'invitations').delete(userId);
      edit(room, 'bans').set(userId, { userId, username, byUserId, byUsername, reason, time: event.time });
      return room;
    }
    case 'MemberUnbanned':
      if (room.bans.has(event.payload.userId)) edit(room, 'bans').delete(event.payload.userId);
      return room;
    case 'MemberInvited': {
      const { userId, username, byUserId, byUsername, roomName } = event.payload;
      edit(room, 'invitations').set(userId, { userId, username, byUserId, byUsername, roomName, time: event.time });
      return room;
    }
    case 'InvitationDeclined':
      if (room.invitations.has(event.payload.userId)) edit(room, 'invitations').delete(event.payload.userId);
      return room;
    case 'MemberRoleChanged': {
      const member = room.members.get(event.payload.userId);
      if (member && member.role !== 'owner') edit(room, 'members').set(member.userId, { ...member, role: event.payload.role });
      return room;
    }
    case 'OwnershipTransferred': {
      const target = room.members.get(event.payload.userId);
      if (!target) return room;
      const previous = room.ownerId ? room.members.get(room.ownerId) : undefined;
      if (previous) edit(room, 'members').set(previous.userId, { ...previous, role: 'admin' });
      setOwner(room, target.userId);
      return room;
    }
    case 'RoomSettingsChanged': {
      const s = event.payload;
      Object.assign(room, {
        name: s.name,
        topic: s.topic,
        visibility: s.visibility,
        postPolicy: s.postPolicy,
        memberLimit: s.memberLimit,
        slowModeSeconds: s.slowModeSeconds,
      });
      return room;
    }
    case 'RoomRetentionSet':
      room.retentionDays = event.payload.days;
      return room;
    case 'RoomDeleted':
      room.deleted = true;
      room.ownerId = null;
      room.members = NONE;
      room.invitations = NONE;
      room.bans = NONE;
      return room;
    case 'UserBlocked':
      if (room.direct) editBlocks(room.direct).set(event.payload.blockerId, event.time);
      return room;
    case 'UserUnblocked':
      if (room.direct?.blocks.has(event.payload.blockerId)) editBlocks(room.direct).delete(event.payload.blockerId);
      return room;
    default:
      return assertNever(event, 'room event');
  }
}

function created(event: Extract<RoomEvent, { type: 'RoomCreated' | 'ConversationOpened' }>, position: number): Room {
  const member = (u: UserView, role: MemberRole): Member => ({ ...u, role, joinedAt: event.time, joinedPosition: position });
  if (event.type === 'RoomCreated') {
    const p = event.payload;
    const owner = p.ownerId ? { userId: p.ownerId, username: p.ownerName ?? '' } : null;
    return {
      roomId: p.roomId,
      kind: 'group',
      name: p.name,
      topic: p.topic,
      visibility: p.visibility,
      postPolicy: p.postPolicy,
      memberLimit: p.memberLimit,
      slowModeSeconds: p.slowModeSeconds,
      createdAt: event.time,
      createdBy: owner,
      ownerId: owner?.userId ?? null,
      members: owner ? new Map([[owner.userId, member(owner, 'owner')]]) : NONE,
      invitations: NONE,
      bans: NONE,
      direct: null,
      retentionDays: null,
      deleted: false,
      version: position,
    };
  }
  const p = event.payload;
  const userA = { userId: p.userAId, username: p.userAName };
  const userB = { userId: p.userBId, username: p.userBName };
  return {
    roomId: p.roomId,
    kind: 'direct',
    name: `${userA.username}, ${userB.username}`,
    topic: '',
    visibility: 'private',
    postPolicy: 'members',
    memberLimit: 2,
    slowModeSeconds: 0,
    createdAt: event.time,
    createdBy: null,
    ownerId: null,
    members: new Map([
      [userA.userId, member(userA, 'member')],
      [userB.userId, member(userB, 'member')],
    ]),
    invitations: NONE,
    bans: NONE,
    direct: { userA, userB, blocks: NONE },
    retentionDays: null,
    deleted: false,
    version: position,
  };
}

function setOwner(room: Draft, userId: string) {
  const member = room.members.get(userId);
  if (!member) return;
  room.ownerId = userId;
  if (member.role !== 'owner') edit(room, 'members').set(userId, { ...member, role: 'owner' });
}

function removeMember(room: Draft, userId: string) {
  if (room.members.has(userId)) edit(room, 'members').delete(userId);
  if (room.ownerId === userId) room.ownerId = null;
}

const copy = <V>(m: ReadonlyMap<string, V>): ReadonlyMap<string, V> => (m === NONE ? NONE : new Map(m));

function copyRoom(room: Room): Room {
  return {
    ...room,
    members: copy(room.members),
    invitations: copy(room.invitations),
    bans: copy(room.bans),
    direct: room.direct && { ...room.direct, blocks: copy(room.direct.blocks) },
  };
}

// ---- Reading a room (pure) ----

export const isDefaultRoom = (room: Room) => room.roomId === DEFAULT_ROOM_ID;
/** A room that exists for everyone: created and not deleted. */
export const isLive = (room: Room | null): room is Room => !!room && !room.deleted;
export const isAdmin = (m: Member | undefined) => m?.role === 'owner' || m?.role === 'admin';

/**
 * Whether `userId` may know the room exists: a public group room for anyone; a private room
 * for its members and invitees; a conversation for its two participants.
 */
export function canSee(room: Room | null, userId: string): room is Room {
  if (!isLive(room)) return false;
  if (room.members.has(userId)) return true;
  if (room.kind === 'direct') return false;
  return room.visibility === 'public' || room.invitations.has(userId);
}

/** Members in the order lists show them: owner, admins, members, each by when they joined. */
export function orderedMembers(room: Room): Member[] {
  const rank = { owner: 0, admin: 1, member: 2 } as const;
  return [...room.members.values()].sort((a, b) => rank[a.role] - rank[b.role] || a.joinedPosition - b.joinedPosition);
}

const names = new Intl.Collator();
/** The order of room lists: by name (as people read it), then by id so equal names keep one order. */
export const byRoomName = (a: Room, b: Room) => names.compare(a.name, b.name) || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0);

export function summarize(room: Room, forUserId: string): RoomSummary {
  return {
    roomId: room.roomId,
    name: room.name,
    topic: room.topic,
    visibility: room.visibility,
    postPolicy: room.postPolicy,
    memberLimit: room.memberLimit,
    slowModeSeconds: room.slowModeSeconds,
    memberCount: room.members.size,
    myRole: room.members.get(forUserId)?.role ?? null,
  };
}
