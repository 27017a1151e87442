import type { StatsView, Subjects } from '@chat/contracts';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { HistoryConfig } from '../config';
import { historyService } from '../service';
import { HistoryStore } from '../store/history.store';
import { HistoryFixture } from '../testing/history-fixture';
import { historyTestEnv } from '../testing/test-env';
import { countPosts, type PostedMessage } from './stats.store';

describe('statistics - kept by the projection, read by history.stats', () => {
  const namespace = randomName();
  const schema = randomName('h');
  let svc: RunningService;
  let pool: Pool;
  let s: Subjects;
  let f: HistoryFixture;
  let store: HistoryStore;
  const owner = randomUUID();
  const poster = randomUUID();
  const other = randomUUID();

  const stats = async (caller: { userId: string; username: string }, req: Record<string, unknown>): Promise<StatsView> => {
    const r = await svc.deps.rpc.call('history.stats', { ...caller, ...req } as never);
    if (!r.ok) throw Object.assign(new Error(`${r.error.code} ${r.error.message}`), { code: r.error.code });
    return r.data as StatsView;
  };

  /**
   * The messages read model's side of the hook: rows its INSERT … ON CONFLICT DO NOTHING
   * RETURNING reported, counted in the same transaction. Applying the same batch twice inserts
   * (and counts) nothing the second time.
   */
  async function applyPosted(rows: Array<PostedMessage & { messageId: string; position: number }>): Promise<void> {
    const qr = store.ds.createQueryRunner();
    await qr.startTransaction();
    try {
      const inserted: Array<{ room_id: string; sender_id: string; sender_name: string; created_at: Date }> = await qr.query(
        `INSERT INTO "${schema}".messages (message_id, position, room_id, sender_id, sender_name, client_msg_id, body, created_at)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING room_id, sender_id, sender_name, created_at`,
        [
          rows.map((r) => r.messageId),
          rows.map((r) => r.position),
          rows.map((r) => r.roomId),
          rows.map((r) => r.senderId),
          rows.map((r) => r.senderName),
          rows.map((r) => `c-${r.messageId}`),
          rows.map(() => 'hi'),
          rows.map((r) => r.createdAt),
        ],
      );
      await countPosts(
        qr.manager,
        `"${schema}"`,
        inserted.map((r) => ({ roomId: r.room_id, senderId: r.sender_id, senderName: r.sender_name, createdAt: r.created_at })),
      );
      await qr.commitTransaction();
    } finally {
      await qr.release();
    }
  }

  beforeAll(async () => {
    pool = new Pool({ connectionString: await testDatabaseUrl(), max: 2 });
    svc = await startService(historyService(loadConfig(HistoryConfig, await historyTestEnv(namespace, schema, { SERVER_ADMINS: 'root' }))));
    s = svc.deps.subjects;
    store = svc.app.get(HistoryStore);
    f = new HistoryFixture(svc.deps.js, s, pool, schema);
    await f.createRoom('stats-room', owner);
    await f.join('stats-room', poster);
    await f.join('stats-room', other);
    await f.createRoom('quiet', owner);
    await f.projected();
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('counts a batch once, however often it is applied; days, hours, active users and top posters', async () => {
    const msg = (senderId: string, senderName: string, iso: string, position: number, roomId = 'stats-room') => ({
      messageId: randomUUID(),
      position,
      roomId,
      senderId,
      senderName,
      createdAt: new Date(iso),
    });
    const batch = [
      msg(poster, 'poster', '2026-03-01T09:15:00Z', 100001),
      msg(poster, 'poster', '2026-03-01T09:45:00Z', 100002),
      msg(other, 'other', '2026-03-01T17:00:00Z', 100003),
      msg(poster, 'poster', '2026-03-03T09:00:00Z', 100004),
      msg(other, 'other', '2026-03-03T09:00:00Z', 100005, 'quiet'),
    ];
    await applyPosted(batch);
    await applyPosted(batch); // redelivered
    await applyPosted(batch.slice(1, 3)); // a later batch overlapping it

    const v = await stats({ userId: owner, username: 'owner' }, { roomId: 'stats-room', from: '2026-03-01', to: '2026-03-03' });
    expect(v).toEqual({
      roomId: 'stats-room',
      from: '2026-03-01',
      to: '2026-03-03',
      messages: 4,
      activeUsers: 2,
      days: [
        { day: '2026-03-01', messages: 3, activeUsers: 2 },
        { day: '2026-03-02', messages: 0, activeUsers: 0 },
        { day: '2026-03-03', messages: 1, activeUsers: 1 },
      ],
      topPosters: [
        { userId: poster, username: 'poster', messages: 3 },
        { userId: other, username: 'other', messages: 1 },
      ],
      hours: Array.from({ length: 24 }, (_, h) => (h === 9 ? 3 : h === 17 ? 1 : 0)),
    });

    const all = await stats({ userId: randomUUID(), username: 'root' }, { from: '2026-03-01', to: '2026-03-03' });
    expect(all).toMatchObject({ roomId: null, messages: 5, activeUsers: 2 });
    expect(all.days[2]).toEqual({ day: '2026-03-03', messages: 2, activeUsers: 2 });
  });

  it('who may: owner and admins, server administrators; a plain member is forbidden, others as history.page', async () => {
    await expect(stats({ userId: poster, username: 'poster' }, { roomId: 'stats-room' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(stats({ userId: poster, username: 'poster' }, {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(stats({ userId: poster, username: 'poster' }, { roomId: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(stats({ userId: poster, username: 'root' }, { roomId: 'stats-room' })).resolves.toMatchObject({ roomId: 'stats-room' });
    await expect(
      stats({ userId: owner, username: 'owner' }, { roomId: 'stats-room', from: '2026-03-04', to: '2026-03-01' }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
