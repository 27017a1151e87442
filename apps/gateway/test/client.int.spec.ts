import type { NatsConnection } from '@nats-io/transport-node';
import { ChatClient, login, register, wsUrlOf, type AuthLost, type StateChange } from '@chat/client';
import { createSubjects, ok, type Subjects } from '@chat/contracts';
import { connectNats, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { TEST_JWT_SECRET, startTestGateway } from '../src/testing/test-gateway';

// libs/client against a real gateway started in-process: it authenticates by itself, comes back
// after the gateway restarts (re-sending auth), renews its token in band from a token function,
// and stops with authLost when the token expires.

describe('client - against a real gateway', () => {
  let nc: NatsConnection;
  let s: Subjects;
  let gw: RunningService | undefined;
  const clients: ChatClient[] = [];
  /** rooms.list is not answered while this is set (a request kept in flight). */
  let holdRoomsList = false;

  beforeAll(async () => {
    s = createSubjects(randomName());
    nc = await connectNats({ servers: await testNatsUrl(), name: 'client-test' });
    // The rooms service as far as auth needs it: this user is in no room.
    nc.subscribe(s.rpc('rooms.userRooms'), { queue: 'rooms', callback: (_e, m) => void m.respond(encodeJson(ok({ roomIds: [] }))) });
    nc.subscribe(s.rpc('rooms.list'), {
      queue: 'rooms',
      callback: (_e, m) => {
        if (!holdRoomsList) m.respond(encodeJson(ok([])));
      },
    });
    await nc.flush();
    gw = await startTestGateway(s.namespace);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gw?.close();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  function track(c: ChatClient) {
    clients.push(c);
    const states: StateChange[] = [];
    c.on('state', (x) => states.push(x));
    return states;
  }

  it('reconnects after the gateway restarts and authenticates again with the current token', async () => {
    const base = gw!.url;
    const port = new URL(base).port;
    await register(base, 'Rita', 'password-1');
    let token = (await login(base, 'Rita', 'password-1')).accessToken;
    const c = new ChatClient({
      url: wsUrlOf(base),
      WebSocket,
      token: () => token,
      reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    });
    const states = track(c);
    const ready = jest.fn();
    c.on('ready', ready);
    c.open();
    await eventually(() => c.state === 'open');
    expect(ready).toHaveBeenCalledTimes(1);
    expect(c.user?.username).toBe('Rita');
    expect(await c.request('ping', {})).toEqual({ time: expect.any(String) });

    // The gateway goes away (server.shutdown, its drain, then 1012) and is not back for a while: the client keeps retrying.
    holdRoomsList = true;
    const pending = c.request('rooms.list', {}, { timeoutMs: 20_000 });
    await gw!.close();
    gw = undefined;
    await eventually(() => states.some((x) => x.state === 'reconnecting' && x.code === 1012));
    await eventually(() => states.filter((x) => x.state === 'reconnecting' && x.retryAt !== undefined).length >= 3, 10_000);
    // The request in flight (unanswered through the drain) failed when the socket closed.
    await expect(pending).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('1012') });
    holdRoomsList = false;

    // A new token meanwhile (as after a re-login): the reconnect sends that one.
    const exp = Math.floor(Date.now() / 1000) + 600;
    const { sid } = jwt.decode(token) as jwt.JwtPayload; // the same login session
    token = jwt.sign({ sub: c.user!.userId, name: 'Rita', sid, exp }, TEST_JWT_SECRET);
    gw = await startTestGateway(s.namespace, { HTTP_PORT: port });
    await eventually(() => c.state === 'open', 15_000);
    expect(ready).toHaveBeenCalledTimes(2);
    expect(ready.mock.calls[1][0].expiresAt).toBe(new Date(exp * 1000).toISOString());
    expect(await c.request('rooms.list', {})).toEqual({ rooms: [] });
    expect(states.filter((x) => x.state === 'closed')).toEqual([]);
  });

  it('a token that expires closes the client for good with authLost (4403)', async () => {
    await register(gw!.url, 'Tom', 'password-1');
    const { user, accessToken } = await login(gw!.url, 'Tom', 'password-1');
    const { sid } = jwt.decode(accessToken) as jwt.JwtPayload;
    const short = jwt.sign({ sub: user.userId, name: 'Tom', sid, exp: Math.floor(Date.now() / 1000) + 2 }, TEST_JWT_SECRET);
    const lost: AuthLost[] = [];
    const c = await ChatClient.connect(wsUrlOf(gw!.url), { WebSocket, token: short, reconnect: { initialDelayMs: 50 } });
    const states = track(c);
    c.on('authLost', (x) => lost.push(x));
    expect(c.state).toBe('open');
    expect(await c.closed).toEqual({ code: 4403, reason: expect.any(String) });
    expect(lost).toEqual([{ error: expect.objectContaining({ code: 'TOKEN_EXPIRED' }), code: 4403 }]);
    expect(states.map((x) => x.state)).toEqual(['closed']);
  });

  it('a token function keeps the connection past its first token: the client re-authenticates in band with a fresh token before expiry', async () => {
    await register(gw!.url, 'Tia', 'password-1');
    const { user, accessToken } = await login(gw!.url, 'Tia', 'password-1');
    const { sid } = jwt.decode(accessToken) as jwt.JwtPayload; // the same login session
    let issued = 0;
    // Tokens of 3 s (whole seconds: the expiry rounds down), renewed 1.5 s before they expire.
    const token = async () => {
      issued++;
      return jwt.sign({ sub: user.userId, name: 'Tia', sid, exp: Math.floor(Date.now() / 1000) + 3 }, TEST_JWT_SECRET);
    };
    const c = await ChatClient.connect(wsUrlOf(gw!.url), { WebSocket, token, renewBeforeMs: 1500, reconnect: false });
    const states = track(c);
    const firstExpiry = Date.now() + 3000;
    // Well past the first token's expiry the connection is the same one, still open.
    await eventually(() => Date.now() > firstExpiry + 1500 && issued >= 3, 15_000);
    expect(c.state).toBe('open');
    expect(await c.request('ping', {})).toEqual({ time: expect.any(String) });
    expect(states).toEqual([]);
  });

  it('ChatClient.connect fails with UNAVAILABLE when nothing listens', async () => {
    await expect(ChatClient.connect('ws://127.0.0.1:9/ws', { WebSocket })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
