import {
  ChatError,
  DEFAULT_ROOM_ID,
  Limits,
  directRoomId,
  isDirectRoomId,
  makeEvent,
  type ConversationOpened,
  type EventContext,
  type InvitationDeclined,
  type MemberBanned,
  type MemberInvited,
  type MemberJoined,
  type MemberKicked,
  type MemberLeft,
  type MemberRole,
  type MemberRoleChanged,
  type MemberUnbanned,
  type MessagePosted,
  type OwnershipTransferred,
  type ReplyRef,
  type RoomCreated,
  type RoomDeleted,
  type RoomEvent,
  type RoomRetentionSet,
  type RoomSettings,
  type RoomSettingsChanged,
  type UserBlocked,
  type UserUnblocked,
  type UserView,
} from '@chat/contracts';
import { findMentions, mentionIndexOf } from '../messages/mentions';
import { canSee, isAdmin, isDefaultRoom, isLive, type Member, type Room } from './room';

/** Who asks: the caller of a command (ids and names as the gateway verified them). */
type Actor = UserView;

/** Commands on the room aggregate, named in the imperative. Targets are already resolved to users. */
export type RoomCommand =
  | (RoomSettings & {
      type: 'CreateRoom';
      roomId: string;
      /** null: created by the system (the default room). */
      owner: UserView | null;
    })
  | { type: 'JoinRoom'; roomId: string; user: UserView }
  | { type: 'LeaveRoom'; roomId: string; user: UserView }
  /** Only for a deleted account (apps/rooms/src/accounts): its side of a conversation ends. Not an RPC. */
  | { type: 'LeaveConversation'; roomId: string; user: UserView }
  | { type: 'Invite'; roomId: string; actor: Actor; invitee: UserView }
  | { type: 'AcceptInvitation'; roomId: string; user: UserView }
  | { type: 'DeclineInvitation'; roomId: string; user: UserView }
  | { type: 'Kick'; roomId: string; actor: Actor; userId: string; reason: string }
  /** `target`: the member, or for a non-member the user as the accounts know them. */
  | { type: 'Ban'; roomId: string; actor: Actor; target: UserView; reason: string }
  | { type: 'Unban'; roomId: string; actor: Actor; userId: string }
  /** Fields left out keep their value. */
  | { type: 'UpdateSettings'; roomId: string; actor: Actor; changes: Partial<RoomSettings> }
  | { type: 'SetRole'; roomId: string; actor: Actor; userId: string; role: 'admin' | 'member' }
  | { type: 'Transfer'; roomId: string; actor: Actor; userId: string }
  | { type: 'DeleteRoom'; roomId: string; actor: Actor }
  /** `days` null: the deployment's default. */
  | { type: 'SetRetention'; roomId: string; actor: Actor; days: number | null }
  /** `roomId` must be directRoomId of the two users; `reason` 'held': for a first message held for review (default 'message'). */
  | { type: 'OpenConversation'; roomId: string; actor: Actor; peer: UserView; reason?: 'message' | 'held' }
  | { type: 'Block'; roomId: string; actor: Actor; peer: UserView }
  | { type: 'Unblock'; roomId: string; actor: Actor; peer: UserView };

/** What a decision may read beyond the room itself: pure lookups, answered from other aggregates. */
export interface DecideLookups {
  /** true while `blockerId` blocks `blockedId` (their conversation's state). */
  isBlocked(blockerId: string, blockedId: string): boolean;
}
const noLookups: DecideLookups = { isBlocked: () => false };

/**
 * The one answer for a room that does not exist, was deleted, or is hidden from the caller
 * (a private room they are neither in nor invited to, a conversation of others): the same code
 * and message, so nothing tells them apart.
 */
export const roomNotFound = (roomId: string) => new ChatError('NOT_FOUND', `room "${roomId}" does not exist`);

/**
 * The room rules (docs/rooms.md). Pure: given the room's current state (null: nothing on its
 * subject yet) and a command, returns the events to append (possibly none: the command asks
 * for what already holds) or throws ChatError (nothing appended). Clock and ids come in
 * through `ctx`; what other aggregates know comes in through `lookups`.
 */
