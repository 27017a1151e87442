import type { RetentionRunView, Subjects } from '@chat/contracts';
import type { JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { HistoryConfig } from '../config';
import { historyService } from '../service';
import { HistoryFixture } from '../testing/history-fixture';
import { historyTestEnv } from '../testing/test-env';
import { RetentionJob } from './retention.job';

const DAY_MS = 86_400_000;

describe('retention - cleanup in batches, recorded runs, stream trim', () => {
  const namespace = randomName();
  const schema = randomName('h');
  let svc: RunningService;
  let pool: Pool;
  let s: Subjects;
  let js: JetStreamAdapter;
  let f: HistoryFixture;
  let job: RetentionJob;
  const owner = randomUUID();
  const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS);
  const dayAhead = () => new Date(Date.now() + DAY_MS);

  const count = async (roomId: string): Promise<number> =>
    Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".messages WHERE room_id = $1`, [roomId])).rows[0].n);
  const runs = async (username: string): Promise<RetentionRunView[]> => {
    const r = await svc.deps.rpc.call('history.retentionRuns', { userId: randomUUID(), username } as never);
    if (!r.ok) throw Object.assign(new Error(`${r.error.code} ${r.error.message}`), { code: r.error.code });
    return (r.data as { runs: RetentionRunView[] }).runs;
  };
  /** The first stream position at or after `from` on a subject (null: none). */
  const firstOn = async (subject: string, from = 1) => (await js.nextOnSubject(s.streams.chat.name, subject, from))?.seq ?? null;

  beforeAll(async () => {
    pool = new Pool({ connectionString: await testDatabaseUrl(), max: 2 });
    const env = await historyTestEnv(namespace, schema, {
      SERVER_ADMINS: 'root',
      RETENTION_BATCH: '3',
      RETENTION_PAUSE_MS: '0',
      RETENTION_INTERVAL_MS: '3600000',
    });
    svc = await startService(historyService(loadConfig(HistoryConfig, env)));
    s = svc.deps.subjects;
    js = svc.deps.js;
    job = svc.app.get(RetentionJob);
    f = new HistoryFixture(js, s, pool, schema);
    await f.ensureLifecycleSchema();
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  const expired: Array<{ messageId: string; position: number }> = [];
  let roomCreatedAt = 0;

  it("removes a room's expired messages in batches with their mentions and reactions; a room that keeps everything keeps it, and the stream is not trimmed", async () => {
    roomCreatedAt = await f.createRoom('short', owner);
    await f.createRoom('forever', owner);
    await f.setRetention('short', owner, 2);
    // Within the period when projected (a post already past it is not stored at all); the runs below look a day ahead.
    for (let i = 0; i < 7; i++) expired.push(await f.post('short', owner, `old ${i}`, daysAgo(1.9 - i * 0.1)));
    for (let i = 0; i < 4; i++) await f.post('forever', owner, `old forever ${i}`, daysAgo(10));
    // Refused (not a member): kept whole in dropped_messages, and expired like any message.
    await f.post('short', randomUUID(), 'refused', daysAgo(1.5));
    await f.post('short', owner, 'fresh', daysAgo(0.5));
    await f.post('short', owner, 'fresh too');
    await f.projected();
    expect(Number((await pool.query(`SELECT retention_days FROM "${schema}".rooms WHERE room_id = 'short'`)).rows[0].retention_days)).toBe(
      2,
    );
    await f.mention(expired[0].position, 'short', owner);
    await pool.query(`INSERT INTO "${schema}".message_reactions VALUES ($1, '👍', $2, 'o', true, 1, 1)`, [expired[1].messageId, owner]);

    expect(Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".dropped_messages`)).rows[0].n)).toBe(1);

    const run = await job.runOnce(dayAhead());
    expect(run).toMatchObject({ messagesRemoved: 7, rooms: 1, streamTrimmedBelow: null, error: null });
    expect(await count('short')).toBe(2);
    expect(await count('forever')).toBe(4);
    // Statistics describe the messages history holds: the removed ones left them.
    const stats = async (roomId: string) =>
      Number(
        (await pool.query(`SELECT COALESCE(sum(messages), 0) AS n FROM "${schema}".stats_room_days WHERE room_id = $1`, [roomId])).rows[0]
          .n,
      );
    expect(await stats('short')).toBe(2);
    expect(await stats('forever')).toBe(4);
    expect(Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".message_mentions`)).rows[0].n)).toBe(0);
    expect(Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".message_reactions`)).rows[0].n)).toBe(0);
    expect(Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".dropped_messages`)).rows[0].n)).toBe(0);
    // Nothing left the stream.
    expect(await firstOn(s.chat.roomMessages('short'))).toBe(expired[0].position);
  });

  it('once every room has a period: removes the rest, then trims only message events below the oldest message kept', async () => {
    await f.setRetention('forever', owner, 5);
    const keep = await f.post('forever', owner, 'recent', daysAgo(3));
    await f.projected();

    const run = await job.runOnce(dayAhead());
    expect(run).toMatchObject({ messagesRemoved: 4, rooms: 1, error: null });
    const oldest = Number((await pool.query(`SELECT min(position) AS p FROM "${schema}".messages`)).rows[0].p);
    expect(run?.streamTrimmedBelow).toBe(oldest);
    expect(await count('forever')).toBe(1);
    // Message events below the oldest kept are gone; those kept, and every room event, stay.
    expect(await firstOn(s.chat.roomMessages('forever'))).toBe(keep.position);
    expect(await firstOn(s.chat.roomMessages('short'))).toBeGreaterThanOrEqual(oldest);
    expect(await firstOn(s.chat.roomMeta('short'))).toBe(roomCreatedAt);
  });

  it('one replica at a time: a round finds the lock taken and skips', async () => {
    const key = `chat.history.retention:"${schema}"`;
    const client = await pool.connect();
    try {
      await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [key]);
      expect(await job.runOnce()).toBeNull();
      await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
    } finally {
      client.release();
    }
  });

  it('admin.retentionRuns - the runs newest first, for server administrators only', async () => {
    const list = await runs('root');
    expect(list.map((r) => r.messagesRemoved)).toEqual([4, 7]);
    expect(list[0].finishedAt).not.toBeNull();
    await expect(runs('someone')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
