import { Inject, Injectable } from '@nestjs/common';
import { WsCloseCodes, type UserView } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { GatewayMetrics } from '../metrics';
import type { WireConnection } from '../wire/connection';
import { Deadlines } from './deadlines';
import { RecentRevocations } from './recent-revocations';
import { Session } from './session';

/**
 * Granularity of the sessions' deadlines (authentication timeout, token expiry, idle): each
 * fires at most this much after its time, never before.
 */
export const SESSION_TICK_MS = 100;
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
 *
 * Its three kinds of deadline are kept in timer wheels (`Deadlines`) driven by ONE interval of
 * SESSION_TICK_MS, running while any deadline is set, instead of a setTimeout per connection
 * (a Timeout object, closure and context each: memory per idle connection).
 */
@Injectable()
export class Sessions {
  private readonly byConn = new Map<WireConnection, Session>();
  private readonly listeners: SessionListener[] = [];
  /** userId -> its sessions authenticating or authenticated here (the per-user connection limit). */
  private readonly byUser = new Map<string, Set<Session>>();
  /** Revocations handled in the last minute, for the auths awaiting meanwhile (SessionRevocations notes them). */
  readonly recentRevocations = new RecentRevocations();
  /** Not authenticated by WS_AUTH_TIMEOUT_MS after opening: 4401. */
  private readonly authDeadlines: Deadlines<Session>;
  /** The token's expiry: 4403. */
  private readonly expiryDeadlines: Deadlines<Session>;
  /** PRESENCE_IDLE_MS after the last activity (looked at when due): idle. */
  private readonly idleDeadlines: Deadlines<Session>;
  private tick?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {
    const now = Date.now();
    this.authDeadlines = new Deadlines<Session>(SESSION_TICK_MS, (session) => this.authTimedOut(session), now);
    this.expiryDeadlines = new Deadlines<Session>(SESSION_TICK_MS, (session) => this.checkExpiry(session), now);
    this.idleDeadlines = new Deadlines<Session>(SESSION_TICK_MS, (session) => this.checkIdle(session), now);
  }

  listen(listener: SessionListener): void {
    this.listeners.push(listener);
  }

  /** A new connection: it must authenticate within WS_AUTH_TIMEOUT_MS. */
  open(conn: WireConnection): Session {
    const session = new Session(conn);
    this.byConn.set(conn, session);
    this.schedule(this.authDeadlines, session, Date.now() + this.config.WS_AUTH_TIMEOUT_MS);
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
    this.forgetDeadlines(session);
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
    this.authDeadlines.cancel(session);
    this.extend(session, expiresAtMs);
    session.lastActiveMs = Date.now();
    this.armIdle(session);
    this.metrics.authenticated.inc();
    for (const l of this.listeners) l.authenticated?.(session);
  }

  /** Closes the session (4403) when its token expires; re-armed when a new token is presented. */
  extend(session: Session, expiresAtMs: number): void {
    session.expiresAtMs = expiresAtMs;
    this.checkExpiry(session);
  }

  /** Every deadline is dropped and the tick stops (module shutdown; tests). */
  stop(): void {
    for (const session of this.byConn.values()) this.forgetDeadlines(session);
    clearInterval(this.tick);
    this.tick = undefined;
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
   * One idle deadline per session, set again at most once per PRESENCE_IDLE_MS: when it is due
   * it looks at the last activity, and either marks the session idle or waits for the rest of
   * the period.
   */
  private armIdle(session: Session): void {
    this.schedule(this.idleDeadlines, session, Date.now() + this.config.PRESENCE_IDLE_MS);
  }

  private checkIdle(session: Session): void {
    // Closed, or closing (the close handshake is under way: nothing more to tell).
    if (!session.authenticated || !session.conn.isOpen) return;
    const due = session.lastActiveMs + this.config.PRESENCE_IDLE_MS;
    if (due > Date.now()) return this.schedule(this.idleDeadlines, session, due);
    session.idle = true;
    for (const l of this.listeners) l.activity?.(session, true);
  }

  private authTimedOut(session: Session): void {
    if (!session.authenticated) session.close(WsCloseCodes.authTimeout, 'authentication timeout');
  }

  private checkExpiry(session: Session): void {
    if (session.closed) return;
    if (session.expiresAtMs <= Date.now()) {
      this.expiryDeadlines.cancel(session);
      session.close(WsCloseCodes.tokenExpired, 'access token expired');
    } else {
      this.schedule(this.expiryDeadlines, session, session.expiresAtMs);
    }
  }

  private schedule(deadlines: Deadlines<Session>, session: Session, atMs: number): void {
    deadlines.schedule(session, atMs);
    if (this.tick) return;
    this.tick = setInterval(() => this.advance(), SESSION_TICK_MS);
    this.tick.unref();
  }

  private advance(): void {
    const now = Date.now();
    this.authDeadlines.advance(now);
    this.expiryDeadlines.advance(now);
    this.idleDeadlines.advance(now);
    if (this.authDeadlines.size + this.expiryDeadlines.size + this.idleDeadlines.size === 0) {
      clearInterval(this.tick);
      this.tick = undefined;
    }
  }

  private forgetDeadlines(session: Session): void {
    this.authDeadlines.cancel(session);
    this.expiryDeadlines.cancel(session);
    this.idleDeadlines.cancel(session);
  }

  private forgetUser(session: Session): void {
    const userId = session.user?.userId;
    const mine = userId === undefined ? undefined : this.byUser.get(userId);
    if (!mine?.delete(session) || mine.size > 0) return;
    this.byUser.delete(userId!);
  }
}
