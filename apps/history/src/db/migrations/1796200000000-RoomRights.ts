import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MEMBERSHIP_BACKFILL_SUFFIX, schemaOf } from './schema';

/**
 * Every room event, for authorisation, listings and "the stream decides" (docs/rooms.md,
 * Posting): whether a post is stored depends on its sender's rights at the post's stream
 * position, so the room events are kept as change logs keyed by position (`room_changes`,
 * `member_changes`, `block_changes`), and `rooms` / `room_members` become the newest state
 * recomputed from them. `dropped_messages` keeps each MessagePosted that is not (or no longer)
 * in `messages`, whole, with the reason: refused by the rules, or gone with its room; a late
 * room event can move a message between the two tables.
 *
 * Like RoomMembership, a schema that has projected before skipped these events' new columns
 * and logs, so the backfill mark is set (again) at the checkpoint: the projector replays the
 * room events up to it at start-up.
 */
export class RoomRights1796200000000 implements MigrationInterface {
  name = 'RoomRights1796200000000';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`
      ALTER TABLE ${s}.rooms
        ADD COLUMN kind        text    NOT NULL DEFAULT 'group' CHECK (kind IN ('group', 'direct')),
        ADD COLUMN name        text,
        ADD COLUMN post_policy text    NOT NULL DEFAULT 'members' CHECK (post_policy IN ('members', 'admins')),
        ADD COLUMN deleted     boolean NOT NULL DEFAULT false,
        ADD COLUMN owner_id    uuid,
        ADD COLUMN position    bigint  NOT NULL DEFAULT 0`);
    await qr.query(`
      ALTER TABLE ${s}.room_members
        ADD COLUMN username        text,
        ADD COLUMN joined_position bigint,
        ADD COLUMN joined_at       timestamptz`);
    // "The rooms of user U" (history.conversations): the primary key starts with the room.
    await qr.query(`CREATE INDEX room_members_user_idx ON ${s}.room_members (user_id, room_id) WHERE member`);
    // Room-level changes; a null column is one the event does not set (the newest non-null wins).
    await qr.query(`
      CREATE TABLE ${s}.room_changes (
        room_id     text    NOT NULL,
        position    bigint  NOT NULL,
        created     boolean NOT NULL,
        deleted     boolean NOT NULL,
        kind        text    CHECK (kind IN ('group', 'direct')),
        name        text,
        visibility  text    CHECK (visibility IN ('public', 'private')),
        post_policy text    CHECK (post_policy IN ('members', 'admins')),
        PRIMARY KEY (room_id, position)
      )`);
    // A user's membership as set by the event at `position`; "as of position P" is one backward index step.
    await qr.query(`
      CREATE TABLE ${s}.member_changes (
        room_id  text        NOT NULL,
        user_id  uuid        NOT NULL,
        position bigint      NOT NULL,
        member   boolean     NOT NULL,
        role     text        CHECK (role IN ('owner', 'admin', 'member')),
        username text        NOT NULL,
        time     timestamptz NOT NULL,
        PRIMARY KEY (room_id, user_id, position)
      )`);
    // Per direction: blocker blocks (or stops blocking) the other participant of a direct room.
    await qr.query(`
      CREATE TABLE ${s}.block_changes (
        room_id    text    NOT NULL,
        blocker_id uuid    NOT NULL,
        position   bigint  NOT NULL,
        blocked_id uuid    NOT NULL,
        blocked    boolean NOT NULL,
        PRIMARY KEY (room_id, blocker_id, position)
      )`);
    await qr.query(`
      CREATE TABLE ${s}.dropped_messages (
        position      bigint      PRIMARY KEY,
        message_id    uuid        NOT NULL,
        room_id       text        NOT NULL,
        sender_id     uuid        NOT NULL,
        sender_name   text        NOT NULL,
        client_msg_id text        NOT NULL,
        body          text        NOT NULL,
        created_at    timestamptz NOT NULL,
        reason        text        NOT NULL,
        dropped_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await qr.query(`CREATE INDEX dropped_messages_room_position_idx ON ${s}.dropped_messages (room_id, position)`);
    await qr.query(`
      INSERT INTO ${s}.projection_checkpoints (name, position)
      SELECT name || '${MEMBERSHIP_BACKFILL_SUFFIX}', position FROM ${s}.projection_checkpoints
       WHERE position > 0 AND name NOT LIKE '%:%'
      ON CONFLICT (name) DO UPDATE SET position = GREATEST(projection_checkpoints.position, EXCLUDED.position)`);
  }

  async down(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`DROP TABLE ${s}.dropped_messages`);
    await qr.query(`DROP TABLE ${s}.block_changes`);
    await qr.query(`DROP TABLE ${s}.member_changes`);
    await qr.query(`DROP TABLE ${s}.room_changes`);
    await qr.query(`DROP INDEX ${s}.room_members_user_idx`);
    await qr.query(`ALTER TABLE ${s}.room_members DROP COLUMN username, DROP COLUMN joined_position, DROP COLUMN joined_at`);
    await qr.query(
      `ALTER TABLE ${s}.rooms DROP COLUMN kind, DROP COLUMN name, DROP COLUMN post_policy, DROP COLUMN deleted, DROP COLUMN owner_id, DROP COLUMN position`,
    );
  }
}
