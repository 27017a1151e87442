import type { EntityManager } from 'typeorm';
import type { DeadLetter } from '../store/events';
import type { HistoryStore } from '../store/history.store';
import type { ApplyContext } from '../store/read-model';
import { settle } from '../posting/posting.store';
import { MessageRow } from './message.entity';
import { resolveSkipped, type MessageRecord, type MessagesPart, type StoredMessageKey } from './messages.plan';

/**
 * Writes the messages part of a plan: each MessagePosted is judged at its stream position (the
 * posting rule, posting/), then inserted (INSERT … ON CONFLICT DO NOTHING) or kept in
 * `dropped_messages`. A row the insert skipped is the same event again (nothing to do) or a
 * different event whose id or position is taken; the latter comes back as a dead letter instead
 * of disappearing. Runs after the membership part, so the batch's room events are known.
 */
export async function applyMessages(em: EntityManager, part: MessagesPart, ctx: ApplyContext): Promise<DeadLetter[]> {
  const { conflicts, dropped } = await settle(em, ctx.schema, part.inserts, async (skipped) =>
    resolveSkipped(skipped, await storedKeys(em, ctx.schema, skipped), ctx.events),
  );
  ctx.dropped.push(...dropped);
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

/** Reads of the messages read model. */
export class MessageQueries {
  constructor(private readonly store: HistoryStore) {}

  /** Keyset page, newest first: an index range scan on (room_id, position DESC), never OFFSET. */
  async newestFirst(roomId: string, before: number | undefined, limit: number): Promise<MessageRecord[]> {
    return this.store.read((qr) => {
      const qb = qr.manager
        .getRepository(MessageRow)
        .createQueryBuilder('m')
        .where('m.roomId = :roomId', { roomId })
        .orderBy('m.position', 'DESC')
        .limit(limit);
      if (before !== undefined) qb.andWhere('m.position < :before', { before });
      return qb.getMany();
    });
  }

  /**
   * Of these stream positions, the ones with neither a message row, a dropped message nor a dead
   * letter yet (one query over their primary-key / unique indexes). Used to wait for specific
   * events to land.
   */
  async unprojected(positions: number[]): Promise<number[]> {
    if (!positions.length) return [];
    const s = this.store.schema;
    const rows: Array<{ p: string }> = await this.store.read((qr) =>
      qr.query(
        `SELECT p FROM unnest($1::bigint[]) AS p
          WHERE NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${s}.dropped_messages x WHERE x.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${s}.dead_letters d WHERE d.position = p)`,
        [positions],
      ),
    );
    return rows.map((r) => Number(r.p));
  }
}
