import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import type { ErrorBody, MessageView, WsEventFrame } from '@chat/contracts';
import { WebSocket } from 'ws';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(240_000);

/**
 * The room and conversation rules over the whole stack (five services as processes, two
 * gateways): private rooms are invisible on every path, invitations arrive live on the other
 * gateway, a kick racing a stream of posts never leaves a post of the kicked member in
 * history, and a private conversation stays between its two participants whatever ids an
 * outsider forges.
 */
describe('rooms and conversations - end to end', () => {
  let stack: TestStack;
  const clients: ChatClient[] = [];
  const users: Record<string, { userId: string; username: string; client: ChatClient; token: string; url: string }> = {};

  const connect = async (name: string, url: string) => {
    await register(url, name, `password of ${name}`);
    const r = await login(url, name, `password of ${name}`);
    const client = await ChatClient.connect(wsUrlOf(url), { WebSocket, reconnect: false, eventHistory: 100_000 });
    await client.auth(r.accessToken);
    clients.push(client);
    users[name] = { userId: r.user.userId, username: r.user.username, client, token: r.accessToken, url };
    return users[name];
  };

  /** The error a request fails with (or a failure if it succeeds). */
  const refusal = async (p: Promise<unknown>): Promise<ErrorBody> => {
    try {
      await p;
    } catch (err) {
      const e = err as { code: string; message: string };
      return { code: e.code as ErrorBody['code'], message: e.message };
    }
    throw new Error('expected a refusal, got a reply');
  };

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.startExtra('gateway2', 'gateway', await freePort(), { GATEWAY_ID: 'gw2' });
    await connect('owner', stack.urls.gateway);
    await connect('bob', stack.urls.gateway2);
    await connect('carol', stack.urls.gateway);
    await connect('eve', stack.urls.gateway2);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'gateway2', 'rooms', 'history']));

  it('a private room answers an outsider exactly as a room that does not exist, on every path', async () => {
    const { owner, eve } = users;
    await owner.client.request('room.create', { roomId: 'secret', name: '机密', visibility: 'private' });
    await owner.client.request('message.send', { roomId: 'secret', clientMsgId: 's-1', body: 'hidden' });
    const probes = (roomId: string) => [
      eve.client.request('room.details', { roomId }),
      eve.client.request('room.members', { roomId }),
      eve.client.request('history.page', { roomId }),
      eve.client.request('room.join', { roomId }),
      eve.client.request('message.send', { roomId, clientMsgId: 'x-1', body: 'hi' }),
      eve.client.request('room.leave', { roomId }),
      eve.client.request('room.bans', { roomId }),
    ];
    const hidden = await Promise.all(probes('secret').map(refusal));
    const missing = await Promise.all(probes('nothing-here').map(refusal));
    const anonymised = (e: ErrorBody) => ({ code: e.code, message: e.message.replace('nothing-here', 'secret') });
    expect(hidden.map((e) => e.code)).toEqual(hidden.map(() => 'NOT_FOUND'));
    expect(hidden).toEqual(missing.map(anonymised));
    const dir = await eve.client.request('room.directory', { query: '机密' });
    expect(dir.rooms.map((r) => r.roomId)).not.toContain('secret');
  });

  it('an invitation reaches the invitee live on another gateway; accepting makes them a member who receives the room', async () => {
    const { owner, bob } = users;
    const invited = bob.client.waitFor('invitation.received', (i) => i.roomId === 'secret');
    await owner.client.request('room.invite', { roomId: 'secret', username: 'BOB' });
    expect(await invited).toEqual(
      expect.objectContaining({ roomId: 'secret', roomName: '机密', invitedBy: { userId: owner.userId, username: 'owner' } }),
    );
    expect((await bob.client.request('invitation.list', {})).invitations.map((i) => i.roomId)).toEqual(['secret']);
    const joinedSeen = owner.client.waitFor('member.joined', (m) => m.roomId === 'secret' && m.userId === bob.userId);
    const ack = await bob.client.request('invitation.accept', { roomId: 'secret' });
    expect(ack.room.myRole).toBe('member');
    await joinedSeen;
    const sent = await owner.client.request('message.send', { roomId: 'secret', clientMsgId: 's-2', body: 'welcome' });
    await bob.client.waitFor('message.posted', (m) => m.messageId === sent.messageId);
    const page = await bob.client.request('history.page', { roomId: 'secret' });
    expect(page.messages.map((m) => m.body)).toEqual(['welcome', 'hidden']);
  });

  it('a kick racing a stream of posts never leaves a post of the kicked member in history, and stops delivery at once', async () => {
    const { owner, carol, bob } = users;
    await owner.client.request('room.create', { roomId: 'race', name: 'Race' });
    await carol.client.request('room.join', { roomId: 'race' });
    await bob.client.request('room.join', { roomId: 'race' });
    let stop = false;
    const accepted: number[] = [];
    const refused: string[] = [];
    const poster = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        // Several in flight at once, so some are decided before the kick and appended after it.
        const batch = await Promise.allSettled(
          [0, 1, 2, 3].map((k) =>
            carol.client.request('message.send', { roomId: 'race', clientMsgId: `p-${i}-${k}`, body: `post ${i}.${k}` }),
          ),
        );
        for (const r of batch) {
          if (r.status === 'fulfilled') accepted.push(r.value.position);
          else refused.push((r.reason as { code: string }).code);
        }
        if (refused.length) break;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const kick = await owner.client.request('room.kick', { roomId: 'race', userId: carol.userId, reason: 'race' });
    await carol.client.waitFor('member.kicked', (k) => k.roomId === 'race' && k.userId === carol.userId);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await poster;
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(['NOT_MEMBER']));

    // History (read by a member) holds carol's posts only from before the kick.
    const all: MessageView[] = [];
    for (let before: number | undefined; ;) {
      const page = await bob.client.request(
        'history.page',
        before ? { roomId: 'race', before, limit: 100 } : { roomId: 'race', limit: 100 },
      );
      all.push(...page.messages);
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    const fromCarol = all.filter((m) => m.senderId === carol.userId);
    expect(fromCarol.length).toBeGreaterThan(0);
    expect(fromCarol.filter((m) => m.position > kick.position)).toEqual([]);
    // Carol's connection got nothing of the room after her kick.
    const carolFrames = carol.client.received.filter(
      (f): f is WsEventFrame => f.type === 'evt' && (f.data as { roomId?: string }).roomId === 'race',
    );
    expect(carolFrames.filter((f) => f.position > kick.position && f.event !== 'member.kicked')).toEqual([]);
  });

  it('settings, roles and ownership reach every member live on both gateways; the owner leaving hands the room on', async () => {
    const { owner, bob, carol } = users;
    await owner.client.request('room.create', { roomId: 'club', name: 'Club', memberLimit: 10 });
    await bob.client.request('room.join', { roomId: 'club' });
    await carol.client.request('room.join', { roomId: 'club' });
    const updated = bob.client.waitFor('room.updated', (u) => u.roomId === 'club' && u.topic === '公告');
    await owner.client.request('room.update', { roomId: 'club', topic: '公告', postPolicy: 'admins' });
    expect(await updated).toEqual(
      expect.objectContaining({ name: 'Club', postPolicy: 'admins', by: { userId: owner.userId, username: 'owner' } }),
    );
    // An announcement room: members read, admins post.
    expect((await refusal(carol.client.request('message.send', { roomId: 'club', clientMsgId: 'a-1', body: 'me too' }))).code).toBe(
      'FORBIDDEN',
    );
    const promoted = carol.client.waitFor('member.role', (r) => r.roomId === 'club' && r.userId === bob.userId);
    await owner.client.request('room.setRole', { roomId: 'club', userId: bob.userId, role: 'admin' });
    expect((await promoted).role).toBe('admin');
    await bob.client.request('message.send', { roomId: 'club', clientMsgId: 'a-2', body: 'admins speak' });
    // An admin may not promote; only the owner may.
    expect((await refusal(bob.client.request('room.setRole', { roomId: 'club', userId: carol.userId, role: 'admin' }))).code).toBe(
      'FORBIDDEN',
    );
    const transferred = carol.client.waitFor('room.owner', (o) => o.roomId === 'club');
    await owner.client.request('room.transfer', { roomId: 'club', userId: bob.userId });
    expect(await transferred).toEqual(
      expect.objectContaining({ userId: bob.userId, previous: { userId: owner.userId, username: 'owner' } }),
    );
    expect((await owner.client.request('room.details', { roomId: 'club' })).myRole).toBe('admin');
    // Bob (owner now) leaves: the longest-standing admin (the old owner) takes over.
    const left = carol.client.waitFor('member.left', (l) => l.roomId === 'club' && l.userId === bob.userId);
    await bob.client.request('room.leave', { roomId: 'club' });
    expect((await left).newOwner).toEqual({ userId: owner.userId, username: 'owner' });
    const members = await carol.client.request('room.members', { roomId: 'club' });
    expect(members.members.map((m) => [m.username, m.role])).toEqual([
      ['owner', 'owner'],
      ['carol', 'member'],
    ]);
  });

  it('a ban removes the member at once on every connection, refuses their return until unbanned; a declined invitation is seen live', async () => {
    const { owner, bob, eve } = users;
    await owner.client.request('room.create', { roomId: 'guarded', name: 'Guarded' });
    await eve.client.request('room.join', { roomId: 'guarded' });
    await bob.client.request('room.join', { roomId: 'guarded' });
    const banned = eve.client.waitFor('member.banned', (b) => b.roomId === 'guarded' && b.userId === eve.userId);
    const seenByBob = bob.client.waitFor('member.banned', (b) => b.roomId === 'guarded' && b.userId === eve.userId);
    const ban = await owner.client.request('room.ban', { roomId: 'guarded', userId: eve.userId, reason: 'spam' });
    expect((await banned).reason).toBe('spam');
    await seenByBob;
    const after = await owner.client.request('message.send', { roomId: 'guarded', clientMsgId: 'g-1', body: 'after the ban' });
    await bob.client.waitFor('message.posted', (m) => m.messageId === after.messageId);
    const eveFrames = eve.client.received.filter(
      (f): f is WsEventFrame => f.type === 'evt' && (f.data as { roomId?: string }).roomId === 'guarded' && f.position > ban.position,
    );
    expect(eveFrames).toEqual([]);
    expect((await refusal(eve.client.request('room.join', { roomId: 'guarded' }))).code).toBe('BANNED');
    expect((await refusal(owner.client.request('room.invite', { roomId: 'guarded', username: 'eve' }))).code).toBe('BANNED');
    expect((await owner.client.request('room.bans', { roomId: 'guarded' })).bans.map((b) => [b.userId, b.reason])).toEqual([
      [eve.userId, 'spam'],
    ]);
    await owner.client.request('room.unban', { roomId: 'guarded', userId: eve.userId });
    await eve.client.request('room.join', { roomId: 'guarded' });

    await owner.client.request('room.create', { roomId: 'maybe', name: 'Maybe', visibility: 'private' });
    const invited = bob.client.waitFor('invitation.received', (i) => i.roomId === 'maybe');
    await owner.client.request('room.invite', { roomId: 'maybe', username: 'bob' });
    await invited;
    const declined = owner.client.waitFor('invitation.declined', (d) => d.roomId === 'maybe' && d.userId === bob.userId);
    await bob.client.request('invitation.decline', { roomId: 'maybe' });
    await declined;
    expect((await bob.client.request('invitation.list', {})).invitations.map((i) => i.roomId)).not.toContain('maybe');
    expect((await refusal(bob.client.request('invitation.accept', { roomId: 'maybe' }))).code).toBe('NOT_FOUND');
  });

  it('the owner deletes a room: members are told, and it is gone for everyone; the default room cannot be deleted', async () => {
    const { owner, bob } = users;
    await owner.client.request('room.create', { roomId: 'doomed', name: 'Doomed' });
    await bob.client.request('room.join', { roomId: 'doomed' });
    const deleted = bob.client.waitFor('room.deleted', (d) => d.roomId === 'doomed');
    await owner.client.request('room.delete', { roomId: 'doomed' });
    expect((await deleted).reason).toBe('owner');
    for (const p of [bob.client.request('history.page', { roomId: 'doomed' }), bob.client.request('room.details', { roomId: 'doomed' })])
      expect((await refusal(p)).code).toBe('NOT_FOUND');
    expect((await refusal(owner.client.request('room.create', { roomId: 'doomed', name: 'Again' }))).code).toBe('CONFLICT');
    await owner.client.request('room.join', { roomId: 'general' }).catch(() => undefined);
    expect((await refusal(owner.client.request('room.delete', { roomId: 'general' }))).code).toBe('FORBIDDEN');
  });

  it('a private conversation: opened by the first message, live on the other gateway, listed for both, invisible to anyone else', async () => {
    const { owner, bob, eve } = users;
    const opened = bob.client.waitFor('conversation.opened', (c) => c.peer.userId === owner.userId);
    const ack = await owner.client.request('dm.send', { username: 'bob', clientMsgId: 'dm-1', body: '你好 Bob' });
    const conv = await opened;
    expect(conv.roomId).toBe(ack.roomId);
    await bob.client.waitFor('message.posted', (m) => m.messageId === ack.messageId);
    for (const [me, peer] of [
      [owner, bob],
      [bob, owner],
    ]) {
      const { conversations } = await me.client.request('dm.list', {});
      expect(conversations).toEqual([
        expect.objectContaining({
          roomId: ack.roomId,
          peer: { userId: peer.userId, username: peer.username },
          lastMessage: expect.objectContaining({ body: '你好 Bob' }),
        }),
      ]);
    }
    // Whatever an outsider forges, the conversation does not exist for them.
    for (const p of [
      eve.client.request('history.page', { roomId: ack.roomId }),
      eve.client.request('message.send', { roomId: ack.roomId, clientMsgId: 'f-1', body: 'let me in' }),
      eve.client.request('room.details', { roomId: ack.roomId }),
      eve.client.request('room.join', { roomId: ack.roomId }),
      eve.client.request('room.members', { roomId: ack.roomId }),
    ])
      expect((await refusal(p)).code).toBe('NOT_FOUND');
    expect((await eve.client.request('dm.list', {})).conversations).toEqual([]);
  });

  it('blocking refuses private messages both ways and invitations from the blocked user; unblocking restores them', async () => {
    const { owner, bob } = users;
    await bob.client.request('user.block', { userId: owner.userId });
    expect((await bob.client.request('user.blocks', {})).blocks.map((b) => b.userId)).toEqual([owner.userId]);
    expect((await refusal(owner.client.request('dm.send', { username: 'bob', clientMsgId: 'dm-2', body: 'hello?' }))).code).toBe('BLOCKED');
    await owner.client.request('room.create', { roomId: 'after-block', name: 'After', visibility: 'private' });
    expect((await refusal(owner.client.request('room.invite', { roomId: 'after-block', username: 'bob' }))).code).toBe('BLOCKED');
    await bob.client.request('user.unblock', { userId: owner.userId });
    await owner.client.request('dm.send', { username: 'bob', clientMsgId: 'dm-3', body: 'again' });
    await owner.client.request('room.invite', { roomId: 'after-block', username: 'bob' });
  });

  it('a message to an offline user waits in history and is there on their next connection', async () => {
    const { owner, carol } = users;
    await carol.client.close();
    const ack = await owner.client.request('dm.send', { username: 'carol', clientMsgId: 'off-1', body: 'while you were away' });
    const again = await login(carol.url, 'carol', 'password of carol');
    const client = await ChatClient.connect(wsUrlOf(carol.url), { WebSocket, reconnect: false });
    clients.push(client);
    await client.auth(again.accessToken);
    const { conversations } = await client.request('dm.list', {});
    expect(conversations.find((c) => c.roomId === ack.roomId)?.lastMessage?.body).toBe('while you were away');
    const page = await client.request('history.page', { roomId: ack.roomId });
    expect(page.messages.map((m) => m.messageId)).toEqual([ack.messageId]);
  });
});