export function decide(room: Room | null, cmd: RoomCommand, ctx: EventContext, lookups: DecideLookups = noLookups): RoomEvent[] {
  switch (cmd.type) {
    case 'CreateRoom':
      return [createRoom(room, cmd, ctx)];
    case 'OpenConversation':
      return openConversation(room, cmd, ctx);
    case 'Block':
    case 'Unblock':
      return block(room, cmd, ctx);
    case 'SetRetention':
      return setRetention(room, cmd, ctx);
    case 'LeaveConversation':
      return leaveConversation(room, cmd.roomId, cmd.user, ctx);
    default:
      return decideGroup(groupRoom(room, cmd.roomId, actorOf(cmd).userId), cmd, ctx, lookups);
  }
}

function actorOf(cmd: Exclude<RoomCommand, { type: 'CreateRoom' }>): UserView {
  return 'actor' in cmd ? cmd.actor : cmd.user;
}

/** The group room as `userId` may see it; anything else is roomNotFound. */
function groupRoom(room: Room | null, roomId: string, userId: string): Room {
  if (!canSee(room, userId) || room.kind !== 'group') throw roomNotFound(roomId);
  return room;
}

type GroupCommand = Exclude<
  RoomCommand,
  { type: 'CreateRoom' | 'OpenConversation' | 'Block' | 'Unblock' | 'SetRetention' | 'LeaveConversation' }
>;

