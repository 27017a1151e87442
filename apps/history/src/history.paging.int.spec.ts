import { type ConversationView, type ErrorBody, type HistoryPage, type MessageView, type RpcName } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { startHistory, type HistoryUnderTest, type Posted, type PostOptions } from './testing/history-fixture';

/**
 * history.page in its four modes at depth, the message lifecycle as pages and history.message
 * show it, and dm.list's last message: events appended straight to the CHAT stream (as rooms
 * would), projected by the running service, read over its RPCs.
 */
describe('history service - paging in every direction and the message lifecycle', () => {
  let h: HistoryUnderTest;

  const [ann, bob, cy]: string[] = [randomUUID(), randomUUID(), randomUUID()];
  const names: Record<string, string> = { [ann]: 'ann', [bob]: 'bob', [cy]: 'cy' };
  let clock = Date.UTC(2030, 0, 1);
  /** Each event one second after the previous one, so `at` has times to aim at. */
  const tick = () => new Date((clock += 1000));
  const create = (roomId: string, visibility: 'public' | 'private' = 'public') => h.f.createRoom(roomId, ann, { visibility });
  const join = (roomId: string, userId: string) => h.f.join(roomId, userId);
  const post = (roomId: string, body: string, senderId = ann, over: PostOptions = {}) => h.f.post(roomId, senderId, body, over);

  const call = <N extends RpcName>(name: N, req: object) => h.svc.deps.rpc.call(name, req as never);
  async function page(
    req: { roomId: string; before?: number; after?: number; around?: number; at?: string; limit?: number },
    userId = ann,
  ) {
    const r = await call('history.page', { ...req, userId });
    if (!r.ok) throw new Error(`history.page failed: ${JSON.stringify(r.error)}`);
    return r.data as HistoryPage;
  }
  async function message(roomId: string, messageId: string, userId = ann): Promise<MessageView | ErrorBody> {
    const r = await call('history.message', { roomId, messageId, userId });
    return r.ok ? (r.data as MessageView) : r.error;
  }
  const positions = (p: HistoryPage) => p.messages.map((m) => m.position);

  beforeAll(async () => {
    h = await startHistory('hp', { PROJECTION_BATCH: '256' }, { names, clock: tick });
  });
  afterAll(() => h?.close());

  describe('paging at depth', () => {
    const deep: Posted[] = [];
    const N = 3000;

    beforeAll(async () => {
      await create('deep');
      await join('deep', bob);
      // Posts interleaved with another room's, so positions of one room are not contiguous.
      await create('beside');
      for (let i = 0; i < N; i++) {
        deep.push(await post('deep', `d${i}`));
        if (i % 50 === 0) await post('beside', `b${i}`);
      }
      await h.f.projected(60_000);
    }, 120_000);

    it('before: walks every message newest first, with no gap and no duplicate while new ones arrive', async () => {
      const seen: number[] = [];
      let p = await page({ roomId: 'deep', limit: 100 });
      const newestAtStart = p.messages[0].position;
      expect(p.nextAfter).toBeNull();
      for (let pages = 1; ; pages++) {
        seen.push(...positions(p));
        if (pages === 3) for (let i = 0; i < 5; i++) await post('deep', `late${i}`);
        if (p.nextBefore === null) break;
        p = await page({ roomId: 'deep', before: p.nextBefore, limit: 100 });
        expect(p.nextAfter).toBe(p.messages[0].position);
      }
      expect(seen).toEqual([...deep].reverse().map((m) => m.position));
      expect(newestAtStart).toBe(deep[N - 1].position);
    });

    it('after: walks forward from the first message, each page newest first, up to the newest', async () => {
      const seen: number[] = [];
      let p = await page({ roomId: 'deep', after: 1, limit: 100 });
      expect(p.nextBefore).toBeNull();
      for (;;) {
        expect(positions(p)).toEqual([...positions(p)].sort((a, b) => b - a));
        seen.push(...[...positions(p)].reverse());
        if (p.nextAfter === null) break;
        const next = await page({ roomId: 'deep', after: p.nextAfter, limit: 100 });
        expect(next.nextBefore).toBe(next.messages[next.messages.length - 1].position);
        p = next;
      }
      const all = (await h.pool.query(`SELECT position FROM "${h.schema}".messages WHERE room_id = 'deep' ORDER BY position`)).rows.map(
        (r) => Number(r.position),
      );
      expect(seen).toEqual(all);
      expect(all.length).toBeGreaterThanOrEqual(N);
    });

    it('around: the anchor with about half older and half newer; a position that is no message anchors at the next one', async () => {
      const mid = deep[1500];
      const p = await page({ roomId: 'deep', around: mid.position, limit: 11 });
      expect(p.anchor).toBe(mid.position);
      expect(positions(p)).toEqual(
        deep
          .slice(1495, 1506)
          .reverse()
          .map((m) => m.position),
      );
      expect(p).toMatchObject({ nextBefore: deep[1495].position, nextAfter: deep[1505].position });
      // The next older page continues below it without overlap.
      expect(positions(await page({ roomId: 'deep', before: p.nextBefore!, limit: 2 }))).toEqual([
        deep[1494].position,
        deep[1493].position,
      ]);

      // A position in the gap before a message of the room: anchored at that message.
      const gap = deep.findIndex((m, i) => i > 0 && m.position - deep[i - 1].position > 1);
      expect((await page({ roomId: 'deep', around: deep[gap].position - 1, limit: 5 })).anchor).toBe(deep[gap].position);
      // The first message: everything newer.
      const first = await page({ roomId: 'deep', around: 1, limit: 5 });
      expect(first).toMatchObject({ anchor: deep[0].position, nextBefore: null });
      expect(positions(first)).toEqual(
        deep
          .slice(0, 5)
          .reverse()
          .map((m) => m.position),
      );
      // Past the newest: the newest page, no anchor.
      const past = await page({ roomId: 'deep', around: Number.MAX_SAFE_INTEGER, limit: 3 });
      expect(past.anchor).toBeNull();
      expect(past.nextAfter).toBeNull();
    });

    it('at: jumps to the first message at or after a time', async () => {
      const target = deep[2200];
      const p = await page({ roomId: 'deep', at: new Date(Date.parse(target.time) - 500).toISOString(), limit: 4 });
      expect(p.anchor).toBe(target.position);
      expect(positions(p)).toContain(target.position);
      expect((await page({ roomId: 'deep', at: '2000-01-01T00:00:00Z', limit: 1 })).anchor).toBe(deep[0].position);
      expect((await page({ roomId: 'deep', at: '2999-01-01T00:00:00Z', limit: 1 })).anchor).toBeNull();
    });

    it('more than one cursor is BAD_REQUEST', async () => {
      const r = await call('history.page', { roomId: 'deep', userId: ann, before: 5, around: 9 });
      expect(r.ok ? 'ok' : r.error.code).toBe('BAD_REQUEST');
    });

    it('the keyset queries are index range scans, never a scan of the room', async () => {
      const plan = await h.pool.query(
        `EXPLAIN SELECT * FROM "${h.schema}".messages WHERE room_id = 'deep' AND position < $1 ORDER BY position DESC LIMIT 51`,
        [deep[10].position],
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan/);
    });
  });

  describe('the message lifecycle as history shows it', () => {
    let original: Posted;
    let reply: Posted;

    beforeAll(async () => {
      await create('life');
      await join('life', bob);
      original = await post('life', 'the original text', ann);
      reply = await post('life', '@bob see above', bob, {
        replyTo: {
          messageId: original.messageId,
          position: original.position,
          senderId: ann,
          senderName: 'ann',
          excerpt: 'the original text',
        },
        mentions: [{ userId: bob, username: 'bob' }],
      });
    });

    it('edits, reactions and replies: the page shows the message as it is now, the quote as the quoted message is now', async () => {
      await h.f.edit('life', original.messageId, ann, 'edited text');
      await h.f.edit('life', original.messageId, bob, 'hijack');
      await h.f.react('life', original.messageId, bob, '👍');
      await h.f.react('life', original.messageId, ann, '🎉');
      await h.f.react('life', original.messageId, ann, '👍');
      await h.f.message(
        'ReactionRemoved',
        { roomId: 'life', messageId: original.messageId, userId: ann, username: 'ann', emoji: '🎉' },
        ann,
      );
      const p = await page({ roomId: 'life' });
      const [r, o] = p.messages;
      expect(o).toMatchObject({
        body: 'edited text',
        html: '<p>edited text</p>',
        deleted: null,
        reactions: [{ emoji: '👍', count: 2, userIds: [bob, ann] }],
      });
      expect(r.html).toBe(`<p><span class="mention" data-user-id="${bob}">@bob</span> see above</p>`);
      expect(Date.parse(o.editedAt!)).toBeGreaterThan(Date.parse(o.time));
      expect(r.replyTo).toEqual({
        messageId: original.messageId,
        position: original.position,
        senderId: ann,
        senderName: 'ann',
        excerpt: 'edited text',
      });
      expect(r.mentions).toEqual([{ userId: bob, username: 'bob' }]);
      // history.message: the same view.
      expect(await message('life', original.messageId)).toEqual(o);
      // bob's edit of ann's message is not an error, not a dead letter: it is counted.
      const metrics = await (await fetch(`${h.svc.url}/metrics`)).text();
      expect(metrics).toMatch(/^history_ignored_message_changes_total 1$/m);
      expect((await h.pool.query(`SELECT count(*)::int AS n FROM "${h.schema}".dead_letters`)).rows[0].n).toBe(0);
    });

    it('a deletion: a tombstone in pages and in history.message; a reply to it quotes ""', async () => {
      await h.f.remove('life', original.messageId, ann);
      const view = (await message('life', original.messageId)) as MessageView;
      expect(view).toMatchObject({
        body: '',
        html: '',
        replyTo: null,
        mentions: [],
        reactions: [],
        editedAt: null,
        senderName: 'ann',
        position: original.position,
      });
      expect(view.deleted).toMatchObject({ by: { userId: ann, username: 'ann' }, reason: 'author' });
      const [r] = (await page({ roomId: 'life' })).messages;
      expect(r.replyTo?.excerpt).toBe('');
      expect(r.replyTo?.senderName).toBe('ann');
    });

    it('history.message: a message just posted is found; unknown, of another room, or hidden is refused', async () => {
      const fresh = await post('life', 'just now', bob);
      expect(await message('life', fresh.messageId, bob)).toMatchObject({
        messageId: fresh.messageId,
        body: 'just now',
        position: fresh.position,
      });
      expect(await message('life', randomUUID())).toMatchObject({ code: 'NOT_FOUND' });
      expect(await message('beside', fresh.messageId)).toMatchObject({ code: 'NOT_FOUND' });
      // cy is in neither room. Only the rooms service asks, having decided who may act (a server
      // administrator moderates public rooms without joining): a public room's message is
      // answered, a private room's is NOT_FOUND.
      expect(await message('life', fresh.messageId, cy)).toMatchObject({ messageId: fresh.messageId, body: 'just now' });
      await create('hidden', 'private');
      const secret = await post('hidden', 'secret');
      expect(await message('hidden', secret.messageId, cy)).toMatchObject({ code: 'NOT_FOUND' });
    });

    it('dm.list: the last message is the full MessageView, as it is now', async () => {
      const roomId = await h.f.openConversation(ann, cy);
      const dm = await post(roomId, 'hi cy', ann);
      await h.f.react(roomId, dm.messageId, cy, '👋');
      await h.f.edit(roomId, dm.messageId, ann, 'hi cy!');
      await h.f.projected();
      const r = await call('history.conversations', { userId: cy, username: 'cy' });
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      const [c] = (r.data as { conversations: ConversationView[] }).conversations;
      expect(c.lastMessage).toEqual((await message(roomId, dm.messageId, cy)) as MessageView);
      expect(c.lastMessage).toMatchObject({ body: 'hi cy!', reactions: [{ emoji: '👋', count: 1, userIds: [cy] }] });
      expect(c.lastMessage?.editedAt).not.toBeNull();
    });
  });
});
