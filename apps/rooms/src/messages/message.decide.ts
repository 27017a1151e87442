import {
  ChatError,
  Limits,
  MODERATION_USER,
  makeEvent,
  type EventContext,
  type MessageDeleted,
  type MessageEdited,
  type MessageView,
  type ReactionAdded,
  type ReactionRemoved,
  type ReplyRef,
  type UserView,
} from '@chat/contracts';
import { isAdmin, isLive, type Member, type Room } from '../room/room';
import { roomNotFound } from '../room/room.decide';
import { findMentions, mentionIndexOf } from './mentions';

/**
 * Commands on one message of a room, named in the imperative. `actor` is the caller as the
 * gateway verified them; `serverAdmin` whether the operator lists them in SERVER_ADMINS.
 */
export type MessageCommand =
  /** `body`: the new text as moderation accepted it (or, before moderation, as sent). */
  | { type: 'EditMessage'; roomId: string; messageId: string; actor: UserView; body: string }
  | { type: 'DeleteMessage'; roomId: string; messageId: string; actor: UserView; serverAdmin: boolean }
  | { type: 'AddReaction'; roomId: string; messageId: string; actor: UserView; emoji: string }
  | { type: 'RemoveReaction'; roomId: string; messageId: string; actor: UserView; emoji: string };

export type MessageChange = MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved;

/**
 * The room-level half of the rules, checked before the message is looked up (so a caller who
 * may not be here learns nothing about the room's messages): the caller must be a member
 * (NOT_MEMBER in a public room; the missing room's answer anywhere else). The one exception is a server administrator deleting in a group room they can
 * see. Returns the caller's membership (undefined only for that exception).
 */
export function messageAccess(room: Room | null, cmd: MessageCommand): Member | undefined {
  if (!isLive(room)) throw roomNotFound(cmd.roomId);
  const member = room.members.get(cmd.actor.userId);
  if (member) return member;
  // A conversation or a private room: outsiders (invitees too, who cannot read its history
  // either) get the missing room's answer, as for a post.
  if (room.kind === 'direct' || room.visibility === 'private') throw roomNotFound(cmd.roomId);
  if (cmd.type === 'DeleteMessage' && cmd.serverAdmin && room.visibility === 'public') return undefined;
  throw new ChatError('NOT_MEMBER', `join "${cmd.roomId}" first`);
}

/**
 * The message rules (docs/rooms.md, Messages). Pure: given the room, the command and the
 * message as history holds it (null: unknown), returns the event to append to the room's
 * message subject, or throws ChatError (nothing appended). Errors come in the order of
 * docs/protocol.md: the room (NOT_FOUND, NOT_MEMBER), the message (NOT_FOUND, also a deleted one
 * or one of another room), then the right to act (FORBIDDEN), then blocks (BLOCKED).
 *
 * History re-checks what it can when it applies the event (the stream decides): an edit whose
 * sender is not the stored message's, or any change to a message deleted meanwhile, is ignored.
 */
export function decideMessage(room: Room | null, cmd: MessageCommand, message: MessageView | null, ctx: EventContext): MessageChange {
  const member = messageAccess(room, cmd);
  const r = room!;
  const target = liveMessage(message, cmd.roomId, cmd.messageId);
  const ids = { messageId: target.messageId, roomId: r.roomId };
  switch (cmd.type) {
    case 'EditMessage': {
      if (target.senderId !== cmd.actor.userId) throw new ChatError('FORBIDDEN', 'only the author may edit a message');
      // Editing is writing: where only admins may post, an author who is no longer one may not edit.
      if (r.postPolicy === 'admins' && !isAdmin(member)) throw new ChatError('FORBIDDEN', `only admins may post in "${r.roomId}"`);
      mustNotBeBlocked(r);
      return makeEvent<MessageEdited>(ctx, 'MessageEdited', 1, {
        ...ids,
        senderId: cmd.actor.userId,
        body: cmd.body,
        mentions: findMentions(cmd.body, mentionIndexOf(r)),
      });
    }
    case 'DeleteMessage': {
      const reason = deletionReason(r, member, cmd, target);
      return makeEvent<MessageDeleted>(ctx, 'MessageDeleted', 1, {
        ...ids,
        byUserId: cmd.actor.userId,
        byUsername: cmd.actor.username,
        reason,
      });
    }
    case 'AddReaction': {
      // Counted from history's view: two different new emoji racing on the 20th place may both
      // pass, which history keeps (the limit is a brake on clutter, not an invariant).
      const present = target.reactions.some((x) => x.emoji === cmd.emoji);
      if (!present && target.reactions.length >= Limits.reactionsPerMessageMax)
        throw new ChatError('FORBIDDEN', `a message has at most ${Limits.reactionsPerMessageMax} different emoji`);
      mustNotBeBlocked(r);
      return makeEvent<ReactionAdded>(ctx, 'ReactionAdded', 1, { ...ids, ...by(cmd.actor), emoji: cmd.emoji });
    }
    case 'RemoveReaction':
      // Always appended, even when history's view does not list the reaction: that view may not
      // have the caller's own add yet, and a remove dropped here would leave it standing.
      return makeEvent<ReactionRemoved>(ctx, 'ReactionRemoved', 1, { ...ids, ...by(cmd.actor), emoji: cmd.emoji });
    default:
      return assertNeverCommand(cmd);
  }
}

