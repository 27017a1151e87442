import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { headers } from '@nats-io/transport-node';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { decodeChatEvent, isRoomEvent, usersToNotify, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Consumption, type CoreNats, type Delivered } from '@chat/messaging';
import { HealthRegistry, MetricsRegistry, NATS, PINO, SUBJECTS } from '@chat/platform';

/** One core-NATS publish: the user's subject, the stored bytes, and the headers a republish carries. */
export interface Notification {
  subject: string;
  data: Uint8Array;
  seq: number;
  streamSubject: string;
}

/**
 * Which notifications a stored room event makes (pure): one per user it is about
 * (`usersToNotify`), each the event's stored bytes unchanged. 'skip' for anything that is not
 * a room event this version can read (logged and acked by the caller, never retried).
 */
export function notificationsFor(s: Subjects, d: Delivered): Notification[] | 'skip' {
  const decoded = decodeChatEvent(d.raw ?? d.data);
  if (!decoded.ok || !isRoomEvent(decoded.event) || !d.raw) return 'skip';
  return usersToNotify(decoded.event).map((userId) => ({
    subject: s.live.user(userId),
    data: d.raw!,
    seq: d.seq,
    streamSubject: d.subject,
  }));
}

/**
 * Forwards every room event to the users it is about (`ns.live.user.<id>`), so a gateway
 * learns of a join, invitation, removal or new conversation of its user in a room it does not
 * follow. A durable JetStream consumer on every room's meta subject: each batch is published
 * (core NATS, the same bytes with the headers JetStream's republish gives: `Nats-Sequence`,
 * `Nats-Subject`, `Nats-Stream`, so gateways read both alike) and acked only once the server
 * has them (flush). At least once: a crash before the ack publishes the batch again
 * (gateways drop repeats by position); replicas share the consumer, so each event is
 * forwarded by one of them.
 */
@Injectable()
export class UserNotifier implements OnApplicationBootstrap, OnModuleDestroy {
  private consumption: Consumption | null = null;
  private readonly forwarded: Counter;
  private readonly skipped: Counter;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
    metrics: MetricsRegistry,
    private readonly health: HealthRegistry,
  ) {
    const registers = [metrics.registry];
    this.forwarded = new Counter({
      name: 'rooms_user_notifications_total',
      help: 'Room events published to the subjects of the users they are about',
      registers,
    });
    this.skipped = new Counter({
      name: 'rooms_user_notifier_skipped_total',
      help: 'Stored room events the notifier could not read (malformed or unknown), acked and skipped',
      registers,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('user-notifier', () => this.consumption?.healthy() ?? false);
    this.consumption = await this.js.consumeDurable(
      {
        stream: this.s.streams.chat.name,
        durable: this.s.consumers.userNotifier,
        filterSubject: this.s.chat.allRoomMeta,
        // Created on a stream with a past (a deployment upgraded to have a notifier), it must
        // not replay years of invitations and kicks to whoever is connected: it starts at the
        // end. From then on it is durable: what is stored while no replica runs goes out later.
        startAt: 'new',
      },
      (batch) => this.forward(batch),
    );
  }

  /** Publishes a batch; resolves once the server has every publish (then the batch is acked). */
  async forward(batch: Delivered[]): Promise<void> {
    let n = 0;
    for (const d of batch) {
      const notes = notificationsFor(this.s, d);
      if (notes === 'skip') {
        this.skipped.inc();
        this.logger.warn({ seq: d.seq, subject: d.subject }, 'user notifier skipped an event it cannot read');
        continue;
      }
      for (const note of notes) {
        const h = headers();
        h.set('Nats-Stream', this.s.streams.chat.name);
        h.set('Nats-Subject', note.streamSubject);
        h.set('Nats-Sequence', String(note.seq));
        this.nc.publish(note.subject, note.data, { headers: h });
        n++;
      }
    }
    if (n) await this.nc.flush();
    this.forwarded.inc(n);
  }

  async onModuleDestroy(): Promise<void> {
    const c = this.consumption;
    this.consumption = null;
    await c?.stop();
  }
}
