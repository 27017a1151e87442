import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MEMBERSHIP_BACKFILL_SUFFIX, schemaOf } from './schema';

/**
 * The membership read model: rooms (with their visibility) and room_members, projected from the
 * rooms' …meta events, which history.page authorises from. A left member keeps its row
 * (member = false) so that an older join redelivered later cannot bring it back: every row
 * records the position of the newest event applied to it.
 *
 * A deployment that has projected already skipped the room events up to its checkpoint, so the
 * migration records that position as a backfill mark (`<consumer>:membership-backfill`); the
 * projector replays the room events up to it from the stream at start-up and then deletes the
 * mark. A fresh schema has no checkpoint and needs none.
 */
export class RoomMembership1796107641984 implements MigrationInterface {
  name = 'RoomMembership1796107641984';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`
      CREATE TABLE ${s}.rooms (
        room_id          text   PRIMARY KEY,
        visibility       text   NOT NULL CHECK (visibility IN ('public', 'private')),
        created_position bigint NOT NULL
      )`);
    // The primary key serves the one read: "is user U a member of room R".
    await qr.query(`
      CREATE TABLE ${s}.room_members (
        room_id  text    NOT NULL,
        user_id  uuid    NOT NULL,
        member   boolean NOT NULL,
        role     text    CHECK (role IN ('owner', 'admin', 'member')),
        position bigint  NOT NULL,
        PRIMARY KEY (room_id, user_id)
      )`);
    await qr.query(`
      INSERT INTO ${s}.projection_checkpoints (name, position)
      SELECT name || '${MEMBERSHIP_BACKFILL_SUFFIX}', position FROM ${s}.projection_checkpoints
       WHERE position > 0 AND name NOT LIKE '%:%'`);
  }

  async down(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`DROP TABLE ${s}.room_members`);
    await qr.query(`DROP TABLE ${s}.rooms`);
  }
}
