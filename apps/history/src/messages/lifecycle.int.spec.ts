import { Pool } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createSubjects, makeEvent } from '@chat/contracts';
import { randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { createDataSource, openDatabase, runMigrations } from '../db/data-source';
import { migrations } from '../db/migrations';
import { MessageLifecycle1796300000000 } from '../db/migrations/1796300000000-MessageLifecycle';
import { backfillSearch } from '../search/search.backfill';
import { SearchQueries } from '../search/search.store';
import { parseQuery, toTsquery } from '../search/query';
import type { StreamEvent } from '../store/events';
import { HistoryStore } from '../store/history.store';
import { MessageQueries } from './messages.store';
import { toView } from './page';

// The message lifecycle against Postgres, through the store (no NATS): positions and batch
// order under the test's control.
describe('messages read model - lifecycle against Postgres', () => {
  const s = createSubjects('unit');
  const timeouts = { statementMs: 10_000, lockMs: 5000 };
  const schemas = [randomName('hl'), randomName('hl')];
  let pool: Pool;
  const dss: DataSource[] = [];
  const stores: HistoryStore[] = [];
  let store: HistoryStore;
  let queries: MessageQueries;

  const ann = randomUUID();
  const bob = randomUUID();
  const cid = randomUUID();
  const ids = Array.from({ length: 6 }, () => randomUUID());
  const event = (position: number, type: string, payload: Record<string, unknown>, subject: string, version = 1): StreamEvent => ({
    subject,
    position,
    data: makeEvent(
      {
        now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, position)),
        newId: randomUUID,
        actor: { kind: 'user', id: ann },
        correlationId: 'c',
      },
      type,
      version,
      payload,
    ),
  });
  const msg = (position: number, type: string, payload: Record<string, unknown>, version = 1, roomId = 'r') =>
    event(position, type, { roomId, ...payload }, s.chat.roomMessages(roomId), version);
  const room = (position: number, type: string, payload: Record<string, unknown>) =>
    event(position, type, { roomId: 'r', ...payload }, s.chat.roomMeta('r'));
  const posted = (position: number, n: number, over: Record<string, unknown> = {}) =>
    msg(
      position,
      'MessagePosted',
      {
        messageId: ids[n],
        senderId: ann,
        senderName: 'ann',
        clientMsgId: `c${position}`,
        body: `hello ${n}`,
        replyTo: null,
        mentions: [],
        ...over,
      },
      2,
    );
  const edited = (position: number, n: number, body: string, senderId = ann) =>
    msg(position, 'MessageEdited', {
      messageId: ids[n],
      senderId,
      body,
      mentions: body.includes('@bob') ? [{ userId: bob, username: 'bob' }] : [],
    });
  const deleted = (position: number, n: number, byUserId = ann, reason = 'author') =>
    msg(position, 'MessageDeleted', { messageId: ids[n], byUserId, byUsername: 'someone', reason });
  const reaction = (position: number, n: number, userId: string, emoji: string, add = true) =>
    msg(position, add ? 'ReactionAdded' : 'ReactionRemoved', { messageId: ids[n], userId, username: 'u', emoji });
  const setup = [
    room(1, 'RoomCreated', {
      name: 'R',
      topic: '',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 10,
      ownerId: null,
      ownerName: null,
    }),
    room(2, 'MemberJoined', { userId: ann, username: 'ann', role: 'member' }),
    room(3, 'MemberJoined', { userId: bob, username: 'bob', role: 'member' }),
  ];

  const dump = async (schema: string) => ({
    messages: (
      await pool.query(
        `SELECT message_id, position, body, reply_to, reply_snapshot, mentions, edited_at, edit_position, deleted_at, deleted_by,
                deleted_by_name, delete_reason, delete_position, search::text AS search
           FROM "${schema}".messages ORDER BY position`,
      )
    ).rows,
    mentions: (await pool.query(`SELECT * FROM "${schema}".message_mentions ORDER BY position, user_id`)).rows,
    reactions: (await pool.query(`SELECT * FROM "${schema}".message_reactions ORDER BY message_id, emoji, user_id`)).rows,
  });
  const row = async (n: number) => (await pool.query(`SELECT * FROM "${schemas[0]}".messages WHERE message_id = $1`, [ids[n]])).rows[0];

  beforeAll(async () => {
    const url = await testDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 2 });
    for (const schema of schemas) {
      const ds = await openDatabase({ url, schema, timeouts });
      dss.push(ds);
      const st = new HistoryStore(ds, 'test-projector', s.chat);
      stores.push(st);
      await st.applyBatch(setup);
    }
    store = stores[0];
    queries = new MessageQueries(store);
  });
  afterAll(async () => {
    for (const ds of dss) await ds.destroy();
    for (const schema of schemas) await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('a post keeps its reply snapshot and mentions, one message_mentions row per user, and a search vector', async () => {
    const replyTo = { messageId: ids[0], position: 10, senderId: ann, senderName: 'ann', excerpt: 'hello 0' };
    await store.applyBatch([posted(10, 0), posted(11, 1, { replyTo, mentions: [{ userId: bob, username: 'bob' }], body: 'hi @bob' })]);
    const r = await row(1);
    expect(r).toMatchObject({ reply_to: ids[0], reply_snapshot: replyTo, mentions: [{ userId: bob, username: 'bob' }], edited_at: null });
    expect(r.search).toContain("'bob'");
    const m = await pool.query(`SELECT user_id, room_id, position FROM "${schemas[0]}".message_mentions`);
    expect(m.rows).toEqual([{ user_id: bob, room_id: 'r', position: '11' }]);
  });

  it('text with quotes, backslashes, braces and CJK makes a search vector, on insert and on edit', async () => {
    const tricky = `it's a \\ "quote" {a,b} 中文字`;
    await store.applyBatch([posted(100, 5, { body: tricky })]);
    expect((await row(5)).search).toContain("'quote'");
    await store.applyBatch([edited(101, 5, `${tricky} again`)]);
    const r = await row(5);
    expect(r.body).toBe(`${tricky} again`);
    expect(r.search).toContain("'again'");
  });

  it('an edit by the author replaces text, mentions and search; one by anyone else is ignored and counted', async () => {
    const plan = await store.applyBatch([edited(12, 1, 'changed, nobody named'), edited(13, 1, 'hijack', bob)]);
    expect(plan.ignored).toEqual([13]);
    const r = await row(1);
    expect(r).toMatchObject({ body: 'changed, nobody named', mentions: [], edit_position: '12' });
    expect(r.edited_at).toEqual(new Date(Date.UTC(2030, 0, 1, 0, 0, 12)));
    expect(r.search).toContain("'changed'");
    expect(r.search).not.toContain("'bob'");
    expect((await pool.query(`SELECT * FROM "${schemas[0]}".message_mentions`)).rows).toEqual([]);
    // An older edit redelivered after a newer one changes nothing; the same batch again either.
    expect((await store.applyBatch([edited(12, 1, 'changed, nobody named'), edited(13, 1, 'hijack', bob)])).ignored).toEqual([]);
    expect((await row(1)).body).toBe('changed, nobody named');
  });

  it('reactions: last writer by position wins, a removal applied before its add ends removed', async () => {
    await store.applyBatch([reaction(16, 0, bob, '👍', false), reaction(14, 0, cid, '🎉')]);
    await store.applyBatch([reaction(15, 0, bob, '👍'), reaction(17, 0, cid, '👍')]);
    const rows = (
      await pool.query(`SELECT emoji, user_id, active, position, first_position FROM "${schemas[0]}".message_reactions ORDER BY position`)
    ).rows;
    expect(rows).toEqual([
      { emoji: '🎉', user_id: cid, active: true, position: '14', first_position: '14' },
      { emoji: '👍', user_id: bob, active: false, position: '16', first_position: '16' },
      { emoji: '👍', user_id: cid, active: true, position: '17', first_position: '17' },
    ]);
    const [m] = await queries.newestFirst('r', 11, 1);
    const d = await queries.decorations([m]);
    expect(d.reactions.get(ids[0])).toEqual([
      { emoji: '🎉', count: 1, userIds: [cid] },
      { emoji: '👍', count: 1, userIds: [cid] },
    ]);
  });

  it('a deletion leaves a tombstone: text, mentions, search, reply and reactions gone; later changes ignored', async () => {
    await store.applyBatch([
      posted(18, 2, { body: 'secret @bob', mentions: [{ userId: bob, username: 'bob' }] }),
      reaction(19, 2, bob, '👍'),
    ]);
    const plan = await store.applyBatch([deleted(20, 2, cid, 'moderator'), edited(21, 2, 'too late'), reaction(22, 2, bob, '🎉')]);
    expect(plan.ignored).toEqual([21, 22]);
    expect(await row(2)).toMatchObject({
      body: '',
      mentions: [],
      search: null,
      deleted_by: cid,
      deleted_by_name: 'someone',
      delete_reason: 'moderator',
      delete_position: '20',
      edited_at: null,
    });
    const left = await pool.query(
      `SELECT (SELECT count(*) FROM "${schemas[0]}".message_mentions WHERE position = 18) AS mentions,
              (SELECT count(*) FROM "${schemas[0]}".message_reactions WHERE message_id = $1) AS reactions`,
      [ids[2]],
    );
    expect(left.rows[0]).toEqual({ mentions: '0', reactions: '0' });
    const [tomb] = await queries.newestFirst('r', 19, 1);
    expect(tomb.deleted).toEqual({
      byUserId: cid,
      byUsername: 'someone',
      reason: 'moderator',
      time: new Date(Date.UTC(2030, 0, 1, 0, 0, 20)),
    });
  });

  it('changes that commit before their post are folded in when the post lands', async () => {
    await store.applyBatch([edited(32, 3, 'edited early @bob'), reaction(33, 3, bob, '👍'), reaction(34, 3, cid, '👍')]);
    expect(await row(3)).toBeUndefined();
    expect(await queries.unprojected([31, 32, 33, 34])).toEqual([31]);
    await store.applyBatch([posted(31, 3)]);
    expect(await row(3)).toMatchObject({ body: 'edited early @bob', edit_position: '32', mentions: [{ userId: bob, username: 'bob' }] });
    const m = await pool.query(`SELECT user_id FROM "${schemas[0]}".message_mentions WHERE position = 31`);
    expect(m.rows).toEqual([{ user_id: bob }]);
    const [v] = await queries.newestFirst('r', 32, 1);
    expect((await queries.decorations([v])).reactions.get(ids[3])).toEqual([{ emoji: '👍', count: 2, userIds: [bob, cid] }]);
  });

  it('a post dropped by a late kick and restored by a late join comes back with its reply, mentions and changes', async () => {
    const dave = randomUUID();
    const replyTo = { messageId: ids[0], position: 10, senderId: ann, senderName: 'ann', excerpt: 'hello 0' };
    await store.applyBatch([room(40, 'MemberJoined', { userId: dave, username: 'dave', role: 'member' })]);
    await store.applyBatch([
      posted(44, 4, { senderId: dave, senderName: 'dave', replyTo, mentions: [{ userId: bob, username: 'bob' }], body: 'yo @bob' }),
      reaction(45, 4, bob, '👍'),
    ]);
    await store.applyBatch([room(41, 'MemberKicked', { userId: dave, username: 'dave', byUserId: ann, byUsername: 'ann', reason: '' })]);
    expect(await row(4)).toBeUndefined();
    expect((await pool.query(`SELECT * FROM "${schemas[0]}".message_mentions WHERE position = 44`)).rows).toEqual([]);
    await store.applyBatch([room(42, 'MemberJoined', { userId: dave, username: 'dave', role: 'member' })]);
    expect(await row(4)).toMatchObject({ reply_snapshot: replyTo, mentions: [{ userId: bob, username: 'bob' }] });
    expect((await pool.query(`SELECT user_id FROM "${schemas[0]}".message_mentions WHERE position = 44`)).rows).toEqual([{ user_id: bob }]);
    expect((await pool.query(`SELECT active FROM "${schemas[0]}".message_reactions WHERE message_id = $1`, [ids[4]])).rows).toEqual([
      { active: true },
    ]);
  });

  it('the same events in shuffled batches (with redeliveries) end in the same rows as in stream order', async () => {
    // Fresh messages at positions far above the others, in both schemas.
    const base = 1000;
    const fresh = Array.from({ length: 3 }, () => randomUUID());
    const ev: StreamEvent[] = [];
    let p = base;
    const n0 = ids.length;
    ids.push(...fresh);
    for (let i = 0; i < 3; i++) ev.push(posted(p++, n0 + i, { body: `post ${i}` }));
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 30; i++) {
      const n = n0 + Math.floor(rand() * 3);
      const r = rand();
      if (r < 0.3) ev.push(edited(p++, n, `edit ${i}${rand() < 0.5 ? ' @bob' : ''}`, rand() < 0.8 ? ann : bob));
      else if (r < 0.38) ev.push(deleted(p++, n, rand() < 0.5 ? ann : bob, rand() < 0.5 ? 'author' : 'moderator'));
      else ev.push(reaction(p++, n, rand() < 0.5 ? bob : cid, rand() < 0.5 ? '👍' : '🎉', rand() < 0.6));
    }
    const [inOrder, shuffled] = stores.slice(0, 2);
    for (const e of ev) await inOrder.applyBatch([e]);
    const batches: StreamEvent[][] = [];
    for (let i = 0; i < ev.length; i += 4) batches.push(ev.slice(i, i + 4));
    const order = [...batches].sort(() => rand() - 0.5);
    for (const b of [...order, order[0], order[2]]) await shuffled.applyBatch(b);
    const only = (d: Awaited<ReturnType<typeof dump>>) => ({
      messages: d.messages.filter((m) => Number(m.position) >= base),
      mentions: d.mentions.filter((m) => Number(m.position) >= base),
      reactions: d.reactions.filter((r) => fresh.includes(r.message_id)),
    });
    const a = only(await dump(schemas[0]));
    expect(a.messages).toHaveLength(3);
    expect(only(await dump(schemas[1]))).toEqual(a);
  });
});

