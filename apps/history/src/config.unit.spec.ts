import { ConfigError, loadConfig } from '@chat/platform';
import { HistoryConfig } from './config';
import { createDataSource, poolSettings } from './db/data-source';

describe('history config - database settings', () => {
  it('has documented defaults', () => {
    const c = loadConfig(HistoryConfig, {});
    expect([c.HTTP_PORT, c.DATABASE_URL, c.DATABASE_SCHEMA, c.PROJECTION_BATCH]).toEqual([
      3003,
      'postgres://postgres@127.0.0.1:5432/chat',
      'chat',
      256,
    ]);
    expect([c.PROJECTION_ACK_WAIT_MS, c.PROJECTION_MAX_BATCH_MS, c.DATABASE_STATEMENT_TIMEOUT_MS, c.DATABASE_LOCK_TIMEOUT_MS]).toEqual([
      5000, 60_000, 10_000, 5000,
    ]);
  });

  it('gives every pool connection the timeouts and keepalive; migrations get no timeouts', () => {
    expect(poolSettings({ statementMs: 10_000, lockMs: 5000 })).toEqual({
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      statement_timeout: 10_000,
      lock_timeout: 5000,
      idle_in_transaction_session_timeout: 10_000,
      query_timeout: 15_000,
    });
    expect(poolSettings(undefined)).toEqual({ keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  });

  it.each(['PROJECTION_ACK_WAIT_MS', 'PROJECTION_MAX_BATCH_MS', 'DATABASE_STATEMENT_TIMEOUT_MS', 'DATABASE_LOCK_TIMEOUT_MS'])(
    'rejects %s out of range',
    (key) => {
      expect(() => loadConfig(HistoryConfig, { [key]: '0' })).toThrow(new RegExp(key));
    },
  );

  it.each(['Chat', 'chat-1', '1chat', 'a"; DROP TABLE x; --', 'x'.repeat(64)])('rejects the schema name %s', (name) => {
    expect(() => loadConfig(HistoryConfig, { DATABASE_SCHEMA: name })).toThrow(ConfigError);
    expect(() => createDataSource({ url: 'postgres://x', schema: name })).toThrow(/invalid schema/);
  });

  it('rejects a batch size out of range', () => {
    expect(() => loadConfig(HistoryConfig, { PROJECTION_BATCH: '0' })).toThrow(/PROJECTION_BATCH/);
  });
});
