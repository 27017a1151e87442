import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Msg, Status, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { PresenceView, Subjects } from '@chat/contracts';
import { JetStreamAdapter, decodeJson, type CoreNats } from '@chat/messaging';
import { CONFIG, HealthRegistry, MetricsRegistry, NATS, PINO, SUBJECTS } from '@chat/platform';
import type { PresenceConfig } from './config';
import { parseHeartbeat, parseSignal, parseStoredPresence } from './presence/presence.input';
import { presenceChangedEvent, presenceMsgId } from './presence/presence.events';
import { PresenceState, type Now, type PresenceChange } from './presence/presence.state';

/** Timeout of a gateway heard only through signals: 3 × the gateways' default 5 s heartbeat. */
const SIGNAL_ONLY_GATEWAY_TIMEOUT_MS = 15_000;
/** Appends are retried (same msgId, so never twice stored) before the failure is only logged. */
const APPEND_ATTEMPTS = 5;

/** Timeouts run on the monotonic clock (immune to NTP steps); the wall clock only dates changes. */
const now = (): Now => ({ mono: performance.now(), wall: Date.now() });

/**
 * NATS adapter around PresenceState. Every replica subscribes to every gateway (no queue
 * group) and so holds the full state; each change is appended to the user's presence subject
 * with a msgId derived from its cause, so the replicas' identical appends are stored once.
 * Appends for one user are chained so the stream (which keeps one message per user) always
 * ends with the latest status.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private state: PresenceState;
  private readonly subs: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  private readonly chains = new Map<string, Promise<void>>();
  private started?: Promise<void>;
  private stopping = false;
  private readonly appended: Counter<'result'>;
  private readonly invalid: Counter<'kind'>;

  constructor(
    @Inject(CONFIG) private readonly config: PresenceConfig,
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly log: Logger,
    private readonly js: JetStreamAdapter,
    health: HealthRegistry,
    metrics: MetricsRegistry,
  ) {
    this.state = this.newState(performance.now());
    health.register('presence', () => this.subs.length === 2 && this.subs.every((sub) => !sub.isClosed()));
    const registry = metrics.registry;
    const self = this;
    new Gauge({
      name: 'presence_online_users',
      help: 'Users whose published status is not offline (online, busy or away)',
      registers: [registry],
      collect() {
        this.set(self.state.presentCount());
      },
    });
    new Gauge({
      name: 'presence_gateways',
      help: 'Gateways currently considered alive',
      registers: [registry],
      collect() {
        this.set(self.state.gatewayCount());
      },
    });
    this.appended = new Counter({
      name: 'presence_events_appended_total',
      help: 'PresenceChanged appends by result: stored, duplicate (another replica stored it first) or failed',
      labelNames: ['result'],
      registers: [registry],
    });
    this.invalid = new Counter({
      name: 'presence_invalid_messages_total',
      help: 'Gateway signals and heartbeats ignored because they were malformed',
      labelNames: ['kind'],
      registers: [registry],
    });
  }

  onApplicationBootstrap(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const sub of this.subs) sub.unsubscribe();
    await Promise.all([...this.chains.values()]);
  }

  /** Users currently not offline. */
  list(): PresenceView[] {
    return this.state.present();
  }

  private newState(startedAt: number) {
    return new PresenceState({
      startedAt,
      graceMs: this.config.PRESENCE_STARTUP_GRACE_MS,
      defaultGatewayTimeoutMs: SIGNAL_ONLY_GATEWAY_TIMEOUT_MS,
    });
  }

  private async start(): Promise<void> {
    // Last known status of every user first, so that lastSeen survives restarts and the first
    // heartbeats only produce events for users whose status really changed.
    const seeds: Array<{ view: PresenceView; eventId: string }> = [];
    const replay = await this.js.follow(this.s.streams.presence.name, this.s.presence.allUsers, (m) => {
      const r = parseStoredPresence(m.data);
      if (r.ok) seeds.push(r.data);
      else this.log.warn({ subject: m.subject, seq: m.seq, reason: r.error.message }, 'presence: unreadable stored presence ignored');
    });
    await replay.caughtUp;
    await replay.stop();
    // The grace counts from when this replica starts hearing the gateways.
    const state = this.newState(performance.now());
    for (const seed of seeds) state.seed(seed.view, seed.eventId);
    this.state = state;
    this.log.info({ users: seeds.length }, 'presence: last known statuses loaded');
    void (async () => {
      for await (const status of this.nc.status()) this.onNatsStatus(status.type);
    })().catch((err: unknown) => this.log.error({ err }, 'presence: NATS status watch failed'));

    // Callbacks run in arrival order, so a gateway's signals and heartbeats apply in the order sent.
    this.subs.push(
      this.nc.subscribe(this.s.presence.allGatewayConnections, { callback: (err, msg) => (err ? this.subError(err) : this.onSignal(msg)) }),
      this.nc.subscribe(this.s.presence.allGatewayHeartbeats, {
        callback: (err, msg) => (err ? this.subError(err) : this.onHeartbeat(msg)),
      }),
    );
    await this.nc.flush();
    this.timer = setInterval(() => this.guard('tick', () => this.state.tick(now())), this.config.PRESENCE_EXPIRY_CHECK_MS);
    this.timer.unref();
  }

  /**
   * Without NATS this replica hears no heartbeats, which says nothing about the gateways: expiry
   * stops until the reconnect, which then restarts every gateway's timeout and the grace.
   * nats.js reports a disconnect when the socket closes or pings go unanswered, so a silently
   * dead link still expires gateways until it is noticed. Public so that tests can play an outage.
   */
  onNatsStatus(type: Status['type']): void {
    if (type === 'disconnect') {
      this.state.disconnected();
      this.log.warn('presence: NATS disconnected, gateway expiry paused');
    } else if (type === 'reconnect') {
      this.state.reconnected(now());
      this.log.info('presence: NATS reconnected, gateway timeouts and start-up grace restarted');
    }
  }

  private subError(err: Error) {
    this.log.error({ err }, 'presence: gateway subscription error');
  }

  private onSignal(msg: Msg) {
    const r = parseSignal(decodeJson(msg.data), this.s.presence.gatewayIdOf(msg.subject));
    if (!r.ok) return this.ignore('signal', msg, r.error.message);
    this.guard('signal', () => this.state.applySignal(r.data, now()));
  }

  private onHeartbeat(msg: Msg) {
    const r = parseHeartbeat(decodeJson(msg.data), this.s.presence.gatewayIdOf(msg.subject));
    if (!r.ok) return this.ignore('heartbeat', msg, r.error.message);
    if (r.data.skipped > 0) {
      this.invalid.inc({ kind: 'heartbeat_entry' }, r.data.skipped);
      this.log.warn({ subject: msg.subject, skipped: r.data.skipped }, 'presence: malformed heartbeat entries left out');
    }
    this.guard('heartbeat', () => this.state.applyHeartbeat(r.data.heartbeat, now()));
  }

  private ignore(kind: 'signal' | 'heartbeat', msg: Msg, reason: string) {
    this.invalid.inc({ kind });
    this.log.warn({ subject: msg.subject, reason, bytes: msg.data.length }, `presence: malformed ${kind} ignored`);
  }

  /** Applies one input; a bug in handling one message is logged and never stops the subscription. */
  private guard(what: string, apply: () => PresenceChange[]) {
    try {
      for (const change of apply()) this.enqueue(change);
    } catch (err) {
      this.log.error({ err, what }, 'presence: failed to apply input');
    }
  }

  private enqueue(change: PresenceChange) {
    const prev = this.chains.get(change.userId) ?? Promise.resolve();
    const next: Promise<void> = prev.then(() => this.append(change));
    this.chains.set(change.userId, next);
    void next.finally(() => {
      if (this.chains.get(change.userId) === next) this.chains.delete(change.userId);
    });
  }

  private async append(change: PresenceChange): Promise<void> {
    const event = presenceChangedEvent(change, randomUUID);
    const msgId = presenceMsgId(change);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.js.append(this.s.presence.user(change.userId), event, { msgId });
        this.appended.inc({ result: r.duplicate ? 'duplicate' : 'stored' });
        this.log.debug({ userId: change.userId, status: change.status, seq: r.seq, duplicate: r.duplicate }, 'presence changed');
        return;
      } catch (err) {
        if (attempt >= APPEND_ATTEMPTS || this.stopping) {
          this.appended.inc({ result: 'failed' });
          this.log.error({ err, userId: change.userId, status: change.status }, 'presence: could not append PresenceChanged');
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
