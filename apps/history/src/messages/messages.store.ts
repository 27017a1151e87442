import type { EntityManager } from 'typeorm';
import type { ReactionView, ReplyRef } from '@chat/contracts';
import { Limits } from '@chat/contracts';
import type { DeadLetter } from '../store/events';
import type { HistoryStore } from '../store/history.store';
import type { ApplyContext } from '../store/read-model';
import { settle } from '../posting/posting.store';
import { fold, logChanges } from './lifecycle.store';
import { toStoredMessage, viewColumns, type StoredLifecycleRow, type StoredMessage } from './message.sql-row';
import { resolveSkipped, type MessageRecord, type MessagesPart, type StoredMessageKey } from './messages.plan';

/**
 * Writes the messages part of a plan: each MessagePosted is judged at its stream position (the
 * posting rule, posting/), then inserted (INSERT … ON CONFLICT DO NOTHING) or kept in
 * `dropped_messages`. A row the insert skipped is the same event again (nothing to do) or a
 * different event whose id or position is taken; the latter comes back as a dead letter instead
 * of disappearing. Then the batch's edits, deletions and reactions are logged and folded into
 * their messages (messages.plan.ts explains why the order of batches does not matter). Runs
 * after the membership part, so the batch's room events are known.
 */
export async function applyMessages(em: EntityManager, part: MessagesPart, ctx: ApplyContext): Promise<DeadLetter[]> {
  // settle counts exactly the rows this transaction inserted: a redelivered post is never counted twice.
  const { conflicts, dropped } = await settle(
    em,
    ctx.schema,
    part.inserts,
    async (skipped) => resolveSkipped(skipped, await storedKeys(em, ctx.schema, skipped), ctx.events),
    ctx.retention,
  );
  ctx.dropped.push(...dropped);
  if (part.changes.length) {
    const fresh = await logChanges(em, ctx.schema, part.changes);
    const ignored = await fold(em, ctx.schema, { whole: [], changes: part.changes });
    ctx.ignored.push(...ignored.filter((p) => fresh.has(p)));
  }
  return conflicts;
}

/** Stored rows holding the id or the position of one of these messages. */
async function storedKeys(em: EntityManager, schema: string, messages: MessageRecord[]): Promise<StoredMessageKey[]> {
  const rows: Array<{ message_id: string; position: string }> = await em.query(
    `SELECT message_id, position FROM ${schema}.messages WHERE message_id = ANY($1::uuid[]) OR position = ANY($2::bigint[])`,
    [messages.map((m) => m.messageId), messages.map((m) => m.position)],
  );
  return rows.map((r) => ({ messageId: r.message_id, position: Number(r.position) }));
}

/** Users listed per emoji of a message (ReactionView.userIds); `count` has them all. */
const reactionUsersShown = 50;

/** What a page needs besides the rows: the reactions of its messages and the current state of the messages they quote. */
export interface Decorations {
  reactions: Map<string, ReactionView[]>;
  /** Quoted messages that still exist, by id: current sender name and the start of the current text ('' when deleted). */
  quotes: Map<string, Pick<ReplyRef, 'senderName' | 'excerpt'>>;
}

/** Reads of the messages read model. */
export class MessageQueries {
  constructor(private readonly store: HistoryStore) {}

  /**
   * Keyset reads on (room_id, position), never OFFSET: `limit` messages older than `before`
   * (or the newest) newest first, or newer than `after` oldest first.
   */
  async newestFirst(roomId: string, before: number | undefined, limit: number): Promise<StoredMessage[]> {
    return this.select(
      `WHERE m.room_id = $1 ${before === undefined ? '' : 'AND m.position < $3'} ORDER BY m.position DESC LIMIT $2`,
      before === undefined ? [roomId, limit] : [roomId, limit, before],
    );
  }

  async oldestFirst(roomId: string, after: number, limit: number): Promise<StoredMessage[]> {
    return this.select(`WHERE m.room_id = $1 AND m.position > $3 ORDER BY m.position ASC LIMIT $2`, [roomId, limit, after]);
  }

  /** Position of the room's first message at or after a time (by time, ties by position), on (room_id, created_at). */
  async firstAtOrAfter(roomId: string, time: Date): Promise<number | null> {
    const rows: Array<{ position: string }> = await this.store.read((qr) =>
      qr.query(
        `SELECT position FROM ${this.store.schema}.messages WHERE room_id = $1 AND created_at >= $2 ORDER BY created_at, position LIMIT 1`,
        [roomId, time],
      ),
    );
    return rows.length ? Number(rows[0].position) : null;
  }

