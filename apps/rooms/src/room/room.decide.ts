import {
  ChatError,
  DEFAULT_ROOM_ID,
  Limits,
  makeEvent,
  type EventContext,
  type MemberJoined,
  type MemberLeft,
  type MessagePosted,
  type RoomCreated,
  type RoomEvent,
  type RoomSettings,
} from '@chat/contracts';
import type { Room } from './room';

/** Commands on the room aggregate, named in the imperative. */
export type RoomCommand =
  | (RoomSettings & {
      type: 'CreateRoom';
      roomId: string;
      /** null: created by the system (the default room). */
      owner: { userId: string; username: string } | null;
    })
  | { type: 'JoinRoom'; roomId: string; userId: string; username: string }
  | { type: 'LeaveRoom'; roomId: string; userId: string; username: string };

/**
 * The room rules. Pure: given the room's current state and a command, returns the events to
 * append or throws ChatError (nothing appended). Clock and ids come in through `ctx`.
 *
 * - Anyone may create a room with an unused id; the creator becomes its owner and a member.
 * - Public rooms are open to anyone up to `memberLimit`; private rooms are invite-only
 *   (invitations come with the permissions issue, so for now nobody can join one).
 * - Leaving requires membership. The owner may leave; the room stays.
 */
export function decide(room: Room | null, cmd: RoomCommand, ctx: EventContext): RoomEvent[] {
  switch (cmd.type) {
    case 'CreateRoom': {
      if (room) throw new ChatError('CONFLICT', `room "${cmd.roomId}" already exists`);
      return [
        makeEvent<RoomCreated>(ctx, 'RoomCreated', 1, {
          roomId: cmd.roomId,
          name: cmd.name,
          topic: cmd.topic,
          visibility: cmd.visibility,
          postPolicy: cmd.postPolicy,
          memberLimit: cmd.memberLimit,
          ownerId: cmd.owner?.userId ?? null,
          ownerName: cmd.owner?.username ?? null,
        }),
      ];
    }
    case 'JoinRoom': {
      if (!room) throw new ChatError('NOT_FOUND', `room "${cmd.roomId}" does not exist`);
      if (room.members.has(cmd.userId)) throw new ChatError('ALREADY_MEMBER', `already a member of "${cmd.roomId}"`);
      if (room.visibility === 'private') throw new ChatError('FORBIDDEN', `room "${cmd.roomId}" is invite-only`);
      if (room.members.size >= room.memberLimit)
        throw new ChatError('ROOM_FULL', `room "${cmd.roomId}" is full (${room.memberLimit} members)`);
      return [
        makeEvent<MemberJoined>(ctx, 'MemberJoined', 1, { roomId: cmd.roomId, userId: cmd.userId, username: cmd.username, role: 'member' }),
      ];
    }
    case 'LeaveRoom': {
      if (!room) throw new ChatError('NOT_FOUND', `room "${cmd.roomId}" does not exist`);
      if (!room.members.has(cmd.userId)) throw new ChatError('NOT_MEMBER', `not a member of "${cmd.roomId}"`);
      return [makeEvent<MemberLeft>(ctx, 'MemberLeft', 1, { roomId: cmd.roomId, userId: cmd.userId, username: cmd.username })];
    }
  }
}

export interface PostMessage {
  roomId: string;
  userId: string;
  username: string;
  clientMsgId: string;
  messageId: string;
  /** The body as moderation accepted it. */
  body: string;
}

/** Who may post: members, and in rooms with postPolicy 'admins' only owner/admins. */
export function decidePost(room: Room | null, cmd: PostMessage, ctx: EventContext): MessagePosted {
  if (!room) throw new ChatError('NOT_FOUND', `room "${cmd.roomId}" does not exist`);
  const member = room.members.get(cmd.userId);
  if (!member) throw new ChatError('NOT_MEMBER', `join "${cmd.roomId}" before posting`);
  if (room.postPolicy === 'admins' && member.role === 'member') throw new ChatError('FORBIDDEN', `only admins may post in "${cmd.roomId}"`);
  return makeEvent<MessagePosted>({ ...ctx, newId: () => cmd.messageId }, 'MessagePosted', 1, {
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
  owner: null,
});
