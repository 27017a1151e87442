import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { createSubjects, makeEvent } from '@chat/contracts';
import { randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { openDatabase } from './db/data-source';
import type { StreamEvent } from './store/events';
import { HistoryStore } from './store/history.store';
import { RetentionSql } from './retention/retention.store';
import { SearchQueries } from './search/search.store';
import { backfillSearch } from './search/search.backfill';
import { afterRemoval } from './messages/lifecycle.store';
import { parseQuery, toTsquery } from './search/query';

// Bugs a review of issue 7 found, each pinned by a test against Postgres through the store (no
// NATS), with the batch order under the test's control. Each failed before its fix.
describe('history - regressions found in review (issue 7)', () => {
  const s = createSubjects('unit');
  const timeouts = { statementMs: 10_000, lockMs: 5000 };
  const schemas = [randomName('rv'), randomName('rv')];
  let pool: Pool;
  const dss: DataSource[] = [];
  let store: HistoryStore;
  let inOrder: HistoryStore;
  /** The time batches are applied at (a post past its room's retention period then is not stored). */
  let clock = new Date(Date.UTC(2020, 0, 2));

  const ann = randomUUID();
  const bob = randomUUID();
  const event = (position: number, type: string, payload: Record<string, unknown>, subject: string, version = 1): StreamEvent => ({
    subject,
    position,
    data: makeEvent(
      {
        now: () => new Date(Date.UTC(2020, 0, 1, 0, 0, position)),
        newId: randomUUID,
        actor: { kind: 'user', id: ann },
        correlationId: 'c',
      },
      type,
      version,
      payload,
    ),
  });
  const msg = (roomId: string, position: number, type: string, payload: Record<string, unknown>, version = 1) =>
    event(position, type, { roomId, ...payload }, s.chat.roomMessages(roomId), version);
  const meta = (roomId: string, position: number, type: string, payload: Record<string, unknown>) =>
    event(position, type, { roomId, ...payload }, s.chat.roomMeta(roomId));
  const created = (roomId: string, position: number) =>
    meta(roomId, position, 'RoomCreated', {
      name: roomId,
      topic: '',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 10,
      ownerId: null,
      ownerName: null,
    });
  const joined = (roomId: string, position: number, userId: string, username: string) =>
    meta(roomId, position, 'MemberJoined', { userId, username, role: 'member' });
  const posted = (
    roomId: string,
    position: number,
    messageId: string,
    senderId: string,
    body: string,
    over: Record<string, unknown> = {},
  ) =>
    msg(
      roomId,
      position,
      'MessagePosted',
      { messageId, senderId, senderName: 'x', clientMsgId: `c${position}`, body, replyTo: null, mentions: [], ...over },
      2,
    );
  const edited = (roomId: string, position: number, messageId: string, senderId: string, body: string) =>
    msg(roomId, position, 'MessageEdited', { messageId, senderId, body, mentions: [] });
  const deleted = (roomId: string, position: number, messageId: string, byUserId: string) =>
    msg(roomId, position, 'MessageDeleted', { messageId, byUserId, byUsername: 'x', reason: 'author' });

  const statsOf = async (schema: string, roomId: string) =>
    Number(
      (await pool.query(`SELECT COALESCE(sum(messages), 0) AS n FROM "${schema}".stats_room_days WHERE room_id = $1`, [roomId])).rows[0].n,
    );
  const messageRow = async (schema: string, messageId: string) =>
    (await pool.query(`SELECT body, deleted_at FROM "${schema}".messages WHERE message_id = $1`, [messageId])).rows[0];

  beforeAll(async () => {
    const url = await testDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 2 });
    const stores: HistoryStore[] = [];
    for (const schema of schemas) {
      const ds = await openDatabase({ url, schema, timeouts });
      dss.push(ds);
      stores.push(new HistoryStore(ds, 'test-projector', s.chat, { defaultDays: 0, now: () => clock }));
    }
    [store, inOrder] = stores;
  });
  afterAll(async () => {
    for (const ds of dss) await ds.destroy();
    for (const schema of schemas) await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('retention: a message removed by the cleanup and then redelivered (or replayed) stays removed and out of the statistics', async () => {
    const id = randomUUID();
    // The room keeps 30 days (the cleanup removes only what a policy expires); the post is fresh when first applied.
    const retention = meta('ret1', 3, 'RoomRetentionSet', { days: 30, byUserId: ann, byUsername: 'ann' });
    const batch = [created('ret1', 1), joined('ret1', 2, ann, 'ann'), retention, posted('ret1', 4, id, ann, 'expired secret')];
    clock = new Date(Date.UTC(2020, 0, 2));
    await store.applyBatch(batch);
    expect(await statsOf(schemas[0], 'ret1')).toBe(1);
    // A year later the cleanup removes it (cutoff: now minus 30 days).
    clock = new Date(Date.UTC(2021, 0, 1));
    const removed = await store.read((qr) => new RetentionSql(qr, store.schema).deleteBatch('ret1', new Date(Date.UTC(2020, 11, 2)), 100));
    expect(removed.removed).toBe(1);
    // Statistics describe the messages history holds: the removed message leaves them.
    expect(await statsOf(schemas[0], 'ret1')).toBe(0);
    // The batch's ack was lost (or a rebuild replays the stream): the same events again.
    await store.applyBatch(batch);
    expect(await messageRow(schemas[0], id)).toBeUndefined();
    expect(await statsOf(schemas[0], 'ret1')).toBe(0); // and counted again
  });

  it('retention: the edited text of an expired message leaves message_changes with it', async () => {
    const id = randomUUID();
    await store.applyBatch([created('ret2', 10), joined('ret2', 11, ann, 'ann'), posted('ret2', 12, id, ann, 'first')]);
    await store.applyBatch([edited('ret2', 13, id, ann, 'edited secret text')]);
    await store.read((qr) => new RetentionSql(qr, store.schema).deleteBatch('ret2', new Date(Date.UTC(2021, 0, 1)), 100));
    expect(await messageRow(schemas[0], id)).toBeUndefined();
    const left = await pool.query(`SELECT body FROM "${schemas[0]}".message_changes WHERE message_id = $1`, [id]);
    expect(left.rows).toEqual([]);
  });

  it('stats: a post that commits before its sender joined and is restored by the late join is counted (as in stream order)', async () => {
    const id = randomUUID();
    for (const st of [store, inOrder]) await st.applyBatch([created('st1', 20)]);
    // Stream order: join 21, post 22.
    await inOrder.applyBatch([joined('st1', 21, bob, 'bob'), posted('st1', 22, id, bob, 'hello')]);
    // Out of order: the post's batch commits first (dropped: not a member yet), then the join restores it.
    await store.applyBatch([posted('st1', 22, id, bob, 'hello')]);
    await store.applyBatch([joined('st1', 21, bob, 'bob')]);
    expect((await messageRow(schemas[0], id))?.body).toBe('hello');
    expect(await statsOf(schemas[1], 'st1')).toBe(1);
    expect(await statsOf(schemas[0], 'st1')).toBe(1);
  });

  it('stats: a post counted and then dropped by a late kick leaves the statistics (as in stream order)', async () => {
    const id = randomUUID();
    for (const st of [store, inOrder]) await st.applyBatch([created('st2', 30), joined('st2', 31, bob, 'bob')]);
    const kick = meta('st2', 32, 'MemberKicked', { userId: bob, username: 'bob', byUserId: ann, byUsername: 'ann', reason: '' });
    await inOrder.applyBatch([kick, posted('st2', 33, id, bob, 'after the kick')]);
    await store.applyBatch([posted('st2', 33, id, bob, 'after the kick')]);
    await store.applyBatch([kick]);
    expect(await messageRow(schemas[0], id)).toBeUndefined();
    expect(await statsOf(schemas[1], 'st2')).toBe(0);
    expect(await statsOf(schemas[0], 'st2')).toBe(0);
  });

  it('search: a hit that replies to a deleted message quotes nothing of it', async () => {
    const quoted = randomUUID();
    const reply = randomUUID();
    await store.applyBatch([
      created('sr1', 40),
      joined('sr1', 41, ann, 'ann'),
      joined('sr1', 42, bob, 'bob'),
      posted('sr1', 43, quoted, ann, 'my bank pin is 4711'),
      posted('sr1', 44, reply, bob, 'zebracorn noted', {
        replyTo: { messageId: quoted, position: 43, senderId: ann, senderName: 'ann', excerpt: 'my bank pin is 4711' },
      }),
    ]);
    await store.applyBatch([deleted('sr1', 45, quoted, ann)]);
    const hits = await new SearchQueries(store).search(toTsquery(parseQuery('zebracorn')!), {
      userId: bob,
      roomId: 'sr1',
      order: 'newest',
      offset: 0,
      limit: 10,
    });
    expect(hits).toHaveLength(1);
    // history.page shows excerpt '' for a deleted quote (toView with decorations); search returns the stored snapshot.
    expect(hits[0].message.replyTo?.excerpt ?? '').toBe('');
  });
  it("retention: a deleted room's messages (moved to dropped_messages) expire too", async () => {
    const id = randomUUID();
    await store.applyBatch([created('del1', 50), joined('del1', 51, ann, 'ann'), posted('del1', 52, id, ann, 'text of a deleted room')]);
    await store.applyBatch([meta('del1', 53, 'RoomDeleted', { reason: 'owner', byUserId: ann, byUsername: 'ann' })]);
    const kept = () => pool.query(`SELECT body FROM "${schemas[0]}".dropped_messages WHERE room_id = 'del1'`);
    expect((await kept()).rows).toEqual([{ body: 'text of a deleted room' }]);
    // What RetentionJob.run does for every room it lists, with a cutoff long after the message.
    await store.read(async (qr) => {
      const sql = new RetentionSql(qr, store.schema);
      for (const r of await sql.rooms()) {
        await sql.deleteBatch(r.roomId, new Date(Date.UTC(2021, 0, 1)), 100);
        await sql.deleteDroppedBatch(r.roomId, new Date(Date.UTC(2021, 0, 1)), 100);
      }
    });
    expect((await kept()).rows).toEqual([]);
  });

  it('search: messages stored before the MessageLifecycle migration are found after the backfill', async () => {
    const id = randomUUID();
    await store.applyBatch([created('old1', 60), joined('old1', 61, ann, 'ann')]);
    // A row as the previous schema wrote it: no search vector (the migration leaves it NULL "until the backfill").
    await pool.query(
      `INSERT INTO "${schemas[0]}".messages (message_id, room_id, position, sender_id, sender_name, client_msg_id, body, created_at)
       VALUES ($1, 'old1', 62, $2, 'ann', 'c62', 'quokkaword from last year', now())`,
      [id, ann],
    );
    // The backfill the history service runs in the background after start-up.
    expect(await backfillSearch(store, { pauseMs: 0 })).toBeGreaterThanOrEqual(1);
    const hits = await new SearchQueries(store).search(toTsquery(parseQuery('quokkaword')!), {
      userId: ann,
      order: 'newest',
      offset: 0,
      limit: 10,
    });
    expect(hits.map((h) => h.message.messageId)).toEqual([id]);
  });
  it("hot path: removing a message's mentions (every edit, deletion, dropped post) uses an index, not a scan of message_mentions", async () => {
    // 50,000 mention rows elsewhere (in the second schema, so the other tests are not disturbed).
    await pool.query(
      `INSERT INTO "${schemas[1]}".message_mentions SELECT gen_random_uuid(), 'busy' || (i % 500), 100000 + i FROM generate_series(1, 50000) i`,
    );
    await pool.query(`ANALYZE "${schemas[1]}".message_mentions`);
    const qr = dss[1].createQueryRunner();
    await qr.startTransaction();
    try {
      await afterRemoval(qr.manager, `"${schemas[1]}"`, [{ messageId: randomUUID(), roomId: 'busy7', position: 100007 }]);
      const [stat] = await qr.query(
        `SELECT seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = 'message_mentions'`,
        [schemas[1]],
      );
      expect(Number(stat.seq_scan)).toBe(0);
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  });
});
