import 'reflect-metadata';
import { Column, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

/**
 * Stream positions are Postgres bigints, which node-postgres returns as strings. JetStream
 * sequences stay far below 2^53, so they are read back as plain numbers.
 */
export const positionColumn: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/**
 * The tables shared by every read model. They live in the schema set on the DataSource (config
 * DATABASE_SCHEMA); migrations create them. Each read model's own entities are in its folder.
 */
@Entity({ name: 'projection_checkpoints' })
export class CheckpointRow {
  @PrimaryColumn({ name: 'name', type: 'text' })
  name: string;
  @Column({ name: 'position', type: 'bigint', transformer: positionColumn })
  position: number;
  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** Events that could not be projected, kept verbatim for inspection; the stream moves on without them. */
@Entity({ name: 'dead_letters' })
export class DeadLetterRow {
  @PrimaryColumn({ name: 'position', type: 'bigint', transformer: positionColumn })
  position: number;
  @Column({ name: 'subject', type: 'text' })
  subject: string;
  @Column({ name: 'raw', type: 'text' })
  raw: string;
  @Column({ name: 'error', type: 'text' })
  error: string;
  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

export const sharedEntities = [CheckpointRow, DeadLetterRow];
