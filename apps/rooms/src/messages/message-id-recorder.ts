import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Gauge } from 'prom-client';
import { ChatError, decodeChatEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, decodeJson, encodeJson, type Consumption, type Delivered, type KvBucket } from '@chat/messaging';
import { CONFIG, HealthRegistry, MetricsRegistry, SUBJECTS } from '@chat/platform';
import type { RoomsConfig } from '../config';
import { acceptedFrom, idempotencyKey, recorderTiming, supersedes, type AcceptedMessage, type RecorderTiming } from './idempotency';

/** Attempts to write one record when other writers keep changing the key under it. */
const WRITE_ATTEMPTS = 5;
/** While catching up at start-up, progress is logged this often. */
const PROGRESS_LOG_MS = 5000;

/**
 * Writes the message-id record (KV `ns_msgids`) of every message stored on `…chat.room.*.msg`,
 * through the durable consumer `rooms-message-ids` shared by every rooms replica. The record is
 * derived from the stream and a message is acked only once its record is written, so no crash
 * can lose one: whatever a dead replica had not acked is handed out again after the ack wait,
 * and a restarted consumer goes on from its ack floor. This is the only writer of the bucket.
 *
 * Until the records have caught up, a retry that comes after the stream's duplicate window
 * would be stored again. So rooms does not take requests before everything stored at start-up
 * is recorded, and `fresh()` tells the send path when the recorder has fallen more than
 * `maxLagMs` behind (KV down, a stuck consumer): sends are then refused as UNAVAILABLE rather
 * than risk a second copy. The lag is exported as `rooms_message_id_record_lag_seconds`.
 */
