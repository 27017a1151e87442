import { createSubjects } from '@chat/contracts';
import { register } from '@chat/client';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import { startTestGateway } from '../testing/test-gateway';

jest.setTimeout(60_000);

// Two gateways of one deployment (one namespace) behind a load balancer: a client that spreads its
// attempts over both gets each limit once, not once per gateway (the counts are in the shared
// `limits` KV bucket). X-Forwarded-For (one trusted proxy hop) lets the test play several clients.
describe('gateway accounts - login and registration limits shared by every gateway', () => {
  const ns = randomName();
  const gws: RunningService[] = [];
  const post = (gw: RunningService, path: string, address: string, body: object) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify(body),
    });
  const codeOf = async (res: Response) => (res.ok ? 'OK' : ((await res.json()) as { error: { code: string } }).error.code);
  const login = (gw: RunningService, address: string, username: string, password: string) =>
    post(gw, '/api/auth/login', address, { username, password }).then(codeOf);

  beforeAll(async () => {
    const env = {
      TRUST_PROXY_HOPS: '1',
      LOGIN_MAX_FAILURES: '4',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '6',
      LOGIN_FAILURE_WINDOW_S: '600',
      REGISTER_MAX_PER_ADDRESS: '3',
      REGISTER_WINDOW_S: '3600',
    };
    gws.push(await startTestGateway(ns, env), await startTestGateway(ns, env));
    await register(gws[0].url, 'gail', 'right-password');
  });
  afterAll(async () => {
    for (const gw of gws) await gw.close();
    await deleteNamespace(ns);
  });

  it('login - failures alternating between the gateways: the 5th attempt is refused on either, even with the right password', async () => {
    for (let i = 0; i < 4; i++) expect(await login(gws[i % 2], '203.0.113.7', 'gail', `guess-${i}`)).toBe('AUTH_FAILED');
    expect(await login(gws[0], '203.0.113.7', 'gail', 'right-password')).toBe('RATE_LIMITED');
    const limited = await post(gws[1], '/api/auth/login', '203.0.113.7', { username: 'gail', password: 'right-password' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(590);
    // Another client is not affected.
    expect(await login(gws[1], '198.51.100.1', 'gail', 'right-password')).toBe('OK');
  });

  it('login - 20 attempts at once, half on each gateway: exactly LOGIN_MAX_FAILURES reach the password check', async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => login(gws[i % 2], '203.0.113.50', 'gail', `burst-${i}`)));
    expect(codes.filter((c) => c === 'AUTH_FAILED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(16);
  });

  it('login - one address over many accounts, spread over both gateways, is limited at LOGIN_MAX_FAILURES_PER_ADDRESS', async () => {
    for (let i = 0; i < 6; i++) expect(await login(gws[i % 2], '192.0.2.99', `stuffed-${i}`, 'x-password')).toBe('AUTH_FAILED');
    expect(await login(gws[0], '192.0.2.99', 'gail', 'right-password')).toBe('RATE_LIMITED');
    expect(await login(gws[1], '192.0.2.99', 'gail', 'right-password')).toBe('RATE_LIMITED');
  });

  it('register - REGISTER_MAX_PER_ADDRESS over both gateways, concurrent ones included; the refused create no account', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `reg-${randomName().slice(-6)}-${i}`);
    const res = await Promise.all(
      names.map((username, i) => post(gws[i % 2], '/api/auth/register', '203.0.113.99', { username, password: 'password-1' })),
    );
    const statuses = res.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const refused = res.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3590);
    expect(((await refused.json()) as { error: unknown }).error).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^too many registrations from this address; try again in \d+ s$/),
    });
    // The names refused are free: another address registers them.
    const free = names.filter((_, i) => statuses[i] === 429);
    for (const [i, username] of free.entries()) {
      if (i >= 3) break;
      expect((await post(gws[i % 2], '/api/auth/register', '198.51.100.20', { username, password: 'password-1' })).status).toBe(201);
    }
    // Input refused before the count does not use it up.
    expect((await post(gws[0], '/api/auth/register', '198.51.100.30', { username: '', password: 'x' })).status).toBe(400);
    for (let i = 0; i < 3; i++) {
      const r = await post(gws[1], '/api/auth/register', '198.51.100.30', {
        username: `ok-${randomName().slice(-6)}`,
        password: 'password-1',
      });
      expect(r.status).toBe(201);
    }
  });

  it('the counts are in the deployment`s limits bucket, keys hashed (no address in it)', async () => {
    const kv = await gws[0].deps.js.kv(createSubjects(ns).kv.limits);
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).toMatch(/^l\.[A-Za-z0-9_-]{43}$/);
  });
});
