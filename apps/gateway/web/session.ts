import type { LoginResult } from '@chat/contracts';

// The session this browser keeps: the access token, the refresh token and their expiries, and
// the user. "Remember me" keeps it in localStorage (every tab, and after a browser restart);
// otherwise in sessionStorage (this tab; a tab opened while it is open gets a copy from it over
// the BroadcastChannel: account/tokens.ts askForSession). Tabs of a remembered session share
// one refresh token: account/tokens.ts renews it under a cross-tab lock. Also small per-tab
// preferences and client message ids.

const SESSION_KEY = 'chat.session';

export type Session = Pick<LoginResult, 'accessToken' | 'expiresAt' | 'refreshToken' | 'refreshExpiresAt' | 'sessionId' | 'user'> & {
  /** Kept in localStorage (true) or sessionStorage (false). */
  remember: boolean;
};

function parse(raw: string | null): Session | null {
  try {
    return usableSession(JSON.parse(raw ?? 'null'));
  } catch {
    return null;
  }
}

/** A session (stored, or told by another tab) that can still be used or renewed; else null. */
export function usableSession(value: unknown): Session | null {
  const s = value as Session | null;
  if (!s || typeof s !== 'object' || typeof s.accessToken !== 'string' || typeof s.refreshToken !== 'string' || !s.user?.userId)
    return null;
  // The refresh token has expired: nothing left to renew with.
  if (!(Date.parse(s.refreshExpiresAt) > Date.now())) return null;
  return s;
}

const store = (remember: boolean): Storage => (remember ? localStorage : sessionStorage);

/**
 * The stored session, or null when there is none or it can no longer be renewed: this tab's
 * (sessionStorage) first, else the remembered one (localStorage). Its access token may have
 * expired; the caller renews it before connecting.
 */
export function loadSession(): Session | null {
  const own = parse(sessionStorage.getItem(SESSION_KEY));
  if (own) {
    holdTabSession(true);
    return { ...own, remember: false };
  }
  const remembered = parse(localStorage.getItem(SESSION_KEY));
  if (remembered) return { ...remembered, remember: true };
  clearSession();
  return null;
}

/** The session as stored now in the storage `remember` names (another tab may have renewed it). */
export function storedSession(remember: boolean): Session | null {
  const s = parse(store(remember).getItem(SESSION_KEY));
  return s ? { ...s, remember } : null;
}

export function saveSession(s: Session): void {
  const kept: Session = {
    accessToken: s.accessToken,
    expiresAt: s.expiresAt,
    refreshToken: s.refreshToken,
    refreshExpiresAt: s.refreshExpiresAt,
    sessionId: s.sessionId,
    user: s.user,
    remember: s.remember,
  };
  store(s.remember).setItem(SESSION_KEY, JSON.stringify(kept));
  // A remembered login replaces this tab's own session (which loadSession would prefer); a
  // tab-only login leaves the other tabs' remembered session alone.
  if (s.remember) sessionStorage.removeItem(SESSION_KEY);
  holdTabSession(!s.remember);
}

/** Forgets the session (logging out, a revoked session): where `s` is kept, or in both storages. */
export function clearSession(s?: Pick<Session, 'remember' | 'sessionId'> | null): void {
  if (!s || !s.remember) {
    sessionStorage.removeItem(SESSION_KEY);
    holdTabSession(false);
  }
  if (!s || s.remember) {
    // Only this session: another tab may have logged in since (maybe as someone else).
    const kept = storedSession(true);
    if (!s || !kept || kept.sessionId === s.sessionId) localStorage.removeItem(SESSION_KEY);
  }
}

/**
 * The Web Lock every tab with a tab-only session holds (shared) while it has one. A new tab
 * without a session asks the others for theirs only when some tab holds it, so a first visit
 * shows the login form at once instead of waiting for answers that cannot come; the browser
 * drops the lock of a tab that closes or crashes.
 */
export const TAB_SESSION_LOCK = 'chat-tab-session';
let tabLock: { wanted: boolean; release?: () => void } | undefined;

function holdTabSession(hold: boolean) {
  if (typeof navigator === 'undefined' || !navigator.locks) return;
  if (hold && !tabLock) {
    const lock: { wanted: boolean; release?: () => void } = (tabLock = { wanted: true });
    void navigator.locks.request(
      TAB_SESSION_LOCK,
      { mode: 'shared' },
      () =>
        // Held until released: the callback's promise is the lock's lifetime.
        new Promise<void>((resolve) => (lock.wanted ? (lock.release = resolve) : resolve())),
    );
  } else if (!hold && tabLock) {
    tabLock.wanted = false;
    tabLock.release?.();
    tabLock = undefined;
  }
}

/** Whether another tab of this browser has a tab-only session to give (unknown: assume so). */
export async function tabSessionsOpen(): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.locks?.query) return true;
  const { held = [] } = await navigator.locks.query();
  return held.some((l) => l.name === TAB_SESSION_LOCK);
}

/** The key a `storage` event names when another tab changed the remembered session. */
export const isSessionKey = (key: string | null) => key === SESSION_KEY || key === null;

/** Small per-tab preferences (last open room). */
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
