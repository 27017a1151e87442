import type { ReadStateView, Subjects } from '@chat/contracts';
import { decodeJson, type JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { HistoryConfig } from '../config';
import { historyService } from '../service';
import { HistoryFixture } from '../testing/history-fixture';
import { historyTestEnv } from '../testing/test-env';
import { ReadMarkers } from './read-markers';

describe('read markers and unread counts - over NATS, KV and Postgres', () => {
  const namespace = randomName();
  const schema = randomName('h');
  let svc: RunningService;
  let pool: Pool;
  let s: Subjects;
  let js: JetStreamAdapter;
  let f: HistoryFixture;
  const alice = randomUUID();
  const bob = randomUUID();
  const carol = randomUUID();

  const call = async <T>(op: 'history.markRead' | 'history.readState', data: Record<string, unknown>): Promise<T> => {
    const r = await svc.deps.rpc.call(op, data as never);
    if (!r.ok) throw Object.assign(new Error(`${op}: ${r.error.code} ${r.error.message}`), { code: r.error.code });
    return r.data as T;
  };
  const state = async (userId: string, roomId: string): Promise<ReadStateView | undefined> =>
    (await call<{ rooms: ReadStateView[] }>('history.readState', { userId, username: 'someone' })).rooms.find((r) => r.roomId === roomId);
  const mark = (userId: string, roomId: string, position: number) => call<ReadStateView>('history.markRead', { userId, roomId, position });

  beforeAll(async () => {
    pool = new Pool({ connectionString: await testDatabaseUrl(), max: 2 });
    svc = await startService(historyService(loadConfig(HistoryConfig, await historyTestEnv(namespace, schema))));
    s = svc.deps.subjects;
    js = svc.deps.js;
    f = new HistoryFixture(js, s, pool, schema);
    await f.ensureLifecycleSchema();
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  let joinedAt = 0;
  const posted: Array<{ position: number }> = [];

  it('read.state - messages that came while offline count from where the user joined; their own and older ones do not', async () => {
    await f.createRoom('lobby', alice);
    for (let i = 0; i < 3; i++) await f.post('lobby', alice, `before ${i}`);
    joinedAt = await f.join('lobby', bob);
    for (let i = 0; i < 5; i++) posted.push(await f.post('lobby', alice, `while away ${i}`));
    await f.post('lobby', bob, 'my own');
    const mentioning = await f.post('lobby', alice, '@bob look');
    posted.push(mentioning);
    await f.projected();
    await f.mention(mentioning.position, 'lobby', bob);

    expect(await state(bob, 'lobby')).toEqual({
      roomId: 'lobby',
      lastRead: joinedAt,
      unread: 6,
      mentions: 1,
      lastPosition: mentioning.position,
    });
    // The owner never marked: everything after their room's creation by others (none).
    expect((await state(alice, 'lobby'))?.unread).toBe(1);
    // Not a member: not listed.
    expect(await state(carol, 'lobby')).toBeUndefined();
  });

  it('read.state - conversations count once they have a message (one opened by a block stays unseen)', async () => {
    const blocked = await f.openConversation(carol, bob, 'block');
    const talking = await f.openConversation(alice, carol, 'message');
    const hello = await f.post(talking, alice, 'hello carol');
    await f.projected();
    const rooms = (await call<{ rooms: ReadStateView[] }>('history.readState', { userId: carol, username: 'carol' })).rooms;
    expect(rooms.map((r) => r.roomId)).toEqual([talking]);
    expect(rooms[0]).toMatchObject({ unread: 1, lastPosition: hello.position });
    expect(await state(bob, blocked)).toBeUndefined();
  });

  it('read.state - a deleted message stops counting at once, mention included', async () => {
    await f.tombstone(posted[5].position);
    await f.tombstone(posted[0].position);
    expect(await state(bob, 'lobby')).toMatchObject({ unread: 4, mentions: 0 });
  });

  it('read.mark - moves forward only, clamps to the newest message, tells every connection of the user once', async () => {
    const heard: unknown[] = [];
    const sub = svc.nc.subscribe(s.live.readMarkers(bob), {
      callback: (_e, m) => {
        heard.push(decodeJson(m.data));
      },
    });
    await svc.nc.flush();

    const after = await mark(bob, 'lobby', posted[2].position);
    expect(after).toMatchObject({ roomId: 'lobby', lastRead: posted[2].position, unread: 2 });
    // Backwards: nothing changes, nobody hears of it.
    expect(await mark(bob, 'lobby', posted[1].position)).toEqual(after);
    // Beyond the newest message: taken as the newest; nothing unread, never negative.
    const all = await mark(bob, 'lobby', Number.MAX_SAFE_INTEGER);
    expect(all).toMatchObject({ lastRead: posted[5].position, unread: 0, mentions: 0, lastPosition: posted[5].position });
    await f.tombstone(posted[4].position);
    expect(await state(bob, 'lobby')).toMatchObject({ lastRead: posted[5].position, unread: 0 });

    await svc.nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    expect(heard).toEqual([
      { roomId: 'lobby', lastRead: posted[2].position, time: expect.any(String) },
      { roomId: 'lobby', lastRead: posted[5].position, time: expect.any(String) },
    ]);
  });

  it('read.mark - authorised as history.page: a private room is not found, a public one not joined is forbidden', async () => {
    await f.createRoom('secret', alice, 'private');
    await f.post('secret', alice, 'hush');
    await f.projected();
    await expect(mark(carol, 'secret', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(mark(carol, 'lobby', 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(mark(carol, 'nowhere', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('read.mark - two devices racing: the marker ends at the highest position, and both see the same state', async () => {
    await f.join('secret', bob);
    const positions: number[] = [];
    for (let i = 0; i < 12; i++) positions.push((await f.post('secret', alice, `race ${i}`)).position);
    await f.projected();
    const shuffled = [...positions].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((p) => mark(bob, 'secret', p)));
    const [one, two] = await Promise.all([state(bob, 'secret'), state(bob, 'secret')]);
    expect(one).toEqual(two);
    expect(one).toMatchObject({ lastRead: Math.max(...positions), unread: 0 });
  });

  it('markers - compare-and-set keeps the highest of 50 concurrent moves on the raw bucket', async () => {
    const markers = new ReadMarkers(await js.kv(s.kv.readMarkers));
    const user = randomUUID();
    const moves = await Promise.all(Array.from({ length: 50 }, (_, i) => markers.advance(user, 'race', i + 1, new Date())));
    expect((await markers.get(user, 'race'))?.lastRead).toBe(50);
    // Each reported move was a real step forward of the stored marker.
    expect(moves.filter((m) => m.moved).every((m) => m.lastRead >= 1)).toBe(true);
    expect((await markers.advance(user, 'race', 10, new Date())).moved).toBe(false);
  });

  it('markers - one get per room reads a user in 200 rooms fast enough', async () => {
    const markers = new ReadMarkers(await js.kv(s.kv.readMarkers));
    const user = randomUUID();
    const rooms = Array.from({ length: 200 }, (_, i) => `r${i}`);
    await Promise.all(rooms.map((r, i) => markers.advance(user, r, i + 1, new Date())));
    const started = performance.now();
    const got = await markers.many(user, rooms);
    const ms = performance.now() - started;
    console.log(`read markers: 200 gets in ${ms.toFixed(1)} ms`);
    expect(got.size).toBe(200);
    expect(got.get('r199')).toBe(200);
    expect(ms).toBeLessThan(1000);
  });
});
