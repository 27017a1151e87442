import { Limits } from '../dto';
import { checks, createDecoder, upcaster, type EventDecoder, type EventSpecs, type Upcasters } from '../events/decoder';
import { roomEventSpecs, roomEventUpcasters } from '../rooms/decode';
import type { RoomEvent } from '../rooms/events';
import type { ChatEvent, Mention, MessageEvent, MessageEventType, MessagePosted, MessagePostedV1Payload, ReplyRef } from './events';

const mention = checks.shape<Mention>({ userId: checks.uuid, username: checks.nonEmpty });
const mentions = checks.arrayOf(mention, Limits.mentionsPerMessageMax);
const replyRef = checks.shape<ReplyRef>({
  messageId: checks.uuid,
  position: checks.positiveInt,
  senderId: checks.uuid,
  senderName: checks.nonEmpty,
  excerpt: checks.string,
});
const postedV1 = {
  messageId: checks.uuid,
  roomId: checks.roomId,
  senderId: checks.uuid,
  senderName: checks.nonEmpty,
  clientMsgId: checks.nonEmpty,
  body: checks.string,
};
const reaction = {
  messageId: checks.uuid,
  roomId: checks.roomId,
  userId: checks.uuid,
  username: checks.nonEmpty,
  emoji: checks.nonEmpty,
};

/** Events of `ns.chat.room.<id>.msg`, current version of each. */
export const messageEventSpecs: EventSpecs<MessageEvent> = {
  MessagePosted: { version: 2, payload: { ...postedV1, replyTo: checks.nullable(replyRef), mentions } },
  MessageEdited: {
    version: 1,
    payload: { messageId: checks.uuid, roomId: checks.roomId, senderId: checks.uuid, body: checks.string, mentions },
  },
  MessageDeleted: {
    version: 1,
    payload: {
      messageId: checks.uuid,
      roomId: checks.roomId,
      byUserId: checks.uuid,
      byUsername: checks.nonEmpty,
      reason: checks.oneOf<'author' | 'moderator'>({ author: true, moderator: true }),
    },
  },
  ReactionAdded: { version: 1, payload: reaction },
  ReactionRemoved: { version: 1, payload: reaction },
};

/** The whole chat stream: room events and message events. */
export const chatEventSpecs: EventSpecs<ChatEvent> = { ...roomEventSpecs, ...messageEventSpecs };

/**
 * Older versions of chat events and how they are read as the current one. MessagePosted v1
 * (before replies and mentions) had neither.
 */
export const chatEventUpcasters: Upcasters<ChatEvent> = {
  ...roomEventUpcasters,
  MessagePosted: {
    1: upcaster<MessagePostedV1Payload, MessagePosted['payload']>(postedV1, (p) => ({ ...p, replyTo: null, mentions: [] })),
  },
};

export const chatDecoder: EventDecoder<ChatEvent> = createDecoder(chatEventSpecs, chatEventUpcasters);

/** Any message stored on the chat stream (bytes or parsed JSON) as a current-shape event, or why not. */
export const decodeChatEvent = chatDecoder.decode;
export const chatEventTypes = chatDecoder.types;

const messageTypes: readonly string[] = Object.keys(messageEventSpecs);
export const messageEventTypes = messageTypes as readonly MessageEventType[];

export const isRoomEvent = (e: ChatEvent): e is RoomEvent => !messageTypes.includes(e.type);
export const isMessageEvent = (e: ChatEvent): e is MessageEvent => messageTypes.includes(e.type);
