import { Limits, type HistoryPage, type MessageView } from '@chat/contracts';
import { renderMessageHtml } from '@chat/format';
import type { StoredMessage } from './message.sql-row';
import type { Decorations } from './messages.store';

export const pageSize = (limit?: number) => limit ?? Limits.historyPageDefault;

const none: Decorations = { reactions: new Map(), quotes: new Map() };

/**
 * A stored message as clients see it now. A tombstone keeps id, room, position, sender and time
 * only. A reply shows the quoted message's current sender name and text start, '' once the
 * quoted message is deleted or gone (then the name is the one of the reply's snapshot).
 * `html` is rendered here from the current body and mentions, on every read: it is not stored,
 * so a change to the formatting rules applies to old messages too. It costs tens of µs for a
 * chat-sized message and a few ms for a 4,000-character one dense with markup (markdown-it's own
 * parse); a page of 100 is a few ms more. Storing it would need a migration and a rebuild.
 */
export function toView(r: StoredMessage, d: Decorations = none): MessageView {
  const quote = r.replyTo ? d.quotes.get(r.replyTo.messageId) : undefined;
  return {
    messageId: r.messageId,
    roomId: r.roomId,
    senderId: r.senderId,
    senderName: r.senderName,
    clientMsgId: r.clientMsgId,
    body: r.deleted ? '' : r.body,
    replyTo:
      r.replyTo && !r.deleted
        ? { ...r.replyTo, senderName: quote?.senderName ?? r.replyTo.senderName, excerpt: quote?.excerpt ?? '' }
        : null,
    mentions: r.deleted ? [] : r.mentions,
    html: r.deleted ? '' : renderMessageHtml(r.body, r.mentions),
    time: r.createdAt.toISOString(),
    position: r.position,
    editedAt: r.deleted || !r.editedAt ? null : r.editedAt.toISOString(),
    deleted: r.deleted
      ? { by: { userId: r.deleted.byUserId, username: r.deleted.byUsername }, reason: r.deleted.reason, time: r.deleted.time.toISOString() }
      : null,
    reactions: r.deleted ? [] : (d.reactions.get(r.messageId) ?? []),
  };
}

/** Which page was asked for (at most one cursor; none: the newest page). */
export type PageRequest =
  | { kind: 'newest' }
  | { kind: 'before'; position: number }
  | { kind: 'after'; position: number }
  | { kind: 'around'; position: number }
  | { kind: 'at'; time: Date };

/** The cursor of a history.page request, or an error message when more than one is given. */
export function pageRequest(req: { before?: number; after?: number; around?: number; at?: string }): PageRequest | string {
  const given = (['before', 'after', 'around', 'at'] as const).filter((k) => req[k] !== undefined && req[k] !== null);
  if (given.length > 1) return `at most one of before, after, around and at (got ${given.join(', ')})`;
  if (req.before != null) return { kind: 'before', position: req.before };
  if (req.after != null) return { kind: 'after', position: req.after };
  if (req.around != null) return { kind: 'around', position: req.around };
  if (req.at != null) return { kind: 'at', time: new Date(req.at) };
  return { kind: 'newest' };
}

/**
 * Builds a page from rows fetched newest first with `limit + 1`: the extra row only tells
 * that something older exists, so `nextBefore` is the oldest returned position, else null.
 * `newer`: whether a newer message exists than the newest returned (a `before` page always has one).
 */
export function toPage(roomId: string, rows: StoredMessage[], limit: number, newer = false, d: Decorations = none): HistoryPage {
  const page = rows.slice(0, limit);
  const more = rows.length > limit && page.length > 0;
  return {
    roomId,
    messages: page.map((m) => toView(m, d)),
    nextBefore: more ? page[page.length - 1].position : null,
    nextAfter: newer && page.length ? page[0].position : null,
    anchor: null,
  };
}

/**
 * How an `around` page splits `limit` between the anchor, older and newer messages: about half
 * each side, the rest to the other side when one runs out. `older` / `newer` are what exists
 * (fetched with up to `limit` each, so "more than taken" tells whether a further page exists).
 */
export function aroundSplit(limit: number, older: number, newer: number): { older: number; newer: number } {
  const rest = limit - 1;
  let o = Math.min(older, Math.floor(rest / 2));
  const n = Math.min(newer, rest - o);
  o = Math.min(older, rest - n);
  return { older: o, newer: n };
}

/**
 * An `around` / `at` page: `olderRows` newest first and `newerRows` oldest first as fetched
 * (up to `limit` each), the anchor between them.
 */
export function aroundPage(
  roomId: string,
  anchor: StoredMessage,
  olderRows: StoredMessage[],
  newerRows: StoredMessage[],
  limit: number,
  d: Decorations = none,
): HistoryPage {
  const take = aroundSplit(limit, olderRows.length, newerRows.length);
  const older = olderRows.slice(0, take.older);
  const newer = newerRows.slice(0, take.newer);
  const messages = [...[...newer].reverse(), anchor, ...older];
  return {
    roomId,
    messages: messages.map((m) => toView(m, d)),
    nextBefore: olderRows.length > take.older ? messages[messages.length - 1].position : null,
    nextAfter: newerRows.length > take.newer ? messages[0].position : null,
    anchor: anchor.position,
  };
}
