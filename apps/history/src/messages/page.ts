import { Limits, type HistoryPage, type MessageView } from '@chat/contracts';
import type { MessageRecord } from './messages.plan';

export const pageSize = (limit?: number) => limit ?? Limits.historyPageDefault;

export function toView(r: MessageRecord): MessageView {
  return {
    messageId: r.messageId,
    roomId: r.roomId,
    senderId: r.senderId,
    senderName: r.senderName,
    clientMsgId: r.clientMsgId,
    body: r.body,
    replyTo: null,
    mentions: [],
    time: r.createdAt.toISOString(),
    position: r.position,
    editedAt: null,
    deleted: null,
    reactions: [],
  };
}

/**
 * Builds a page from rows fetched newest first with `limit + 1`: the extra row only tells
 * that something older exists, so `nextBefore` is the oldest returned position, else null.
 */
export function toPage(roomId: string, rows: MessageRecord[], limit: number): HistoryPage {
  const page = rows.slice(0, limit);
  const more = rows.length > limit && page.length > 0;
  return { roomId, messages: page.map(toView), nextBefore: more ? page[page.length - 1].position : null, nextAfter: null, anchor: null };
}
