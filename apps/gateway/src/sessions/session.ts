import type { SettableStatus, UserView } from '@chat/contracts';
import type { WireConnection } from '../wire/connection';

export type SessionState = 'open' | 'authenticating' | 'authenticated' | 'closed';

/**
 * Who is on one connection: its authentication state, user, status and token expiry. The state
 * changes only through `Sessions`, which also runs its timers. Fan-out writes to a session
 * through `deliver` only, never to its socket.
 */
export class Session {
  state: SessionState = 'open';
  user: UserView | null = null;
  /** The login session (refresh-token family) of the token that authenticated it; a revocation of it closes the connection. */
  sessionId: string | null = null;
  status: SettableStatus = 'online';
  expiresAtMs = 0;
  authTimer?: NodeJS.Timeout;
  expiryTimer?: NodeJS.Timeout;

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

  clearTimers(): void {
    clearTimeout(this.authTimer);
    clearTimeout(this.expiryTimer);
  }

  close(code: number, reason: string): void {
    this.clearTimers();
    this.conn.close(code, reason);
  }
}
