import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema';

/**
 * Statistics of the messages stored before the statistics tables existed. The statistics
 * describe the messages history holds (docs/protocol.md, room.stats), and the projection adds
 * only the rows it inserts from then on, so the rows already in `messages` (tombstones
 * included) are aggregated into the three tables once, here.
 *
 * Not counted twice: migrations run before the projection starts, and this one runs once. On a
 * fresh schema `messages` is empty and nothing is added. The guard (statistics still empty)
 * covers a schema whose projection already counted posts under ReadsStatsRetention alone (a
 * build between the two migrations): its counts are left as they are rather than doubled.
 */
export class StatsBackfill1796300000003 implements MigrationInterface {
  name = 'StatsBackfill1796300000003';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    const empty = `NOT EXISTS (SELECT 1 FROM ${s}.stats_room_days)`;
    // The poster's name is the one of their last message that day (as the projection keeps it).
    await qr.query(
      `INSERT INTO ${s}.stats_room_day_users (room_id, day, user_id, username, messages)
       SELECT room_id, (created_at AT TIME ZONE 'UTC')::date, sender_id, (array_agg(sender_name ORDER BY position DESC))[1], count(*)
         FROM ${s}.messages WHERE ${empty}
        GROUP BY 1, 2, 3`,
    );
    await qr.query(
      `INSERT INTO ${s}.stats_room_day_hours (room_id, day, hour, messages)
       SELECT room_id, (created_at AT TIME ZONE 'UTC')::date, extract(hour FROM created_at AT TIME ZONE 'UTC')::smallint, count(*)
         FROM ${s}.messages WHERE ${empty}
        GROUP BY 1, 2, 3`,
    );
    // Last: the guard reads this table.
    await qr.query(
      `INSERT INTO ${s}.stats_room_days (room_id, day, messages)
       SELECT room_id, (created_at AT TIME ZONE 'UTC')::date, count(*)
         FROM ${s}.messages WHERE ${empty}
        GROUP BY 1, 2`,
    );
  }

  async down(): Promise<void> {
    // The counts stay: the projection keeps adding to (and subtracting from) them.
  }
}
