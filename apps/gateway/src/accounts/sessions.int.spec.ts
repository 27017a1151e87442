import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects, decodeAccountEvent, type AccountEvent, type LoginResult, type SessionView, type Subjects } from '@chat/contracts';
import { ChatClient, register, wsUrlOf } from '@chat/client';
import { connectNats } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { answerUserRooms } from '../testing/rooms-stand-in';
import { startTestGateway } from '../testing/test-gateway';

/**
 * Sessions over HTTP through the real gateway app against the real NATS: refresh rotation and
 * reuse detection, logout, password change, disable, delete, and that each closes the affected
 * WebSockets at once. The rooms service is stood in for by a responder on `rooms.userRooms`.
 */
describe('gateway sessions - refresh tokens, logout, password, disable, delete', () => {
  let svc: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const ns = randomName();
  const clients: ChatClient[] = [];

  type Res = { status: number; json: any };
  async function call(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Res> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  const errorOf = (r: Res) => ({ status: r.status, code: r.json?.error?.code });

  async function loginAs(
    username: string,
    password = 'password-1',
    extra: Record<string, unknown> = {},
    userAgent = 'jest',
  ): Promise<LoginResult> {
    const r = await call('POST', '/api/auth/login', { body: { username, password, ...extra }, headers: { 'user-agent': userAgent } });
    expect({ username, status: r.status }).toEqual({ username, status: 200 });
    return r.json as LoginResult;
  }
  async function newUser(username: string): Promise<LoginResult> {
    await register(svc.url, username, 'password-1');
    return loginAs(username);
  }
  async function connected(token: string): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(svc.url), { WebSocket, reconnect: false });
    clients.push(c);
    await c.auth(token);
    return c;
  }
  const refresh = (refreshToken: unknown) => call('POST', '/api/auth/refresh', { body: { refreshToken } });
  const sessionsOf = async (token: string) => {
    const r = await call('GET', '/api/account/sessions', { token });
    expect(r.status).toBe(200);
    return (r.json as { sessions: SessionView[] }).sessions;
  };
  async function accountEvents(userId: string): Promise<AccountEvent[]> {
    const events: AccountEvent[] = [];
    for (let seq = 1; ;) {
      const m = await svc.deps.js.nextOnSubject(s.streams.accounts.name, s.accounts.events(userId), seq);
      if (!m) return events;
      const d = decodeAccountEvent(m.data);
      if (d.ok) events.push(d.event);
      seq = m.seq + 1;
    }
  }

  beforeAll(async () => {
    s = createSubjects(ns);
    nc = await connectNats({ servers: await testNatsUrl(), name: 'sessions-test' });
    // Nobody is in any room here.
    answerUserRooms(nc, s, new Map());
    await nc.flush();
    svc = await startTestGateway(ns, { SERVER_ADMINS: 'root' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await svc?.close();
    await nc?.close();
    await deleteNamespace(ns);
  });

  it('login - remember chooses the refresh lifetime; the session is listed as current', async () => {
    await register(svc.url, 'Rita', 'password-1');
    const short = await loginAs('rita', 'password-1', {}, 'browser-a');
    const long = await loginAs('rita', 'password-1', { remember: true }, 'browser-b');
    const day = Date.parse(short.refreshExpiresAt) - Date.now();
    const month = Date.parse(long.refreshExpiresAt) - Date.now();
    expect(day > 23 * 3600_000 && day <= 24 * 3600_000).toBe(true);
    expect(month > 29 * 24 * 3600_000 && month <= 30 * 24 * 3600_000).toBe(true);
    const list = await sessionsOf(short.accessToken);
    expect(list.map((v) => [v.sessionId, v.current, v.remember, v.userAgent]).sort()).toEqual(
      [
        [short.sessionId, true, false, 'browser-a'],
        [long.sessionId, false, true, 'browser-b'],
      ].sort(),
    );
  });

  it('refresh - rotates; the replaced token then revokes the whole session, the new one included', async () => {
    const first = await newUser('Rob');
    const c = await connected(first.accessToken);
    const second = (await refresh(first.refreshToken)).json as LoginResult;
    expect(second).toEqual(expect.objectContaining({ sessionId: first.sessionId, user: first.user, tokenType: 'Bearer' }));
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((jwt.decode(second.accessToken) as jwt.JwtPayload).sid).toBe(first.sessionId);
    const third = (await refresh(second.refreshToken)).json as LoginResult;
    expect(third.sessionId).toBe(first.sessionId);

    // the first token again: theft suspected, the family ends
    expect(errorOf(await refresh(first.refreshToken))).toEqual({ status: 401, code: 'SESSION_REVOKED' });
    expect((await c.closed).code).toBe(4410);
    expect(errorOf(await refresh(third.refreshToken))).toEqual({ status: 401, code: 'SESSION_REVOKED' });
    expect(errorOf(await call('GET', '/api/account/sessions', { token: third.accessToken }))).toEqual({
      status: 401,
      code: 'SESSION_REVOKED',
    });
    const c2 = await ChatClient.connect(wsUrlOf(svc.url), { WebSocket, reconnect: false });
    clients.push(c2);
    await expect(c2.auth(third.accessToken)).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
  });

  it('logout - closes that session`s WebSocket with 4410 at once; other sessions keep working', async () => {
    const a = await newUser('Lou');
    const b = await loginAs('lou');
    const ca = await connected(a.accessToken);
    const cb = await connected(b.accessToken);
    expect((await call('POST', '/api/auth/logout', { token: a.accessToken })).status).toBe(204);
    expect((await ca.closed).code).toBe(4410);
    expect(errorOf(await refresh(a.refreshToken))).toEqual({ status: 401, code: 'SESSION_REVOKED' });
    await expect(cb.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    const fresh = (await refresh(b.refreshToken)).json as LoginResult;
    expect(fresh.sessionId).toBe(b.sessionId);

    // With a refresh token in the body, that session (of the same user) ends too.
    const c = await loginAs('lou');
    const out = await call('POST', '/api/auth/logout', { token: fresh.accessToken, body: { refreshToken: c.refreshToken } });
    expect(out.status).toBe(204);
    expect((await cb.closed).code).toBe(4410);
    expect(errorOf(await refresh(c.refreshToken)).code).toBe('SESSION_REVOKED');
  });

  it('logout-all - ends every session of the user and closes all their connections', async () => {
    const a = await newUser('Alma');
    const b = await loginAs('alma');
    const other = await newUser('Otto');
    const [ca, cb, co] = [await connected(a.accessToken), await connected(b.accessToken), await connected(other.accessToken)];
    expect((await call('POST', '/api/auth/logout-all', { token: b.accessToken })).status).toBe(204);
    expect((await ca.closed).code).toBe(4410);
    expect((await cb.closed).code).toBe(4410);
    expect(errorOf(await refresh(a.refreshToken)).code).toBe('SESSION_REVOKED');
    expect(errorOf(await refresh(b.refreshToken)).code).toBe('SESSION_REVOKED');
    await expect(co.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
  });

  it('sessions - one of the caller`s sessions can be ended; another user`s is NOT_FOUND', async () => {
    const a = await newUser('Sue');
    const b = await loginAs('sue');
    const stranger = await newUser('Stan');
    const cb = await connected(b.accessToken);
    const gone = await call('DELETE', `/api/account/sessions/${encodeURIComponent(stranger.sessionId)}`, { token: a.accessToken });
    expect(errorOf(gone)).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect((await refresh(stranger.refreshToken)).status).toBe(200);
    expect(errorOf(await call('DELETE', '/api/account/sessions/nonsense', { token: a.accessToken }))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
    const del = await call('DELETE', `/api/account/sessions/${encodeURIComponent(b.sessionId)}`, { token: a.accessToken });
    expect(del.status).toBe(204);
    expect((await cb.closed).code).toBe(4410);
    expect((await sessionsOf(a.accessToken)).map((v) => v.sessionId)).toEqual([a.sessionId]);
  });

  it('password - revokes the other sessions, keeps the current one, appends UserPasswordChanged', async () => {
    const a = await newUser('Pam');
    const b = await loginAs('pam');
    const [ca, cb] = [await connected(a.accessToken), await connected(b.accessToken)];
    const wrong = await call('POST', '/api/account/password', {
      token: a.accessToken,
      body: { currentPassword: 'nope', newPassword: 'password-2' },
    });
    expect(errorOf(wrong)).toEqual({ status: 401, code: 'AUTH_FAILED' });
    const short = await call('POST', '/api/account/password', {
      token: a.accessToken,
      body: { currentPassword: 'password-1', newPassword: 'x' },
    });
    expect(errorOf(short)).toEqual({ status: 400, code: 'BAD_REQUEST' });
    expect((await loginAs('pam', 'password-1')).user).toEqual(a.user); // nothing changed so far
    const extra = (await accountEvents(a.user.userId)).length;

    const changed = await call('POST', '/api/account/password', {
      token: a.accessToken,
      body: { currentPassword: 'password-1', newPassword: 'password-2' },
    });
    expect(changed.status).toBe(204);
    expect((await cb.closed).code).toBe(4410);
    await expect(ca.request('ping', {})).resolves.toEqual({ time: expect.any(String) });
    expect((await refresh(a.refreshToken)).status).toBe(200);
    expect(errorOf(await refresh(b.refreshToken)).code).toBe('SESSION_REVOKED');
    expect(errorOf(await call('POST', '/api/auth/login', { body: { username: 'pam', password: 'password-1' } }))).toEqual({
      status: 401,
      code: 'AUTH_FAILED',
    });
    await loginAs('pam', 'password-2');
    const events = await accountEvents(a.user.userId);
    expect(events).toHaveLength(extra + 1);
    expect(events.at(-1)).toEqual(
      expect.objectContaining({ type: 'UserPasswordChanged', payload: { userId: a.user.userId, keptSessionId: a.sessionId } }),
    );
  });

  it('admin - a non-admin gets FORBIDDEN; disable closes connections 4411, login and refresh get ACCOUNT_DISABLED; enable lets them in', async () => {
    const root = await newUser('root');
    const dora = await newUser('Dora');
    const cd = await connected(dora.accessToken);
    const notAdmin = await call('POST', '/api/admin/users/disable', { token: dora.accessToken, body: { username: 'root' } });
    expect(errorOf(notAdmin)).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect((await refresh(root.refreshToken)).status).toBe(200);
    expect(errorOf(await call('POST', '/api/admin/users/disable', { token: root.accessToken, body: {} }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(errorOf(await call('POST', '/api/admin/users/disable', { token: root.accessToken, body: { username: 'nobody-x' } }))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });

    const disabled = await call('POST', '/api/admin/users/disable', {
      token: root.accessToken,
      body: { username: 'DORA', reason: 'spam' },
    });
    expect(disabled.status).toBe(204);
    expect((await cd.closed).code).toBe(4411);
    expect(errorOf(await call('POST', '/api/auth/login', { body: { username: 'dora', password: 'password-1' } }))).toEqual({
      status: 403,
      code: 'ACCOUNT_DISABLED',
    });
    // the password is checked first: a wrong one does not reveal the account is disabled
    expect(errorOf(await call('POST', '/api/auth/login', { body: { username: 'dora', password: 'wrong-1' } })).code).toBe('AUTH_FAILED');
    expect(errorOf(await refresh(dora.refreshToken))).toEqual({ status: 403, code: 'ACCOUNT_DISABLED' });
    const c2 = await ChatClient.connect(wsUrlOf(svc.url), { WebSocket, reconnect: false });
    clients.push(c2);
    await expect(c2.auth(dora.accessToken)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });

    expect((await call('POST', '/api/admin/users/enable', { token: root.accessToken, body: { username: 'dora' } })).status).toBe(204);
    await loginAs('dora');
    const types = (await accountEvents(dora.user.userId)).map((e) => e.type);
    expect(types).toEqual(['UserRegistered', 'UserDisabled', 'UserEnabled']);
    const ev = (await accountEvents(dora.user.userId))[1];
    expect(ev.payload).toEqual({ userId: dora.user.userId, byUserId: root.user.userId, reason: 'spam' });
  });

  it('delete - wrong password changes nothing; then sessions end, login fails, the name stays taken, UserDeleted appended', async () => {
    const a = await newUser('Dex');
    const b = await loginAs('dex');
    const cb = await connected(b.accessToken);
    expect(errorOf(await call('DELETE', '/api/account', { token: a.accessToken, body: { password: 'wrong-1' } }))).toEqual({
      status: 401,
      code: 'AUTH_FAILED',
    });
    expect(errorOf(await call('DELETE', '/api/account', { token: a.accessToken, body: {} }))).toEqual({ status: 400, code: 'BAD_REQUEST' });
    await expect(cb.request('ping', {})).resolves.toEqual({ time: expect.any(String) });

    expect((await call('DELETE', '/api/account', { token: a.accessToken, body: { password: 'password-1' } })).status).toBe(204);
    expect((await cb.closed).code).toBe(4410);
    expect(errorOf(await call('POST', '/api/auth/login', { body: { username: 'dex', password: 'password-1' } }))).toEqual({
      status: 401,
      code: 'AUTH_FAILED',
    });
    expect(errorOf(await refresh(a.refreshToken)).code).toBe('SESSION_REVOKED');
    expect(errorOf(await call('POST', '/api/auth/register', { body: { username: 'Dex', password: 'password-9' } }))).toEqual({
      status: 409,
      code: 'USERNAME_TAKEN',
    });
    const events = await accountEvents(a.user.userId);
    expect(events.map((e) => e.type)).toEqual(['UserRegistered', 'UserDeleted']);
    expect(events[1].payload).toEqual({ userId: a.user.userId, username: 'Dex' });
  });

  it('bad input - typed errors, nothing changed', async () => {
    const a = await newUser('Bea');
    expect(errorOf(await call('GET', '/api/account/sessions'))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(errorOf(await call('GET', '/api/account/sessions', { token: 'not-a-token' }))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(errorOf(await call('POST', '/api/auth/refresh', { body: {} }))).toEqual({ status: 400, code: 'BAD_REQUEST' });
    expect(errorOf(await call('POST', '/api/auth/refresh', { body: { refreshToken: 5 } }))).toEqual({ status: 400, code: 'BAD_REQUEST' });
    expect(errorOf(await refresh('x'.repeat(201)))).toEqual({ status: 400, code: 'BAD_REQUEST' });
    expect(errorOf(await refresh('garbage'))).toEqual({ status: 401, code: 'SESSION_REVOKED' });
    // a well-formed token of the right session with a secret it never issued is refused without revoking
    expect(errorOf(await refresh(`${a.sessionId}.${'A'.repeat(43)}`))).toEqual({ status: 401, code: 'SESSION_REVOKED' });
    expect(errorOf(await call('POST', '/api/auth/logout', { token: a.accessToken, body: { refreshToken: 7 } }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(errorOf(await call('POST', '/api/account/password', { token: a.accessToken, body: { newPassword: 'password-2' } }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(errorOf(await call('POST', '/api/admin/users/enable', { token: a.accessToken, body: { username: 'bea' } }))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    // all of it left the session and the account as they were
    expect((await sessionsOf(a.accessToken)).map((v) => v.sessionId)).toEqual([a.sessionId]);
    expect((await refresh(a.refreshToken)).status).toBe(200);
    await loginAs('bea');
    expect((await accountEvents(a.user.userId)).map((e) => e.type)).toEqual(['UserRegistered']);
  });
});
