import type { LoginResult } from '@chat/client';

// The session kept in sessionStorage: the token lives only as long as the tab, and a reload of
// the tab keeps the user logged in. Also small per-tab preferences and client message ids.

const SESSION_KEY = 'chat.session';

export type Session = Pick<LoginResult, 'accessToken' | 'expiresAt' | 'user'>;

/** The stored session, or null when there is none or its token has expired. */
export function loadSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
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

export function saveSession(s: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ accessToken: s.accessToken, expiresAt: s.expiresAt, user: s.user }));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Small per-tab preferences (last open room, chosen status). */
export const prefs = {
  get(key: string): string | null {
    return sessionStorage.getItem(`chat.${key}`);
  },
  set(key: string, value: string | null): void {
    if (value === null) sessionStorage.removeItem(`chat.${key}`);
    else sessionStorage.setItem(`chat.${key}`, value);
  },
};

/**
 * A client message id: 22 url-safe characters from crypto.getRandomValues (which, unlike
 * crypto.randomUUID, also works on plain-http pages).
 */
export function newClientMsgId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 'c';
  for (const b of bytes) id += alphabet[b & 63];
  return id;
}
