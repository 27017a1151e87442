import { checks, createDecoder, type EventDecoder, type EventSpecs, type Upcasters } from '../events/decoder';
import { roomEventSpecs, roomEventUpcasters } from '../rooms/decode';
import type { RoomEvent } from '../rooms/events';
import type { ChatEvent, MessageEvent, MessageEventType } from './events';

/** Events of `ns.chat.room.<id>.msg`, current version of each. */
export const messageEventSpecs: EventSpecs<MessageEvent> = {
  MessagePosted: {
    version: 1,
    payload: {
      messageId: checks.uuid,
      roomId: checks.roomId,
      senderId: checks.uuid,
      senderName: checks.nonEmpty,
      clientMsgId: checks.nonEmpty,
      body: checks.string,
    },
  },
};

/** The whole chat stream: room events and message events. */
export const chatEventSpecs: EventSpecs<ChatEvent> = { ...roomEventSpecs, ...messageEventSpecs };

/** Older versions of chat events and how they are read as the current one. */
export const chatEventUpcasters: Upcasters<ChatEvent> = { ...roomEventUpcasters };

export const chatDecoder: EventDecoder<ChatEvent> = createDecoder(chatEventSpecs, chatEventUpcasters);

/** Any message stored on the chat stream (bytes or parsed JSON) as a current-shape event, or why not. */
export const decodeChatEvent = chatDecoder.decode;
export const chatEventTypes = chatDecoder.types;

const messageTypes: readonly string[] = Object.keys(messageEventSpecs);
export const messageEventTypes = messageTypes as readonly MessageEventType[];

export const isRoomEvent = (e: ChatEvent): e is RoomEvent => !messageTypes.includes(e.type);
export const isMessageEvent = (e: ChatEvent): e is MessageEvent => messageTypes.includes(e.type);
