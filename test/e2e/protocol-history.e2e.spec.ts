// An independent client written ONLY from docs/protocol.md, using `ws` and `fetch`, that drives
// the history features (replies, mentions, edits, deletions, reactions, history cursors, search,
// read markers, statistics, retention) as documented. The assertions are what the document
// SAYS: when one fails, either the server or the document is wrong.
import { eventually } from '@chat/testing';
import { printLogsIfFailed, startTestStack, TestStack } from './fixture';
import {
  Account,
  DocClient,
  DocClients,
  ISO_MS,
  createAccount,
  delivered,
  expectErr,
  expectFields,
  expectHidden,
  expectMessageView,
  expectOk,
  expectPostAck,
  expectPostedMessageView,
  expectUserView,
  reportUndocumented,
  sleep,
  undocumented,
  wsUrlOf,
} from './doc-client';

jest.setTimeout(120_000);

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ZERO_UUID = '00000000-0000-4000-8000-000000000000';
/** A mention as `html` carries it (docs/protocol.md, Formatting): the name as typed, the user's id. */
const mentionHtml = (u: { userId: string }, text: string) => `<span class="mention" data-user-id="${u.userId}">${text}</span>`;

/** The reply of message.edit / message.delete / reaction.add / reaction.remove: `{ roomId, messageId, position }`. */
function expectMessageAck(where: string, a: any, roomId: string, messageId: string): void {
  expectFields(where, a, { roomId: 'string', messageId: 'uuid', position: 'integer' });
  expect({ where, roomId: a.roomId, messageId: a.messageId }).toEqual({ where, roomId, messageId });
  for (const k of Object.keys(a)) if (!['roomId', 'messageId', 'position'].includes(k)) undocumented.add(`${where}.${k}`);
}

/** `reaction.added` / `reaction.removed`: `{ roomId, messageId, emoji, userId, username, time }`, as expected. */
function expectReactionEvent(
  where: string,
  data: any,
  expected: { roomId: string; messageId: string; emoji: string; userId: string; username: string },
): void {
  expectFields(where, data, { roomId: 'string', messageId: 'uuid', emoji: 'string', userId: 'uuid', username: 'string', time: 'time' });
  expect(data).toEqual({ ...expected, time: expect.stringMatching(ISO_MS) });
}

function expectHistoryPage(where: string, p: any, roomId: string): void {
  expectFields(where, p, {
    roomId: 'string',
    messages: 'array',
    nextBefore: 'integerOrNull',
    nextAfter: 'integerOrNull',
    anchor: 'integerOrNull',
  });
  expect({ where, roomId: p.roomId }).toEqual({ where, roomId });
  p.messages.forEach((m: any, i: number) => expectMessageView(`${where}.messages[${i}]`, m));
  const pos = p.messages.map((m: any) => m.position);
  expect({ where, newestFirst: pos }).toEqual({ where, newestFirst: [...pos].sort((x, y) => y - x) });
}

function expectReadState(where: string, r: any): void {
  expectFields(where, r, { roomId: 'string', lastRead: 'integer', unread: 'integer', mentions: 'integer', lastPosition: 'integer' });
}

function expectSearchPage(where: string, p: any): void {
  expectFields(where, p, { hits: 'array', nextOffset: 'integerOrNull' });
  p.hits.forEach((h: any, i: number) => {
    const w = `${where}.hits[${i}]`;
    expectFields(w, h, { message: 'object', roomName: 'string', snippet: 'string', highlights: 'array' });
    expectMessageView(`${w}.message`, h.message);
    for (const hl of h.highlights) {
      const ok =
        Array.isArray(hl) &&
        hl.length === 2 &&
        Number.isInteger(hl[0]) &&
        Number.isInteger(hl[1]) &&
        hl[0] >= 0 &&
        hl[0] < hl[1] &&
        hl[1] <= h.snippet.length;
      expect({ where: `${w}.highlights`, hl, ok }).toEqual({ where: `${w}.highlights`, hl, ok: true });
    }
  });
}

/** The highlighted texts of a hit (the snippet's UTF-16 slices), NFKC + lower-cased. */
const highlighted = (h: any): string[] =>
  h.highlights.map(([s, e]: [number, number]) => h.snippet.slice(s, e).normalize('NFKC').toLowerCase());