/**
 * The moderation service removes a message on a rule's verdict (`rooms.moderatorDelete`): in any
 * live room or conversation, whoever wrote it, as MODERATION_USER with reason `moderator` (the
 * rule and its reason are in the moderation stream's MessageRedacted). NOT_FOUND for a missing
 * room or message, and for a message already deleted (a repeated verdict: nothing to do).
 */
export function decideModeratorDelete(
  room: Room | null,
  req: { roomId: string; messageId: string },
  message: MessageView | null,
  ctx: EventContext,
): MessageDeleted {
  if (!isLive(room)) throw roomNotFound(req.roomId);
  const target = liveMessage(message, req.roomId, req.messageId);
  return makeEvent<MessageDeleted>(ctx, 'MessageDeleted', 1, {
    messageId: target.messageId,
    roomId: room.roomId,
    byUserId: MODERATION_USER.userId,
    byUsername: MODERATION_USER.username,
    reason: 'moderator',
  });
}

/**
 * Who may delete: the author (reason `author`, in any room or conversation they are in); in a
 * group room its owner and admins, and server administrators (reason `moderator`).
 */
function deletionReason(
  room: Room,
  member: Member | undefined,
  cmd: Extract<MessageCommand, { type: 'DeleteMessage' }>,
  target: MessageView,
): MessageDeleted['payload']['reason'] {
  if (member && target.senderId === cmd.actor.userId) return 'author';
  if (room.kind === 'group' && (isAdmin(member) || cmd.serverAdmin)) return 'moderator';
  throw new ChatError('FORBIDDEN', 'only the author, a room admin or a server administrator may delete this message');
}

/**
 * What a reply carries of the message it answers: a snapshot as it is now. The quoted message
 * must be a live message of the same room (NOT_FOUND otherwise, deleted ones included).
 */
export function replyRefOf(message: MessageView | null, roomId: string, messageId: string): ReplyRef {
  const quoted = liveMessage(message, roomId, messageId);
  return {
    messageId: quoted.messageId,
    position: quoted.position,
    senderId: quoted.senderId,
    senderName: quoted.senderName,
    excerpt: excerptOf(quoted.body),
  };
}

/** The first Limits.replyExcerptChars code points (never half of a surrogate pair). */
export function excerptOf(body: string): string {
  const chars = Array.from(body);
  return chars.length <= Limits.replyExcerptChars ? body : chars.slice(0, Limits.replyExcerptChars).join('');
}

function liveMessage(message: MessageView | null, roomId: string, messageId: string): MessageView {
  if (!message || message.deleted || message.roomId !== roomId || message.messageId !== messageId)
    throw new ChatError('NOT_FOUND', `message "${messageId}" does not exist in "${roomId}"`);
  return message;
}

function mustNotBeBlocked(room: Room) {
  if (room.direct && room.direct.blocks.size > 0) throw new ChatError('BLOCKED', 'this conversation is blocked; nothing was changed');
}

const by = (actor: UserView) => ({ userId: actor.userId, username: actor.username });

function assertNeverCommand(cmd: never): never {
  throw new Error(`unhandled message command: ${JSON.stringify(cmd)}`);
}
