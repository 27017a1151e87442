import { DataSource } from 'typeorm';
import { SCHEMA_PATTERN } from '../config';
import { entities } from './entities';
import { migrations } from './migrations';

export interface DatabaseOptions {
  url: string;
  schema: string;
  /** Label visible in pg_stat_activity. */
  applicationName?: string;
}

/** A DataSource for the history schema. Never `synchronize`: the schema is owned by the migrations. */
export function createDataSource(opts: DatabaseOptions): DataSource {
  if (!SCHEMA_PATTERN.test(opts.schema)) throw new Error(`invalid schema "${opts.schema}": must match ${SCHEMA_PATTERN}`);
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    applicationName: opts.applicationName ?? 'history',
    entities,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    connectTimeoutMS: 5000,
  });
}

/** Advisory lock keys are per schema, so test runs with their own schemas never wait on each other. */
export const lockKey = (purpose: 'migrate' | 'projector', schema: string) => `history:${purpose}:${schema}`;

/**
 * Creates the schema when missing and runs pending migrations. Replicas starting together
 * queue on a session-level advisory lock held on one dedicated connection, so exactly one of
 * them applies each migration and the others then find nothing pending.
 */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const schema = (ds.options as { schema: string }).schema;
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey('migrate', schema)]);
    try {
      await qr.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await qr.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey('migrate', schema)]);
    }
  } finally {
    await qr.release();
  }
}

/** Connects and migrates; the caller owns the returned DataSource and destroys it. */
export async function openDatabase(opts: DatabaseOptions): Promise<DataSource> {
  const ds = createDataSource(opts);
  await ds.initialize();
  try {
    await runMigrations(ds);
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}
