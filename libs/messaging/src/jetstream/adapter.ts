import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StreamSpec } from '../streams';
import { append, type AppendOptions, type AppendResult } from './append';
import { retryTransient, silent, type Delivered, type Log } from './common';
import { DurableConsumers, type Consumption, type DurableConsumerSpec } from './durable-consumer';
import { ensureStreams } from './ensure-streams';
import { openKv, type KvBucket, type KvBucketOptions } from './kv';
import { follow, type Following } from './ordered-follow';
import { readOne } from './read';
import { replay, type Replaying, type ReplaySpec } from './replay';

/**
 * The one JetStream adapter every service uses: streams declared once and ensured at start-up,
 * appends that wait for the server's ack, durable pull consumers that ack only after the
 * handler's work is committed, ordered replays for rebuilding in-memory state, and KV buckets.
 * Each concern lives in its own file; this class only holds the connection's JetStream
 * handles, which stay private: callers get these methods, never the raw clients.
 */
export class JetStreamAdapter {
  private readonly js: JetStreamClient;
  private jsmPromise?: Promise<JetStreamManager>;
  private readonly kvm: Kvm;
  private readonly durables: DurableConsumers;

  /**
   * @param opts.replicas copies of every stream and KV bucket this adapter creates or opens, in
   *   a JetStream cluster (NATS_REPLICAS); applied to existing ones too. Consumers follow their
   *   stream's count. @default 1
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Log = silent,
    private readonly opts: { replicas?: number } = {},
  ) {
    this.js = jetstream(nc);
    this.kvm = new Kvm(nc);
    this.durables = new DurableConsumers(this.js, this.manager, log);
  }

  /** Created on first use and shared: every call needs the server's JetStream API. */
  private readonly manager = (): Promise<JetStreamManager> => {
    // jetstreamManager() first asks the server for the account's JetStream info, which times
    // out while a cluster elects its meta leader: a failed attempt is forgotten, so the next
    // call asks again instead of failing forever.
    const p = (this.jsmPromise ??= jetstreamManager(this.nc));
    p.catch(() => {
      if (this.jsmPromise === p) this.jsmPromise = undefined;
    });
    return p;
  };

  /** See ensure-streams.ts: create or update every stream, race-safe across replicas. */
  async ensureStreams(specs: StreamSpec[]): Promise<void> {
    const replicas = this.opts.replicas;
    const wanted = replicas === undefined ? specs : specs.map((s) => ({ ...s, num_replicas: replicas }));
    await retryTransient('ensuring the streams', this.log, async () => ensureStreams(await this.manager(), wanted, this.log));
  }

  /** See append.ts: rejects with `AppendRefused` or `AppendOutcomeUnknown` only. */
  append(subject: string, payload: unknown, opts: AppendOptions): Promise<AppendResult> {
    return append(this.js, subject, payload, opts);
  }

  /** See kv.ts. */
  kv(bucket: string, opts: KvBucketOptions = {}): Promise<KvBucket> {
    const options = this.opts.replicas === undefined ? opts : { replicas: this.opts.replicas, ...opts };
    return retryTransient(`opening KV bucket ${bucket}`, this.log, () => openKv(this.kvm, this.manager, this.log, bucket, options));
  }

  /** See durable-consumer.ts. */
  consumeDurable(spec: DurableConsumerSpec, handler: (batch: Delivered[]) => Promise<void>): Promise<Consumption> {
    return this.durables.consume(spec, handler);
  }

  /** The durable consumer's ack floor (stream sequence); null when it does not exist or cannot be read. */
  ackFloor(stream: string, durable: string): Promise<number | null> {
    return this.durables.ackFloor(stream, durable);
  }

  /** The stream's last sequence (0 when empty): everything stored so far is at or below it. */
  async lastSeq(stream: string): Promise<number> {
    return (await this.bounds(stream)).last;
  }

  /** The stream's oldest stored sequence (last + 1 when it holds nothing) and its last one, read together. */
  async bounds(stream: string): Promise<{ first: number; last: number }> {
    const { state } = await (await this.manager()).streams.info(stream);
    return { first: state.first_seq, last: state.last_seq };
  }

  /** See replay.ts: a stream's messages in big batches, in order, from a sequence (rebuilding a projection). */
  replay(spec: ReplaySpec, handler: (batch: Delivered[]) => Promise<void>): Promise<Replaying> {
    return replay(this.js, spec, handler);
  }

  /** See ordered-follow.ts (`since`: start at that time rather than at the beginning). */
  follow(stream: string, filterSubject: string, handler: (m: Delivered) => void, since?: Date): Promise<Following> {
    return retryTransient(`following ${stream}`, this.log, () => follow(this.js, this.log, stream, filterSubject, handler, since));
  }

  /**
   * Removes the stream's messages on subjects matching `filter` below sequence `below` (the
   * retention trim); messages on other subjects stay. Resolves how many were removed.
   */
  async purge(stream: string, opts: { filter: string; below: number }): Promise<number> {
    const jsm = await this.manager();
    return (await jsm.streams.purge(stream, { filter: opts.filter, seq: opts.below })).purged;
  }

  /** Reads the last message stored on a subject (e.g. a user's last presence). */
  async lastOnSubject(stream: string, subject: string): Promise<Delivered | null> {
    return readOne(await this.manager(), stream, { last_by_subj: subject });
  }

  /** Reads the first message on a subject at or after a stream sequence (null: none yet). */
  async nextOnSubject(stream: string, subject: string, fromSeq: number): Promise<Delivered | null> {
    return readOne(await this.manager(), stream, { next_by_subj: subject, seq: fromSeq });
  }
}
