import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { WsCloseCodes, type SessionRevocation, type Subjects } from '@chat/contracts';
import { decodeJson, type CoreNats } from '@chat/messaging';
import { NATS, PINO, SUBJECTS } from '@chat/platform';
import type { Session } from './session';
import { Sessions } from './sessions';

type Subscription = ReturnType<CoreNats['subscribe']>;

/** Whether a revocation ends this connection's session (pure). */
export function isRevoked(session: Pick<Session, 'user' | 'sessionId' | 'closed'>, r: SessionRevocation): boolean {
  if (session.closed || !session.user || session.user.userId !== r.userId || !session.sessionId) return false;
  if (r.sessionIds === 'all') return session.sessionId !== r.exceptSessionId;
  return r.sessionIds.includes(session.sessionId);
}

function parseRevocation(data: unknown): SessionRevocation | null {
  if (typeof data !== 'object' || data === null) return null;
  const r = data as Record<string, unknown>;
  const ids = r.sessionIds;
  if (typeof r.userId !== 'string' || typeof r.reason !== 'string') return null;
  if (ids !== 'all' && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string'))) return null;
  if (r.exceptSessionId !== null && typeof r.exceptSessionId !== 'string') return null;
  return data as SessionRevocation;
}

/**
 * Ends connections of revoked sessions at once: one wildcard subscription (`live.allSessions`)
 * per gateway; each SessionRevocation closes the matching connections of that user (authenticated,
 * or still authenticating; looked up in the per-user index, not by scanning every connection)
 * with 4410, or 4411 when the account was disabled, and is remembered for a minute
 * (`Sessions.recentRevocations`) so that an `auth` still awaiting its session check when it came
 * is refused too.
 */
@Injectable()
export class SessionRevocations implements OnModuleInit, OnModuleDestroy {
  private sub: Subscription | null = null;

  constructor(
    private readonly sessions: Sessions,
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.sub = this.nc.subscribe(this.s.live.allSessions, {
      callback: (err, msg) => {
        if (err) return;
        const revocation = parseRevocation(decodeJson(msg.data));
        if (!revocation) {
          this.logger.warn({ subject: msg.subject }, 'unreadable session revocation');
          return;
        }
        this.apply(revocation);
      },
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }

  apply(revocation: SessionRevocation): void {
    const disabled = revocation.reason === 'disabled';
    const code = disabled ? WsCloseCodes.accountDisabled : WsCloseCodes.sessionRevoked;
    const reason = disabled ? 'account disabled' : `session revoked (${revocation.reason})`;
    // Remembered for the auths awaiting their session check meanwhile (they check it before completing).
    this.sessions.recentRevocations.note(revocation);
    const doomed: Session[] = [];
    for (const session of this.sessions.ofUser(revocation.userId)) if (isRevoked(session, revocation)) doomed.push(session);
    for (const session of doomed) session.close(code, reason);
  }
}