describe('protocol.md: history features (replies, mentions, edits, deletions, reactions, cursors, search, read markers, stats, retention)', () => {
  let stack: TestStack;
  let base: string;
  let wsUrl: string;
  const clients = new DocClients();
  let uniq = 0;
  const rid = (p: string) => `${p}-${++uniq}`;
  const cmid = () => `c-${++uniq}`;

  // Alice has two connections; Ops is a server administrator (SERVER_ADMINS).
  let A: Account, B: Account, C: Account, D: Account, Z: Account, O: Account;
  let a1: DocClient, a2: DocClient, b: DocClient, c: DocClient, d: DocClient, z: DocClient, o: DocClient;

  const account = (username: string) => createAccount(base, username);
  const authed = (a: Account) => clients.authed(a, wsUrl);

  const create = async (cl: DocClient, data: Record<string, unknown>) =>
    expectOk(`room.create ${JSON.stringify(data)}`, await cl.request('room.create', data));
  const join = async (cl: DocClient, roomId: string) => expectOk(`room.join ${roomId}`, await cl.request('room.join', { roomId }));
  const send = async (cl: DocClient, roomId: string, body: string, extra: Record<string, unknown> = {}) => {
    const ack = expectOk(`message.send ${body}`, await cl.request('message.send', { roomId, clientMsgId: cmid(), body, ...extra }));
    expectPostAck('PostAck', ack);
    return ack;
  };
  const page = async (cl: DocClient, data: Record<string, unknown>) => {
    const p = expectOk(`history.page ${JSON.stringify(data)}`, await cl.request('history.page', data));
    expectHistoryPage(`history.page ${JSON.stringify(data)}`, p, data.roomId as string);
    return p;
  };
  /** The message as history shows it now. */
  const inHistory = async (cl: DocClient, roomId: string, messageId: string): Promise<any> => {
    const p = await page(cl, { roomId, limit: 100 });
    return p.messages.find((m: any) => m.messageId === messageId);
  };
  /** The message as history shows it once `ready` holds for it. */
  const inHistoryWhen = (cl: DocClient, roomId: string, messageId: string, ready: (m: any) => boolean): Promise<any> =>
    eventually(async () => {
      const x = await inHistory(cl, roomId, messageId);
      return x && ready(x) ? x : undefined;
    });

  beforeAll(async () => {
    stack = await startTestStack({ env: { SERVER_ADMINS: 'Ops' }, serviceEnv: { history: { RETENTION_INTERVAL_MS: '2000' } } });
    base = stack.urls.gateway;
    wsUrl = wsUrlOf(base);
    [A, B, C, D, Z, O] = await Promise.all(['Alice', 'Bob', 'Carol', 'Dave', '张三', 'Ops'].map((n) => account(n)));
    a1 = await authed(A);
    a2 = await authed(A);
    b = await authed(B);
    c = await authed(C);
    d = await authed(D);
    z = await authed(Z);
    o = await authed(O);
  });

  afterAll(async () => {
    clients.closeAll();
    reportUndocumented();
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history'], 10));

  // -------------------------------------------------------------------------------------------
  describe('message.send: replyTo and @mentions', () => {
    let roomId: string;
    beforeAll(async () => {
      roomId = rid('talk');
      await create(a1, { roomId, name: 'Talk' });
      await join(b, roomId);
      await join(c, roomId);
      await join(z, roomId);
    });

    it('a reply carries replyTo { messageId, position, senderId, senderName, excerpt } and mentions of members, in order of first mention', async () => {
      const orig = await send(a1, roomId, 'hello team');
      const body = '@carol @Alice sure thing, @Dave and @carol again; mail bob@example.com';
      const ack = await send(b, roomId, body, { replyTo: orig.messageId });
      for (const [who, cl] of [
        ['a1', a1],
        ['a2', a2],
        ['b', b],
        ['c', c],
      ] as const) {
        const ev = await cl.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ack.messageId);
        expect(ev.position).toBe(ack.position);
        expectPostedMessageView(`message.posted (reply) to ${who}`, ev.data);
        expect(ev.data).toEqual({
          messageId: ack.messageId,
          roomId,
          senderId: B.userId,
          senderName: 'Bob',
          clientMsgId: ack.clientMsgId,
          body,
          replyTo: { messageId: orig.messageId, position: orig.position, senderId: A.userId, senderName: 'Alice', excerpt: 'hello team' },
          // Dave is not a member: naming him mentions nobody; bob@example.com is not a mention
          mentions: [
            { userId: C.userId, username: 'Carol' },
            { userId: A.userId, username: 'Alice' },
          ],
          // Formatting: each @name of a mentioned member as a span (as typed), the address as a mailto link
          html:
            `<p>${mentionHtml(C, '@carol')} ${mentionHtml(A, '@Alice')} sure thing, @Dave and ${mentionHtml(C, '@carol')} again; ` +
            'mail <a href="mailto:bob@example.com" target="_blank" rel="noopener nofollow">bob@example.com</a></p>',
          time: ack.time,
          position: ack.position,
          editedAt: null,
          deleted: null,
          reactions: [],
        });
      }
      // not delivered to a non-member
      await sleep(200);
      expect(d.events.filter((e) => e.event === 'message.posted' && e.data.messageId === ack.messageId)).toEqual([]);
      // history shows the same reply and mentions
      const h = await eventually(() => inHistory(b, roomId, ack.messageId));
      expect({ replyTo: h.replyTo, mentions: h.mentions }).toEqual({
        replyTo: { messageId: orig.messageId, position: orig.position, senderId: A.userId, senderName: 'Alice', excerpt: 'hello team' },
        mentions: [
          { userId: C.userId, username: 'Carol' },
          { userId: A.userId, username: 'Alice' },
        ],
      });
      const plain = await inHistory(b, roomId, orig.messageId);
      expect({ replyTo: plain.replyTo, mentions: plain.mentions }).toEqual({ replyTo: null, mentions: [] });
    });

    it('history shows a reply with the quoted message as it is now (edited text)', async () => {
      const orig = await send(a1, roomId, 'original quoted text');
      const reply = await send(b, roomId, 'answering', { replyTo: orig.messageId });
      expectOk('edit quoted', await a1.request('message.edit', { roomId, messageId: orig.messageId, body: 'edited quoted text' }));
      const h = await inHistoryWhen(b, roomId, reply.messageId, (x) => x.replyTo?.excerpt === 'edited quoted text').catch(async () =>
        inHistory(b, roomId, reply.messageId),
      );
      expect(h.replyTo).toEqual({
        messageId: orig.messageId,
        position: orig.position,
        senderId: A.userId,
        senderName: 'Alice',
        excerpt: 'edited quoted text',
      });
    });

    it('the excerpt is the first 200 code points; full-width ＠, CJK names without spaces, @ann in @anna', async () => {
      const long = '😀'.repeat(150) + 'x'.repeat(100);
      const orig = await send(a1, roomId, long);
      const ack = await send(c, roomId, '＠bob look, @张三你好 and @alicex', { replyTo: orig.messageId });
      const ev = await a1.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ack.messageId);
      expectPostedMessageView('message.posted', ev.data);
      expect({ excerpt: ev.data.replyTo?.excerpt, chars: [...(ev.data.replyTo?.excerpt ?? '')].length }).toEqual({
        excerpt: [...long].slice(0, 200).join(''),
        chars: 200,
      });
      expect(ev.data.mentions).toEqual([
        { userId: B.userId, username: 'Bob' },
        { userId: Z.userId, username: '张三' },
      ]);
    });

    it('the longest member name wins (@Mary Jane), a shorter one still matches on its own', async () => {
      const [M, MJ] = await Promise.all(['Mary', 'Mary Jane'].map((n) => account(n)));
      const mc = await authed(M);
      const mjc = await authed(MJ);
      await join(mc, roomId);
      await join(mjc, roomId);
      const ack = await send(a1, roomId, '@Mary Jane hi, and @mary.');
      const ev = await a1.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ack.messageId);
      expect(ev.data.mentions).toEqual([
        { userId: MJ.userId, username: 'Mary Jane' },
        { userId: M.userId, username: 'Mary' },
      ]);
    });

    it('a page reaching the newest message contains a message whose send reply was just received', async () => {
      for (let i = 0; i < 3; i++) {
        const ack = await send(b, roomId, `fresh ${i}`);
        const p = await page(b, { roomId, limit: 1 });
        expect({ where: `newest page right after send ${i}`, newest: p.messages[0]?.messageId }).toEqual({
          where: `newest page right after send ${i}`,
          newest: ack.messageId,
        });
      }
    });

    it('dm.send with replyTo: a reply in the conversation; a first message with replyTo opens nothing (NOT_FOUND)', async () => {
      const first = expectOk('dm.send', await a1.request('dm.send', { username: 'Bob', clientMsgId: cmid(), body: 'question?' }));
      const ans = expectOk(
        'dm reply',
        await b.request('dm.send', { username: 'Alice', clientMsgId: cmid(), body: 'answer', replyTo: first.messageId }),
      );
      const ev = await a1.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ans.messageId);
      expect(ev.data.replyTo).toEqual({
        messageId: first.messageId,
        position: first.position,
        senderId: A.userId,
        senderName: 'Alice',
        excerpt: 'question?',
      });
      const before = z.mark();
      expectErr(
        'first dm with replyTo',
        await a1.request('dm.send', { username: '张三', clientMsgId: cmid(), body: 'x', replyTo: first.messageId }),
        'NOT_FOUND',
      );
      await sleep(300);
      expect(z.events.slice(before).filter((e) => e.event === 'conversation.opened')).toEqual([]);
      const list = expectOk('dm.list', await z.request('dm.list'));
      expect(list.conversations.filter((x: any) => x.peer.userId === A.userId)).toEqual([]);
    });

    it('unknown fields in the new ops are BAD_REQUEST', async () => {
      const m = await send(a1, roomId, 'fields');
      const cases: [string, Record<string, unknown>, string][] = [
        ['message.edit', { roomId, messageId: m.messageId, body: 'x', silent: true }, 'data.silent'],
        ['message.delete', { roomId, messageId: m.messageId, reason: 'spam' }, 'data.reason'],
        ['reaction.add', { roomId, messageId: m.messageId, emoji: '👍', skin: 1 }, 'data.skin'],
        ['read.mark', { roomId, position: 1, force: true }, 'data.force'],
        ['room.setRetention', { roomId, days: 3, hours: 1 }, 'data.hours'],
        ['room.stats', { roomId, week: 1 }, 'data.week'],
      ];
      for (const [op, data, field] of cases) expectErr(`${op} unknown field`, await a1.request(op, data), 'BAD_REQUEST', field);
    });

    it('replyTo errors: unknown message NOT_FOUND, not a UUID BAD_REQUEST, a message of another room NOT_FOUND', async () => {
      expectErr(
        'replyTo unknown',
        await a1.request('message.send', { roomId, clientMsgId: cmid(), body: 'x', replyTo: ZERO_UUID }),
        'NOT_FOUND',
      );
      expectErr(
        'replyTo not a uuid',
        await a1.request('message.send', { roomId, clientMsgId: cmid(), body: 'x', replyTo: 'nope' }),
        'BAD_REQUEST',
        'data.replyTo',
      );
      const other = rid('other');
      await create(a1, { roomId: other, name: 'Other' });
      const m = await send(a1, other, 'elsewhere');
      expectErr(
        'replyTo in another room',
        await a1.request('message.send', { roomId, clientMsgId: cmid(), body: 'x', replyTo: m.messageId }),
        'NOT_FOUND',
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('message.edit, message.delete', () => {
    let roomId: string;
    beforeAll(async () => {
      roomId = rid('edits');
      await create(a1, { roomId, name: 'Edits' });
      await join(b, roomId);
      await join(c, roomId);
      expectOk('room.setRole', await a1.request('room.setRole', { roomId, userId: C.userId, role: 'admin' }));
    });

    it('message.edit: reply { roomId, messageId, position }; message.edited to every member; history shows body and editedAt; mentions worked out again', async () => {
      const m = await send(b, roomId, 'first @Alice draft');
      const ack = expectOk(
        'message.edit',
        await b.request('message.edit', { roomId, messageId: m.messageId, body: 'second draft for @carol' }),
      );
      expectMessageAck('message.edit', ack, roomId, m.messageId);
      expect(ack.position).toBeGreaterThan(m.position);
      const ev = await delivered('message.edit', 'message.edited', ack.position, [a1, a2, b, c], [d]);
      expectFields('message.edited', ev.data, {
        roomId: 'string',
        messageId: 'uuid',
        body: 'string',
        mentions: 'array',
        html: 'string',
        editedAt: 'time',
      });
      expect(ev.data).toEqual({
        roomId,
        messageId: m.messageId,
        body: 'second draft for @carol',
        mentions: [{ userId: C.userId, username: 'Carol' }],
        html: `<p>second draft for ${mentionHtml(C, '@carol')}</p>`,
        editedAt: expect.stringMatching(ISO_MS),
      });
      const h = await inHistoryWhen(a1, roomId, m.messageId, (x) => !!x.editedAt);
      expect({ body: h.body, html: h.html, editedAt: h.editedAt, mentions: h.mentions, position: h.position, time: h.time }).toEqual({
        body: 'second draft for @carol',
        html: ev.data.html,
        editedAt: ev.data.editedAt,
        mentions: [{ userId: C.userId, username: 'Carol' }],
        position: m.position,
        time: m.time,
      });
      // editing to the same text is accepted (a new editedAt)
      const again = expectOk(
        'edit same text',
        await b.request('message.edit', { roomId, messageId: m.messageId, body: 'second draft for @carol' }),
      );
      const ev2 = await delivered('edit same text', 'message.edited', again.position, [b]);
      expect(ev2.data.editedAt >= ev.data.editedAt).toBe(true);
    });

    it('message.edit errors: not the author FORBIDDEN (even the owner), non-member NOT_MEMBER, unknown message NOT_FOUND, hidden room NOT_FOUND, bad body BAD_REQUEST', async () => {
      const m = await send(b, roomId, 'mine');
      expectErr('owner edits another', await a1.request('message.edit', { roomId, messageId: m.messageId, body: 'x' }), 'FORBIDDEN');
      expectErr('admin edits another', await c.request('message.edit', { roomId, messageId: m.messageId, body: 'x' }), 'FORBIDDEN');
      expectErr('non-member', await d.request('message.edit', { roomId, messageId: m.messageId, body: 'x' }), 'NOT_MEMBER');
      expectErr('unknown message', await b.request('message.edit', { roomId, messageId: ZERO_UUID, body: 'x' }), 'NOT_FOUND');
      expectErr('empty body', await b.request('message.edit', { roomId, messageId: m.messageId, body: '' }), 'BAD_REQUEST', 'data.body');
      expectErr(
        '4001 chars',
        await b.request('message.edit', { roomId, messageId: m.messageId, body: 'x'.repeat(4001) }),
        'BAD_REQUEST',
        'data.body',
      );
      const priv = rid('priv');
      await create(a1, { roomId: priv, name: 'Priv', visibility: 'private' });
      const pm = await send(a1, priv, 'secret');
      expectHidden('private, not a member', await d.request('message.edit', { roomId: priv, messageId: pm.messageId, body: 'x' }), priv);
    });

    it('message.delete by the author: message.deleted { roomId, messageId, by, reason "author", time }; a tombstone in history; again NOT_FOUND', async () => {
      const orig = await send(b, roomId, 'to be deleted @Alice');
      const reply = await send(a1, roomId, 'quoting it', { replyTo: orig.messageId });
      expectOk('reaction on it', await c.request('reaction.add', { roomId, messageId: orig.messageId, emoji: '👍' }));
      const ack = expectOk('message.delete', await b.request('message.delete', { roomId, messageId: orig.messageId }));
      expectMessageAck('message.delete', ack, roomId, orig.messageId);
      const ev = await delivered('message.delete', 'message.deleted', ack.position, [a1, a2, b, c], [d]);
      expectFields('message.deleted', ev.data, {
        roomId: 'string',
        messageId: 'uuid',
        by: 'object',
        reason: ['author', 'moderator'],
        time: 'time',
      });
      expectUserView('message.deleted.by', ev.data.by);
      expect(ev.data).toEqual({
        roomId,
        messageId: orig.messageId,
        by: { userId: B.userId, username: 'Bob' },
        reason: 'author',
        time: expect.stringMatching(ISO_MS),
      });
      const t = await inHistoryWhen(a1, roomId, orig.messageId, (x) => !!x.deleted);
      expect(t).toEqual({
        messageId: orig.messageId,
        roomId,
        senderId: B.userId,
        senderName: 'Bob',
        clientMsgId: orig.clientMsgId,
        body: '',
        replyTo: null,
        mentions: [],
        html: '',
        time: orig.time,
        position: orig.position,
        editedAt: null,
        deleted: { by: { userId: B.userId, username: 'Bob' }, reason: 'author', time: ev.data.time },
        reactions: [],
      });
      // the reply quoting it: excerpt "" once the quoted message is deleted
      const r = await inHistory(a1, roomId, reply.messageId);
      expect(r.replyTo).toEqual({ messageId: orig.messageId, position: orig.position, senderId: B.userId, senderName: 'Bob', excerpt: '' });
      expectErr('delete again', await b.request('message.delete', { roomId, messageId: orig.messageId }), 'NOT_FOUND');
      expectErr('edit a deleted one', await b.request('message.edit', { roomId, messageId: orig.messageId, body: 'x' }), 'NOT_FOUND');
      expectErr('react to a deleted one', await c.request('reaction.add', { roomId, messageId: orig.messageId, emoji: '👍' }), 'NOT_FOUND');
      expectErr(
        'reply to a deleted one',
        await a1.request('message.send', { roomId, clientMsgId: cmid(), body: 'x', replyTo: orig.messageId }),
        'NOT_FOUND',
      );
    });

    it('message.delete as moderator: the owner and an admin (reason "moderator"); a plain member FORBIDDEN', async () => {
      const m1 = await send(b, roomId, 'rude one');
      const m2 = await send(b, roomId, 'rude two');
      const m3 = await send(a1, roomId, 'owner text');
      expectErr('plain member deletes another', await b.request('message.delete', { roomId, messageId: m3.messageId }), 'FORBIDDEN');
      const byOwner = expectOk('owner deletes', await a1.request('message.delete', { roomId, messageId: m1.messageId }));
      const e1 = await delivered('owner deletes', 'message.deleted', byOwner.position, [a1, b, c]);
      expect({ by: e1.data.by, reason: e1.data.reason }).toEqual({ by: { userId: A.userId, username: 'Alice' }, reason: 'moderator' });
      const byAdmin = expectOk('admin deletes', await c.request('message.delete', { roomId, messageId: m2.messageId }));
      const e2 = await delivered('admin deletes', 'message.deleted', byAdmin.position, [a1, b, c]);
      expect({ by: e2.data.by, reason: e2.data.reason }).toEqual({ by: { userId: C.userId, username: 'Carol' }, reason: 'moderator' });
      const t = await inHistoryWhen(b, roomId, m2.messageId, (x) => !!x.deleted);
      expect(t.deleted).toEqual({ by: { userId: C.userId, username: 'Carol' }, reason: 'moderator', time: e2.data.time });
      expectErr('non-member deletes', await d.request('message.delete', { roomId, messageId: m3.messageId }), 'NOT_MEMBER');
    });

    it('message.delete by a server administrator (SERVER_ADMINS): any message of a public room, member or not; a private room he is not in stays NOT_FOUND', async () => {
      const m = await send(b, roomId, 'spam from bob');
      const ack = expectOk('server admin deletes', await o.request('message.delete', { roomId, messageId: m.messageId }));
      expectMessageAck('server admin deletes', ack, roomId, m.messageId);
      const ev = await delivered('server admin deletes', 'message.deleted', ack.position, [a1, b, c]);
      expect({ by: ev.data.by, reason: ev.data.reason }).toEqual({ by: { userId: O.userId, username: 'Ops' }, reason: 'moderator' });
      // a server administrator may not edit or react without being a member
      expectErr('server admin edits', await o.request('message.edit', { roomId, messageId: m.messageId, body: 'x' }), 'NOT_MEMBER');
      const priv = rid('privop');
      await create(a1, { roomId: priv, name: 'Priv Ops', visibility: 'private' });
      const pm = await send(a1, priv, 'private words');
      expectHidden('server admin, private room', await o.request('message.delete', { roomId: priv, messageId: pm.messageId }), priv);
    });

    it('message.edit in a room whose postPolicy is "admins": FORBIDDEN once the author is no longer an admin; reactions are not restricted', async () => {
      const ann = rid('ann');
      await create(a1, { roomId: ann, name: 'Announcements' });
      await join(b, ann);
      expectOk('make admin', await a1.request('room.setRole', { roomId: ann, userId: B.userId, role: 'admin' }));
      expectOk('admins only', await a1.request('room.update', { roomId: ann, postPolicy: 'admins' }));
      const m = await send(b, ann, 'announcement by an admin');
      expectOk('admin edits', await b.request('message.edit', { roomId: ann, messageId: m.messageId, body: 'edited announcement' }));
      expectOk('demote', await a1.request('room.setRole', { roomId: ann, userId: B.userId, role: 'member' }));
      expectErr('no longer admin', await b.request('message.edit', { roomId: ann, messageId: m.messageId, body: 'again' }), 'FORBIDDEN');
      expectOk('plain member reacts', await b.request('reaction.add', { roomId: ann, messageId: m.messageId, emoji: '👍' }));
      // the author may still delete their own message
      expectOk('author deletes', await b.request('message.delete', { roomId: ann, messageId: m.messageId }));
    });

    it('a blocked conversation: edit and reaction.add BLOCKED, reaction.remove and the author’s delete still work', async () => {
      const first = expectOk('dm.send', await c.request('dm.send', { username: 'Dave', clientMsgId: cmid(), body: 'hello dave' }));
      expectOk('react', await d.request('reaction.add', { roomId: first.roomId, messageId: first.messageId, emoji: '👋' }));
      expectOk('block', await d.request('user.block', { userId: C.userId }));
      expectErr(
        'edit while blocked',
        await c.request('message.edit', { roomId: first.roomId, messageId: first.messageId, body: 'x' }),
        'BLOCKED',
      );
      expectErr(
        'react while blocked',
        await c.request('reaction.add', { roomId: first.roomId, messageId: first.messageId, emoji: '👍' }),
        'BLOCKED',
      );
      expectOk(
        'remove while blocked',
        await d.request('reaction.remove', { roomId: first.roomId, messageId: first.messageId, emoji: '👋' }),
      );
      expectOk('delete while blocked', await c.request('message.delete', { roomId: first.roomId, messageId: first.messageId }));
      expectOk('unblock', await d.request('user.unblock', { userId: C.userId }));
    });

    it('in a conversation only the author deletes', async () => {
      const ack = expectOk('dm.send', await a1.request('dm.send', { username: 'Bob', clientMsgId: cmid(), body: 'dm text' }));
      expectErr('peer deletes', await b.request('message.delete', { roomId: ack.roomId, messageId: ack.messageId }), 'FORBIDDEN');
      expectHidden(
        'server admin, a conversation',
        await o.request('message.delete', { roomId: ack.roomId, messageId: ack.messageId }),
        ack.roomId,
      );
      const del = expectOk('author deletes', await a1.request('message.delete', { roomId: ack.roomId, messageId: ack.messageId }));
      const ev = await delivered('dm delete', 'message.deleted', del.position, [a1, a2, b], [c]);
      expect(ev.data.reason).toBe('author');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('reaction.add, reaction.remove', () => {
    let roomId: string;
    let msg: any;
    beforeAll(async () => {
      roomId = rid('react');
      await create(a1, { roomId, name: 'React' });
      await join(b, roomId);
      msg = await send(a1, roomId, 'react to me');
    });

    it('reaction.added / reaction.removed to every member; history reactions { emoji, count, userIds } in order of first use', async () => {
      const r1 = expectOk('reaction.add', await b.request('reaction.add', { roomId, messageId: msg.messageId, emoji: '👍' }));
      expectMessageAck('reaction.add', r1, roomId, msg.messageId);
      const ev = await delivered('reaction.add', 'reaction.added', r1.position, [a1, a2, b], [c]);
      expectReactionEvent('reaction.added', ev.data, { roomId, messageId: msg.messageId, emoji: '👍', userId: B.userId, username: 'Bob' });
      const r2 = expectOk('second user', await a1.request('reaction.add', { roomId, messageId: msg.messageId, emoji: '👍' }));
      await delivered('second user', 'reaction.added', r2.position, [a1, b]);
      const r3 = expectOk('another emoji', await a1.request('reaction.add', { roomId, messageId: msg.messageId, emoji: '❤️' }));
      await delivered('another emoji', 'reaction.added', r3.position, [a1, b]);
      const h = await inHistoryWhen(a1, roomId, msg.messageId, (x) => x.reactions?.length === 2);
      expect(h.reactions).toEqual([
        { emoji: '👍', count: 2, userIds: [B.userId, A.userId] },
        { emoji: '❤️', count: 1, userIds: [A.userId] },
      ]);
      // adding again changes nothing
      const same = expectOk('add again', await b.request('reaction.add', { roomId, messageId: msg.messageId, emoji: '👍' }));
      expectMessageAck('add again', same, roomId, msg.messageId);
      const rm = expectOk('reaction.remove', await b.request('reaction.remove', { roomId, messageId: msg.messageId, emoji: '👍' }));
      expectMessageAck('reaction.remove', rm, roomId, msg.messageId);
      const evr = await delivered('reaction.remove', 'reaction.removed', rm.position, [a1, a2, b], [c]);
      expectReactionEvent('reaction.removed', evr.data, {
        roomId,
        messageId: msg.messageId,
        emoji: '👍',
        userId: B.userId,
        username: 'Bob',
      });
      const h2 = await inHistoryWhen(a1, roomId, msg.messageId, (x) => x.reactions?.[0]?.count === 1);
      expect(h2.reactions).toEqual([
        { emoji: '👍', count: 1, userIds: [A.userId] },
        { emoji: '❤️', count: 1, userIds: [A.userId] },
      ]);
      // removing one the caller does not have changes nothing
      expectOk('remove absent', await b.request('reaction.remove', { roomId, messageId: msg.messageId, emoji: '🎉' }));
    });

    it('valid emoji: variation selector, skin tone, ZWJ sequence, flag, keycap; anything else BAD_REQUEST (data.emoji)', async () => {
      const m = await send(a1, roomId, 'emoji kinds');
      for (const emoji of ['❤️', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '😀'])
        expectOk(`valid emoji ${emoji}`, await b.request('reaction.add', { roomId, messageId: m.messageId, emoji }));
      for (const [where, emoji] of [
        ['empty', ''],
        ['a letter', 'a'],
        ['a word', 'hello'],
        ['two emoji', '👍👍'],
        ['emoji and text', '👍x'],
        ['a smiley in ASCII', ':)'],
        ['a digit', '1'],
        ['33 UTF-16 units', '😀'.repeat(17)],
      ] as const)
        expectErr(
          `invalid emoji: ${where}`,
          await b.request('reaction.add', { roomId, messageId: m.messageId, emoji }),
          'BAD_REQUEST',
          'data.emoji',
        );
    });

    it('at most 20 distinct emoji on one message: a 21st is FORBIDDEN; an existing one may still be added', async () => {
      const m = await send(a1, roomId, 'many reactions');
      const twenty = [
        '😀',
        '😁',
        '😂',
        '🤣',
        '😃',
        '😄',
        '😅',
        '😆',
        '😉',
        '😊',
        '😋',
        '😎',
        '😍',
        '😘',
        '🥰',
        '😗',
        '😙',
        '😚',
        '🙂',
        '🤗',
      ];
      for (const emoji of twenty) expectOk(`emoji ${emoji}`, await a1.request('reaction.add', { roomId, messageId: m.messageId, emoji }));
      await eventually(async () => (await inHistory(a1, roomId, m.messageId))?.reactions?.length === 20);
      expectErr('21st emoji', await b.request('reaction.add', { roomId, messageId: m.messageId, emoji: '🤩' }), 'FORBIDDEN');
      expectOk('existing emoji by another user', await b.request('reaction.add', { roomId, messageId: m.messageId, emoji: '😀' }));
    });

    it('errors: non-member NOT_MEMBER, unknown message NOT_FOUND, hidden room NOT_FOUND', async () => {
      expectErr('non-member add', await d.request('reaction.add', { roomId, messageId: msg.messageId, emoji: '👍' }), 'NOT_MEMBER');
      expectErr('non-member remove', await d.request('reaction.remove', { roomId, messageId: msg.messageId, emoji: '👍' }), 'NOT_MEMBER');
      expectErr('unknown message', await b.request('reaction.add', { roomId, messageId: ZERO_UUID, emoji: '👍' }), 'NOT_FOUND');
      expectHidden(
        'missing room',
        await b.request('reaction.add', { roomId: 'no-such-room', messageId: msg.messageId, emoji: '👍' }),
        'no-such-room',
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.setRetention', () => {
    it('reply { roomId, position, days }; room.retention to members; room.details retentionDays; same period changes nothing; null is the default', async () => {
      const roomId = rid('ret');
      await create(a1, { roomId, name: 'Retention' });
      await join(b, roomId);
      const ack = expectOk('room.setRetention', await a1.request('room.setRetention', { roomId, days: 30 }));
      expectFields('room.setRetention reply', ack, { roomId: 'string', position: 'integer', days: 'integer' });
      expect({ roomId: ack.roomId, days: ack.days }).toEqual({ roomId, days: 30 });
      const ev = await delivered('room.setRetention', 'room.retention', ack.position, [a1, a2, b], [c]);
      expectFields('room.retention', ev.data, { roomId: 'string', days: 'integerOrNull', by: 'object', time: 'time' });
      expect(ev.data).toEqual({ roomId, days: 30, by: { userId: A.userId, username: 'Alice' }, time: expect.stringMatching(ISO_MS) });
      const det = expectOk('room.details', await b.request('room.details', { roomId }));
      expect(det.retentionDays).toBe(30);
      // the same period again: no event, the room's current position
      const same = expectOk('same period', await a1.request('room.setRetention', { roomId, days: 30 }));
      expect(same).toEqual({ roomId, position: ack.position, days: 30 });
      await sleep(300);
      expect(a1.events.filter((e) => e.event === 'room.retention' && e.data.roomId === roomId)).toHaveLength(1);
      // null: the deployment's default
      const def = expectOk('null', await a1.request('room.setRetention', { roomId, days: null }));
      expect(def.days).toBeNull();
      const ev2 = await delivered('retention null', 'room.retention', def.position, [a1, b]);
      expect(ev2.data.days).toBeNull();
      expect(expectOk('room.details', await b.request('room.details', { roomId })).retentionDays).toBeNull();
      // absent = the default too (already the default: no change)
      const absent = expectOk('absent days', await a1.request('room.setRetention', { roomId }));
      expect(absent).toEqual({ roomId, position: def.position, days: null });
      // an admin may
      expectOk('setRole', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      expectOk('admin sets', await b.request('room.setRetention', { roomId, days: 36500 }));
    });

    it('errors: plain member FORBIDDEN, non-member NOT_MEMBER (public and private), default room FORBIDDEN, conversation FORBIDDEN, days out of range BAD_REQUEST', async () => {
      const roomId = rid('ret2');
      await create(a1, { roomId, name: 'Retention 2' });
      await join(b, roomId);
      expectErr('plain member', await b.request('room.setRetention', { roomId, days: 5 }), 'FORBIDDEN');
      expectErr('non-member, public', await d.request('room.setRetention', { roomId, days: 5 }), 'NOT_MEMBER');
      const priv = rid('ret3');
      await create(a1, { roomId: priv, name: 'Retention 3', visibility: 'private' });
      expectHidden('not invited, private', await d.request('room.setRetention', { roomId: priv, days: 5 }), priv);
      expectOk('invite', await a1.request('room.invite', { roomId: priv, username: 'Dave' }));
      expectErr('invited, private', await d.request('room.setRetention', { roomId: priv, days: 5 }), 'NOT_MEMBER');
      await b.request('room.join', { roomId: 'general' });
      expectErr('default room', await b.request('room.setRetention', { roomId: 'general', days: 5 }), 'FORBIDDEN');
      const dm = expectOk('dm.send', await a1.request('dm.send', { username: 'Carol', clientMsgId: cmid(), body: 'hi' }));
      expectErr('conversation', await a1.request('room.setRetention', { roomId: dm.roomId, days: 5 }), 'FORBIDDEN');
      for (const [where, days] of [
        ['0', 0],
        ['36501', 36501],
        ['1.5', 1.5],
        ['"5"', '5'],
      ] as const)
        expectErr(`days ${where}`, await a1.request('room.setRetention', { roomId, days }), 'BAD_REQUEST', 'data.days');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('history.page cursors', () => {
    let roomId: string;
    const acks: any[] = [];
    let joinPos: number;
    beforeAll(async () => {
      roomId = rid('pages');
      await create(a1, { roomId, name: 'Pages' });
      for (let i = 1; i <= 12; i++) {
        acks.push(await send(a1, roomId, `page message ${i}`));
        if (i === 6) joinPos = (await join(b, roomId)).position; // a room event between messages 6 and 7
        await sleep(3); // distinct times, for `at`
      }
    });
    const pos = (i: number) => acks[i - 1].position; // i: 1..12
    const positions = (p: any) => p.messages.map((m: any) => m.position);

    it('no cursor: the newest page; nextBefore the oldest in the page; nextAfter null; anchor null', async () => {
      const p = await page(a1, { roomId, limit: 5 });
      expect(positions(p)).toEqual([pos(12), pos(11), pos(10), pos(9), pos(8)]);
      expect({ nextBefore: p.nextBefore, nextAfter: p.nextAfter, anchor: p.anchor }).toEqual({
        nextBefore: pos(8),
        nextAfter: null,
        anchor: null,
      });
    });

    it('before: pages back with nextBefore, no gap or overlap; null once nothing is older', async () => {
      const seen: number[] = [];
      const sizes: number[] = [];
      let before: number | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const p = await page(a1, before === undefined ? { roomId, limit: 5 } : { roomId, limit: 5, before });
        sizes.push(p.messages.length);
        seen.push(...positions(p));
        if (p.nextBefore !== null) expect(p.nextBefore).toBe(p.messages[p.messages.length - 1].position);
        if (p.nextBefore === null) break;
        before = p.nextBefore;
      }
      expect(sizes).toEqual([5, 5, 2]);
      expect(seen).toEqual(acks.map((a) => a.position).reverse());
      // a page exactly `limit` long that reaches the first message has nextBefore null
      const last = await page(a1, { roomId, limit: 2, before: pos(3) });
      expect({ messages: positions(last), nextBefore: last.nextBefore }).toEqual({ messages: [pos(2), pos(1)], nextBefore: null });
      // an older page: nextAfter is the newest in the page (newer messages exist)
      expect(last.nextAfter).toBe(pos(2));
    });

    it('after: the limit messages just newer, listed newest first; nextAfter the newest in the page, null at the newest; no gap or overlap', async () => {
      const p = await page(a1, { roomId, limit: 5, after: pos(1) });
      expect(positions(p)).toEqual([pos(6), pos(5), pos(4), pos(3), pos(2)]);
      expect({ nextAfter: p.nextAfter, nextBefore: p.nextBefore, anchor: p.anchor }).toEqual({
        nextAfter: pos(6),
        nextBefore: pos(2),
        anchor: null,
      });
      const seen: number[] = [];
      let after = 1; // before the first message
      const sizes: number[] = [];
      for (let guard = 0; guard < 10; guard++) {
        const q = await page(a1, { roomId, limit: 5, after });
        sizes.push(q.messages.length);
        seen.push(...[...positions(q)].reverse());
        if (q.nextAfter === null) break;
        expect(q.nextAfter).toBe(q.messages[0].position);
        after = q.nextAfter;
      }
      expect(sizes).toEqual([5, 5, 2]);
      expect(seen).toEqual(acks.map((a) => a.position));
      // a page that ends exactly at the newest message: nextAfter null
      const end = await page(a1, { roomId, limit: 2, after: pos(10) });
      expect({ messages: positions(end), nextAfter: end.nextAfter }).toEqual({ messages: [pos(12), pos(11)], nextAfter: null });
      const none = await page(a1, { roomId, after: pos(12) });
      expect({ messages: none.messages, nextAfter: none.nextAfter }).toEqual({ messages: [], nextAfter: null });
    });

    it('around: the anchor message and about half older, half newer; anchor; the first message after a position that is not a message', async () => {
      const p = await page(a1, { roomId, limit: 5, around: pos(6) });
      expect(positions(p)).toEqual([pos(8), pos(7), pos(6), pos(5), pos(4)]);
      expect({ anchor: p.anchor, nextBefore: p.nextBefore, nextAfter: p.nextAfter }).toEqual({
        anchor: pos(6),
        nextBefore: pos(4),
        nextAfter: pos(8),
      });
      // joinPos is Bob's member.joined between messages 6 and 7: the anchor is message 7
      const only = await page(a1, { roomId, limit: 1, around: pos(6) });
      expect({ anchor: only.anchor, messages: positions(only) }).toEqual({ anchor: pos(6), messages: [pos(6)] });
      const q = await page(a1, { roomId, limit: 3, around: joinPos });
      expect({ anchor: q.anchor, messages: positions(q) }).toEqual({ anchor: pos(7), messages: [pos(8), pos(7), pos(6)] });
      // more on one side when the other runs out
      const end = await page(a1, { roomId, limit: 5, around: pos(12) });
      expect({ anchor: end.anchor, messages: positions(end), nextAfter: end.nextAfter, nextBefore: end.nextBefore }).toEqual({
        anchor: pos(12),
        messages: [pos(12), pos(11), pos(10), pos(9), pos(8)],
        nextAfter: null,
        nextBefore: pos(8),
      });
      const start = await page(a1, { roomId, limit: 5, around: pos(1) });
      expect({ anchor: start.anchor, messages: positions(start), nextBefore: start.nextBefore, nextAfter: start.nextAfter }).toEqual({
        anchor: pos(1),
        messages: [pos(5), pos(4), pos(3), pos(2), pos(1)],
        nextBefore: null,
        nextAfter: pos(5),
      });
      // no message at or after it: anchor null, the newest page
      const beyond = await page(a1, { roomId, limit: 3, around: pos(12) + 1_000_000 });
      expect({ anchor: beyond.anchor, messages: positions(beyond) }).toEqual({ anchor: null, messages: [pos(12), pos(11), pos(10)] });
    });

    it('at: anchored at the first message at or after the time; a future time gives the newest page with anchor null', async () => {
      const p = await page(a1, { roomId, limit: 3, at: acks[5].time });
      expect({ anchor: p.anchor, messages: positions(p) }).toEqual({ anchor: pos(6), messages: [pos(7), pos(6), pos(5)] });
      const early = await page(a1, { roomId, limit: 3, at: '2000-01-01T00:00:00.000Z' });
      expect({ anchor: early.anchor, messages: positions(early) }).toEqual({ anchor: pos(1), messages: [pos(3), pos(2), pos(1)] });
      const future = await page(a1, { roomId, limit: 3, at: '2999-01-01T00:00:00.000Z' });
      expect({ anchor: future.anchor, messages: positions(future) }).toEqual({ anchor: null, messages: [pos(12), pos(11), pos(10)] });
    });

    it('more than one of before / after / around / at is BAD_REQUEST; bad values are BAD_REQUEST', async () => {
      const two: [string, Record<string, unknown>][] = [
        ['before+after', { before: pos(5), after: pos(2) }],
        ['before+around', { before: pos(5), around: pos(3) }],
        ['after+at', { after: pos(2), at: acks[3].time }],
        ['around+at', { around: pos(3), at: acks[3].time }],
        ['all four', { before: pos(5), after: pos(2), around: pos(3), at: acks[3].time }],
      ];
      for (const [where, data] of two) expectErr(where, await a1.request('history.page', { roomId, ...data }), 'BAD_REQUEST');
      const bad: [string, Record<string, unknown>, string][] = [
        ['after 0', { after: 0 }, 'data.after'],
        ['after "5"', { after: '5' }, 'data.after'],
        ['around 1.5', { around: 1.5 }, 'data.around'],
        ['around 2^53', { around: 2 ** 53 }, 'data.around'],
        ['at not a time', { at: 'yesterday' }, 'data.at'],
        ['at a number', { at: 5 }, 'data.at'],
      ];
      for (const [where, data, field] of bad) expectErr(where, await a1.request('history.page', { roomId, ...data }), 'BAD_REQUEST', field);
      // the largest allowed value is accepted
      expectOk('before 2^53-1', await a1.request('history.page', { roomId, before: 2 ** 53 - 1, limit: 1 }));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('message.search', () => {
    let srch: string;
    let secret: string;
    let dmId: string;
    const m: Record<string, any> = {};
    const search = async (cl: DocClient, data: Record<string, unknown>) => {
      const r = expectOk(`message.search ${JSON.stringify(data)}`, await cl.request('message.search', data));
      expectSearchPage(`message.search ${JSON.stringify(data)}`, r);
      return r;
    };
    const ids = (p: any) => p.hits.map((h: any) => h.message.messageId);

    beforeAll(async () => {
      srch = rid('srch');
      secret = rid('secret');
      await create(a1, { roomId: srch, name: 'Search Room' });
      await join(b, srch);
      await join(d, srch);
      await create(a1, { roomId: secret, name: 'Secret', visibility: 'private' });
      m.s1 = await send(a1, srch, 'Deploy today! the release train leaves at noon');
      m.s2 = await send(b, srch, 'the deployment of the train is delayed');
      await sleep(5);
      m.s3 = await send(a1, srch, 'train release notes are ready');
      await sleep(5);
      m.s4 = await send(b, srch, '明天开会吗我们讨论一下');
      m.s5 = await send(a1, srch, '我去会议室');
      m.s6 = await send(a1, secret, 'deploy the secret zebra plan');
      const dm = expectOk(
        'dm.send',
        await a1.request('dm.send', { username: 'Bob', clientMsgId: cmid(), body: 'deploy the zebra in our conversation' }),
      );
      dmId = dm.roomId;
      m.s7 = dm;
      m.s8 = await send(a1, srch, 'the old walrus text');
      expectOk('edit', await a1.request('message.edit', { roomId: srch, messageId: m.s8.messageId, body: 'the new penguin text' }));
      m.s9 = await send(b, srch, 'ephemeral flamingo');
      expectOk('delete', await b.request('message.delete', { roomId: srch, messageId: m.s9.messageId }));
      m.mail = await send(b, srch, 'please send the e-mail now');
      m.mail2 = await send(b, srch, 'mail me an e later');
      m.kana = await send(b, srch, '明日のミーティングは十時です');
      m.ko = await send(b, srch, '내일회의가있어요');
      m.mixed = await send(b, srch, '我们用Docker部署服务');
      m.long = await send(a1, srch, `${'lorem ipsum dolor sit amet '.repeat(12)}kingfisher ${'consectetur adipiscing elit '.repeat(12)}`);
      for (let i = 1; i <= 7; i++) m[`p${i}`] = await send(b, srch, `pagingword number ${i}`);
      // the search index follows the stream: wait until the last message is found
      await eventually(async () => (await search(a1, { query: 'pagingword' })).hits.length === 7, 15_000);
      await eventually(async () => (await search(a1, { query: 'penguin' })).hits.length === 1, 15_000);
    });

    it('English words: whole words only, every word must occur; newest first by default; roomName; the message as it is now', async () => {
      const p = await search(a1, { query: 'deploy' });
      // not "deployment"
      expect(ids(p)).toEqual([m.s7.messageId, m.s6.messageId, m.s1.messageId]);
      expect(p.nextOffset).toBeNull();
      const byId = Object.fromEntries(p.hits.map((h: any) => [h.message.messageId, h]));
      expect(byId[m.s1.messageId].roomName).toBe('Search Room');
      expect(byId[m.s6.messageId].roomName).toBe('Secret');
      // for a conversation, the other participant's username
      expect(byId[m.s7.messageId].roomName).toBe('Bob');
      expect(byId[m.s7.messageId].message.roomId).toBe(dmId);
      const both = await search(a1, { query: 'release train' });
      expect(new Set(ids(both))).toEqual(new Set([m.s1.messageId, m.s3.messageId]));
      const all = await search(a1, { query: 'DEPLOY today' });
      expect(ids(all)).toEqual([m.s1.messageId]);
    });

    it('a quoted phrase must occur as those words in that order', async () => {
      const p = await search(a1, { query: '"release train"' });
      expect(ids(p)).toEqual([m.s1.messageId]);
      const q = await search(a1, { query: '"train release"' });
      expect(ids(q)).toEqual([m.s3.messageId]);
    });

    it('Chinese: a two-character word inside a sentence without spaces; a single character; a three-character word', async () => {
      const p = await search(a1, { query: '开会' });
      expect(ids(p)).toEqual([m.s4.messageId]);
      expect(highlighted(p.hits[0])).toEqual(['开会']);
      const one = await search(a1, { query: '会' });
      expect(new Set(ids(one))).toEqual(new Set([m.s4.messageId, m.s5.messageId]));
      for (const h of one.hits) expect(highlighted(h)).toEqual(expect.arrayContaining(['会']));
      const three = await search(a1, { query: '会议室' });
      expect(ids(three)).toEqual([m.s5.messageId]);
      expect(ids(await search(a1, { query: '议开' }))).toEqual([]);
    });

    it('snippet and highlights: [start, end) UTF-16 offsets into the snippet pointing at the matched text; a long body is cut with …', async () => {
      const p = await search(a1, { query: 'deploy today', roomId: srch });
      expect(ids(p)).toEqual([m.s1.messageId]);
      const h = p.hits[0];
      expect(h.snippet).toBe('Deploy today! the release train leaves at noon');
      expect(highlighted(h)).toEqual(['deploy', 'today']);
      const long = await search(a1, { query: 'kingfisher' });
      expect(ids(long)).toEqual([m.long.messageId]);
      const lh = long.hits[0];
      expect({ len: lh.snippet.length <= 170, cut: lh.snippet.includes('…') }).toEqual({ len: true, cut: true });
      expect(highlighted(lh)).toEqual(['kingfisher']);
    });

    it('filters roomId, senderId, from (at or after), to (before)', async () => {
      expect(ids(await search(a1, { query: 'deploy', roomId: srch }))).toEqual([m.s1.messageId]);
      expect(ids(await search(a1, { query: 'deploy', roomId: dmId }))).toEqual([m.s7.messageId]);
      expect(ids(await search(a1, { query: 'train', senderId: B.userId }))).toEqual([m.s2.messageId]);
      expect(ids(await search(a1, { query: 'train', senderId: A.userId }))).toEqual([m.s3.messageId, m.s1.messageId]);
      expect(ids(await search(a1, { query: 'release', from: m.s3.time }))).toEqual([m.s3.messageId]);
      expect(ids(await search(a1, { query: 'release', to: m.s3.time }))).toEqual([m.s1.messageId]);
      expect(ids(await search(a1, { query: 'release', from: m.s1.time, to: m.s3.time }))).toEqual([m.s1.messageId]);
    });

    it('order newest / relevance; offset paging with nextOffset, no gap or overlap', async () => {
      const all = [7, 6, 5, 4, 3, 2, 1].map((i) => m[`p${i}`].messageId);
      const seen: string[] = [];
      const offsets: (number | null)[] = [];
      let offset = 0;
      for (let guard = 0; guard < 5; guard++) {
        const p = await search(b, { query: 'pagingword', limit: 3, offset });
        seen.push(...ids(p));
        offsets.push(p.nextOffset);
        if (p.nextOffset === null) break;
        offset = p.nextOffset;
      }
      expect({ seen, offsets }).toEqual({ seen: all, offsets: [3, 6, null] });
      const rel = await search(b, { query: 'pagingword', order: 'relevance' });
      expect(new Set(ids(rel))).toEqual(new Set(all));
      expect(ids(await search(b, { query: 'pagingword', order: 'newest' }))).toEqual(all);
    });

    it('order relevance: more and closer matches first, then newest; newest: by position', async () => {
      const close = await send(a1, srch, 'quokka wombat are friends');
      const far = await send(a1, srch, 'quokka lives far away from any other animal that is a wombat');
      await eventually(async () => (await search(a1, { query: 'quokka wombat' })).hits.length === 2);
      expect(ids(await search(a1, { query: 'quokka wombat', order: 'relevance' }))).toEqual([close.messageId, far.messageId]);
      expect(ids(await search(a1, { query: 'quokka wombat' }))).toEqual([far.messageId, close.messageId]);
    });

    it('non-members never see hits from a private room or somebody else’s conversation', async () => {
      // Dave is a member of the search room only
      expect(ids(await search(d, { query: 'deploy' }))).toEqual([m.s1.messageId]);
      expect(ids(await search(d, { query: 'zebra' }))).toEqual([]);
      // Bob sees the conversation with Alice, not her private room
      expect(ids(await search(b, { query: 'zebra' }))).toEqual([m.s7.messageId]);
      // Carol has joined nothing here
      expect(ids(await search(c, { query: 'deploy' }))).toEqual([]);
      expectHidden('private room filter', await d.request('message.search', { query: 'deploy', roomId: secret }), secret);
      expectHidden('conversation filter', await d.request('message.search', { query: 'deploy', roomId: dmId }), dmId);
      expectErr('public room not joined', await c.request('message.search', { query: 'deploy', roomId: srch }), 'FORBIDDEN');
    });

    it('punctuation inside a term matches as a phrase; Japanese, Korean and mixed text need no spaces', async () => {
      expect(ids(await search(b, { query: 'e-mail' }))).toEqual([m.mail.messageId]);
      expect(ids(await search(b, { query: 'ミーティング' }))).toEqual([m.kana.messageId]);
      expect(ids(await search(b, { query: '회의' }))).toEqual([m.ko.messageId]);
      expect(ids(await search(b, { query: 'Docker部署' }))).toEqual([m.mixed.messageId]);
      expect(ids(await search(b, { query: '用Docker部署' }))).toEqual([m.mixed.messageId]);
    });

    it('deleted and edited-away text is never found; the new text is', async () => {
      expect(ids(await search(b, { query: 'flamingo' }))).toEqual([]);
      expect(ids(await search(a1, { query: 'walrus' }))).toEqual([]);
      const p = await search(a1, { query: 'penguin' });
      expect(ids(p)).toEqual([m.s8.messageId]);
      expect({ body: p.hits[0].message.body, edited: typeof p.hits[0].message.editedAt }).toEqual({
        body: 'the new penguin text',
        edited: 'string',
      });
    });

    it('a room the caller left is no longer searched', async () => {
      const tmp = rid('left');
      await create(a1, { roomId: tmp, name: 'Left' });
      await join(c, tmp);
      const m1 = await send(a1, tmp, 'narwhal sighting');
      await eventually(async () => (await search(c, { query: 'narwhal' })).hits.length === 1);
      expectOk('leave', await c.request('room.leave', { roomId: tmp }));
      expect(ids(await search(c, { query: 'narwhal' }))).toEqual([]);
      expect(ids(await search(a1, { query: 'narwhal' }))).toEqual([m1.messageId]);
    });

    it('errors: BAD_REQUEST for an empty query, only punctuation, over 200 characters, limit, offset, order, unknown fields', async () => {
      const bad: [string, Record<string, unknown>, string | undefined][] = [
        ['empty query', { query: '' }, 'data.query'],
        ['201 characters', { query: 'x'.repeat(201) }, 'data.query'],
        ['punctuation only', { query: '!!! ...' }, undefined],
        ['limit 0', { query: 'x', limit: 0 }, 'data.limit'],
        ['limit 51', { query: 'x', limit: 51 }, 'data.limit'],
        ['offset 1001', { query: 'x', offset: 1001 }, 'data.offset'],
        ['order oldest', { query: 'x', order: 'oldest' }, 'data.order'],
        ['senderId not a uuid', { query: 'x', senderId: 'bob' }, 'data.senderId'],
        ['from not a time', { query: 'x', from: 'soon' }, 'data.from'],
        ['unknown field', { query: 'x', page: 2 }, 'data.page'],
      ];
      for (const [where, data, field] of bad) expectErr(where, await a1.request('message.search', data), 'BAD_REQUEST', field);
      expectOk('200 characters', await a1.request('message.search', { query: '字'.repeat(200) }));
      expectOk('limit 50, offset 1000', await a1.request('message.search', { query: 'x', limit: 50, offset: 1000 }));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('read.mark, read.state', () => {
    let roomId: string;
    let created: number;
    const msgs: any[] = [];
    const stateOf = async (cl: DocClient, r: string) => {
      const s = expectOk('read.state', await cl.request('read.state'));
      expectFields('read.state', s, { rooms: 'array' });
      s.rooms.forEach((x: any, i: number) => expectReadState(`read.state.rooms[${i}]`, x));
      return s.rooms.find((x: any) => x.roomId === r);
    };

    beforeAll(async () => {
      roomId = rid('reads');
      created = (await create(a1, { roomId, name: 'Reads' })).position;
      await join(b, roomId);
      msgs.push(await send(b, roomId, 'one'));
      msgs.push(await send(b, roomId, 'two @Alice'));
      msgs.push(await send(b, roomId, 'three'));
      msgs.push(await send(a1, roomId, 'alice own'));
      msgs.push(await send(b, roomId, 'four @alice'));
    });

    it('read.state: unread and mentions counted after lastRead (the join), by others; lastPosition', async () => {
      const s = await eventually(async () => {
        const x = await stateOf(a1, roomId);
        return x?.unread === 4 ? x : undefined;
      });
      expect(s).toEqual({ roomId, lastRead: created, unread: 4, mentions: 2, lastPosition: msgs[4].position });
      const bs = await stateOf(b, roomId);
      expect({ unread: bs.unread, mentions: bs.mentions }).toEqual({ unread: 1, mentions: 0 });
      // a room the user is not a member of is not listed
      expect(await stateOf(d, roomId)).toBeUndefined();
      // conversations are listed too (Alice and Bob have one)
      const dmAck = expectOk('dm.send', await b.request('dm.send', { username: 'Alice', clientMsgId: cmid(), body: 'unread dm' }));
      const dmState = await eventually(async () => {
        const x = await stateOf(a1, dmAck.roomId);
        return x && x.lastPosition >= dmAck.position ? x : undefined;
      });
      expect({ unread: dmState.unread >= 1, lastPosition: dmState.lastPosition }).toEqual({ unread: true, lastPosition: dmAck.position });
      expectErr('read.state with a field', await a1.request('read.state', { roomId }), 'BAD_REQUEST', 'data.roomId');
    });

    it('read.mark: ReadStateView; read.marker to every connection of the user (frame position = lastRead); forward only; capped at the newest message', async () => {
      const marks = [a1.mark(), a2.mark()];
      const r = expectOk('read.mark', await a1.request('read.mark', { roomId, position: msgs[1].position }));
      expectReadState('read.mark', r);
      expect(r).toEqual({ roomId, lastRead: msgs[1].position, unread: 2, mentions: 1, lastPosition: msgs[4].position });
      // every connection of the user gets read.marker; collect both before asserting (to see all)
      const got = [];
      for (const [who, cl] of [
        ['a1', a1],
        ['a2', a2],
      ] as const) {
        const ev = await cl.waitEvent((e) => e.event === 'read.marker' && e.data.roomId === roomId, 0, 5000).catch(() => undefined);
        // when missing, show what arrived instead (any read.* event, or anything at that position)
        const instead = ev
          ? undefined
          : cl.events
              .slice(marks[who === 'a1' ? 0 : 1])
              .filter((e) => e.event !== 'presence.changed')
              .map((e) => `${e.event}@${e.position}`);
        got.push({ who, received: !!ev, instead, position: ev?.position, data: ev?.data });
        if (ev) expectFields('read.marker', ev.data, { roomId: 'string', lastRead: 'integer', time: 'time' });
      }
      await sleep(200);
      expect(b.events.filter((e) => e.event === 'read.marker' && e.data.roomId === roomId)).toEqual([]);
      // the second connection sees the same state
      expect(await stateOf(a2, roomId)).toEqual(r);
      // backwards: nothing changes, no event
      const before = a1.mark();
      const back = expectOk('read.mark back', await a1.request('read.mark', { roomId, position: msgs[0].position }));
      expect(back.lastRead).toBe(msgs[1].position);
      await sleep(300);
      expect(a1.events.slice(before).filter((e) => e.event === 'read.marker')).toEqual([]);
      // beyond the newest message: taken as the newest message's position
      const far = expectOk('read.mark far', await a2.request('read.mark', { roomId, position: 2 ** 53 - 1 }));
      expect(far).toEqual({ roomId, lastRead: msgs[4].position, unread: 0, mentions: 0, lastPosition: msgs[4].position });
      const ev = await a1
        .waitEvent((e) => e.event === 'read.marker' && e.data.lastRead === msgs[4].position, 0, 5000)
        .catch(() => undefined);
      // the event checks last, so that the reply checks above run whatever they show
      expect(got).toEqual(
        ['a1', 'a2'].map((who) => ({
          who,
          received: true,
          instead: undefined,
          position: msgs[1].position,
          data: { roomId, lastRead: msgs[1].position, time: expect.stringMatching(ISO_MS) },
        })),
      );
      expect({ where: 'read.marker (far) to a1', position: ev?.position }).toEqual({
        where: 'read.marker (far) to a1',
        position: msgs[4].position,
      });
    });

    it('a deleted message stops counting at once; a new message by someone else counts', async () => {
      // independent of the test before: everything so far is read
      expectOk('read.mark all', await a1.request('read.mark', { roomId, position: msgs[4].position }));
      const m1 = await send(b, roomId, 'five @Alice');
      const m2 = await send(b, roomId, 'six');
      const s = await eventually(async () => {
        const x = await stateOf(a1, roomId);
        return x?.unread === 2 ? x : undefined;
      });
      expect({ unread: s.unread, mentions: s.mentions }).toEqual({ unread: 2, mentions: 1 });
      expectOk('delete', await b.request('message.delete', { roomId, messageId: m1.messageId }));
      // "a deleted message stops counting at once": the next read.state, not eventually
      const after = await stateOf(a1, roomId);
      expect({ where: 'read.state right after the delete reply', unread: after.unread, mentions: after.mentions }).toEqual({
        where: 'read.state right after the delete reply',
        unread: 1,
        mentions: 0,
      });
      expect(m2.position).toBeGreaterThan(m1.position);
    });

    it('errors: FORBIDDEN for a public room not joined, NOT_FOUND for a hidden one, BAD_REQUEST for a bad position', async () => {
      expectErr('not a member', await d.request('read.mark', { roomId, position: 5 }), 'FORBIDDEN');
      expectHidden('missing room', await d.request('read.mark', { roomId: 'no-such-room', position: 5 }), 'no-such-room');
      for (const [where, position] of [
        ['0', 0],
        ['1.5', 1.5],
        ['"5"', '5'],
        ['2^53', 2 ** 53],
      ] as const)
        expectErr(`position ${where}`, await a1.request('read.mark', { roomId, position }), 'BAD_REQUEST', 'data.position');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.stats, admin.retentionRuns', () => {
    let roomId: string;
    const today = () => new Date().toISOString().slice(0, 10);
    const expectStats = (where: string, s: any) => {
      expectFields(where, s, {
        roomId: 'stringOrNull',
        from: 'string',
        to: 'string',
        messages: 'integer',
        activeUsers: 'integer',
        days: 'array',
        topPosters: 'array',
        hours: 'array',
      });
      expect({ where, from: DAY.test(s.from), to: DAY.test(s.to), hours: s.hours.length }).toEqual({
        where,
        from: true,
        to: true,
        hours: 24,
      });
      s.days.forEach((x: any, i: number) => {
        expectFields(`${where}.days[${i}]`, x, { day: 'string', messages: 'integer', activeUsers: 'integer' });
        expect(x.day).toMatch(DAY);
      });
      s.topPosters.forEach((x: any, i: number) =>
        expectFields(`${where}.topPosters[${i}]`, x, { userId: 'uuid', username: 'string', messages: 'integer' }),
      );
      for (const h of s.hours) expect(Number.isInteger(h)).toBe(true);
    };

    beforeAll(async () => {
      roomId = rid('stats');
      await create(a1, { roomId, name: 'Stats' });
      await join(b, roomId);
      await join(c, roomId);
      expectOk('setRole', await a1.request('room.setRole', { roomId, userId: C.userId, role: 'admin' }));
      for (let i = 0; i < 3; i++) await send(a1, roomId, `stat a ${i}`);
      const gone = await send(b, roomId, 'stat b 0');
      await send(b, roomId, 'stat b 1');
      expectOk('delete', await b.request('message.delete', { roomId, messageId: gone.messageId }));
    });

    it('the owner: StatsView with 30 days by default ending today (UTC); deleted messages counted; top posters; hours', async () => {
      const s = await eventually(async () => {
        const x = expectOk('room.stats', await a1.request('room.stats', { roomId }));
        return x.messages === 5 ? x : undefined;
      });
      expectStats('room.stats', s);
      const to = today();
      const from = new Date(Date.parse(`${to}T00:00:00.000Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
      expect({ roomId: s.roomId, from: s.from, to: s.to, messages: s.messages, activeUsers: s.activeUsers, days: s.days.length }).toEqual({
        roomId,
        from,
        to,
        messages: 5,
        activeUsers: 2,
        days: 30,
      });
      // the document does not say in which order the days come; either end is taken
      console.log(`StatsView.days order as served: first ${s.days[0].day}, last ${s.days[s.days.length - 1].day}`);
      expect(s.days[s.days.length - 1].day === to || s.days[0].day === to).toBe(true);
      const t = s.days.find((x: any) => x.day === to);
      expect(t).toEqual({ day: to, messages: 5, activeUsers: 2 });
      expect(s.days.filter((x: any) => x.day !== to).every((x: any) => x.messages === 0 && x.activeUsers === 0)).toBe(true);
      expect(s.topPosters).toEqual([
        { userId: A.userId, username: 'Alice', messages: 3 },
        { userId: B.userId, username: 'Bob', messages: 2 },
      ]);
      expect(s.hours.reduce((x: number, y: number) => x + y, 0)).toBe(5);
      expect(s.hours[new Date().getUTCHours()] + s.hours[(new Date().getUTCHours() + 23) % 24]).toBe(5);
      // an explicit one-day range
      const one = expectOk('one day', await a1.request('room.stats', { roomId, from: to, to }));
      expectStats('room.stats one day', one);
      expect({ days: one.days, messages: one.messages }).toEqual({ days: [{ day: to, messages: 5, activeUsers: 2 }], messages: 5 });
    });

    it('who may: owner, admin, server administrator; a plain member FORBIDDEN; a non-member as for history.page; all rooms only for server administrators', async () => {
      expectStats('admin', expectOk('admin', await c.request('room.stats', { roomId })));
      expectStats('server admin', expectOk('server admin', await o.request('room.stats', { roomId })));
      expectErr('plain member', await b.request('room.stats', { roomId }), 'FORBIDDEN');
      expectErr('non-member of a public room', await d.request('room.stats', { roomId }), 'FORBIDDEN');
      expectHidden('missing room', await d.request('room.stats', { roomId: 'no-such-room' }), 'no-such-room');
      expectErr('all rooms, not an admin', await a1.request('room.stats', {}), 'FORBIDDEN');
      const all = expectOk('all rooms', await o.request('room.stats', {}));
      expectStats('all rooms', all);
      expect(all.roomId).toBeNull();
      expect(all.messages).toBeGreaterThanOrEqual(5);
      // a conversation: its participants
      const dm = expectOk('dm.send', await b.request('dm.send', { username: 'Carol', clientMsgId: cmid(), body: 'stats dm' }));
      const ds = await eventually(async () => {
        const x = expectOk('conversation stats', await c.request('room.stats', { roomId: dm.roomId }));
        return x.messages >= 1 ? x : undefined;
      });
      expectStats('conversation stats', ds);
      expectHidden('conversation, not a participant', await d.request('room.stats', { roomId: dm.roomId }), dm.roomId);
    });

    it('bad dates: BAD_REQUEST (format, from after to, more than 366 days)', async () => {
      const bad: [string, Record<string, unknown>][] = [
        ['from not a date', { from: '2026-13-01' }],
        ['to with a time', { to: '2026-01-01T00:00:00Z' }],
        ['from after to', { from: '2026-02-02', to: '2026-02-01' }],
        ['367 days', { from: '2025-01-01', to: '2026-01-03' }],
      ];
      for (const [where, data] of bad) expectErr(where, await a1.request('room.stats', { roomId, ...data }), 'BAD_REQUEST');
      const max = expectOk('366 days after from', await a1.request('room.stats', { roomId, from: '2025-01-01', to: '2026-01-02' }));
      expect(max.days).toHaveLength(367);
    });

    it('admin.retentionRuns: FORBIDDEN for a normal user; the last runs, newest first, for a server administrator', async () => {
      expectErr('normal user', await a1.request('admin.retentionRuns'), 'FORBIDDEN');
      const r = await eventually(async () => {
        const x = expectOk('admin.retentionRuns', await o.request('admin.retentionRuns'));
        return x.runs.length >= 2 && x.runs.every((y: any) => y.finishedAt !== null) ? x : undefined;
      }, 20_000);
      expectFields('admin.retentionRuns', r, { runs: 'array' });
      expect(r.runs.length).toBeLessThanOrEqual(20);
      r.runs.forEach((run: any, i: number) =>
        expectFields(`runs[${i}]`, run, {
          // the document gives no type for runId and rooms ("rooms that had messages removed"): a
          // string or integer id, and a count (integer) or a list are both taken
          runId: typeof run.runId === 'number' ? 'integer' : 'string',
          startedAt: 'time',
          finishedAt: 'timeOrNull',
          messagesRemoved: 'integer',
          rooms: Array.isArray(run.rooms) ? 'array' : 'integer',
          streamTrimmedBelow: 'integerOrNull',
          error: 'stringOrNull',
        }),
      );
      console.log(`RetentionRunView as served: ${JSON.stringify(r.runs[0])}`);
      // RETENTION_DEFAULT_DAYS is 0 (keep forever): the stream is not trimmed; nothing is old enough to expire
      expect(r.runs.map((x: any) => [x.streamTrimmedBelow, x.messagesRemoved, x.error])).toEqual(r.runs.map(() => [null, 0, null]));
      const starts = r.runs.map((x: any) => x.startedAt);
      expect(starts).toEqual([...starts].sort().reverse());
      expectErr('unknown field', await o.request('admin.retentionRuns', { limit: 5 }), 'BAD_REQUEST', 'data.limit');
    });
  });
});
