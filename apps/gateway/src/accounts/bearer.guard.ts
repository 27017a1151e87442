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
 * Bearer authentication of HTTP routes: `Authorization: Bearer <access token>`, checked like a
 * WebSocket `auth` (signature, expiry, the session still exists). Failures leave as typed errors:
 * 401 UNAUTHENTICATED / TOKEN_EXPIRED / SESSION_REVOKED, 403 ACCOUNT_DISABLED.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(private readonly check: SessionCheck) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const match = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new ChatError('UNAUTHENTICATED', 'send the access token as "Authorization: Bearer <token>"');
    const verified = await this.check.verifyAccess(match[1]);
    if (!verified.ok) throw new ChatError(verified.error.code, verified.error.message);
    req.caller = { user: verified.data.user, sessionId: verified.data.sessionId };
    return true;
  }
}

/** The Caller a BearerGuard put on the request. */
export const CallerOf = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthedRequest>().caller;
  if (!caller) throw new ChatError('UNAUTHENTICATED', 'authentication required');
  return caller;
});
