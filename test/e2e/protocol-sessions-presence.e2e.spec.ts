// An independent client written ONLY from docs/protocol.md (raw `fetch` and raw `ws`), covering
// sessions and tokens, presence, typing, resuming, limits and close codes, and errors for bad
// input. The assertions are what the document SAYS: when one fails, either the server or the
// document is wrong. Only the stack start-up (fixture.ts) and the generic frame client
// (doc-client.ts) are shared with other tests.
import { eventually } from '@chat/testing';
import { freePort, printLogsIfFailed, startTestStack, TestStack } from './fixture';
import {
  DocClient,
  ISO_MS,
  ISO_WHOLE,
  expectErr,
  expectFields,
  expectOk,
  expectPresenceView,
  http,
  reportUndocumented,
  type HttpOptions,
  type HttpRes,
  sleep,
  wsUrlOf,
} from './doc-client';

jest.setTimeout(120_000);

// Gateway settings chosen within the documented ranges so that the limits can be observed.
const IDLE_MS = 10_000; // PRESENCE_IDLE_MS: allowed 10000-86400000
const MAX_CONN = 4; // WS_MAX_CONNECTIONS_PER_USER
const DRAIN_MS = 1500; // GATEWAY_DRAIN_MS
const RESUME_MAX_EVENTS = 20; // RESUME_MAX_EVENTS
const RATE_BURST = 200; // WS_RATE_BURST (default)
const RATE_PER_S = 50; // WS_RATE_PER_S (default)
const FANOUT = 3; // PRESENCE_FANOUT_MAX_MEMBERS (presence service, 2-100000)

interface Login {
  accessToken: string;
  tokenType: string;
  expiresAt: string;
  refreshToken: string;
  refreshExpiresAt: string;
  sessionId: string;
  user: { userId: string; username: string };
}

interface User {
  username: string;
  password: string;
  userId: string;
  login: Login;
}

