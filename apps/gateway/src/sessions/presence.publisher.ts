import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { GatewayHeartbeat, GatewaySignal, Subjects } from '@chat/contracts';
import { encodeJson, type CoreNats } from '@chat/messaging';
import { CONFIG, NATS, PINO, SUBJECTS } from '@chat/platform';
import type { GatewayConfig } from '../config';
import type { Session } from './session';
import { Sessions } from './sessions';

/**
 * Tells the presence service who is connected here: a signal per connection change (opened,
 * closed, idle or active again: fast updates) and a heartbeat with the full list and each
 * connection's idleness (lets presence rebuild after a restart, repair a lost signal and notice
 * a dead gateway). Core NATS, fire-and-forget: the next heartbeat repairs a lost signal.
 */
@Injectable()
export class PresencePublisher implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  readonly gatewayId: string;

  constructor(
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
    private readonly sessions: Sessions,
  ) {
    this.gatewayId = config.GATEWAY_ID;
    sessions.listen({
      authenticated: (session) => this.opened(session),
      activity: (session, idle) => this.activity(session, idle),
      closed: (session, wasAuthenticated) => {
        if (wasAuthenticated) this.closed(session);
      },
    });
  }

  onModuleInit() {
    this.heartbeat();
    this.timer = setInterval(() => this.heartbeat(), this.config.PRESENCE_HEARTBEAT_MS);
    this.timer.unref();
  }

  onModuleDestroy() {
    clearInterval(this.timer);
  }

  opened(conn: Session) {
    if (!conn.user) return;
    this.signal({
      kind: 'opened',
      gatewayId: this.gatewayId,
      connId: conn.connId,
      userId: conn.user.userId,
      username: conn.user.username,
      at: new Date().toISOString(),
    });
  }

  closed(conn: Session) {
    if (!conn.user) return;
    this.signal({ kind: 'closed', gatewayId: this.gatewayId, connId: conn.connId, userId: conn.user.userId, at: new Date().toISOString() });
  }

  activity(conn: Session, idle: boolean) {
    if (!conn.user) return;
    this.signal({
      kind: 'activity',
      gatewayId: this.gatewayId,
      connId: conn.connId,
      userId: conn.user.userId,
      idle,
      at: new Date().toISOString(),
    });
  }

  heartbeat() {
    const connections: GatewayHeartbeat['connections'] = [];
    for (const c of this.sessions.all()) {
      // A user is online only once a connection is authenticated.
      if (c.user && c.authenticated) connections.push({ connId: c.connId, userId: c.user.userId, username: c.user.username, idle: c.idle });
    }
    const hb: GatewayHeartbeat = {
      gatewayId: this.gatewayId,
      at: new Date().toISOString(),
      intervalMs: this.config.PRESENCE_HEARTBEAT_MS,
      connections,
    };
    this.publish(this.s.presence.gatewayHeartbeat(this.gatewayId), hb);
  }

  private signal(sig: GatewaySignal) {
    this.publish(this.s.presence.gatewayConnections(this.gatewayId), sig);
  }

  private publish(subject: string, data: unknown) {
    try {
      this.nc.publish(subject, encodeJson(data));
    } catch (err) {
      // Only a closed connection throws here (e.g. during shutdown); presence heals by heartbeat.
      this.logger.warn({ err: String(err), subject }, 'presence publish failed');
    }
  }
}
