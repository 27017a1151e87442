import type { StatsView } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { startHistory, type HistoryUnderTest } from '../testing/history-fixture';

describe('statistics - kept by the projection, read by history.stats', () => {
  let h: HistoryUnderTest;
  const owner = randomUUID();
  const poster = randomUUID();
  const other = randomUUID();

  const stats = async (caller: { userId: string; username: string }, req: Record<string, unknown>): Promise<StatsView> => {
    const r = await h.svc.deps.rpc.call('history.stats', { ...caller, ...req } as never);
    if (!r.ok) throw Object.assign(new Error(`${r.error.code} ${r.error.message}`), { code: r.error.code });
    return r.data as StatsView;
  };

  beforeAll(async () => {
    h = await startHistory('h', { SERVER_ADMINS: 'root' }, { names: { [owner]: 'owner', [poster]: 'poster', [other]: 'other' } });
    await h.f.createRoom('stats-room', owner);
    await h.f.join('stats-room', poster);
    await h.f.join('stats-room', other);
    await h.f.createRoom('quiet', owner);
    await h.f.join('quiet', other);
    await h.f.projected();
  });
  afterAll(() => h?.close());

  it('counts a batch once, however often it is applied; days, hours, active users and top posters', async () => {
    const post = (senderId: string, iso: string, roomId = 'stats-room') => h.f.post(roomId, senderId, 'hi', { time: new Date(iso) });
    const batch = [
      await post(poster, '2026-03-01T09:15:00Z'),
      await post(poster, '2026-03-01T09:45:00Z'),
      await post(other, '2026-03-01T17:00:00Z'),
      await post(poster, '2026-03-03T09:00:00Z'),
      await post(other, '2026-03-03T09:00:00Z', 'quiet'),
    ];
    // The same posts again, as a producer retrying after the stream's de-duplication window
    // appends them (the projection stores and counts each message once).
    for (const p of batch) await h.f.again(p);
    for (const p of batch.slice(1, 3)) await h.f.again(p);
    await h.f.projected();

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
      hours: Array.from({ length: 24 }, (_, hour) => (hour === 9 ? 3 : hour === 17 ? 1 : 0)),
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