describe('protocol.md: sessions, presence, typing, resuming, limits', () => {
  let stack: TestStack;
  let base: string;
  let wsUrl: string;
  const opened: DocClient[] = [];
  let uniq = 0;
  const name = (p: string) => `${p}${++uniq}`;
  const rid = (p: string) => `${p}-${++uniq}`;

  const api = (method: string, path: string, opts: HttpOptions & { body?: unknown } = {}): Promise<HttpRes> =>
    http(base, method, path, opts.body, opts);

  function expectHttpErr(where: string, r: HttpRes, status: number, code: string): void {
    expect({ where, status: r.status, code: r.json?.error?.code, msg: typeof r.json?.error?.message }).toEqual({
      where,
      status,
      code,
      msg: 'string',
    });
  }

  function expectLoginResult(where: string, l: any): void {
    expectFields(where, l, {
      accessToken: 'string',
      tokenType: ['Bearer'],
      expiresAt: 'string',
      refreshToken: 'string',
      refreshExpiresAt: 'time',
      sessionId: 'string',
      user: 'object',
    });
    expect({ where, expiresAt: l.expiresAt }).toEqual({ where, expiresAt: expect.stringMatching(/\.000Z$/) });
    expect(l.expiresAt).toMatch(ISO_WHOLE);
    expect(l.expiresAt).toHaveLength(24);
    // refreshToken is `<sessionId>.<secret>`, at most 200 characters
    expect(l.refreshToken.startsWith(`${l.sessionId}.`)).toBe(true);
    expect(l.refreshToken.length).toBeLessThanOrEqual(200);
    expectFields(`${where}.user`, l.user, { userId: 'uuid', username: 'string' });
  }

  async function login(username: string, password: string, remember?: boolean, userAgent?: string): Promise<Login> {
    const body: Record<string, unknown> = { username, password };
    if (remember !== undefined) body.remember = remember;
    const r = await api('POST', '/api/auth/login', { body, headers: userAgent ? { 'user-agent': userAgent } : {} });
    expect({ login: username, status: r.status, body: r.status === 200 ? undefined : r.json }).toEqual({
      login: username,
      status: 200,
      body: undefined,
    });
    expectLoginResult('LoginResult', r.json);
    return r.json;
  }

  async function user(prefix: string): Promise<User> {
    const username = name(prefix);
    const password = `pw-${username}-secret`;
    const r = await api('POST', '/api/auth/register', { body: { username, password } });
    expect({ username, status: r.status }).toEqual({ username, status: 201 });
    const l = await login(username, password);
    return { username, password, userId: r.json.user.userId, login: l };
  }

  async function open(): Promise<DocClient> {
    const cl = await DocClient.open(wsUrl);
    opened.push(cl);
    return cl;
  }

  async function connect(token: string, resumeFrom?: number | null): Promise<DocClient> {
    const cl = await open();
    const data: Record<string, unknown> = { token };
    if (resumeFrom !== undefined) data.resumeFrom = resumeFrom;
    expectOk('auth', await cl.request('auth', data));
    return cl;
  }

  const ok = async (cl: DocClient, op: string, data?: unknown) => expectOk(`${op} ${JSON.stringify(data)}`, await cl.request(op, data));

  beforeAll(async () => {
    const admins = { SERVER_ADMINS: 'Ops' };
    stack = await startTestStack({
      serviceEnv: {
        gateway: {
          ...admins,
          PRESENCE_IDLE_MS: String(IDLE_MS),
          WS_MAX_CONNECTIONS_PER_USER: String(MAX_CONN),
          WS_RATE_PER_S: String(RATE_PER_S),
          WS_RATE_BURST: String(RATE_BURST),
          GATEWAY_DRAIN_MS: String(DRAIN_MS),
          RESUME_MAX_EVENTS: String(RESUME_MAX_EVENTS),
        },
        rooms: admins,
        presence: { ...admins, PRESENCE_FANOUT_MAX_MEMBERS: String(FANOUT) },
        moderation: admins,
        history: admins,
      },
    });
    base = stack.urls.gateway;
    wsUrl = wsUrlOf(base);
  });

  afterAll(async () => {
    for (const cl of opened) cl.close();
    reportUndocumented();
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'presence'], 15));

  // ===========================================================================================
  describe('HTTP: login, refresh, logout, sessions, password, deletion, disable', () => {
    it('login: remember true/false set refreshExpiresAt to 30 days / 1 day; sessions list shows remember, userAgent, current, newest first', async () => {
      const u = await user('rem');
      const t0 = Date.now();
      const long = await login(u.username, u.password, true, 'doc-agent/long');
      const short = await login(u.username.toUpperCase(), u.password, false, 'doc-agent/short');
      const dLong = Date.parse(long.refreshExpiresAt) - t0;
      const dShort = Date.parse(short.refreshExpiresAt) - t0;
      expect(Math.abs(dLong - 30 * 86400_000)).toBeLessThan(60_000);
      expect(Math.abs(dShort - 86400_000)).toBeLessThan(60_000);
      // access token: ACCESS_TOKEN_TTL_S default 900 s
      expect(Math.abs(Date.parse(long.expiresAt) - t0 - 900_000)).toBeLessThan(5_000);
      expect(long.sessionId).not.toBe(short.sessionId);

      const s = await api('GET', '/api/account/sessions', { token: short.accessToken });
      expect(s.status).toBe(200);
      expect(Array.isArray(s.json.sessions)).toBe(true);
      for (const [i, v] of s.json.sessions.entries())
        expectFields(`SessionView[${i}]`, v, {
          sessionId: 'string',
          createdAt: 'time',
          lastUsedAt: 'time',
          expiresAt: 'time',
          remember: 'boolean',
          userAgent: 'string',
          current: 'boolean',
        });
      // 3 live sessions (the one of user() + 2), newest first
      expect(s.json.sessions.map((x: any) => x.sessionId)).toEqual([short.sessionId, long.sessionId, u.login.sessionId]);
      const byId = Object.fromEntries(s.json.sessions.map((x: any) => [x.sessionId, x]));
      expect(byId[short.sessionId]).toMatchObject({ remember: false, current: true, userAgent: 'doc-agent/short' });
      expect(byId[long.sessionId]).toMatchObject({ remember: true, current: false, userAgent: 'doc-agent/long' });
      expect(byId[long.sessionId].expiresAt).toBe(long.refreshExpiresAt);
    });

    it('refresh rotates: same sessionId, new tokens, refreshExpiresAt moves on; the new access token authenticates', async () => {
      const u = await user('rot');
      const l = await login(u.username, u.password, true);
      await sleep(1100);
      const r = await api('POST', '/api/auth/refresh', { body: { refreshToken: l.refreshToken } });
      expect(r.status).toBe(200);
      expectLoginResult('refresh LoginResult', r.json);
      expect(r.json.sessionId).toBe(l.sessionId);
      expect(r.json.refreshToken).not.toBe(l.refreshToken);
      expect(r.json.accessToken).not.toBe(l.accessToken);
      expect(Date.parse(r.json.refreshExpiresAt)).toBeGreaterThan(Date.parse(l.refreshExpiresAt));
      expect(r.json.user).toEqual({ userId: u.userId, username: u.username });
      const cl = await open();
      const a = expectOk('auth (refreshed token)', await cl.request('auth', { token: r.json.accessToken }));
      expectFields('auth reply', a, { user: 'object', protocol: [1], expiresAt: 'string', sessionId: 'string' });
      expect(a.expiresAt).toMatch(ISO_WHOLE);
      expect(a.expiresAt).toBe(r.json.expiresAt);
      expect(a.sessionId).toBe(l.sessionId);
      expect('resume' in a).toBe(false);
      // the session list's lastUsedAt follows the refresh
      const s = await api('GET', '/api/account/sessions', { token: r.json.accessToken });
      const me = s.json.sessions.find((x: any) => x.sessionId === l.sessionId);
      expect(me.expiresAt).toBe(r.json.refreshExpiresAt);
      expect(me.current).toBe(true);
      cl.close();
    });

    it('reuse of a replaced refresh token: 401 SESSION_REVOKED, the session (newest token too) is revoked and its sockets close 4410', async () => {
      const u = await user('reuse');
      const l = await login(u.username, u.password);
      const other = await connect(u.login.accessToken); // another session of the same user stays
      const r1 = await api('POST', '/api/auth/refresh', { body: { refreshToken: l.refreshToken } });
      expect(r1.status).toBe(200);
      const cl = await connect(r1.json.accessToken);
      const cl0 = await connect(l.accessToken); // the old access token is still valid (same session)
      const again = await api('POST', '/api/auth/refresh', { body: { refreshToken: l.refreshToken } });
      expectHttpErr('reused refresh token', again, 401, 'SESSION_REVOKED');
      expect((await cl.waitClose()).code).toBe(4410);
      expect((await cl0.waitClose()).code).toBe(4410);
      const newest = await api('POST', '/api/auth/refresh', { body: { refreshToken: r1.json.refreshToken } });
      expectHttpErr('newest refresh token after reuse', newest, 401, 'SESSION_REVOKED');
      const bearer = await api('GET', '/api/account/sessions', { token: r1.json.accessToken });
      expectHttpErr('Bearer of the revoked session', bearer, 401, 'SESSION_REVOKED');
      const fresh = await open();
      expectErr('auth with the revoked session', await fresh.request('auth', { token: r1.json.accessToken }), 'SESSION_REVOKED');
      expect(fresh.isOpen).toBe(true);
      await sleep(300);
      expect(other.isOpen).toBe(true);
    });

    it('refresh: bad input', async () => {
      expectHttpErr('refresh {}', await api('POST', '/api/auth/refresh', { body: {} }), 400, 'BAD_REQUEST');
      expectHttpErr('refresh number', await api('POST', '/api/auth/refresh', { body: { refreshToken: 5 } }), 400, 'BAD_REQUEST');
      expectHttpErr(
        'refresh 201 chars',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: 'x'.repeat(201) } }),
        400,
        'BAD_REQUEST',
      );
      expectHttpErr(
        'refresh malformed',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: 'garbage' } }),
        401,
        'SESSION_REVOKED',
      );
      const u = await user('rbad');
      expectHttpErr(
        'refresh: a secret the session never issued',
        await api('POST', '/api/auth/refresh', {
          body: { refreshToken: `${u.login.sessionId}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` },
        }),
        401,
        'SESSION_REVOKED',
      );
      expectHttpErr(
        'refresh unknown field',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: u.login.refreshToken, extra: 1 } }),
        400,
        'BAD_REQUEST',
      );
    });

    it('logout ends this session (4410, refresh and Bearer refused), and the session of a refreshToken in its body; not the others', async () => {
      const u = await user('out');
      const a = await login(u.username, u.password);
      const b = await login(u.username, u.password);
      const ca = await connect(a.accessToken);
      const cb = await connect(b.accessToken);
      const keep = await connect(u.login.accessToken);
      const r = await api('POST', '/api/auth/logout', { token: a.accessToken, body: { refreshToken: b.refreshToken } });
      expect(r.status).toBe(204);
      expect(r.text).toBe('');
      expect((await ca.waitClose()).code).toBe(4410);
      expect((await cb.waitClose()).code).toBe(4410);
      expectHttpErr(
        'refresh after logout',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: a.refreshToken } }),
        401,
        'SESSION_REVOKED',
      );
      expectHttpErr(
        'refresh of the body session',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: b.refreshToken } }),
        401,
        'SESSION_REVOKED',
      );
      expectHttpErr('Bearer after logout', await api('POST', '/api/auth/logout', { token: a.accessToken }), 401, 'SESSION_REVOKED');
      await sleep(300);
      expect(keep.isOpen).toBe(true);
      // logout without a body
      const r2 = await api('POST', '/api/auth/logout', { token: u.login.accessToken });
      expect(r2.status).toBe(204);
      expect((await keep.waitClose()).code).toBe(4410);
    });

    it('logout-all ends every session; every socket of the user closes 4410', async () => {
      const u = await user('all');
      const a = await login(u.username, u.password);
      const c1 = await connect(u.login.accessToken);
      const c2 = await connect(a.accessToken);
      const r = await api('POST', '/api/auth/logout-all', { token: a.accessToken });
      expect(r.status).toBe(204);
      expect((await c1.waitClose()).code).toBe(4410);
      expect((await c2.waitClose()).code).toBe(4410);
      expectHttpErr(
        'refresh after logout-all',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: u.login.refreshToken } }),
        401,
        'SESSION_REVOKED',
      );
    });

    it("DELETE /api/account/sessions/:id ends that session (4410); unknown or another user's session is 404 NOT_FOUND", async () => {
      const u = await user('sess');
      const v = await user('sessv');
      const a = await login(u.username, u.password);
      const ca = await connect(a.accessToken);
      const keep = await connect(u.login.accessToken);
      expectHttpErr(
        "delete another user's session",
        await api('DELETE', `/api/account/sessions/${encodeURIComponent(v.login.sessionId)}`, { token: u.login.accessToken }),
        404,
        'NOT_FOUND',
      );
      expectHttpErr(
        'delete unknown session',
        await api('DELETE', '/api/account/sessions/nope', { token: u.login.accessToken }),
        404,
        'NOT_FOUND',
      );
      const r = await api('DELETE', `/api/account/sessions/${encodeURIComponent(a.sessionId)}`, { token: u.login.accessToken });
      expect(r.status).toBe(204);
      expect((await ca.waitClose()).code).toBe(4410);
      const list = await api('GET', '/api/account/sessions', { token: u.login.accessToken });
      expect(list.json.sessions.map((s: any) => s.sessionId)).toEqual([u.login.sessionId]);
      expectHttpErr(
        'deleting it again',
        await api('DELETE', `/api/account/sessions/${encodeURIComponent(a.sessionId)}`, { token: u.login.accessToken }),
        404,
        'NOT_FOUND',
      );
      await sleep(300);
      expect(keep.isOpen).toBe(true);
    });

    it('password change: wrong current 401 AUTH_FAILED; right one 204, other sessions end (4410), the asking one stays', async () => {
      const u = await user('pwd');
      const other = await login(u.username, u.password);
      const co = await connect(other.accessToken);
      const cm = await connect(u.login.accessToken);
      expectHttpErr(
        'wrong current password',
        await api('POST', '/api/account/password', {
          token: u.login.accessToken,
          body: { currentPassword: 'nope-nope', newPassword: 'new-password-1' },
        }),
        401,
        'AUTH_FAILED',
      );
      expectHttpErr(
        'short new password',
        await api('POST', '/api/account/password', {
          token: u.login.accessToken,
          body: { currentPassword: u.password, newPassword: 'short' },
        }),
        400,
        'BAD_REQUEST',
      );
      const r = await api('POST', '/api/account/password', {
        token: u.login.accessToken,
        body: { currentPassword: u.password, newPassword: 'new-password-1' },
      });
      expect(r.status).toBe(204);
      expect((await co.waitClose()).code).toBe(4410);
      await sleep(300);
      expect(cm.isOpen).toBe(true);
      expect((await api('GET', '/api/account/sessions', { token: u.login.accessToken })).status).toBe(200);
      expectHttpErr(
        'old password',
        await api('POST', '/api/auth/login', { body: { username: u.username, password: u.password } }),
        401,
        'AUTH_FAILED',
      );
      await login(u.username, 'new-password-1');
    });

    it('account deletion: wrong password 401; deleted: sockets 4410, others see member.left, login AUTH_FAILED, name stays taken', async () => {
      const u = await user('del');
      const w = await user('delw');
      const cu = await connect(u.login.accessToken);
      const cw = await connect(w.login.accessToken);
      const roomId = rid('delroom');
      await ok(cw, 'room.create', { roomId, name: 'Del room' });
      await ok(cu, 'room.join', { roomId });
      expectHttpErr(
        'delete, wrong password',
        await api('DELETE', '/api/account', { token: u.login.accessToken, body: { password: 'wrong-one' } }),
        401,
        'AUTH_FAILED',
      );
      const mark = cw.mark();
      const r = await api('DELETE', '/api/account', { token: u.login.accessToken, body: { password: u.password } });
      expect(r.status).toBe(204);
      expect((await cu.waitClose()).code).toBe(4410);
      const left = await cw.waitEvent((e) => e.event === 'member.left' && e.data.userId === u.userId, mark);
      expect(left.data).toMatchObject({ roomId, userId: u.userId, username: u.username, newOwner: null });
      expectHttpErr(
        'login to a deleted account',
        await api('POST', '/api/auth/login', { body: { username: u.username, password: u.password } }),
        401,
        'AUTH_FAILED',
      );
      expectHttpErr(
        'register the deleted name',
        await api('POST', '/api/auth/register', { body: { username: u.username, password: 'another-pass' } }),
        409,
        'USERNAME_TAKEN',
      );
      expectErr(
        'dm.send to a deleted user',
        await cw.request('dm.send', { username: u.username, clientMsgId: 'x1', body: 'hi' }),
        'NOT_FOUND',
      );
    });

    it('admin disable/enable (SERVER_ADMINS): 403 for others, 404 unknown; disabled: 4411, ACCOUNT_DISABLED on login (right password only) and refresh; enable: old sessions stay ended', async () => {
      // the administrator is configured by name: register exactly "Ops"
      const reg = await api('POST', '/api/auth/register', { body: { username: 'Ops', password: 'ops-password' } });
      expect([201, 409]).toContain(reg.status);
      const admin = await login('Ops', 'ops-password');
      const u = await user('dis');
      const bystander = await user('disby');
      const cu = await connect(u.login.accessToken);
      expectHttpErr(
        'disable by a non-admin',
        await api('POST', '/api/admin/users/disable', { token: u.login.accessToken, body: { username: u.username } }),
        403,
        'FORBIDDEN',
      );
      expectHttpErr(
        'disable unknown',
        await api('POST', '/api/admin/users/disable', { token: admin.accessToken, body: { username: 'nobody-here-xyz' } }),
        404,
        'NOT_FOUND',
      );
      expectHttpErr(
        'disable reason too long',
        await api('POST', '/api/admin/users/disable', {
          token: admin.accessToken,
          body: { username: u.username, reason: 'x'.repeat(301) },
        }),
        400,
        'BAD_REQUEST',
      );
      const r = await api('POST', '/api/admin/users/disable', {
        token: admin.accessToken,
        body: { username: u.username.toUpperCase(), reason: 'spam' },
      });
      expect(r.status).toBe(204);
      expect((await cu.waitClose()).code).toBe(4411);
      // again: no change, still 204
      expect((await api('POST', '/api/admin/users/disable', { token: admin.accessToken, body: { username: u.username } })).status).toBe(
        204,
      );
      expectHttpErr(
        'login disabled, right password',
        await api('POST', '/api/auth/login', { body: { username: u.username, password: u.password } }),
        403,
        'ACCOUNT_DISABLED',
      );
      expectHttpErr(
        'login disabled, wrong password',
        await api('POST', '/api/auth/login', { body: { username: u.username, password: 'wrong-pass' } }),
        401,
        'AUTH_FAILED',
      );
      const ref = await api('POST', '/api/auth/refresh', { body: { refreshToken: u.login.refreshToken } });
      // "The account can no longer log in or refresh (403 ACCOUNT_DISABLED), every session ends"
      expectHttpErr('refresh of a disabled account', ref, 403, 'ACCOUNT_DISABLED');
      const c2 = await open();
      const a2 = await c2.request('auth', { token: u.login.accessToken });
      expect(['ACCOUNT_DISABLED', 'SESSION_REVOKED']).toContain(a2.error?.code);
      expectHttpErr(
        'enable by a non-admin',
        await api('POST', '/api/admin/users/enable', { token: bystander.login.accessToken, body: { username: u.username } }),
        403,
        'FORBIDDEN',
      );
      // a Bearer call with a token of the disabled user: its session ended AND the account is disabled
      const b = await api('GET', '/api/account/sessions', { token: u.login.accessToken });
      expect({ status: b.status, code: b.json?.error?.code }).toEqual({ status: 403, code: 'ACCOUNT_DISABLED' });
      expect((await api('POST', '/api/admin/users/enable', { token: admin.accessToken, body: { username: u.username } })).status).toBe(204);
      expect((await api('POST', '/api/admin/users/enable', { token: admin.accessToken, body: { username: u.username } })).status).toBe(204);
      await login(u.username, u.password);
      expectHttpErr(
        'old refresh after enable',
        await api('POST', '/api/auth/refresh', { body: { refreshToken: u.login.refreshToken } }),
        401,
        'SESSION_REVOKED',
      );
    });

    it('failed-login limit: failures 1-10 on one account are 401, the 11th attempt is 429 RATE_LIMITED with Retry-After, even with the right password', async () => {
      const u = await user('brute');
      for (let i = 1; i <= 10; i++)
        expectHttpErr(
          `failure ${i}`,
          await api('POST', '/api/auth/login', { body: { username: u.username, password: `wrong-${i}` } }),
          401,
          'AUTH_FAILED',
        );
      const r = await api('POST', '/api/auth/login', { body: { username: u.username, password: u.password } });
      expectHttpErr('11th attempt', r, 429, 'RATE_LIMITED');
      const ra = Number(r.headers.get('retry-after'));
      expect(Number.isInteger(ra) && ra > 0 && ra <= 900).toBe(true);
      // another account from the same address is not locked
      const v = await user('notlocked');
      await login(v.username, v.password);
    });

    it('Bearer errors and bad bodies', async () => {
      expectHttpErr('no Authorization', await api('GET', '/api/account/sessions'), 401, 'UNAUTHENTICATED');
      expectHttpErr('bad token', await api('GET', '/api/account/sessions', { token: 'abc.def.ghi' }), 401, 'UNAUTHENTICATED');
      expectHttpErr(
        'malformed header',
        await api('GET', '/api/account/sessions', { headers: { authorization: 'Basic xyz' } }),
        401,
        'UNAUTHENTICATED',
      );
      expectHttpErr('login text/plain', await api('POST', '/api/auth/login', { raw: '{}', contentType: 'text/plain' }), 415, 'BAD_REQUEST');
      const none = await api('POST', '/api/auth/login', { raw: '{"username":"a","password":"b"}', contentType: null });
      expectHttpErr('login without Content-Type', none, 415, 'BAD_REQUEST');
      const empty = await api('POST', '/api/auth/login', { body: {} });
      expectHttpErr('login {}', empty, 400, 'BAD_REQUEST');
      expect((empty.json.error.details ?? []).map((d: any) => d.field).sort()).toEqual(['password', 'username']);
      expectHttpErr(
        'login remember not boolean',
        await api('POST', '/api/auth/login', { body: { username: 'a', password: 'b', remember: 'yes' } }),
        400,
        'BAD_REQUEST',
      );
      expectHttpErr(
        'login unknown field',
        await api('POST', '/api/auth/login', { body: { username: 'a', password: 'b', x: 1 } }),
        400,
        'BAD_REQUEST',
      );
      expectHttpErr('login array', await api('POST', '/api/auth/login', { raw: '[]' }), 400, 'BAD_REQUEST');
      const nobody = await api('POST', '/api/auth/login');
      expectHttpErr('login no body, no Content-Type', nobody, 400, 'BAD_REQUEST');
      expect(nobody.json.error.message).toBe('expected a JSON object');
      expect(nobody.json.error.details).toBeUndefined();
      const u = await user('bear');
      expectHttpErr(
        'password change {}',
        await api('POST', '/api/account/password', { token: u.login.accessToken, body: {} }),
        400,
        'BAD_REQUEST',
      );
      expectHttpErr('logout-all unknown path', await api('POST', '/api/auth/nothing', { body: {} }), 404, 'NOT_FOUND');
    });
  });

  // ===========================================================================================
  describe('WebSocket auth', () => {
    it('bad token keeps the connection; re-auth with a fresh token of the same user extends; another user is FORBIDDEN; resumeFrom on an authed connection is BAD_REQUEST', async () => {
      const u = await user('wsa');
      const v = await user('wsb');
      const cl = await open();
      expectErr('auth garbage', await cl.request('auth', { token: 'nope' }), 'UNAUTHENTICATED');
      expect(cl.isOpen).toBe(true);
      expectErr('op before auth', await cl.request('presence.set', { status: 42 }), 'UNAUTHENTICATED');
      expectErr('auth no token', await cl.request('auth', {}), 'BAD_REQUEST', 'data.token');
      expectOk('auth', await cl.request('auth', { token: u.login.accessToken }));
      await sleep(1100);
      const r = await api('POST', '/api/auth/refresh', { body: { refreshToken: u.login.refreshToken } });
      u.login = r.json;
      const again = expectOk('re-auth', await cl.request('auth', { token: r.json.accessToken }));
      expect(again.expiresAt).toBe(r.json.expiresAt);
      expect('resume' in again).toBe(false);
      expectErr('auth as another user', await cl.request('auth', { token: v.login.accessToken }), 'FORBIDDEN');
      expectErr('resumeFrom when authenticated', await cl.request('auth', { token: u.login.accessToken, resumeFrom: 0 }), 'BAD_REQUEST');
      const p = expectOk('ping', await cl.request('ping'));
      expect(p.time).toMatch(ISO_MS);
    });
  });

  // ===========================================================================================
  describe('presence', () => {
    let P: User, Q: User, X: User, Ops: User;
    let p1: DocClient, p2: DocClient, q: DocClient, x: DocClient;
    let roomId: string;

    beforeAll(async () => {
      [P, Q, X] = await Promise.all([user('pia'), user('quinn'), user('xeno')]);
      const reg = await api('POST', '/api/auth/register', { body: { username: 'Ops', password: 'ops-password' } });
      expect([201, 409]).toContain(reg.status);
      const ol = await login('Ops', 'ops-password');
      Ops = { username: 'Ops', password: 'ops-password', userId: ol.user.userId, login: ol };
      p1 = await connect(P.login.accessToken);
      p2 = await connect(P.login.accessToken);
      q = await connect(Q.login.accessToken);
      x = await connect(X.login.accessToken);
      roomId = rid('pres');
      await ok(p1, 'room.create', { roomId, name: 'Presence', visibility: 'private' });
      await ok(p1, 'room.invite', { roomId, username: Q.username });
      await ok(q, 'room.join', { roomId });
    });

    it('a user who never chose: presence.contacts mine is online, text null, shown online; users include co-members and self, not strangers', async () => {
      const c = await ok(q, 'presence.contacts');
      expectFields('presence.contacts', c, { users: 'array', mine: 'object' });
      expectFields('OwnPresenceView', c.mine, { status: ['online'], text: 'null', shown: ['online'], updatedAt: 'time' });
      c.users.forEach((u: any, i: number) => expectPresenceView(`presence.contacts.users[${i}]`, u));
      const ids = c.users.map((u: any) => u.userId);
      expect(ids).toEqual(expect.arrayContaining([P.userId, Q.userId]));
      expect(ids).not.toContain(X.userId);
      const p = c.users.find((u: any) => u.userId === P.userId);
      expect(p).toMatchObject({ username: P.username, status: 'online', text: null });
      expectErr('presence.contacts with data', await q.request('presence.contacts', { x: 1 }), 'BAD_REQUEST', 'data.x');
    });

    it('presence.set busy with Chinese text: reply OwnPresenceView; own devices get presence.mine (position 0); co-members get presence.changed; strangers nothing', async () => {
      const m1 = p2.mark();
      const mq = q.mark();
      const mx = x.mark();
      const text = '  开会中，请勿打扰 🙂  ';
      const r = await ok(p1, 'presence.set', { status: 'busy', text });
      expectFields('presence.set reply', r, { status: ['busy'], text: 'string', shown: ['busy'], updatedAt: 'time' });
      expect(r.text).toBe('开会中，请勿打扰 🙂');
      const mine = await p2.waitEvent((e) => e.event === 'presence.mine', m1);
      expect(mine.position).toBe(0);
      expect(mine.data).toEqual(r);
      const ch = await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === P.userId && e.data.status === 'busy', mq);
      expectPresenceView('presence.changed', ch.data);
      expect(ch.data).toMatchObject({ userId: P.userId, username: P.username, status: 'busy', text: '开会中，请勿打扰 🙂' });
      expect(Number.isInteger(ch.position)).toBe(true);
      // the user's own connections receive presence.changed too
      await p1.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === P.userId && e.data.status === 'busy');
      await sleep(500);
      expect(x.events.slice(mx).filter((e) => e.event === 'presence.changed' && e.data.userId === P.userId)).toEqual([]);
      // q gets it once even though...
      expect(
        q.events.slice(mq).filter((e) => e.event === 'presence.changed' && e.data.userId === P.userId && e.data.status === 'busy'),
      ).toHaveLength(1);
      const c = await ok(p1, 'presence.contacts');
      expect(c.mine).toMatchObject({ status: 'busy', text: '开会中，请勿打扰 🙂', shown: 'busy' });
    });

    it('presence.set validation: unknown status, 101 characters, a line break, a control character are BAD_REQUEST; 100 CJK characters and a ZWJ emoji are fine; blank clears', async () => {
      expectErr('unknown status', await p1.request('presence.set', { status: 'offline' }), 'BAD_REQUEST', 'data.status');
      expectErr('101 chars', await p1.request('presence.set', { status: 'online', text: '字'.repeat(101) }), 'BAD_REQUEST');
      expectErr('line break', await p1.request('presence.set', { status: 'online', text: 'a\nb' }), 'BAD_REQUEST');
      expectErr('control', await p1.request('presence.set', { status: 'online', text: 'a\u0007b' }), 'BAD_REQUEST');
      expectErr('format char', await p1.request('presence.set', { status: 'online', text: 'a\u200Bb' }), 'BAD_REQUEST');
      expectErr('text not a string', await p1.request('presence.set', { status: 'online', text: 5 }), 'BAD_REQUEST', 'data.text');
      expectErr('unknown field', await p1.request('presence.set', { status: 'online', mood: 'x' }), 'BAD_REQUEST', 'data.mood');
      const hundred = await ok(p1, 'presence.set', { status: 'away', text: '😀'.repeat(100) });
      expect([...hundred.text]).toHaveLength(100);
      const zwj = await ok(p1, 'presence.set', { status: 'away', text: '👩‍💻 coding' });
      expect(zwj.text).toBe('👩‍💻 coding');
      // NFC
      const nfc = await ok(p1, 'presence.set', { status: 'away', text: 'cafe\u0301' });
      expect(nfc.text).toBe('caf\u00e9');
      const blank = await ok(p1, 'presence.set', { status: 'online', text: '   ' });
      expect(blank.text).toBeNull();
      const nul = await ok(p1, 'presence.set', { status: 'online', text: null });
      expect(nul).toMatchObject({ status: 'online', text: null, shown: 'online' });
    });

    it('presence.set: an invalid text is BAD_REQUEST whose details name data.text (the frame table: "a field of data invalid" -> details data.<field>)', async () => {
      const got: Record<string, unknown> = {};
      for (const text of ['字'.repeat(101), 'a\nb', 'a\u0007b', 'a\u200Bb']) {
        const r = await p1.request('presence.set', { status: 'online', text });
        got[JSON.stringify(text.slice(0, 5))] = {
          code: r.error?.code,
          fields: (r.error?.details ?? []).map((d) => d.field),
          message: r.error?.message,
        };
      }
      expect(got).toEqual(
        Object.fromEntries(Object.keys(got).map((k) => [k, { code: 'BAD_REQUEST', fields: ['data.text'], message: expect.any(String) }])),
      );
    });

    it('invisible: others see offline (text null); own view says invisible/offline; presence.list leaves them out; a text-only change sends no presence.changed', async () => {
      await ok(p1, 'presence.set', { status: 'busy', text: 'hidden soon' });
      await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === P.userId && e.data.text === 'hidden soon');
      const mq = q.mark();
      const r = await ok(p1, 'presence.set', { status: 'invisible', text: 'secret' });
      expect(r).toMatchObject({ status: 'invisible', text: 'secret', shown: 'offline' });
      const ch = await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === P.userId, mq);
      expect(ch.data).toMatchObject({ status: 'offline', text: null });
      const c = await ok(p2, 'presence.contacts');
      expect(c.mine).toMatchObject({ status: 'invisible', shown: 'offline' });
      const seen = (await ok(q, 'presence.contacts')).users.find((u: any) => u.userId === P.userId);
      expect(seen).toMatchObject({ status: 'offline', text: null });
      const ol = await connect(Ops.login.accessToken);
      const list = await ok(ol, 'presence.list');
      expect(list.users.map((u: any) => u.userId)).not.toContain(P.userId);
      expect(list.users.map((u: any) => u.userId)).toEqual(expect.arrayContaining([Q.userId, Ops.userId]));
      list.users.forEach((u: any, i: number) => expectPresenceView(`presence.list.users[${i}]`, u));
      expect(list.users.every((u: any) => u.status !== 'offline')).toBe(true);
      ol.close();
      const mq2 = q.mark();
      await ok(p1, 'presence.set', { status: 'invisible', text: 'other secret' });
      await sleep(800);
      expect(q.events.slice(mq2).filter((e) => e.event === 'presence.changed' && e.data.userId === P.userId)).toEqual([]);
      const mq3 = q.mark();
      await ok(p1, 'presence.set', { status: 'online' });
      const back = await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === P.userId, mq3);
      expect(back.data).toMatchObject({ status: 'online', text: null });
      expect(back.position).toBeGreaterThan(ch.position);
    });

    it('a connection sharing two small rooms with the user receives a change once', async () => {
      const second = rid('pres2');
      await ok(p1, 'room.create', { roomId: second, name: 'Second', visibility: 'private' });
      await ok(p1, 'room.invite', { roomId: second, username: Q.username });
      await ok(q, 'room.join', { roomId: second });
      await sleep(300);
      const mq = q.mark();
      await ok(p1, 'presence.set', { status: 'away', text: 'twice?' });
      await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === P.userId && e.data.text === 'twice?', mq);
      await sleep(700);
      expect(q.events.slice(mq).filter((e) => e.event === 'presence.changed' && e.data.userId === P.userId)).toHaveLength(1);
      await ok(p1, 'presence.set', { status: 'online' });
    });

    it(`rooms with more than PRESENCE_FANOUT_MAX_MEMBERS (${FANOUT}) members push no presence.changed; presence.room shows the status; such members are not contacts`, async () => {
      const F = await Promise.all([user('fa'), user('fb'), user('fc'), user('fd')]);
      const fc = await Promise.all(F.map((f) => connect(f.login.accessToken)));
      const big = rid('big');
      await ok(fc[0], 'room.create', { roomId: big, name: 'Big' });
      for (const c of fc.slice(1)) await ok(c, 'room.join', { roomId: big });
      await sleep(500);
      const m = fc[1].mark();
      await ok(fc[0], 'presence.set', { status: 'busy', text: 'big room' });
      await sleep(1000);
      expect(fc[1].events.slice(m).filter((e) => e.event === 'presence.changed' && e.data.userId === F[0].userId)).toEqual([]);
      // but the user's own connections get it ("the user's own connections included")
      const pr = await ok(fc[1], 'presence.room', { roomId: big });
      expect(pr.total).toBe(4);
      expect(pr.users.find((u: any) => u.userId === F[0].userId)).toMatchObject({ status: 'busy', text: 'big room' });
      const contacts = await ok(fc[1], 'presence.contacts');
      expect(contacts.users.map((u: any) => u.userId)).not.toContain(F[0].userId);
      for (const c of fc) c.close();
    });

    it('the default room `general` exists (isDefault); whether a fresh user is in it is recorded, not asserted (see report)', async () => {
      const rl = await ok(x, 'rooms.list');
      const general = rl.rooms.find((r: any) => r.roomId === 'general');
      expect(general).toBeDefined();
      const d = await ok(x, 'room.details', { roomId: 'general' });
      expect(d.isDefault).toBe(true);
      const mine = await ok(x, 'room.mine');
      console.log(
        `default room: fresh user in it: ${mine.rooms.some((r: any) => r.roomId === 'general')}; memberCount ${general.memberCount}`,
      );
    });

    it('presence.list is for server administrators only', async () => {
      expectErr('presence.list by a user', await q.request('presence.list'), 'FORBIDDEN');
    });

    it('going offline hides the text (lastSeen set); reconnecting shows the chosen status and text again', async () => {
      const Y = await user('yuki');
      const y = await connect(Y.login.accessToken);
      const pubId = rid('pub');
      await ok(q, 'room.create', { roomId: pubId, name: 'Pub' });
      await ok(y, 'room.join', { roomId: pubId });
      await ok(y, 'presence.set', { status: 'away', text: '在路上' });
      await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === Y.userId && e.data.text === '在路上');
      const mq = q.mark();
      const t0 = Date.now();
      y.close();
      const off = await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === Y.userId, mq);
      expect(off.data).toMatchObject({ status: 'offline', text: null });
      expect(Math.abs(Date.parse(off.data.lastSeen) - t0)).toBeLessThan(5000);
      // presence.room shows them offline
      const pr = await ok(q, 'presence.room', { roomId: pubId });
      expect(pr.users.find((u: any) => u.userId === Y.userId)).toMatchObject({ status: 'offline', text: null });
      const mq2 = q.mark();
      const y2 = await connect(Y.login.accessToken);
      const on = await q.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === Y.userId, mq2);
      expect(on.data).toMatchObject({ status: 'away', text: '在路上' });
      y2.close();
    });

    it('presence.room: members read a page with total; NOT_MEMBER for a public room one is not in, NOT_FOUND for a private room of others; limit 1-200', async () => {
      const pr = await ok(q, 'presence.room', { roomId });
      expectFields('presence.room', pr, { roomId: 'string', users: 'array', total: 'integer' });
      expect(pr.roomId).toBe(roomId);
      expect(pr.total).toBe(2);
      pr.users.forEach((u: any, i: number) => expectPresenceView(`presence.room.users[${i}]`, u));
      expect(pr.users.map((u: any) => u.userId).sort()).toEqual([P.userId, Q.userId].sort());
      const page = await ok(q, 'presence.room', { roomId, limit: 1, offset: 1 });
      expect(page.users).toHaveLength(1);
      expect(page.total).toBe(2);
      expectErr('presence.room by a stranger (private)', await x.request('presence.room', { roomId }), 'NOT_FOUND');
      expectErr('presence.room limit 201', await q.request('presence.room', { roomId, limit: 201 }), 'BAD_REQUEST', 'data.limit');
      expectErr('presence.room limit 0', await q.request('presence.room', { roomId, limit: 0 }), 'BAD_REQUEST', 'data.limit');
      expectErr('presence.room bad id', await q.request('presence.room', { roomId: 'Bad Id' }), 'BAD_REQUEST', 'data.roomId');
      expectErr('presence.room missing room', await q.request('presence.room', { roomId: rid('none') }), 'NOT_FOUND');
      const pub = rid('openroom');
      await ok(p1, 'room.create', { roomId: pub, name: 'Open' });
      expectErr('presence.room by a non-member (public)', await x.request('presence.room', { roomId: pub }), 'NOT_MEMBER');
      const seen = await ok(p1, 'presence.room', { roomId: pub });
      expect(seen.total).toBe(1);
      expect(seen.users[0].userId).toBe(P.userId);
    });

    it('idle: with PRESENCE_IDLE_MS=10000, a connection without activity makes an `online` user `away` (ping is not activity); presence.active brings them back', async () => {
      const I = await user('idler');
      const W = await user('watch');
      const w = await connect(W.login.accessToken);
      const i = await connect(I.login.accessToken);
      const r = rid('idle');
      await ok(w, 'room.create', { roomId: r, name: 'Idle' });
      await ok(i, 'room.join', { roomId: r }); // activity at t0
      const t0 = Date.now();
      const mw = w.mark();
      // ping ops are not activity
      const pinger = setInterval(() => void i.request('ping').catch(() => undefined), 2000);
      try {
        const away = await w.waitEvent(
          (e) => e.event === 'presence.changed' && e.data.userId === I.userId && e.data.status === 'away',
          mw,
          IDLE_MS + 15_000,
        );
        const after = Date.now() - t0;
        expect(after).toBeGreaterThanOrEqual(IDLE_MS - 1000);
        expect(away.data.text).toBeNull();
      } finally {
        clearInterval(pinger);
      }
      const c = await ok(i, 'presence.contacts'); // a presence read: not activity
      expect(c.mine).toMatchObject({ status: 'online', shown: 'away' });
      const mw2 = w.mark();
      expect(await ok(i, 'presence.active')).toEqual({ idle: false });
      const back = await w.waitEvent((e) => e.event === 'presence.changed' && e.data.userId === I.userId, mw2);
      expect(back.data.status).toBe('online');
      expectErr('presence.active with data', await i.request('presence.active', { now: true }), 'BAD_REQUEST', 'data.now');
      i.close();
      w.close();
    }, 60_000);
  });

  // ===========================================================================================
  describe('typing', () => {
    let T: User, U: User, S: User;
    let t1: DocClient, t2: DocClient, u1: DocClient, s1: DocClient;
    let roomId: string;
    beforeAll(async () => {
      [T, U, S] = await Promise.all([user('typist'), user('reader'), user('stranger')]);
      t1 = await connect(T.login.accessToken);
      t2 = await connect(T.login.accessToken);
      u1 = await connect(U.login.accessToken);
      s1 = await connect(S.login.accessToken);
      roomId = rid('typing');
      await ok(t1, 'room.create', { roomId, name: 'Typing' });
      await ok(u1, 'room.join', { roomId });
    });
    const typingOf = (cl: DocClient, from: number) => cl.events.slice(from).filter((e) => e.event === 'typing');

    it("typing true: reply as sent; others get { roomId, userId, username, typing, expiresInMs: 6000 } at position 0; not the typist's connections nor strangers", async () => {
      const mu = u1.mark();
      const mt = t2.mark();
      const ms = s1.mark();
      const r = await ok(t1, 'typing', { roomId, typing: true });
      expect(r).toEqual({ roomId, typing: true });
      const ev = await u1.waitEvent((e) => e.event === 'typing', mu);
      expect(ev.position).toBe(0);
      expect(ev.data).toEqual({ roomId, userId: T.userId, username: T.username, typing: true, expiresInMs: 6000 });
      await sleep(500);
      expect(typingOf(t2, mt)).toEqual([]);
      expect(typingOf(t1, 0)).toEqual([]);
      expect(typingOf(s1, ms)).toEqual([]);
      // stop
      await ok(t1, 'typing', { roomId, typing: false });
      const stop = await u1.waitEvent((e) => e.event === 'typing' && e.data.typing === false, mu);
      expect(stop.data).toMatchObject({ roomId, userId: T.userId, typing: false });
    });

    it('throttle: repeats within 2000 ms are answered but not sent on; after 2 s one is; a stop with nothing to stop is not sent', async () => {
      await sleep(2100);
      const mu = u1.mark();
      await ok(t1, 'typing', { roomId, typing: true });
      await ok(t1, 'typing', { roomId, typing: true });
      await sleep(300);
      await ok(t1, 'typing', { roomId, typing: true });
      await sleep(700);
      expect(typingOf(u1, mu).filter((e) => e.data.typing)).toHaveLength(1);
      await sleep(1300); // > 2000 ms after the first
      await ok(t1, 'typing', { roomId, typing: true });
      await eventually(() => typingOf(u1, mu).filter((e) => e.data.typing).length === 2 || undefined, 3000);
      await ok(t1, 'typing', { roomId, typing: false });
      await u1.waitEvent((e) => e.event === 'typing' && e.data.typing === false, mu);
      const m2 = u1.mark();
      await ok(t1, 'typing', { roomId, typing: false });
      await ok(t2, 'typing', { roomId, typing: false });
      await sleep(600);
      expect(typingOf(u1, m2)).toEqual([]);
    });

    it('message.send after a start sends the stop; closing the connection after a start sends the stop', async () => {
      await sleep(2100);
      const mu = u1.mark();
      await ok(t1, 'typing', { roomId, typing: true });
      await u1.waitEvent((e) => e.event === 'typing' && e.data.typing === true, mu);
      await ok(t1, 'message.send', { roomId, clientMsgId: 'typ-1', body: 'done typing' });
      const stop = await u1.waitEvent((e) => e.event === 'typing' && e.data.typing === false, mu);
      expect(stop.data).toMatchObject({ roomId, userId: T.userId, typing: false });
      const t3 = await connect(T.login.accessToken);
      const m2 = u1.mark();
      await ok(t3, 'typing', { roomId, typing: true });
      await u1.waitEvent((e) => e.event === 'typing' && e.data.typing === true, m2);
      t3.close();
      await u1.waitEvent((e) => e.event === 'typing' && e.data.typing === false, m2);
    });

    it('typing errors: NOT_MEMBER for a room not joined and a missing room; BAD_REQUEST for bad data', async () => {
      expectErr('typing by a stranger', await s1.request('typing', { roomId, typing: true }), 'NOT_MEMBER');
      expectErr('typing in a missing room', await s1.request('typing', { roomId: rid('missing'), typing: true }), 'NOT_MEMBER');
      expectErr('typing not boolean', await t1.request('typing', { roomId, typing: 'yes' }), 'BAD_REQUEST', 'data.typing');
      expectErr('typing no roomId', await t1.request('typing', { typing: true }), 'BAD_REQUEST', 'data.roomId');
      expectErr('typing extra', await t1.request('typing', { roomId, typing: true, x: 1 }), 'BAD_REQUEST', 'data.x');
    });
  });

  // ===========================================================================================
  describe('resume', () => {
    let R: User, S: User;
    let s: DocClient;
    let roomId: string;
    beforeAll(async () => {
      [R, S] = await Promise.all([user('resumer'), user('sender')]);
      s = await connect(S.login.accessToken);
      roomId = rid('resume');
      await ok(s, 'room.create', { roomId, name: 'Resume' });
      const r = await connect(R.login.accessToken);
      await ok(r, 'room.join', { roomId });
      r.close();
    });

    /** Opens a connection recording every frame in order, and authenticates with resumeFrom. */
    async function resumeWith(resumeFrom: unknown): Promise<{ cl: DocClient; frames: any[]; reply: any }> {
      const cl = await open();
      const frames: any[] = [];
      cl.ws.on('message', (raw) => frames.push(JSON.parse(raw.toString())));
      const reply = await cl.request('auth', { token: R.login.accessToken, resumeFrom });
      return { cl, frames, reply };
    }

    it('resumed: the missed events arrive before the reply, in position order; reply { status, from, upTo, replayed }; live ones follow', async () => {
      const first = await ok(s, 'message.send', { roomId, clientMsgId: 'r-0', body: 'seen' });
      const from = first.position;
      const acks: any[] = [];
      for (let i = 1; i <= 3; i++) acks.push(await ok(s, 'message.send', { roomId, clientMsgId: `r-${i}`, body: `missed ${i} 你好` }));
      await ok(s, 'typing', { roomId, typing: true }); // never replayed
      const { cl, frames, reply } = await resumeWith(from);
      const res = expectOk('auth resume', reply);
      expectFields('auth.resume', res.resume, { status: ['resumed'], from: 'integer', upTo: 'integer', replayed: 'integer' });
      expect(res.resume.from).toBe(from);
      expect(res.resume.upTo).toBeGreaterThanOrEqual(acks[2].position);
      const replyIdx = frames.findIndex((f) => f.type === 'res');
      const before = frames.slice(0, replyIdx).filter((f) => f.type === 'evt');
      const posted = before.filter((f) => f.event === 'message.posted');
      expect(posted.map((f) => f.position)).toEqual(acks.map((a) => a.position));
      expect(posted.map((f) => f.data.body)).toEqual(['missed 1 你好', 'missed 2 你好', 'missed 3 你好']);
      const chatBefore = before.filter(
        (f) => !['typing', 'presence.changed', 'presence.mine', 'read.marker', 'server.shutdown'].includes(f.event),
      );
      expect(res.resume.replayed).toBe(chatBefore.length);
      const positions = chatBefore.map((f) => f.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(before.filter((f) => f.event === 'typing' || f.event.startsWith('presence.'))).toEqual([]);
      const live = await ok(s, 'message.send', { roomId, clientMsgId: 'r-live', body: 'live' });
      const ev = await cl.waitEvent((e) => e.event === 'message.posted' && e.position === live.position);
      expect(ev.data.body).toBe('live');
      expect(cl.events.filter((e) => e.event === 'message.posted' && acks.some((a) => a.position === e.position))).toHaveLength(3);
      cl.close();
    });

    it('resumeFrom equal to the newest position: resumed with replayed 0; null counts as absent', async () => {
      const last = await ok(s, 'message.send', { roomId, clientMsgId: 'r-last', body: 'last' });
      const { cl, reply } = await resumeWith(last.position);
      const res = expectOk('auth resume newest', reply);
      expect(res.resume).toMatchObject({ status: 'resumed', from: last.position, replayed: 0 });
      expect(res.resume.upTo).toBeGreaterThanOrEqual(last.position);
      cl.close();
      const n = await resumeWith(null);
      const r2 = expectOk('auth resumeFrom null', n.reply);
      expect('resume' in r2).toBe(false);
      n.cl.close();
    });

    it('reload unknown_position for a position beyond the newest; reload too_far_behind beyond RESUME_MAX_EVENTS; bad resumeFrom is BAD_REQUEST', async () => {
      const last = await ok(s, 'message.send', { roomId, clientMsgId: 'r-x', body: 'x' });
      const far = await resumeWith(last.position + 1_000_000);
      const r1 = expectOk('auth resume unknown', far.reply);
      expectFields('auth.resume reload', r1.resume, { status: ['reload'], reason: ['unknown_position'], latest: 'integer' });
      expect(r1.resume.latest).toBeGreaterThanOrEqual(last.position);
      // the connection is authenticated and live
      const live = await ok(s, 'message.send', { roomId, clientMsgId: 'r-y', body: 'y' });
      await far.cl.waitEvent((e) => e.event === 'message.posted' && e.position === live.position);
      far.cl.close();
      for (let i = 0; i < RESUME_MAX_EVENTS + 5; i++) await ok(s, 'message.send', { roomId, clientMsgId: `r-many-${i}`, body: `m${i}` });
      const behind = await resumeWith(live.position);
      const r2 = expectOk('auth resume too far', behind.reply);
      expect(r2.resume).toMatchObject({ status: 'reload', reason: 'too_far_behind' });
      expect(Number.isInteger(r2.resume.latest)).toBe(true);
      const replyIdx = behind.frames.findIndex((f) => f.type === 'res');
      expect(behind.frames.slice(0, replyIdx).filter((f) => f.type === 'evt' && f.event === 'message.posted')).toEqual([]);
      behind.cl.close();
      for (const bad of [-1, 1.5, '3']) {
        const b = await resumeWith(bad);
        expectErr(`resumeFrom ${JSON.stringify(bad)}`, b.reply, 'BAD_REQUEST', 'data.resumeFrom');
        b.cl.close();
      }
    });
  });

  // ===========================================================================================
  describe('a second gateway (ACCESS_TOKEN_TTL_S=30): token expiry 4403, sessions and typing across gateways', () => {
    let base2: string;
    let ws2: string;
    let E: User;
    let exp1: DocClient, exp2: DocClient;
    let e2login: Login;
    let openedAt: number;
    beforeAll(async () => {
      const port = await freePort();
      await stack.startExtra('gateway2', 'gateway', port, {
        SERVER_ADMINS: 'Ops',
        ACCESS_TOKEN_TTL_S: '30',
        WS_MAX_CONNECTIONS_PER_USER: String(MAX_CONN),
      });
      base2 = `http://127.0.0.1:${port}`;
      ws2 = wsUrlOf(base2);
      await eventually(async () => ((await fetch(`${base2}/health/ready`)).status === 200 ? true : undefined), 30_000);
      E = await user('expiry');
      const r = await fetch(`${base2}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: E.username, password: E.password }),
      });
      e2login = (await r.json()) as Login;
      expect(Math.abs(Date.parse(e2login.expiresAt) - Date.now())).toBeLessThan(32_000);
      exp1 = await DocClient.open(ws2);
      exp2 = await DocClient.open(ws2);
      opened.push(exp1, exp2);
      openedAt = Date.now();
      expectOk('auth gw2 #1', await exp1.request('auth', { token: e2login.accessToken }));
      expectOk('auth gw2 #2', await exp2.request('auth', { token: e2login.accessToken }));
    });

    it('a session ended through one gateway closes its connections on another with 4410', async () => {
      const u = await user('xgw');
      const l = await login(u.username, u.password);
      const c = await DocClient.open(ws2);
      opened.push(c);
      expectOk('auth on gw2', await c.request('auth', { token: l.accessToken }));
      expect((await api('POST', '/api/auth/logout', { token: l.accessToken })).status).toBe(204);
      expect((await c.waitClose()).code).toBe(4410);
    });

    it('typing reaches the other members on every gateway', async () => {
      const [A, B] = await Promise.all([user('tga'), user('tgb')]);
      const a = await connect(A.login.accessToken);
      const b = await DocClient.open(ws2);
      opened.push(b);
      expectOk('auth b on gw2', await b.request('auth', { token: B.login.accessToken }));
      const r = rid('xtyping');
      await ok(a, 'room.create', { roomId: r, name: 'X typing' });
      await ok(b, 'room.join', { roomId: r });
      await sleep(300);
      await ok(a, 'typing', { roomId: r, typing: true });
      const ev = await b.waitEvent((e) => e.event === 'typing');
      expect(ev.data).toEqual({ roomId: r, userId: A.userId, username: A.username, typing: true, expiresInMs: 6000 });
    });

    it('the access token expires: close 4403 at expiresAt; a connection that re-auths with a refreshed token stays; an expired token is TOKEN_EXPIRED (WS and Bearer)', async () => {
      await sleep(Math.max(0, Date.parse(e2login.expiresAt) - Date.now() - 12_000));
      const rr = await fetch(`${base2}/api/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: e2login.refreshToken }),
      });
      const fresh = (await rr.json()) as Login;
      const re = expectOk('re-auth with refreshed token', await exp2.request('auth', { token: fresh.accessToken }));
      expect(re.expiresAt).toBe(fresh.expiresAt);
      expect(Date.parse(re.expiresAt)).toBeGreaterThan(Date.parse(e2login.expiresAt));
      const c = await exp1.waitClose(20_000);
      expect(c.code).toBe(4403);
      expect(Math.abs(c.at - Date.parse(e2login.expiresAt))).toBeLessThan(2_500);
      await sleep(500);
      expect(exp2.isOpen).toBe(true);
      const late = await DocClient.open(ws2);
      opened.push(late);
      expectErr('auth with an expired token', await late.request('auth', { token: e2login.accessToken }), 'TOKEN_EXPIRED');
      expectHttpErr(
        'Bearer with an expired token',
        await api('GET', '/api/account/sessions', { token: e2login.accessToken }),
        401,
        'TOKEN_EXPIRED',
      );
      void openedAt;
    }, 60_000);
  });

  // ===========================================================================================
  describe('limits and close codes', () => {
    it(`WS_MAX_CONNECTIONS_PER_USER=${MAX_CONN}: the auth beyond is RATE_LIMITED, then close 4429; closing one makes room`, async () => {
      const L = await user('limit');
      const cls = [];
      for (let i = 0; i < MAX_CONN; i++) cls.push(await connect(L.login.accessToken));
      const extra = await open();
      expectErr('auth beyond the limit', await extra.request('auth', { token: L.login.accessToken }), 'RATE_LIMITED');
      expect((await extra.waitClose()).code).toBe(4429);
      cls[0].close();
      await cls[0].waitClose();
      await sleep(200);
      const again = await connect(L.login.accessToken);
      expect(again.isOpen).toBe(true);
      for (const c of [...cls, again]) c.close();
    });

    it('request rate: beyond the burst requests are RATE_LIMITED with a message ending retryAfterMs=<n>; ping is exempt', async () => {
      const V = await user('rate');
      const cl = await connect(V.login.accessToken);
      const n = RATE_BURST + 30;
      const replies = await Promise.all(Array.from({ length: n }, () => cl.request('presence.active')));
      const refused = replies.filter((r) => !r.ok);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThan(100);
      for (const r of refused) {
        expect(r.error?.code).toBe('RATE_LIMITED');
        expect(r.error?.message).toMatch(/retryAfterMs=\d+$/);
      }
      // the bucket is empty now: pings still answered
      const pings = await Promise.all(Array.from({ length: 20 }, () => cl.request('ping')));
      expect(pings.every((p) => p.ok)).toBe(true);
      const ms = Number(/retryAfterMs=(\d+)$/.exec(refused[refused.length - 1].error!.message)![1]);
      await sleep(ms + 50);
      expectOk('after retryAfterMs', await cl.request('presence.active'));
      expect(cl.isOpen).toBe(true);
      cl.close();
    });

    it('100 refusals in a row close the connection with 4430', async () => {
      const V = await user('flood');
      const cl = await connect(V.login.accessToken);
      // Sent as fast as possible: an accepted request (the bucket refills at WS_RATE_PER_S) resets
      // the count, so the 100 refusals must come within one refill interval (20 ms at 50/s).
      const seq: string[] = [];
      for (let i = 0; i < RATE_BURST + 1000; i++)
        void cl.request('presence.active').then(
          (r) => seq.push(r.ok ? 'o' : r.error!.code),
          () => seq.push('closed'),
        );
      expect((await cl.waitClose()).code).toBe(4430);
      await sleep(200);
      expect(seq.filter((x) => x === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(100);
    });

    it('50 bad frames in a row close with 4400; a good request resets the count', async () => {
      const V = await user('badf');
      const cl = await connect(V.login.accessToken);
      const refusedBefore = cl.nullReplies.length;
      for (let i = 0; i < 49; i++) void cl.sendFrame('not json').catch(() => undefined);
      // Their refusals carry no id: all of them in before the ping, or a late one would be read
      // as the ping's reply (the client takes the next id-less reply for a request as well).
      await eventually(() => cl.nullReplies.length >= refusedBefore + 49);
      expectOk('ping resets', await cl.request('ping'));
      for (let i = 0; i < 49; i++) void cl.sendFrame('{"type":"req","id":"u","op":"no.such"}', { id: 'u' }).catch(() => undefined);
      await sleep(500);
      expect(cl.isOpen).toBe(true);
      const r = await cl.request('room.join', { roomId: rid('nonexistent') }); // a business refusal resets too
      expect(r.ok).toBe(false);
      for (let i = 0; i < 50; i++) void cl.sendFrame(Buffer.from('x'), { binary: true }).catch(() => undefined);
      expect((await cl.waitClose()).code).toBe(4400);
      expect(cl.nullReplies.length).toBeGreaterThanOrEqual(50);
      expect(cl.nullReplies[0].error?.code).toBe('BAD_REQUEST');
    });

    it('no auth within WS_AUTH_TIMEOUT_MS (default 10 s): close 4401; a failed auth does not stop the clock', async () => {
      const cl = await open();
      expectErr('bad token', await cl.request('auth', { token: 'x' }), 'UNAUTHENTICATED');
      const c = await cl.waitClose(15_000);
      expect(c.code).toBe(4401);
      const t = c.at - cl.openedAt;
      expect(t).toBeGreaterThanOrEqual(9_000);
      expect(t).toBeLessThan(13_000);
    }, 30_000);

    it('bad input on the socket: frame checks and their details', async () => {
      const V = await user('frames');
      const cl = await connect(V.login.accessToken);
      const noType = await cl.sendFrame(JSON.stringify({ id: 'a1', op: 'ping' }), { id: 'a1' });
      expectErr('no type', noType, 'BAD_REQUEST', 'type');
      const noId = await cl.sendFrame(JSON.stringify({ type: 'req', op: 'ping' }));
      expect(noId.id).toBeNull();
      expectErr('no id', noId, 'BAD_REQUEST', 'id');
      const unknown = await cl.request('presence.nope');
      expectErr('unknown op', unknown, 'UNKNOWN_OP');
      const dataArr = await cl.request('presence.set', [1]);
      expectErr('data array', dataArr, 'BAD_REQUEST', 'data');
      expectErr('presence.list extra', await cl.request('presence.list', { a: 1 }), 'BAD_REQUEST', 'data.a');
      expectOk('ping with null data', await cl.request('ping', null));
    });

    // Must stay last: it stops the gateway.
    it('graceful shutdown: server.shutdown { reason, reconnectWithinMs } at position 0 to every connection (also before auth); requests after it UNAVAILABLE (ping answered); then close 1012', async () => {
      const V = await user('shut');
      const authed = await connect(V.login.accessToken);
      const anon = await open();
      const room = rid('shut');
      await ok(authed, 'room.create', { roomId: room, name: 'Shut' });
      // keep requests flowing so that some are in progress when the gateway stops
      const log: { op: string; sentAt: number; at: number; r: any }[] = [];
      let n = 0;
      const pump = setInterval(() => {
        if (!authed.isOpen || n++ > 150) return;
        const op = n % 5 === 0 ? 'ping' : 'room.details';
        const sentAt = Date.now();
        authed.request(op, op === 'ping' ? undefined : { roomId: room }).then(
          (r) => log.push({ op, sentAt, at: Date.now(), r }),
          () => undefined,
        );
      }, 3);
      await sleep(100);
      const stopping = stack.stop('gateway', 'SIGTERM');
      try {
        const ev = await authed.waitEvent((e) => e.event === 'server.shutdown', 0, 10_000);
        const evAt = Date.now();
        expect(ev.position).toBe(0);
        expectFields('server.shutdown', ev.data, { reason: 'string', reconnectWithinMs: 'integer' });
        expect(ev.data.reconnectWithinMs).toBe(DRAIN_MS);
        const aev = await anon.waitEvent((e) => e.event === 'server.shutdown', 0, 5_000);
        expect(aev.data).toEqual(ev.data);
        const c = await authed.waitClose(DRAIN_MS + 5_000);
        expect(c.code).toBe(1012);
        expect(c.at - evAt).toBeLessThanOrEqual(DRAIN_MS + 2_500);
        expect((await anon.waitClose(5_000)).code).toBe(1012);
        // requests sent after the event arrived: UNAVAILABLE (ping: answered)
        const after = log.filter((x) => x.sentAt > evAt);
        for (const x of after) {
          if (x.op === 'ping') expect(x.r.ok).toBe(true);
          else expect({ op: x.op, code: x.r.error?.code }).toEqual({ op: x.op, code: 'UNAVAILABLE' });
        }
        console.log(
          `shutdown: close ${c.at - evAt} ms after the event; ${log.length} replies, ${after.length} to requests sent after the event; ` +
            `${log.filter((x) => x.at >= evAt && x.op !== 'ping' && x.r.ok === false).length} refused after the event`,
        );
      } finally {
        clearInterval(pump);
        await stopping;
      }
    });
  });
});
