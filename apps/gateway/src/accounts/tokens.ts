import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { length } from 'class-validator';
import { Limits, fail, isUserId, ok, type AccessTokenClaims, type Result, type UserView } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { isSessionId, userIdOfSession } from './session-records';

export interface IssuedToken {
  accessToken: string;
  /** ISO-8601 expiry. */
  expiresAt: string;
}

export interface VerifiedToken {
  user: UserView;
  /** Expiry in epoch milliseconds. */
  expiresAtMs: number;
  /** The session (refresh-token family) the token belongs to: claim `sid`. */
  sessionId: string;
}

/**
 * Access tokens: HS256 JWTs with claims {sub: userId, name: username, sid: sessionId, iat, exp}.
 * The signature check is stateless (any gateway replica sharing JWT_SECRET accepts any other's
 * tokens); whether the session still exists is SessionCheck's question.
 */
@Injectable()
export class TokenService {
  private readonly ttlS: number;

  constructor(
    private readonly jwt: JwtService,
    @Inject(CONFIG) config: GatewayConfig,
  ) {
    this.ttlS = config.ACCESS_TOKEN_TTL_S;
  }

  issue(user: UserView, sessionId: string, now = Date.now()): IssuedToken {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.ttlS;
    const claims: AccessTokenClaims & { iat: number; exp: number } = { sub: user.userId, name: user.username, sid: sessionId, iat, exp };
    return { accessToken: this.jwt.sign(claims), expiresAt: new Date(exp * 1000).toISOString() };
  }

  verify(token: string): Result<VerifiedToken> {
    let claims: Record<string, unknown>;
    try {
      claims = this.jwt.verify<Record<string, unknown>>(token);
    } catch (err) {
      if ((err as Error)?.name === 'TokenExpiredError') return fail('TOKEN_EXPIRED', 'the access token has expired; log in again');
      return fail('UNAUTHENTICATED', 'invalid access token');
    }
    const { sub, name, sid, exp } = claims;
    if (
      !isUserId(sub) ||
      typeof name !== 'string' ||
      !length(name, 1, Limits.usernameMaxChars) ||
      typeof exp !== 'number' ||
      !isSessionId(sid) ||
      userIdOfSession(sid) !== sub
    ) {
      return fail('UNAUTHENTICATED', 'invalid access token');
    }
    return ok({ user: { userId: sub, username: name }, expiresAtMs: exp * 1000, sessionId: sid });
  }
}
