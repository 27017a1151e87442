import { isRoomId, RoomEventTypes, type MessagePosted } from '@chat/contracts';

/** One stored event of the CHAT stream as the projector sees it. */
export interface StreamEvent {
  subject: string;
  /** Stream sequence. */
  position: number;
  /** Parsed JSON; undefined when the payload was not JSON. */
  data: unknown;
  /** The stored bytes, kept in dead letters. */
  raw?: Uint8Array;
}

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

export interface DeadLetter {
  position: number;
  subject: string;
  raw: string;
  error: string;
}

export type Projection =
  | { kind: 'message'; row: MessageRecord }
  /** A known event this projection has no table for (yet); it only advances the checkpoint. */
  | { kind: 'ignored'; type: string }
  | { kind: 'dead'; letter: DeadLetter };

/** Where each room's messages are appended (subjects.chat.roomMessages). */
export type MessageSubjectOf = (roomId: string) => string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Postgres text cannot hold U+0000 and would fail the whole batch (blocking the stream), so
 * it becomes U+FFFD; every other character is stored as sent.
 */
const storable = (s: string) => s.replace(/\u0000/g, '\uFFFD');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function rawText(e: StreamEvent): string {
  if (e.raw) return storable(decoder.decode(e.raw));
  return e.data === undefined ? '' : storable(JSON.stringify(e.data));
}

const letterOf = (e: StreamEvent, error: string): DeadLetter => ({ position: e.position, subject: e.subject, raw: rawText(e), error });
const dead = (e: StreamEvent, error: string): Projection => ({ kind: 'dead', letter: letterOf(e, error) });

/**
 * Decides what one stream event becomes in the history tables. Pure: no I/O, same input ->
 * same output, which is what makes re-projecting a redelivered batch change nothing.
 * Anything that cannot be projected becomes a dead letter instead of an error, so one bad
 * event never stops the projection.
 */
export function project(e: StreamEvent, messageSubjectOf: MessageSubjectOf): Projection {
  if (e.data === undefined) return dead(e, 'payload is not JSON');
  if (!isObject(e.data) || typeof e.data.type !== 'string') return dead(e, 'payload is not an event envelope (no type)');
  const type = e.data.type;
  if ((RoomEventTypes as readonly string[]).includes(type)) return { kind: 'ignored', type };
  if (type !== 'MessagePosted') return dead(e, `unknown event type "${type}"`);
  return messagePosted(e, e.data, messageSubjectOf);
}

function messagePosted(e: StreamEvent, ev: Record<string, unknown>, messageSubjectOf: MessageSubjectOf): Projection {
  if (ev.version !== 1) return dead(e, `unsupported MessagePosted version ${JSON.stringify(ev.version)}`);
  const p = ev.payload;
  if (!isObject(p)) return dead(e, 'MessagePosted: payload must be an object');
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
  if (problems.length) return dead(e, `MessagePosted: ${problems.join('; ')}`);

  const roomId = p.roomId as string;
  // A message stored under another room's subject would leak into that room's history.
  if (e.subject !== messageSubjectOf(roomId)) return dead(e, `MessagePosted for room "${roomId}" stored on subject ${e.subject}`);
  return {
    kind: 'message',
    row: {
      messageId: p.messageId as string,
      roomId,
      position: e.position,
      senderId: p.senderId as string,
      senderName: storable(p.senderName as string),
      clientMsgId: storable(p.clientMsgId as string),
      body: storable(p.body as string),
      createdAt: time!,
    },
  };
}

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

export interface BatchPlan {
  /** Events above the checkpoint: projected for the first time. */
  fresh: { messages: number; deadLetters: number; ignored: number };
  /**
   * Events at or below the checkpoint (redeliveries). They do not count as projected and do not
   * move the checkpoint, but their rows are still part of the plan and written with ON CONFLICT
   * DO NOTHING: JetStream can redeliver an earlier batch after a later one committed (a nak'd
   * batch comes back after newer messages were fetched, ack-wait expiry, several replicas), and
   * skipping by checkpoint alone would then lose those events for good.
   */
  replayed: number;
  messages: MessageRecord[];
  deadLetters: DeadLetter[];
  /**
   * Messages whose id (or position) another stored event already holds, newly dead-lettered by
   * this batch; filled in by the store after its inserts. They are also in `deadLetters` (and
   * counted there when fresh).
   */
  conflicts: DeadLetter[];
  /**
   * The checkpoint after this batch: the highest position ever projected. A high-water mark
   * only: batches commit out of order (replicas, nak'd or redelivered batches), so an event
   * below it may still be on its way.
   */
  checkpoint: number;
}

/** Plans one batch against the current checkpoint; the projector applies the plan in one transaction. */
export function planBatch(events: StreamEvent[], checkpoint: number, messageSubjectOf: MessageSubjectOf): BatchPlan {
  const plan: BatchPlan = {
    fresh: { messages: 0, deadLetters: 0, ignored: 0 },
    replayed: 0,
    messages: [],
    deadLetters: [],
    conflicts: [],
    checkpoint,
  };
  const seen = new Set<number>();
  for (const e of [...events].sort((a, b) => a.position - b.position)) {
    if (seen.has(e.position)) continue; // the same delivery twice in one batch
    seen.add(e.position);
    const isFresh = e.position > checkpoint;
    const out = project(e, messageSubjectOf);
    if (out.kind === 'message') plan.messages.push(out.row);
    if (out.kind === 'dead') plan.deadLetters.push(out.letter);
    if (!isFresh) {
      plan.replayed++;
      continue;
    }
    plan.fresh[out.kind === 'message' ? 'messages' : out.kind === 'dead' ? 'deadLetters' : 'ignored']++;
    plan.checkpoint = Math.max(plan.checkpoint, e.position);
  }
  return plan;
}
