import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { WsLimits, fail, ok, type Result, type RoomTypingSignal, type Subjects } from '@chat/contracts';
import { encodeJson, type CoreNats } from '@chat/messaging';
import { NATS, PINO, SUBJECTS } from '@chat/platform';
import type { Session, TypingState } from '../sessions/session';
import { SESSION_ROOMS, type SessionRooms } from '../sessions/session-rooms';
import { Sessions } from '../sessions/sessions';

/**
 * The `typing` op: who types where, to the other gateways (core NATS on the room's typing
 * subject, never stored; each gateway delivers it to the room's connections there). Only in
 * rooms the connection's user follows here (NOT_MEMBER otherwise). `typing: true` goes out at
 * most once per WsLimits.typingMinIntervalMs per connection and room; a stop goes out when a
 * start did, also when the user sends a message there or the connection closes.
 */
@Injectable()
export class TypingSignals {
  constructor(
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
    @Inject(SESSION_ROOMS) private readonly rooms: SessionRooms,
    sessions: Sessions,
  ) {
    sessions.listen({ closed: (session, wasAuthenticated) => wasAuthenticated && this.stopAll(session) });
  }

  set(session: Session, roomId: string, typing: boolean, nowMs = Date.now()): Result<{ roomId: string; typing: boolean }> {
    if (!this.rooms.isFollowing(session, roomId)) return fail('NOT_MEMBER', 'you are not a member of this room or conversation');
    const states = (session.typing ??= new Map<string, TypingState>());
    const state = states.get(roomId);
    if (typing) {
      // Repeats within the interval are answered but not sent on: others' indicators last
      // typingExpiresMs, well beyond it.
      if (state && nowMs - state.sentAtMs < WsLimits.typingMinIntervalMs) return ok({ roomId, typing });
      states.set(roomId, { sentAtMs: nowMs, on: true });
      this.publish(session, roomId, true);
    } else if (state?.on) {
      state.on = false;
      this.publish(session, roomId, false);
    }
    return ok({ roomId, typing });
  }

  /** A message was sent in the room: whoever sent it stopped typing there. */
  sent(session: Session, roomId: string): void {
    const state = session.typing?.get(roomId);
    if (!state?.on) return;
    state.on = false;
    this.publish(session, roomId, false);
  }

  private stopAll(session: Session): void {
    for (const [roomId, state] of session.typing ?? []) if (state.on) this.publish(session, roomId, false);
    session.typing?.clear();
  }

  private publish(session: Session, roomId: string, typing: boolean): void {
    const user = session.user;
    if (!user) return;
    const signal: RoomTypingSignal = { roomId, userId: user.userId, username: user.username, typing, connId: session.connId };
    try {
      this.nc.publish(this.s.live.roomTyping(roomId), encodeJson(signal));
    } catch (err) {
      // Only a closed connection throws here (shutdown); typing is best effort and expires on its own.
      this.logger.warn({ err: String(err), roomId }, 'typing publish failed');
    }
  }
}
