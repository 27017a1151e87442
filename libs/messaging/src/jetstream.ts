import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { decodeJson, encodeJson } from './codec';
import type { StreamSpec } from './streams';

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
const silent: Log = () => undefined;

/** JetStream API error codes we act on (server `errors.json`). */
const ERR_STREAM_NOT_FOUND = 10059;
const ERR_CONSUMER_NOT_FOUND = 10014;
const ERR_WRONG_LAST_SEQUENCE = 10071;

export interface AppendOptions {
  /** `Nats-Msg-Id`: the stream drops a second append with the same id within its duplicate window. */
  msgId: string;
  /** Optimistic concurrency: append only if the subject's last sequence is this (0 = subject empty). */
  expectLastSubjectSequence?: number;
  headers?: Record<string, string>;
}

export interface AppendResult {
  /** Stream sequence of the stored message (of the original one when `duplicate`). */
  seq: number;
  duplicate: boolean;
}

/** The subject moved on since the caller read it; reload and decide again. */
export class WrongLastSequenceError extends Error {
  constructor(readonly subject: string) {
    super(`wrong last sequence on ${subject}`);
    this.name = 'WrongLastSequenceError';
  }
}

export interface Delivered {
  subject: string;
  /** Stream sequence. */
  seq: number;
  /** Parsed JSON, or undefined when the payload was not JSON (a poison message). */
  data: unknown;
  /** The payload bytes as stored, so that a poison message can be kept verbatim. */
  raw?: Uint8Array;
  redelivered: boolean;
  /** Messages still pending for the consumer after this one (0 = caught up). */
  pending: number;
}

export interface DurableConsumerSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** Most messages handed to the handler at once. @default 256 */
  batch?: number;
  /**
   * How long a batch may wait for more messages after its first one arrived, in ms. 0: each
   * group of messages that arrived together is handled at once (lowest latency). A little
   * lingering under steady traffic turns many one-message handler calls (one database
   * transaction each, for the projector) into a few larger ones. @default 0
   */
  lingerMs?: number;
  /** Time the server waits for an ack before redelivering. @default 30_000 */
  ackWaitMs?: number;
  /** @default 4096 */
  maxAckPending?: number;
}

export interface Consumption {
  stop(): Promise<void>;
  /** true while the loop is running and its last fetch succeeded. */
  healthy(): boolean;
}

