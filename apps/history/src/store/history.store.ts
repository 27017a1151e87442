import type { OnApplicationShutdown } from '@nestjs/common';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import {
  planBatch,
  resolveSkipped,
  type BatchPlan,
  type MessageRecord,
  type MessageSubjectOf,
  type StoredMessageKey,
  type StreamEvent,
} from '../projection/mapping';
import { CheckpointRow, DeadLetterRow, MessageRow } from './entities';
import { isConnectionBroken } from './errors';

/** TypeORM's Postgres query runner can hand its connection back with an error, which makes the pool drop it. */
type ReleasableRunner = QueryRunner & { releasePostgresConnection?: (err?: Error) => Promise<void> };

/** All SQL of the history service: projection writes and page reads. Owns the DataSource. */
export class HistoryStore implements OnApplicationShutdown {
  private readonly schema: string;

  constructor(
    readonly ds: DataSource,
    private readonly checkpointName: string,
    private readonly messageSubjectOf: MessageSubjectOf,
  ) {
    // Validated against SCHEMA_PATTERN when the DataSource was created, so it can be quoted into SQL.
    this.schema = `"${(ds.options as { schema: string }).schema}"`;
  }

  /**
   * Projects one batch in ONE transaction: the checkpoint row is locked (so replicas or a
   * direct call queue instead of interleaving), rows are written with ON CONFLICT DO NOTHING
   * and the checkpoint moves to the highest position seen, never back. Either all of it
   * commits or nothing does; applying the same batch again changes nothing.
   *
   * A message the insert skipped is the same event again (same position and id: nothing to
   * do) or a different event whose id or position is taken; the latter becomes a dead letter
   * instead of disappearing (`plan.conflicts` lists those written by this call).
   */
  async applyBatch(events: StreamEvent[]): Promise<BatchPlan> {
    return this.transaction(async (em) => {
      await em
        .createQueryBuilder()
        .insert()
        .into(CheckpointRow)
        .values({ name: this.checkpointName, position: 0, updatedAt: () => 'now()' })
        .orIgnore()
        .execute();
      const cp = await em
        .getRepository(CheckpointRow)
        .createQueryBuilder('c')
        .setLock('pessimistic_write')
        .where('c.name = :name', { name: this.checkpointName })
        .getOneOrFail();
      const plan = planBatch(events, cp.position, this.messageSubjectOf);
      if (plan.messages.length) {
        // One multi-row INSERT; RETURNING lists the rows it wrote, so the skipped ones are known.
        // Copies: TypeORM writes the returned (string) columns back into the objects it was given.
        const result = await em
          .createQueryBuilder()
          .insert()
          .into(MessageRow)
          .values(plan.messages.map((m) => ({ ...m })))
          .orIgnore()
          .returning(['position'])
          .execute();
        const written = new Set((result.raw as Array<{ position: string | number }>).map((r) => Number(r.position)));
        const skipped = plan.messages.filter((m) => !written.has(m.position));
        if (skipped.length) {
          const conflicts = resolveSkipped(skipped, await this.storedKeys(em, skipped), events);
          const fresh = conflicts.filter((c) => c.position > cp.position).length;
          plan.fresh.messages -= fresh;
          plan.fresh.deadLetters += fresh;
          plan.conflicts = conflicts;
          plan.deadLetters.push(...conflicts);
          plan.deadLetters.sort((a, b) => a.position - b.position);
        }
      }
      if (plan.deadLetters.length) {
        const result = await em
          .createQueryBuilder()
          .insert()
          .into(DeadLetterRow)
          .values(plan.deadLetters.map((d) => ({ ...d, createdAt: () => 'now()' })))
          .orIgnore()
          .returning(['position'])
          .execute();
        // A redelivered conflict finds its dead letter there already: only report new ones.
        const written = new Set((result.raw as Array<{ position: string | number }>).map((r) => Number(r.position)));
        plan.conflicts = plan.conflicts.filter((c) => written.has(c.position));
      }
      if (plan.checkpoint > cp.position) {
        await em
          .createQueryBuilder()
          .update(CheckpointRow)
          .set({ position: plan.checkpoint, updatedAt: () => 'now()' })
          .where('name = :name', { name: this.checkpointName })
          .execute();
      }
      return plan;
    });
  }

  /** Stored rows holding the id or the position of one of these messages. */
  private async storedKeys(em: EntityManager, messages: MessageRecord[]): Promise<StoredMessageKey[]> {
    const rows: Array<{ message_id: string; position: string }> = await em.query(
      `SELECT message_id, position FROM ${this.schema}.messages WHERE message_id = ANY($1::uuid[]) OR position = ANY($2::bigint[])`,
      [messages.map((m) => m.messageId), messages.map((m) => m.position)],
    );
    return rows.map((r) => ({ messageId: r.message_id, position: Number(r.position) }));
  }

  async checkpoint(): Promise<number> {
    const row = await this.read((qr) => qr.manager.getRepository(CheckpointRow).findOneBy({ name: this.checkpointName }));
    return row?.position ?? 0;
  }

  /**
   * Of these stream positions, the ones with neither a message row nor a dead letter yet (one
   * query over both primary-key / unique indexes). Used to wait for specific events to land.
   */
  async unprojected(positions: number[]): Promise<number[]> {
    if (!positions.length) return [];
    const rows: Array<{ p: string }> = await this.read((qr) =>
      qr.query(
        `SELECT p FROM unnest($1::bigint[]) AS p
          WHERE NOT EXISTS (SELECT 1 FROM ${this.schema}.messages m WHERE m.position = p)
            AND NOT EXISTS (SELECT 1 FROM ${this.schema}.dead_letters d WHERE d.position = p)`,
        [positions],
      ),
    );
    return rows.map((r) => Number(r.p));
  }

  /** Keyset page, newest first: an index range scan on (room_id, position DESC), never OFFSET. */
  async newestFirst(roomId: string, before: number | undefined, limit: number): Promise<MessageRecord[]> {
    return this.read((qr) => {
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

  async ping(): Promise<void> {
    await this.read((qr) => qr.query('SELECT 1'));
  }

  /**
   * Runs work on one pooled connection. When the connection broke or the client stopped
   * waiting for it (query_timeout: the statement may still be running there), it is destroyed
   * instead of going back to the pool, where every later query would queue behind the stuck one.
   */
  private async read<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr: ReleasableRunner = this.ds.createQueryRunner();
    let broken: Error | undefined;
    try {
      return await work(qr);
    } catch (err) {
      if (isConnectionBroken(err)) broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      await (qr.releasePostgresConnection ? qr.releasePostgresConnection(broken) : qr.release());
    }
  }

  /** A transaction on one connection; rolled back on failure, unless the connection broke (destroying it rolls back). */
  private transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.read(async (qr) => {
      await qr.startTransaction();
      try {
        const result = await work(qr.manager);
        await qr.commitTransaction();
        return result;
      } catch (err) {
        if (!isConnectionBroken(err) && qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    });
  }

  /** Runs after the RPC transport and the projector have stopped, so no query is cut off. */
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
