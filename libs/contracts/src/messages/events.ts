import type { Event } from '../envelope';

/** A member named in a message (`@username`), resolved by the rooms service when it was accepted. */
export interface Mention {
  userId: string;
  username: string;
}

/**
 * The message a post answers, as it stood when the reply was accepted (a snapshot, so a live
 * client can show the quote without a lookup; history shows the quoted message as it is now).
 */
export interface ReplyRef {
  messageId: string;
  position: number;
  senderId: string;
  senderName: string;
  /** The start of the quoted text (at most Limits.replyExcerptChars code points). */
  excerpt: string;
}

/** v1 of MessagePosted, frozen: read as v2 with no reply and no mentions. */
export interface MessagePostedV1Payload {
  messageId: string;
  roomId: string;
  senderId: string;
  senderName: string;
  clientMsgId: string;
  body: string;
}

export type MessagePosted = Event<
  'MessagePosted',
  {
    messageId: string;
    roomId: string;
    senderId: string;
    senderName: string;
    /** The client's own id for the message; (senderId, clientMsgId) is unique per room. */
    clientMsgId: string;
    /** The text as accepted by moderation (NFC-normalised). */
    body: string;
    /** The message this one replies to, in the same room; null when it is not a reply. */
    replyTo: ReplyRef | null;
    /** Members of the room named as `@username` in the body (each once, in order of first mention). */
    mentions: Mention[];
  },
  2
>;

/**
 * The author changed the text. Only the author edits (rooms decides; history re-checks the
 * author against the stored message). The mentions are those of the new text.
 */
export type MessageEdited = Event<
  'MessageEdited',
  {
    messageId: string;
    roomId: string;
    /** The author, who is the only one who may edit. */
    senderId: string;
    body: string;
    mentions: Mention[];
  }
>;

/**
 * A message was deleted: its text, reply quote, mentions and reactions are gone, a tombstone
 * (id, position, sender, time, who deleted it) stays. `reason`: `author` (the sender deleted
 * it) or `moderator` (a room owner or admin, or a server administrator).
 */
export type MessageDeleted = Event<
  'MessageDeleted',
  {
    messageId: string;
    roomId: string;
    byUserId: string;
    byUsername: string;
    reason: 'author' | 'moderator';
  }
>;

/** A member's reaction; one per user per emoji per message (a second one is no change). */
export type ReactionAdded = Event<'ReactionAdded', { messageId: string; roomId: string; userId: string; username: string; emoji: string }>;
export type ReactionRemoved = Event<
  'ReactionRemoved',
  { messageId: string; roomId: string; userId: string; username: string; emoji: string }
>;

/** Everything appended to `ns.chat.room.<id>.msg`. */
export type MessageEvent = MessagePosted | MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved;
export type MessageEventType = MessageEvent['type'];

/** Every event of the chat stream. */
export type ChatEvent = import('../rooms/events').RoomEvent | MessageEvent;
