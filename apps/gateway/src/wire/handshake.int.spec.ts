import type { NatsConnection } from '@nats-io/transport-node';
import { WsLimits, type Subjects } from '@chat/contracts';
import { ChatClient, login, logout, register, wsUrlOf, type LoginResult } from '@chat/client';
import type { RunningService } from '@chat/platform';
import { randomName } from '@chat/testing';
import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { startRoomsStandIns } from '../testing/rooms-stand-in';
import { TEST_JWT_SECRET, closeGatewayTest, startTestGateway } from '../testing/test-gateway';

jest.setTimeout(60_000);

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * The handshake from outside: every token that is not a live session's own gets a typed error
 * and no session (the connection stays, unauthenticated: a later op is UNAUTHENTICATED), and
 * over HTTP the same tokens get 401. The frame limits: a frame above 64 KiB is answered
 * FRAME_TOO_LARGE, one above 1 MiB closes the connection with 1009.
 */
describe('gateway - handshake and frame size from outside', () => {
  let gw: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const clients: ChatClient[] = [];
  const memberships = new Map<string, Set<string>>();
  let me: LoginResult;
  let claims: { sub: string; name: string; sid: string };

  const connect = async () => {
    const c = await ChatClient.connect(wsUrlOf(gw.url), { WebSocket, reconnect: false });
    clients.push(c);
    return c;
  };
  /** The token is refused with `code`, and the connection has no session afterwards. */
  const refused = async (token: string, code: string) => {
    const c = await connect();
    await expect(c.auth(token)).rejects.toMatchObject({ code });
    await expect(c.request('rooms.list', {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const bearer = await fetch(`${gw.url}/api/account/sessions`, { headers: { Authorization: `Bearer ${token}` } });
    expect({ status: bearer.status, code: ((await bearer.json()) as { error: { code: string } }).error.code }).toEqual({
      status: 401,
      code,
    });
    return c;
  };

  beforeAll(async () => {
    ({ s, nc } = await startRoomsStandIns('gateway-handshake-test', memberships));
    gw = await startTestGateway(s.namespace);
    const name = `h${randomName().slice(-8)}`;
    const { user } = await register(gw.url, name, 'password-1');
    memberships.set(user.userId, new Set());
    me = await login(gw.url, name, 'password-1');
    claims = jwt.decode(me.accessToken) as typeof claims;
  });
  afterAll(() => closeGatewayTest({ clients, gateways: [gw], nc, s }));

  it('auth - no token: BAD_REQUEST naming the field, no session', async () => {
    const c = await connect();
    await expect(c.request('auth', {} as never)).rejects.toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'data.token' }] });
    await expect(c.request('auth', { token: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'data.token' }] });
    await expect(c.request('rooms.list', {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const bearer = await fetch(`${gw.url}/api/account/sessions`);
    expect(bearer.status).toBe(401);
  });

  it('auth - an expired token of a live session: TOKEN_EXPIRED', async () => {
    const expired = jwt.sign(
      { ...claims, iat: Math.floor(Date.now() / 1000) - 120, exp: Math.floor(Date.now() / 1000) - 60 },
      TEST_JWT_SECRET,
      {
        noTimestamp: true,
      },
    );
    await refused(expired, 'TOKEN_EXPIRED');
  });

  it('auth - a token signed with another key, or with HS512 and the right key: UNAUTHENTICATED', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    await refused(jwt.sign({ ...claims, exp }, 'another-key-that-is-long-enough-0123456789', { noTimestamp: true }), 'UNAUTHENTICATED');
    await refused(jwt.sign({ ...claims, exp }, TEST_JWT_SECRET, { algorithm: 'HS512', noTimestamp: true }), 'UNAUTHENTICATED');
  });

  it('auth - alg none (unsigned), with or without a signature part: UNAUTHENTICATED', async () => {
    const payload = b64({ ...claims, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
    for (const alg of ['none', 'None', 'NONE']) {
      await refused(`${b64({ alg, typ: 'JWT' })}.${payload}.`, 'UNAUTHENTICATED');
    }
    // The real signature under an alg:none header does not make it valid either.
    const real = me.accessToken.split('.')[2];
    await refused(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.${real}`, 'UNAUTHENTICATED');
  });

  it('auth - the access token of a logged-out session: SESSION_REVOKED; before that it worked', async () => {
    const name = `r${randomName().slice(-8)}`;
    const { user } = await register(gw.url, name, 'password-1');
    memberships.set(user.userId, new Set());
    const session = await login(gw.url, name, 'password-1');
    const before = await connect();
    await expect(before.auth(session.accessToken)).resolves.toMatchObject({ user });
    await logout(gw.url, session.accessToken);
    expect((await before.closed).code).toBe(4410);
    await refused(session.accessToken, 'SESSION_REVOKED');
  });

  it('frames - above 64 KiB: FRAME_TOO_LARGE and the connection stays; above 1 MiB: closed with 1009', async () => {
    const c = await connect();
    await c.auth(me.accessToken);
    c.sendRaw(JSON.stringify({ type: 'req', id: 'big', op: 'ping', data: { pad: 'x'.repeat(WsLimits.maxFrameBytes) } }));
    expect(await c.nextReply()).toMatchObject({ id: 'big', ok: false, error: { code: 'FRAME_TOO_LARGE' } });
    await expect(c.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    c.sendRaw(JSON.stringify({ type: 'req', id: 'huge', op: 'ping', data: { pad: 'x'.repeat(WsLimits.hardMaxFrameBytes) } }));
    expect((await c.closed).code).toBe(1009);
  });
});
