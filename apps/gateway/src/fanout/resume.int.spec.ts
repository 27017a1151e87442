import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  makeEvent,
  type ChatEvent,
  type MemberInvited,
  type MemberJoined,
  type MemberKicked,
  type MemberLeft,
  type MessageDeleted,
  type MessageEdited,
  type RoomDeleted,
  type ReactionAdded,
  type Subjects,
  type UserView,
  type WsEventFrame,
} from '@chat/contracts';
import { ChatClient, ChatClientError, wsUrlOf } from '@chat/client';
import type { RunningService } from '@chat/platform';
import { eventually } from '@chat/testing';
import { WebSocket } from 'ws';
import { appendPost, registerMember, serviceCtx, startRoomsStandIns } from '../testing/rooms-stand-in';
import { closeGatewayTest, startTestGateway } from '../testing/test-gateway';
import { isChatEvent } from './resume';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resume across gateways (docs/protocol.md "Resuming"): two gateways on one namespace of the
 * real NATS, the real CHAT stream, and stand-ins for the rooms service (room list, notifier).
 * A client goes offline from one gateway while its rooms carry on, and comes back to the other.
 */
describe('resume - a client back from offline gets every missed event once, in order, on another gateway', () => {
  let gw1: RunningService;
  let gw2: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const memberships = new Map<string, Set<string>>();
  const clients: ChatClient[] = [];
  /** Delay of the stand-in's room list answers (widens the time an auth is in progress). */
  let roomListDelayMs = 0;

  const user = (name: string, rooms: string[]) => registerMember(gw1, memberships, name, rooms);
  const by = (u: UserView) => ({ byUserId: u.userId, byUsername: u.username });

  async function append(e: ChatEvent, subject: 'meta' | 'msg'): Promise<number> {
    const roomId = e.payload.roomId;
    return (await gw1.deps.js.append(subject === 'meta' ? s.chat.roomMeta(roomId) : s.chat.roomMessages(roomId), e, { msgId: e.id })).seq;
  }
  const post = async (roomId: string, sender: UserView, body: string) => appendPost(gw1, s, roomId, sender, body);
  const edit = (roomId: string, messageId: string, sender: UserView) =>
    append(
      makeEvent<MessageEdited>(serviceCtx('messages'), 'MessageEdited', 1, {
        roomId,
        messageId,
        senderId: sender.userId,
        body: 'edited',
        mentions: [],
      }),
      'msg',
    );
  const remove = (roomId: string, messageId: string, author: UserView) =>
    append(
      makeEvent<MessageDeleted>(serviceCtx('messages'), 'MessageDeleted', 1, { roomId, messageId, ...by(author), reason: 'author' }),
      'msg',
    );
  const react = (roomId: string, messageId: string, u: UserView) =>
    append(
      makeEvent<ReactionAdded>(serviceCtx('messages'), 'ReactionAdded', 1, {
        roomId,
        messageId,
        emoji: '👍',
        userId: u.userId,
        username: u.username,
      }),
      'msg',
    );
  const join = (roomId: string, u: UserView) => {
    memberships.get(u.userId)?.add(roomId);
    return append(
      makeEvent<MemberJoined>(serviceCtx(), 'MemberJoined', 1, { roomId, userId: u.userId, username: u.username, role: 'member' }),
      'meta',
    );
  };
  const leave = (roomId: string, u: UserView) => {
    memberships.get(u.userId)?.delete(roomId);
    return append(
      makeEvent<MemberLeft>(serviceCtx(), 'MemberLeft', 2, {
        roomId,
        userId: u.userId,
        username: u.username,
        successorId: null,
        successorName: null,
      }),
      'meta',
    );
  };
  const kick = (roomId: string, u: UserView, boss: UserView) => {
    memberships.get(u.userId)?.delete(roomId);
    return append(
      makeEvent<MemberKicked>(serviceCtx(), 'MemberKicked', 1, {
        roomId,
        userId: u.userId,
        username: u.username,
        ...by(boss),
        reason: 'spam',
      }),
      'meta',
    );
  };
  const invite = (roomId: string, u: UserView, boss: UserView) =>
    append(
      makeEvent<MemberInvited>(serviceCtx(), 'MemberInvited', 1, {
        roomId,
        userId: u.userId,
        username: u.username,
        ...by(boss),
        roomName: roomId,
      }),
      'meta',
    );

  async function connect(gw: RunningService): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(gw.url), { WebSocket, reconnect: false });
    clients.push(c);
    return c;
  }
  const lastOf = async () => gw1.deps.js.lastSeq(s.streams.chat.name);
  /** Chat events of a client (presence and the like have positions of their own). */
  const chatEvents = (c: ChatClient) => c.events().filter((f) => isChatEvent(f.event));
  const brief = (f: WsEventFrame) => `${f.position} ${f.event} ${(f.data as { roomId?: string }).roomId ?? ''}`;

  beforeAll(async () => {
    ({ s, nc } = await startRoomsStandIns('resume-test', memberships, () => roomListDelayMs));
    gw1 = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-1' });
    gw2 = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-2' });
  });

  afterAll(() => closeGatewayTest({ clients, gateways: [gw1, gw2], nc, s }));

  it('offline for 30 s during traffic (messages, edits, deletes, reactions, joins, leaves, a kick, an invitation): every missed event once, in order, then live ones, nothing twice at the seam', async () => {
    const ada = await user('Ada', ['r-main', 'r-side', 'r-kick']);
    const bob = await user('Bob', ['r-main', 'r-side', 'r-kick', 'r-invite', 'r-other', 'r-join']);
    const cy = await user('Cy', []);

    const first = await connect(gw1);
    await first.auth(ada.token);
    const hello = await post('r-main', bob.user, 'before');
    await first.waitFor('message.posted', (m) => m.messageId === hello.messageId);
    const seen = Math.max(...chatEvents(first).map((f) => f.position));
    await first.close();

    // What Ada must get, in order, recorded as the traffic is made (positions are the stream's).
    const expected: string[] = [];
    const expect1 = (position: number, event: string, roomId: string) => expected.push(`${position} ${event} ${roomId}`);
    const started = Date.now();
    for (let i = 0; Date.now() - started < 30_000; i++) {
      const m = await post('r-main', bob.user, `main ${i}`);
      expect1(m.position, 'message.posted', 'r-main');
      await post('r-other', bob.user, `other ${i}`); // not Ada's room
      if (i % 3 === 0) expect1(await edit('r-main', m.messageId, bob.user), 'message.edited', 'r-main');
      if (i % 4 === 1) expect1(await react('r-main', m.messageId, bob.user), 'reaction.added', 'r-main');
      if (i % 5 === 2) expect1(await remove('r-main', m.messageId, bob.user), 'message.deleted', 'r-main');
      if (i % 2 === 0) expect1((await post('r-side', bob.user, `side ${i}`)).position, 'message.posted', 'r-side');
      if (i === 1) expect1(await join('r-main', cy.user), 'member.joined', 'r-main');
      if (i === 2) expect1(await leave('r-main', cy.user), 'member.left', 'r-main');
      if (i === 3) {
        expect1((await post('r-kick', bob.user, 'last before the kick')).position, 'message.posted', 'r-kick');
        expect1(await kick('r-kick', ada.user, bob.user), 'member.kicked', 'r-kick');
      }
      if (i >= 3) await post('r-kick', bob.user, `after the kick ${i}`); // not Ada's any more
      if (i === 4) expect1(await invite('r-invite', ada.user, bob.user), 'invitation.received', 'r-invite');
      if (i < 5) await post('r-join', bob.user, `before Ada joined ${i}`);
      if (i === 5) expect1(await join('r-join', ada.user), 'member.joined', 'r-join');
      if (i >= 5 && i % 3 === 0) expect1((await post('r-join', bob.user, `join ${i}`)).position, 'message.posted', 'r-join');
      await sleep(500);
    }

    // Traffic goes on while Ada comes back to the other gateway: the seam. Her other device is
    // there already, so her new connection is in her rooms from the start of its auth, and the
    // slow room list keeps the auth in progress while live events of her rooms arrive.
    const device = await connect(gw2);
    await device.auth(ada.token);
    roomListDelayMs = 500;
    let running = true;
    const seam: number[] = [];
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        seam.push((await post('r-main', bob.user, `seam ${i}`)).position);
        await sleep(20);
      }
    })();
    await sleep(200);
    const back = await connect(gw2);
    const reply = await back.request('auth', { token: ada.token, resumeFrom: seen });
    roomListDelayMs = 0;
    await sleep(300);
    running = false;
    await traffic;
    const lastSeam = seam[seam.length - 1];
    await back.waitForFrame('message.posted', (_m, p) => p === lastSeam);

    expect(reply.resume).toMatchObject({ status: 'resumed', from: seen });
    const resume = reply.resume as { upTo: number; replayed: number };
    const got = chatEvents(back).map(brief);
    const upTo = resume.upTo;
    // Up to upTo: exactly the expected events (seam posts stored before upTo included), in order.
    const expectedAll = [...expected, ...seam.map((p) => `${p} message.posted r-main`)].sort((a, b) => parseInt(a) - parseInt(b));
    expect(got.filter((g) => parseInt(g) <= upTo)).toEqual(expectedAll.filter((g) => parseInt(g) <= upTo));
    expect(resume.replayed).toBe(expectedAll.filter((g) => parseInt(g) <= upTo).length);
    // After it: the live ones, each once, in order, and nothing else.
    expect(got.filter((g) => parseInt(g) > upTo)).toEqual(expectedAll.filter((g) => parseInt(g) > upTo));
    // The replayed frames came before the reply.
    const replyAt = back.received.findIndex((f) => f.type === 'res');
    expect(back.received.slice(0, replyAt).filter((f) => f.type === 'evt').length).toBeGreaterThanOrEqual(resume.replayed);
    // Live from here: a new event arrives once.
    const after = await post('r-join', bob.user, 'after');
    await back.waitForFrame('message.posted', (m) => m.messageId === after.messageId);
    expect(chatEvents(back).filter((f) => f.position === after.position)).toHaveLength(1);
  });

  it('the typed client resumes by itself: after a lost connection it reconnects (here to the other gateway) with resumeFrom, and gets what it missed once', async () => {
    const ada = await user('Eda', ['c-room']);
    const bob = await user('Eli', ['c-room']);
    // Each new socket goes to the other gateway; the test can cut the current one.
    const urls = [wsUrlOf(gw1.url), wsUrlOf(gw2.url)];
    let opened = 0;
    let current: WebSocket | undefined;
    class Alternating extends WebSocket {
      constructor(_url: string) {
        super(urls[opened++ % 2]);
        current = this;
      }
    }
    const c = await ChatClient.connect(urls[0], { WebSocket: Alternating, token: ada.token, reconnect: { initialDelayMs: 50 } });
    clients.push(c);
    const resumed = jest.fn();
    c.on('resumed', resumed);
    const before = await post('c-room', bob.user, 'before');
    await c.waitForFrame('message.posted', (_m, p) => p === before.position);
    const ready = new Promise((r) => c.on('ready', r));
    current!.terminate();
    const missed = [await post('c-room', bob.user, 'missed 1'), await post('c-room', bob.user, 'missed 2')];
    await ready;
    expect(opened).toBe(2);
    // From a little below (the client's resumeOverlap, 100): 'before' comes again and is dropped.
    expect(resumed).toHaveBeenCalledWith(expect.objectContaining({ status: 'resumed', from: Math.max(0, before.position - 100) }));
    const live = await post('c-room', bob.user, 'live');
    await c.waitForFrame('message.posted', (_m, p) => p === live.position);
    const positions = c.events('message.posted').map((f) => f.position);
    expect(positions).toEqual([before.position, ...missed.map((m) => m.position), live.position]);
    expect(c.position).toBe(live.position);
  });

  it('a window with many room events (read partly one by one, partly with a consumer): membership still decided right', async () => {
    const ada = await user('Ola', ['m-room']);
    const bob = await user('Oli', ['m-room', 'm-late']);
    const c = await connect(gw1);
    await c.auth(ada.token);
    const seen = await post('m-room', bob.user, 'seen');
    await c.waitForFrame('message.posted', (_m, p) => p === seen.position);
    await c.close();
    const expected: number[] = [];
    for (let i = 0; i < 120; i++) {
      expected.push(await join('m-room', bob.user), await leave('m-room', bob.user));
      await post('m-late', bob.user, `not hers yet ${i}`);
    }
    expected.push(await join('m-late', ada.user));
    expected.push((await post('m-late', bob.user, 'hers')).position);
    const back = await connect(gw2);
    const reply = await back.request('auth', { token: ada.token, resumeFrom: seen.position });
    expect(reply.resume).toMatchObject({ status: 'resumed', replayed: expected.length });
    expect(chatEvents(back).map((f) => f.position)).toEqual(expected);
  });

  it('a replay larger than the send buffer limit is paced to the client, not cut as a slow consumer', async () => {
    const tight = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-tight', WS_MAX_BUFFERED_BYTES: String(64 * 1024) });
    try {
      const ada = await user('Rae', ['big-room']);
      const bob = await user('Rob', ['big-room']);
      const from = await lastOf();
      const body = 'x'.repeat(1000);
      const posted: number[] = [];
      for (let i = 0; i < 300; i++) posted.push((await post('big-room', bob.user, `${i} ${body}`)).position);
      const c = await ChatClient.connect(wsUrlOf(tight.url), { WebSocket, reconnect: false });
      clients.push(c);
      const reply = await c.request('auth', { token: ada.token, resumeFrom: from }, { timeoutMs: 30_000 });
      expect(reply.resume).toMatchObject({ status: 'resumed', replayed: 300 });
      expect(chatEvents(c).map((f) => f.position)).toEqual(posted);
      expect(c.state).toBe('open');
    } finally {
      await tight.close();
    }
  });

  it('a client up to date resumes with nothing; one beyond the newest position is told to reload (unknown_position), and is live from there', async () => {
    const ada = await user('Ana', ['u-room']);
    const bob = await user('Ben', ['u-room']);
    await post('u-room', bob.user, 'x');
    const last = await lastOf();
    const c1 = await connect(gw2);
    expect((await c1.request('auth', { token: ada.token, resumeFrom: last })).resume).toEqual({
      status: 'resumed',
      from: last,
      upTo: last,
      replayed: 0,
    });
    const c2 = await connect(gw1);
    const reply = await c2.request('auth', { token: ada.token, resumeFrom: last + 1000 });
    expect(reply.resume).toEqual({ status: 'reload', reason: 'unknown_position', latest: last });
    const live = await post('u-room', bob.user, 'live');
    await c2.waitForFrame('message.posted', (_m, p) => p === live.position);
  });

  it('bad resumeFrom is BAD_REQUEST and changes nothing; resumeFrom on a connection already authenticated too', async () => {
    const ada = await user('Abe', ['b-room']);
    const c = await connect(gw1);
    for (const resumeFrom of [-1, 1.5, '7', true])
      await expect(c.request('auth', { token: ada.token, resumeFrom } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(c.request('message.send', { roomId: 'b-room', body: 'x', clientMsgId: randomUUID() } as never)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    await c.request('auth', { token: ada.token });
    const err = await c.request('auth', { token: ada.token, resumeFrom: 1 }).catch((e: ChatClientError) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('too far behind: more positions than RESUME_MAX_GAP, or more events than RESUME_MAX_EVENTS -> reload, auth still succeeds', async () => {
    const small = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-small', RESUME_MAX_GAP: '5', RESUME_MAX_EVENTS: '3' });
    try {
      const ada = await user('Aya', ['t-room']);
      const bob = await user('Bo', ['t-room']);
      const from = await lastOf();
      for (let i = 0; i < 4; i++) await post('t-room', bob.user, `t ${i}`);
      // 4 events of hers within the gap of 5, over 3 allowed.
      const c1 = await ChatClient.connect(wsUrlOf(small.url), { WebSocket, reconnect: false });
      clients.push(c1);
      expect((await c1.request('auth', { token: ada.token, resumeFrom: from })).resume).toEqual({
        status: 'reload',
        reason: 'too_far_behind',
        latest: from + 4,
      });
      expect(chatEvents(c1)).toEqual([]);
      // 3 of hers, but 6 positions back.
      for (let i = 0; i < 3; i++) await post('other-room', bob.user, `o ${i}`);
      const c2 = await ChatClient.connect(wsUrlOf(small.url), { WebSocket, reconnect: false });
      clients.push(c2);
      expect((await c2.request('auth', { token: ada.token, resumeFrom: from + 1 })).resume).toMatchObject({
        status: 'reload',
        reason: 'too_far_behind',
      });
      // Within both limits: resumed.
      const c3 = await ChatClient.connect(wsUrlOf(small.url), { WebSocket, reconnect: false });
      clients.push(c3);
      expect((await c3.request('auth', { token: ada.token, resumeFrom: from + 2 })).resume).toMatchObject({
        status: 'resumed',
        replayed: 2,
      });
      expect(chatEvents(c3).map((f) => f.position)).toEqual([from + 3, from + 4]);
      const live = await post('t-room', bob.user, 'live');
      await c1.waitForFrame('message.posted', (_m, p) => p === live.position);
    } finally {
      await small.close();
    }
  });

  it("a room deleted while away, with no join or removal of the user's in the window: replayed up to its deletion if they were a member, not at all if not", async () => {
    const ada = await user('Uma', []);
    const bob = await user('Uli', ['d-room', 'd-other']);
    await join('d-room', ada.user);
    const c = await connect(gw1);
    await c.auth(ada.token);
    const seen = await post('d-room', bob.user, 'seen');
    await c.waitForFrame('message.posted', (_m, p) => p === seen.position);
    await c.close();
    const missed = await post('d-room', bob.user, '**missed** :wave:');
    await post('d-other', bob.user, 'never hers');
    const del = (roomId: string) => {
      memberships.get(ada.user.userId)?.delete(roomId);
      return append(makeEvent<RoomDeleted>(serviceCtx(), 'RoomDeleted', 1, { roomId, reason: 'owner', ...by(bob.user) }), 'meta');
    };
    const deleted = await del('d-room');
    await del('d-other');
    const back = await connect(gw2);
    const reply = await back.request('auth', { token: ada.token, resumeFrom: seen.position });
    expect(reply.resume).toMatchObject({ status: 'resumed', replayed: 2 });
    expect(chatEvents(back).map(brief)).toEqual([`${missed.position} message.posted d-room`, `${deleted} room.deleted d-room`]);
    // A replayed post is rendered like a live one (docs/protocol.md, Formatting).
    expect(chatEvents(back)[0].data).toMatchObject({ body: '**missed** :wave:', html: '<p><strong>missed</strong> 👋</p>' });
  });

  it('retention removed events after resumeFrom (a missing position in the window): reload (purged)', async () => {
    const ada = await user('Pia', ['g-room']);
    const bob = await user('Pit', ['g-room']);
    const seen = await post('g-room', bob.user, 'seen');
    await join('g-room', (await user('Pat', [])).user);
    const gone = await post('g-room', bob.user, 'removed by retention');
    await post('g-room', bob.user, 'kept');
    // As the retention job does: every room's messages below a position.
    await gw1.deps.js.purge(s.streams.chat.name, { filter: s.chat.allRoomMessages, below: gone.position + 1 });
    expect((await gw1.deps.js.bounds(s.streams.chat.name)).first).toBeLessThanOrEqual(seen.position);
    const c = await connect(gw2);
    expect((await c.request('auth', { token: ada.token, resumeFrom: seen.position })).resume).toEqual({
      status: 'reload',
      reason: 'purged',
      latest: await lastOf(),
    });
    expect(chatEvents(c)).toEqual([]);
  });

  // Last: it removes the stream's older events.
  it('events after resumeFrom removed by retention: reload (purged)', async () => {
    const ada = await user('Ida', ['p-room']);
    const bob = await user('Ivo', ['p-room']);
    const old = await post('p-room', bob.user, 'old');
    await post('p-room', bob.user, 'newer');
    await gw1.deps.js.purge(s.streams.chat.name, { filter: s.chat.all, below: old.position + 1 });
    const c = await connect(gw2);
    const reply = await c.request('auth', { token: ada.token, resumeFrom: old.position - 1 });
    expect(reply.resume).toEqual({ status: 'reload', reason: 'purged', latest: await lastOf() });
    await eventually(async () => (await c.request('ping', {})).time);
  });
});
