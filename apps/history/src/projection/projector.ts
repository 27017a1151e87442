import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Consumption, type Delivered } from '@chat/messaging';
import { CONFIG, HealthRegistry, MetricsRegistry, PINO, SUBJECTS } from '@chat/platform';
import type { HistoryConfig } from '../config';
import { HistoryStore } from '../db/history.store';
import type { BatchPlan, StreamEvent } from './mapping';

export const toStreamEvent = (d: Delivered): StreamEvent => ({ subject: d.subject, position: d.seq, data: d.data, raw: d.raw });

/**
 * Projects the CHAT stream into Postgres through a durable pull consumer. Each fetched batch
 * is applied in one transaction and acked only after it committed; when the database fails
 * the batch is nak'd and comes back. Bad events never fail a batch: they become dead letters.
 */
@Injectable()
export class Projector implements OnApplicationBootstrap, OnModuleDestroy {
  private consumption: Consumption | null = null;
  private readonly projected: Counter<'outcome'>;
  private readonly replayed: Counter;
  private readonly position: Gauge;

  constructor(
    private readonly store: HistoryStore,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(CONFIG) private readonly config: HistoryConfig,
    @Inject(PINO) private readonly logger: Logger,
    metrics: MetricsRegistry,
    health: HealthRegistry,
  ) {
    const registers = [metrics.registry];
    this.projected = new Counter({
      name: 'history_projected_events_total',
      help: 'CHAT stream events projected for the first time, by outcome (message, ignored, dead_letter)',
      labelNames: ['outcome'],
      registers,
    });
    this.replayed = new Counter({
      name: 'history_replayed_events_total',
      help: 'Redelivered CHAT stream events at or below the checkpoint (written idempotently, not counted as projected)',
      registers,
    });
    // Present from the start (at 0), so dashboards and alerts see the series before the first event.
    for (const outcome of ['message', 'ignored', 'dead_letter']) this.projected.inc({ outcome }, 0);
    this.position = new Gauge({ name: 'history_projection_position', help: 'Highest CHAT stream position projected (the checkpoint)', registers });
    health.register('projector', () => this.consumption?.healthy() ?? false);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.position.set(await this.store.checkpoint());
    this.consumption = await this.js.consumeDurable(
      {
        stream: this.subjects.streams.chat.name,
        durable: this.subjects.consumers.historyProjector,
        filterSubject: this.subjects.chat.all,
        batch: this.config.PROJECTION_BATCH,
      },
      async (batch) => {
        await this.applyBatch(batch.map(toStreamEvent));
      },
    );
  }

  /** Applies one batch (also called directly by tests); safe to call again with the same events. */
  async applyBatch(events: StreamEvent[]): Promise<BatchPlan> {
    const plan = await this.store.applyBatch(events);
    this.projected.inc({ outcome: 'message' }, plan.fresh.messages);
    this.projected.inc({ outcome: 'ignored' }, plan.fresh.ignored);
    this.projected.inc({ outcome: 'dead_letter' }, plan.fresh.deadLetters);
    this.replayed.inc(plan.replayed);
    this.position.set(plan.checkpoint);
    if (plan.fresh.deadLetters > 0) {
      for (const d of plan.deadLetters) this.logger.warn({ position: d.position, subject: d.subject, error: d.error }, 'event dead-lettered');
    }
    return plan;
  }

  async onModuleDestroy(): Promise<void> {
    const c = this.consumption;
    this.consumption = null;
    await c?.stop();
  }
}
