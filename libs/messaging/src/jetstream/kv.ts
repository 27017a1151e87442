import type { JetStreamManager } from '@nats-io/jetstream';
import type { Kvm, KvOptions } from '@nats-io/kv';
import type { Log } from './common';

/** One value of a key as the bucket holds it. */
export interface KvRecord {
  value: Uint8Array;
  /** The bucket's revision of this value (its stream sequence). */
  revision: number;
  /** DEL / PURGE: the key was deleted, `value` is empty. */
  operation: 'PUT' | 'DEL' | 'PURGE';
}

/** What services do with a KV bucket: the subset of nats.js's `KV` they rely on. */
export interface KvBucket {
  get(key: string): Promise<KvRecord | null>;
  /** Stores the value only if the key has no value: the atomic uniqueness check. Resolves the revision. */
  create(key: string, value: Uint8Array): Promise<number>;
  put(key: string, value: Uint8Array): Promise<number>;
  /** Stores the value only if the key's last revision is still `previousRevision`. Resolves the new revision. */
  update(key: string, value: Uint8Array, previousRevision: number): Promise<number>;
  /** With `previousSeq`: only if the key's last revision is still that one. */
  delete(key: string, opts?: { previousSeq?: number }): Promise<void>;
  /**
   * The keys that have a value, matching a subject-style filter (`a.*`, `a.>`; one filter on
   * NATS 2.9). Filtered by the server, so listing one user's keys does not read the bucket.
   */
  keys(filter?: string): Promise<AsyncIterable<string>>;
  /** Rejects when the bucket does not answer (a readiness probe). */
  status(): Promise<unknown>;
}

export interface KvBucketOptions {
  /** Revisions kept per key. @default 1 */
  history?: number;
  /** Max age of every record in ms (0: forever); applied to an existing bucket too. */
  ttl?: number;
  /** Copies of the bucket in a JetStream cluster (1-5); applied to an existing bucket too. @default 1 */
  replicas?: number;
}

/**
 * Opens a KV bucket, creating it when missing (idempotent). nats.js only applies options when
 * it creates the bucket; a `ttl` or `replicas` given here is also applied to an existing bucket
 * (its backing stream's max age and replica count), so changing the configured TTL or
 * NATS_REPLICAS takes effect on the next start-up (the server copies a bucket to its new
 * replicas in the background when the count grows).
 */
export async function openKv(
  kvm: Kvm,
  jsm: () => Promise<JetStreamManager>,
  log: Log,
  bucket: string,
  opts: KvBucketOptions,
): Promise<KvBucket> {
  const kv = await kvm.create(bucket, opts satisfies Partial<KvOptions>);
  if (opts.ttl === undefined && opts.replicas === undefined) return kv;
  const manager = await jsm();
  const stream = `KV_${bucket}`;
  const { config } = await manager.streams.info(stream);
  const wanted = { ...config };
  if (opts.ttl !== undefined && config.max_age !== opts.ttl * 1_000_000) {
    const maxAge = opts.ttl * 1_000_000;
    log('info', 'changing the max age of a KV bucket', { bucket, fromMs: config.max_age / 1_000_000, toMs: opts.ttl });
    // The server refuses a duplicate window longer than the max age.
    wanted.max_age = maxAge;
    wanted.duplicate_window = maxAge > 0 ? Math.min(config.duplicate_window ?? maxAge, maxAge) : config.duplicate_window;
  }
  if (opts.replicas !== undefined && config.num_replicas !== opts.replicas) {
    log('info', 'changing the replica count of a KV bucket', { bucket, from: config.num_replicas, to: opts.replicas });
    wanted.num_replicas = opts.replicas;
  }
  if (wanted.max_age !== config.max_age || wanted.num_replicas !== config.num_replicas) await manager.streams.update(stream, wanted);
  return kv;
}