function toDelivered(m: JsMsg): Delivered {
  return { subject: m.subject, seq: m.seq, data: decodeJson(m.data), raw: m.data, redelivered: m.redelivered, pending: m.info.pending };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The one JetStream adapter every service uses: streams declared once and ensured at start-up,
 * appends that wait for the server's ack, durable pull consumers that ack only after the
 * handler's work is committed, and ordered replays for rebuilding in-memory state.
 */
export class JetStreamAdapter {
  readonly js: JetStreamClient;
  private jsmPromise?: Promise<JetStreamManager>;
  private readonly kvm: Kvm;

  constructor(
    readonly nc: NatsConnection,
    private readonly log: Log = silent,
  ) {
    this.js = jetstream(nc);
    this.kvm = new Kvm(nc);
  }

  manager(): Promise<JetStreamManager> {
    this.jsmPromise ??= jetstreamManager(this.nc);
    return this.jsmPromise;
  }

  /**
   * Creates each stream, or updates it to the declared config; safe to run from every replica
   * at once. When two replicas start together both may see "not found" and both add: the loser
   * gets "already in use" or, on NATS 2.9, "subjects overlap with an existing stream" (the
   * winner's stream now owns the subjects). Either way the loser looks again and takes the
   * update path, so a race never fails a start-up while a real conflict (another stream really
   * owning these subjects) still does after the retries.
   */
  async ensureStreams(specs: StreamSpec[]): Promise<void> {
    const jsm = await this.manager();
    for (const spec of specs) {
      for (let attempt = 0; ; attempt++) {
        try {
          const info = await jsm.streams.info(spec.name);
          await jsm.streams.update(spec.name, { ...info.config, ...spec });
          break;
        } catch (err) {
          if (!(err instanceof JetStreamApiError && err.code === ERR_STREAM_NOT_FOUND)) throw err;
        }
        try {
          await jsm.streams.add(spec);
          break;
        } catch (addErr) {
          const raced = addErr instanceof JetStreamApiError && /already in use|overlap/i.test(addErr.message);
          if (!raced || attempt >= 3) throw addErr;
          this.log('debug', 'stream created concurrently; looking again', { stream: spec.name, attempt });
        }
      }
    }
  }

  /** Appends one event as JSON and waits for JetStream to store it. */
  async append(subject: string, payload: unknown, opts: AppendOptions): Promise<AppendResult> {
    let hdrs: MsgHdrs | undefined;
    if (opts.headers) {
      hdrs = natsHeaders();
      for (const [k, v] of Object.entries(opts.headers)) hdrs.set(k, v);
    }
    try {
      const ack = await this.js.publish(subject, encodeJson(payload), {
        msgID: opts.msgId,
        expect: opts.expectLastSubjectSequence === undefined ? undefined : { lastSubjectSequence: opts.expectLastSubjectSequence },
        headers: hdrs,
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === ERR_WRONG_LAST_SEQUENCE) throw new WrongLastSequenceError(subject);
      throw err;
    }
  }

  /**
   * Opens a KV bucket, creating it when missing (idempotent). nats.js only applies options when
   * it creates the bucket; a `ttl` given here is also applied to an existing bucket (its backing
   * stream's max age), so changing the configured TTL takes effect on the next start-up.
   */
  async kv(bucket: string, opts: Partial<KvOptions> = {}): Promise<KV> {
    const kv = await this.kvm.create(bucket, opts);
    if (opts.ttl !== undefined) {
      const jsm = await this.manager();
      const stream = `KV_${bucket}`;
      const info = await jsm.streams.info(stream);
      const maxAge = opts.ttl * 1_000_000;
      if (info.config.max_age !== maxAge) {
        this.log('info', 'changing the max age of a KV bucket', { bucket, fromMs: info.config.max_age / 1_000_000, toMs: opts.ttl });
        // The server refuses a duplicate window longer than the max age.
        const duplicateWindow = maxAge > 0 ? Math.min(info.config.duplicate_window ?? maxAge, maxAge) : info.config.duplicate_window;
        await jsm.streams.update(stream, { ...info.config, max_age: maxAge, duplicate_window: duplicateWindow });
      }
    }
    return kv;
  }

  private async ensureConsumer(spec: DurableConsumerSpec): Promise<void> {
    const jsm = await this.manager();
    const config = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: spec.filterSubject,
      ack_wait: (spec.ackWaitMs ?? 30_000) * 1_000_000,
      max_ack_pending: spec.maxAckPending ?? 4096,
    };
    try {
      const info = await jsm.consumers.info(spec.stream, spec.durable);
      const c = info.config;
      if (c.filter_subject !== config.filter_subject || c.ack_wait !== config.ack_wait || c.max_ack_pending !== config.max_ack_pending) {
        await jsm.consumers.update(spec.stream, spec.durable, {
          filter_subject: config.filter_subject,
          ack_wait: config.ack_wait,
          max_ack_pending: config.max_ack_pending,
        });
      }
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === ERR_CONSUMER_NOT_FOUND) {
        await jsm.consumers.add(spec.stream, config);
      } else {
        throw err;
      }
    }
  }

  /**
   * Runs a durable pull consumer. The handler gets up to `batch` messages at once; when it
   * resolves, all of them are acked; when it throws, none are (they come back after a short
   * delay), so the handler must commit atomically and tolerate redelivery. If the consumer is
   * deleted or the stream is re-created, the loop re-creates the consumer and goes on.
   */
  async consumeDurable(spec: DurableConsumerSpec, handler: (batch: Delivered[]) => Promise<void>): Promise<Consumption> {
    await this.ensureConsumer(spec);
    let running = true;
    let healthy = true;
    const batch = spec.batch ?? 256;
    const lingerMs = spec.lingerMs ?? 0;
    const loop = (async () => {
      let backoff = 100;
      while (running) {
        try {
          const consumer = await this.js.consumers.get(spec.stream, spec.durable);
          while (running) {
            const failed = await this.drainPull(spec.durable, consumer, batch, lingerMs, handler, backoff);
            healthy = true;
            backoff = failed ? Math.min(backoff * 2, 5000) : 100;
          }
        } catch (err) {
          if (!running) break;
          healthy = false;
          this.log('warn', 'consumer lost; re-creating', { durable: spec.durable, error: String(err) });
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
          try {
            await this.ensureConsumer(spec);
          } catch (e) {
            this.log('warn', 'consumer re-create failed', { durable: spec.durable, error: String(e) });
          }
        }
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
      healthy: () => running && healthy,
    };
  }

  /**
   * One pull of up to `batch` messages (open for at most 1 s), handled as it arrives. The pull is
   * read by its own task into a queue, so a slow handler never stalls the iterator (nats.js
   * ends a pull whose idle heartbeats go unread, as "heartbeats missed"). The handler gets the
   * messages that are queued when it is free, waiting up to `lingerMs` after the first one for
   * more while the pull is still open: under light traffic waiting for a full pull would delay
   * every message by up to 1 s, and handling each message alone would cost the projector one
   * transaction per message. When the handler throws, that batch and everything after it in
   * this pull is nak'd with a delay of `backoffMs` (at least until this pull has ended), so it
   * comes back in a later one. Resolves true when a batch failed; rejects when the pull itself failed.
   */
  private async drainPull(
    durable: string,
    consumer: Consumer,
    batch: number,
    lingerMs: number,
    handler: (batch: Delivered[]) => Promise<void>,
    backoffMs: number,
  ): Promise<boolean> {
    const pullEndsAt = Date.now() + 1000;
    const iter = await consumer.fetch({ max_messages: batch, expires: 1000 });
    // Nak'd messages must not come back into this same pull (they would be nak'd again at
    // once, round and round until it ends): their delay outlasts it.
    const retryDelay = () => Math.max(backoffMs, pullEndsAt - Date.now() + 100);
    const queue: JsMsg[] = [];
    let ended = false;
    // Resolves whoever waits in changed(): a message arrived or the pull ended.
    let wake = (): void => undefined;
    const changed = (ms?: number) =>
      new Promise<void>((resolve) => {
        const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const reader = (async () => {
      try {
        for await (const m of iter) {
          queue.push(m);
          wake();
        }
      } finally {
        ended = true;
        wake();
      }
    })();
    let failed = false;
    while (!ended || queue.length) {
      if (!queue.length) {
        await changed();
        continue;
      }
      if (failed) {
        for (const m of queue.splice(0)) m.nak(retryDelay());
        continue;
      }
      const firstAt = Date.now();
      while (!ended && queue.length < batch && Date.now() - firstAt < lingerMs) await changed(lingerMs - (Date.now() - firstAt));
      const msgs = queue.splice(0, batch);
      try {
        await handler(msgs.map(toDelivered));
        for (const m of msgs) m.ack();
      } catch (err) {
        const delay = retryDelay();
        this.log('error', 'consumer handler failed; messages will be redelivered', {
          durable,
          error: String(err),
          firstSeq: msgs[0].seq,
          retryInMs: delay,
        });
        for (const m of msgs) m.nak(delay);
        failed = true;
      }
    }
    await reader; // rethrows a failed pull (e.g. the consumer was deleted)
    return failed;
  }

  /**
   * Replays a stream (filtered to one subject pattern) from the start with an ordered consumer
   * and then keeps following it. `onCaughtUp` fires once the replay has reached the end of the
   * stream as it was when we started. Used to build in-memory state such as room membership.
   */
  async follow(
    stream: string,
    filterSubject: string,
    handler: (m: Delivered) => void,
  ): Promise<{ caughtUp: Promise<void>; stop: () => Promise<void> }> {
    const consumer = await this.js.consumers.get(stream, { filter_subjects: filterSubject, deliver_policy: DeliverPolicy.All });
    const info = await consumer.info(true);
    let resolveCaughtUp!: () => void;
    const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
    if (info.num_pending === 0) resolveCaughtUp();
    const messages = await consumer.consume();
    const done = (async () => {
      for await (const m of messages) {
        handler(toDelivered(m));
        if (m.info.pending === 0) resolveCaughtUp();
      }
    })().catch((err) => this.log('error', 'ordered consumer stopped', { stream, error: String(err) }));
    return {
      caughtUp,
      stop: async () => {
        await messages.close();
        await done;
      },
    };
  }

  /** Reads the last message stored on a subject (e.g. a user's last presence). */
  lastOnSubject(stream: string, subject: string): Promise<Delivered | null> {
    return this.getOne(stream, { last_by_subj: subject });
  }

  /** Reads the first message on a subject at or after a stream sequence (null: none yet). */
  nextOnSubject(stream: string, subject: string, fromSeq: number): Promise<Delivered | null> {
    return this.getOne(stream, { next_by_subj: subject, seq: fromSeq });
  }

  private async getOne(stream: string, query: { last_by_subj: string } | { next_by_subj: string; seq: number }): Promise<Delivered | null> {
    const jsm = await this.manager();
    try {
      const m = await jsm.streams.getMessage(stream, query);
      if (!m) return null;
      return { subject: m.subject, seq: m.seq, data: decodeJson(m.data), raw: m.data, redelivered: false, pending: 0 };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10037) return null; // no message found
      throw err;
    }
  }
}
