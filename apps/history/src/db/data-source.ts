import { DataSource } from 'typeorm';
import { SCHEMA_PATTERN } from '../config';
import { readModels } from '../read-models';
import { sharedEntities } from './entities';
import { migrations } from './migrations';

export interface DatabaseTimeouts {
  /** Postgres statement_timeout and idle_in_transaction_session_timeout. */
  statementMs: number;
  /** Postgres lock_timeout. */
  lockMs: number;
}

export interface DatabaseOptions {
  url: string;
  schema: string;
  /** Label visible in pg_stat_activity. */
  applicationName?: string;
  /**
   * Limits on every session of the pool. Without them a statement stuck on a lock, a session
   * left open in a transaction by a vanished replica, or a connection whose server stopped
   * answering would hang the projector (and hold the checkpoint lock) indefinitely. Omitted
   * only for migrations, which may legitimately run long and wait for another replica's lock.
   */
  timeouts?: DatabaseTimeouts;
}

/** The client stops waiting this long after the server should have cancelled a statement itself. */
export const CLIENT_TIMEOUT_MARGIN_MS = 5000;

/**
 * Settings of the node-postgres pool. statement_timeout, lock_timeout and
 * idle_in_transaction_session_timeout are sent when a connection starts, so every session has
 * them. query_timeout is the client's own limit, for a server (or network path) that no longer
 * answers at all; TCP keepalive lets the OS notice dead idle connections.
 */
export function poolSettings(timeouts: DatabaseTimeouts | undefined): Record<string, unknown> {
  const keepAlive = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 };
  if (!timeouts) return keepAlive;
  return {
    ...keepAlive,
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    idle_in_transaction_session_timeout: timeouts.statementMs,
    query_timeout: timeouts.statementMs + CLIENT_TIMEOUT_MARGIN_MS,
  };
}

/** The shared tables and every read model's. */
export const entities = [...sharedEntities, ...Object.values(readModels).flatMap((m) => m.entities)];

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
    extra: poolSettings(opts.timeouts),
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

/**
 * Migrates through a short-lived DataSource without timeouts, then connects the one the service
 * uses (with `opts.timeouts`); the caller owns the returned DataSource and destroys it.
 */
export async function openDatabase(opts: DatabaseOptions & { timeouts: DatabaseTimeouts }): Promise<DataSource> {
  const migrator = createDataSource({ ...opts, applicationName: `${opts.applicationName ?? 'history'}-migrate`, timeouts: undefined });
  await migrator.initialize();
  try {
    await runMigrations(migrator);
  } finally {
    await migrator.destroy().catch(() => undefined);
  }
  const ds = createDataSource(opts);
  await ds.initialize();
  return ds;
}
