import { createHash } from 'node:crypto';
import { ChatError } from '@chat/contracts';
import { decodeJson, encodeJson, type KvBucket } from '@chat/messaging';

/**
 * A change of one key's list of attempt times: the new list (null: leave it as it is) and what
 * the caller learns. Pure: it may run more than once when another gateway changed the key meanwhile.
 */
export type ListChange<T> = (list: number[]) => { list: number[] | null; result: T };

/** Lists of attempt times (epoch ms) by key, changed one key at a time, atomically. */
export interface AttemptLists {
  modify<T>(key: string, change: ListChange<T>): Promise<T>;
}

/** In one process: for unit tests (unbounded; the gateway keeps its lists in NATS KV). */
export class MemoryAttemptLists implements AttemptLists {
  private readonly lists = new Map<string, number[]>();
  async modify<T>(key: string, change: ListChange<T>): Promise<T> {
    const { list, result } = change([...(this.lists.get(key) ?? [])]);
    if (list) this.lists.set(key, list);
    return result;
  }
}

/** Tries of one change before giving up (UNAVAILABLE): each conflict means another attempt on the key got in first. */
const MAX_TRIES = 100;

const unavailable = () => new ChatError('UNAVAILABLE', 'the account store is not reachable; try again');

/**
 * The lists in a NATS KV bucket that every gateway shares, so that a limit counts the attempts
 * a client makes on all of them (not N times the limit behind a load balancer). One key per
 * list, its value the JSON array of times; each change is a compare-and-set on the key's
 * revision (`create` for a new key), re-read and re-applied when another gateway changed it
 * first. Keys are hashed (client addresses hold `:` and `/`, which KV keys may not, and the
 * bucket then holds no addresses). Lists are never deleted, only emptied: the bucket's max age
 * (the longest window) removes a key whose last write is older than every window.
 */
export class KvAttemptLists implements AttemptLists {
  private bucket?: Promise<KvBucket>;

  constructor(private readonly open: () => Promise<KvBucket>) {}

  async modify<T>(key: string, change: ListChange<T>): Promise<T> {
    const kv = await (this.bucket ??= this.open().catch((err) => {
      this.bucket = undefined;
      throw err;
    }));
    const kvKey = `l.${createHash('sha256').update(key).digest('base64url')}`;
    for (let i = 0; i < MAX_TRIES; i++) {
      let entry;
      try {
        entry = await kv.get(kvKey);
      } catch {
        throw unavailable();
      }
      const current = entry?.operation === 'PUT' ? parseList(entry.value) : [];
      const { list, result } = change(current);
      if (!list) return result;
      try {
        if (entry) await kv.update(kvKey, encodeJson(list), entry.revision);
        else await kv.create(kvKey, encodeJson(list));
        return result;
      } catch {
        // Most likely another gateway wrote the key since it was read: read it again. (Were
        // NATS down, the next get fails and the answer is UNAVAILABLE.)
      }
    }
    throw unavailable();
  }
}

function parseList(value: Uint8Array): number[] {
  try {
    const v = decodeJson(value);
    return Array.isArray(v) ? v.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)) : [];
  } catch {
    return [];
  }
}
