import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import type { RetentionRunView, Subjects } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { CONFIG, MetricsRegistry, PINO, SUBJECTS } from '@chat/platform';
import type { Logger } from 'pino';
import type { HistoryConfig } from '../config';
import { HistoryStore } from '../store/history.store';
import { longestPolicyDays, moreToDelete, roomCutoffs, trimBelow } from './retention.policy';
import { RetentionSql } from './retention.store';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The retention cleanup (docs/protocol.md, Retention), every RETENTION_INTERVAL_MS: finds the
 * rooms with expired rows (one query) and deletes each one's expired messages (with their
 * mentions, reactions, logged changes and statistics), dropped messages (deleted rooms'
 * included) and orphaned changes in small batches with a pause between them, records the run in
 * retention_runs, then trims the stream's message events below the oldest message kept. Every
 * replica schedules it; a Postgres advisory lock lets one of them run a round and the others
 * skip it. Stopping the service ends a run between two batches (recorded as stopped).
 */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running: Promise<RetentionRunView | null> | null = null;
  private stopping = false;
  private readonly removed: Counter;

  constructor(
    private readonly store: HistoryStore,
    private readonly js: JetStreamAdapter,
    @Inject(CONFIG) private readonly config: HistoryConfig,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.removed = new Counter({
      name: 'history_retention_messages_removed_total',
      help: 'Messages the retention cleanup removed from history',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((err: unknown) => this.logger.error({ error: String(err) }, 'retention cleanup failed'))
        .finally(() => this.schedule());
    }, this.config.RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  /** Runs one round now, unless one is running here or on another replica (then null). Resolves the recorded run. */
  runOnce(now = new Date()): Promise<RetentionRunView | null> {
    if (this.running) return Promise.resolve(null);
    this.running = this.store.read((qr) => this.run(new RetentionSql(qr, this.store.schema), now)).finally(() => (this.running = null));
    return this.running;
  }

  private async run(sql: RetentionSql, now: Date): Promise<RetentionRunView | null> {
    if (!(await sql.tryLock())) {
      this.logger.debug('retention: another replica is running the cleanup; skipping this round');
      return null;
    }
    const run: RetentionRunView = {
      runId: randomUUID(),
      startedAt: now.toISOString(),
      finishedAt: null,
      messagesRemoved: 0,
      rooms: 0,
      streamTrimmedBelow: null,
      error: null,
    };
    try {
      await sql.startRun(run.runId, now);
      try {
        const rooms = await sql.rooms();
        const defaultDays = this.config.RETENTION_DEFAULT_DAYS;
        // Only rooms with something expired are visited (one query for all of them).
        for (const { roomId, cutoff } of await sql.expiredRooms(roomCutoffs(rooms, defaultDays, now))) {
          let roomCounted = false;
          await this.inBatches(
            (batch) => sql.deleteBatch(roomId, cutoff, batch),
            (removed) => {
              // Counted as it goes, so a run that stops early still reports what it removed.
              run.messagesRemoved += removed;
              this.removed.inc(removed);
              if (removed && !roomCounted) {
                roomCounted = true;
                run.rooms++;
              }
            },
          );
          await this.inBatches((batch) => sql.deleteDroppedBatch(roomId, cutoff, batch));
          await this.inBatches((batch) => sql.deleteOrphansBatch(roomId, cutoff, batch));
        }
        if (longestPolicyDays(rooms, defaultDays) !== null) run.streamTrimmedBelow = await this.trimStream(await sql.oldestKept());
      } catch (err) {
        run.error = err instanceof Error ? err.message : String(err);
        this.logger.error({ runId: run.runId, error: run.error }, 'retention cleanup stopped with an error');
      }
      run.finishedAt = new Date().toISOString();
      await sql.finishRun(run);
      this.logger.info({ ...run }, 'retention cleanup finished');
      return run;
    } finally {
      await sql.unlock();
    }
  }

  /** Repeats a batched delete while it finds a full batch of expired rows, pausing between; reports each batch's removals. */
  private async inBatches(
    deleteBatch: (batch: number) => Promise<{ looked: number; removed: number }>,
    onRemoved: (removed: number) => void = () => undefined,
  ): Promise<void> {
    const batch = this.config.RETENTION_BATCH;
    for (;;) {
      if (this.stopping) throw new Error('stopped: the service is shutting down');
      const { looked, removed } = await deleteBatch(batch);
      onRemoved(removed);
      if (!moreToDelete(looked, removed, batch)) return;
      await sleep(this.config.RETENTION_PAUSE_MS);
    }
  }

  /** Purges message events (only the …msg subjects) below the first position to keep; null when nothing was trimmed. */
  private async trimStream(oldestKept: number | null): Promise<number | null> {
    const stream = this.s.streams.chat.name;
    const floor = await this.js.ackFloor(stream, this.s.consumers.historyProjector);
    if (floor === null) return null;
    const below = trimBelow(oldestKept, floor);
    if (below === null) return null;
    const purged = await this.js.purge(stream, { filter: this.s.chat.allRoomMessages, below });
    this.logger.info({ below, purged }, 'retention: message events trimmed from the stream');
    return below;
  }
}
