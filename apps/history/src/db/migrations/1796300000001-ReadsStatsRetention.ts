import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema';

/**
 * Statistics, retention and the retention policy of rooms.
 *
 * - `stats_room_days`, `stats_room_day_users`, `stats_room_day_hours`: message counts per room
 *   and UTC day, per room, day and poster, per room, day and hour of day. The projection adds
 *   to them in the batch transaction, only for rows its INSERT stored for the first time, so a
 *   redelivered event is never counted twice; `history.stats` reads only these tables.
 * - `retention_runs`: one row per run of the retention cleanup (admin.retentionRuns).
 * - `room_changes.retention_set` / `retention_days` log each RoomRetentionSet (days NULL: back
 *   to the deployment's default, which is why "set" is its own column: the newest change with
 *   retention_set wins), and `rooms.retention_days` is the newest one, recomputed from the log.
 *
 * Read markers are not here: they live in the KV bucket `<ns>_reads` (the stream is their
 * source of truth; unread counts are worked out from positions when asked).
 */
export class ReadsStatsRetention1796300000001 implements MigrationInterface {
  name = 'ReadsStatsRetention1796300000001';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`
      ALTER TABLE ${s}.room_changes
        ADD COLUMN retention_set  boolean NOT NULL DEFAULT false,
        ADD COLUMN retention_days integer`);
    await qr.query(`ALTER TABLE ${s}.rooms ADD COLUMN retention_days integer`);
    await qr.query(`
      CREATE TABLE ${s}.stats_room_days (
        room_id  text   NOT NULL,
        day      date   NOT NULL,
        messages bigint NOT NULL,
        PRIMARY KEY (room_id, day)
      )`);
    // Every room's day (history.stats without a room) reads the range by day.
    await qr.query(`CREATE INDEX stats_room_days_day_idx ON ${s}.stats_room_days (day)`);
    await qr.query(`
      CREATE TABLE ${s}.stats_room_day_users (
        room_id  text   NOT NULL,
        day      date   NOT NULL,
        user_id  uuid   NOT NULL,
        username text   NOT NULL,
        messages bigint NOT NULL,
        PRIMARY KEY (room_id, day, user_id)
      )`);
    await qr.query(`CREATE INDEX stats_room_day_users_day_idx ON ${s}.stats_room_day_users (day)`);
    await qr.query(`
      CREATE TABLE ${s}.stats_room_day_hours (
        room_id  text     NOT NULL,
        day      date     NOT NULL,
        hour     smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
        messages bigint   NOT NULL,
        PRIMARY KEY (room_id, day, hour)
      )`);
    await qr.query(`CREATE INDEX stats_room_day_hours_day_idx ON ${s}.stats_room_day_hours (day)`);
    await qr.query(`
      CREATE TABLE ${s}.retention_runs (
        run_id               uuid        PRIMARY KEY,
        started_at           timestamptz NOT NULL,
        finished_at          timestamptz,
        messages_removed     bigint      NOT NULL DEFAULT 0,
        rooms                integer     NOT NULL DEFAULT 0,
        stream_trimmed_below bigint,
        error                text
      )`);
    await qr.query(`CREATE INDEX retention_runs_started_idx ON ${s}.retention_runs (started_at DESC)`);
  }

  async down(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`DROP TABLE ${s}.retention_runs`);
    await qr.query(`DROP TABLE ${s}.stats_room_day_hours`);
    await qr.query(`DROP TABLE ${s}.stats_room_day_users`);
    await qr.query(`DROP TABLE ${s}.stats_room_days`);
    await qr.query(`ALTER TABLE ${s}.rooms DROP COLUMN retention_days`);
    await qr.query(`ALTER TABLE ${s}.room_changes DROP COLUMN retention_set, DROP COLUMN retention_days`);
  }
}
