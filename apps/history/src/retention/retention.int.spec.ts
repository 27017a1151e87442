import type { RetentionRunView } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { startHistory, type HistoryUnderTest, type Posted } from '../testing/history-fixture';
import { RetentionJob } from './retention.job';

const DAY_MS = 86_400_000;

describe('retention - cleanup in batches, recorded runs, stream trim', () => {
  let h: HistoryUnderTest;
  let job: RetentionJob;
  const owner = randomUUID();
  const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS);
  const dayAhead = () => new Date(Date.now() + DAY_MS);

  const count = async (roomId: string): Promise<number> =>
    Number((await h.pool.query(`SELECT count(*) AS n FROM "${h.schema}".messages WHERE room_id = $1`, [roomId])).rows[0].n);
  const runs = async (username: string): Promise<RetentionRunView[]> => {
    const r = await h.svc.deps.rpc.call('history.retentionRuns', { userId: randomUUID(), username } as never);
    if (!r.ok) throw Object.assign(new Error(`${r.error.code} ${r.error.message}`), { code: r.error.code });
    return (r.data as { runs: RetentionRunView[] }).runs;
  };
  /** The first stream position at or after `from` on a subject (null: none). */
  const firstOn = async (subject: string, from = 1) => (await h.js.nextOnSubject(h.s.streams.chat.name, subject, from))?.seq ?? null;

  beforeAll(async () => {
    h = await startHistory('h', { SERVER_ADMINS: 'root', RETENTION_BATCH: '3', RETENTION_PAUSE_MS: '0', RETENTION_INTERVAL_MS: '3600000' });
    job = h.svc.app.get(RetentionJob);
  });
  afterAll(() => h?.close());

  const expired: Posted[] = [];
  let roomCreatedAt = 0;

  it("removes a room's expired messages in batches with their mentions and reactions; a room that keeps everything keeps it, and the stream is not trimmed", async () => {
    roomCreatedAt = await h.f.createRoom('short', owner);
    await h.f.createRoom('forever', owner);
    await h.f.setRetention('short', owner, 2);
    // Within the period when projected (a post already past it is not stored at all); the runs below look a day ahead.
    // The first mentions its author, the second gets a reaction below: both leave with their message.
    expired.push(await h.f.post('short', owner, 'old 0 @owner', { time: daysAgo(1.9), mentions: h.f.mentions(owner) }));
    for (let i = 1; i < 7; i++) expired.push(await h.f.post('short', owner, `old ${i}`, { time: daysAgo(1.9 - i * 0.1) }));
    for (let i = 0; i < 4; i++) await h.f.post('forever', owner, `old forever ${i}`, { time: daysAgo(10) });
    // Refused (not a member): kept whole in dropped_messages, and expired like any message.
    await h.f.post('short', randomUUID(), 'refused', { time: daysAgo(1.5) });
    await h.f.post('short', owner, 'fresh', { time: daysAgo(0.5) });
    await h.f.post('short', owner, 'fresh too');
    await h.f.projected();
    expect(
      Number((await h.pool.query(`SELECT retention_days FROM "${h.schema}".rooms WHERE room_id = 'short'`)).rows[0].retention_days),
    ).toBe(2);
    await h.f.react('short', expired[1].messageId, owner, '👍');
    await h.f.projected();
    expect(await h.f.count('message_mentions')).toBe(1);
    expect(await h.f.count('message_reactions')).toBe(1);

    expect(await h.f.count('dropped_messages')).toBe(1);

    const run = await job.runOnce(dayAhead());
    expect(run).toMatchObject({ messagesRemoved: 7, rooms: 1, streamTrimmedBelow: null, error: null });
    expect(await count('short')).toBe(2);
    expect(await count('forever')).toBe(4);
    // Statistics describe the messages history holds: the removed ones left them.
    const stats = async (roomId: string) =>
      Number(
        (await h.pool.query(`SELECT COALESCE(sum(messages), 0) AS n FROM "${h.schema}".stats_room_days WHERE room_id = $1`, [roomId]))
          .rows[0].n,
      );
    expect(await stats('short')).toBe(2);
    expect(await stats('forever')).toBe(4);
    expect(await h.f.count('message_mentions')).toBe(0);
    expect(await h.f.count('message_reactions')).toBe(0);
    expect(await h.f.count('dropped_messages')).toBe(0);
    // Nothing left the stream.
    expect(await firstOn(h.s.chat.roomMessages('short'))).toBe(expired[0].position);
  });

  it('once every room has a period: removes the rest, then trims only message events below the oldest message kept', async () => {
    await h.f.setRetention('forever', owner, 5);
    const keep = await h.f.post('forever', owner, 'recent', { time: daysAgo(3) });
    await h.f.projected();

    const run = await job.runOnce(dayAhead());
    expect(run).toMatchObject({ messagesRemoved: 4, rooms: 1, error: null });
    const oldest = Number((await h.pool.query(`SELECT min(position) AS p FROM "${h.schema}".messages`)).rows[0].p);
    expect(run?.streamTrimmedBelow).toBe(oldest);
    expect(await count('forever')).toBe(1);
    // Message events below the oldest kept are gone; those kept, and every room event, stay.
    expect(await firstOn(h.s.chat.roomMessages('forever'))).toBe(keep.position);
    expect(await firstOn(h.s.chat.roomMessages('short'))).toBeGreaterThanOrEqual(oldest);
    expect(await firstOn(h.s.chat.roomMeta('short'))).toBe(roomCreatedAt);
  });

  it('one replica at a time: a round finds the lock taken and skips', async () => {
    const key = `chat.history.retention:"${h.schema}"`;
    const client = await h.pool.connect();
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
