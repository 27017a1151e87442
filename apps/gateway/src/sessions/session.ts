import type { UserView } from '@chat/contracts';
import type { WireConnection } from '../wire/connection';

export type SessionState = 'open' | 'authenticating' | 'authenticated' | 'closed';

/** Typing of this connection in one room: when `typing: true` was last sent on, and whether a stop is owed. */
export interface TypingState {
  sentAtMs: number;
  on: boolean;
}

/**
 * Who is on one connection: its authentication state, user, activity and token expiry. The
 * state changes only through `Sessions`, which also keeps its deadlines (no timer per session). Fan-out writes to a session
 * through `deliver` only, never to its socket.
 */
export class Session {
  state: SessionState = 'open';
  user: UserView | null = null;
  /** The login session (refresh-token family) of the token that authenticated it; a revocation of it closes the connection. */
  sessionId: string | null = null;
  expiresAtMs = 0;
  /** No activity (presence.active or a user action) for PRESENCE_IDLE_MS: automatic away. */
  idle = false;
  /** Time of the last activity; the idle timer compares against it. */
  lastActiveMs = 0;
  /** Request rate limit (token bucket): tokens left as of `rateAtMs`, and refusals in a row. */
  rateTokens = 0;
  rateAtMs = 0;
  rateRefusals = 0;
  /** Set when the reply of the request being answered is to be followed by a close (e.g. 4429). */
  closeAfterReply: { code: number; reason: string } | null = null;
  /** roomId -> typing sent on from this connection (created on first use). */
  typing?: Map<string, TypingState>;

  constructor(readonly conn: WireConnection) {}

  get connId(): string {
    return this.conn.connId;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get authenticated(): boolean {
    return this.state === 'authenticated';
  }

  /** Writes a serialised event frame; false when it was not written (closed or slow consumer). */
  deliver(frame: Buffer): boolean {
    return this.conn.send(frame);
  }

  /** Starts the close; the session ends (and its deadlines go) when the socket has closed (`Sessions.closed`). */
  close(code: number, reason: string): void {
    this.conn.close(code, reason);
  }
}
