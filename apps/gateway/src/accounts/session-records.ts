import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Limits, isUserId, type SessionRecord, type SessionView } from '@chat/contracts';
import { decodeJson } from '@chat/messaging';

/**
 * Pure rules of sessions (refresh-token families): ids, the token format, rotation and reuse
 * detection. SessionStore does the I/O around them.
 *
 * A session id is `<userId>.<random>`: the KV key of its record in `kv.sessions`, so a user's
 * sessions are listed by the server-side key filter `<userId>.*`. A refresh token is
 * `<sessionId>.<secret>`; only the sha256 of the secret is stored.
 */

/** Hashes of replaced refresh tokens kept per session for reuse detection. */
export const PREVIOUS_HASHES_KEPT = 10;
/** User-Agent kept for the session list, in characters. */
export const USER_AGENT_MAX_CHARS = 200;

const SESSION_SUFFIX = /^[A-Za-z0-9_-]{16,64}$/;
const SECRET = /^[A-Za-z0-9_-]{32,100}$/;

export const newSessionId = (userId: string): string => `${userId}.${randomBytes(12).toString('base64url')}`;
export const newSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

/** Whether `id` has the shape of a session id (any user's). */
export function isSessionId(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  const dot = id.indexOf('.');
  return dot > 0 && isUserId(id.slice(0, dot)) && SESSION_SUFFIX.test(id.slice(dot + 1));
}

export const userIdOfSession = (sessionId: string): string => sessionId.slice(0, sessionId.indexOf('.'));

/** `<sessionId>.<secret>` -> its parts; null for anything else. */
export function parseRefreshToken(token: string): { sessionId: string; secret: string } | null {
  if (token.length > Limits.refreshTokenMaxChars) return null;
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const sessionId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  return isSessionId(sessionId) && SECRET.test(secret) ? { sessionId, secret } : null;
}

export interface Lifetimes {
  /** REFRESH_TOKEN_TTL_S: a remembered session. */
  rememberS: number;
  /** REFRESH_TOKEN_SESSION_TTL_S: a browser session. */
  sessionS: number;
}

export const refreshTtlS = (remember: boolean, t: Lifetimes): number => (remember ? t.rememberS : t.sessionS);

export function newSessionRecord(
  input: { sessionId: string; userId: string; username: string; secret: string; remember: boolean; userAgent: string },
  now: Date,
  lifetimes: Lifetimes,
): SessionRecord {
  const at = now.toISOString();
  return {
    sessionId: input.sessionId,
    userId: input.userId,
    username: input.username,
    tokenHash: hashSecret(input.secret),
    previousHashes: [],
    remember: input.remember,
    createdAt: at,
    lastUsedAt: at,
    expiresAt: new Date(now.getTime() + refreshTtlS(input.remember, lifetimes) * 1000).toISOString(),
    userAgent: [...input.userAgent].slice(0, USER_AGENT_MAX_CHARS).join(''),
  };
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * What a presented refresh secret means for its session: `rotate` (the current token, session
 * alive), `reuse` (a token this session already replaced: someone else has used it, so the
 * whole session is revoked), `expired`, or `invalid` (a secret this session never issued).
 */
export type RefreshDecision = 'rotate' | 'reuse' | 'expired' | 'invalid';

export function decideRefresh(record: SessionRecord, secret: string, now: Date): RefreshDecision {
  const presented = hashSecret(secret);
  if (sameHash(record.tokenHash, presented)) return Date.parse(record.expiresAt) <= now.getTime() ? 'expired' : 'rotate';
  if (record.previousHashes.some((h) => sameHash(h, presented))) return 'reuse';
  return 'invalid';
}

/** The record after a rotation to `newSecret`: the old hash joins the (bounded) previous ones, the expiry moves on. */
export function rotated(record: SessionRecord, newSecretValue: string, now: Date, lifetimes: Lifetimes): SessionRecord {
  return {
    ...record,
    tokenHash: hashSecret(newSecretValue),
    previousHashes: [record.tokenHash, ...record.previousHashes].slice(0, PREVIOUS_HASHES_KEPT),
    lastUsedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + refreshTtlS(record.remember, lifetimes) * 1000).toISOString(),
  };
}

/** Reads a session record back from KV bytes; null for anything that is not one (never throws). */
export function parseSessionRecord(bytes: Uint8Array): SessionRecord | null {
  const v = decodeJson(bytes);
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const strings = ['userId', 'username', 'tokenHash', 'createdAt', 'lastUsedAt', 'expiresAt', 'userAgent'] as const;
  if (!isSessionId(r.sessionId) || strings.some((k) => typeof r[k] !== 'string') || typeof r.remember !== 'boolean') return null;
  if (!Array.isArray(r.previousHashes) || r.previousHashes.some((h) => typeof h !== 'string')) return null;
  if (userIdOfSession(r.sessionId) !== r.userId) return null;
  return {
    sessionId: r.sessionId,
    userId: r.userId as string,
    username: r.username as string,
    tokenHash: r.tokenHash as string,
    previousHashes: r.previousHashes as string[],
    remember: r.remember,
    createdAt: r.createdAt as string,
    lastUsedAt: r.lastUsedAt as string,
    expiresAt: r.expiresAt as string,
    userAgent: r.userAgent as string,
  };
}

export const isExpired = (record: SessionRecord, now: Date): boolean => Date.parse(record.expiresAt) <= now.getTime();

export const sessionView = (r: SessionRecord, currentSessionId: string | null): SessionView => ({
  sessionId: r.sessionId,
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
  expiresAt: r.expiresAt,
  remember: r.remember,
  userAgent: r.userAgent,
  current: r.sessionId === currentSessionId,
});
