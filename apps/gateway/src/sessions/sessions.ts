import { Inject, Injectable } from '@nestjs/common';
import { WsCloseCodes, type SettableStatus, type UserView } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { GatewayMetrics } from '../metrics';
import type { WireConnection } from '../wire/connection';
import { Session } from './session';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Told of session changes (presence signals, fan-out clean-up); called synchronously, in order. */
export interface SessionListener {
  authenticated?(session: Session): void;
  statusChanged?(session: Session, status: SettableStatus): void;
  closed?(session: Session, wasAuthenticated: boolean): void;
}

/**
 * Every session of this gateway, one per open connection, and its life: the authentication
 * timeout (4401), authenticating -> authenticated (or back to open when it fails), a fresh token
 * extending an authenticated session, and the close at token expiry (4403). The layers above
 * listen instead of being called, so this layer imports none of them.
 */
@Injectable()
export class Sessions {
  private readonly byConn = new Map<WireConnection, Session>();
  private readonly listeners: SessionListener[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {}

  listen(listener: SessionListener): void {
    this.listeners.push(listener);
  }

  /** A new connection: it must authenticate within WS_AUTH_TIMEOUT_MS. */
  open(conn: WireConnection): Session {
    const session = new Session(conn);
    this.byConn.set(conn, session);
    session.authTimer = setTimeout(() => {
      if (!session.authenticated) session.close(WsCloseCodes.authTimeout, 'authentication timeout');
    }, this.config.WS_AUTH_TIMEOUT_MS);
    return session;
  }

  get(conn: WireConnection): Session | undefined {
    return this.byConn.get(conn);
  }

  all(): IterableIterator<Session> {
    return this.byConn.values();
  }

  /** The connection closed: the session ends, and listeners forget it. */
  closed(conn: WireConnection): void {
    const session = this.byConn.get(conn);
    if (!session) return;
    const wasAuthenticated = session.authenticated;
    session.state = 'closed';
    session.clearTimers();
    this.byConn.delete(conn);
    if (wasAuthenticated) this.metrics.authenticated.dec();
    for (const l of this.listeners) l.closed?.(session, wasAuthenticated);
  }

  /** Authentication of `user` started (its token is valid); the session gets no events yet. */
  beginAuth(session: Session, user: UserView): void {
    session.state = 'authenticating';
    session.user = user;
  }

  /** Authentication failed part-way: the session is unauthenticated again (unless closed meanwhile). */
  abortAuth(session: Session): void {
    session.user = null;
    if (!session.closed) session.state = 'open';
  }

  completeAuth(session: Session, expiresAtMs: number): void {
    session.state = 'authenticated';
    clearTimeout(session.authTimer);
    this.extend(session, expiresAtMs);
    this.metrics.authenticated.inc();
    for (const l of this.listeners) l.authenticated?.(session);
  }

  /** Closes the session (4403) when its token expires; re-armed when a new token is presented. */
  extend(session: Session, expiresAtMs: number): void {
    clearTimeout(session.expiryTimer);
    session.expiresAtMs = expiresAtMs;
    const check = () => {
      const left = session.expiresAtMs - Date.now();
      if (left <= 0) session.close(WsCloseCodes.tokenExpired, 'access token expired');
      else session.expiryTimer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
    };
    check();
  }

  setStatus(session: Session, status: SettableStatus): void {
    session.status = status;
    for (const l of this.listeners) l.statusChanged?.(session, status);
  }
}