  /** Whether the room has a message older (`<`) or newer (`>`) than `position`: one index probe. */
  async has(roomId: string, than: '<' | '>', position: number): Promise<boolean> {
    const rows = await this.store.read((qr) =>
      qr.query(`SELECT 1 FROM ${this.store.schema}.messages WHERE room_id = $1 AND position ${than} $2 LIMIT 1`, [roomId, position]),
    );
    return rows.length > 0;
  }

  /** One message by id, if it is a message of this room (deleted ones included). */
  async byId(roomId: string, messageId: string): Promise<StoredMessage | null> {
    const rows = await this.select(`WHERE m.message_id = $1 AND m.room_id = $2`, [messageId, roomId]);
    return rows[0] ?? null;
  }

  /**
   * Reactions and quotes for a set of messages: one query for the reactions of all of them
   * (active rows, grouped per message and emoji; the first 50 users in the order they reacted)
   * and one for the messages they quote.
   */
  async decorations(messages: StoredMessage[]): Promise<Decorations> {
    const live = messages.filter((m) => !m.deleted);
    const quoted = [...new Set(live.flatMap((m) => (m.replyTo ? [m.replyTo.messageId] : [])))];
    const s = this.store.schema;
    const [reactionRows, quoteRows] = await this.store.read((qr) =>
      Promise.all([
        live.length
          ? (qr.query(
              `SELECT message_id, emoji, count(*)::int AS count, min(first_position) AS first,
                      (array_agg(user_id ORDER BY first_position, user_id))[1:${reactionUsersShown}] AS user_ids
                 FROM ${s}.message_reactions WHERE message_id = ANY($1::uuid[]) AND active
                GROUP BY message_id, emoji`,
              [live.map((m) => m.messageId)],
            ) as Promise<Array<{ message_id: string; emoji: string; count: number; first: string; user_ids: string[] }>>)
          : Promise.resolve([]),
        quoted.length
          ? (qr.query(
              `SELECT message_id, sender_name, CASE WHEN deleted_at IS NULL THEN left(body, ${Limits.replyExcerptChars}) ELSE '' END AS excerpt
                 FROM ${s}.messages WHERE message_id = ANY($1::uuid[])`,
              [quoted],
            ) as Promise<Array<{ message_id: string; sender_name: string; excerpt: string }>>)
          : Promise.resolve([]),
      ]),
    );
    const reactions = new Map<string, Array<ReactionView & { first: number }>>();
    for (const r of reactionRows) {
      const list = reactions.get(r.message_id) ?? [];
      list.push({ emoji: r.emoji, count: r.count, userIds: r.user_ids, first: Number(r.first) });
      reactions.set(r.message_id, list);
    }
    return {
      reactions: new Map(
        [...reactions].map(([id, list]) => [
          id,
          list.sort((a, b) => a.first - b.first).map(({ emoji, count, userIds }) => ({ emoji, count, userIds })),
        ]),
      ),
      quotes: new Map(quoteRows.map((q) => [q.message_id, { senderName: q.sender_name, excerpt: q.excerpt }])),
    };
  }

  /**
   * Of these stream positions, the ones with neither a message row, a dropped message, a logged
   * change nor a dead letter yet (one query over their primary-key / unique indexes). Used to
   * wait for specific events to land.
   */
  async unprojected(positions: number[]): Promise<number[]> {
    if (!positions.length) return [];
    const s = this.store.schema;
    const rows: Array<{ p: string }> = await this.store.read((qr) =>
      qr.query(
        `SELECT p FROM unnest($1::bigint[]) AS p
          WHERE NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${s}.message_changes c WHERE c.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${s}.dropped_messages x WHERE x.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${s}.dead_letters d WHERE d.position = p)`,
        [positions],
      ),
    );
    return rows.map((r) => Number(r.p));
  }

  private async select(where: string, params: unknown[]): Promise<StoredMessage[]> {
    const rows: StoredLifecycleRow[] = await this.store.read((qr) =>
      qr.query(`SELECT ${viewColumns('m')} FROM ${this.store.schema}.messages m ${where}`, params),
    );
    return rows.map(toStoredMessage);
  }
}
