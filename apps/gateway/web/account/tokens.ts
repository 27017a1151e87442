import { ChatClientError, refresh } from '@chat/client';
import { clearSession, saveSession, storedSession, tabSessionsOpen, usableSession, type Session } from '../session';
import { state } from '../state';
import { isDue, lifetimeOf, renewLeadMs, usableStored } from './renewal';

// Renews the session's access token with POST /api/auth/refresh (which rotates the refresh
// token), on demand: the connection asks for a token (`freshToken`, the ChatClient's token
// function) when it opens and when its own timer says the token is due (renewBeforeMs: this
// session's renewal lead); HTTP calls ask too. Nothing else renews or re-authenticates. Tabs of
// a remembered session share one refresh token in localStorage, and presenting a used one
// revokes the session (theft detection): so a renewal runs under the cross-tab lock
// `chat-refresh`, reads the stored session again inside it, and uses the token another tab just
// got instead of renewing twice. A session that cannot be renewed (SESSION_REVOKED,
// ACCOUNT_DISABLED) ends: `onLost`.

const LOCK = 'chat-refresh';
/** Errors after which the session is over (anything else may pass: the server may be restarting). SERVER_BANNED: a server ban. */
const FATAL = new Set([
  'SESSION_REVOKED',
  'ACCOUNT_DISABLED',
  'SERVER_BANNED',
  'UNAUTHENTICATED',
  'AUTH_FAILED',
  'BAD_REQUEST',
  'FORBIDDEN',
]);

let lost: (err: ChatClientError) => void = () => undefined;
let inFlight: Promise<Session | null> | null = null;

