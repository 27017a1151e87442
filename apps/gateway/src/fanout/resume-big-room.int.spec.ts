import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createSubjects,
  makeEvent,
  type ChatEvent,
  type MemberBanned,
  type MemberJoined,
  type Subjects,
  type UserView,
  type WsEventFrame,
} from '@chat/contracts';
import { ChatClient, wsUrlOf } from '@chat/client';
import { connectNats } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import { WebSocket } from 'ws';
import { startFakeNotifier } from '../testing/fake-notifier';
import { answerUserRooms, appendPost, registerMember, serviceCtx } from '../testing/rooms-stand-in';
import { startTestGateway } from '../testing/test-gateway';
import { isChatEvent } from './resume';

jest.setTimeout(120_000);

/**
 * Resume in a room with a long membership history: a user banned while away must still get the
 * room's events up to (and including) the ban, whatever number of membership events the room
 * had before the user joined it (docs/protocol.md "Resuming": rooms the user was removed from
 * after resumeFrom are replayed up to and including the removal).
 */
describe('resume - a ban while away in a room with more than 2000 earlier membership events', () => {
  let gw: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const memberships = new Map<string, Set<string>>();
  const clients: ChatClient[] = [];

  async function append(e: ChatEvent, subject: 'meta' | 'msg'): Promise<number> {
    const roomId = e.payload.roomId;
    return (await gw.deps.js.append(subject === 'meta' ? s.chat.roomMeta(roomId) : s.chat.roomMessages(roomId), e, { msgId: e.id })).seq;
  }
  const joined = (roomId: string, u: UserView) =>
    makeEvent<MemberJoined>(serviceCtx(), 'MemberJoined', 1, { roomId, userId: u.userId, username: u.username, role: 'member' });
  const brief = (f: WsEventFrame) => `${f.position} ${f.event}`;

  beforeAll(async () => {
    s = createSubjects(randomName());
    nc = await connectNats({ servers: await testNatsUrl(), name: 'resume-big-room-test' });
    answerUserRooms(nc, s, memberships);
    startFakeNotifier(nc, s);
    await nc.flush();
    gw = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-big' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gw?.close();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  it('replays the message posted before the ban and the ban itself', async () => {
    const room = 'big-room';
    // 2001 members joined before Ada (a big community room).
    for (let i = 0; i < 2001; i += 200) {
      const batch = Array.from({ length: Math.min(200, 2001 - i) }, (_, j) =>
        joined(room, { userId: randomUUID(), username: `m${i + j}` }),
      );
      await Promise.all(batch.map((e) => append(e, 'meta')));
    }
    const ada = await registerMember(gw, memberships, `ada${randomUUID().slice(0, 6)}`, [room]);
    const bob = await registerMember(gw, memberships, `bob${randomUUID().slice(0, 6)}`, [room]);
    await append(joined(room, ada.user), 'meta');

    const c1 = await ChatClient.connect(wsUrlOf(gw.url), { WebSocket, reconnect: false });
    clients.push(c1);
    await c1.auth(ada.token);
    const seen = await appendPost(gw, s, room, bob.user, 'seen');
    await c1.waitForFrame('message.posted', (_m, p) => p === seen.position);
    await c1.close();

    // While Ada is away: a message, then Bob bans her.
    const missed = await appendPost(gw, s, room, bob.user, 'missed');
    memberships.get(ada.user.userId)?.delete(room);
    const banned = await append(
      makeEvent<MemberBanned>(serviceCtx(), 'MemberBanned', 1, {
        roomId: room,
        userId: ada.user.userId,
        username: ada.user.username,
        byUserId: bob.user.userId,
        byUsername: bob.user.username,
        reason: 'spam',
      }),
      'meta',
    );

    const c2 = await ChatClient.connect(wsUrlOf(gw.url), { WebSocket, reconnect: false });
    clients.push(c2);
    const reply = await c2.request('auth', { token: ada.token, resumeFrom: seen.position });
    expect(reply.resume).toMatchObject({ status: 'resumed' });
    const replayed = c2.events().filter((f) => isChatEvent(f.event));
    expect(replayed.map(brief)).toEqual([`${missed.position} message.posted`, `${banned} member.banned`]);
  });
});
