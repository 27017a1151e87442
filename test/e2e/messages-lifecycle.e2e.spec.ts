import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import type { ErrorBody, MessageView } from '@chat/contracts';
import { eventually } from '@chat/testing';
import { WebSocket } from 'ws';
import { printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(240_000);

/**
 * Issue 7, the message lifecycle over the whole stack: what the rooms service decides (mentions,
 * replies, edits, reactions, deletions, retention) reaches the other members live through the
 * gateway, and history shows the message as it is now. The second test needs the history
 * service's `history.message` and its projection of the new events.
 */
describe('message lifecycle - end to end', () => {
  let stack: TestStack;
  const clients: ChatClient[] = [];
  const users: Record<string, { userId: string; username: string; client: ChatClient }> = {};
  const R = 'garden';

  const connect = async (name: string) => {
    await register(stack.urls.gateway, name, `password of ${name}`);
    const r = await login(stack.urls.gateway, name, `password of ${name}`);
    const client = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false, eventHistory: 10_000 });
    await client.auth(r.accessToken);
    clients.push(client);
    users[name] = { userId: r.user.userId, username: r.user.username, client };
    return users[name];
  };

  const refusal = async (p: Promise<unknown>): Promise<ErrorBody['code']> => {
    try {
      await p;
    } catch (err) {
      return (err as { code: ErrorBody['code'] }).code;
    }
    throw new Error('expected a refusal, got a reply');
  };

  beforeAll(async () => {
    stack = await startTestStack({ serviceEnv: { rooms: { SERVER_ADMINS: 'Ops' } } });
    for (const name of ['amy', 'ben', '张三', 'ops']) await connect(name);
    await users.amy.client.request('room.create', { roomId: R, name: 'Garden' });
    for (const name of ['ben', '张三']) await users[name].client.request('room.join', { roomId: R });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history']));

  it('mentions reach the members with the message; the retention period is set by an admin and shown to members', async () => {
    const { amy, ben } = users;
    const ack = await ben.client.request('message.send', {
      roomId: R,
      clientMsgId: 'm-1',
      body: 'hey @AMY and @张三你好, mail me@amy.org; @ops is not here',
    });
    const posted = await amy.client.waitFor('message.posted', (m) => m.messageId === ack.messageId);
    expect(posted.mentions).toEqual([
      { userId: amy.userId, username: 'amy' },
      { userId: users['张三'].userId, username: '张三' },
    ]);
    expect(posted.replyTo).toBeNull();

    expect(await refusal(ben.client.request('room.setRetention', { roomId: R, days: 30 }))).toBe('FORBIDDEN');
    const set = await amy.client.request('room.setRetention', { roomId: R, days: 30 });
    expect(set).toEqual({ roomId: R, position: expect.any(Number), days: 30 });
    const told = await ben.client.waitFor('room.retention', (e) => e.roomId === R);
    expect(told).toEqual(expect.objectContaining({ days: 30, by: { userId: amy.userId, username: 'amy' } }));
    expect((await ben.client.request('room.details', { roomId: R })).retentionDays).toBe(30);
  });

  it('reply, edit, reaction and deletion reach the members live, and history shows the message as it is now', async () => {
    const { amy, ben, ops } = users;
    const original = await amy.client.request('message.send', { roomId: R, clientMsgId: 'o-1', body: 'the roses are out' });
    // A reply may come before history has projected the message: rooms asks again briefly.
    const reply = await ben.client.request('message.send', { roomId: R, clientMsgId: 'r-1', body: 'lovely', replyTo: original.messageId });
    const replied = await amy.client.waitFor('message.posted', (m) => m.messageId === reply.messageId);
    expect(replied.replyTo).toEqual({
      messageId: original.messageId,
      position: original.position,
      senderId: amy.userId,
      senderName: 'amy',
      excerpt: 'the roses are out',
    });

    expect(await refusal(ben.client.request('message.edit', { roomId: R, messageId: original.messageId, body: 'x' }))).toBe('FORBIDDEN');
    await amy.client.request('message.edit', { roomId: R, messageId: original.messageId, body: 'the roses are out, @ben' });
    const edited = await ben.client.waitFor('message.edited', (e) => e.messageId === original.messageId);
    expect(edited).toEqual(
      expect.objectContaining({ body: 'the roses are out, @ben', mentions: [{ userId: ben.userId, username: 'ben' }] }),
    );

    await ben.client.request('reaction.add', { roomId: R, messageId: original.messageId, emoji: '🌹' });
    await amy.client.waitFor('reaction.added', (e) => e.messageId === original.messageId && e.userId === ben.userId);

    // A server administrator who is not a member deletes the reply.
    await ops.client.request('message.delete', { roomId: R, messageId: reply.messageId });
    const deleted = await amy.client.waitFor('message.deleted', (e) => e.messageId === reply.messageId);
    expect(deleted).toEqual(expect.objectContaining({ by: { userId: ops.userId, username: 'ops' }, reason: 'moderator' }));

    await eventually(async () => {
      const page = await amy.client.request('history.page', { roomId: R });
      const byId = new Map<string, MessageView>(page.messages.map((m) => [m.messageId, m]));
      expect(byId.get(original.messageId)).toEqual(
        expect.objectContaining({
          body: 'the roses are out, @ben',
          editedAt: expect.any(String),
          reactions: [{ emoji: '🌹', count: 1, userIds: [ben.userId] }],
        }),
      );
      expect(byId.get(reply.messageId)).toEqual(expect.objectContaining({ body: '', replyTo: null, deleted: expect.any(Object) }));
      return true;
    });
    // Deleted: gone for good.
    expect(await refusal(ben.client.request('message.delete', { roomId: R, messageId: reply.messageId }))).toBe('NOT_FOUND');
  });
});
