import { messageEventTypes } from '@chat/contracts';
import type { ReadModel } from '../store/read-model';
import { MessageRow } from './message.entity';
import { decodeMessage, planMessages, type MessageChange, type MessagesPart } from './messages.plan';
import { applyMessages } from './messages.store';

/**
 * The messages read model: every MessagePosted as a row, with its edits, deletion and reactions
 * folded in (messages.plan.ts), paged per room (page.ts).
 */
export const messages: ReadModel<MessageChange, MessagesPart> = {
  // MessagePosted, MessageEdited, MessageDeleted, ReactionAdded, ReactionRemoved.
  eventTypes: messageEventTypes,
  entities: [MessageRow],
  decode: decodeMessage,
  plan: planMessages,
  apply: applyMessages,
};

export { MessageRow } from './message.entity';
export { MessageQueries } from './messages.store';
export type { ChangeRecord, MessageChange, MessageRecord, MessagesPart } from './messages.plan';
