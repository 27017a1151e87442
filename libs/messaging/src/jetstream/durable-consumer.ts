import {
  AckPolicy,
  DeliverPolicy,
  type Consumer,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { ApiErrorCode, isApiError, retryTransient, toDelivered, type Delivered, type Log } from './common';

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
  /**
   * Time the server waits for an ack before redelivering. While the handler works on a batch,
   * in-progress acks (`+WPI`) restart this clock every third of it, so a short ack wait (a few
   * seconds: how long a crashed instance's batch waits before another instance gets it) does not
   * redeliver batches that are merely long. @default 30_000
   */
  ackWaitMs?: number;
  /**
   * Longest a batch is kept alive with in-progress acks, in ms; past it they stop, the server
   * redelivers the batch after the ack wait (to another replica, or to this one once its handler
   * ends), and the consumer counts as stuck (`Consumption.busyMs`). @default 60_000
   */
  maxWorkingMs?: number;
  /**
   * Where a consumer created for the first time starts, as a stream sequence; overrides
   * `startAt`. Read when the consumer is created only (e.g. a projection continuing where a
   * rebuild left off: its checkpoint + 1).
   */
  startSeq?: () => Promise<number>;
  /** @default 4096 */
  maxAckPending?: number;
  /**
   * Where a consumer created for the first time starts: every stored message ('all', for
   * projections), or only messages stored from then on ('new', for forwarders whose readers
   * want live events, not the past). Once created, it goes on from its ack floor either way.
   * @default 'all'
   */
  startAt?: 'all' | 'new';
}

export interface Consumption {
  stop(): Promise<void>;
  /** true while the loop is running and its last fetch succeeded. */
  healthy(): boolean;
  /** How long the batch now in the handler has been there, in ms; null between batches. */
  busyMs(): number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The batch in the handler, shared by the loop and `Consumption.busyMs`. */
interface Busy {
  /** When the batch now in the handler got there (ms since epoch); null between batches. */
  since: number | null;
  ackWaitMs: number;
  maxWorkingMs: number;
}

/**
 * Marks `msgs` as in progress (`+WPI`, which restarts their ack wait on the server) every third
 * of the ack wait while the handler works on them, for at most `maxWorkingMs`; returns the
 * function that stops it. So the ack wait can be short (a crashed instance's batch is handed to
 * another one after a few seconds) while a long batch of a live instance is not redelivered.
 * The first mark goes out after a third of the ack wait: most batches end before it.
 */
function keepWorking(msgs: JsMsg[], busy: Busy): () => void {
  const since = Date.now();
  busy.since = since;
  const every = Math.max(100, Math.floor(busy.ackWaitMs / 3));
  const timer = setInterval(() => {
    if (Date.now() - since > busy.maxWorkingMs) return clearInterval(timer);
    for (const m of msgs) m.working();
  }, every);
  return () => {
    clearInterval(timer);
    busy.since = null;
  };
}

/**
 * Durable pull consumers that ack only after the handler's work is committed. Created or
 * updated to the spec on start, and re-created when deleted while running.
 */
export class DurableConsumers {
  constructor(
    private readonly js: JetStreamClient,
    private readonly manager: () => Promise<JetStreamManager>,
    private readonly log: Log,
  ) {}

  /**
   * The stream sequence up to which every message has been acked by the durable consumer (or
   * lies before the sequence it was created at); null when the consumer does not exist (yet) or cannot be read.
   */
  async ackFloor(stream: string, durable: string): Promise<number | null> {
    const jsm = await this.manager();
    const info = await jsm.consumers.info(stream, durable).catch(() => null);
    if (!info) return null;
    // The server reports 0 until the first ack; for a consumer created at a start sequence,
    // everything before that start is done from the start.
    const { deliver_policy, opt_start_seq } = info.config;
    const start = deliver_policy === DeliverPolicy.StartSequence && opt_start_seq ? opt_start_seq - 1 : 0;
    return Math.max(info.ack_floor.stream_seq, start);
  }

  private async ensureConsumer(spec: DurableConsumerSpec): Promise<void> {
    const jsm = await this.manager();
    const config: Partial<ConsumerConfig> = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: spec.startAt === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
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
      if (isApiError(err, ApiErrorCode.consumerNotFound)) {
        const start = spec.startSeq ? await spec.startSeq() : 1;
        // Sequence 1 is the same as 'all'; asking for it explicitly would also work on an empty stream.
        if (start > 1) Object.assign(config, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
        await jsm.consumers.add(spec.stream, config);
        this.log('info', 'durable consumer created', { durable: spec.durable, startSeq: start });
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
  async consume(spec: DurableConsumerSpec, handler: (batch: Delivered[]) => Promise<void>): Promise<Consumption> {
    await retryTransient(`creating durable consumer ${spec.durable}`, this.log, () => this.ensureConsumer(spec));
    let running = true;
    let healthy = true;
    const batch = spec.batch ?? 256;
    const lingerMs = spec.lingerMs ?? 0;
    const busy: Busy = { since: null, ackWaitMs: spec.ackWaitMs ?? 30_000, maxWorkingMs: spec.maxWorkingMs ?? 60_000 };
    const loop = (async () => {
      let backoff = 100;
      while (running) {
        try {
          const consumer = await this.js.consumers.get(spec.stream, spec.durable);
          while (running) {
            const failed = await this.drainPull(spec.durable, consumer, batch, lingerMs, handler, backoff, busy);
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
      busyMs: () => (busy.since === null ? null : Date.now() - busy.since),
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
    busy: Busy,
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
    // A failed pull (409 "server shutdown" when NATS stops, "heartbeats missed") rejects
    // `reader` while the handler may still be working on a batch, long before the `await
    // reader` below: without a handler attached now, Node counts it as an unhandled rejection
    // and the process exits (a NATS restart killed the history service this way). The await
    // below still sees the error.
    reader.catch(() => undefined);
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
      const stopWorking = keepWorking(msgs, busy);
      try {
        await handler(msgs.map(toDelivered));
        stopWorking();
        for (const m of msgs) m.ack();
      } catch (err) {
        stopWorking();
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
}
