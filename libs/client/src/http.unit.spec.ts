import { changePassword, deleteAccount, login, logout, refresh, revokeSession, sessions, tokenProvider } from './http';
import { ChatClientError } from './errors';

const BASE = 'http://gw:3000';
const loginResult = (n: number, expiresAt: string) => ({
  accessToken: `access-${n}`,
  tokenType: 'Bearer' as const,
  expiresAt,
  refreshToken: `sid.secret-${n}`,
  refreshExpiresAt: '2027-01-01T00:00:00.000Z',
  sessionId: 'sid',
  user: { userId: 'u1', username: 'ann' },
});

describe('client HTTP - sessions, tokens and the account', () => {
  let calls: Array<{ url: string; method: string; headers: Record<string, string>; body: unknown }>;
  let answers: Array<{ status: number; body?: unknown }>;

  beforeEach(() => {
    calls = [];
    answers = [];
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (url, init) => {
      calls.push({
        url: String(url),
        method: init?.method ?? 'GET',
        headers: (init?.headers ?? {}) as Record<string, string>,
        body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
      });
      const a = answers.shift() ?? { status: 204 };
      return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('each call goes to its endpoint with its method, Bearer token and body; 204 resolves', async () => {
    answers.push({ status: 200, body: loginResult(1, '2026-01-01T00:15:00.000Z') });
    expect((await login(BASE, 'ann', 'pw', { remember: true })).refreshToken).toBe('sid.secret-1');
    await logout(BASE, 'acc', 'sid.secret-1');
    await changePassword(BASE, 'acc', 'old-pw', 'new-password');
    await deleteAccount(BASE, 'acc', 'pw');
    answers.push({ status: 200, body: { sessions: [{ sessionId: 'sid', current: true }] } });
    expect(await sessions(BASE, 'acc')).toEqual([{ sessionId: 'sid', current: true }]);
    await revokeSession(BASE, 'acc', 'a/b');
    expect(calls.map((c) => `${c.method} ${c.url.slice(BASE.length)} ${c.headers.authorization ?? '-'} ${JSON.stringify(c.body)}`)).toEqual(
      [
        'POST /api/auth/login - {"username":"ann","password":"pw","remember":true}',
        'POST /api/auth/logout Bearer acc {"refreshToken":"sid.secret-1"}',
        'POST /api/account/password Bearer acc {"currentPassword":"old-pw","newPassword":"new-password"}',
        'DELETE /api/account Bearer acc {"password":"pw"}',
        'GET /api/account/sessions Bearer acc undefined',
        'DELETE /api/account/sessions/a%2Fb Bearer acc undefined',
      ],
    );
  });

  it('an error reply rejects with its code and the HTTP status', async () => {
    answers.push({ status: 401, body: { error: { code: 'SESSION_REVOKED', message: 'log in again' } } });
    const err = await refresh(BASE, 'sid.old').catch((e: ChatClientError) => e);
    expect(err).toMatchObject({ code: 'SESSION_REVOKED', status: 401 });
  });

  it('tokenProvider: the current token while it lasts; one refresh (for every waiting caller) when it is about to expire, the new refresh token kept', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const kept: string[] = [];
    const get = tokenProvider(BASE, loginResult(1, '2026-01-01T00:15:00.000Z'), {
      now: () => now,
      onRefresh: (r) => kept.push(r.refreshToken),
    });
    expect(await get()).toBe('access-1');
    expect(calls).toHaveLength(0);
    now += 14 * 60_000 + 1; // less than a minute left
    answers.push({ status: 200, body: loginResult(2, '2026-01-01T00:30:00.000Z') });
    expect(await Promise.all([get(), get()])).toEqual(['access-2', 'access-2']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ url: `${BASE}/api/auth/refresh`, body: { refreshToken: 'sid.secret-1' } });
    expect(kept).toEqual(['sid.secret-2']);
    // A refused refresh rejects (the connection then reports authLost), and is tried again next time.
    now += 15 * 60_000;
    answers.push({ status: 401, body: { error: { code: 'SESSION_REVOKED', message: 'reused' } } });
    await expect(get()).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
    expect(calls.at(-1)!.body).toEqual({ refreshToken: 'sid.secret-2' });
  });
});
