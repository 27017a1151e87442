import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { eventually } from '@chat/testing';
import { WebSocket } from 'ws';
import { printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(120_000);

/**
 * The shipped moderation subscribers in the whole stack (built services as processes): their
 * verdicts reach users through the real rooms, history and gateway. Low thresholds for this
 * stack only (the fixture's defaults keep them out of the other tests' way).
 */
describe('moderation subscribers - end to end', () => {
  let stack: TestStack;
  const clients: ChatClient[] = [];

  async function user(name: string): Promise<{ client: ChatClient; userId: string }> {
    await register(stack.urls.gateway, name, 'a good long password');
    const l = await login(stack.urls.gateway, name, 'a good long password');
    const client = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false });
    clients.push(client);
    await client.auth(l.accessToken);
    await client.request('room.join', { roomId: 'general' });
    return { client, userId: l.user.userId };
  }

  beforeAll(async () => {
    stack = await startTestStack({
      serviceEnv: {
        moderation: {
          MOD_LINK_SPAM_LINKS: '3',
          MOD_NEW_ACCOUNT_MESSAGES: '3',
          MOD_NEW_ACCOUNT_WINDOW_S: '600',
          MOD_NEW_ACCOUNT_MUTE_S: '600',
        },
      },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['moderation', 'rooms']));

  it('link-spam: the message with the third link is deleted for everyone, by the moderation service', async () => {
    const spammer = await user('linky');
    const reader = await user('reader');
    await spammer.client.request('message.send', { roomId: 'general', clientMsgId: 'l1', body: 'see a.com' });
    await spammer.client.request('message.send', { roomId: 'general', clientMsgId: 'l2', body: 'and https://b.net/x' });
    const third = await spammer.client.request('message.send', { roomId: 'general', clientMsgId: 'l3', body: '还有 ｃ．ｃｏｍ' });
    const deleted = await reader.client.waitFor('message.deleted', (d) => d.messageId === third.messageId);
    expect(deleted).toMatchObject({ roomId: 'general', reason: 'moderator', by: { username: 'moderation' } });
    // History shows the tombstone; the first two stay (a page is newest first).
    const page = await eventually(async () => {
      const p = await reader.client.request('history.page', { roomId: 'general' });
      return p.messages.find((m) => m.messageId === third.messageId)?.deleted ? p : null;
    });
    expect(page.messages.filter((m) => m.senderId === spammer.userId && !m.deleted).map((m) => m.body)).toEqual([
      'and https://b.net/x',
      'see a.com',
    ]);
  });

  it('new-account-flood: a new account posting past the limit is muted server-wide, told so, and refused MUTED', async () => {
    const flooder = await user('floody');
    for (let i = 0; i < 4; i++) await flooder.client.request('message.send', { roomId: 'general', clientMsgId: `f${i}`, body: `hi ${i}` });
    const muted = await flooder.client.waitFor('moderation.muted', (m) => m.userId === flooder.userId);
    expect(muted).toMatchObject({
      roomId: null,
      by: null,
      rule: 'new-account-flood',
      reason: 'new account flood: 4 messages within 600 s',
    });
    // The send path refuses the next message until the mute ends.
    const next = flooder.client.request('message.send', { roomId: 'general', clientMsgId: 'f-after', body: 'still here?' });
    await expect(next).rejects.toMatchObject({ code: 'MUTED' });
  });
});
