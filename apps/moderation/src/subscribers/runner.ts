import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Consumption, type Delivered } from '@chat/messaging';
import { CONFIG, MetricsRegistry, PINO, SUBJECTS } from '@chat/platform';
import { Counter, Histogram } from 'prom-client';
import type { Logger } from 'pino';
import type { ModerationConfig } from '../config';
import { ModerationLog } from '../log/moderation-log';
import { AccountAges } from './account-ages';
import { SUBSCRIBER_NAME_PATTERN, type AnySubscriber, type SubscriberSource } from './subscriber';
import { VerdictSink } from './verdicts';
import { SubscriberWorker, type WorkerObserver } from './worker';

/** Injection token of the registered subscribers (registry.ts provides it; tests may provide their own). */
export const MODERATION_SUBSCRIBERS = Symbol('MODERATION_SUBSCRIBERS');

/** The stream and subject filter of each source. */
export function sourceOf(s: Subjects, source: SubscriberSource): { stream: string; filterSubject: string } {
  switch (source) {
    case 'messages':
      return { stream: s.streams.chat.name, filterSubject: s.chat.allRoomMessages };
    case 'accounts':
      return { stream: s.streams.accounts.name, filterSubject: s.accounts.all };
    case 'moderation':
      return { stream: s.streams.moderation.name, filterSubject: s.moderation.all };
  }
}

/** Refuses a list with a bad or repeated name: each name is a consumer (a checkpoint) and a metric label. */
export function checkSubscribers(subscribers: readonly AnySubscriber[]): void {
  const seen = new Set<string>();
  for (const sub of subscribers) {
    if (!SUBSCRIBER_NAME_PATTERN.test(sub.name))
      throw new Error(`moderation subscriber name "${sub.name}" must match ${SUBSCRIBER_NAME_PATTERN}`);
    if (seen.has(sub.name)) throw new Error(`moderation subscriber "${sub.name}" is registered twice`);
    seen.add(sub.name);
  }
}

/**
 * Runs every registered subscriber on its own durable JetStream consumer
 * (`mod-sub-<name>`, created at the end of its stream on the first start, shared by the
 * replicas: each event goes to one of them). One event at a time per subscriber; a failed
 * or timed-out event is nak'd and comes back after the consumer's backoff (about 1 s, doubling
 * up to 5 s while it keeps failing); after MOD_SUBSCRIBER_MAX_DELIVERIES it is given up. The
 * subscribers are not in the send path and do not wait for each other: a stuck one only
 * holds its own consumer.
 */
@Injectable()
export class SubscriberRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly consumptions: Consumption[] = [];
  private readonly workers: SubscriberWorker[];
  private readonly observer: WorkerObserver;

  constructor(
    @Inject(MODERATION_SUBSCRIBERS) subscribers: AnySubscriber[],
    sink: VerdictSink,
    ages: AccountAges,
    private readonly log: ModerationLog,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) config: ModerationConfig,
    @Inject(PINO) private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    checkSubscribers(subscribers);
    const disabled = new Set(
      config.MOD_SUBSCRIBERS_DISABLED.split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    );
    const unknown = [...disabled].filter((n) => !subscribers.some((sub) => sub.name === n));
    if (unknown.length) this.logger.warn({ unknown }, 'MOD_SUBSCRIBERS_DISABLED names subscribers that are not registered');
    this.observer = subscriberMetrics(metrics);
    this.workers = subscribers
      .filter((sub) => !disabled.has(sub.name))
      .map(
        (sub) =>
          new SubscriberWorker(sub, {
            timeoutMs: config.MOD_SUBSCRIBER_TIMEOUT_MS,
            maxDeliveries: config.MOD_SUBSCRIBER_MAX_DELIVERIES,
            sink,
            observer: this.observer,
            context: (d: Delivered) => ({
              position: d.seq,
              deliveryCount: d.deliveryCount ?? 1,
              now: () => new Date(),
              accountRegisteredAt: (userId: string) => ages.registeredAt(userId),
            }),
            log: (level, msg, extra) => this.logger[level](extra, msg),
          }),
      );
  }

  /** The names of the subscribers this replica runs. */
  get running(): string[] {
    return this.workers.map((w) => w.subscriber.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The ports answer from the moderation stream's fold (a mute replacing another one): let
    // it catch up before the first verdict.
    await this.log.start();
    for (const worker of this.workers) {
      const { name, source } = worker.subscriber;
      const consumption = await this.js.consumeDurable(
        {
          ...sourceOf(this.s, source),
          durable: this.s.consumers.moderationSubscriber(name),
          // One event per handler call: a failure naks that event only, and the timeout is per event.
          batch: 1,
          // A subscriber added to a server with a past starts with what is stored from then on.
          startAt: 'new',
        },
        async (batch) => {
          for (const d of batch) await worker.deliver(d);
        },
      );
      this.consumptions.push(consumption);
      this.logger.info({ subscriber: name, source }, 'moderation subscriber running');
    }
  }

  async onModuleDestroy(): Promise<void> {
    const all = this.consumptions.splice(0);
    await Promise.all(all.map((c) => c.stop()));
  }
}

/** The subscribers' Prometheus metrics (docs/extending-moderation.md, "Metrics"). */
function subscriberMetrics(metrics: MetricsRegistry): WorkerObserver {
  const registers = [metrics.registry];
  const events = new Counter({
    name: 'moderation_subscriber_events_total',
    help: 'Events delivered to moderation subscribers, by outcome (handled, skipped: unreadable, terminated: given up after the last delivery)',
    labelNames: ['subscriber', 'outcome'],
    registers,
  });
  const failures = new Counter({
    name: 'moderation_subscriber_failures_total',
    help: 'Failed attempts of moderation subscribers, by kind (error, timeout, verdict: a verdict could not be carried out); each is retried',
    labelNames: ['subscriber', 'kind'],
    registers,
  });
  const verdicts = new Counter({
    name: 'moderation_subscriber_verdicts_total',
    help: 'Verdicts of moderation subscribers, by kind and result (executed, invalid, refused)',
    labelNames: ['subscriber', 'verdict', 'result'],
    registers,
  });
  const seconds = new Histogram({
    name: 'moderation_subscriber_handle_seconds',
    help: 'Time a moderation subscriber took over one event (handle only)',
    labelNames: ['subscriber'],
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 1, 5, 30],
    registers,
  });
  return {
    outcome: (subscriber, outcome) => events.inc({ subscriber, outcome }),
    failure: (subscriber, kind) => failures.inc({ subscriber, kind }),
    verdict: (subscriber, verdict, result) => verdicts.inc({ subscriber, verdict, result }),
    handled: (subscriber, s) => seconds.observe({ subscriber }, s),
  };
}
