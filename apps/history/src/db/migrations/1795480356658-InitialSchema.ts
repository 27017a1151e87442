import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema';

/** messages (keyset-paged per room), the projector checkpoint, and dead letters. */
export class InitialSchema1795480356658 implements MigrationInterface {
  name = 'InitialSchema1795480356658';

  async up(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`
      CREATE TABLE ${s}.messages (
        message_id    uuid        PRIMARY KEY,
        room_id       text        NOT NULL,
        position      bigint      NOT NULL,
        sender_id     uuid        NOT NULL,
        sender_name   text        NOT NULL,
        client_msg_id text        NOT NULL,
        body          text        NOT NULL,
        created_at    timestamptz NOT NULL,
        CONSTRAINT messages_position_key UNIQUE (position)
      )`);
    // Serves "WHERE room_id = $1 AND position < $2 ORDER BY position DESC LIMIT n" as one index range scan.
    await qr.query(`CREATE INDEX messages_room_position_idx ON ${s}.messages (room_id, position DESC)`);
    await qr.query(`
      CREATE TABLE ${s}.projection_checkpoints (
        name       text        PRIMARY KEY,
        position   bigint      NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await qr.query(`
      CREATE TABLE ${s}.dead_letters (
        position   bigint      PRIMARY KEY,
        subject    text        NOT NULL,
        raw        text        NOT NULL,
        error      text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(qr: QueryRunner): Promise<void> {
    const s = schemaOf(qr);
    await qr.query(`DROP TABLE ${s}.dead_letters`);
    await qr.query(`DROP TABLE ${s}.projection_checkpoints`);
    await qr.query(`DROP TABLE ${s}.messages`);
  }
}
