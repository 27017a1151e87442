import type { Event } from '../envelope';

export type UserRegistered = Event<'UserRegistered', { userId: string; username: string }>;
/** The password changed: every session but `keptSessionId` (the one that changed it) was revoked. */
export type UserPasswordChanged = Event<'UserPasswordChanged', { userId: string; keptSessionId: string | null }>;
/** A server administrator disabled the account: no login, every session revoked, connections closed. */
export type UserDisabled = Event<'UserDisabled', { userId: string; byUserId: string; reason: string }>;
export type UserEnabled = Event<'UserEnabled', { userId: string; byUserId: string }>;
/**
 * The user deleted their account: credentials gone, sessions revoked, the name stays reserved.
 * The rooms service reacts by removing the user from every room and conversation; the messages
 * they wrote stay in history under their name (docs/protocol.md, "Deleting an account").
 */
export type UserDeleted = Event<'UserDeleted', { userId: string; username: string }>;
export type AccountEvent = UserRegistered | UserPasswordChanged | UserDisabled | UserEnabled | UserDeleted;

/** The account record kept in the accounts KV bucket, keyed by the normalised username. */
export interface AccountRecord {
  userId: string;
  /** As the user typed it (NFKC-normalised), for display. */
  username: string;
  /** argon2id PHC string; empty once the account is deleted. */
  passwordHash: string;
  createdAt: string;
  /** Set by a server administrator: no login, no refresh, connections closed. */
  disabled?: boolean;
  /** Set when the user deleted the account: the record stays so that the name stays taken. */
  deleted?: boolean;
}

/**
 * One login on one device: the family of its refresh tokens, the value of `kv.sessions` under
 * its id. A refresh rotates `tokenHash`; the previous hashes are kept so that a reused old
 * token is recognised (theft detection) and revokes the whole session.
 */
export interface SessionRecord {
  sessionId: string;
  userId: string;
  username: string;
  /** sha256 (base64url) of the current refresh token's secret. */
  tokenHash: string;
  /** Hashes of the tokens this one replaced, newest first (bounded). */
  previousHashes: string[];
  /** "Remember me": the refresh token outlives the browser session (REFRESH_TOKEN_TTL_S). */
  remember: boolean;
  createdAt: string;
  lastUsedAt: string;
  /** The refresh token's expiry (ISO); each refresh moves it on. */
  expiresAt: string;
  /** User-Agent of the login, cut to 200 characters, shown in the session list. */
  userAgent: string;
}

/** Claims inside the signed access token. */
export interface AccessTokenClaims {
  sub: string;
  name: string;
  /** The session (refresh-token family) this access token belongs to. */
  sid: string;
}

/**
 * Account service -> gateways, on `live.sessions(userId)` (core NATS): close the connections
 * of these sessions now (4410, or 4411 for `disabled`). `sessionIds: 'all'` closes every
 * session of the user except `exceptSessionId` (when set).
 */
export interface SessionRevocation {
  userId: string;
  sessionIds: string[] | 'all';
  exceptSessionId: string | null;
  reason: 'logout' | 'logout_all' | 'password_changed' | 'refresh_reused' | 'revoked' | 'disabled' | 'deleted';
}
