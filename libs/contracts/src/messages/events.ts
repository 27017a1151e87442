import type { Event } from '../envelope';

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
  }
>;

/** Everything appended to `ns.chat.room.<id>.msg`. Edits, deletes, reactions come later. */
export type MessageEvent = MessagePosted;
export type MessageEventType = MessageEvent['type'];

/** Every event of the chat stream. */
export type ChatEvent = import('../rooms/events').RoomEvent | MessageEvent;
