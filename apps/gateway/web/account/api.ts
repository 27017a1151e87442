import { ChatClientError } from '@chat/client';
import type { LoginResult, SessionView } from '@chat/contracts';

// The HTTP half of sessions and accounts (docs/protocol.md, "HTTP API"): login with "remember
// me", refresh, logout, logout everywhere, the session list, password change, account deletion.
// Errors come back as ChatClientError with the server's code (SESSION_REVOKED, AUTH_FAILED, …).

async function call<T>(method: string, path: string, opts: { body?: unknown; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, location.origin), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    throw new ChatClientError('UNAVAILABLE', `cannot reach the server: ${(err as Error).message}`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new ChatClientError(res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL', `HTTP ${res.status}`, undefined, res.status);
  }
  if (!res.ok) {
    const err = (json as { error?: unknown } | null)?.error;
    throw err
      ? ChatClientError.from(err as never, res.status)
      : new ChatClientError(res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL', `HTTP ${res.status}`, undefined, res.status);
  }
  return json as T;
}

export const accountApi = {
  register: (username: string, password: string) => call<unknown>('POST', '/api/auth/register', { body: { username, password } }),
  login: (username: string, password: string, remember: boolean) =>
    call<LoginResult>('POST', '/api/auth/login', { body: { username, password, remember } }),
  /** Single use: the answer holds the next refresh token. */
  refresh: (refreshToken: string) => call<LoginResult>('POST', '/api/auth/refresh', { body: { refreshToken } }),
  logout: (token: string, refreshToken?: string) =>
    call<void>('POST', '/api/auth/logout', { token, body: refreshToken ? { refreshToken } : {} }),
  logoutAll: (token: string) => call<void>('POST', '/api/auth/logout-all', { token, body: {} }),
  sessions: (token: string) => call<{ sessions: SessionView[] }>('GET', '/api/account/sessions', { token }),
  revokeSession: (token: string, sessionId: string) =>
    call<void>('DELETE', `/api/account/sessions/${encodeURIComponent(sessionId)}`, { token }),
  changePassword: (token: string, currentPassword: string, newPassword: string) =>
    call<void>('POST', '/api/account/password', { token, body: { currentPassword, newPassword } }),
  deleteAccount: (token: string, password: string) => call<void>('DELETE', '/api/account', { token, body: { password } }),
};
