import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Msg, Status, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ChatError, type OwnPresenceView, type PresenceChoice, type PresenceView, type SetStatusRpc, type Subjects } from '@chat/contracts';
import { AppendRefused, JetStreamAdapter, decodeJson, encodeJson, type CoreNats, type Delivered, type KvBucket } from '@chat/messaging';
import { CONFIG, HealthRegistry, MetricsRegistry, NATS, PINO, SUBJECTS } from '@chat/platform';
import type { PresenceConfig } from './config';
import { parseChoice, parseHeartbeat, parseSignal, parseStatusText, parseStoredPresence } from './presence/presence.input';
import { presenceChangedEvent, presenceMsgId } from './presence/presence.events';
import { PresenceState, type Now, type PresenceChange } from './presence/presence.state';

/** Timeout of a gateway heard only through signals: 3 × the gateways' default 5 s heartbeat. */
const SIGNAL_ONLY_GATEWAY_TIMEOUT_MS = 15_000;
/** Appends are retried (same msgId, so never twice stored) before the failure is only logged. */
const APPEND_ATTEMPTS = 5;
/** `presence.set` retries its compare-and-set write this often when another write came between. */
const CHOICE_WRITE_ATTEMPTS = 5;

/** Timeouts run on the monotonic clock (immune to NTP steps); the wall clock only dates changes. */
const now = (): Now => ({ mono: performance.now(), wall: Date.now() });

interface Follower {
  stop(): Promise<void>;
}

