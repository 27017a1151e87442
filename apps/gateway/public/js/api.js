// HTTP part of the protocol (register, login) and the session kept in sessionStorage: the
// token lives only as long as the tab, and a reload of the tab keeps the user logged in.

const SESSION_KEY = 'chat.session';

/** An error reply of the server (or a local failure mapped to the same shape). */
export class ChatError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.details = details;
  }

  static from(body) {
    return new ChatError(body?.code ?? 'INTERNAL', body?.message ?? 'unknown error', body?.details);
  }
}

async function postJson(path, body) {
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new ChatError('UNAVAILABLE', 'cannot reach the server; check your connection and try again');
  }
  let json;
  try {
    json = await res.json();
  } catch {
    throw new ChatError(
      res.ok ? 'INTERNAL' : res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL',
      `unexpected response from the server (HTTP ${res.status})`,
    );
  }
  if (!res.ok) throw ChatError.from(json?.error);
  return json;
}

export const register = (username, password) => postJson('/api/auth/register', { username, password });
export const login = (username, password) => postJson('/api/auth/login', { username, password });

/** The stored session, or null when there is none or its token has expired. */
export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (!s || typeof s.accessToken !== 'string' || !s.user) return null;
    if (Date.parse(s.expiresAt) <= Date.now()) {
      clearSession();
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ accessToken: s.accessToken, expiresAt: s.expiresAt, user: s.user }));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Small per-tab preferences (last open room, chosen status). */
export const prefs = {
  get(key) {
    return sessionStorage.getItem(`chat.${key}`);
  },
  set(key, value) {
    if (value === null || value === undefined) sessionStorage.removeItem(`chat.${key}`);
    else sessionStorage.setItem(`chat.${key}`, value);
  },
};

/**
 * A client message id: 22 url-safe characters from crypto.getRandomValues (which, unlike
 * crypto.randomUUID, also works on plain-http pages).
 */
export function newClientMsgId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 'c';
  for (const b of bytes) id += alphabet[b & 63];
  return id;
}
