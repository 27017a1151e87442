export * from './envelope';
export * from './errors';
export * from './ids';
export * from './subjects';
export * from './rpc';
export * from './dto';
export * from './views';
export * from './validation';
export * from './rooms/events';
export * from './messages/events';
export * from './accounts/events';
export * from './accounts/usernames';
export * from './presence/events';
export * from './moderation/check';
export * from './ws/protocol';
export * from './ws/operations';

import type { AccountEvent } from './accounts/events';
import type { ChatEvent } from './messages/events';
import type { PresenceEvent } from './presence/events';
/** Every event the system appends, across streams. */
export type DomainEvent = ChatEvent | AccountEvent | PresenceEvent;

export {
  checks,
  createDecoder,
  readPayload,
  upcaster,
  type Check,
  type DecodeFailure,
  type Decoded,
  type EventDecoder,
  type EventSpec,
  type EventSpecs,
  type PayloadSpec,
  type Upcaster,
  type Upcasters,
} from './events/decoder';
export { isRoomEventType, roomEventSpecs, roomEventTypes, RoomEventTypes } from './rooms/decode';
export {
  chatDecoder,
  chatEventSpecs,
  chatEventTypes,
  chatEventUpcasters,
  decodeChatEvent,
  isMessageEvent,
  isRoomEvent,
  messageEventSpecs,
  messageEventTypes,
} from './messages/decode';
export { accountDecoder, accountEventSpecs, accountEventTypes, accountEventUpcasters, decodeAccountEvent } from './accounts/decode';
export { decodePresenceEvent, presenceDecoder, presenceEventSpecs, presenceEventTypes, presenceEventUpcasters } from './presence/decode';
