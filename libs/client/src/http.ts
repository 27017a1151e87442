import type { FilterConfig, FilterConfigView, LoginResult, RpcResponse, SessionView, UserView } from '@chat/contracts';
import { ChatClientError } from './errors';

/**
 * The HTTP half of the protocol with `fetch`, which browsers and Node both have: register, login
 * and the session's refresh tokens, logout, the account (password, deletion) and its sessions
 * (docs/protocol.md "HTTP API" and "Sessions and tokens").
 */

export type { LoginResult, SessionView };

/** `http://host:port` -> `ws://host:port/ws` (and https -> wss). */
export function wsUrlOf(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  u.search = '';
  u.hash = '';
  return u.toString();
}

interface Call {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Access token for the Bearer header. */
  token?: string;
}

/** One request; the parsed JSON reply (undefined for 204). Failures reject with ChatClientError (with the HTTP status). */
async function call<T>(baseUrl: string, path: string, { method = 'POST', body, token }: Call = {}): Promise<T> {
  const url = new URL(path, baseUrl).toString();
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ChatClientError('UNAVAILABLE', `cannot reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.ok && text === '') return undefined as T;
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
  return call(baseUrl, '/api/auth/register', { body: { username, password } });
}

/**
 * POST /api/auth/login: an access token and the session's refresh token. `remember`: the
 * refresh token lives long (REFRESH_TOKEN_TTL_S) instead of one browser session's worth.
 * Rejects with ChatClientError (AUTH_FAILED for a wrong name or password, ACCOUNT_DISABLED).
 */
export function login(baseUrl: string, username: string, password: string, opts: { remember?: boolean } = {}): Promise<LoginResult> {
  const body = opts.remember === undefined ? { username, password } : { username, password, remember: opts.remember };
  return call(baseUrl, '/api/auth/login', { body });
}

/**
 * POST /api/auth/refresh: a new access token and a new refresh token (the one given is used
 * up: presenting it again revokes the session). SESSION_REVOKED (401): log in again.
 */
export function refresh(baseUrl: string, refreshToken: string): Promise<LoginResult> {
  return call(baseUrl, '/api/auth/refresh', { body: { refreshToken } });
}

/** POST /api/auth/logout: ends this session (its connections are closed 4410). */
export async function logout(baseUrl: string, accessToken: string, refreshToken?: string): Promise<void> {
  await call(baseUrl, '/api/auth/logout', { token: accessToken, body: refreshToken === undefined ? {} : { refreshToken } });
}

/** POST /api/auth/logout-all: ends every session of the user, this one included. */
export async function logoutAll(baseUrl: string, accessToken: string): Promise<void> {
  await call(baseUrl, '/api/auth/logout-all', { token: accessToken, body: {} });
}

/** POST /api/account/password: every other session ends. AUTH_FAILED when `currentPassword` is wrong. */
export async function changePassword(baseUrl: string, accessToken: string, currentPassword: string, newPassword: string): Promise<void> {
  await call(baseUrl, '/api/account/password', { token: accessToken, body: { currentPassword, newPassword } });
}

/** DELETE /api/account: the account is deleted (its name stays taken), every session ends. */
export async function deleteAccount(baseUrl: string, accessToken: string, password: string): Promise<void> {
  await call(baseUrl, '/api/account', { method: 'DELETE', token: accessToken, body: { password } });
}

/** GET /api/account/sessions: the user's sessions, newest first (`current`: the one of this token). */
export async function sessions(baseUrl: string, accessToken: string): Promise<SessionView[]> {
  return (await call<{ sessions: SessionView[] }>(baseUrl, '/api/account/sessions', { method: 'GET', token: accessToken })).sessions;
}

/** DELETE /api/account/sessions/:sessionId: ends one of the user's own sessions. */
export async function revokeSession(baseUrl: string, accessToken: string, sessionId: string): Promise<void> {
  await call(baseUrl, `/api/account/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE', token: accessToken });
}

/**
 * GET /api/moderation/filters: the filter configuration of the server (no `roomId`) or of one
 * room, as set. The same as the `mod.filters.get` op, over HTTP.
 */
export function getFilters(baseUrl: string, accessToken: string, roomId?: string): Promise<FilterConfigView> {
  const query = roomId === undefined ? '' : `?roomId=${encodeURIComponent(roomId)}`;
  return call(baseUrl, `/api/moderation/filters${query}`, { method: 'GET', token: accessToken });
}

/**
 * PUT /api/moderation/filters: replaces the whole configuration of the server (no `roomId`) or
 * of one room. Over HTTP because a large configuration (a 10,000-word list) does not fit a
 * WebSocket frame: the body may be up to 1 MiB (FRAME_TOO_LARGE above). Rejects with
 * ChatClientError (FORBIDDEN, BAD_REQUEST with the field).
 */
export function setFilters(
  baseUrl: string,
  accessToken: string,
  config: FilterConfig,
  roomId?: string,
): Promise<RpcResponse<'moderation.setFilters'>> {
  return call(baseUrl, '/api/moderation/filters', {
    method: 'PUT',
    token: accessToken,
    body: roomId === undefined ? { config } : { roomId, config },
  });
}

export interface TokenProviderOptions {
  /** Refresh when the access token has less than this left. @default 60000 */
  refreshBeforeMs?: number;
  /** Called with each new LoginResult (to keep the new refresh token: each is single use). */
  onRefresh?: (login: LoginResult) => void;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

/**
 * A token provider for `ChatClient` (`token` option): returns the access token of `login`,
 * refreshing it first (once, however many callers wait) when it expires within
 * `refreshBeforeMs`. Rejects with the refresh's error (SESSION_REVOKED: log in again).
 */
export function tokenProvider(baseUrl: string, initial: LoginResult, opts: TokenProviderOptions = {}): () => Promise<string> {
  const before = opts.refreshBeforeMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let current = initial;
  let refreshing: Promise<LoginResult> | null = null;
  return async () => {
    if (Date.parse(current.expiresAt) - now() > before) return current.accessToken;
    refreshing ??= refresh(baseUrl, current.refreshToken).then(
      (next) => {
        current = next;
        refreshing = null;
        opts.onRefresh?.(next);
        return next;
      },
      (err: unknown) => {
        refreshing = null;
        throw err;
      },
    );
    return (await refreshing).accessToken;
  };
}
