import { IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { BaseConfig } from '@chat/platform';

/** Postgres schema names are spliced into SQL (identifiers cannot be bound), so only plain ones are allowed. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export class HistoryConfig extends BaseConfig {
  override HTTP_PORT = 3003;
  /** Postgres connection URL. @default postgres://postgres@127.0.0.1:5432/chat */
  @IsString()
  @MinLength(1)
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/chat';
  /** Schema holding the history tables; created at start-up when missing. @default chat */
  @Matches(SCHEMA_PATTERN, { message: `DATABASE_SCHEMA must match ${SCHEMA_PATTERN}` })
  DATABASE_SCHEMA = 'chat';
  /**
   * Stream events fetched and projected per database transaction. At most 4096, which keeps the
   * multi-row INSERT (8 parameters a row) under Postgres's 65535 bind parameters. @default 256
   */
  @IsInt()
  @Min(1)
  @Max(4096)
  PROJECTION_BATCH = 256;
  /**
   * How long a batch may wait for more events after its first one, in ms: under steady traffic
   * this turns one transaction per event into one per few dozen (the fan-out benchmark's
   * ~400 msg/s cost history + Postgres 36 % of a core without it, 11 % with 50 ms), at the price of
   * up to this much projection delay. @default 50
   */
  @IsInt()
  @Min(0)
  @Max(1000)
  PROJECTION_LINGER_MS = 50;
  /**
   * How long the server waits for a batch's ack before handing it out again, in ms. Short, so
   * that the batch of an instance that crashed is projected by another one (or its restart)
   * within a few seconds; a live instance keeps its long batches with in-progress acks (every
   * third of this) for up to PROJECTION_MAX_BATCH_MS. Every replica should use the same value
   * (each start-up sets it on the shared consumer). @default 5000
   */
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  PROJECTION_ACK_WAIT_MS = 5000;
  /**
   * Longest one batch may run, in ms: past it the projector stops its in-progress acks (the
   * batch is handed to another replica after the ack wait) and the service is not ready
   * (`projector`: stuck). Keep it well above DATABASE_STATEMENT_TIMEOUT_MS. @default 60000
   */
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  PROJECTION_MAX_BATCH_MS = 60_000;
  /**
   * Longest a database statement may run before Postgres cancels it, in ms; also the limit on
   * a session sitting idle inside a transaction. The client gives up 5 s after it when the
   * server does not answer at all. Migrations run without it. @default 10000
   */
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 10_000;
  /** Longest a statement waits for a lock (e.g. another replica's checkpoint row), in ms. @default 5000 */
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_LOCK_TIMEOUT_MS = 5000;
  /**
   * Days a room's messages are kept when the room sets no period of its own (room.setRetention),
   * conversations included; 0 keeps them forever. @default 0
   */
  @IsInt()
  @Min(0)
  @Max(36_500)
  RETENTION_DEFAULT_DAYS = 0;
  /** How often the retention cleanup runs, in ms; the first run is one interval after start-up. @default 3600000 */
  @IsInt()
  @Min(1000)
  @Max(604_800_000)
  RETENTION_INTERVAL_MS = 3_600_000;
  /** Messages the retention cleanup deletes per statement (each its own short transaction). @default 1000 */
  @IsInt()
  @Min(1)
  @Max(100_000)
  RETENTION_BATCH = 1000;
  /** Pause between two deletes of the retention cleanup, in ms, so live queries and the projection keep their share. @default 50 */
  @IsInt()
  @Min(0)
  @Max(60_000)
  RETENTION_PAUSE_MS = 50;
}
