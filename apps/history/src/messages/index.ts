import { messageEventTypes } from '@chat/contracts';
import type { ReadModel } from '../store/read-model';
import { MessageRow } from './message.entity';
import { decodeMessage, planMessages, type MessageRecord, type MessagesPart } from './messages.plan';
import { applyMessages } from './messages.store';

/** The messages read model: every MessagePosted as a row, paged per room (page.ts). */
export const messages: ReadModel<MessageRecord, MessagesPart> = {
  eventTypes: messageEventTypes,
  entities: [MessageRow],
  decode: decodeMessage,
  plan: planMessages,
  apply: applyMessages,
};

export { MessageRow } from './message.entity';
export { MessageQueries } from './messages.store';
export type { MessageRecord, MessagesPart } from './messages.plan';
