import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import type { MessageView, WsReplyFrame } from '@chat/contracts';
import { eventually } from '@chat/testing';
import { WebSocket } from 'ws';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(180_000);

/**
 * The walking skeleton end to end: five services as separate processes, two gateways, two
 * users driven over real WebSockets through register, login, join, send, receive, idempotent
 * resend, bad frames, history paging, and history after the history service is killed.
 */
describe('chat stack - end to end', () => {
  let stack: TestStack;
  let alice: ChatClient;
  let bob: ChatClient; // connected to the second gateway
  let aliceId: string;
  let bobId: string;

  const expectCode = async (p: Promise<unknown>, code: string) => {
    await expect(p).rejects.toMatchObject({ code });
  };

  beforeAll(async () => {
    stack = await startTestStack({ serviceEnv: { moderation: { BLOCKED_WORDS: 'badword,违禁' } } });
    // The second gateway heartbeats at the default interval (5 s; the fixture's 500 ms is for the
    // first), so that the SIGKILL test below proves the documented bound with the defaults.
    await stack.startExtra('gateway2', 'gateway', await freePort(), { GATEWAY_ID: 'gw2', PRESENCE_HEARTBEAT_MS: '5000' });
  });

  afterAll(async () => {
    await alice?.close().catch(() => undefined);
    await bob?.close().catch(() => undefined);
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history']));

  it('register and login - unique names after NFKC + case folding, Chinese names allowed', async () => {
    const a = await register(stack.urls.gateway, 'Alice', 'correct horse battery');
    const b = await register(stack.urls.gateway2, '小明', 'another good password');
    aliceId = a.user.userId;
    bobId = b.user.userId;
    await expectCode(register(stack.urls.gateway, 'ａｌｉｃｅ', 'whatever password'), 'USERNAME_TAKEN');
    await expectCode(login(stack.urls.gateway, 'alice', 'wrong password'), 'AUTH_FAILED');
    await expectCode(register(stack.urls.gateway, '', 'short'), 'BAD_REQUEST');

    const la = await login(stack.urls.gateway, 'ALICE', 'correct horse battery');
    const lb = await login(stack.urls.gateway2, '小明', 'another good password');
    expect(la.user).toEqual({ userId: aliceId, username: 'Alice' });
    alice = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false });
    bob = await ChatClient.connect(wsUrlOf(stack.urls.gateway2), { WebSocket, reconnect: false });
    expect((await alice.auth(la.accessToken)).user.userId).toBe(aliceId);
    expect((await bob.auth(lb.accessToken)).user.username).toBe('小明');
  });

  it('rooms - the default room is listed; both join; membership shows', async () => {
    const { rooms } = await alice.request('rooms.list', {});
    expect(rooms.find((r) => r.roomId === 'general')).toEqual(expect.objectContaining({ visibility: 'public', myRole: null }));
    await alice.request('room.join', { roomId: 'general' });
    const joined = await bob.request('room.join', { roomId: 'general' });
    expect(joined.room).toEqual(expect.objectContaining({ roomId: 'general', myRole: 'member', memberCount: 2 }));
    // Alice, on the other gateway, is told that Bob joined.
    await alice.waitFor('member.joined', (d) => d.userId === bobId && d.roomId === 'general');
    await expectCode(bob.request('room.join', { roomId: 'general' }), 'ALREADY_MEMBER');
    await expectCode(bob.request('room.join', { roomId: 'no-such-room' }), 'NOT_FOUND');
  });

  it('send - every member on every gateway receives the message once, with the acked id and position', async () => {
    const ack = await alice.request('message.send', { roomId: 'general', clientMsgId: 'hello-1', body: '你好，世界 👋' });
    expect(ack).toEqual(expect.objectContaining({ roomId: 'general', clientMsgId: 'hello-1', duplicate: false }));
    const atBob = await bob.waitForFrame('message.posted', (m) => m.messageId === ack.messageId);
    const atAlice = await alice.waitForFrame('message.posted', (m) => m.messageId === ack.messageId);
    for (const f of [atBob, atAlice]) {
      expect(f.position).toBe(ack.position);
      expect(f.data).toEqual(
        expect.objectContaining({ body: '你好，世界 👋', senderId: aliceId, senderName: 'Alice', position: ack.position }),
      );
    }
  });

  it('send - a retry with the same clientMsgId returns the same message and delivers nothing new', async () => {
    const first = await bob.request('message.send', { roomId: 'general', clientMsgId: 'retry-1', body: 'only once' });
    const retry = await bob.request('message.send', { roomId: 'general', clientMsgId: 'retry-1', body: 'only once' });
    expect(retry).toEqual({ ...first, duplicate: true });
    // A later message marks the point by which a duplicate delivery would have arrived.
    const marker = await bob.request('message.send', { roomId: 'general', clientMsgId: 'marker-1', body: 'marker' });
    await alice.waitFor('message.posted', (m) => m.messageId === marker.messageId);
    expect(alice.events('message.posted').filter((f) => f.data.clientMsgId === 'retry-1')).toHaveLength(1);
    expect(bob.events('message.posted').filter((f) => f.data.clientMsgId === 'retry-1')).toHaveLength(1);
  });

  it('send - refused with typed errors: blocked word, hidden room, not a member, bad data', async () => {
    await expectCode(alice.request('message.send', { roomId: 'general', clientMsgId: 'bw-1', body: '这是违禁内容' }), 'CONTENT_BLOCKED');
    const created = await alice.request('room.create', { roomId: 'alice-only', name: 'Alice only', visibility: 'private' });
    expect(created.room.myRole).toBe('owner');
    // A private room is, for an outsider, a room that does not exist.
    await expectCode(bob.request('message.send', { roomId: 'alice-only', clientMsgId: 'nm-1', body: 'let me in' }), 'NOT_FOUND');
    await expectCode(bob.request('room.join', { roomId: 'alice-only' }), 'NOT_FOUND');
    await expectCode(bob.request('history.page', { roomId: 'alice-only' }), 'NOT_FOUND');
    // A public room: not a member until joined.
    await alice.request('room.create', { roomId: 'alice-public', name: 'Alice public' });
    await expectCode(bob.request('message.send', { roomId: 'alice-public', clientMsgId: 'nm-2', body: 'hello?' }), 'NOT_MEMBER');
    await expectCode(bob.request('history.page', { roomId: 'alice-public' }), 'FORBIDDEN');
    await expectCode(alice.request('message.send', { roomId: 'general', clientMsgId: 'has spaces', body: 'x' }), 'BAD_REQUEST');
  });

  it('bad frames - typed errors, and the connection keeps working', async () => {
    const replies: WsReplyFrame[] = [];
    bob.sendRaw('this is not json');
    replies.push(await bob.nextReply());
    bob.sendRaw(JSON.stringify({ type: 'req', id: 'u1', op: 'no.such.op' }));
    replies.push(await bob.nextReply());
    bob.sendRaw(JSON.stringify({ type: 'req', id: 'big', op: 'ping', data: { pad: 'x'.repeat(70 * 1024) } }));
    replies.push(await bob.nextReply());
    bob.sendRaw(JSON.stringify({ type: 'req', id: 'v1', op: 'room.join', data: { roomId: 'Bad Room!' } }));
    replies.push(await bob.nextReply());
    bob.sendRaw(Buffer.from([1, 2, 3]));
    replies.push(await bob.nextReply());
    expect(replies.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'BAD_REQUEST',
      'UNKNOWN_OP',
      'FRAME_TOO_LARGE',
      'BAD_REQUEST',
      'BAD_REQUEST',
    ]);
    expect(replies[1].id).toBe('u1');
    expect(bob.isOpen).toBe(true);
    expect(await bob.request('ping', {})).toEqual({ time: expect.any(String) });
  });

  it('history - newest page, then older pages by cursor, in order and complete', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 120; i++) {
      const ack = await alice.request('message.send', { roomId: 'general', clientMsgId: `h-${i}`, body: `history ${i}` });
      sent.push(ack.messageId);
    }
    const last = sent[sent.length - 1];
    const all = await eventually(async () => {
      const got = await readAll(bob, 'general');
      return got.some((m) => m.messageId === last) ? got : null;
    }, 30_000);
    const ids = all.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    const positions = all.map((m) => m.position);
    expect(positions).toEqual([...positions].sort((x, y) => y - x));
    const order = sent.map((id) => ids.indexOf(id));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((x, y) => y - x)); // newest first
    expect(all.length).toBe(120 + 3); // plus hello-1, retry-1, marker-1
  });

  it('history - survives a crash of the history service; what was sent meanwhile is projected after', async () => {
    await stack.stop('history', 'SIGKILL');
    const during = await alice.request('message.send', {
      roomId: 'general',
      clientMsgId: 'while-down',
      body: 'sent while history was down',
    });
    await expectCode(bob.request('history.page', { roomId: 'general' }, { timeoutMs: 20_000 }), 'UNAVAILABLE');
    await stack.start('history');
    const page = await eventually(async () => {
      const p = await bob.request('history.page', { roomId: 'general', limit: 5 });
      return p.messages[0]?.messageId === during.messageId ? p : null;
    }, 30_000);
    expect(page.messages[0]).toEqual(expect.objectContaining({ body: 'sent while history was down', position: during.position }));
    const all = await readAll(bob, 'general');
    expect(all.length).toBe(124);
    expect(new Set(all.map((m) => m.messageId)).size).toBe(124);
  });

  // Alice and Bob are the only members of 'general' here, a room within PRESENCE_FANOUT_MAX_MEMBERS
  // (default 1000): they are each other's contacts, so each is pushed the other's changes.
  it('presence - both online; a closed connection shows offline to the other', async () => {
    const online = await eventually(async () => {
      const { users } = await alice.request('presence.contacts', {});
      const ids = users.map((u) => u.userId);
      return ids.includes(aliceId) && ids.includes(bobId) ? users : null;
    });
    expect(online.find((u) => u.userId === bobId)).toEqual(expect.objectContaining({ username: '小明', status: 'online' }));
    // Listing everyone present is for server administrators (SERVER_ADMINS), which Alice is not.
    await expectCode(alice.request('presence.list', {}), 'FORBIDDEN');
    await bob.request('presence.set', { status: 'busy' });
    await alice.waitFor('presence.changed', (p) => p.userId === bobId && p.status === 'busy');
    await bob.close();
    await alice.waitFor('presence.changed', (p) => p.userId === bobId && p.status === 'offline');
  });

  it('presence - users of a SIGKILLed gateway go offline for a contact on another gateway within the documented 30 s', async () => {
    const lb = await login(stack.urls.gateway2, '小明', 'another good password');
    const seen = alice.events('presence.changed').length;
    bob = await ChatClient.connect(wsUrlOf(stack.urls.gateway2), { WebSocket, reconnect: false });
    await bob.auth(lb.accessToken);
    // Bob's choice is still busy (it belongs to the user, kept across connections).
    await eventually(() =>
      alice
        .events('presence.changed')
        .slice(seen)
        .some((f) => f.data.userId === bobId && f.data.status === 'busy'),
    );
    const before = alice.events('presence.changed').length;
    await stack.stop('gateway2', 'SIGKILL');
    // No closing handshake reaches anyone: only the missed heartbeats of gateway2 (default 5 s
    // interval: 3 missed + the 1 s expiry check = 16 s after its last beat) tell presence. The
    // deadline is the documented bound for an abnormal disconnect with the default settings.
    await eventually(
      () =>
        alice
          .events('presence.changed')
          .slice(before)
          .some((f) => f.data.userId === bobId && f.data.status === 'offline'),
      30_000,
    );
  });
});

async function readAll(client: ChatClient, roomId: string): Promise<MessageView[]> {
  const out: MessageView[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history.page', before ? { roomId, before, limit: 50 } : { roomId, limit: 50 });
    out.push(...page.messages);
    if (page.nextBefore === null) return out;
    before = page.nextBefore;
  }
}
