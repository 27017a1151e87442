import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { RoomPresenceSignal, Subjects } from '@chat/contracts';
import { JetStreamAdapter, RpcClient, encodeJson, type Consumption, type CoreNats, type Delivered } from '@chat/messaging';
import { CONFIG, HealthRegistry, MetricsRegistry, NATS, PINO, SUBJECTS } from '@chat/platform';
import type { PresenceConfig } from '../config';
import { parseStoredPresence } from '../presence/presence.input';

/**
 * Presence fan-out: pushes each stored PresenceChanged to the rooms its user shares with others.
 * One durable pull consumer (`consumers.presenceFanout`) shared by every replica, so each
 * change is handled by one of them. For a change it asks the rooms service for the user's rooms
 * of at most PRESENCE_FANOUT_MAX_MEMBERS members and publishes a RoomPresenceSignal (the view
 * at its presence-stream position) on `live.roomPresence(roomId)` of each; gateways deliver it
 * to the room's connections, once per connection. The batch is acked after publishing; when the
 * rooms service does not answer the batch fails and is redelivered after the consumer's
 * back-off, so no change is lost (a room may then hear one twice: gateways drop repeats by
 * position).
 */
@Injectable()
export class PresenceFanout implements OnApplicationBootstrap, OnModuleDestroy {
  private consumption?: Consumption;
  private readonly pushed: Counter<'result'>;

  constructor(
    @Inject(CONFIG) private readonly config: PresenceConfig,
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly log: Logger,
    private readonly js: JetStreamAdapter,
    private readonly rpc: RpcClient,
    private readonly health: HealthRegistry,
    metrics: MetricsRegistry,
  ) {
    this.pushed = new Counter({
      name: 'presence_fanout_changes_total',
      help: 'Stored presence changes the fan-out handled: pushed (to every room of the user within the size limit), skipped (unreadable) or retried (rooms service failed)',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumption = await this.js.consumeDurable(
      {
        stream: this.s.streams.presence.name,
        durable: this.s.consumers.presenceFanout,
        filterSubject: this.s.presence.allUsers,
        // A forwarder of live changes: a new deployment does not push the past.
        startAt: 'new',
        batch: 64,
        ackWaitMs: 10_000,
      },
      (batch) => this.handle(batch),
    );
    this.health.register('presence-fanout', () => this.consumption?.healthy() ?? false);
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumption?.stop();
  }

  private async handle(batch: Delivered[]): Promise<void> {
    for (const m of batch) {
      const r = parseStoredPresence(m.data);
      if (!r.ok) {
        this.pushed.inc({ result: 'skipped' });
        this.log.warn({ subject: m.subject, seq: m.seq, reason: r.error.message }, 'presence fan-out: unreadable stored presence skipped');
        continue;
      }
      const { view } = r.data;
      const audience = await this.rpc.call('rooms.presenceAudience', {
        userId: view.userId,
        maxMembers: this.config.PRESENCE_FANOUT_MAX_MEMBERS,
      });
      if (!audience.ok) {
        this.pushed.inc({ result: 'retried' });
        throw new Error(`rooms.presenceAudience failed for ${view.userId}: ${audience.error.code} ${audience.error.message}`);
      }
      const signal: RoomPresenceSignal = { position: m.seq, presence: view };
      const data = encodeJson(signal);
      for (const roomId of audience.data.roomIds) this.nc.publish(this.s.live.roomPresence(roomId), data);
      this.pushed.inc({ result: 'pushed' });
    }
    // Published before the ack: the server has them once the flush returns.
    await this.nc.flush();
  }
}
