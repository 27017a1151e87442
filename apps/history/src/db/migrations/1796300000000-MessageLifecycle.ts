import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema';

/**
 * The message lifecycle: replies, mentions, edits, deletions (tombstones), reactions and the
 * search column. Existing rows stay valid as they are: every new column of `messages` is
 * nullable or has a default that means "never edited, not deleted, no mentions"; their
 * `search` stays NULL until [search]'s backfill (a NULL vector matches nothing).
 *
 * `message_changes` keeps every MessageEdited / MessageDeleted / ReactionAdded / ReactionRemoved
 * by position, as the stream had it: batches commit out of order, so a change can reach history
 * before the post it changes; the messages read model folds a message's logged changes into its
 * row whenever the row is (re)inserted, and the log also tells that a change event has been
 * projected (ProjectionProgress waits on it). `dropped_messages` keeps the reply and mentions of
 * a refused post, so one a late room event lets stand again comes back whole.
 */
export class MessageLifecycle1796300000000 implements MigrationInterface {
  name = 'MessageLifecycle1796300000000';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`
      ALTER TABLE ${s}.messages
        ADD COLUMN reply_to        uuid,
        ADD COLUMN reply_snapshot  jsonb,
        ADD COLUMN mentions        jsonb       NOT NULL DEFAULT '[]',
        ADD COLUMN edited_at       timestamptz,
        ADD COLUMN edit_position   bigint,
        ADD COLUMN deleted_at      timestamptz,
        ADD COLUMN deleted_by      uuid,
        ADD COLUMN deleted_by_name text,
        ADD COLUMN delete_reason   text CHECK (delete_reason IN ('author', 'moderator')),
        ADD COLUMN delete_position bigint,
        ADD COLUMN search          tsvector`);
    await qr.query(`CREATE INDEX messages_search_idx ON ${s}.messages USING GIN (search)`);
    // history.page `at` (jump to a date): the first message of the room at or after a time.
    await qr.query(`CREATE INDEX messages_room_time_idx ON ${s}.messages (room_id, created_at)`);
    await qr.query(`
      ALTER TABLE ${s}.dropped_messages
        ADD COLUMN reply_to       uuid,
        ADD COLUMN reply_snapshot jsonb,
        ADD COLUMN mentions       jsonb NOT NULL DEFAULT '[]'`);
    await qr.query(`
      CREATE TABLE ${s}.message_mentions (
        user_id  uuid   NOT NULL,
        room_id  text   NOT NULL,
        position bigint NOT NULL,
        PRIMARY KEY (user_id, room_id, position)
      )`);
    await qr.query(`
      CREATE TABLE ${s}.message_reactions (
        message_id     uuid    NOT NULL,
        emoji          text    NOT NULL,
        user_id        uuid    NOT NULL,
        username       text    NOT NULL,
        active         boolean NOT NULL,
        position       bigint  NOT NULL,
        first_position bigint  NOT NULL,
        PRIMARY KEY (message_id, emoji, user_id)
      )`);
    await qr.query(`
      CREATE TABLE ${s}.message_changes (
        position   bigint      PRIMARY KEY,
        message_id uuid        NOT NULL,
        room_id    text        NOT NULL,
        kind       text        NOT NULL CHECK (kind IN ('edit', 'delete', 'react', 'unreact')),
        user_id    uuid        NOT NULL,
        username   text,
        body       text,
        mentions   jsonb,
        emoji      text,
        reason     text,
        time       timestamptz NOT NULL
      )`);
    // A message's changes (emoji NULL: edits and deletions), and one user's reactions with one emoji.
    await qr.query(`CREATE INDEX message_changes_message_idx ON ${s}.message_changes (message_id, emoji, user_id, position)`);
  }

  async down(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`DROP TABLE ${s}.message_changes`);
    await qr.query(`DROP TABLE ${s}.message_reactions`);
    await qr.query(`DROP TABLE ${s}.message_mentions`);
    await qr.query(`ALTER TABLE ${s}.dropped_messages DROP COLUMN reply_to, DROP COLUMN reply_snapshot, DROP COLUMN mentions`);
    await qr.query(`DROP INDEX ${s}.messages_room_time_idx`);
    await qr.query(`DROP INDEX ${s}.messages_search_idx`);
    await qr.query(`
      ALTER TABLE ${s}.messages
        DROP COLUMN reply_to, DROP COLUMN reply_snapshot, DROP COLUMN mentions, DROP COLUMN edited_at, DROP COLUMN edit_position,
        DROP COLUMN deleted_at, DROP COLUMN deleted_by, DROP COLUMN deleted_by_name, DROP COLUMN delete_reason,
        DROP COLUMN delete_position, DROP COLUMN search`);
  }
}
