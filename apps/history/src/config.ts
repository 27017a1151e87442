import { IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { BaseConfig } from '@chat/platform';

/** Postgres schema names are spliced into SQL (identifiers cannot be bound), so only plain ones are allowed. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export class HistoryConfig extends BaseConfig {
  override HTTP_PORT = 3003;
  /** Postgres connection URL. @default postgres://postgres@127.0.0.1:5432/chat */
  @IsString() @MinLength(1)
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/chat';
  /** Schema holding the history tables; created at start-up when missing. @default chat */
  @Matches(SCHEMA_PATTERN, { message: `DATABASE_SCHEMA must match ${SCHEMA_PATTERN}` })
  DATABASE_SCHEMA = 'chat';
  /**
   * Stream events fetched and projected per database transaction. At most 4096, which keeps the
   * multi-row INSERT (8 parameters a row) under Postgres's 65535 bind parameters. @default 256
   */
  @IsInt() @Min(1) @Max(4096)
  PROJECTION_BATCH = 256;
}