describe('messages read model - MessageLifecycle migration on a schema with messages', () => {
  const s = createSubjects('unit');
  const schema = randomName('hm');
  let pool: Pool;
  let ds: DataSource | undefined;

  beforeAll(async () => {
    pool = new Pool({ connectionString: await testDatabaseUrl(), max: 2 });
  });
  afterAll(async () => {
    await ds?.destroy();
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('rows stored before it stay valid: shown as never edited, not deleted, no reply, mentions or reactions, and can be edited; they are counted in the statistics and the search backfill makes them searchable', async () => {
    const url = await testDatabaseUrl();
    const older = new DataSource({
      ...createDataSource({ url, schema }).options,
      migrations: migrations.slice(0, migrations.indexOf(MessageLifecycle1796300000000)),
    } as DataSourceOptions);
    await older.initialize();
    await runMigrations(older);
    const [id, ann] = [randomUUID(), randomUUID()];
    await pool.query(
      `INSERT INTO "${schema}".messages (message_id, room_id, position, sender_id, sender_name, client_msg_id, body, created_at)
       VALUES ($1, 'r', 7, $2, 'ann', 'c7', 'from before', '2030-01-01T00:00:00Z')`,
      [id, ann],
    );
    await older.destroy();

    ds = await openDatabase({ url, schema, timeouts: { statementMs: 10_000, lockMs: 5000 } });
    const store = new HistoryStore(ds, 'test-projector', s.chat);
    // StatsBackfill aggregated the rows already stored (once: a fresh schema has none).
    const stats = await pool.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, messages FROM "${schema}".stats_room_days WHERE room_id = 'r'`,
    );
    expect(stats.rows).toEqual([{ day: '2030-01-01', messages: '1' }]);
    const queries = new MessageQueries(store);
    const [m] = await queries.newestFirst('r', undefined, 1);
    expect(toView(m, await queries.decorations([m]))).toMatchObject({
      body: 'from before',
      replyTo: null,
      mentions: [],
      editedAt: null,
      deleted: null,
      reactions: [],
    });
    const edit = makeEvent(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: ann }, correlationId: 'c' },
      'MessageEdited',
      1,
      { roomId: 'r', messageId: id, senderId: ann, body: 'edited later', mentions: [] },
    );
    await store.applyBatch([{ subject: s.chat.roomMessages('r'), position: 8, data: edit }]);
    expect((await queries.byId('r', id))?.body).toBe('edited later');
    // A second row from before, never edited: no vector until the backfill gives it one.
    const old = randomUUID();
    await pool.query(
      `INSERT INTO "${schema}".messages (message_id, room_id, position, sender_id, sender_name, client_msg_id, body, created_at)
       VALUES ($1, 'r', 6, $2, 'ann', 'c6', 'wombatword from before', '2030-01-01T00:00:00Z')`,
      [old, ann],
    );
    // Ann may read room r (room events projected now, at positions before the rows).
    const roomEvent = (position: number, type: string, payload: Record<string, unknown>): StreamEvent => ({
      subject: s.chat.roomMeta('r'),
      position,
      data: makeEvent(
        { now: () => new Date('2029-12-31T00:00:00Z'), newId: randomUUID, actor: { kind: 'user', id: ann }, correlationId: 'c' },
        type,
        1,
        { roomId: 'r', ...payload },
      ),
    });
    await store.applyBatch([
      roomEvent(1, 'RoomCreated', {
        name: 'r',
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 10,
        ownerId: null,
        ownerName: null,
      }),
      roomEvent(2, 'MemberJoined', { userId: ann, username: 'ann', role: 'member' }),
    ]);
    const find = async () =>
      (
        await new SearchQueries(store).search(toTsquery(parseQuery('wombatword')!), { userId: ann, order: 'newest', offset: 0, limit: 10 })
      ).map((h) => h.message.messageId);
    expect(await find()).toEqual([]);
    expect(await backfillSearch(store, { pauseMs: 0, batch: 1 })).toBe(1);
    expect(await find()).toEqual([old]);
    // Done: the next start finds nothing to fill.
    expect(await backfillSearch(store, { pauseMs: 0 })).toBe(0);
  });
});
