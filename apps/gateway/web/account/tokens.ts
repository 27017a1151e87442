import { ChatClientError } from '@chat/client';
import { clearSession, saveSession, storedSession, type Session } from '../session';
import { state } from '../state';
import { accountApi } from './api';
import { lifetimeOf, renewDelayMs, retryDelayMs, usableStored } from './renewal';

// Keeps the session's access token fresh without the user noticing: renewed before it expires
// with POST /api/auth/refresh (which rotates the refresh token). Tabs of a remembered session
// share one refresh token in localStorage, and presenting a used one revokes the session (theft
// detection): so a renewal runs under the cross-tab lock `chat-refresh`, reads the stored
// session again inside it, and uses the token another tab just got instead of renewing twice.
// A session that cannot be renewed (SESSION_REVOKED, ACCOUNT_DISABLED) ends: `onLost`.

const LOCK = 'chat-refresh';
/** Errors after which the session is over (anything else is retried: the server may be restarting). */
const FATAL = new Set(['SESSION_REVOKED', 'ACCOUNT_DISABLED', 'UNAUTHENTICATED', 'AUTH_FAILED', 'BAD_REQUEST', 'FORBIDDEN']);

interface Hooks {
  /** A new access token (renewed here or by another tab): re-authenticate the open connection. */
  renewed(session: Session): void;
  /** The session cannot be renewed: back to the login form with the reason. */
  lost(err: ChatClientError): void;
}
let hooks: Hooks = { renewed: () => undefined, lost: () => undefined };
let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<Session | null> | null = null;
let failures = 0;

export function onTokens(h: Hooks) {
  hooks = h;
}

