import { ConfigError, loadConfig } from '@chat/platform';
import { HistoryConfig } from './config';
import { createDataSource } from './db/data-source';

describe('history config - database settings', () => {
  it('has documented defaults', () => {
    const c = loadConfig(HistoryConfig, {});
    expect([c.HTTP_PORT, c.DATABASE_URL, c.DATABASE_SCHEMA, c.PROJECTION_BATCH]).toEqual([3003, 'postgres://postgres@127.0.0.1:5432/chat', 'chat', 256]);
  });

  it.each(['Chat', 'chat-1', '1chat', 'a"; DROP TABLE x; --', 'x'.repeat(64)])('rejects the schema name %s', (name) => {
    expect(() => loadConfig(HistoryConfig, { DATABASE_SCHEMA: name })).toThrow(ConfigError);
    expect(() => createDataSource({ url: 'postgres://x', schema: name })).toThrow(/invalid schema/);
  });

  it('rejects a batch size out of range', () => {
    expect(() => loadConfig(HistoryConfig, { PROJECTION_BATCH: '0' })).toThrow(/PROJECTION_BATCH/);
  });
});
