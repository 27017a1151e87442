import type { RetentionRunView } from '@chat/contracts';
import type { QueryRunner } from 'typeorm';
import type { HistoryStore } from '../store/history.store';
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

  /** Rooms and conversations that exist (a deleted room's messages are already gone with it). */
  async rooms(): Promise<RetentionRoom[]> {
    const rows: Array<{ room_id: string; retention_days: number | null }> = await this.qr.query(
      `SELECT room_id, retention_days FROM ${this.s}.rooms WHERE NOT deleted`,
    );
    return rows.map((r) => ({ roomId: r.room_id, retentionDays: r.retention_days }));
  }

  /**
   * One batch, one statement (so one short transaction): looks at the room's `batch` oldest
   * messages (an index range on (room_id, position)), deletes those created before the cutoff,
   * and with them their message_mentions rows (by primary key, from the message's mentions) and
   * reactions.
   */
  async deleteBatch(roomId: string, cutoff: Date, batch: number): Promise<{ looked: number; removed: number }> {
    const s = this.s;
    const [row]: Array<{ looked: string; removed: string }> = await this.qr.query(
      `WITH batch AS (SELECT message_id, created_at FROM ${s}.messages WHERE room_id = $1 ORDER BY position LIMIT $3),
            gone AS (DELETE FROM ${s}.messages m USING batch b
                      WHERE m.message_id = b.message_id AND b.created_at < $2
                  RETURNING m.message_id, m.position, m.mentions),
            mentions AS (DELETE FROM ${s}.message_mentions x
                          USING gone g CROSS JOIN LATERAL jsonb_array_elements(g.mentions) e
                          WHERE x.user_id = (e->>'userId')::uuid AND x.room_id = $1 AND x.position = g.position
                      RETURNING 1),
            reactions AS (DELETE FROM ${s}.message_reactions r USING gone g WHERE r.message_id = g.message_id RETURNING 1)
       SELECT (SELECT count(*) FROM batch) AS looked, (SELECT count(*) FROM gone) AS removed,
              (SELECT count(*) FROM mentions) + (SELECT count(*) FROM reactions) AS dependants`,
      [roomId, cutoff, batch],
    );
    return { looked: Number(row.looked), removed: Number(row.removed) };
  }

  /**
   * The same for the room's dropped messages (posts the rules refused, kept whole with the
   * reason): expired text goes whichever table holds it.
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