/** The access token's lifetime, from its own claims (iat, exp), else from the time we got it. */
function lifetime(s: Session): number {
  try {
    const claims = JSON.parse(atob(s.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { iat?: number; exp?: number };
    if (typeof claims.iat === 'number' && typeof claims.exp === 'number') return lifetimeOf(claims.iat * 1000, claims.exp * 1000);
  } catch {
    // not a JWT we can read: fall back
  }
  return lifetimeOf(Date.now(), Date.parse(s.expiresAt));
}

const expiresAtMs = (s: Session) => Date.parse(s.expiresAt);

/** The access token is due for renewal (or expired). */
export const needsRenewal = (s: Session) => renewDelayMs(expiresAtMs(s), lifetime(s), Date.now()) === 0;

/** Takes `s` as the page's session and plans its renewal. */
export function adopt(s: Session) {
  state.session = s;
  schedule();
}

/** Plans the next renewal of the current session (replacing any planned one). */
export function schedule(delayMs?: number) {
  clearTimeout(timer);
  const s = state.session;
  if (!s) return;
  const wait = delayMs ?? renewDelayMs(expiresAtMs(s), lifetime(s), Date.now());
  // Timers of background tabs are throttled: waking up (visibility, focus) checks again too.
  timer = setTimeout(() => void renew(), Math.min(wait, 2 ** 31 - 1));
}

export function stopRenewal() {
  clearTimeout(timer);
  timer = undefined;
}

/** Renews now when the token is due (a tab woken up after its timer was throttled). */
export function renewIfDue() {
  if (state.session && needsRenewal(state.session)) void renew();
}

/**
 * Renews the access token (once at a time per tab; across tabs under the lock). Resolves with
 * the new session, or null when it could not (the session ended, or it will be retried).
 */
export function renew(): Promise<Session | null> {
  inFlight ??= renewLocked().finally(() => (inFlight = null));
  return inFlight;
}

async function renewLocked(): Promise<Session | null> {
  const before = state.session;
  if (!before) return null;
  const work = async (): Promise<Session> => {
    // Inside the lock: another tab may have renewed meanwhile; then its token is ours too. A
    // remembered session is read from localStorage; a tab-only one may have been copied into a
    // duplicated tab, which is asked.
    const stored = before.remember ? storedSession(true) : ((await askPeers(before)) ?? storedSession(false));
    const same = stored?.sessionId === before.sessionId ? stored : null;
    if (
      same &&
      usableStored({ accessToken: same.accessToken, expiresAtMs: expiresAtMs(same) }, before.accessToken, lifetime(same), Date.now())
    )
      return same;
    const refreshToken = same?.refreshToken ?? before.refreshToken;
    const result = await accountApi.refresh(refreshToken);
    const next: Session = { ...result, remember: before.remember };
    // Stored only over our own session: another tab may have logged out, or in as someone else.
    if (state.session?.sessionId === before.sessionId && (same || !before.remember)) saveSession(next);
    // A tab-only session lives in this tab's sessionStorage, which a duplicated tab copied: tell it.
    if (!before.remember) channel?.postMessage({ kind: 'renewed', session: next } satisfies PeerMessage);
    return next;
  };
  try {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    const next = locks ? await locks.request(LOCK, work) : await work();
    if (state.session?.sessionId !== before.sessionId) return null; // logged out meanwhile
    failures = 0;
    adopt(next);
    hooks.renewed(next);
    return next;
  } catch (err) {
    if (state.session?.sessionId !== before.sessionId) return null;
    const e = err instanceof ChatClientError ? err : new ChatClientError('INTERNAL', String(err));
    if (FATAL.has(e.code)) {
      stopRenewal();
      clearSession(before);
      hooks.lost(e);
      return null;
    }
    schedule(retryDelayMs(++failures));
    return null;
  }
}

/**
 * Another tab changed the remembered session (a `storage` event): take its newer tokens, or
 * end this tab's session when it was removed (logged out there).
 */
export function onStorageChanged(): 'same' | 'renewed' | 'gone' {
  const s = state.session;
  if (!s?.remember) return 'same';
  const stored = storedSession(true);
  if (!stored) return 'gone';
  // Another tab logged in anew: this tab's session still works (until it is reloaded).
  if (stored.sessionId !== s.sessionId) return 'same';
  if (stored.accessToken === s.accessToken) return 'same';
  adopt(stored);
  hooks.renewed(stored);
  return 'renewed';
}

/**
 * Tab-only sessions and duplicated tabs: a duplicated tab holds a copy of the session
 * (sessionStorage is copied), whose refresh token is used up once one of them renews. A renewal
 * is told to the other tabs ('renewed'), and a tab about to renew asks them first ('ask'): a
 * tab holding a newer token of the session answers with it ('session').
 */
type PeerMessage = { kind: 'renewed' | 'session'; session: Session } | { kind: 'ask'; sessionId: string };
/** How long a renewal waits for another tab's newer token of a tab-only session. */
const ASK_PEERS_MS = 250;
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('chat-session') : null;
const newer = (a: Session, than: Session) => a.sessionId === than.sessionId && Date.parse(a.expiresAt) > Date.parse(than.expiresAt);

channel?.addEventListener('message', (e: MessageEvent<PeerMessage>) => {
  const s = state.session;
  const m = e.data;
  if (!s || s.remember || !m) return;
  if (m.kind === 'ask') {
    if (m.sessionId === s.sessionId) channel.postMessage({ kind: 'session', session: s } satisfies PeerMessage);
  } else if (m.kind === 'renewed' && m.session && newer(m.session, s)) {
    saveSession(m.session);
    adopt(m.session);
    hooks.renewed(m.session);
  }
});

/** A newer token of this tab-only session held by another tab (duplicated), or null. */
function askPeers(mine: Session): Promise<Session | null> {
  if (!channel) return Promise.resolve(null);
  const ask = channel;
  return new Promise((resolve) => {
    const done = (found: Session | null) => {
      clearTimeout(timer);
      ask.removeEventListener('message', onAnswer);
      resolve(found);
    };
    const onAnswer = (e: MessageEvent<PeerMessage>) => {
      const m = e.data;
      if ((m?.kind === 'session' || m?.kind === 'renewed') && m.session && newer(m.session, mine)) done(m.session);
    };
    const timer = setTimeout(() => done(null), ASK_PEERS_MS);
    ask.addEventListener('message', onAnswer);
    ask.postMessage({ kind: 'ask', sessionId: mine.sessionId } satisfies PeerMessage);
  });
}

/** A fresh access token for an HTTP call (renewed first when due). */
export async function freshToken(): Promise<string> {
  const s = state.session;
  if (!s) throw new ChatClientError('UNAUTHENTICATED', 'not logged in');
  if (!needsRenewal(s)) return s.accessToken;
  const next = await renew();
  if (!next) throw new ChatClientError('UNAVAILABLE', 'could not renew the session; try again in a moment');
  return next.accessToken;
}
