import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { GatewayHeartbeat, GatewaySignal, Subjects } from '@chat/contracts';
import type { CoreNats } from '@chat/messaging';
import { CONFIG, NATS, PINO, SUBJECTS } from '@chat/platform';
import type { GatewayConfig } from '../config';
import type { Session } from './session';
import { Sessions } from './sessions';

/** At most this many connections per heartbeat part (about 230 KB of JSON with typical names). */
export const HEARTBEAT_PART_MAX_ENTRIES = 2000;
/** At most this many bytes of connection list per heartbeat part, and at most half the server's max_payload. */
export const HEARTBEAT_PART_MAX_BYTES = 256 * 1024;

export interface HeartbeatPartLimits {
  maxEntries: number;
  maxBytes: number;
}

/** Optional provider of smaller part limits (tests: several parts without thousands of sockets). */
export const HEARTBEAT_PART_LIMITS = Symbol('HEARTBEAT_PART_LIMITS');

const encoder = new TextEncoder();

/**
 * A beat's connection list cut into parts, each as its JSON text: at most `maxEntries` entries
 * and `maxBytes` bytes of UTF-8 (a chunk over the byte budget is halved until it fits; one
 * entry alone always makes a part). Always at least one part, so an empty gateway still beats.
 * Cost: one JSON.stringify per part (plus one per halving, which real names never need).
 */
export function heartbeatParts(connections: GatewayHeartbeat['connections'], maxEntries: number, maxBytes: number): string[] {
  const out: string[] = [];
  const add = (chunk: GatewayHeartbeat['connections']) => {
    const json = JSON.stringify(chunk);
    if (chunk.length > 1 && Buffer.byteLength(json) > maxBytes) {
      const half = Math.ceil(chunk.length / 2);
      add(chunk.slice(0, half));
      add(chunk.slice(half));
    } else {
      out.push(json);
    }
  };
  const step = Math.max(1, Math.floor(maxEntries));
  for (let i = 0; i < connections.length; i += step) add(connections.slice(i, i + step));
  if (out.length === 0) out.push('[]');
  return out;
}

/**
 * Tells the presence service who is connected here: a signal per connection change (opened,
 * closed, idle or active again: fast updates) and a heartbeat with the full list and each
 * connection's idleness (lets presence rebuild after a restart, repair a lost signal and notice
 * a dead gateway). Core NATS, fire-and-forget: the next heartbeat repairs a lost signal.
 *
 * A beat's list is sent in parts (`beat`, `part`, `parts`) of at most HEARTBEAT_PART_MAX_ENTRIES
 * entries and HEARTBEAT_PART_MAX_BYTES bytes (and half the server's max_payload), published
 * one after the other, so 10,000+ connections never exceed NATS's message size limit.
 */
@Injectable()
export class PresencePublisher implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  readonly gatewayId: string;
  /** Number of the last beat sent (counts up per process; presence assembles parts by it). */
  private beat = 0;
  private readonly limits: HeartbeatPartLimits;

  constructor(
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
    private readonly sessions: Sessions,
    @Optional() @Inject(HEARTBEAT_PART_LIMITS) limits?: Partial<HeartbeatPartLimits>,
  ) {
    this.gatewayId = config.GATEWAY_ID;
    this.limits = { maxEntries: HEARTBEAT_PART_MAX_ENTRIES, maxBytes: HEARTBEAT_PART_MAX_BYTES, ...limits };
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
    const beat = ++this.beat;
    const parts = heartbeatParts(connections, this.limits.maxEntries, this.partMaxBytes());
    const at = new Date().toISOString();
    const subject = this.s.presence.gatewayHeartbeat(this.gatewayId);
    for (let part = 0; part < parts.length; part++) {
      // The envelope without `connections` (every field but the list), then the part's list as
      // encoded already: the message is the JSON of a GatewayHeartbeat, the list encoded once.
      const head: Omit<GatewayHeartbeat, 'connections'> = {
        gatewayId: this.gatewayId,
        at,
        intervalMs: this.config.PRESENCE_HEARTBEAT_MS,
        beat,
        part,
        parts: parts.length,
      };
      this.publishRaw(subject, `${JSON.stringify(head).slice(0, -1)},"connections":${parts[part]}}`);
    }
  }

  /** The byte budget of one part's list: the limit, and at most half the server's max_payload (room for the envelope). */
  private partMaxBytes(): number {
    const maxPayload = (this.nc as { info?: { max_payload?: number } }).info?.max_payload;
    return typeof maxPayload === 'number' && maxPayload > 0
      ? Math.min(this.limits.maxBytes, Math.floor(maxPayload / 2))
      : this.limits.maxBytes;
  }

  private signal(sig: GatewaySignal) {
    this.publish(this.s.presence.gatewayConnections(this.gatewayId), sig);
  }

  private publish(subject: string, data: unknown) {
    this.publishRaw(subject, JSON.stringify(data));
  }

  private publishRaw(subject: string, json: string) {
    try {
      this.nc.publish(subject, encoder.encode(json));
    } catch (err) {
      // A closed connection throws here (e.g. during shutdown), or a message over max_payload
      // (heartbeat parts are kept well under it); presence heals by the next heartbeat.
      this.logger.warn({ err: String(err), subject }, 'presence publish failed');
    }
  }
}
