import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema';

/**
 * Indexes for the message lifecycle's hot and background paths:
 * - `message_mentions (room_id, position)`: a message's mention rows are removed by room and
 *   position on every edit, deletion, dropped post and retention batch; the primary key leads
 *   with user_id, so without this each removal scanned the whole table.
 * - `messages_search_backfill_idx`: the rows stored before MessageLifecycle that still need a
 *   search vector (live, with text, `search` NULL). The search backfill (search/search.backfill.ts)
 *   walks it by position; once done it is empty (the projection writes a vector with every
 *   live text), so the job finds nothing at the next start for the cost of one index probe.
 * - `message_changes (room_id, time)`: the retention cleanup removes a room's expired changes
 *   whose message is gone (changes logged for a post that never became a message, or that
 *   arrived after the cleanup removed it), so no edited text outlives its period.
 */
export class LifecycleIndexes1796300000002 implements MigrationInterface {
  name = 'LifecycleIndexes1796300000002';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`CREATE INDEX message_mentions_room_position_idx ON ${s}.message_mentions (room_id, position)`);
    await qr.query(
      `CREATE INDEX messages_search_backfill_idx ON ${s}.messages (position) WHERE search IS NULL AND deleted_at IS NULL AND body <> ''`,
    );
    await qr.query(`CREATE INDEX message_changes_room_time_idx ON ${s}.message_changes (room_id, time)`);
  }

  async down(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`DROP INDEX ${s}.message_changes_room_time_idx`);
    await qr.query(`DROP INDEX ${s}.messages_search_backfill_idx`);
    await qr.query(`DROP INDEX ${s}.message_mentions_room_position_idx`);
  }
}
