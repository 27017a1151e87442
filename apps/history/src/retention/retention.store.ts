import type { RetentionRunView } from '@chat/contracts';
import type { QueryRunner } from 'typeorm';
import type { HistoryStore } from '../store/history.store';
import { uncountPosts } from '../stats/stats.store';
import type { RetentionRoom } from './retention.policy';

/** Runs of the cleanup kept in retention_runs; older ones are removed after each run. */
export const RUNS_KEPT = 1000;

/** The SQL side of the retention cleanup, on one connection that holds the cleanup's advisory lock. */
export class RetentionSql {
  constructor(
    private readonly qr: QueryRunner,
    private readonly s: string,
  ) {}

  /** A session-level advisory lock per schema: one replica runs the cleanup, the others skip the round. */
  async tryLock(): Promise<boolean> {
    const [row]: Array<{ locked: boolean }> = await this.qr.query(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [
      this.lockKey,
    ]);
    return row.locked;
  }

  async unlock(): Promise<void> {
    await this.qr.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [this.lockKey]);
  }

  private get lockKey(): string {
    return `chat.history.retention:${this.s}`;
  }

  /**
   * Every room and conversation with its policy, deleted ones included (their dropped messages
   * expire by the room's last policy, else the default), and the rooms of dropped posts that
   * never existed (the default).
   */
  async rooms(): Promise<RetentionRoom[]> {
    const s = this.s;
    const rows: Array<{ room_id: string; retention_days: number | null; deleted: boolean }> = await this.qr.query(
      `SELECT room_id, retention_days, deleted FROM ${s}.rooms
       UNION ALL
       SELECT DISTINCT d.room_id, NULL::integer, true FROM ${s}.dropped_messages d
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.rooms r WHERE r.room_id = d.room_id)`,
    );
    return rows.map((r) => ({ roomId: r.room_id, retentionDays: r.retention_days, deleted: r.deleted }));
  }

  /**
   * Of these rooms' cutoffs, the rooms that have something expired: a message, a dropped
   * message, or a logged change whose message is gone. One statement, one probe per room on
   * each of messages (room_id, created_at), dropped_messages (room_id, position) and
   * message_changes (room_id, time), instead of a delete per room per run.
   */
  async expiredRooms(cutoffs: Array<{ roomId: string; cutoff: Date }>): Promise<Array<{ roomId: string; cutoff: Date }>> {
    if (!cutoffs.length) return [];
    const s = this.s;
    const rows: Array<{ room_id: string; cutoff: Date }> = await this.qr.query(
      `SELECT c.room_id, c.cutoff FROM unnest($1::text[], $2::timestamptz[]) AS c(room_id, cutoff)
        WHERE EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.room_id = c.room_id AND m.created_at < c.cutoff)
           OR EXISTS (SELECT 1 FROM ${s}.dropped_messages d WHERE d.room_id = c.room_id AND d.created_at < c.cutoff)
           OR EXISTS (SELECT 1 FROM ${s}.message_changes x WHERE x.room_id = c.room_id AND x.time < c.cutoff
                         AND NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.message_id = x.message_id))`,
      [cutoffs.map((c) => c.roomId), cutoffs.map((c) => c.cutoff)],
    );
    return rows.map((r) => ({ roomId: r.room_id, cutoff: r.cutoff }));
  }

  /**
   * One batch, in one short transaction: looks at the room's `batch` oldest messages (an index
   * range on (room_id, position)), deletes those created before the cutoff, and with them
   * everything that follows a message: its message_mentions rows (room_id, position), reactions,
   * logged changes (the edited texts) and its share of the statistics (which describe the
   * messages history holds). The projection's checkpoint row is locked first, as every batch
   * of the projection does: a batch folding a change into one of these messages waits for this
   * transaction (and then finds the message gone) instead of writing reactions or mentions of
   * a message deleted under it.
   */
  async deleteBatch(roomId: string, cutoff: Date, batch: number): Promise<{ looked: number; removed: number }> {
    const s = this.s;
    return this.transaction(async () => {
      await this.qr.query(`SELECT 1 FROM ${s}.projection_checkpoints WHERE name NOT LIKE '%:%' FOR UPDATE`);
      const [row]: Array<{ looked: string; gone: Array<{ sender_id: string; sender_name: string; created_at: string }> | null }> =
        await this.qr.query(
          `WITH batch AS (SELECT message_id, created_at FROM ${s}.messages WHERE room_id = $1 ORDER BY position LIMIT $3),
                gone AS (DELETE FROM ${s}.messages m USING batch b
                          WHERE m.message_id = b.message_id AND b.created_at < $2
                      RETURNING m.message_id, m.position, m.sender_id, m.sender_name, m.created_at),
                mentions AS (DELETE FROM ${s}.message_mentions x USING gone g
                              WHERE x.room_id = $1 AND x.position = g.position RETURNING 1),
                reactions AS (DELETE FROM ${s}.message_reactions r USING gone g WHERE r.message_id = g.message_id RETURNING 1),
                changes AS (DELETE FROM ${s}.message_changes c USING gone g WHERE c.message_id = g.message_id RETURNING 1)
           SELECT (SELECT count(*) FROM batch) AS looked,
                  (SELECT json_agg(json_build_object('sender_id', sender_id, 'sender_name', sender_name, 'created_at', created_at)) FROM gone) AS gone,
                  (SELECT count(*) FROM mentions) + (SELECT count(*) FROM reactions) + (SELECT count(*) FROM changes) AS dependants`,
          [roomId, cutoff, batch],
        );
      const gone = row.gone ?? [];
      await uncountPosts(
        this.qr.manager,
        s,
        gone.map((g) => ({ roomId, senderId: g.sender_id, senderName: g.sender_name, createdAt: new Date(g.created_at) })),
      );
      return { looked: Number(row.looked), removed: gone.length };
    });
  }

  /**
   * The same for the room's dropped messages (posts the rules refused or that went with their
   * deleted room, kept whole with the reason): expired text goes whichever table holds it.
   */
  async deleteDroppedBatch(roomId: string, cutoff: Date, batch: number): Promise<{ looked: number; removed: number }> {
    const s = this.s;
    const [row]: Array<{ looked: string; removed: string }> = await this.qr.query(
      `WITH batch AS (SELECT position, created_at FROM ${s}.dropped_messages WHERE room_id = $1 ORDER BY position LIMIT $3),
            gone AS (DELETE FROM ${s}.dropped_messages d USING batch b
                      WHERE d.position = b.position AND b.created_at < $2 RETURNING 1)
       SELECT (SELECT count(*) FROM batch) AS looked, (SELECT count(*) FROM gone) AS removed`,
      [roomId, cutoff, batch],
    );
    return { looked: Number(row.looked), removed: Number(row.removed) };
  }

  /**
   * Orphans of the room, up to `batch` of them: logged changes older than the cutoff whose
   * message is not in `messages` (changes of a post that never became a message, or that
   * arrived after the cleanup removed it) with the reactions they made, and message_mentions
   * rows below the room's oldest message (left by an edit that raced a cleanup before the
   * checkpoint lock). Returns how many changes went (a full batch: call again).
   */
  async deleteOrphansBatch(roomId: string, cutoff: Date, batch: number): Promise<{ looked: number; removed: number }> {
    const s = this.s;
    return this.transaction(async () => {
      await this.qr.query(`SELECT 1 FROM ${s}.projection_checkpoints WHERE name NOT LIKE '%:%' FOR UPDATE`);
      const [row]: Array<{ removed: string }> = await this.qr.query(
        `WITH orphans AS (SELECT c.position, c.message_id FROM ${s}.message_changes c
                           WHERE c.room_id = $1 AND c.time < $2
                             AND NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.message_id = c.message_id)
                           LIMIT $3),
              changes AS (DELETE FROM ${s}.message_changes c USING orphans o WHERE c.position = o.position RETURNING 1),
              reactions AS (DELETE FROM ${s}.message_reactions r
                             WHERE r.message_id IN (SELECT message_id FROM orphans)
                               AND NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.message_id = r.message_id) RETURNING 1)
         SELECT (SELECT count(*) FROM changes) AS removed, (SELECT count(*) FROM reactions) AS reactions`,
        [roomId, cutoff, batch],
      );
      const [{ oldest }]: Array<{ oldest: string | null }> = await this.qr.query(
        `SELECT min(position) AS oldest FROM ${s}.messages WHERE room_id = $1`,
        [roomId],
      );
      await this.qr.query(
        `DELETE FROM ${s}.message_mentions WHERE room_id = $1 ${oldest === null ? '' : 'AND position < $2'}`,
        oldest === null ? [roomId] : [roomId, oldest],
      );
      return { looked: batch, removed: Number(row.removed) };
    });
  }

  private async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.qr.startTransaction();
    try {
      const result = await work();
      await this.qr.commitTransaction();
      return result;
    } catch (err) {
      if (this.qr.isTransactionActive) await this.qr.rollbackTransaction().catch(() => undefined);
      throw err;
    }
  }

  /** The oldest position history holds (the messages_position_key index's first entry); null when empty. */
  async oldestKept(): Promise<number | null> {
    const [row]: Array<{ p: string | null }> = await this.qr.query(`SELECT min(position) AS p FROM ${this.s}.messages`);
    return row.p === null ? null : Number(row.p);
  }

  async startRun(runId: string, startedAt: Date): Promise<void> {
    await this.qr.query(`INSERT INTO ${this.s}.retention_runs (run_id, started_at) VALUES ($1, $2)`, [runId, startedAt]);
  }

  async finishRun(run: RetentionRunView): Promise<void> {
    await this.qr.query(
      `UPDATE ${this.s}.retention_runs
          SET finished_at = $2, messages_removed = $3, rooms = $4, stream_trimmed_below = $5, error = $6
        WHERE run_id = $1`,
      [run.runId, run.finishedAt, run.messagesRemoved, run.rooms, run.streamTrimmedBelow, run.error],
    );
    await this.qr.query(
      `DELETE FROM ${this.s}.retention_runs
        WHERE started_at < (SELECT started_at FROM ${this.s}.retention_runs ORDER BY started_at DESC OFFSET ${RUNS_KEPT - 1} LIMIT 1)`,
    );
  }
}

/** The last runs, newest first (admin.retentionRuns). */
export async function lastRuns(store: HistoryStore, limit: number): Promise<RetentionRunView[]> {
  const rows: Array<{
    run_id: string;
    started_at: Date;
    finished_at: Date | null;
    messages_removed: string;
    rooms: number;
    stream_trimmed_below: string | null;
    error: string | null;
  }> = await store.read((qr) => qr.query(`SELECT * FROM ${store.schema}.retention_runs ORDER BY started_at DESC LIMIT $1`, [limit]));
  return rows.map((r) => ({
    runId: r.run_id,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    messagesRemoved: Number(r.messages_removed),
    rooms: r.rooms,
    streamTrimmedBelow: r.stream_trimmed_below === null ? null : Number(r.stream_trimmed_below),
    error: r.error,
  }));
}
