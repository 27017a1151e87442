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
}

/**
 * Opens a KV bucket, creating it when missing (idempotent). nats.js only applies options when
 * it creates the bucket; a `ttl` given here is also applied to an existing bucket (its backing
 * stream's max age), so changing the configured TTL takes effect on the next start-up.
 */
export async function openKv(
  kvm: Kvm,
  jsm: () => Promise<JetStreamManager>,
  log: Log,
  bucket: string,
  opts: KvBucketOptions,
): Promise<KvBucket> {
  const kv = await kvm.create(bucket, opts satisfies Partial<KvOptions>);
  if (opts.ttl !== undefined) {
    const manager = await jsm();
    const stream = `KV_${bucket}`;
    const info = await manager.streams.info(stream);
    const maxAge = opts.ttl * 1_000_000;
    if (info.config.max_age !== maxAge) {
      log('info', 'changing the max age of a KV bucket', { bucket, fromMs: info.config.max_age / 1_000_000, toMs: opts.ttl });
      // The server refuses a duplicate window longer than the max age.
      const duplicateWindow = maxAge > 0 ? Math.min(info.config.duplicate_window ?? maxAge, maxAge) : info.config.duplicate_window;
      await manager.streams.update(stream, { ...info.config, max_age: maxAge, duplicate_window: duplicateWindow });
    }
  }
  return kv;
}
