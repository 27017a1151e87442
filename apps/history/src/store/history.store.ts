import type { OnApplicationShutdown } from '@nestjs/common';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { CheckpointRow, DeadLetterRow } from '../db/entities';
import { isConnectionBroken } from '../db/errors';
import { MEMBERSHIP_BACKFILL_SUFFIX } from '../db/migrations/schema';
import { readModels, type ReadModelName } from '../read-models';
import type { RoomSubjects, StreamEvent } from './events';
import type { ApplyContext } from './read-model';
import { planBatch, type BatchPlan } from './plan';

/** TypeORM's Postgres query runner can hand its connection back with an error, which makes the pool drop it. */
type ReleasableRunner = QueryRunner & { releasePostgresConnection?: (err?: Error) => Promise<void> };

/**
 * The shared side of the history database: applies batch plans in one transaction (checkpoint,
 * every read model's part, dead letters) and runs reads on pooled connections for the read
 * models' queries. Owns the DataSource.
 */
export class HistoryStore implements OnApplicationShutdown {
  /** The quoted schema, for raw SQL. */
  readonly schema: string;

  constructor(
    readonly ds: DataSource,
    private readonly checkpointName: string,
    private readonly subjects: RoomSubjects,
    /** RETENTION_DEFAULT_DAYS (0: forever) and the clock, for posts already past their retention period (posting/). */
    private readonly retention: { defaultDays: number; now?: () => Date } = { defaultDays: 0 },
  ) {
    // Validated against SCHEMA_PATTERN when the DataSource was created, so it can be quoted into SQL.
    this.schema = `"${(ds.options as { schema: string }).schema}"`;
  }

  /**
   * Projects one batch in ONE transaction: the checkpoint row is locked (so replicas or a
   * direct call queue instead of interleaving), the pure plan is made against it, each read
   * model writes its part idempotently, dead letters are inserted with ON CONFLICT DO NOTHING
   * and the checkpoint moves to the highest position seen, never back. Either all of it
   * commits or nothing does; applying the same batch again changes nothing.
   *
   * A read model may turn a change into a dead letter while writing (a message whose id or
   * position another event holds): it is dead-lettered instead of disappearing
   * (`plan.conflicts` lists those written by this call). MessagePosted events the posting rule
   * refuses, or that go with their deleted room, are listed in `plan.dropped`.
   *
   * `backfill`: replaying room events for the membership logs only; stored messages are not
   * judged again (see ApplyContext.recheck).
   */
  async applyBatch(events: StreamEvent[], opts: { backfill?: boolean } = {}): Promise<BatchPlan> {
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
      const plan = planBatch(events, cp.position, this.subjects);
      const ctx: ApplyContext = {
        schema: this.schema,
        events,
        dropped: plan.dropped,
        recheck: !opts.backfill,
        ignored: plan.ignored,
        retention: { defaultDays: this.retention.defaultDays, now: this.retention.now?.() ?? new Date() },
      };
      for (const name of Object.keys(readModels) as ReadModelName[]) {
        const model = readModels[name] as (typeof readModels)[ReadModelName];
        const conflicts = await model.apply(em, plan.parts[name] as never, ctx);
        if (!conflicts.length) continue;
        const fresh = conflicts.filter((c) => c.position > cp.position).length;
        plan.fresh[name] -= fresh;
        plan.fresh.deadLetters += fresh;
        plan.conflicts.push(...conflicts);
        plan.deadLetters.push(...conflicts);
        plan.deadLetters.sort((a, b) => a.position - b.position);
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

  async checkpoint(): Promise<number> {
    const row = await this.read((qr) => qr.manager.getRepository(CheckpointRow).findOneBy({ name: this.checkpointName }));
    return row?.position ?? 0;
  }

  /**
   * The position up to which room events must be replayed into the membership tables (set by
   * the RoomMembership migration on a schema that had projected before); null when none.
   */
  async membershipBackfillMark(): Promise<number | null> {
    const name = this.checkpointName + MEMBERSHIP_BACKFILL_SUFFIX;
    const row = await this.read((qr) => qr.manager.getRepository(CheckpointRow).findOneBy({ name }));
    return row?.position ?? null;
  }

  async clearMembershipBackfillMark(): Promise<void> {
    const name = this.checkpointName + MEMBERSHIP_BACKFILL_SUFFIX;
    await this.read((qr) => qr.manager.getRepository(CheckpointRow).delete({ name }));
  }

  async ping(): Promise<void> {
    await this.read((qr) => qr.query('SELECT 1'));
  }

  /**
   * Runs work on one pooled connection. When the connection broke or the client stopped
   * waiting for it (query_timeout: the statement may still be running there), it is destroyed
   * instead of going back to the pool, where every later query would queue behind the stuck one.
   */
  async read<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
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
