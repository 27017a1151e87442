import type { NatsConnection } from '@nats-io/transport-node';
import {
  WsLimits,
  createSubjects,
  makeEvent,
  ok,
  type GatewayHeartbeat,
  type GatewaySignal,
  type MemberJoined,
  type MemberLeft,
  type PresenceChanged,
  type RoomCreated,
  type RoomPresenceSignal,
  type Subjects,
  type UserView,
} from '@chat/contracts';
import { ChatClient, ChatClientError, login, wsUrlOf } from '@chat/client';
import { connectNats, decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { startFakeNotifier } from './testing/fake-notifier';
import { appendPost, registerMember, serviceCtx } from './testing/rooms-stand-in';
import { TEST_JWT_SECRET, startTestGateway } from './testing/test-gateway';

/**
 * The gateway on its own against the real NATS. The rooms and history services are stood in
 * for by a tiny responder on their real RPC subjects (a fake service, not a mock of NATS), and
 * room events are appended to the real CHAT stream, whose republish feeds the gateway.
 */
describe('gateway websocket - protocol, fan-out and presence signals', () => {
  let svc: RunningService;
  let quick: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const gatewayId = 'gw-test';
  /** Fake rooms service state: userId -> rooms. */
  const memberships = new Map<string, Set<string>>();
  const rpcSeen: Array<{ op: string; req: Record<string, unknown> }> = [];
  const posts: Array<{ clientMsgId: string; outstandingBefore: number }> = [];
  const clients: ChatClient[] = [];
  /** rooms.userRooms answers for these users wait until the promise resolves (and see the list as it was asked). */
  const holdUserRooms = new Map<string, Promise<void>>();

  const user = (name: string, rooms: string[] = []) => registerMember(svc, memberships, name, rooms);
  const post = (roomId: string, sender: UserView, body: string) => appendPost(svc, s, roomId, sender, body);

  async function connect(target: RunningService = svc): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(target.url), { WebSocket, reconnect: false });
    clients.push(c);
    return c;
  }

  async function authed(name: string, rooms: string[] = []) {
    const u = await user(name, rooms);
    const c = await connect();
    await c.auth(u.token);
    return { ...u, c };
  }

  beforeAll(async () => {
    const ns = randomName();
    const natsUrl = await testNatsUrl();
    s = createSubjects(ns);
    nc = await connectNats({ servers: natsUrl, name: 'gateway-test' });
    const reply = (op: string, fn: (req: Record<string, unknown>) => unknown) =>
      nc.subscribe(s.rpc(op as never), {
        queue: op.split('.')[0],
        callback: (_e, m) => {
          const req = decodeJson(m.data) as Record<string, unknown>;
          rpcSeen.push({ op, req });
          const answer = fn(req);
          const hold = op === 'rooms.userRooms' ? holdUserRooms.get(req.userId as string) : undefined;
          if (hold) void hold.then(() => m.respond(encodeJson(answer)));
          else m.respond(encodeJson(answer));
        },
      });
    reply('rooms.userRooms', (req) => ok({ roomIds: [...(memberships.get(req.userId as string) ?? [])] }));
    reply('rooms.join', (req) => {
      memberships.get(req.userId as string)?.add(req.roomId as string);
      const room = {
        roomId: req.roomId,
        name: req.roomId,
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 1000,
        slowModeSeconds: 0,
        memberCount: 1,
        myRole: 'member',
      };
      return ok({ room, position: 1 });
    });
    reply('history.page', (req) => ok({ roomId: req.roomId, messages: [], nextBefore: null }));
    // rooms.post: bodies starting with "hold" are answered only once three of them wait
    // (proves they were in flight together); others after a moment (records what overlapped).
    const held: Array<() => void> = [];
    let outstanding = 0;
    nc.subscribe(s.rpc('rooms.post'), {
      queue: 'rooms',
      callback: (_e, m) => {
        const req = decodeJson(m.data) as { roomId: string; clientMsgId: string; body: string };
        posts.push({ clientMsgId: req.clientMsgId, outstandingBefore: outstanding });
        const ack = ok({
          messageId: randomUUID(),
          roomId: req.roomId,
          clientMsgId: req.clientMsgId,
          time: new Date().toISOString(),
          position: posts.length,
          duplicate: false,
        });
        outstanding++;
        const answer = () => {
          outstanding--;
          m.respond(encodeJson(ack));
        };
        if (!req.body.startsWith('hold')) return void setTimeout(answer, 5);
        held.push(answer);
        if (held.length === 3) held.splice(0).forEach((a) => a());
      },
    });
    startFakeNotifier(nc, s);
    await nc.flush();

    svc = await startTestGateway(ns, { GATEWAY_ID: gatewayId, PRESENCE_HEARTBEAT_MS: '200' });
    quick = await startTestGateway(ns, { WS_AUTH_TIMEOUT_MS: '100' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await svc?.close();
    await quick?.close();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  it('auth - rejects a bad and an expired token, keeps the connection, then accepts a good one', async () => {
    const u = await user('Tess', ['general']);
    const c = await connect();
    await expect(c.request('rooms.list', {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(c.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    await expect(c.auth('not-a-token')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const forged = jwt.sign({ sub: u.user.userId, name: 'Tess' }, 'another-secret-another-secret-another', { expiresIn: 60 });
    await expect(c.auth(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const expired = jwt.sign({ sub: u.user.userId, name: 'Tess', exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT_SECRET);
    await expect(c.auth(expired)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    const res = await c.auth(u.token);
    expect(res).toEqual({
      user: u.user,
      protocol: 1,
      expiresAt: expect.any(String),
      sessionId: (jwt.decode(u.token) as jwt.JwtPayload).sid,
    });
    expect(rpcSeen).toContainEqual({ op: 'rooms.userRooms', req: { userId: u.user.userId } });
  });

  it('auth - closes with 4401 when no auth arrives in time', async () => {
    const c = await connect(quick);
    expect((await c.closed).code).toBe(4401);
  });

  it('auth - closes with 4403 when the token expires', async () => {
    const u = await user('Shorty', []);
    const c = await connect();
    const { sid } = jwt.decode(u.token) as jwt.JwtPayload;
    const token = jwt.sign({ sub: u.user.userId, name: 'Shorty', sid, exp: Math.floor(Date.now() / 1000) + 2 }, TEST_JWT_SECRET);
    await c.auth(token);
    expect((await c.closed).code).toBe(4403);
  });

  it('frames - bad frames get typed errors and the connection stays usable', async () => {
    const { c } = await authed('Frank');
    c.sendRaw('{not json');
    expect(await c.nextReply()).toEqual({ type: 'res', id: null, ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
    c.sendRaw(JSON.stringify({ type: 'req', id: 'u1', op: 'rooms.explode' }));
    expect(await c.nextReply()).toEqual(
      expect.objectContaining({ id: 'u1', ok: false, error: expect.objectContaining({ code: 'UNKNOWN_OP' }) }),
    );
    c.sendRaw(JSON.stringify({ type: 'req', id: 'v1', op: 'message.send', data: { roomId: 'general' } }));
    const invalid = await c.nextReply();
    expect(invalid).toEqual(expect.objectContaining({ id: 'v1', ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }));
    expect(!invalid.ok && invalid.error.details?.map((d) => d.field).sort()).toEqual(['data.body', 'data.clientMsgId']);
    c.sendRaw(Buffer.from('binary'));
    expect(await c.nextReply()).toEqual(
      expect.objectContaining({ id: null, ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }),
    );
    c.sendRaw(JSON.stringify({ type: 'req', id: 'big', op: 'ping', data: { pad: 'x'.repeat(WsLimits.maxFrameBytes) } }));
    expect(await c.nextReply()).toEqual(
      expect.objectContaining({ id: 'big', ok: false, error: expect.objectContaining({ code: 'FRAME_TOO_LARGE' }) }),
    );
    await expect(c.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    await expect(c.request('nope' as never, {} as never)).rejects.toBeInstanceOf(ChatClientError);
  });

  it('frames - deeply nested data, before and after auth, is BAD_REQUEST and the gateway lives on', async () => {
    // Written by hand: JSON.stringify itself recurses and would overflow on it (16 KB of text).
    const deep = '['.repeat(8000) + '"leaf"' + ']'.repeat(8000);
    const c = await connect();
    c.sendRaw(`{"type":"req","id":"d1","op":"auth","data":{"token":"x","x":${deep}}}`);
    expect(await c.nextReply()).toEqual(
      expect.objectContaining({ id: 'd1', ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }),
    );
    await expect(c.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    const { c: authedClient } = await authed('Nesty');
    authedClient.sendRaw(`{"type":"req","id":"d2","op":"history.page","data":{"roomId":"general","before":${deep}}}`);
    expect(await authedClient.nextReply()).toEqual(
      expect.objectContaining({ id: 'd2', ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }),
    );
    const login = await fetch(`${svc.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"username":"a","password":"b","x":${deep}}`,
    });
    expect(login.status).toBe(400);
    expect(((await login.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });

  it('frames - too many bad frames in a row close the connection with 4400', async () => {
    const c = await connect();
    for (let i = 0; i < WsLimits.maxConsecutiveBadFrames; i++) c.sendRaw('garbage');
    expect((await c.closed).code).toBe(4400);
  });

  it('fan-out - a posted message reaches each member once, with its position, and no one else', async () => {
    const a = await authed('Ann', ['general']);
    const b = await authed('Ben', ['general', 'other']);
    const outsider = await authed('Olga', ['other']);
    const sent = await post('general', a.user, 'hello everyone');
    for (const m of [a, b]) {
      const f = await m.c.waitForFrame('message.posted', (d) => d.messageId === sent.messageId);
      expect(f.position).toBe(sent.position);
      expect(f.data).toEqual(
        expect.objectContaining({
          roomId: 'general',
          senderId: a.user.userId,
          senderName: 'Ann',
          body: 'hello everyone',
          html: '<p>hello everyone</p>',
          position: sent.position,
        }),
      );
    }
    // A later message in each room marks the point by which any duplicate would have arrived.
    const marker = await post('general', b.user, 'marker');
    const otherMarker = await post('other', b.user, 'other marker');
    await a.c.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    await b.c.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    await outsider.c.waitFor('message.posted', (d) => d.messageId === otherMarker.messageId);
    for (const m of [a, b]) expect(m.c.events('message.posted').filter((f) => f.data.messageId === sent.messageId)).toHaveLength(1);
    expect(outsider.c.events('message.posted').map((f) => f.data.roomId)).toEqual(['other']);
  });

  it('fan-out - a join from elsewhere (MemberJoined) adds the local connections and is forwarded', async () => {
    const a = await authed('Jill', ['lobby']);
    const j = await authed('Jack', []);
    const joined = makeEvent<MemberJoined>(serviceCtx('rooms'), 'MemberJoined', 1, {
      roomId: 'lobby',
      userId: j.user.userId,
      username: 'Jack',
      role: 'member',
    });
    const r = await svc.deps.js.append(s.chat.roomMeta('lobby'), joined, { msgId: joined.id });
    const seen = await a.c.waitForFrame('member.joined', (d) => d.userId === j.user.userId);
    expect(seen).toEqual(
      expect.objectContaining({ position: r.seq, data: expect.objectContaining({ roomId: 'lobby', username: 'Jack', role: 'member' }) }),
    );
    await j.c.waitFor('member.joined', (d) => d.userId === j.user.userId);
    const sent = await post('lobby', a.user, 'welcome Jack');
    await j.c.waitFor('message.posted', (d) => d.messageId === sent.messageId);
    await expect(j.c.request('history.page', { roomId: 'lobby' })).resolves.toEqual({ roomId: 'lobby', messages: [], nextBefore: null });
  });

  it('fan-out - messages stored right after a join elsewhere, before this gateway subscribed, still arrive once and in order', async () => {
    const k = await authed('Kim', []);
    const outsider = await authed('Out', []);
    const joined = makeEvent<MemberJoined>(serviceCtx('rooms'), 'MemberJoined', 1, {
      roomId: 'quiet',
      userId: k.user.userId,
      username: 'Kim',
      role: 'member',
    });
    // Published back to back on one connection (stored in this order) without waiting for
    // acks: the messages are stored while the gateway is still learning of the join.
    const join = svc.deps.js.append(s.chat.roomMeta('quiet'), joined, { msgId: joined.id });
    const sent = await Promise.all(Array.from({ length: 5 }, (_, i) => post('quiet', outsider.user, `right after ${i}`)));
    await join;
    await k.c.waitFor('message.posted', (d) => d.messageId === sent[4].messageId);
    const got = k.c.events('message.posted').filter((f) => f.data.roomId === 'quiet');
    expect(got.map((f) => f.position)).toEqual(sent.map((m) => m.position));
  });

  it('fan-out - a room created elsewhere makes the owner connections follow it', async () => {
    const o = await authed('Otto', []);
    const created = makeEvent<RoomCreated>(serviceCtx('rooms'), 'RoomCreated', 2, {
      roomId: 'otto-room',
      name: 'Otto',
      topic: '',
      visibility: 'private',
      postPolicy: 'members',
      memberLimit: 10,
      slowModeSeconds: 0,
      ownerId: o.user.userId,
      ownerName: 'Otto',
    });
    const r = await svc.deps.js.append(s.chat.roomMeta('otto-room'), created, { msgId: created.id });
    const f = await o.c.waitForFrame('member.joined', (d) => d.roomId === 'otto-room');
    expect(f).toEqual(
      expect.objectContaining({ position: r.seq, data: expect.objectContaining({ userId: o.user.userId, role: 'owner' }) }),
    );
    const sent = await post('otto-room', o.user, 'my room');
    await o.c.waitFor('message.posted', (d) => d.messageId === sent.messageId);
  });

  it('auth - a room left while a second connection authenticates stays left (an older room list cannot bring it back)', async () => {
    const lea = await authed('Lea', ['vault', 'general']);
    let release!: () => void;
    holdUserRooms.set(lea.user.userId, new Promise<void>((r) => (release = r)));
    const second = await connect();
    const asksOfLea = () => rpcSeen.filter((x) => x.op === 'rooms.userRooms' && x.req.userId === lea.user.userId).length;
    const askedBefore = asksOfLea();
    const authing = second.auth(lea.token);
    // The list is taken now (with 'vault'); the leave is stored and reaches the gateway before the answer does.
    await eventually(() => asksOfLea() > askedBefore);
    const left = makeEvent<MemberLeft>(serviceCtx('rooms'), 'MemberLeft', 2, {
      roomId: 'vault',
      userId: lea.user.userId,
      username: 'Lea',
      successorId: null,
      successorName: null,
    });
    await svc.deps.js.append(s.chat.roomMeta('vault'), left, { msgId: left.id });
    await lea.c.waitFor('member.left', (d) => d.userId === lea.user.userId && d.roomId === 'vault');
    release();
    await authing;
    holdUserRooms.delete(lea.user.userId);
    const secret = await post('vault', lea.user, 'after Lea left');
    const marker = await post('general', lea.user, 'marker');
    await second.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    await lea.c.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    for (const c of [second, lea.c]) expect(c.events('message.posted').map((f) => f.data.messageId)).not.toContain(secret.messageId);
  });

  it('history.page - forwarded as it is (the history service authorises); room.join makes the user follow the room at once', async () => {
    const h = await authed('Hank', []);
    await expect(h.c.request('history.page', { roomId: 'secret', limit: 5 })).resolves.toEqual({
      roomId: 'secret',
      messages: [],
      nextBefore: null,
    });
    expect(rpcSeen).toContainEqual({ op: 'history.page', req: { roomId: 'secret', limit: 5, userId: h.user.userId } });
    await h.c.request('room.join', { roomId: 'secret' });
    const sent = await post('secret', h.user, 'now I am in');
    await h.c.waitFor('message.posted', (d) => d.messageId === sent.messageId);
  });

  it('rpc - an unavailable service comes back as UNAVAILABLE', async () => {
    const { c } = await authed('Una', []);
    await expect(c.request('presence.list', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('presence - signals opened/closed and heartbeats the connection (active, not idle)', async () => {
    const signals: GatewaySignal[] = [];
    const beats: GatewayHeartbeat[] = [];
    const sub1 = nc.subscribe(s.presence.gatewayConnections(gatewayId), {
      callback: (_e, m) => void signals.push(decodeJson(m.data) as GatewaySignal),
    });
    const sub2 = nc.subscribe(s.presence.gatewayHeartbeat(gatewayId), {
      callback: (_e, m) => void beats.push(decodeJson(m.data) as GatewayHeartbeat),
    });
    await nc.flush();
    const p = await authed('Pam', []);
    const opened = await eventually(() => signals.find((x) => x.kind === 'opened' && x.userId === p.user.userId));
    expect(opened).toEqual(expect.objectContaining({ gatewayId, username: 'Pam', connId: expect.any(String) }));
    const beat = await eventually(() => beats.find((b) => b.connections.some((c) => c.connId === opened.connId && !c.idle)));
    expect(beat).toEqual(expect.objectContaining({ gatewayId, intervalMs: 200, beat: expect.any(Number), part: 0, parts: 1 }));
    await p.c.close();
    await eventually(() => signals.find((x) => x.kind === 'closed' && x.connId === opened.connId));
    sub1.unsubscribe();
    sub2.unsubscribe();
  });

  it('presence - a connection still authenticating is not reported online in heartbeats', async () => {
    const beats: GatewayHeartbeat[] = [];
    const sub = nc.subscribe(s.presence.gatewayHeartbeat(gatewayId), {
      callback: (_e, m) => void beats.push(decodeJson(m.data) as GatewayHeartbeat),
    });
    const quinn = await user('Quinn', []);
    let release!: () => void;
    holdUserRooms.set(quinn.user.userId, new Promise<void>((r) => (release = r)));
    try {
      const c = await connect();
      const authing = c.auth(quinn.token);
      await eventually(() => rpcSeen.some((x) => x.op === 'rooms.userRooms' && x.req.userId === quinn.user.userId));
      // Two heartbeats (200 ms apart) sent while the room list is held.
      const from = beats.length;
      await eventually(() => beats.length >= from + 2);
      expect(
        beats
          .slice(from)
          .flatMap((b) => b.connections)
          .filter((x) => x.userId === quinn.user.userId),
      ).toEqual([]);
      release();
      await authing;
      await eventually(() => beats.slice(from + 2).some((b) => b.connections.some((x) => x.userId === quinn.user.userId)));
    } finally {
      release?.();
      holdUserRooms.delete(quinn.user.userId);
      sub.unsubscribe();
    }
  });

  it('presence - a stored PresenceChanged is not pushed to everyone; a status reaches a room only through its presence subject', async () => {
    const a = await authed('Pia', ['pia-room']);
    const b = await authed('Pete', ['pia-room']);
    const stranger = await authed('Stranger', []);
    const e = makeEvent<PresenceChanged>(serviceCtx('presence'), 'PresenceChanged', 2, {
      userId: a.user.userId,
      username: 'Pia',
      status: 'away',
      text: null,
      lastSeen: new Date().toISOString(),
    });
    const r = await svc.deps.js.append(s.presence.user(a.user.userId), e, { msgId: e.id });
    const signal: RoomPresenceSignal = { position: r.seq, presence: { ...e.payload, status: 'busy' } };
    nc.publish(s.live.roomPresence('pia-room'), encodeJson(signal));
    for (const m of [a, b]) {
      const f = await m.c.waitForFrame('presence.changed', (d) => d.userId === a.user.userId);
      expect(f).toEqual(expect.objectContaining({ position: r.seq, data: expect.objectContaining({ status: 'busy' }) }));
      expect(m.c.events('presence.changed')).toHaveLength(1);
    }
    expect(stranger.c.events('presence.changed')).toEqual([]);
  });

  it('message.send - with WS_ORDERED_SENDS=false requests of one connection run concurrently', async () => {
    const gw = await startTestGateway(s.namespace, { WS_ORDERED_SENDS: 'false' });
    try {
      const u = await user('Paul', ['general']);
      const c = await connect(gw);
      await c.auth(u.token);
      const acks = await Promise.all(
        [1, 2, 3].map((i) => c.request('message.send', { roomId: 'general', clientMsgId: `hold-${i}`, body: `hold ${i}` })),
      );
      expect(acks.map((a) => a.clientMsgId).sort()).toEqual(['hold-1', 'hold-2', 'hold-3']);
    } finally {
      await gw.close();
    }
  });

  it('message.send - by default one connection has one send in flight, in send order', async () => {
    const gw = await startTestGateway(s.namespace);
    try {
      const u = await user('Ord', ['general']);
      const c = await connect(gw);
      await c.auth(u.token);
      const ids = Array.from({ length: 6 }, (_, i) => `ord-${i}`);
      await Promise.all(ids.map((id) => c.request('message.send', { roomId: 'general', clientMsgId: id, body: 'in order' })));
      const mine = posts.filter((p) => p.clientMsgId.startsWith('ord-'));
      expect(mine.map((p) => p.clientMsgId)).toEqual(ids);
      expect(mine.every((p) => p.outstandingBefore === 0)).toBe(true);
    } finally {
      await gw.close();
    }
  });

  it('shutdown - connected clients are told, closed with 1012 and reported closed', async () => {
    const ns = s.namespace;
    const gw = await startTestGateway(ns, { GATEWAY_ID: 'gw-stop' });
    const signals: GatewaySignal[] = [];
    const sub = nc.subscribe(s.presence.gatewayConnections('gw-stop'), {
      callback: (_e, m) => void signals.push(decodeJson(m.data) as GatewaySignal),
    });
    await nc.flush();
    const u = await user('Stu', ['general']);
    const c = await connect(gw);
    await c.auth(u.token);
    await gw.close();
    await c.waitFor('server.shutdown');
    expect((await c.closed).code).toBe(1012);
    await eventually(() => signals.find((x) => x.kind === 'closed' && x.userId === u.user.userId));
    sub.unsubscribe();
  });

  it('live - a malformed live message is dropped and fan-out goes on', async () => {
    const a = await authed('Mal', ['junk']);
    await svc.deps.js.append(s.chat.roomMessages('junk'), { not: 'an event' }, { msgId: randomUUID() });
    const sent = await post('junk', a.user, 'still fine');
    await a.c.waitFor('message.posted', (d) => d.messageId === sent.messageId);
    expect(a.c.events('message.posted')).toHaveLength(1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_live_dropped_total\{[^}]*\} [1-9]/);
  });
});
