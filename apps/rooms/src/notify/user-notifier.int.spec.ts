import type { Msg, NatsConnection } from '@nats-io/transport-node';
import {
  createSubjects,
  makeEvent,
  type ConversationOpened,
  type MemberInvited,
  type MemberJoined,
  type RoomEvent,
  type Subjects,
} from '@chat/contracts';
import { JetStreamAdapter, connectNats, streamSpecs } from '@chat/messaging';
import { HealthRegistry, MetricsRegistry, createLogger } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { UserNotifier } from './user-notifier';

/** The notifier against the real NATS: a durable consumer on the CHAT stream publishing to user subjects. */
describe('user notifier - room events to the users they are about', () => {
  let nc: NatsConnection;
  let js: JetStreamAdapter;
  let s: Subjects;
  const U = randomUUID();
  const V = randomUUID();
  const W = randomUUID();
  const got = new Map<string, Msg[]>();
  const running: UserNotifier[] = [];

  const ctx = () => ({
    now: () => new Date(),
    newId: randomUUID,
    actor: { kind: 'service' as const, id: 'rooms' },
    correlationId: randomUUID(),
  });
  const append = async (e: RoomEvent) => (await js.append(s.chat.roomMeta(e.payload.roomId), e, { msgId: e.id })).seq;

  async function start(): Promise<UserNotifier> {
    const n = new UserNotifier(js, nc, s, createLogger('rooms', 'silent'), new MetricsRegistry(), new HealthRegistry());
    await n.onApplicationBootstrap();
    running.push(n);
    return n;
  }

  beforeAll(async () => {
    s = createSubjects(randomName());
    nc = await connectNats({ servers: await testNatsUrl(), name: 'notifier-test' });
    js = new JetStreamAdapter(nc);
    await js.ensureStreams(streamSpecs(s));
    for (const u of [U, V, W]) {
      got.set(u, []);
      nc.subscribe(s.live.user(u), { callback: (_e, m) => void got.get(u)!.push(m) });
    }
    await nc.flush();
  });

  afterAll(async () => {
    for (const n of running) await n.onModuleDestroy();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  it('publishes the stored bytes with the republish headers to each user the event is about, and skips what it cannot read', async () => {
    // Stored before the notifier ever ran: the past is not replayed to whoever is connected.
    const old = makeEvent<MemberJoined>(ctx(), 'MemberJoined', 1, { roomId: 'old', userId: V, username: 'Vic', role: 'member' });
    await append(old);
    await start();
    // A malformed event first: acked and skipped, the ones after it still go out.
    await js.append(s.chat.roomMeta('junk'), { not: 'an event' }, { msgId: randomUUID() });
    const invited = makeEvent<MemberInvited>(ctx(), 'MemberInvited', 1, {
      roomId: 'team',
      userId: U,
      username: 'Ann',
      byUserId: W,
      byUsername: 'Wes',
      roomName: 'Team',
    });
    const invitedAt = await append(invited);
    const opened = makeEvent<ConversationOpened>(ctx(), 'ConversationOpened', 1, {
      roomId: 'dm-0123',
      userAId: U,
      userAName: 'Ann',
      userBId: V,
      userBName: 'Vic',
      openedById: U,
      reason: 'message',
    });
    const openedAt = await append(opened);
    const toU = await eventually(() => (got.get(U)!.length >= 2 ? got.get(U)! : undefined));
    expect(toU.map((m) => [m.headers?.get('Nats-Sequence'), JSON.parse(m.string()).type])).toEqual([
      [String(invitedAt), 'MemberInvited'],
      [String(openedAt), 'ConversationOpened'],
    ]);
    expect(JSON.parse(toU[0].string())).toEqual(invited);
    expect(toU[0].headers?.get('Nats-Subject')).toBe(s.chat.roomMeta('team'));
    const toV = await eventually(() => (got.get(V)!.length >= 1 ? got.get(V)! : undefined));
    expect(toV.map((m) => m.headers?.get('Nats-Sequence'))).toEqual([String(openedAt)]);
    // Nothing from before the notifier's first start; the inviter is not what the invitation is about.
    expect(got.get(W)).toEqual([]);
  });

  it('durable - an event stored while no notifier runs is published once one starts again', async () => {
    for (const n of running.splice(0)) await n.onModuleDestroy();
    const joined = makeEvent<MemberJoined>(ctx(), 'MemberJoined', 1, { roomId: 'team', userId: W, username: 'Wes', role: 'member' });
    const at = await append(joined);
    // Nothing is forwarded while the notifier is down.
    await nc.flush();
    expect(got.get(W)).toEqual([]);
    await start();
    const toW = await eventually(() => (got.get(W)!.length >= 1 ? got.get(W)! : undefined));
    expect(toW.map((m) => m.headers?.get('Nats-Sequence'))).toEqual([String(at)]);
  });
});
