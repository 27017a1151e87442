import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  createSubjects,
  emptyFilterConfig,
  makeEvent,
  type LoginResult,
  type ModerationEvent,
  type Subjects,
  type UserServerBanned,
  type UserServerKicked,
  type UserServerUnbanned,
} from '@chat/contracts';
import { ChatClient, register, wsUrlOf } from '@chat/client';
import { connectNats, decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { eventually, randomName, testNatsUrl } from '@chat/testing';
import { WebSocket } from 'ws';
import { answerUserRooms, serviceCtx } from '../testing/rooms-stand-in';
import { closeGatewayTest, startTestGateway } from '../testing/test-gateway';

/**
 * The gateway's side of moderation, through real gateway apps on the real NATS: server bans and
 * kicks (appended to the moderation stream's access subjects here, as the moderation service
 * appends them) close connections on every gateway and refuse logins; moderation news reaches
 * the user's connections; the filters' HTTP routes reach the moderation service's RPCs (played
 * by responders on their real subjects, like `rooms.userRooms`).
 */
describe('gateway moderation - bans, kicks, news, filters over HTTP', () => {
  const ns = randomName();
  let s: Subjects;
  let nc: NatsConnection;
  let gwA: RunningService;
  let gwB: RunningService;
  let gwC: RunningService | undefined;
  const clients: ChatClient[] = [];
  /** What the moderation stand-in was asked, by RPC name. */
  const asked: Array<{ rpc: string; req: Record<string, unknown> }> = [];

  type Res = { status: number; json: any };
  async function call(gw: RunningService, method: string, path: string, opts: { body?: unknown; raw?: string; token?: string } = {}) {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers,
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null } as Res;
  }
  /** A counter of the gateway's /metrics, 0 when absent. */
  async function metric(gw: RunningService, name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }
  const errorOf = (r: Res) => ({ status: r.status, code: r.json?.error?.code as string | undefined });
  const login = (gw: RunningService, username: string, password = 'password-1') =>
    call(gw, 'POST', '/api/auth/login', { body: { username, password } });
  async function newUser(username: string): Promise<LoginResult> {
    await register(gwA.url, username, 'password-1');
    const r = await login(gwA, username);
    expect(r.status).toBe(200);
    return r.json as LoginResult;
  }
  async function connected(gw: RunningService, token: string): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(gw.url), { WebSocket, reconnect: false });
    clients.push(c);
    await c.auth(token);
    return c;
  }
  async function appendAccess<E extends ModerationEvent>(userId: string, type: E['type'], payload: E['payload']): Promise<void> {
    const event = makeEvent<E>(serviceCtx('moderation'), type, 1, payload);
    await gwA.deps.js.append(s.moderation.access(userId), event, { msgId: event.id });
  }
  const by = { byUserId: null, byUsername: null };
  const ban = (u: LoginResult, reason: string) =>
    appendAccess<UserServerBanned>(u.user.userId, 'UserServerBanned', { ...u.user, reason, review: false, rule: null, ...by });
  const unban = (u: LoginResult) => appendAccess<UserServerUnbanned>(u.user.userId, 'UserServerUnbanned', { ...u.user, ...by });
  const kick = (u: LoginResult, reason: string) =>
    appendAccess<UserServerKicked>(u.user.userId, 'UserServerKicked', { ...u.user, reason, ...by });

  beforeAll(async () => {
    s = createSubjects(ns);
    nc = await connectNats({ servers: await testNatsUrl(), name: 'moderation-gateway-test' });
    answerUserRooms(nc, s, new Map());
    // The moderation service's filter RPCs: FORBIDDEN for a user named "nobody-mod", else an answer made of the request.
    for (const rpc of ['moderation.filters', 'moderation.setFilters'] as const)
      nc.subscribe(s.rpc(rpc), {
        queue: 'moderation',
        callback: (_e, m) => {
          const req = decodeJson(m.data) as Record<string, unknown>;
          asked.push({ rpc, req });
          const answer =
            req.username === 'nobody-mod'
              ? { ok: false, error: { code: 'FORBIDDEN', message: 'server moderators only' } }
              : rpc === 'moderation.filters'
                ? {
                    ok: true,
                    data: {
                      scope: req.roomId ? 'room' : 'server',
                      roomId: req.roomId ?? null,
                      config: emptyFilterConfig(),
                      updatedAt: null,
                      updatedBy: null,
                      position: 0,
                    },
                  }
                : { ok: true, data: { position: 7, scope: req.roomId ? 'room' : 'server', roomId: req.roomId ?? null } };
          m.respond(encodeJson(answer));
        },
      });
    await nc.flush();
    [gwA, gwB] = await Promise.all([startTestGateway(ns), startTestGateway(ns)]);
  });
  afterAll(() => closeGatewayTest({ clients, gateways: [gwA, gwB, gwC], nc, s }));

  it("ban - closes the user's connections on every gateway (4412), refuses login, refresh, auth and Bearer with SERVER_BANNED; a gateway started later knows; unban lifts it", async () => {
    const bob = await newUser('Bob');
    const carol = await newUser('carol');
    const onA = await connected(gwA, bob.accessToken);
    const onB = await connected(gwB, bob.accessToken);
    const other = await connected(gwA, carol.accessToken);

    await ban(bob, 'spam');
    expect(await onA.closed).toEqual({ code: 4412, reason: 'banned from this server: spam' });
    expect(await onB.closed).toEqual({ code: 4412, reason: 'banned from this server: spam' });
    expect(await other.request('ping', {})).toEqual({ time: expect.any(String) });

    for (const gw of [gwA, gwB]) expect(errorOf(await login(gw, 'bob'))).toEqual({ status: 403, code: 'SERVER_BANNED' });
    // The password is checked first: a wrong one does not reveal the ban.
    expect(errorOf(await login(gwA, 'bob', 'wrong-1'))).toEqual({ status: 401, code: 'AUTH_FAILED' });
    expect(errorOf(await call(gwB, 'POST', '/api/auth/refresh', { body: { refreshToken: bob.refreshToken } }))).toEqual({
      status: 403,
      code: 'SERVER_BANNED',
    });
    expect(errorOf(await call(gwA, 'GET', '/api/account/sessions', { token: bob.accessToken }))).toEqual({
      status: 403,
      code: 'SERVER_BANNED',
    });
    const again = await ChatClient.connect(wsUrlOf(gwB.url), { WebSocket, reconnect: false });
    clients.push(again);
    await expect(again.auth(bob.accessToken)).rejects.toMatchObject({ code: 'SERVER_BANNED' });
    expect((await again.closed).code).toBe(4412);

    // A gateway started while the ban stands has read it before serving.
    gwC = await startTestGateway(ns);
    expect(errorOf(await login(gwC, 'bob'))).toEqual({ status: 403, code: 'SERVER_BANNED' });

    await unban(bob);
    for (const gw of [gwA, gwB, gwC]) await eventually(async () => (await login(gw, 'bob')).status === 200);
    // The refresh token refused while banned was kept: it works again.
    const refreshed = await call(gwA, 'POST', '/api/auth/refresh', { body: { refreshToken: bob.refreshToken } });
    expect(refreshed.status).toBe(200);
    const back = await connected(gwB, (refreshed.json as LoginResult).accessToken);
    expect(await back.request('ping', {})).toEqual({ time: expect.any(String) });
  });

  it("kick - closes the user's connections on every gateway (4413); they may log in and connect again at once", async () => {
    const kim = await newUser('Kim');
    const onA = await connected(gwA, kim.accessToken);
    const onB = await connected(gwB, kim.accessToken);
    await kick(kim, '冷静一下');
    expect(await onA.closed).toEqual({ code: 4413, reason: 'disconnected by a moderator: 冷静一下' });
    expect((await onB.closed).code).toBe(4413);
    expect((await login(gwB, 'kim')).status).toBe(200);
    const back = await connected(gwA, kim.accessToken);
    expect(await back.request('ping', {})).toEqual({ time: expect.any(String) });
  });

  it('ban - a long reason is cut to fit the close frame (123 bytes)', async () => {
    const lee = await newUser('lee');
    const c = await connected(gwA, lee.accessToken);
    await ban(lee, '广告'.repeat(100));
    const closed = await c.closed;
    expect(closed.code).toBe(4412);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(closed.reason.startsWith('banned from this server: 广告')).toBe(true);
  });

  it('news - moderation.* from live.userModeration reach every connection of that user (position 0), checked whole; anything else is dropped', async () => {
    const mia = await newUser('Mia');
    const ned = await newUser('ned');
    const [c1, c2, other] = [
      await connected(gwA, mia.accessToken),
      await connected(gwB, mia.accessToken),
      await connected(gwA, ned.accessToken),
    ];
    const subject = s.live.userModeration(mia.user.userId);
    const time = new Date().toISOString();
    // Dropped: an unknown event, a field missing, not JSON, a non-moderation event name.
    nc.publish(subject, encodeJson({ event: 'moderation.nope', data: { reason: 'x', by: null, rule: null, time } }));
    nc.publish(subject, encodeJson({ event: 'moderation.warned', data: { reason: 'no time', by: null, rule: null } }));
    nc.publish(subject, new TextEncoder().encode('not json'));
    nc.publish(subject, encodeJson({ event: 'message.posted', data: {} }));
    nc.publish(
      subject,
      encodeJson({
        event: 'moderation.warned',
        data: { reason: '请文明发言', by: { userId: ned.user.userId, username: 'ned' }, rule: null, time, extra: 'dropped' },
      }),
    );
    const mute = {
      muteId: 'm-1',
      userId: mia.user.userId,
      username: 'Mia',
      roomId: null,
      until: new Date(Date.now() + 60_000).toISOString(),
      reason: 'flood',
      by: null,
      rule: 'strikes',
      time,
    };
    nc.publish(subject, encodeJson({ event: 'moderation.muted', data: mute }));
    for (const c of [c1, c2]) {
      const warned = await c.waitForFrame('moderation.warned');
      expect(warned).toMatchObject({
        position: 0,
        data: { reason: '请文明发言', by: { userId: ned.user.userId, username: 'ned' }, rule: null, time },
      });
      expect(warned.data).not.toHaveProperty('extra');
      expect((await c.waitForFrame('moderation.muted')).data).toEqual(mute);
      // Same publisher, same subject: everything published before the mute has been handled.
      expect(c.events('moderation.warned')).toHaveLength(1);
      expect(c.events('message.posted')).toHaveLength(0);
    }
    expect(other.events('moderation.warned')).toHaveLength(0);
    // Each gateway counted what it dropped (four messages, for each connected user's subscription there).
    for (const gw of [gwA, gwB]) expect(await metric(gw, 'gateway_live_dropped_total', 'subject="live.moderation"')).toBe(4);
  });

  it('filters over HTTP - GET and PUT forward to moderation.filters / setFilters with the caller; a 10,000-word list fits (1 MiB); errors are typed', async () => {
    const ada = await newUser('ada');
    const token = ada.accessToken;
    expect(errorOf(await call(gwA, 'GET', '/api/moderation/filters'))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    // The token is checked before the (up to 1 MiB) body is read: without a valid one, a body
    // too large or malformed is refused for the token (401), not for the body (413, 400).
    for (const raw of ['x'.repeat(1024 * 1024 + 1), '{"config":'])
      for (const auth of [{}, { token: 'not-a-token' }])
        expect(errorOf(await call(gwA, 'PUT', '/api/moderation/filters', { ...auth, raw }))).toEqual({
          status: 401,
          code: 'UNAUTHENTICATED',
        });

    const server = await call(gwA, 'GET', '/api/moderation/filters', { token });
    expect(server).toEqual({ status: 200, json: expect.objectContaining({ scope: 'server', roomId: null }) });
    expect(asked.at(-1)).toEqual({ rpc: 'moderation.filters', req: { userId: ada.user.userId, username: 'ada' } });
    expect((await call(gwA, 'GET', '/api/moderation/filters?roomId=', { token })).json.scope).toBe('server');
    expect((await call(gwA, 'GET', '/api/moderation/filters?roomId=lounge', { token })).json).toMatchObject({
      scope: 'room',
      roomId: 'lounge',
    });
    expect(asked.at(-1)!.req).toEqual({ roomId: 'lounge', userId: ada.user.userId, username: 'ada' });
    const before = asked.length;
    expect(errorOf(await call(gwA, 'GET', '/api/moderation/filters?roomId=Not%20A%20Room', { token }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(errorOf(await call(gwA, 'GET', '/api/moderation/filters?other=1', { token }))).toEqual({ status: 400, code: 'BAD_REQUEST' });

    // Bigger than a WebSocket frame (64 KiB), well under 1 MiB.
    const words = Array.from({ length: 10_000 }, (_, i) => ({ term: `badword${i}`, action: i % 2 ? 'mask' : 'block' }));
    const config = { ...emptyFilterConfig(), words };
    expect(JSON.stringify(config).length).toBeGreaterThan(64 * 1024);
    const set = await call(gwB, 'PUT', '/api/moderation/filters', { token, body: { roomId: 'lounge', config } });
    expect(set).toEqual({ status: 200, json: { position: 7, scope: 'room', roomId: 'lounge' } });
    const forwarded = asked.at(-1)!;
    expect(forwarded.rpc).toBe('moderation.setFilters');
    expect(forwarded.req).toMatchObject({ roomId: 'lounge', userId: ada.user.userId, username: 'ada' });
    expect((forwarded.req.config as { words: unknown[] }).words).toHaveLength(10_000);
    expect(asked.length).toBe(before + 1);

    // Bad input is refused with the field, nothing forwarded.
    const bad = await call(gwA, 'PUT', '/api/moderation/filters', {
      token,
      body: { config: { ...config, words: [{ term: '', action: 'nuke' }] } },
    });
    expect(errorOf(bad)).toEqual({ status: 400, code: 'BAD_REQUEST' });
    expect(bad.json.error.details.map((d: { field: string }) => d.field).join(' ')).toMatch(/config\.words/);
    expect(errorOf(await call(gwA, 'PUT', '/api/moderation/filters', { token, raw: '{"config":' }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
    });
    // Over 1 MiB: 413, and only this route has the larger limit.
    const huge = await call(gwA, 'PUT', '/api/moderation/filters', {
      token,
      raw: JSON.stringify({ config, pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(errorOf(huge)).toEqual({ status: 413, code: 'FRAME_TOO_LARGE' });
    expect(huge.json.error.message).toContain(String(1024 * 1024));
    const bigLogin = await call(gwA, 'POST', '/api/auth/login', { raw: JSON.stringify({ username: 'ada', password: 'x'.repeat(20_000) }) });
    expect(errorOf(bigLogin)).toEqual({ status: 413, code: 'FRAME_TOO_LARGE' });
    expect(asked.length).toBe(before + 1);

    // The moderation service's refusal passes through.
    const nobody = await newUser('nobody-mod');
    expect(
      errorOf(await call(gwA, 'PUT', '/api/moderation/filters', { token: nobody.accessToken, body: { config: emptyFilterConfig() } })),
    ).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
  });
});