function decideGroup(room: Room, cmd: GroupCommand, ctx: EventContext, lookups: DecideLookups): RoomEvent[] {
  const roomId = room.roomId;
  switch (cmd.type) {
    case 'JoinRoom': {
      // Joining a private room is only ever accepting an invitation (canSee let only members and
      // invitees through).
      if (room.visibility === 'private' && !room.members.has(cmd.user.userId)) return [accept(room, cmd.user, ctx)];
      if (room.bans.has(cmd.user.userId)) throw new ChatError('BANNED', `you are banned from room "${roomId}"`);
      if (room.members.has(cmd.user.userId)) throw alreadyMember(roomId);
      return [joined(room, cmd.user, ctx)];
    }
    case 'AcceptInvitation':
      if (room.members.has(cmd.user.userId)) throw alreadyMember(roomId);
      return [accept(room, cmd.user, ctx)];
    case 'DeclineInvitation':
      if (!room.invitations.has(cmd.user.userId)) throw noInvitation(room, cmd.user.userId);
      return [makeEvent<InvitationDeclined>(ctx, 'InvitationDeclined', 1, about(room, cmd.user))];
    case 'LeaveRoom':
      return [leave(room, cmd.user, ctx)];
    case 'Invite': {
      mustBeAdmin(room, cmd.actor);
      const { invitee, actor } = cmd;
      if (room.members.has(invitee.userId)) throw new ChatError('ALREADY_MEMBER', `${invitee.username} is already a member of "${roomId}"`);
      if (room.bans.has(invitee.userId)) throw new ChatError('BANNED', `${invitee.username} is banned from "${roomId}"; unban first`);
      if (lookups.isBlocked(invitee.userId, actor.userId)) throw new ChatError('BLOCKED', `${invitee.username} cannot be invited by you`);
      mustHaveRoom(room);
      // Inviting someone already invited renews the invitation (a new event, the new inviter).
      return [makeEvent<MemberInvited>(ctx, 'MemberInvited', 1, { ...about(room, invitee), ...by(actor), roomName: room.name })];
    }
    case 'Kick': {
      const target = sanctionable(room, cmd.actor, cmd.userId);
      if (!target) throw notMember(roomId, cmd.userId);
      return [makeEvent<MemberKicked>(ctx, 'MemberKicked', 1, { ...about(room, target), ...by(cmd.actor), reason: cmd.reason })];
    }
    case 'Ban': {
      const member = sanctionable(room, cmd.actor, cmd.target.userId);
      if (room.bans.has(cmd.target.userId)) throw new ChatError('BANNED', `${cmd.target.username} is already banned from "${roomId}"`);
      return [
        makeEvent<MemberBanned>(ctx, 'MemberBanned', 1, { ...about(room, member ?? cmd.target), ...by(cmd.actor), reason: cmd.reason }),
      ];
    }
    case 'Unban': {
      mustBeAdmin(room, cmd.actor);
      const ban = room.bans.get(cmd.userId);
      if (!ban) throw new ChatError('NOT_FOUND', `user "${cmd.userId}" is not banned from "${roomId}"`);
      return [makeEvent<MemberUnbanned>(ctx, 'MemberUnbanned', 1, { ...about(room, ban), ...by(cmd.actor) })];
    }
    case 'UpdateSettings': {
      mustBeAdmin(room, cmd.actor);
      const c = cmd.changes;
      const settings: RoomSettings = {
        name: c.name ?? room.name,
        topic: c.topic ?? room.topic,
        visibility: c.visibility ?? room.visibility,
        postPolicy: c.postPolicy ?? room.postPolicy,
        memberLimit: c.memberLimit ?? room.memberLimit,
        slowModeSeconds: c.slowModeSeconds ?? room.slowModeSeconds,
      };
      if (settings.memberLimit < 2 || settings.memberLimit > Limits.memberLimitMax)
        throw new ChatError('BAD_REQUEST', `memberLimit must be 2-${Limits.memberLimitMax}`);
      mustBeSlowMode(settings.slowModeSeconds);
      if (room.kind !== 'group' && settings.slowModeSeconds !== 0) throw new ChatError('BAD_REQUEST', 'a conversation has no slow mode');
      // Asking for what already holds changes nothing (and tells nobody anything).
      if ((Object.keys(settings) as Array<keyof RoomSettings>).every((k) => settings[k] === room[k])) return [];
      // Lowering the limit below the member count keeps everyone; joins wait until below it.
      return [makeEvent<RoomSettingsChanged>(ctx, 'RoomSettingsChanged', 2, { roomId, ...settings, ...by(cmd.actor) })];
    }
    case 'SetRole': {
      mustBeOwner(room, cmd.actor);
      const target = room.members.get(cmd.userId);
      if (!target) throw notMember(roomId, cmd.userId);
      if (target.role === 'owner') throw new ChatError('FORBIDDEN', 'the owner hands the room over with a transfer');
      if (target.role === cmd.role) return [];
      return [makeEvent<MemberRoleChanged>(ctx, 'MemberRoleChanged', 1, { ...about(room, target), ...by(cmd.actor), role: cmd.role })];
    }
    case 'Transfer': {
      mustBeOwner(room, cmd.actor);
      const target = room.members.get(cmd.userId);
      if (!target) throw notMember(roomId, cmd.userId);
      if (target.userId === cmd.actor.userId) throw new ChatError('BAD_REQUEST', 'you already own this room');
      return [makeEvent<OwnershipTransferred>(ctx, 'OwnershipTransferred', 1, { ...about(room, target), ...by(cmd.actor) })];
    }
    case 'DeleteRoom':
      if (isDefaultRoom(room)) throw new ChatError('FORBIDDEN', 'the default room cannot be deleted');
      mustBeOwner(room, cmd.actor);
      return [makeEvent<RoomDeleted>(ctx, 'RoomDeleted', 1, { roomId, reason: 'owner', ...by(cmd.actor) })];
    default:
      return assertNeverCommand(cmd);
  }
}

/**
 * How long the room's messages are kept: its owner and admins decide, in group rooms only (a
 * conversation has nobody to decide for both). Members who may not manage the room get
 * FORBIDDEN, anyone else who can see it NOT_MEMBER. Setting the period it already has appends
 * nothing.
 */
function setRetention(room: Room | null, cmd: Extract<RoomCommand, { type: 'SetRetention' }>, ctx: EventContext): RoomEvent[] {
  if (!canSee(room, cmd.actor.userId)) throw roomNotFound(cmd.roomId);
  const member = room.members.get(cmd.actor.userId);
  if (!member) throw new ChatError('NOT_MEMBER', `join "${cmd.roomId}" first`);
  if (room.kind !== 'group') throw new ChatError('FORBIDDEN', "a conversation keeps the deployment's retention period");
  mustBeAdmin(room, cmd.actor);
  const { days } = cmd;
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > Limits.retentionDaysMax))
    throw new ChatError('BAD_REQUEST', `days must be 1-${Limits.retentionDaysMax} or null`);
  if (days === room.retentionDays) return [];
  return [makeEvent<RoomRetentionSet>(ctx, 'RoomRetentionSet', 1, { roomId: room.roomId, days, ...by(cmd.actor) })];
}

