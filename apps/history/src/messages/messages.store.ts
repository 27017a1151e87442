import type { EntityManager } from 'typeorm';
import type { DeadLetter } from '../store/events';
import type { HistoryStore } from '../store/history.store';
import type { ApplyContext } from '../store/read-model';
import { MessageRow } from './message.entity';
import { resolveSkipped, type MessageRecord, type MessagesPart, type StoredMessageKey } from './messages.plan';

/**
 * Writes the messages part of a plan: one multi-row INSERT … ON CONFLICT DO NOTHING. A row the
 * insert skipped is the same event again (nothing to do) or a different event whose id or
 * position is taken; the latter comes back as a dead letter instead of disappearing.
 */
export async function applyMessages(em: EntityManager, part: MessagesPart, ctx: ApplyContext): Promise<DeadLetter[]> {
  if (!part.inserts.length) return [];
  // RETURNING lists the rows it wrote, so the skipped ones are known. Copies: TypeORM writes the
  // returned (string) columns back into the objects it was given.
  const result = await em
    .createQueryBuilder()
    .insert()
    .into(MessageRow)
    .values(part.inserts.map((m) => ({ ...m })))
    .orIgnore()
    .returning(['position'])
    .execute();
  const written = new Set((result.raw as Array<{ position: string | number }>).map((r) => Number(r.position)));
  const skipped = part.inserts.filter((m) => !written.has(m.position));
  if (!skipped.length) return [];
  return resolveSkipped(skipped, await storedKeys(em, ctx.schema, skipped), ctx.events);
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
   * Of these stream positions, the ones with neither a message row nor a dead letter yet (one
   * query over both primary-key / unique indexes). Used to wait for specific events to land.
   */
  async unprojected(positions: number[]): Promise<number[]> {
    if (!positions.length) return [];
    const s = this.store.schema;
    const rows: Array<{ p: string }> = await this.store.read((qr) =>
      qr.query(
        `SELECT p FROM unnest($1::bigint[]) AS p
          WHERE NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${s}.dead_letters d WHERE d.position = p)`,
        [positions],
      ),
    );
    return rows.map((r) => Number(r.p));
  }
}
