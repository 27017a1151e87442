import type { QueryRunner } from 'typeorm';
import { SCHEMA_PATTERN } from '../../config';

/**
 * The quoted schema the DataSource was opened with. Migrations use it explicitly rather than
 * relying on search_path, so every replica and `migration:run` write to the same place.
 */
export function schemaOf(qr: QueryRunner): string {
  const schema = (qr.connection.options as { schema?: string }).schema;
  if (!schema || !SCHEMA_PATTERN.test(schema)) throw new Error(`migrations need a valid schema on the DataSource, got "${schema}"`);
  return `"${schema}"`;
}

/** Name suffix of the checkpoint row marking how far the membership tables must be backfilled from the stream. */
export const MEMBERSHIP_BACKFILL_SUFFIX = ':membership-backfill';
