import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from '@chat/platform';

/** Gateway metrics on the service's /metrics. Hot paths increment once per batch, not per socket. */
@Injectable()
export class GatewayMetrics {
  readonly connections: Gauge;
  readonly authenticated: Gauge;
  readonly framesIn: Counter;
  readonly framesOut: Counter;
  readonly badFrames: Counter;
  readonly delivered: Counter<'event'>;
  readonly slowConsumers: Counter;
  readonly droppedLive: Counter<'subject'>;
  readonly liveReceived: Counter<'source'>;
  readonly postsNotDelivered: Counter;
  readonly resumes: Counter<'result'>;
  readonly resumedEvents: Counter;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.connections = new Gauge({ name: 'gateway_ws_connections', help: 'Open WebSocket connections', registers });
    this.authenticated = new Gauge({
      name: 'gateway_ws_authenticated_connections',
      help: 'Authenticated WebSocket connections',
      registers,
    });
    this.framesIn = new Counter({ name: 'gateway_ws_frames_in_total', help: 'WebSocket frames received', registers });
    this.framesOut = new Counter({ name: 'gateway_ws_frames_out_total', help: 'WebSocket frames sent (replies and events)', registers });
    this.badFrames = new Counter({
      name: 'gateway_ws_bad_frames_total',
      help: 'Frames rejected before processing (malformed, too large, unknown op, invalid data, unauthenticated)',
      registers,
    });
    this.delivered = new Counter({
      name: 'gateway_events_delivered_total',
      help: 'Events written to client sockets',
      labelNames: ['event'],
      registers,
    });
    this.slowConsumers = new Counter({
      name: 'gateway_ws_slow_consumer_closes_total',
      help: 'Connections closed because their send buffer overflowed',
      registers,
    });
    this.droppedLive = new Counter({
      name: 'gateway_live_dropped_total',
      help: 'Malformed live messages dropped',
      labelNames: ['subject'],
      registers,
    });
    this.liveReceived = new Counter({
      name: 'gateway_live_received_total',
      help: "Live NATS messages received, by source (room: stored events of the rooms followed here; presence: their members' status changes and the own presence of the users connected here; typing; user: the users connected here; reads: their read markers; moderation: moderation news for them)",
      labelNames: ['source'],
      registers,
    });
    for (const source of ['room', 'user', 'presence', 'typing', 'reads', 'moderation']) this.liveReceived.inc({ source }, 0);
    this.postsNotDelivered = new Counter({
      name: 'gateway_posts_not_delivered_total',
      help: 'MessagePosted events not delivered: their sender was no longer a member at their stream position, or the room was deleted',
      registers,
    });
    this.resumes = new Counter({
      name: 'gateway_resumes_total',
      help: 'auth with resumeFrom, by outcome: resumed, or the reload reason (too_far_behind, purged, unknown_position)',
      labelNames: ['result'],
      registers,
    });
    this.resumedEvents = new Counter({
      name: 'gateway_resumed_events_total',
      help: 'Events sent by resumes (before their auth reply)',
      registers,
    });
  }
}
