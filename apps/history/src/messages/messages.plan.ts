import type { ChatEvent, Mention, ReplyRef } from '@chat/contracts';
import { letterOf, reject, storable, type DeadLetter, type Rejected, type RoomSubjects, type StreamEvent } from '../store/events';

/**
 * The messages read model, and why its final state does not depend on the order batches commit in.
 *
 * A MessagePosted is a row of `messages` (judged at its position by the posting rule, posting/).
 * Every other message event (edit, deletion, reaction added or removed) is first written to the
 * change log `message_changes` by its position (ON CONFLICT DO NOTHING), then the state of each
 * message it touches is recomputed by `foldChanges` from the message's stored row and its logged
 * changes, and written where it differs. The fold is a function of the SET of logged changes,
 * never of the order they arrived in:
 * - the deletion that holds is the logged one with the lowest position (a later one, and any
 *   edit or reaction after it, changes a deleted message and is ignored); a tombstone clears the
 *   body, mentions, search vector, reply, edit and reactions (the same row whether an edit was
 *   applied before the deletion arrived or not);
 * - the edit that holds is the valid one (by the stored message's sender) with the highest
 *   position; `edit_position` on the row tells whether it is applied already;
 * - a reaction of one user with one emoji is what its latest event says; while active, its
 *   `first_position` is the first add after its latest removal (a repeated add changes nothing).
 * A change can commit before its post does (the post's batch is nak'd, redelivered after a later
 * batch, or held up on another replica): it waits in the log, and when the post is inserted
 * (or a late room event lets a dropped post stand again) its logged changes are folded into the
 * new row in the same transaction. A change whose message never becomes a message (refused
 * posts) stays in the log, inert. Batches are applied one at a time (the checkpoint row lock),
 * so the log read by one batch holds every change committed before it.
 */

/** A MessagePosted as a row of `messages` (the post as accepted; edits and deletions are applied later). */
export interface MessageRecord {
  messageId: string;
  roomId: string;
  position: number;
  senderId: string;
  senderName: string;
  clientMsgId: string;
  body: string;
  createdAt: Date;
  replyTo: ReplyRef | null;
  mentions: Mention[];
}

export type ChangeKind = 'edit' | 'delete' | 'react' | 'unreact';

/** A MessageEdited / MessageDeleted / ReactionAdded / ReactionRemoved as a row of `message_changes`. */
export interface ChangeRecord {
  kind: ChangeKind;
  position: number;
  messageId: string;
  roomId: string;
  /** The editor (edit), the deleter (delete), the reacting user (react, unreact). */
  userId: string;
  /** The deleter's or reacting user's name; null for edits. */
  username: string | null;
  /** Edits: the new text and its mentions. */
  body: string | null;
  mentions: Mention[] | null;
  emoji: string | null;
  reason: 'author' | 'moderator' | null;
  time: Date;
}

export type MessageChange = MessageRecord | ChangeRecord;
export const isChange = (c: MessageChange): c is ChangeRecord => 'kind' in c;

/** The messages read model's part of a batch plan: posts to insert, changes to log and fold in. */
export interface MessagesPart {
  inserts: MessageRecord[];
  changes: ChangeRecord[];
}

/**
 * A message event -> its row or change. The event is already checked whole by the chat stream's
 * decoder; what is left are history's own rules: it must be stored on its own room's message
 * subject, and text must fit Postgres.
 */
export function decodeMessage(e: StreamEvent, ev: ChatEvent, subjects: RoomSubjects): MessageChange | Rejected {
  if (ev.type !== 'MessagePosted' && !isMessageChange(ev)) return reject(`the messages read model does not project ${ev.type}`);
  const type = ev.type;
  const roomId = (ev.payload as { roomId: string }).roomId;
  // A message event stored under another room's subject would leak into (or change) that room's history.
  if (e.subject !== subjects.roomMessages(roomId)) return reject(`${ev.type} for room "${roomId}" stored on subject ${e.subject}`);
  const time = new Date(ev.time);
  const change = (kind: ChangeKind, over: Partial<ChangeRecord> & { userId: string }): ChangeRecord => ({
    kind,
    position: e.position,
    messageId: (ev.payload as { messageId: string }).messageId,
    roomId,
    username: null,
    body: null,
    mentions: null,
    emoji: null,
    reason: null,
    time,
    ...over,
  });
  switch (ev.type) {
    case 'MessagePosted': {
      const p = ev.payload;
      return {
        messageId: p.messageId,
        roomId: p.roomId,
        position: e.position,
        senderId: p.senderId,
        senderName: storable(p.senderName),
        clientMsgId: storable(p.clientMsgId),
        body: storable(p.body),
        createdAt: time,
        replyTo: p.replyTo ? { ...p.replyTo, senderName: storable(p.replyTo.senderName), excerpt: storable(p.replyTo.excerpt) } : null,
        mentions: storableMentions(p.mentions),
      };
    }
    case 'MessageEdited':
      return change('edit', {
        userId: ev.payload.senderId,
        body: storable(ev.payload.body),
        mentions: storableMentions(ev.payload.mentions),
      });
    case 'MessageDeleted':
      return change('delete', { userId: ev.payload.byUserId, username: storable(ev.payload.byUsername), reason: ev.payload.reason });
    case 'ReactionAdded':
    case 'ReactionRemoved':
      return change(ev.type === 'ReactionAdded' ? 'react' : 'unreact', {
        userId: ev.payload.userId,
        username: storable(ev.payload.username),
        emoji: storable(ev.payload.emoji),
      });
    default:
      return reject(`the messages read model does not project ${type}`);
  }
}

