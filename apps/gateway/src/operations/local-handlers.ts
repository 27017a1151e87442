import { Inject, Injectable } from '@nestjs/common';
import { PROTOCOL_VERSION, WsCloseCodes, fail, ok, type LocalWsOp, type Result, type WsOps } from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { SessionCheck } from '../accounts/session-check';
import type { Session } from '../sessions/session';
import { SESSION_RESUME, type PreparedResume, type SessionResume } from '../sessions/session-resume';
import { SESSION_ROOMS, type SessionRooms } from '../sessions/session-rooms';
import { Sessions } from '../sessions/sessions';
import { TypingSignals } from './typing';

export interface LocalContext {
  session: Session;
  correlationId: string;
}

type LocalHandler<O extends LocalWsOp> = (
  ctx: LocalContext,
  data: WsOps[O]['req'],
) => Promise<Result<WsOps[O]['res']>> | Result<WsOps[O]['res']>;
/** One handler per op the table says the gateway answers: a missing one does not compile. */
export type LocalHandlers = { [O in LocalWsOp]: LocalHandler<O> };

/**
 * The ops the gateway answers itself: the connection's authentication, ping, activity
 * (`presence.active`: the dispatcher notes it for every user action) and typing.
 */
@Injectable()
export class LocalOps {
  readonly handlers: LocalHandlers = {
    auth: (ctx, req) => this.authenticate(ctx, req),
    ping: () => ok({ time: new Date().toISOString() }),
    'presence.active': () => ok({ idle: false as const }),
    typing: ({ session }, { roomId, typing }) => this.typing.set(session, roomId, typing),
  };

  constructor(
    private readonly sessionCheck: SessionCheck,
    private readonly rpc: RpcClient,
    private readonly sessions: Sessions,
    @Inject(SESSION_ROOMS) private readonly rooms: SessionRooms,
    private readonly typing: TypingSignals,
    @Inject(SESSION_RESUME) private readonly resume: SessionResume,
  ) {}

  private async authenticate({ session, correlationId }: LocalContext, req: WsOps['auth']['req']): Promise<Result<WsOps['auth']['res']>> {
    // Revocations handled from here on are checked before the auth completes: the KV get below
    // may answer "exists" just before the session is deleted and its revocation handled.
    const since = this.sessions.recentRevocations.mark();
    // Signature, expiry, and that the login session still exists (one KV get).
    const token = await this.sessionCheck.verifyAccess(req.token);
    if (!token.ok) {
      // Banned from the server: the connection ends after the reply, with the close code that says "do not reconnect".
      if (token.error.code === 'SERVER_BANNED')
        session.closeAfterReply = { code: WsCloseCodes.serverBanned, reason: 'banned from this server' };
      return token;
    }
    if (session.closed) return fail('UNAVAILABLE', 'connection closed');
    // Checked after the await: of two auths sent at once, the first to get here begins.
    if (session.state === 'authenticating') return fail('CONFLICT', 'authentication is already in progress on this connection');
    const { user, expiresAtMs, sessionId } = token.data;
    const revokedMeanwhile = () => {
      const r = this.sessions.recentRevocations.revoked(user.userId, sessionId, since);
      if (!r) return null;
      return r.reason === 'disabled'
        ? {
            code: 'ACCOUNT_DISABLED' as const,
            message: 'this account has been disabled by an administrator',
            close: WsCloseCodes.accountDisabled,
          }
        : { code: 'SESSION_REVOKED' as const, message: 'this session has ended; log in again', close: WsCloseCodes.sessionRevoked };
    };
    let resumed: PreparedResume | undefined;
    const answer = () =>
      ok({
        user: session.user!,
        protocol: PROTOCOL_VERSION,
        expiresAt: new Date(session.expiresAtMs).toISOString(),
        sessionId: session.sessionId!,
        ...(resumed ? { resume: resumed.result } : {}),
      });

    if (session.authenticated) {
      if (typeof req.resumeFrom === 'number') return fail('BAD_REQUEST', 'resumeFrom is only accepted on the first auth of a connection');
      // A fresh token for the same user extends the connection's life (no reconnect needed).
      if (session.user?.userId !== user.userId)
        return fail('FORBIDDEN', 'this connection is authenticated as another user; open a new connection');
      // The new token's session was revoked while it was checked: the connection ends with it.
      const revoked = revokedMeanwhile();
      if (revoked) {
        session.closeAfterReply = { code: revoked.close, reason: revoked.message };
        return fail(revoked.code, revoked.message);
      }
      session.sessionId = sessionId;
      this.sessions.extend(session, expiresAtMs);
      return answer();
    }

    // Registered before the room list is fetched, so that joins and leaves of this user that
    // arrive meanwhile are applied and not undone by an older list (RoomIndex.applyRoomList).
    if (!this.sessions.beginAuth(session, user))
      return fail('RATE_LIMITED', 'too many connections of this user on this gateway; close another one first');
    session.sessionId = sessionId;
    if (typeof req.resumeFrom === 'number') this.resume.hold(session);
    const undo = () => {
      this.resume.abandon(session);
      this.rooms.unregister(session);
      this.sessions.abortAuth(session);
    };
    try {
      await this.rooms.register(session, user.userId);
      const rooms = await this.rpc.call('rooms.userRooms', { userId: user.userId }, { correlationId });
      if (session.closed) return fail('UNAVAILABLE', 'connection closed'); // its close has unregistered it
      if (!rooms.ok) {
        undo();
        return rooms;
      }
      await this.rooms.applyRoomList(session, rooms.data.roomIds);
      // Resume: read once the room subscriptions are live (docs/protocol.md "Resuming").
      if (typeof req.resumeFrom === 'number' && !session.closed)
        resumed = await this.resume.prepare(session, user.userId, req.resumeFrom, rooms.data.roomIds);
    } catch (err) {
      // E.g. the NATS connection closed during a flush: the session must not stay
      // half-registered and 'authenticating' (every later auth would get CONFLICT).
      undo();
      throw err;
    }
    // A revocation of this session handled while the auth awaited (before the session was known
    // as it): refused like a session found missing in KV. Asked before the replay (nothing is
    // sent to a revoked session) and again after it (the last await).
    const refuseIfRevoked = () => {
      const revoked = revokedMeanwhile();
      if (!revoked) return null;
      if (!session.closed) undo();
      return fail(revoked.code, revoked.message);
    };
    const before = refuseIfRevoked();
    if (before) return before;
    // Before the reply: the missed events (paced to the client), then the live ones held meanwhile.
    if (resumed && !session.closed) await resumed.replay();
    if (session.closed) return fail('UNAVAILABLE', 'connection closed');
    const after = refuseIfRevoked();
    if (after) return after;
    this.sessions.completeAuth(session, expiresAtMs);
    resumed?.finish();
    return answer();
  }
}