function createRoom(room: Room | null, cmd: Extract<RoomCommand, { type: 'CreateRoom' }>, ctx: EventContext): RoomCreated {
  if (isDirectRoomId(cmd.roomId)) throw new ChatError('BAD_REQUEST', 'room ids starting with "dm-" are reserved for conversations');
  // A deleted room's tombstone keeps its id: ids are never used twice.
  if (room) throw new ChatError('CONFLICT', `room "${cmd.roomId}" already exists`);
  mustBeSlowMode(cmd.slowModeSeconds);
  return makeEvent<RoomCreated>(ctx, 'RoomCreated', 2, {
    roomId: cmd.roomId,
    name: cmd.name,
    topic: cmd.topic,
    visibility: cmd.visibility,
    postPolicy: cmd.postPolicy,
    memberLimit: cmd.memberLimit,
    slowModeSeconds: cmd.slowModeSeconds,
    ownerId: cmd.owner?.userId ?? null,
    ownerName: cmd.owner?.username ?? null,
  });
}

/** The role of a new member: the owner of an empty, ownerless room (not the default room). */
function roleOfNewMember(room: Room): MemberRole {
  return room.ownerId === null && room.members.size === 0 && !isDefaultRoom(room) ? 'owner' : 'member';
}

function joined(room: Room, user: UserView, ctx: EventContext): MemberJoined {
  mustHaveRoom(room);
  return makeEvent<MemberJoined>(ctx, 'MemberJoined', 1, { ...about(room, user), role: roleOfNewMember(room) });
}

function accept(room: Room, user: UserView, ctx: EventContext): MemberJoined {
  if (!room.invitations.has(user.userId)) throw noInvitation(room, user.userId);
  return joined(room, user, ctx);
}

function leave(room: Room, user: UserView, ctx: EventContext): RoomEvent {
  const leaver = room.members.get(user.userId);
  if (!leaver) throw room.visibility === 'private' ? roomNotFound(room.roomId) : notMember(room.roomId, user.userId);
  if (room.members.size === 1 && room.visibility === 'private') {
    // Nobody could ever enter it again (invitations come from members): the room is gone.
    return makeEvent<RoomDeleted>(ctx, 'RoomDeleted', 1, { roomId: room.roomId, reason: 'empty', ...by(user) });
  }
  const successor = room.ownerId === leaver.userId ? successorOf(room, leaver.userId) : null;
  return makeEvent<MemberLeft>(ctx, 'MemberLeft', 2, {
    ...about(room, leaver),
    successorId: successor?.userId ?? null,
    successorName: successor?.username ?? null,
  });
}

/** A member leaving a conversation (their account was deleted); nothing when they already left. */
function leaveConversation(room: Room | null, roomId: string, user: UserView, ctx: EventContext): RoomEvent[] {
  if (!room || room.kind !== 'direct') throw roomNotFound(roomId);
  const leaver = room.members.get(user.userId);
  if (!leaver) return [];
  return [makeEvent<MemberLeft>(ctx, 'MemberLeft', 2, { ...about(room, leaver), successorId: null, successorName: null })];
}

/** Who owns the room when the owner leaves: the longest-standing admin, else the longest-standing member. */
export function successorOf(room: Room, leavingOwnerId: string): Member | null {
  let best: Member | null = null;
  for (const m of room.members.values()) {
    if (m.userId === leavingOwnerId) continue;
    const better =
      !best || (m.role === 'admin' && best.role !== 'admin') || (m.role === best.role && m.joinedPosition < best.joinedPosition);
    if (better) best = m;
  }
  return best;
}