const isMessageChange = (ev: ChatEvent) =>
  ev.type === 'MessageEdited' || ev.type === 'MessageDeleted' || ev.type === 'ReactionAdded' || ev.type === 'ReactionRemoved';

/** Each user once, in order of first mention; names storable. */
const storableMentions = (ms: Mention[]): Mention[] => {
  const seen = new Set<string>();
  return ms.filter((m) => !seen.has(m.userId) && seen.add(m.userId)).map((m) => ({ userId: m.userId, username: storable(m.username) }));
};

/** Posts are inserted (the insert skips what is stored already); changes are logged and folded in. */
export function planMessages(changes: MessageChange[]): MessagesPart {
  const inserts: MessageRecord[] = [];
  const logged: ChangeRecord[] = [];
  for (const c of changes) {
    if (isChange(c)) logged.push(c);
    else inserts.push(c);
  }
  return { inserts, changes: logged };
}

/** What the store knows of a stored message when folding its changes in. */
export interface StoredState {
  messageId: string;
  roomId: string;
  senderId: string;
  editPosition: number | null;
  deletePosition: number | null;
}

/** A row of `message_reactions`. */
export interface ReactionRow {
  messageId: string;
  emoji: string;
  userId: string;
  username: string;
  active: boolean;
  /** Position of the latest event of this user and emoji on the message. */
  position: number;
  /** While active: the add that began the current reaction (in the order of first use); else = position. */
  firstPosition: number;
}

/** The state of one message after folding its logged changes in, and what to write to get there. */
export interface Folded {
  /** The deletion that holds (lowest position), or null. */
  deletion: ChangeRecord | null;
  /** The edit that holds (highest valid position before any deletion), or null. */
  edit: ChangeRecord | null;
  /** Reaction rows for every (emoji, user) key in the given changes; empty when deleted. */
  reactions: ReactionRow[];
  /** Positions of the given changes that do not hold at their position (not the author's edit, anything after the deletion). */
  ignored: number[];
  /** The row must become a tombstone (not yet one, or one for a later deletion). */
  writeDeletion: boolean;
  /** The row's text must become `edit`'s. */
  writeEdit: boolean;
}

const byPosition = (a: { position: number }, b: { position: number }) => a.position - b.position;

/**
 * Folds a stored message's logged changes (all of its edits and deletions; the reactions of the
 * keys being recomputed) into the state the message must have. Pure, and a function of the set
 * of changes: any order, any repeats, the same answer. Changes of another message or room are
 * not this message's (a change naming a message of another room is ignored).
 */
export function foldChanges(msg: StoredState, changes: ChangeRecord[]): Folded {
  const ignored: number[] = [];
  const mine: ChangeRecord[] = [];
  const seen = new Set<number>();
  for (const c of [...changes].sort(byPosition)) {
    if (c.messageId !== msg.messageId || seen.has(c.position)) continue;
    seen.add(c.position);
    if (c.roomId !== msg.roomId) ignored.push(c.position);
    else mine.push(c);
  }
  // "The stream decides": rooms checked before appending; what history can check again, it does.
  const deletion = mine.find((c) => c.kind === 'delete' && (c.reason === 'moderator' || c.userId === msg.senderId)) ?? null;
  const until = deletion?.position ?? Infinity;
  let edit: ChangeRecord | null = null;
  const keys = new Map<string, ChangeRecord[]>();
  for (const c of mine) {
    if (c === deletion) continue;
    if (c.position > until) {
      ignored.push(c.position);
      continue;
    }
    if (c.kind === 'delete')
      ignored.push(c.position); // an author deletion by someone else
    else if (c.kind === 'edit') {
      if (c.userId !== msg.senderId) ignored.push(c.position);
      else edit = c; // ascending: the last valid one wins
    } else {
      const key = `${c.emoji}\u0000${c.userId}`;
      keys.set(key, [...(keys.get(key) ?? []), c]);
    }
  }
  const reactions: ReactionRow[] = [];
  if (!deletion)
    for (const events of keys.values()) {
      const last = events[events.length - 1];
      let first = last.position;
      if (last.kind === 'react') for (let i = events.length - 1; i >= 0 && events[i].kind === 'react'; i--) first = events[i].position;
      reactions.push({
        messageId: msg.messageId,
        emoji: last.emoji!,
        userId: last.userId,
        username: last.username ?? '',
        active: last.kind === 'react',
        position: last.position,
        firstPosition: first,
      });
    }
  return {
    deletion,
    edit: deletion ? null : edit,
    reactions,
    ignored: ignored.sort((a, b) => a - b),
    writeDeletion: deletion !== null && msg.deletePosition !== deletion.position,
    writeEdit: !deletion && edit !== null && msg.editPosition !== edit.position,
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
