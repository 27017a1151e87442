import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Consumption, type Delivered } from '@chat/messaging';
import { CONFIG, HealthRegistry, MetricsRegistry, PINO, SUBJECTS } from '@chat/platform';
import type { HistoryConfig } from '../config';
import type { StreamEvent } from '../store/events';
import { HistoryStore } from '../store/history.store';
import type { BatchPlan } from '../store/plan';
import { postRefusals } from '../posting/posting';

export const toStreamEvent = (d: Delivered): StreamEvent => ({ subject: d.subject, position: d.seq, data: d.data, raw: d.raw });

/**
 * Projects the CHAT stream into Postgres through a durable pull consumer. Each fetched batch
 * is applied in one transaction and acked only after it committed; when the database fails
 * the batch is nak'd and comes back. Bad events never fail a batch: they become dead letters.
 *
 * Readiness (`projector`) is false while the consumer loop cannot fetch, and also while one
 * batch has been in the handler for longer than the ack wait: by then the server hands the
 * batch to another replica, and this one is stuck (the database timeouts should have ended it).
 */
@Injectable()
export class Projector implements OnApplicationBootstrap, OnModuleDestroy {
  private consumption: Consumption | null = null;
  private readonly projected: Counter<'outcome'>;
  private readonly replayed: Counter;
  private readonly position: Gauge;
  private readonly conflicts: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly ignored: Counter;
  private stuckLogged = false;

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
      help: 'CHAT stream events projected for the first time, by outcome (message, membership, dead_letter)',
      labelNames: ['outcome'],
      registers,
    });
    this.replayed = new Counter({
      name: 'history_replayed_events_total',
      help: 'Redelivered CHAT stream events at or below the checkpoint (written idempotently, not counted as projected)',
      registers,
    });
    // Present from the start (at 0), so dashboards and alerts see the series before the first event.
    for (const outcome of ['message', 'membership', 'dead_letter']) this.projected.inc({ outcome }, 0);
    this.position = new Gauge({
      name: 'history_projection_position',
      help: 'Highest CHAT stream position projected (the checkpoint)',
      registers,
    });
    this.conflicts = new Counter({
      name: 'history_message_id_conflicts_total',
      help: 'MessagePosted events dead-lettered because another event already holds their message id (or position)',
      registers,
    });
    this.dropped = new Counter({
      name: 'history_dropped_posts_total',
      help: 'MessagePosted events not stored as messages: refused by the posting rule at their stream position (not_member, admins_only, blocked, no_room) or gone with their deleted room (room_deleted)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of postRefusals) this.dropped.inc({ reason }, 0);
    this.ignored = new Counter({
      name: 'history_ignored_message_changes_total',
      help: 'Message changes that do not hold at their stream position and are ignored (an edit not by the author, any change to a deleted message); not errors, not dead letters',
      registers,
    });
    const busy = () => this.consumption?.busyMs() ?? null;
    new Gauge({
      name: 'history_projection_batch_running_seconds',
      help: 'How long the batch now being projected has been running (0 between batches)',
      registers,
      collect() {
        this.set((busy() ?? 0) / 1000);
      },
    });
    health.register('projector', () => this.healthy());
  }

  /**
   * The consumer loop fetches, and is not stuck in one batch for longer than
   * PROJECTION_MAX_BATCH_MS (by then its in-progress acks have stopped and the server hands the
   * batch to another replica; the database timeouts should have ended it long before).
   */
  healthy(): boolean {
    if (!(this.consumption?.healthy() ?? false)) return false;
    const running = this.consumption?.busyMs() ?? null;
    if (running === null || running <= this.config.PROJECTION_MAX_BATCH_MS) {
      this.stuckLogged = false;
      return true;
    }
    if (!this.stuckLogged) {
      this.stuckLogged = true;
      this.logger.error(
        { runningMs: running, maxBatchMs: this.config.PROJECTION_MAX_BATCH_MS },
        'projection batch running longer than PROJECTION_MAX_BATCH_MS; not ready',
      );
    }
    return false;
  }

  /** The durable consumer of this schema (see Subjects.consumers.historyProjectorOf). */
  get durable(): string {
    return this.subjects.consumers.historyProjectorOf(this.config.DATABASE_SCHEMA);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.position.set(await this.store.checkpoint());
    await this.backfillMembership();
    this.consumption = await this.js.consumeDurable(
      {
        stream: this.subjects.streams.chat.name,
        durable: this.durable,
        filterSubject: this.subjects.chat.all,
        batch: this.config.PROJECTION_BATCH,
        lingerMs: this.config.PROJECTION_LINGER_MS,
        ackWaitMs: this.config.PROJECTION_ACK_WAIT_MS,
        maxWorkingMs: this.config.PROJECTION_MAX_BATCH_MS,
        startSeq: () => this.startSeq(),
      },
      (batch) => this.applyBatch(batch.map(toStreamEvent)).then(() => undefined),
    );
  }

  /**
   * Where this schema's consumer starts when it does not exist yet (a new schema, or one filled
   * by the rebuild command): after its checkpoint, not at the start of the stream. The checkpoint
   * has no gap below it there: the rebuild applies the stream in order, and a new schema's is 0.
   * Before consumers were per schema, every schema was projected by `history-projector`: on the
   * first start after that change, a schema other than `chat` goes on from that consumer's ack
   * floor when it is lower (below the checkpoint events may be missing: batches commit out of
   * order). Starting lower only replays, which changes nothing.
   */
  private async startSeq(): Promise<number> {
    const checkpoint = await this.store.checkpoint();
    const shared = this.subjects.consumers.historyProjector;
    if (this.durable === shared) return checkpoint + 1;
    const floor = await this.js.ackFloor(this.subjects.streams.chat.name, shared);
    return Math.min(checkpoint, floor ?? checkpoint) + 1;
  }

  /** Applies one batch (also called directly by tests); safe to call again with the same events. */
  async applyBatch(events: StreamEvent[]): Promise<BatchPlan> {
    const plan = await this.store.applyBatch(events);
    this.projected.inc({ outcome: 'message' }, plan.fresh.messages);
    this.projected.inc({ outcome: 'membership' }, plan.fresh.membership);
    this.projected.inc({ outcome: 'dead_letter' }, plan.fresh.deadLetters);
    this.replayed.inc(plan.replayed);
    this.ignored.inc(plan.ignored.length);
    this.position.set(plan.checkpoint);
    for (const c of plan.conflicts) {
      this.conflicts.inc();
      this.logger.warn(
        { position: c.position, subject: c.subject, error: c.error },
        'message id conflict: event dead-lettered instead of dropped',
      );
    }
    for (const d of plan.dropped) {
      this.dropped.inc({ reason: d.reason });
      // A deleted room drops its whole history: counted, not logged one by one.
      if (d.reason !== 'room_deleted')
        this.logger.warn(
          { position: d.position, roomId: d.roomId, senderId: d.senderId, reason: d.reason },
          'post not stored: its sender could not post at its stream position',
        );
    }
    if (plan.fresh.deadLetters > 0) {
      for (const d of plan.deadLetters)
        this.logger.warn({ position: d.position, subject: d.subject, error: d.error }, 'event dead-lettered');
    }
    return plan;
  }

  /**
   * Once, after the RoomMembership (or RoomRights) migration on a schema that had projected before: the room
   * events up to the old checkpoint were skipped then, so they are read again from the stream
   * (an ordered consumer on every room's …meta subject) and applied as replays (idempotent, the
   * checkpoint does not move), before the durable consumer starts. Replicas doing it at the
   * same time write the same rows. Events above the mark come through the durable consumer.
   */
  private async backfillMembership(): Promise<void> {
    const mark = await this.store.membershipBackfillMark();
    if (mark === null) return;
    const events: StreamEvent[] = [];
    const follower = await this.js.follow(this.subjects.streams.chat.name, this.subjects.chat.allRoomMeta, (m) => {
      if (m.seq <= mark) events.push(toStreamEvent(m));
    });
    try {
      await follower.caughtUp;
    } finally {
      await follower.stop();
    }
    for (let i = 0; i < events.length; i += this.config.PROJECTION_BATCH)
      await this.store.applyBatch(events.slice(i, i + this.config.PROJECTION_BATCH), { backfill: true });
    await this.store.clearMembershipBackfillMark();
    this.logger.info({ upTo: mark, events: events.length }, 'membership backfilled from the room events of the stream');
  }

  async onModuleDestroy(): Promise<void> {
    const c = this.consumption;
    this.consumption = null;
    await c?.stop();
  }
}
