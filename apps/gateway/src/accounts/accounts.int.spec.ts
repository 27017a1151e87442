import { isUserId, type LoginResult, type UserRegistered } from '@chat/contracts';
import { ChatClientError, login, register } from '@chat/client';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import jwt from 'jsonwebtoken';
import { TEST_JWT_SECRET, startTestGateway } from '../testing/test-gateway';

describe('gateway accounts - register and login over HTTP', () => {
  let svc: RunningService;
  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(`${svc.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  type ErrorJson = { error: { code: string; message: string; details?: Array<{ field: string }> } };
  const errorOf = async (res: Response) => ((await res.json()) as ErrorJson).error;
  const expectError = async (p: Promise<unknown>, code: string, status: number) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChatClientError);
    expect(err).toEqual(expect.objectContaining({ code, status }));
    return err as ChatClientError;
  };

  const ns = randomName();

  beforeAll(async () => {
    svc = await startTestGateway(ns);
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(ns);
  });

  it('register - creates an account and appends UserRegistered', async () => {
    const { user } = await register(svc.url, 'Alice', 'password-1');
    expect(isUserId(user.userId)).toBe(true);
    expect(user.username).toBe('Alice');
    const s = svc.deps.subjects;
    const stored = await svc.deps.js.lastOnSubject(s.streams.accounts.name, s.accounts.events(user.userId));
    const event = stored?.data as UserRegistered;
    expect(event).toEqual(
      expect.objectContaining({ type: 'UserRegistered', version: 1, payload: { userId: user.userId, username: 'Alice' } }),
    );
    expect(event.actor).toEqual({ kind: 'user', id: user.userId });
  });

  it('register - refuses a name in use, also after NFKC and case folding', async () => {
    await register(svc.url, 'bob', 'password-1');
    await expectError(register(svc.url, 'bob', 'password-2'), 'USERNAME_TAKEN', 409);
    await expectError(register(svc.url, 'ＢＯＢ', 'password-2'), 'USERNAME_TAKEN', 409);
  });

  it('register - exactly one of concurrent registrations of a name wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => register(svc.url, i % 2 ? 'Racer' : 'racer', 'password-1')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected'))
      expect(r.reason.code).toBe('USERNAME_TAKEN');
  });

  it('register and login - accept Chinese names', async () => {
    const { user } = await register(svc.url, '小明', 'mima-12345');
    const res = await login(svc.url, '小明', 'mima-12345');
    expect(res.user).toEqual(user);
  });

  it('login - issues an HS256 token with sub and name, case-insensitive name', async () => {
    const { user } = await register(svc.url, 'Carol', 'password-1');
    // The contracts' LoginResult (libs/client may still declare the older, smaller reply).
    const res = (await login(svc.url, 'ｃａｒｏｌ', 'password-1')) as unknown as LoginResult;
    expect(res).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresAt: expect.any(String),
      refreshToken: expect.stringMatching(/^[^.]+\.[^.]+\.[A-Za-z0-9_-]{43}$/),
      refreshExpiresAt: expect.any(String),
      sessionId: expect.stringMatching(new RegExp(`^${user.userId}\\.`)),
      user,
    });
    expect(res.refreshToken.startsWith(`${res.sessionId}.`)).toBe(true);
    const claims = jwt.verify(res.accessToken, TEST_JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toEqual(expect.objectContaining({ sub: user.userId, name: 'Carol', sid: res.sessionId }));
    expect(new Date(res.expiresAt).getTime()).toBe((claims.exp as number) * 1000);
  });

  it('login - wrong password and unknown user both give AUTH_FAILED', async () => {
    await register(svc.url, 'dave', 'password-1');
    const a = await expectError(login(svc.url, 'dave', 'password-2'), 'AUTH_FAILED', 401);
    const b = await expectError(login(svc.url, 'nobody-here', 'password-2'), 'AUTH_FAILED', 401);
    expect(a.message).toBe(b.message);
  });

  it('register - bad bodies give BAD_REQUEST with field details', async () => {
    const short = await expectError(register(svc.url, 'eve', 'short'), 'BAD_REQUEST', 400);
    expect(short.details?.map((d) => d.field)).toEqual(['password']);
    const spaced = await expectError(register(svc.url, ' eve', 'password-1'), 'BAD_REQUEST', 400);
    expect(spaced.details?.map((d) => d.field)).toEqual(['username']);
    const res = await post('/api/auth/register', JSON.stringify({ username: 'eve', password: 'password-1', admin: true }));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual(
      expect.objectContaining({ code: 'BAD_REQUEST', details: [expect.objectContaining({ field: 'admin' })] }),
    );
    const arr = await post('/api/auth/login', '[]');
    expect(arr.status).toBe(400);
    expect((await errorOf(arr)).code).toBe('BAD_REQUEST');
  });

  it('http - malformed JSON, oversize and non-JSON bodies get typed errors', async () => {
    const malformed = await post('/api/auth/login', '{"username": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'request body is not valid JSON' } });

    const big = await post('/api/auth/register', JSON.stringify({ username: 'big', password: 'x'.repeat(17 * 1024) }));
    expect(big.status).toBe(413);
    expect((await errorOf(big)).code).toBe('FRAME_TOO_LARGE');

    const form = await post('/api/auth/login', 'username=a&password=b', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect((await errorOf(form)).code).toBe('BAD_REQUEST');

    const missing = await fetch(`${svc.url}/api/nothing`);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('NOT_FOUND');
  });

  it('http - serves the web app, health and metrics', async () => {
    const index = await fetch(`${svc.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const ready = await fetch(`${svc.url}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { nats: true, kv: true } });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('gateway_ws_connections');
  });
});

describe('gateway accounts - failed-login limits behind a proxy', () => {
  let svc: RunningService;
  const ns = randomName();
  // One trusted proxy hop: X-Forwarded-For names the client, so the test plays several clients.
  const loginFrom = (address: string, username: string, password: string) =>
    fetch(`${svc.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ username, password }),
    });
  const codeOf = async (res: Response) => (res.ok ? 'OK' : ((await res.json()) as { error: { code: string } }).error.code);

  beforeAll(async () => {
    svc = await startTestGateway(ns, {
      TRUST_PROXY_HOPS: '1',
      LOGIN_MAX_FAILURES: '3',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '5',
      LOGIN_FAILURE_WINDOW_S: '600',
    });
    await register(svc.url, 'erin', 'right-password');
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(ns);
  });

  it('login - after LOGIN_MAX_FAILURES a client gets 429 RATE_LIMITED with Retry-After, even with the right password; others are not locked out', async () => {
    for (let i = 0; i < 3; i++) expect(await codeOf(await loginFrom('203.0.113.7', 'erin', 'guess-' + i))).toBe('AUTH_FAILED');
    const limited = await loginFrom('203.0.113.7', 'ERIN', 'right-password');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(590);
    expect(((await limited.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/too many failed logins; try again in \d+ s/),
    });
    // The owner, from their own address, still gets in; the attacker's count is theirs alone.
    expect(await codeOf(await loginFrom('198.51.100.1', 'erin', 'right-password'))).toBe('OK');
  });

  it('login - attempts sent all at once are limited too: exactly LOGIN_MAX_FAILURES reach the password check', async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => loginFrom('203.0.113.50', 'erin', `burst-${i}`).then(codeOf)));
    expect(codes.filter((c) => c === 'AUTH_FAILED')).toHaveLength(3);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(17);
  });

  it("login - a success clears the client's failures on that account", async () => {
    await register(svc.url, 'frank', 'right-password');
    for (let i = 0; i < 2; i++) expect(await codeOf(await loginFrom('192.0.2.10', 'frank', 'nope'))).toBe('AUTH_FAILED');
    expect(await codeOf(await loginFrom('192.0.2.10', 'frank', 'right-password'))).toBe('OK');
    for (let i = 0; i < 2; i++) expect(await codeOf(await loginFrom('192.0.2.10', 'frank', 'nope'))).toBe('AUTH_FAILED');
    expect(await codeOf(await loginFrom('192.0.2.10', 'frank', 'right-password'))).toBe('OK');
  });

  it('login - one address failing on many accounts is limited on every account (LOGIN_MAX_FAILURES_PER_ADDRESS)', async () => {
    for (let i = 0; i < 5; i++) expect(await codeOf(await loginFrom('192.0.2.99', `stuffed-${i}`, 'x-password'))).toBe('AUTH_FAILED');
    expect(await codeOf(await loginFrom('192.0.2.99', 'erin', 'right-password'))).toBe('RATE_LIMITED');
    expect(await codeOf(await loginFrom('192.0.2.100', 'erin', 'right-password'))).toBe('OK');
  });
});