@Injectable()
export class MessageIdRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(MessageIdRecorder.name);
  readonly timing: RecorderTiming;
  private records!: KvBucket;
  private consumption: Consumption | null = null;
  private poller: NodeJS.Timeout | null = null;
  /** Every message stored before this time (ms since epoch) has its record; 0 until caught up. */
  private recordedBefore = 0;
  private lagLogged = false;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: RoomsConfig,
    metrics: MetricsRegistry,
    health: HealthRegistry,
  ) {
    this.timing = recorderTiming(config.MESSAGE_DEDUP_WINDOW_MS);
    const lag = () => this.lagMs();
    new Gauge({
      name: 'rooms_message_id_record_lag_seconds',
      help: 'Age of the oldest stored message whose message-id record is not yet written (0: all written)',
      registers: [metrics.registry],
      collect() {
        this.set(lag() / 1000);
      },
    });
    health.register('message-id-records', () => this.fresh() && (this.consumption?.healthy() ?? false));
  }

  async onApplicationBootstrap(): Promise<void> {
    // Records expire with the bucket's max age (NATS 2.9 has no per-message TTL; 2.11's would
    // let a record carry its own). Every replica sets the same age from its config at start-up.
    this.records = await this.js.kv(this.s.kv.messageIds, { history: 1, ttl: this.config.MESSAGE_ID_TTL_HOURS * 3_600_000 });
    const target = await this.js.lastSeq(this.s.streams.chat.name);
    const startedAt = Date.now();
    this.consumption = await this.js.consumeDurable(
      {
        stream: this.s.streams.chat.name,
        durable: this.s.consumers.messageIdRecorder,
        filterSubject: this.s.chat.allRoomMessages,
        ackWaitMs: this.timing.ackWaitMs,
      },
      (batch) => this.recordBatch(batch),
    );
    // No time limit: a replica that cannot write records must not take sends (its readiness
    // stays false and the launcher or orchestrator reports it).
    let loggedAt = startedAt;
    for (;;) {
      const oldest = await this.oldestUnrecorded().catch(() => ({ seq: 0, time: 0 }));
      if (!oldest || oldest.seq > target) break;
      if (Date.now() - loggedAt >= PROGRESS_LOG_MS) {
        loggedAt = Date.now();
        this.log.log({ msg: 'recording message ids before taking requests', recordedUpTo: oldest.seq - 1, target });
      }
      await sleep(this.timing.pollMs);
    }
    this.recordedBefore = startedAt;
    this.log.log({ msg: 'message-id records caught up', target, tookMs: Date.now() - startedAt });
    this.schedulePoll();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.poller) clearTimeout(this.poller);
    this.poller = null;
    await this.consumption?.stop();
  }

  /** ms between now and the oldest stored message without a record, as of the last poll. */
  lagMs(now = Date.now()): number {
    return this.recordedBefore === 0 ? Number.POSITIVE_INFINITY : Math.max(0, now - this.recordedBefore);
  }

  /** false while messages older than maxLagMs may be unrecorded: then nothing may be appended. */
  fresh(now = Date.now()): boolean {
    return this.lagMs(now) <= this.timing.maxLagMs;
  }

  /**
   * A mark to check with `assertFresh` before appending: taken before the send's record lookup,
   * so a message recorded only after the lookup missed it still counts as unrecorded.
   */
  mark(): number {
    return this.recordedBefore;
  }

  /** Throws UNAVAILABLE when records may be missing for messages older than maxLagMs (see mark). */
  assertFresh(mark: number, key: string): void {
    const lag = mark === 0 ? Number.POSITIVE_INFINITY : Date.now() - mark;
    if (lag <= this.timing.maxLagMs) return;
    this.log.warn({ msg: 'send refused: message-id records are behind', key, lagMs: lag, maxLagMs: this.timing.maxLagMs });
    throw new ChatError('UNAVAILABLE', 'the server is catching up; retry with the same clientMsgId');
  }

  /**
   * Writes the records of one batch; rejects (the batch is redelivered) when any write fails.
   * Of several messages with one key only the last can win, so only it is written. Other events
   * have no key and are passed over; an unreadable one is logged (history dead-letters it).
   */
  async recordBatch(batch: Delivered[]): Promise<void> {
    const latest = new Map<string, AcceptedMessage>();
    for (const d of batch) {
      const decoded = decodeChatEvent(d.data);
      // Edits, reactions and the other events of a room's messages share the filtered subjects
      // and have no key: passed over without a word (a warning each flooded the log).
      if (decoded.ok && decoded.event.type !== 'MessagePosted') continue;
      const accepted = acceptedFrom(d.data, d.seq);
      if (!decoded.ok || decoded.event.type !== 'MessagePosted' || !accepted) {
        this.log.warn({ msg: 'unreadable MessagePosted; no message-id record', position: d.seq, subject: d.subject });
        continue;
      }
      const p = decoded.event.payload;
      const key = idempotencyKey(p.roomId, p.senderId, p.clientMsgId);
      const prior = latest.get(key);
      if (!prior || prior.position < accepted.position) latest.set(key, accepted);
    }
    await Promise.all([...latest].map(([key, accepted]) => this.record(key, accepted)));
  }

  /**
   * Put-if-newer: reads the key's record and writes only when `supersedes` allows, with the
   * revision read (create when absent, update otherwise), so a concurrent writer (another
   * replica handed a redelivered batch) is never overwritten blindly: a conflict reads again.
   * Almost every key is new (a retry's key already has its record), so a create comes first:
   * one round trip per message instead of two; it fails only where a record exists (or the
   * write failed), and then the read-compare-write below decides.
   */
  private async record(key: string, accepted: AcceptedMessage): Promise<void> {
    let lastError: unknown;
    try {
      await this.records.create(key, encodeJson(accepted));
      return;
    } catch (err) {
      lastError = err;
    }
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await this.records.get(key);
      let existing: AcceptedMessage | null = null;
      if (current?.operation === 'PUT' && current.value.length) {
        try {
          existing = decodeJson(current.value) as AcceptedMessage;
        } catch {
          existing = null; // unreadable: written over
        }
      }
      if (!supersedes(existing, accepted)) return;
      try {
        if (current) await this.records.update(key, encodeJson(accepted), current.revision);
        else await this.records.create(key, encodeJson(accepted));
        return;
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`could not write the message-id record of position ${accepted.position}: ${String(lastError)}`);
  }

  /**
   * The first message on the consumer's subjects after its ack floor (null: none), with the time
   * it was accepted. Messages after it may be acked already; counting from it overstates the lag
   * by at most one batch, never understates it.
   */
  private async oldestUnrecorded(): Promise<{ seq: number; time: number } | null> {
    const floor = await this.js.ackFloor(this.s.streams.chat.name, this.s.consumers.messageIdRecorder);
    if (floor === null) throw new Error('message-id recorder consumer not found');
    const m = await this.js.nextOnSubject(this.s.streams.chat.name, this.s.chat.allRoomMessages, floor + 1);
    if (!m) return null;
    const accepted = acceptedFrom(m.data, m.seq);
    // Not a message: it is passed over at once, so its age says nothing about the records.
    return { seq: m.seq, time: accepted ? Date.parse(accepted.time) : Date.now() };
  }

  private schedulePoll(): void {
    this.poller = setTimeout(() => void this.poll(), this.timing.pollMs);
    this.poller.unref();
  }

  /** One progress reading; a failed one leaves the old mark, so the lag grows until one succeeds. */
  private async poll(): Promise<void> {
    const startedAt = Date.now();
    try {
      const oldest = await this.oldestUnrecorded();
      this.recordedBefore = oldest ? Math.min(startedAt, oldest.time) : startedAt;
    } catch (err) {
      this.log.warn({ msg: 'could not read the message-id recorder progress', error: String(err) });
    }
    const lag = this.lagMs();
    if (lag > this.timing.maxLagMs && !this.lagLogged) {
      this.lagLogged = true;
      this.log.error({
        msg: 'message-id records are behind; sends are refused until they catch up',
        lagMs: lag,
        maxLagMs: this.timing.maxLagMs,
      });
    } else if (lag <= this.timing.maxLagMs && this.lagLogged) {
      this.lagLogged = false;
      this.log.log({ msg: 'message-id records caught up again; sends accepted', lagMs: lag });
    }
    if (this.poller) this.schedulePoll();
  }
}