/**
 * NATS adapter around PresenceState. Every replica subscribes to every gateway (no queue
 * group), watches every user's choice (the KV bucket's stream, followed in order) and follows
 * the PRESENCE stream, so it holds the full state and knows what was actually stored. Each
 * change is appended to the user's presence subject with a msgId derived from its cause, so the
 * replicas' identical appends are stored once. Appends for one user are chained so the stream
 * (which keeps one message per user) always ends with the latest view.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private state: PresenceState;
  private readonly subs: Subscription[] = [];
  private readonly followers: Follower[] = [];
  private kv?: KvBucket;
  private timer?: NodeJS.Timeout;
  private readonly chains = new Map<string, Promise<void>>();
  private started?: Promise<void>;
  private stopping = false;
  private paused = false;
  private heldStored?: Delivered[];
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
      help: 'PresenceChanged appends by result: stored, duplicate (another replica stored it first), superseded (another replica stored a newer change first: decided again, and changes decided before that dropped) or failed',
      labelNames: ['result'],
      registers: [registry],
    });
    this.invalid = new Counter({
      name: 'presence_invalid_messages_total',
      help: 'Gateway signals, heartbeats, stored choices and events ignored because they were malformed',
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
    await Promise.all(this.followers.map((f) => f.stop()));
  }

  /** Users currently not offline. */
  list(): PresenceView[] {
    return this.state.present();
  }

  /** A user's view as stored (offline with their last-seen time once they left); null: never seen. */
  viewOf(userId: string): PresenceView | null {
    return this.state.viewOf(userId);
  }

  ownView(userId: string): OwnPresenceView {
    return this.state.ownView(userId, now());
  }

  /**
   * `presence.set`: validates the text, writes the choice to the KV bucket (compare-and-set on
   * the key's revision, retried when another write came between), applies it here at once (the
   * watch brings the same revision to every replica, this one included, where it is then a
   * no-op) and tells the user's devices on `live.presenceMine`.
   */
  async setChoice(req: SetStatusRpc): Promise<OwnPresenceView> {
    const text = parseStatusText(req.text);
    if (!text.ok) throw new ChatError('BAD_REQUEST', text.error.message, text.error.details);
    const kv = this.bucket();
    const choice: PresenceChoice = {
      userId: req.userId,
      username: req.username,
      status: req.status,
      text: text.data,
      updatedAt: new Date().toISOString(),
    };
    let revision = 0;
    for (let attempt = 1; ; attempt++) {
      const current = await kv.get(req.userId);
      try {
        revision = current
          ? await kv.update(req.userId, encodeJson(choice), current.revision)
          : await kv.create(req.userId, encodeJson(choice));
        break;
      } catch (err) {
        if (attempt >= CHOICE_WRITE_ATTEMPTS) {
          this.log.warn({ err, userId: req.userId }, 'presence: choice write kept conflicting');
          throw new ChatError('CONFLICT', 'the status changed meanwhile; try again');
        }
      }
    }
    this.guard('choice', () => this.state.applyChoice(req.userId, choice, revision, now()));
    const view = this.state.ownView(req.userId, now());
    this.nc.publish(this.s.live.presenceMine(req.userId), encodeJson(view));
    return view;
  }

  /**
   * For tests: while paused this replica ignores gateway signals and heartbeats, as one whose
   * subscription fell behind would miss them. The KV watch and the stream keep flowing.
   */
  pauseGatewayInput(paused: boolean): void {
    this.paused = paused;
  }

  private bucket(): KvBucket {
    if (!this.kv) throw new ChatError('UNAVAILABLE', 'the presence service is starting');
    return this.kv;
  }

  private newState(startedAt: number) {
    return new PresenceState({
      startedAt,
      graceMs: this.config.PRESENCE_STARTUP_GRACE_MS,
      defaultGatewayTimeoutMs: SIGNAL_ONLY_GATEWAY_TIMEOUT_MS,
    });
  }

  private async start(): Promise<void> {
    // The grace counts from when this replica starts reading; the replays below take moments.
    this.state = this.newState(performance.now());
    // Every user's choice (the KV bucket's own stream, in order: a watch that replays, then
    // follows), and the stream's last view of every user, which this replica keeps following so
    // that its "last published" view is always what was stored, whoever stored it.
    this.kv = await this.js.kv(this.s.kv.presence);
    const bucket = this.s.kv.presence;
    const choices = await this.js.follow(`KV_${bucket}`, `$KV.${bucket}.>`, (m) => this.onChoice(m, `$KV.${bucket}.`));
    this.followers.push(choices);
    const stored = await this.js.follow(this.s.streams.presence.name, this.s.presence.allUsers, (m) => this.onFollowed(m));
    this.followers.push(stored);
    await Promise.all([choices.caughtUp, stored.caughtUp]);
    this.log.info({ users: this.state.presentCount() }, 'presence: choices and last known statuses loaded');
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

  /** A value of the choices bucket (a deleted key has no payload: back to online without text). */
  private onChoice(m: Delivered, prefix: string) {
    const userId = m.subject.startsWith(prefix) ? m.subject.slice(prefix.length) : '';
    if (m.raw && m.raw.length === 0) return this.guard('choice', () => this.state.applyChoice(userId, null, m.seq, now()));
    const r = parseChoice(userId, m.data);
    if (!r.ok) {
      this.invalid.inc({ kind: 'choice' });
      this.log.warn({ subject: m.subject, seq: m.seq, reason: r.error.message }, 'presence: malformed stored choice ignored');
      return;
    }
    this.guard('choice', () => this.state.applyChoice(userId, r.data, m.seq, now()));
  }

  /**
   * For tests: while held, what the stream stores reaches this replica only on release, as to a
   * replica whose stream follower lags behind the other replicas' appends.
   */
  holdStoredFollow(hold: boolean): void {
    const held = this.heldStored;
    this.heldStored = hold ? (held ?? []) : undefined;
    if (!hold) for (const m of held ?? []) this.onStored(m);
  }

  private onFollowed(m: Delivered) {
    if (this.heldStored) this.heldStored.push(m);
    else this.onStored(m);
  }

  private onStored(m: Delivered) {
    const r = parseStoredPresence(m.data);
    if (!r.ok) {
      this.invalid.inc({ kind: 'stored' });
      this.log.warn({ subject: m.subject, seq: m.seq, reason: r.error.message }, 'presence: unreadable stored presence ignored');
      return;
    }
    this.state.observe(r.data.view, r.data.eventId, m.seq);
  }

  private onSignal(msg: Msg) {
    if (this.paused) return;
    const r = parseSignal(decodeJson(msg.data), this.s.presence.gatewayIdOf(msg.subject));
    if (!r.ok) return this.ignore('signal', msg, r.error.message);
    this.guard('signal', () => this.state.applySignal(r.data, now()));
  }

  private onHeartbeat(msg: Msg) {
    if (this.paused) return;
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

  /** Reads the user's last stored change and decides again against it (see `append`). */
  private async catchUp(userId: string): Promise<void> {
    try {
      const last = await this.js.lastOnSubject(this.s.streams.presence.name, this.s.presence.user(userId));
      if (last) this.onStored(last);
    } catch (err) {
      this.log.warn({ err, userId }, 'presence: could not read the stored status after a conflict; the follower brings it');
    }
    this.guard('recheck', () => this.state.recheck(userId, now()));
  }

  private async append(change: PresenceChange): Promise<void> {
    const event = presenceChangedEvent(change, randomUUID);
    const msgId = presenceMsgId(change);
    for (let attempt = 1; ; attempt++) {
      try {
        // The change was decided against a stored view, or against this replica's change before
        // it, and expects that one's sequence; if another replica stored something since (a
        // signal this one missed or saw late), the stream refuses it and the change is decided
        // again against what is stored, so the stream never holds the same status twice in a row
        // from two replicas' different causes. A change decided before such a refusal (or a
        // failed append) was decided against a view given up since: it is dropped.
        const expected = this.state.expectedSeq(change);
        if (expected === undefined) {
          this.appended.inc({ result: 'superseded' });
          return;
        }
        const subject = this.s.presence.user(change.userId);
        const r = await this.js.append(subject, event, { msgId, expectLastSubjectSequence: expected });
        this.state.appendStored(change, r.seq);
        this.appended.inc({ result: r.duplicate ? 'duplicate' : 'stored' });
        this.log.debug({ userId: change.userId, status: change.status, seq: r.seq, duplicate: r.duplicate }, 'presence changed');
        return;
      } catch (err) {
        if (err instanceof AppendRefused && err.reason === 'wrong-last-sequence') {
          this.appended.inc({ result: 'superseded' });
          return this.catchUp(change.userId);
        }
        if (attempt >= APPEND_ATTEMPTS || this.stopping) {
          this.appended.inc({ result: 'failed' });
          this.log.error({ err, userId: change.userId, status: change.status }, 'presence: could not append PresenceChanged');
          // What the stream holds is the truth again: the next heartbeat publishes the change anew.
          this.state.appendFailed(change.userId);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
