import type { UserView } from '@chat/contracts';
import { ChatClientError } from './errors';

/** The HTTP half of the protocol (register, login) with `fetch`, which browsers and Node both have. */

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: string;
  user: UserView;
}

/** `http://host:port` -> `ws://host:port/ws` (and https -> wss). */
export function wsUrlOf(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  u.search = '';
  u.hash = '';
  return u.toString();
}

async function postJson<T>(url: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new ChatClientError('UNAVAILABLE', `cannot reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const code = !res.ok && res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL';
    throw new ChatClientError(code, `non-JSON response (HTTP ${res.status}): ${text.slice(0, 200)}`, undefined, res.status);
  }
  if (!res.ok) {
    const err = (json as { error?: unknown } | null)?.error;
    throw err
      ? ChatClientError.from(err as never, res.status)
      : new ChatClientError('INTERNAL', `HTTP ${res.status}`, undefined, res.status);
  }
  return json as T;
}

/** POST /api/auth/register. Rejects with ChatClientError (e.g. USERNAME_TAKEN, BAD_REQUEST). */
export function register(baseUrl: string, username: string, password: string): Promise<{ user: UserView }> {
  return postJson(new URL('/api/auth/register', baseUrl).toString(), { username, password });
}

/** POST /api/auth/login. Rejects with ChatClientError (AUTH_FAILED for a wrong name or password). */
export function login(baseUrl: string, username: string, password: string): Promise<LoginResult> {
  return postJson(new URL('/api/auth/login', baseUrl).toString(), { username, password });
}
