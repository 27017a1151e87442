import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ChatError, type ErrorCode } from '@chat/contracts';
import { throwError } from 'rxjs';
import type { Response } from 'express';

/** HTTP status for each error code, for services that answer over HTTP. */
export const httpStatusOf: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  FRAME_TOO_LARGE: 413,
  UNKNOWN_OP: 404,
  UNAUTHENTICATED: 401,
  AUTH_FAILED: 401,
  TOKEN_EXPIRED: 401,
  SESSION_REVOKED: 401,
  ACCOUNT_DISABLED: 403,
  USERNAME_TAKEN: 409,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_MEMBER: 409,
  NOT_MEMBER: 403,
  ROOM_FULL: 409,
  BANNED: 403,
  BLOCKED: 403,
  CONTENT_BLOCKED: 422,
  HELD_FOR_REVIEW: 202,
  MUTED: 403,
  SERVER_BANNED: 403,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * Lets domain code throw ChatError anywhere. Over RPC the original error is handed back to
 * NatsRpcServer (Nest's default filter would flatten it to "Internal server error"), which
 * turns it into a typed reply; over HTTP it becomes `{ error: { code, message, details? } }`.
 */
@Catch(ChatError)
export class ChatErrorFilter implements ExceptionFilter<ChatError> {
  catch(exception: ChatError, host: ArgumentsHost) {
    if (host.getType() === 'rpc') return throwError(() => exception);
    const res = host.switchToHttp().getResponse<Response>();
    res.status(httpStatusOf[exception.code] ?? 500).json({ error: exception.toBody() });
  }
}