/** What to do when the session cannot be renewed (back to the login form with the reason). */
export function onLost(fn: (err: ChatClientError) => void) {
  lost = fn;
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
const needsRenewal = (s: Session) => isDue(expiresAtMs(s), lifetime(s), Date.now());

/** How long before expiry the connection asks for a new token (the ChatClient's renewBeforeMs). */
export const renewBeforeMs = (s: Session) => renewLeadMs(lifetime(s));

/**
 * Renews the access token (once at a time per tab; across tabs under the lock). Resolves with
 * the new session, or null when it could not: the session ended (`onLost` was called), or the
 * server could not be reached (the caller tries again later).
 */
export function renew(): Promise<Session | null> {
  inFlight ??= renewLocked().finally(() => (inFlight = null));
  return inFlight;
}

async function renewLocked(): Promise<Session | null> {
  const before = state.session;
  if (!before) return null;
  const work = async (): Promise<Session> => {
    // Inside the lock: another tab may have renewed meanwhile; then its token is ours too. The
    // other tabs are asked first: their answers include any renewal made under the lock before
    // ours (a renewing tab takes its new token before releasing the lock), while a write to
    // localStorage may reach this tab a moment late; a tab-only session may also have been
    // copied into a duplicated tab. Then the storage, and what this tab heard meanwhile.
    const peer = await askPeers(before);
    const stored = storedSession(before.remember);
    const latest = [peer, stored, state.session]
      .filter((c): c is Session => c?.sessionId === before.sessionId)
      .reduce<Session | null>((a, c) => (a && expiresAtMs(a) >= expiresAtMs(c) ? a : c), null);
    if (
      latest &&
      usableStored({ accessToken: latest.accessToken, expiresAtMs: expiresAtMs(latest) }, before.accessToken, lifetime(latest), Date.now())
    ) {
      if (state.session?.sessionId === before.sessionId) state.session = latest;
      return latest;
    }
    const refreshToken = latest?.refreshToken ?? before.refreshToken;
    const result = await refresh(location.origin, refreshToken);
    const next: Session = { ...result, remember: before.remember };
    if (state.session?.sessionId === before.sessionId) {
      // Stored only over our own session: another tab may have logged out, or in as someone else.
      if (stored?.sessionId === before.sessionId || !before.remember) saveSession(next);
      // Before the lock is released: a tab renewing next asks, and this tab answers with it.
      state.session = next;
    }
    channel?.postMessage({ kind: 'renewed', session: next } satisfies PeerMessage);
    return next;
  };
  try {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    const next = locks ? await locks.request(LOCK, work) : await work();
    if (state.session?.sessionId !== before.sessionId) return null; // logged out meanwhile
    state.session = next;
    return next;
  } catch (err) {
    if (state.session?.sessionId !== before.sessionId) return null;
    const e = err instanceof ChatClientError ? err : new ChatClientError('INTERNAL', String(err));
    if (FATAL.has(e.code)) {
      clearSession(before);
      lost(e);
    }
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
  // The connection switches to it when its own renewal comes (the current token still works).
  state.session = stored;
  return 'renewed';
}

/**
 * The tabs of one session tell each other their tokens: tabs of a remembered session (whose
 * shared localStorage may show another tab's write a moment late), and duplicated tabs of a
 * tab-only session (each holding a copy of it: sessionStorage is copied), whose refresh token is
 * used up once one of them renews. A renewal is told to the other tabs ('renewed'), and a tab
 * about to renew asks them first ('ask'): a tab holding a newer token of the session answers
 * with it ('session').
 */
type PeerMessage = { kind: 'renewed' | 'session'; session: Session } | { kind: 'ask'; sessionId?: string };
/** How long a renewal waits for another tab's newer token of the session. */
const ASK_PEERS_MS = 250;
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('chat-session') : null;
const newer = (a: Session, than: Session) => a.sessionId === than.sessionId && Date.parse(a.expiresAt) > Date.parse(than.expiresAt);

channel?.addEventListener('message', (e: MessageEvent<PeerMessage>) => {
  const s = state.session;
  const m = e.data;
  if (!s || !m) return;
  if (m.kind === 'ask') {
    // A tab asking for this session (about to renew), or a new tab asking for any (askForSession).
    if (m.sessionId === undefined || m.sessionId === s.sessionId)
      channel.postMessage({ kind: 'session', session: s } satisfies PeerMessage);
  } else if (m.kind === 'renewed' && m.session && newer(m.session, s)) {
    // A remembered session's renewer wrote localStorage itself; a tab-only one is this tab's copy.
    if (!s.remember) saveSession(m.session);
    state.session = m.session;
  }
});

/** A newer token of this session held by another tab, or null (after ASK_PEERS_MS). */
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

/** How long a new tab waits for another tab's session before showing the login form. */
const ASK_NEW_TAB_MS = 300;

/**
 * A new tab with no stored session of its own asks the open tabs of this browser for theirs
 * (the first answer within ASK_NEW_TAB_MS), when one holds a tab-only session (its Web Lock,
 * session.ts TAB_SESSION_LOCK; none: null at once): a tab-only session is kept in its tab's
 * sessionStorage, which a new tab does not get. The copy is kept tab-only here too: the tabs
 * then share its refresh token as duplicated tabs do (renewals told and asked for above).
 */
export async function askForSession(): Promise<Session | null> {
  if (!channel || !(await tabSessionsOpen())) return null;
  const ask = channel;
  return new Promise((resolve) => {
    const done = (found: Session | null) => {
      clearTimeout(timer);
      ask.removeEventListener('message', onAnswer);
      resolve(found);
    };
    const onAnswer = (e: MessageEvent<PeerMessage>) => {
      const m = e.data;
      const s = m?.kind === 'session' ? usableSession(m.session) : null;
      if (s) done({ ...s, remember: false });
    };
    const timer = setTimeout(() => done(null), ASK_NEW_TAB_MS);
    ask.addEventListener('message', onAnswer);
    ask.postMessage({ kind: 'ask' } satisfies PeerMessage);
  });
}

/**
 * The session's access token, renewed first when due: the ChatClient's token function (each
 * connection's `auth` and its in-band renewal) and the HTTP calls'. Rejects when there is none
 * (the session ended, or the server cannot be reached now: the client retries with back-off).
 */
export async function freshToken(): Promise<string> {
  const s = state.session;
  if (!s) throw new ChatClientError('UNAUTHENTICATED', 'not logged in');
  if (!needsRenewal(s)) return s.accessToken;
  const next = await renew();
  if (!next) throw new ChatClientError('UNAVAILABLE', 'could not renew the session; try again in a moment');
  return next.accessToken;
}
