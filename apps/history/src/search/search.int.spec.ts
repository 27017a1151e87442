import { directRoomId, type ErrorBody, type SearchPage } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { eventually, testDatabaseUrl } from '@chat/testing';
import { HistoryStore } from '../store/history.store';
import { startHistory, type HistoryUnderTest } from '../testing/history-fixture';
import { parseQuery, toTsquery } from './query';
import { SearchQueries } from './search.store';
import { matchRanges } from './snippet';
import { quoteLexeme, searchVector } from './tokenize';

/**
 * message.search on real NATS and Postgres: rooms, posts, edits and deletions appended to the
 * CHAT stream (as rooms would), projected by the running service, searched over its RPC.
 */
describe('history service - message.search', () => {
  let h: HistoryUnderTest;

  const [ann, bob, cy]: string[] = [randomUUID(), randomUUID(), randomUUID()];
  const names: Record<string, string> = { [ann]: 'ann', [bob]: 'bob', [cy]: 'cy' };
  const create = (roomId: string, visibility: 'public' | 'private' = 'public') =>
    h.f.createRoom(roomId, ann, { visibility, name: `Room ${roomId}` });
  const post = async (roomId: string, senderId: string, body: string): Promise<string> =>
    (await h.f.post(roomId, senderId, body)).messageId;
  const edit = (roomId: string, messageId: string, senderId: string, body: string) => h.f.edit(roomId, messageId, senderId, body);
  const remove = (roomId: string, messageId: string, by: string) => h.f.remove(roomId, messageId, by);

  async function search(userId: string, data: object): Promise<SearchPage> {
    const r = await h.svc.deps.rpc.call('history.search', { userId, ...data } as never);
    if (!r.ok) throw new Error(`history.search failed: ${JSON.stringify(r.error)}`);
    return r.data as SearchPage;
  }
  const refusal = async (userId: string, data: object): Promise<ErrorBody> => {
    const r = await h.svc.deps.rpc.call('history.search', { userId, ...data } as never);
    if (r.ok) throw new Error(`history.search answered ${JSON.stringify(r.data)}`);
    return r.error;
  };
  const bodies = async (userId: string, query: string, extra: object = {}) =>
    (await search(userId, { query, ...extra })).hits.map((hit) => hit.message.body);

  beforeAll(async () => {
    h = await startHistory('hs', {}, { names });
    await create('lobby');
    await h.f.join('lobby', bob);
    await h.f.join('lobby', cy);
    await create('secret', 'private');
    await h.f.join('secret', bob);
    await h.f.openConversation(ann, bob);
  });
  afterAll(() => h?.close());

  it('a two-character Chinese query finds its message, with the room name, snippet and highlight', async () => {
    const id = await post('lobby', ann, '明天开会吗？');
    await post('lobby', ann, '今天不开');
    const page = await search(cy, { query: '开会' });
    expect(page.nextOffset).toBeNull();
    expect(page.hits).toHaveLength(1);
    const [hit] = page.hits;
    expect(hit.message).toMatchObject({
      messageId: id,
      roomId: 'lobby',
      body: '明天开会吗？',
      html: '<p>明天开会吗？</p>',
      senderId: ann,
      editedAt: null,
      deleted: null,
      reactions: [],
    });
    expect(hit.roomName).toBe('Room lobby');
    expect(hit.snippet).toBe('明天开会吗？');
    expect(hit.highlights).toEqual([[2, 4]]);
  });

  it('Japanese, Korean, mixed Latin and CJK, a single character, whole words', async () => {
    await post('lobby', ann, '会議室でコーヒーを飲みましょう');
    await post('lobby', ann, '회의실에서 만나요');
    await post('lobby', ann, '我们用微信pay付款');
    await post('lobby', ann, '请用Docker部署到服务器');
    await post('lobby', ann, 'Deploy today! not a deployment');
    expect(await bodies(bob, 'コーヒー')).toEqual(['会議室でコーヒーを飲みましょう']);
    expect(await bodies(bob, '회의실')).toEqual(['회의실에서 만나요']);
    expect(await bodies(bob, '微信pay')).toEqual(['我们用微信pay付款']);
    expect(await bodies(bob, '用docker部署')).toEqual(['请用Docker部署到服务器']);
    expect(await bodies(bob, '署')).toEqual(['请用Docker部署到服务器']);
    expect(await bodies(bob, 'DEPLOY')).toEqual(['Deploy today! not a deployment']);
    expect(await bodies(bob, '"today deploy"')).toEqual([]);
    expect(await bodies(bob, '"deploy today"')).toEqual(['Deploy today! not a deployment']);
  });

  it('never returns a private room’s or somebody else’s conversation’s hit to a non-member', async () => {
    await post('secret', ann, 'zebra in the secret room');
    await post(directRoomId(ann, bob), bob, 'zebra between ann and bob');
    await post('lobby', ann, 'zebra for everyone');
    expect(await bodies(cy, 'zebra')).toEqual(['zebra for everyone']);
    expect((await bodies(bob, 'zebra')).sort()).toEqual(['zebra between ann and bob', 'zebra for everyone', 'zebra in the secret room']);
    const dm = (await search(ann, { query: 'zebra', roomId: directRoomId(ann, bob) })).hits;
    expect(dm.map((hit) => [hit.message.body, hit.roomName])).toEqual([['zebra between ann and bob', 'bob']]);
    // A room the caller cannot read: as history.page.
    expect((await refusal(cy, { query: 'zebra', roomId: 'secret' })).code).toBe('NOT_FOUND');
    expect((await refusal(cy, { query: 'zebra', roomId: directRoomId(ann, bob) })).code).toBe('NOT_FOUND');
    expect((await refusal(cy, { query: 'zebra', roomId: 'nowhere' })).code).toBe('NOT_FOUND');
  });

  it('a public room the caller has not joined is not searched (FORBIDDEN when asked by id)', async () => {
    await create('open');
    await post('open', ann, 'yak in the open room');
    expect(await bodies(cy, 'yak')).toEqual([]);
    expect((await refusal(cy, { query: 'yak', roomId: 'open' })).code).toBe('FORBIDDEN');
  });

  it('never finds deleted or edited-away text; finds the edited text', async () => {
    const edited = await post('lobby', ann, '旧的文字 walrus');
    const deleted = await post('lobby', ann, '删除的文字 walrus');
    await edit('lobby', edited, ann, '新的内容 narwhal');
    await remove('lobby', deleted, ann);
    await eventually(async () => (await bodies(bob, 'walrus')).length === 0);
    expect(await bodies(bob, '文字')).toEqual([]);
    expect(await bodies(bob, '删除')).toEqual([]);
    const hits = (await search(bob, { query: 'narwhal 内容' })).hits;
    expect(hits.map((hit) => hit.message.body)).toEqual(['新的内容 narwhal']);
    expect(hits[0].message.editedAt).not.toBeNull();
  });

  it('filters by room, sender and time; orders by newest or relevance; pages with nextOffset', async () => {
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await post('lobby', ann, 'otter');
    await post('lobby', bob, 'otter otter otter swims with another otter');
    await post('lobby', ann, 'otter again');
    await post(directRoomId(ann, bob), ann, 'otter in private');
    expect(await bodies(bob, 'otter', { roomId: 'lobby', senderId: ann })).toEqual(['otter again', 'otter']);
    expect(await bodies(bob, 'otter', { to: before })).toEqual([]);
    expect((await bodies(bob, 'otter', { from: before })).length).toBe(4);
    expect((await bodies(bob, 'otter', { order: 'relevance' }))[0]).toBe('otter otter otter swims with another otter');
    const first = await search(bob, { query: 'otter', limit: 3 });
    expect(first.hits.map((hit) => hit.message.body)).toEqual([
      'otter in private',
      'otter again',
      'otter otter otter swims with another otter',
    ]);
    expect(first.nextOffset).toBe(3);
    const second = await search(bob, { query: 'otter', limit: 3, offset: 3 });
    expect(second.hits.map((hit) => hit.message.body)).toEqual(['otter']);
    expect(second.nextOffset).toBeNull();
  });

  it('newest first: looking in the recent window first gives the very pages a full search gives', async () => {
    for (let i = 0; i < 6; i++) await post(i % 2 ? 'lobby' : directRoomId(ann, bob), i % 3 ? ann : bob, `heron ${i}`);
    await post('lobby', ann, 'no bird here');
    await post('lobby', ann, 'still none');
    await search(bob, { query: 'heron' }); // waits for the projection
    const store = h.svc.app.get(HistoryStore);
    const tsq = toTsquery(parseQuery('heron')!);
    const filter = { userId: bob, order: 'newest' as const };
    for (const window of [1, 3, 5, 1_000_000]) {
      const small = new SearchQueries(store, window);
      for (const [offset, limit] of [
        [0, 2],
        [0, 3],
        [2, 3],
        [4, 10],
      ])
        expect(await small.search(tsq, { ...filter, offset, limit })).toEqual(
          await new SearchQueries(store).search(tsq, { ...filter, offset, limit }),
        );
    }
  });

  it('a query with nothing to look for is BAD_REQUEST', async () => {
    expect((await refusal(ann, { query: '!!! ...' })).code).toBe('BAD_REQUEST');
    expect((await refusal(ann, { query: '' })).code).toBe('BAD_REQUEST');
  });
});

