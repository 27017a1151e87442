import type { ChatEvent } from '@chat/contracts';
import { letterOf, reject, storable, type DeadLetter, type Rejected, type RoomSubjects, type StreamEvent } from '../store/events';

/** A row of `messages`. */
export interface MessageRecord {
  messageId: string;
  roomId: string;
  position: number;
  senderId: string;
  senderName: string;
  clientMsgId: string;
  body: string;
  createdAt: Date;
}

/** The messages read model's part of a batch plan: rows inserted with ON CONFLICT DO NOTHING. */
export interface MessagesPart {
  inserts: MessageRecord[];
}

/**
 * MessagePosted -> its row. The event is already checked whole by the chat stream's decoder;
 * what is left are history's own rules: it must be stored on its own room's subject, and text
 * must fit Postgres.
 */
export function decodeMessage(e: StreamEvent, ev: ChatEvent, subjects: RoomSubjects): MessageRecord | Rejected {
  if (ev.type !== 'MessagePosted') return reject(`the messages read model does not project ${ev.type}`);
  const p = ev.payload;
  // A message stored under another room's subject would leak into that room's history.
  if (e.subject !== subjects.roomMessages(p.roomId)) return reject(`MessagePosted for room "${p.roomId}" stored on subject ${e.subject}`);
  return {
    messageId: p.messageId,
    roomId: p.roomId,
    position: e.position,
    senderId: p.senderId,
    senderName: storable(p.senderName),
    clientMsgId: storable(p.clientMsgId),
    body: storable(p.body),
    createdAt: new Date(ev.time),
  };
}

/** Every decoded message is inserted; the insert itself skips what is stored already. */
export const planMessages = (rows: MessageRecord[]): MessagesPart => ({ inserts: rows });

/** The key columns of a stored message row: what an INSERT of another row can collide with. */
export interface StoredMessageKey {
  messageId: string;
  position: number;
}

/**
 * Decides what becomes of messages the INSERT skipped (ON CONFLICT DO NOTHING) because a row with
 * the same message id or the same position is already stored. The same event again (same
 * position, same id) is a redelivery and needs nothing. Anything else is a different accepted
 * event that would otherwise vanish without a trace, so it becomes a dead letter naming the row
 * in its way. `stored` must hold every row whose id or position matches a skipped message; a
 * skipped message with no such row means the rows changed under the transaction, which throws
 * (the batch is retried) rather than dropping the event.
 */
export function resolveSkipped(skipped: MessageRecord[], stored: StoredMessageKey[], events: StreamEvent[]): DeadLetter[] {
  const byPosition = new Map(stored.map((r) => [r.position, r]));
  const byId = new Map(stored.map((r) => [r.messageId, r]));
  const eventAt = new Map(events.map((e) => [e.position, e]));
  const letters: DeadLetter[] = [];
  for (const m of skipped) {
    const e = eventAt.get(m.position);
    if (!e) throw new Error(`no event at position ${m.position} for a planned message`);
    const samePosition = byPosition.get(m.position);
    if (samePosition?.messageId === m.messageId) continue;
    if (samePosition) {
      letters.push(conflictLetter(e, `position ${m.position} already holds message ${samePosition.messageId}`));
      continue;
    }
    const sameId = byId.get(m.messageId);
    if (!sameId) throw new Error(`message ${m.messageId} at position ${m.position} was not inserted, yet no row is in its way`);
    letters.push(conflictLetter(e, `messageId ${m.messageId} is already stored at position ${sameId.position}`));
  }
  return letters;
}

const conflictLetter = (e: StreamEvent, why: string): DeadLetter => letterOf(e, `MessagePosted: ${why}`);