/**
 * Who an admin may kick or ban: anyone but the owner and (unless the actor is the owner) other
 * admins. Returns the member, or undefined for a non-member (banning one is allowed).
 */
function sanctionable(room: Room, actor: Actor, userId: string): Member | undefined {
  mustBeAdmin(room, actor);
  const target = room.members.get(userId);
  if (target?.role === 'owner') throw new ChatError('FORBIDDEN', 'the owner cannot be removed');
  if (target?.role === 'admin' && room.ownerId !== actor.userId) throw new ChatError('FORBIDDEN', 'only the owner may remove an admin');
  return target;
}

function openConversation(room: Room | null, cmd: Extract<RoomCommand, { type: 'OpenConversation' }>, ctx: EventContext): RoomEvent[] {
  const pair = conversationPair(cmd.roomId, cmd.actor, cmd.peer);
  if (room) {
    if (room.kind !== 'direct') throw roomNotFound(cmd.roomId);
    return [];
  }
  return [opened(cmd.roomId, pair, cmd.actor.userId, cmd.reason ?? 'message', ctx)];
}

/**
 * A block is recorded in the pair's conversation, opening it first when it does not exist yet:
 * two events appended one after the other (each expecting the previous one's position). A crash
 * between them leaves an open conversation without the block, which is harmless; the retry
 * finds it open and appends the block alone. Blocking twice, or unblocking someone not blocked,
 * changes nothing and appends nothing.
 */
function block(room: Room | null, cmd: Extract<RoomCommand, { type: 'Block' | 'Unblock' }>, ctx: EventContext): RoomEvent[] {
  const pair = conversationPair(cmd.roomId, cmd.actor, cmd.peer);
  if (room && room.kind !== 'direct') throw roomNotFound(cmd.roomId);
  const blocking = room?.direct?.blocks.has(cmd.actor.userId) ?? false;
  const ids = { roomId: cmd.roomId, blockerId: cmd.actor.userId, blockedId: cmd.peer.userId };
  if (cmd.type === 'Unblock') return blocking ? [makeEvent<UserUnblocked>(ctx, 'UserUnblocked', 1, ids)] : [];
  if (blocking) return [];
  const blocked = makeEvent<UserBlocked>(ctx, 'UserBlocked', 1, ids);
  return room ? [blocked] : [opened(cmd.roomId, pair, cmd.actor.userId, 'block', ctx), blocked];
}

function conversationPair(roomId: string, actor: UserView, peer: UserView): [UserView, UserView] {
  if (actor.userId === peer.userId) throw new ChatError('BAD_REQUEST', 'that is you');
  if (roomId !== directRoomId(actor.userId, peer.userId)) throw roomNotFound(roomId);
  return actor.userId < peer.userId ? [actor, peer] : [peer, actor];
}

function opened(
  roomId: string,
  [a, b]: [UserView, UserView],
  openedById: string,
  reason: ConversationOpened['payload']['reason'],
  ctx: EventContext,
): ConversationOpened {
  return makeEvent<ConversationOpened>(ctx, 'ConversationOpened', 1, {
    roomId,
    userAId: a.userId,
    userAName: a.username,
    userBId: b.userId,
    userBName: b.username,
    openedById,
    reason,
  });
}

export interface PostMessage {
  roomId: string;
  userId: string;
  username: string;
  clientMsgId: string;
  messageId: string;
  /** The body as moderation accepted it. */
  body: string;
  /** The message answered, as it was when the reply was accepted (replyRefOf); absent: not a reply. */
  replyTo?: ReplyRef | null;
  /** When (ms since epoch) the sender's last message in this room was stored, as far as known (SlowModeClock); absent: none. */
  lastPostMs?: number | null;
}

/**
 * Who may post: members; in rooms with postPolicy 'admins' only the owner and admins; in a
 * conversation only while neither side blocks the other (BLOCKED to both). Non-members of a
 * public room get NOT_MEMBER; of a private room or conversation, the missing room's answer.
 * The message's mentions are the room's current members named in the body (findMentions).
 * Slow mode (group rooms): a member who is not the owner or an admin posts at most one message
 * per `slowModeSeconds`; sooner is RATE_LIMITED with the wait (`retryAfterMs=<n>` at the end).
 */
