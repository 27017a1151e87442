import type { OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { planBatch, type BatchPlan, type MessageRecord, type MessageSubjectOf, type StreamEvent } from '../projection/mapping';
import { CheckpointRow, DeadLetterRow, MessageRow } from './entities';

/** All SQL of the history service: projection writes and page reads. Owns the DataSource. */
export class HistoryStore implements OnApplicationShutdown {
  constructor(
    readonly ds: DataSource,
    private readonly checkpointName: string,
    private readonly messageSubjectOf: MessageSubjectOf,
  ) {}

  /**
   * Projects one batch in ONE transaction: the checkpoint row is locked (so replicas or a
   * direct call queue instead of interleaving), rows are written with ON CONFLICT DO NOTHING
   * and the checkpoint moves to the highest position seen, never back. Either all of it
   * commits or nothing does; applying the same batch again changes nothing.
   */
  async applyBatch(events: StreamEvent[]): Promise<BatchPlan> {
    return this.ds.transaction(async (em) => {
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
        // One multi-row INSERT; a row already there (same message id or position) is left as is.
        await em.createQueryBuilder().insert().into(MessageRow).values(plan.messages).orIgnore().execute();
      }
      if (plan.deadLetters.length) {
        await em
          .createQueryBuilder()
          .insert()
          .into(DeadLetterRow)
          .values(plan.deadLetters.map((d) => ({ ...d, createdAt: () => 'now()' })))
          .orIgnore()
          .execute();
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

  async checkpoint(): Promise<number> {
    const row = await this.ds.getRepository(CheckpointRow).findOneBy({ name: this.checkpointName });
    return row?.position ?? 0;
  }

  /** Keyset page, newest first: an index range scan on (room_id, position DESC), never OFFSET. */
  async newestFirst(roomId: string, before: number | undefined, limit: number): Promise<MessageRecord[]> {
    const qb = this.ds
      .getRepository(MessageRow)
      .createQueryBuilder('m')
      .where('m.roomId = :roomId', { roomId })
      .orderBy('m.position', 'DESC')
      .limit(limit);
    if (before !== undefined) qb.andWhere('m.position < :before', { before });
    return qb.getMany();
  }

  async ping(): Promise<void> {
    await this.ds.query('SELECT 1');
  }

  /** Runs after the RPC transport and the projector have stopped, so no query is cut off. */
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
