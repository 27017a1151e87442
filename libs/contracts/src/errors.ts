/**
 * Every error a client or another service can see has one of these codes. The set is closed:
 * adding a code is a contract change (document it in docs/protocol.md).
 */
export const ErrorCodes = [
  'BAD_REQUEST', // malformed frame/body or a field failed validation
  'FRAME_TOO_LARGE', // WebSocket frame or HTTP body above the size limit
  'UNKNOWN_OP', // the op is not one the gateway knows
  'UNAUTHENTICATED', // no valid access token on this connection/request
  'AUTH_FAILED', // wrong username or password
  'TOKEN_EXPIRED', // the access token has expired
  'SESSION_REVOKED', // the session ended (logout, logout everywhere, password changed, reused refresh token, expired): log in again
  'ACCOUNT_DISABLED', // a server administrator disabled the account
  'USERNAME_TAKEN', // registration with a name already in use (after NFKC + case folding)
  'FORBIDDEN', // authenticated but not allowed (role too low, post policy, default room)
  'NOT_FOUND', // room (or user, invitation) does not exist, or is a private room the caller is not in
  'CONFLICT', // state changed concurrently; safe to retry
  'ALREADY_MEMBER',
  'NOT_MEMBER',
  'ROOM_FULL',
  'BANNED', // banned from the room (join, invitation); or inviting a banned user
  'BLOCKED', // a block between the two users refuses the private message or invitation
  'CONTENT_BLOCKED', // moderation rejected the message
  'HELD_FOR_REVIEW', // the message was not posted: it waits for a moderator (posted if approved)
  'MUTED', // muted in this room or server-wide; retryAfterMs says when the mute ends
  'SERVER_BANNED', // banned from the server: login, refresh and every command refused
  'RATE_LIMITED',
  'UNAVAILABLE', // a backing service did not answer in time; safe to retry
  'INTERNAL', // unexpected failure; nothing was changed
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** Field-level details for BAD_REQUEST. */
  details?: Array<{ field: string; problems: string[] }>;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export const ok = <T>(data: T): Result<T> => ({ ok: true, data });
export const fail = (code: ErrorCode, message: string, details?: ErrorBody['details']): { ok: false; error: ErrorBody } =>
  details ? { ok: false, error: { code, message, details } } : { ok: false, error: { code, message } };

/** Thrown inside services where unwinding is simpler than returning; adapters turn it into a reply. */
export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorBody['details'],
  ) {
    super(message);
    this.name = 'ChatError';
  }
  toBody(): ErrorBody {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ErrorCodes as readonly string[]).includes(value);
}