export function decidePost(room: Room | null, cmd: PostMessage, ctx: EventContext): MessagePosted {
  if (!isLive(room)) throw roomNotFound(cmd.roomId);
  const member = room.members.get(cmd.userId);
  if (!member) {
    if (room.kind === 'direct' || room.visibility === 'private') throw roomNotFound(cmd.roomId);
    throw new ChatError('NOT_MEMBER', `join "${cmd.roomId}" before posting`);
  }
  if (room.direct && room.direct.blocks.size > 0) throw new ChatError('BLOCKED', 'this conversation is blocked; the message was not sent');
  if (room.postPolicy === 'admins' && !isAdmin(member)) throw new ChatError('FORBIDDEN', `only admins may post in "${cmd.roomId}"`);
  if (room.kind === 'group' && room.slowModeSeconds > 0 && !isAdmin(member) && cmd.lastPostMs != null) {
    const waitMs = cmd.lastPostMs + room.slowModeSeconds * 1000 - ctx.now().getTime();
    if (waitMs > 0)
      throw new ChatError(
        'RATE_LIMITED',
        `slow mode: one message per ${room.slowModeSeconds} s in "${cmd.roomId}"; wait ${Math.ceil(waitMs / 1000)} s; retryAfterMs=${waitMs}`,
      );
  }
  return makeEvent<MessagePosted>({ ...ctx, newId: () => cmd.messageId }, 'MessagePosted', 2, {
    replyTo: cmd.replyTo ?? null,
    mentions: findMentions(cmd.body, mentionIndexOf(room)),
    messageId: cmd.messageId,
    roomId: cmd.roomId,
    senderId: cmd.userId,
    senderName: cmd.username,
    clientMsgId: cmd.clientMsgId,
    body: cmd.body,
  });
}

/** The room every deployment has; created by the system at start-up if missing. */
export const defaultRoomCommand = (name: string): RoomCommand => ({
  type: 'CreateRoom',
  roomId: DEFAULT_ROOM_ID,
  name,
  topic: '',
  visibility: 'public',
  postPolicy: 'members',
  memberLimit: Limits.memberLimitMax,
  slowModeSeconds: 0,
  owner: null,
});

// ---- small helpers ----

const about = (room: Room, user: UserView) => ({ roomId: room.roomId, userId: user.userId, username: user.username });
const by = (actor: Actor) => ({ byUserId: actor.userId, byUsername: actor.username });
const alreadyMember = (roomId: string) => new ChatError('ALREADY_MEMBER', `already a member of "${roomId}"`);
const notMember = (roomId: string, userId: string) => new ChatError('NOT_MEMBER', `user "${userId}" is not a member of "${roomId}"`);

function noInvitation(room: Room, userId: string): ChatError {
  // A private room is invisible to someone who is neither a member nor invited.
  if (room.visibility === 'private' && !room.members.has(userId)) return roomNotFound(room.roomId);
  return new ChatError('NOT_FOUND', `no pending invitation to "${room.roomId}"`);
}

function mustHaveRoom(room: Room) {
  if (room.members.size >= room.memberLimit)
    throw new ChatError('ROOM_FULL', `room "${room.roomId}" is full (${room.memberLimit} members)`);
}

function mustBeSlowMode(seconds: number) {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > Limits.slowModeSecondsMax)
    throw new ChatError('BAD_REQUEST', `slowModeSeconds must be 0 (off) or 1-${Limits.slowModeSecondsMax}`);
}

function mustBeAdmin(room: Room, actor: Actor) {
  if (!isAdmin(room.members.get(actor.userId))) throw new ChatError('FORBIDDEN', `only admins of "${room.roomId}" may do this`);
}

function mustBeOwner(room: Room, actor: Actor) {
  if (room.ownerId !== actor.userId) throw new ChatError('FORBIDDEN', `only the owner of "${room.roomId}" may do this`);
}

function assertNeverCommand(cmd: never): never {
  throw new Error(`unhandled room command: ${JSON.stringify(cmd)}`);
}