/**
 * The tokenizer and the query builder against Postgres itself: for each body and query, the
 * stored literal `::tsvector @@ ::tsquery` must agree with the highlighter's own matching
 * (snippet.ts), so a hit always has its highlight and the index never finds what the text
 * does not contain.
 */
describe('search - tsvector and tsquery literals in Postgres', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = new Pool({ connectionString: await testDatabaseUrl(), max: 1 });
  });
  afterAll(async () => {
    await pool?.end();
  });

  const bodies = [
    '明天开会吗',
    '会议室在三楼',
    '我们用微信pay付款',
    '微信息pay',
    '请用Docker部署到服务器',
    '使用docker部署',
    '会議室でコーヒーを飲みましょう',
    '회의실에서 만나요',
    'Deploy today! not a deployment',
    "it's a backslash \\ and a 'quote'",
    '微信 支付',
    '微信支付',
    'Ｆｕｌｌｗｉｄｔｈ ＤＯＣＫＥＲ',
    '𠀀𠀁 rare',
    '',
  ];
  const queries = [
    '开会',
    '会',
    '吗',
    '会议室',
    '微信pay',
    '信pay',
    'pay付',
    '用docker部署',
    '部',
    '署',
    'deploy',
    '"deploy today"',
    'docker',
    '"微信 支付"',
    '微信支付',
    '支付',
    "'quote'",
    '𠀁',
    'コーヒー',
    '실에',
  ];

  it.each(queries)('query %s: Postgres and the highlighter agree on every body', async (text) => {
    const query = parseQuery(text);
    if (!query) throw new Error(`"${text}" parsed to nothing`);
    const { rows } = await pool.query(
      `SELECT b.body, b.v::tsvector @@ $3::tsquery AS hit FROM unnest($1::text[], $2::text[]) AS b(body, v)`,
      [bodies, bodies.map(searchVector), toTsquery(query)],
    );
    const got = rows.map((r: { body: string; hit: boolean }) => [r.body, r.hit]);
    expect(got).toEqual(bodies.map((b) => [b, matchRanges(b, query).length > 0]));
  });

  it('a quoted lexeme reads back as the very text, whatever it holds', async () => {
    const texts = [`a'b`, 'back\\slash', `'\\'`, '开会', ':*&|!<->()'];
    const { rows } = await pool.query(`SELECT (SELECT lexeme FROM unnest(t::tsvector)) AS v FROM unnest($1::text[]) AS t`, [
      texts.map(quoteLexeme),
    ]);
    expect(rows.map((r: { v: string }) => r.v)).toEqual(texts);
    const { rows: matched } = await pool.query(`SELECT bool_and(v::tsvector @@ v::tsquery) AS ok FROM unnest($1::text[]) AS v`, [
      texts.map(quoteLexeme),
    ]);
    expect(matched[0].ok).toBe(true);
  });

  it('finds exactly the expected bodies for the product examples', async () => {
    const hits = async (text: string) => {
      const { rows } = await pool.query(`SELECT b FROM unnest($1::text[], $2::text[]) AS t(b, v) WHERE v::tsvector @@ $3::tsquery`, [
        bodies,
        bodies.map(searchVector),
        toTsquery(parseQuery(text)!),
      ]);
      return rows.map((r: { b: string }) => r.b);
    };
    expect(await hits('开会')).toEqual(['明天开会吗']);
    expect(await hits('会')).toEqual(['明天开会吗', '会议室在三楼', '会議室でコーヒーを飲みましょう']);
    expect(await hits('信pay')).toEqual(['我们用微信pay付款']);
    expect(await hits('微信pay')).toEqual(['我们用微信pay付款']);
    expect(await hits('用docker部署')).toEqual(['请用Docker部署到服务器', '使用docker部署']);
    expect(await hits('"微信 支付"')).toEqual(['微信 支付', '微信支付']);
    expect(await hits('微信支付')).toEqual(['微信支付']);
    expect(await hits('deploy')).toEqual(['Deploy today! not a deployment']);
    expect(await hits('docker')).toEqual(['请用Docker部署到服务器', '使用docker部署', 'Ｆｕｌｌｗｉｄｔｈ ＤＯＣＫＥＲ']);
  });
});
