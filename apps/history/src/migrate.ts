import 'reflect-metadata';
import { ConfigError, createLogger, loadConfig } from '@chat/platform';
import { HistoryConfig } from './config';
import { createDataSource, runMigrations } from './db/data-source';

/**
 * `npm run migration:run`: applies pending migrations to DATABASE_SCHEMA and exits. The
 * service runs the same migrations at start-up; this is for deploy pipelines that migrate first.
 */
async function main(): Promise<void> {
  let config: HistoryConfig;
  try {
    config = loadConfig(HistoryConfig);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`history-migrate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('history-migrate', config.LOG_LEVEL);
  const ds = createDataSource({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, applicationName: 'history-migrate' });
  await ds.initialize();
  try {
    const applied = await runMigrations(ds);
    logger.info({ schema: config.DATABASE_SCHEMA, applied }, applied.length ? 'migrations applied' : 'schema up to date');
  } finally {
    await ds.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`history-migrate: ${err?.stack ?? err}\n`);
  process.exit(1);
});
