import { isRoomId, type MessagePosted } from '@chat/contracts';
import {
  letterOf,
  isObject,
  reject,
  storable,
  UUID,
  type DeadLetter,
  type Envelope,
  type Rejected,
  type RoomSubjects,
  type StreamEvent,
} from '../store/events';

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

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** MessagePosted -> its row; anything malformed, or stored on another room's subject, is rejected. */
export function decodeMessage(e: StreamEvent, ev: Envelope, subjects: RoomSubjects): MessageRecord | Rejected {
  if (ev.type !== 'MessagePosted') return reject(`unknown event type "${ev.type}"`);
  if (ev.version !== 1) return reject(`unsupported MessagePosted version ${JSON.stringify(ev.version)}`);
  const p = ev.payload;
  if (!isObject(p)) return reject('MessagePosted: payload must be an object');
  const problems: string[] = [];
  const str = (field: keyof MessagePosted['payload'], nonEmpty: boolean) => {
    const v = p[field];
    if (typeof v !== 'string' || (nonEmpty && v.length === 0)) problems.push(`${field} must be a${nonEmpty ? ' non-empty' : ''} string`);
  };
  if (typeof p.messageId !== 'string' || !UUID.test(p.messageId)) problems.push('messageId must be a UUID');
  if (!isRoomId(p.roomId)) problems.push('roomId must be a room id');
  if (typeof p.senderId !== 'string' || !UUID.test(p.senderId)) problems.push('senderId must be a UUID');
  str('senderName', true);
  str('clientMsgId', true);
  str('body', false);
  const time = typeof ev.time === 'string' && ISO_TIME.test(ev.time) ? new Date(ev.time) : null;
  if (!time || Number.isNaN(time.getTime())) problems.push('time must be an ISO-8601 timestamp');
  if (problems.length) return reject(`MessagePosted: ${problems.join('; ')}`);

  const roomId = p.roomId as string;
  // A message stored under another room's subject would leak into that room's history.
  if (e.subject !== subjects.roomMessages(roomId)) return reject(`MessagePosted for room "${roomId}" stored on subject ${e.subject}`);
  return {
    messageId: p.messageId as string,
    roomId,
    position: e.position,
    senderId: p.senderId as string,
    senderName: storable(p.senderName as string),
    clientMsgId: storable(p.clientMsgId as string),
    body: storable(p.body as string),
    createdAt: time!,
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
