import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { WebSocket } from 'ws';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(180_000);

/**
 * Live delivery of room and conversation events across two gateways, through the real rooms
 * service and its notifier: an invitation reaches the invitee on the other gateway, accepting
 * it makes their connections follow the room, a kick stops delivery at once, and a first
 * private message opens the conversation live on the peer's gateway.
 */
describe('fan-out - room and conversation events across gateways, end to end', () => {
  let stack: TestStack;
  const clients: ChatClient[] = [];

  async function user(name: string, gateway: string) {
    const { user } = await register(stack.urls[gateway], name, 'a good password');
    const { accessToken } = await login(stack.urls[gateway], name, 'a good password');
    const c = await ChatClient.connect(wsUrlOf(stack.urls[gateway]), { WebSocket, reconnect: false });
    clients.push(c);
    await c.auth(accessToken);
    return { user, c };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.startExtra('gateway2', 'gateway', await freePort(), { GATEWAY_ID: 'gw2' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'gateway2', 'rooms']));

  it('invite, accept, kick: live on the other gateway, and nothing of the room after the kick', async () => {
    const owner = await user('Olive', 'gateway');
    const guest = await user('Ivan', 'gateway2');
    await owner.c.request('room.join', { roomId: 'general' });
    await guest.c.request('room.join', { roomId: 'general' });
    await owner.c.request('room.create', { roomId: 'club', name: 'The Club', visibility: 'private' });

    await owner.c.request('room.invite', { roomId: 'club', username: 'Ivan' });
    const invitation = await guest.c.waitFor('invitation.received', (d) => d.roomId === 'club');
    expect(invitation).toEqual(expect.objectContaining({ roomName: 'The Club', invitedBy: owner.user }));
    await owner.c.waitFor('member.invited', (d) => d.roomId === 'club' && d.userId === guest.user.userId);

    await guest.c.request('invitation.accept', { roomId: 'club' });
    await owner.c.waitFor('member.joined', (d) => d.roomId === 'club' && d.userId === guest.user.userId);
    const welcome = await owner.c.request('message.send', { roomId: 'club', clientMsgId: 'welcome', body: 'welcome' });
    await guest.c.waitFor('message.posted', (d) => d.messageId === welcome.messageId);

    await owner.c.request('room.kick', { roomId: 'club', userId: guest.user.userId, reason: 'testing' });
    const kicked = await guest.c.waitFor('member.kicked', (d) => d.roomId === 'club');
    expect(kicked).toEqual(expect.objectContaining({ userId: guest.user.userId, by: owner.user, reason: 'testing' }));
    const secret = await owner.c.request('message.send', { roomId: 'club', clientMsgId: 'secret', body: 'after the kick' });
    const marker = await owner.c.request('message.send', { roomId: 'general', clientMsgId: 'marker', body: 'marker' });
    await guest.c.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    expect(guest.c.events('message.posted').map((f) => f.data.messageId)).not.toContain(secret.messageId);
    // A private room is hidden from a non-member: the history service answers NOT_FOUND.
    await expect(guest.c.request('history.page', { roomId: 'club' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a first private message opens the conversation live on the peer gateway, then its messages arrive', async () => {
    const a = await user('Ada', 'gateway');
    const b = await user('Bob', 'gateway2');
    const ack = await a.c.request('dm.send', { username: 'Bob', clientMsgId: 'first', body: 'hi Bob' });
    const opened = await b.c.waitFor('conversation.opened', (d) => d.roomId === ack.roomId);
    expect(opened.peer).toEqual(a.user);
    await b.c.waitFor('message.posted', (d) => d.messageId === ack.messageId);
    // The sender's connections follow the conversation too: the reply arrives live.
    const back = await b.c.request('message.send', { roomId: ack.roomId, clientMsgId: 'back', body: 'hi Ada' });
    await a.c.waitFor('message.posted', (d) => d.messageId === back.messageId);
    expect((await a.c.waitFor('conversation.opened', (d) => d.roomId === ack.roomId)).peer).toEqual(b.user);
  });
});
