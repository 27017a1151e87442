import { Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ChatError, type UserView } from '@chat/contracts';
import { SessionCheck } from './session-check';

/** Who is calling a Bearer route: the token's user and session. */
export interface Caller {
  user: UserView;
  sessionId: string;
}

type AuthedRequest = Request & { caller?: Caller };

/**
 * Checks the request's `Authorization: Bearer <access token>` like a WebSocket `auth`
 * (signature, expiry, the session still exists) and puts the Caller on the request. Failures
 * are typed errors: 401 UNAUTHENTICATED / TOKEN_EXPIRED / SESSION_REVOKED, 403
 * ACCOUNT_DISABLED. A request already authenticated (by a middleware that had to know the
 * caller before reading the body, see service.ts) is not checked twice: only this code sets
 * `caller` on a request.
 */
export async function authenticate(req: Request, check: SessionCheck): Promise<Caller> {
  const authed = req as AuthedRequest;
  if (authed.caller) return authed.caller;
  const match = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '');
  if (!match) throw new ChatError('UNAUTHENTICATED', 'send the access token as "Authorization: Bearer <token>"');
  const verified = await check.verifyAccess(match[1]);
  if (!verified.ok) throw new ChatError(verified.error.code, verified.error.message);
  authed.caller = { user: verified.data.user, sessionId: verified.data.sessionId };
  return authed.caller;
}

/** Bearer authentication of HTTP routes (see authenticate). */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(private readonly check: SessionCheck) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await authenticate(context.switchToHttp().getRequest<Request>(), this.check);
    return true;
  }
}

/** The Caller a BearerGuard put on the request. */
export const CallerOf = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthedRequest>().caller;
  if (!caller) throw new ChatError('UNAUTHENTICATED', 'authentication required');
  return caller;
});
