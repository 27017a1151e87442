import { Inject, Injectable } from '@nestjs/common';
import { WsCloseCodes, type UserView } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { GatewayMetrics } from '../metrics';
import type { WireConnection } from '../wire/connection';
import { RecentRevocations } from './recent-revocations';
import { Session } from './session';

const MAX_TIMER_MS = 2 ** 31 - 1;
const NO_SESSIONS: ReadonlySet<Session> = new Set();

/** Told of session changes (presence signals, fan-out clean-up); called synchronously, in order. */
export interface SessionListener {
  authenticated?(session: Session): void;
  /** The connection became idle (no activity for PRESENCE_IDLE_MS) or active again. */
  activity?(session: Session, idle: boolean): void;
  closed?(session: Session, wasAuthenticated: boolean): void;
}

/**
 * Every session of this gateway, one per open connection, and its life: the authentication
 * timeout (4401), authenticating -> authenticated (or back to open when it fails) within the
 * per-user connection limit (4429), a fresh token extending an authenticated session, the close
 * at token expiry (4403), and activity (idle after PRESENCE_IDLE_MS without any). The layers
 * above listen instead of being called, so this layer imports none of them.
 */
@Injectable()
export class Sessions {
  private readonly byConn = new Map<WireConnection, Session>();
  private readonly listeners: SessionListener[] = [];
  /** userId -> its sessions authenticating or authenticated here (the per-user connection limit). */
  private readonly byUser = new Map<string, Set<Session>>();
  /** Revocations handled in the last minute, for the auths awaiting meanwhile (SessionRevocations notes them). */
  readonly recentRevocations = new RecentRevocations();

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

  /** The sessions of `userId` authenticating or authenticated here (none: empty). */
  ofUser(userId: string): ReadonlySet<Session> {
    return this.byUser.get(userId) ?? NO_SESSIONS;
  }

  /** The connection closed: the session ends, and listeners forget it. */
  closed(conn: WireConnection): void {
    const session = this.byConn.get(conn);
    if (!session) return;
    const wasAuthenticated = session.authenticated;
    session.state = 'closed';
    session.clearTimers();
    this.byConn.delete(conn);
    this.forgetUser(session);
    if (wasAuthenticated) this.metrics.authenticated.dec();
    for (const l of this.listeners) l.closed?.(session, wasAuthenticated);
  }

  /**
   * Authentication of `user` started (its token is valid); the session gets no events yet.
   * false when the user already has WS_MAX_CONNECTIONS_PER_USER sessions here: the session
   * stays unauthenticated and is closed (4429) right after the reply.
   */
  beginAuth(session: Session, user: UserView): boolean {
    let mine = this.byUser.get(user.userId);
    if ((mine?.size ?? 0) >= this.config.WS_MAX_CONNECTIONS_PER_USER) {
      session.closeAfterReply = { code: WsCloseCodes.tooManyConnections, reason: 'too many connections for this user' };
      return false;
    }
    if (!mine) this.byUser.set(user.userId, (mine = new Set()));
    mine.add(session);
    session.state = 'authenticating';
    session.user = user;
    return true;
  }

  /** Authentication failed part-way: the session is unauthenticated again (unless closed meanwhile). */
  abortAuth(session: Session): void {
    this.forgetUser(session);
    session.user = null;
    if (!session.closed) session.state = 'open';
  }

  completeAuth(session: Session, expiresAtMs: number): void {
    session.state = 'authenticated';
    clearTimeout(session.authTimer);
    this.extend(session, expiresAtMs);
    session.lastActiveMs = Date.now();
    this.armIdle(session);
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

  /**
   * The user did something on this connection (presence.active or a user action): it is not
   * idle. Cheap on the hot path: a time stamp, and a listener call only when it was idle.
   */
  active(session: Session): void {
    if (!session.authenticated) return;
    session.lastActiveMs = Date.now();
    if (!session.idle) return;
    session.idle = false;
    this.armIdle(session);
    for (const l of this.listeners) l.activity?.(session, false);
  }

  /**
   * One timer per session, re-armed at most once per PRESENCE_IDLE_MS: when it fires it looks
   * at the last activity, and either marks the session idle or waits for the rest of the period.
   */
  private armIdle(session: Session): void {
    clearTimeout(session.idleTimer);
    const check = () => {
      if (!session.authenticated) return;
      const left = session.lastActiveMs + this.config.PRESENCE_IDLE_MS - Date.now();
      if (left > 0) {
        session.idleTimer = setTimeout(check, left);
        return;
      }
      session.idle = true;
      for (const l of this.listeners) l.activity?.(session, true);
    };
    session.idleTimer = setTimeout(check, this.config.PRESENCE_IDLE_MS);
  }

  private forgetUser(session: Session): void {
    const userId = session.user?.userId;
    const mine = userId === undefined ? undefined : this.byUser.get(userId);
    if (!mine?.delete(session) || mine.size > 0) return;
    this.byUser.delete(userId!);
  }
}
