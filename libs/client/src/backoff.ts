import type { ErrorCode, WsCloseCodes } from '@chat/contracts';

/** When and how the client reconnects after the connection dropped (docs/protocol.md, Close codes). */

export interface ReconnectPolicy {
  /** Delay before the first retry, before jitter. @default 500 */
  initialDelayMs: number;
  /** Largest delay, before jitter. @default 15000 */
  maxDelayMs: number;
  /** Growth of the delay per failed attempt. @default 2 */
  factor: number;
  /**
   * Share of the delay that is random (0-1): the wait is `delay * (1 - jitter * random())`, so
   * that many clients do not come back in lock-step after a gateway restart. @default 0.5
   */
  jitter: number;
  /** Failed attempts in a row after which the client gives up (state `closed`). @default Infinity */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT: Readonly<ReconnectPolicy> = {
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
};

/** The wait before retry number `attempt` (0 for the first retry after a drop). */
export function backoffDelay(attempt: number, policy: Readonly<ReconnectPolicy> = DEFAULT_RECONNECT, random: () => number = Math.random) {
  const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
  return Math.round(delay * (1 - policy.jitter * random()));
}

/** The gateway's close codes the client acts on; checked against the contract, without importing its runtime code. */
export const CloseCodes = {
  tokenExpired: 4403,
  tooManyBadFrames: 4400,
  sessionRevoked: 4410,
  accountDisabled: 4411,
  serverBanned: 4412,
  serverKicked: 4413,
  tooManyConnections: 4429,
  requestFlood: 4430,
  shuttingDown: 1012,
} as const satisfies Partial<typeof WsCloseCodes>;

/**
 * Close codes after which reconnecting would only fail the same way: 4403 (the token expired:
 * renew it or log in again first), 4410 / 4411 (the session was revoked, the account disabled:
 * log in again), 4412 (banned from the server: every login is refused until an unban),
 * 4400 / 1007 / 1009 (the client sent bad frames: a bug to fix); and 4413 (a moderator
 * disconnected the user: the login still holds, but coming straight back would undo the kick;
 * the app may offer to reconnect: `open()`). 1012 (gateway
 * restarting), 1006 (connection lost), 4401 (auth too late) and 4408 (slow consumer) are
 * retried; 4429 / 4430 too, after the longest wait (BACK_OFF_CLOSE_CODES).
 */
export const NO_RETRY_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCodes.tokenExpired,
  CloseCodes.sessionRevoked,
  CloseCodes.accountDisabled,
  CloseCodes.serverBanned,
  CloseCodes.serverKicked,
  CloseCodes.tooManyBadFrames,
  1007,
  1009,
]);

/** Close codes that mean "too much from you" (connections per user, request flood): retried after the policy's longest wait. */
export const BACK_OFF_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCodes.tooManyConnections, CloseCodes.requestFlood]);

/** Close codes that mean the login is over (with the error the client reports as `authLost`). */
export const AUTH_LOST_CLOSE_CODES: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [CloseCodes.tokenExpired, 'TOKEN_EXPIRED'],
  [CloseCodes.sessionRevoked, 'SESSION_REVOKED'],
  [CloseCodes.accountDisabled, 'ACCOUNT_DISABLED'],
  [CloseCodes.serverBanned, 'SERVER_BANNED'],
]);

/** Replies to `auth` that mean the token is no good (as opposed to the gateway being unable to check it now). */
export const AUTH_LOST_CODES: ReadonlySet<string> = new Set([
  'TOKEN_EXPIRED',
  'UNAUTHENTICATED',
  'AUTH_FAILED',
  'BAD_REQUEST',
  'FORBIDDEN',
  'SESSION_REVOKED',
  'ACCOUNT_DISABLED',
  'SERVER_BANNED',
]);
