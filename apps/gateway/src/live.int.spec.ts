import type { NatsConnection } from '@nats-io/transport-node';
import {
  WsLimits,
  createSubjects,
  makeEvent,
  ok,
  type GatewayHeartbeat,
  type GatewaySignal,
  type OwnPresenceView,
  type RoomPresenceSignal,
  type Subjects,
  type UserBlocked,
  type UserView,
  type WsServerFrame,
} from '@chat/contracts';
import { ChatClient, wsUrlOf } from '@chat/client';
import { connectNats, decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { registerMember, serviceCtx } from './testing/rooms-stand-in';
import { startTestGateway } from './testing/test-gateway';

/**
 * The gateway's live side against the real NATS: typing, room presence and the user's own
 * presence, activity (idle) signals, keep-alive, the connection and request limits, and the
 * graceful shutdown. The rooms and history services are stood in for by responders on their
 * real RPC subjects; the presence fan-out by publishing its signals on the real subjects.
 */
describe('gateway live - typing, presence delivery, activity, limits and shutdown', () => {
  let svc: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const gatewayId = `gw-live-${randomUUID().slice(0, 8)}`;
  const memberships = new Map<string, Set<string>>();
  const clients: ChatClient[] = [];
  const gateways: RunningService[] = [];
  /** history.page answers wait while this holds (the shutdown test's request in flight). */
  let holdHistory: Promise<void> | null = null;
  /** RPC requests the stand-ins received, by op. */
  const rpcSeen: string[] = [];
  const signals: GatewaySignal[] = [];
  const beats: GatewayHeartbeat[] = [];

  const room = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

  async function connect(target: RunningService = svc): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(target.url), { WebSocket, reconnect: false });
    clients.push(c);
    return c;
  }

  async function authed(name: string, rooms: string[] = [], target: RunningService = svc) {
    const u = await registerMember(target, memberships, `${name}${randomUUID().slice(0, 6)}`, rooms);
    const c = await connect(target);
    await c.auth(u.token);
    return { ...u, c };
  }

  async function gateway(extra: Record<string, string>): Promise<RunningService> {
    const gw = await startTestGateway(s.namespace, extra);
    gateways.push(gw);
    return gw;
  }

  /** Publishes what the presence fan-out publishes for one stored change, in each of `rooms`. */
  function pushPresence(rooms: string[], position: number, user: UserView, status: 'online' | 'away' | 'busy' | 'offline') {
    const signal: RoomPresenceSignal = {
      position,
      presence: { userId: user.userId, username: user.username, status, text: null, lastSeen: new Date().toISOString() },
    };
    for (const r of rooms) nc.publish(s.live.roomPresence(r), encodeJson(signal));
  }

  beforeAll(async () => {
    s = createSubjects(randomName());
    nc = await connectNats({ servers: await testNatsUrl(), name: 'gateway-live-test' });
    const reply = (op: string, fn: (req: Record<string, unknown>) => unknown, hold?: () => Promise<void> | null) =>
      nc.subscribe(s.rpc(op as never), {
        queue: op.split('.')[0],
        callback: (_e, m) => {
          rpcSeen.push(op);
          const answer = encodeJson(fn(decodeJson(m.data) as Record<string, unknown>));
          const wait = hold?.();
          if (wait) void wait.then(() => m.respond(answer));
          else m.respond(answer);
        },
      });
    reply('rooms.userRooms', (req) => ok({ roomIds: [...(memberships.get(req.userId as string) ?? [])] }));
    reply('rooms.post', (req) =>
      ok({
        messageId: randomUUID(),
        roomId: req.roomId,
        clientMsgId: req.clientMsgId,
        time: new Date().toISOString(),
        position: 1,
        duplicate: false,
      }),
    );
    reply(
      'history.page',
      (req) => ok({ roomId: req.roomId, messages: [], nextBefore: null }),
      () => holdHistory,
    );
    nc.subscribe(s.presence.allGatewayConnections, { callback: (_e, m) => void signals.push(decodeJson(m.data) as GatewaySignal) });
    nc.subscribe(s.presence.allGatewayHeartbeats, { callback: (_e, m) => void beats.push(decodeJson(m.data) as GatewayHeartbeat) });
    await nc.flush();
    svc = await startTestGateway(s.namespace, { GATEWAY_ID: gatewayId, PRESENCE_HEARTBEAT_MS: '200' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(gateways.map((g) => g.close()));
    await svc?.close();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  it('typing - reaches the co-members, not the typist (on any of their connections) nor non-members, saying when it expires', async () => {
    const r = room('typing');
    const ann = await authed('ann', [r]);
    const annTab = await connect();
    await annTab.auth(ann.token);
    const bob = await authed('bob', [r]);
    const out = await authed('out', []);
    await expect(ann.c.request('typing', { roomId: r, typing: true })).resolves.toEqual({ roomId: r, typing: true });
    const f = await bob.c.waitForFrame('typing', (d) => d.roomId === r && d.typing);
    expect(f).toEqual({
      type: 'evt',
      event: 'typing',
      position: 0,
      data: { roomId: r, userId: ann.user.userId, username: ann.user.username, typing: true, expiresInMs: WsLimits.typingExpiresMs },
    });
    // Bob typing afterwards marks the point by which Ann's own typing would have reached her.
    await bob.c.request('typing', { roomId: r, typing: true });
    for (const c of [ann.c, annTab]) await c.waitFor('typing', (d) => d.userId === bob.user.userId);
    for (const c of [ann.c, annTab]) expect(c.events('typing').filter((e) => e.data.userId === ann.user.userId)).toEqual([]);
    expect(out.c.events('typing')).toEqual([]);
  });

  it('typing - repeated starts within the interval are answered but sent once; a stop and a sent message end it', async () => {
    const r = room('throttle');
    const ann = await authed('ann', [r]);
    const bob = await authed('bob', [r]);
    for (let i = 0; i < 3; i++)
      await expect(ann.c.request('typing', { roomId: r, typing: true })).resolves.toEqual({ roomId: r, typing: true });
    await ann.c.request('typing', { roomId: r, typing: false });
    await bob.c.waitFor('typing', (d) => !d.typing);
    expect(bob.c.events('typing').map((e) => e.data.typing)).toEqual([true, false]);
    // A stop with no start before it has nothing to end: not sent on.
    await ann.c.request('typing', { roomId: r, typing: false });
    // A message sent after a start ends the typing (once the start interval allows a new start).
    await eventually(async () => {
      await ann.c.request('typing', { roomId: r, typing: true });
      return bob.c.events('typing').length === 3;
    });
    await ann.c.request('message.send', { roomId: r, clientMsgId: randomUUID(), body: 'done typing' });
    await eventually(() => bob.c.events('typing').length === 4);
    expect(bob.c.events('typing').map((e) => e.data.typing)).toEqual([true, false, true, false]);
  });

  it('typing - in a room the user does not follow is NOT_MEMBER; bad input is BAD_REQUEST; nothing is sent', async () => {
    const r = room('closed');
    const bob = await authed('bob', [r]);
    const eve = await authed('eve', []);
    await expect(eve.c.request('typing', { roomId: r, typing: true })).rejects.toMatchObject({ code: 'NOT_MEMBER' });
    await expect(eve.c.request('typing', { roomId: r } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(eve.c.request('typing', { roomId: 'Not A Room', typing: true })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(eve.c.request('typing', { roomId: r, typing: 'yes' } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(eve.c.request('presence.active', { idle: true } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const anon = await connect();
    await expect(anon.request('typing', { roomId: r, typing: true })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    // A member's typing marks the point by which anything sent would have arrived.
    const ann = await authed('ann', [r]);
    await ann.c.request('typing', { roomId: r, typing: true });
    await bob.c.waitFor('typing', (d) => d.userId === ann.user.userId);
    expect(bob.c.events('typing').map((e) => e.data.userId)).toEqual([ann.user.userId]);
  });

  it('typing - not delivered in a conversation while a block stands', async () => {
    const r = `dm-${randomUUID().slice(0, 8)}`;
    const ann = await authed('ann', [r]);
    const bob = await authed('bob', [r]);
    const blocked = makeEvent<UserBlocked>(serviceCtx('rooms'), 'UserBlocked', 1, {
      roomId: r,
      blockerId: bob.user.userId,
      blockedId: ann.user.userId,
    });
    await svc.deps.js.append(s.chat.roomMeta(r), blocked, { msgId: blocked.id });
    await bob.c.waitFor('user.blocked', (d) => d.roomId === r);
    await ann.c.request('typing', { roomId: r, typing: true });
    await bob.c.request('typing', { roomId: r, typing: true });
    // Bob's typing is not delivered to Ann either; a later event of another room marks the point.
    const other = room('marker');
    const carl = await authed('carl', [other]);
    memberships.get(bob.user.userId)!.add(other);
    const bob2 = await connect();
    await bob2.auth(bob.token);
    await carl.c.request('typing', { roomId: other, typing: true });
    await bob2.waitFor('typing', (d) => d.roomId === other);
    await bob.c.waitFor('typing', (d) => d.roomId === other);
    expect(bob.c.events('typing').filter((e) => e.data.roomId === r)).toEqual([]);
    expect(ann.c.events('typing')).toEqual([]);
  });

  it('typing - a block stored before the gateway followed the conversation holds typing back too, until it is lifted', async () => {
    const r = `dm-${randomUUID().slice(0, 8)}`;
    const ann = await registerMember(svc, memberships, `ann${randomUUID().slice(0, 6)}`, [r]);
    const bob = await registerMember(svc, memberships, `bob${randomUUID().slice(0, 6)}`, [r]);
    const block = (type: 'UserBlocked' | 'UserUnblocked') => {
      const e = makeEvent<UserBlocked>(serviceCtx('rooms'), type as 'UserBlocked', 1, {
        roomId: r,
        blockerId: bob.user.userId,
        blockedId: ann.user.userId,
      });
      return svc.deps.js.append(s.chat.roomMeta(r), e, { msgId: e.id });
    };
    await block('UserBlocked');
    const [annC, bobC] = [await connect(), await connect()];
    await annC.auth(ann.token);
    await bobC.auth(bob.token);
    await annC.request('typing', { roomId: r, typing: true });
    await bobC.request('typing', { roomId: r, typing: true });
    await annC.request('typing', { roomId: r, typing: false });
    // Lifted (live): typing goes through again; what came before it never arrives.
    await block('UserUnblocked');
    await bobC.waitFor('user.unblocked', (d) => d.roomId === r);
    await eventually(async () => {
      await annC.request('typing', { roomId: r, typing: true });
      return bobC.events('typing').length > 0;
    });
    expect(bobC.events('typing').map((e) => [e.data.userId, e.data.typing])).toEqual([[ann.user.userId, true]]);
    expect(annC.events('typing')).toEqual([]);
  });

  it('presence - a room status change reaches each connection of the room once, even when it shares two rooms with the user', async () => {
    const [r1, r2, r3] = [room('p1'), room('p2'), room('p3')];
    const pam = await authed('pam', [r1, r2]);
    const both = await authed('both', [r1, r2]);
    const bothTab = await connect();
    await bothTab.auth(both.token);
    const one = await authed('one', [r2]);
    const out = await authed('out', [r3]);
    const position = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    pushPresence([r1, r2], position, pam.user, 'away');
    // A later change marks the point by which any repeat would have arrived.
    pushPresence([r1, r2, r3], position + 1, pam.user, 'busy');
    for (const c of [pam.c, both.c, bothTab, one.c]) {
      await c.waitFor('presence.changed', (_d, p) => p === position + 1);
      expect(c.events('presence.changed').map((f) => [f.position, f.data.status])).toEqual([
        [position, 'away'],
        [position + 1, 'busy'],
      ]);
    }
    const f = pam.c.events('presence.changed')[0];
    expect(f.data).toEqual({
      userId: pam.user.userId,
      username: pam.user.username,
      status: 'away',
      text: null,
      lastSeen: expect.any(String),
    });
    // Only the room it was pushed to reaches "out".
    await out.c.waitFor('presence.changed', (_d, p) => p === position + 1);
    expect(out.c.events('presence.changed').map((x) => x.position)).toEqual([position + 1]);
  });

  it('presence - not delivered through a conversation while a block stands (stored before the follow, or set live)', async () => {
    const [stored, live] = [`dm-${randomUUID().slice(0, 8)}`, `dm-${randomUUID().slice(0, 8)}`];
    const shared = room('pshared');
    const ann = await registerMember(svc, memberships, `ann${randomUUID().slice(0, 6)}`, [stored, live, shared]);
    const bob = await registerMember(svc, memberships, `bob${randomUUID().slice(0, 6)}`, [stored, live, shared]);
    const block = (roomId: string, type: 'UserBlocked' | 'UserUnblocked') => {
      const e = makeEvent<UserBlocked>(serviceCtx('rooms'), type as 'UserBlocked', 1, {
        roomId,
        blockerId: bob.user.userId,
        blockedId: ann.user.userId,
      });
      return svc.deps.js.append(s.chat.roomMeta(roomId), e, { msgId: e.id });
    };
    await block(stored, 'UserBlocked');
    const [annC, bobC] = [await connect(), await connect()];
    await annC.auth(ann.token);
    await bobC.auth(bob.token);
    const position = 3_000_000 + Math.floor(Math.random() * 1_000_000);
    pushPresence([stored], position, bob.user, 'busy');
    pushPresence([stored], position + 1, ann.user, 'away');
    // The conversation without a block carries presence; once blocked (live), it does not.
    pushPresence([live], position + 2, bob.user, 'online');
    await annC.waitFor('presence.changed', (_d, p) => p === position + 2);
    await block(live, 'UserBlocked');
    await bobC.waitFor('user.blocked', (d) => d.roomId === live);
    pushPresence([live], position + 3, bob.user, 'away');
    pushPresence([live], position + 4, ann.user, 'away');
    // A change through a room they share marks the point by which anything would have arrived.
    pushPresence([shared], position + 5, bob.user, 'busy');
    for (const c of [annC, bobC]) await c.waitFor('presence.changed', (_d, p) => p === position + 5);
    expect(annC.events('presence.changed').map((f) => f.position)).toEqual([position + 2, position + 5]);
    expect(bobC.events('presence.changed').map((f) => f.position)).toEqual([position + 2, position + 5]);
  });

  it('presence - a malformed room presence signal is dropped and delivery goes on', async () => {
    const r = room('pbad');
    const a = await authed('a', [r]);
    nc.publish(s.live.roomPresence(r), encodeJson({ position: 5, presence: { userId: a.user.userId, status: 'dancing' } }));
    pushPresence([r], 77, a.user, 'online');
    await a.c.waitFor('presence.changed', (_d, p) => p === 77);
    expect(a.c.events('presence.changed')).toHaveLength(1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_live_dropped_total\{[^}]*\} [1-9]/);
  });

  it('presence.mine - the own choice reaches every connection of the user and nobody else', async () => {
    const dropped = async (label: string) => {
      const text = await (await fetch(`${svc.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`gateway_live_dropped_total{subject="${label}"} `));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    const [presenceDropped, userDropped] = [await dropped('live.presence'), await dropped('live.user')];
    const mia = await authed('mia', []);
    const miaTab = await connect();
    await miaTab.auth(mia.token);
    const other = await authed('other', []);
    const mine: OwnPresenceView = { status: 'invisible', text: null, shown: 'offline', updatedAt: new Date().toISOString() };
    nc.publish(s.live.presenceMine(mia.user.userId), encodeJson({ bad: true }));
    // Another subject under the user's prefix (the one subscription matches it): dropped, not delivered.
    nc.publish(s.live.userAll(mia.user.userId).replace(/\*$/, 'bogus'), encodeJson(mine));
    nc.publish(s.live.presenceMine(mia.user.userId), encodeJson(mine));
    for (const c of [mia.c, miaTab]) {
      const f = await c.waitForFrame('presence.mine');
      expect(f).toEqual({ type: 'evt', event: 'presence.mine', position: 0, data: mine });
      expect(c.events('presence.mine')).toHaveLength(1);
    }
    const theirs = { ...mine, status: 'busy' as const, shown: 'busy' as const };
    nc.publish(s.live.presenceMine(other.user.userId), encodeJson(theirs));
    await other.c.waitFor('presence.mine');
    expect(other.c.events('presence.mine').map((f) => f.data)).toEqual([theirs]);
    expect(mia.c.events('presence.mine')).toHaveLength(1);
    // The malformed view under the label its subject has always had; the unknown kind under the user family's.
    expect(await dropped('live.presence')).toBe(presenceDropped + 1);
    expect(await dropped('live.user')).toBe(userDropped + 1);
  });

  it('activity - a connection without activity turns idle (signal and heartbeat); presence.active or a user action brings it back', async () => {
    const gwId = `gw-idle-${randomUUID().slice(0, 8)}`;
    const gw = await gateway({ GATEWAY_ID: gwId, PRESENCE_IDLE_MS: '10000', PRESENCE_HEARTBEAT_MS: '200' });
    const r = room('idle');
    const ida = await authed('ida', [r], gw);
    const ivy = await authed('ivy', [r], gw);
    const opened = await eventually(() => signals.find((x) => x.kind === 'opened' && x.userId === ida.user.userId));
    const ivyOpened = await eventually(() => signals.find((x) => x.kind === 'opened' && x.userId === ivy.user.userId));
    await eventually(() => beats.some((b) => b.gatewayId === gwId && b.connections.some((c) => c.connId === opened.connId && !c.idle)));
    const idle = await eventually(() => signals.find((x) => x.kind === 'activity' && x.connId === opened.connId && x.idle), 20_000, 100);
    expect(idle).toEqual(expect.objectContaining({ gatewayId: gwId, userId: ida.user.userId, idle: true }));
    await eventually(() => beats.some((b) => b.gatewayId === gwId && b.connections.some((c) => c.connId === opened.connId && c.idle)));
    // ping is not activity: heartbeats after it still say idle. presence.active is.
    await ida.c.request('ping', {});
    const afterPing = beats.length;
    await eventually(() => beats.slice(afterPing).filter((b) => b.gatewayId === gwId).length >= 2);
    expect(
      beats
        .slice(afterPing)
        .filter((b) => b.gatewayId === gwId)
        .flatMap((b) => b.connections)
        .filter((c) => c.connId === opened.connId)
        .every((c) => c.idle),
    ).toBe(true);
    await expect(ida.c.request('presence.active', {})).resolves.toEqual({ idle: false });
    const back = await eventually(() => signals.find((x) => x.kind === 'activity' && x.connId === opened.connId && !x.idle));
    expect(back).toEqual(expect.objectContaining({ gatewayId: gwId, userId: ida.user.userId, idle: false }));
    expect(signals.filter((x) => x.kind === 'activity' && x.connId === opened.connId).map((x) => x.kind === 'activity' && x.idle)).toEqual([
      true,
      false,
    ]);
    const from = beats.length;
    await eventually(() =>
      beats.slice(from).some((b) => b.gatewayId === gwId && b.connections.some((c) => c.connId === opened.connId && !c.idle)),
    );
    // Ivy went idle meanwhile too; sending a message is activity.
    await eventually(() => signals.find((x) => x.kind === 'activity' && x.connId === ivyOpened.connId && x.idle));
    await ivy.c.request('message.send', { roomId: r, clientMsgId: randomUUID(), body: 'back' });
    await eventually(() => signals.find((x) => x.kind === 'activity' && x.connId === ivyOpened.connId && !x.idle));
  }, 40_000);

  it('keep-alive - a client that stops answering pings is cut and reported closed', async () => {
    const gwId = `gw-ka-${randomUUID().slice(0, 8)}`;
    const gw = await gateway({ GATEWAY_ID: gwId, WS_PING_INTERVAL_MS: '1000' });
    const u = await registerMember(gw, memberships, `ghost${randomUUID().slice(0, 6)}`, []);
    const ws = new WebSocket(wsUrlOf(gw.url), { autoPong: false });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const replies: WsServerFrame[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(String(data)) as WsServerFrame));
    ws.send(JSON.stringify({ type: 'req', id: 'a1', op: 'auth', data: { token: u.token } }));
    await eventually(() => replies.some((r) => r.type === 'res' && r.id === 'a1' && r.ok));
    const opened = await eventually(() => signals.find((x) => x.kind === 'opened' && x.userId === u.user.userId));
    // No pong ever goes back: the gateway cuts the socket (no closing handshake: 1006 here).
    expect(await closed).toBe(1006);
    await eventually(() => signals.find((x) => x.kind === 'closed' && x.connId === opened.connId));
  });

  it('keep-alive - a client answering pings stays connected over several intervals', async () => {
    const gw = await gateway({ WS_PING_INTERVAL_MS: '1000' });
    const u = await registerMember(gw, memberships, `alive${randomUUID().slice(0, 6)}`, []);
    const ws = new WebSocket(wsUrlOf(gw.url));
    let closedCode: number | null = null;
    ws.on('close', (code) => (closedCode = code));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const pings: number[] = [];
    ws.on('ping', () => pings.push(pings.length));
    ws.send(JSON.stringify({ type: 'req', id: 'a1', op: 'auth', data: { token: u.token } }));
    // Each ping is sent only after the previous one was answered; three mean the pongs counted.
    await eventually(() => pings.length >= 3);
    expect(closedCode).toBeNull();
    ws.close();
  });

  it('limits - the auth beyond WS_MAX_CONNECTIONS_PER_USER is RATE_LIMITED and closed with 4429; others are not affected', async () => {
    const gw = await gateway({ WS_MAX_CONNECTIONS_PER_USER: '2' });
    const u = await registerMember(gw, memberships, `many${randomUUID().slice(0, 6)}`, []);
    const [c1, c2, c3] = [await connect(gw), await connect(gw), await connect(gw)];
    await c1.auth(u.token);
    await c2.auth(u.token);
    await expect(c3.auth(u.token)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect((await c3.closed).code).toBe(4429);
    await expect(c2.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    // Another user is not counted against this one; a closed connection frees its place.
    await authed('someone', [], gw);
    await c1.close();
    const c4 = await connect(gw);
    await eventually(async () => (await c4.auth(u.token).catch(() => null)) !== null);
  });

  it('limits - over the request rate: RATE_LIMITED with a retry hint, ping exempt, then 4430 after too many refusals in a row', async () => {
    const gw = await gateway({ WS_RATE_PER_S: '1', WS_RATE_BURST: '5' });
    const r = await authed('rapid', [], gw);
    // auth took one token.
    for (let i = 0; i < 4; i++) await expect(r.c.request('presence.active', {})).resolves.toEqual({ idle: false });
    const refused = await r.c.request('presence.active', {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/retryAfterMs=\d+/) });
    await expect(r.c.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    for (let i = 0; i < WsLimits.rateLimitedBeforeClose; i++)
      r.c.sendRaw(JSON.stringify({ type: 'req', id: `f${i}`, op: 'presence.active' }));
    expect((await r.c.closed).code).toBe(4430);
  });

  it('shutdown - a request in flight is answered, every connection gets server.shutdown, then the close 1012', async () => {
    const gwId = `gw-stop-${randomUUID().slice(0, 8)}`;
    const gw = await startTestGateway(s.namespace, { GATEWAY_ID: gwId, GATEWAY_DRAIN_MS: '5000' });
    const a = await authed('stu', ['general'], gw);
    const anon = await connect(gw);
    let release!: () => void;
    holdHistory = new Promise<void>((resolve) => (release = resolve));
    const seen = rpcSeen.filter((op) => op === 'history.page').length;
    const inflight = a.c.request('history.page', { roomId: 'general' });
    await eventually(() => rpcSeen.filter((op) => op === 'history.page').length > seen);
    const opened = await eventually(() => signals.find((x) => x.kind === 'opened' && x.userId === a.user.userId));
    try {
      const stopping = gw.close();
      for (const c of [a.c, anon]) {
        const f = await c.waitForFrame('server.shutdown');
        expect(f).toEqual({
          type: 'evt',
          event: 'server.shutdown',
          position: 0,
          data: { reason: expect.any(String), reconnectWithinMs: 5000 },
        });
      }
      // New requests are refused meanwhile (safe to retry elsewhere); ping still answers.
      await expect(a.c.request('rooms.list', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(a.c.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
      release();
      await expect(inflight).resolves.toEqual({ roomId: 'general', messages: [], nextBefore: null });
      for (const c of [a.c, anon]) expect((await c.closed).code).toBe(1012);
      await stopping;
      // The event came before the reply of the request in flight, and both before the close.
      const order = a.c.received.map((f) => (f.type === 'evt' ? f.event : f.ok ? 'reply' : 'error'));
      expect(order.indexOf('server.shutdown')).toBeLessThan(order.lastIndexOf('reply'));
      await eventually(() => signals.find((x) => x.kind === 'closed' && x.connId === opened.connId));
    } finally {
      release();
      holdHistory = null;
    }
  });
});
