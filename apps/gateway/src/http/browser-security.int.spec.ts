import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startTestGateway } from '../testing/test-gateway';

jest.setTimeout(60_000);

/** How a WebSocket upgrade with these headers ends: opened, or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

// What a browser is told and allowed: the security headers on the page and the API, and the
// Origin check of the WebSocket upgrade and of the API's state-changing requests.
describe('gateway - browser security: headers and the Origin check', () => {
  const ns = randomName();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-public-'));
  let svc: RunningService;
  let host: string;
  let wsUrl: string;

  beforeAll(async () => {
    fs.writeFileSync(
      path.join(dir, 'index.html'),
      '<!doctype html><title>Chat</title><script type="module" src="/bundle/app.js"></script>',
    );
    svc = await startTestGateway(ns, { PUBLIC_DIR: dir, ALLOWED_ORIGINS: 'https://app.example' });
    host = new URL(svc.url).host;
    wsUrl = `${svc.url.replace(/^http/, 'ws')}/ws`;
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(ns);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('headers - the page gets a CSP without inline script or style, no framing, nosniff and no referrer', async () => {
    const res = await fetch(`${svc.url}/`);
    expect(res.status).toBe(200);
    const csp = Object.fromEntries(
      res.headers
        .get('content-security-policy')!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp).toEqual({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'script-src-attr': ["'none'"],
      'style-src': ["'self'"],
      'style-src-attr': ["'none'"],
      'img-src': ["'self'", 'data:'],
      'font-src': ["'self'"],
      'connect-src': ["'self'", `ws://${host}`, `wss://${host}`],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('x-powered-by')).toBeNull();
    // The API's answers carry them too (an error page is a page).
    const api = await fetch(`${svc.url}/api/no-such-thing`);
    expect(api.status).toBe(404);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('headers - a Host header that is not a host cannot add a directive', async () => {
    const { port } = new URL(svc.url);
    const csp = await new Promise<string | undefined>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: '/', headers: { Host: "x; script-src 'unsafe-inline'" } }, (res) => {
          res.resume();
          resolve(res.headers['content-security-policy'] as string | undefined);
        })
        .on('error', reject),
    );
    expect(csp).toContain("connect-src 'self' 'self';");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('websocket - a foreign Origin is refused 403 before any session; own origin, a listed one and none (not a browser) open', async () => {
    expect(await upgrade(wsUrl, { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(wsUrl, { Origin: `http://${host.replace('127.0.0.1', 'localhost')}` })).toBe(403);
    expect(await upgrade(wsUrl, { Origin: 'null' })).toBe(403);
    expect(await upgrade(wsUrl, { Origin: `http://${host}` })).toBe('open');
    expect(await upgrade(wsUrl, { Origin: 'https://app.example' })).toBe('open');
    expect(await upgrade(wsUrl, {})).toBe('open');
  });

  it('http - a POST from a foreign origin is 403 FORBIDDEN and changes nothing; GET is not refused', async () => {
    const name = `o${randomName().slice(-10)}`;
    const refused = await post(
      `${svc.url}/api/auth/register`,
      { username: name, password: 'password-1' },
      { Origin: 'https://evil.example' },
    );
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'requests from this origin are not allowed (ALLOWED_ORIGINS)' },
    });
    // The name was not taken by the refused request.
    expect(
      (await post(`${svc.url}/api/auth/register`, { username: name, password: 'password-1' }, { Origin: `http://${host}` })).status,
    ).toBe(201);
    const login = await post(`${svc.url}/api/auth/login`, { username: name, password: 'password-1' }, { Origin: 'https://evil.example' });
    expect(login.status).toBe(403);
    expect(
      (await post(`${svc.url}/api/auth/login`, { username: name, password: 'password-1' }, { Origin: 'https://app.example' })).status,
    ).toBe(200);
    expect((await post(`${svc.url}/api/auth/login`, { username: name, password: 'password-1' })).status).toBe(200);
    expect((await fetch(`${svc.url}/health/ready`, { headers: { Origin: 'https://evil.example' } })).status).toBe(200);
  });
});
