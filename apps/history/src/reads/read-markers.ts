import { decodeJson, encodeJson, type KvBucket } from '@chat/messaging';

/** A read marker as the KV bucket holds it. */
export interface ReadMarker {
  lastRead: number;
  /** When it last moved (ISO-8601). */
  time: string;
}

/** The outcome of moving a marker: where it stands now, and whether this call moved it. */
export interface MarkerMove {
  lastRead: number;
  moved: boolean;
  time: string;
}

const isMarker = (v: unknown): v is ReadMarker =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as ReadMarker).lastRead) && typeof (v as ReadMarker).time === 'string';

/** The KV bucket did not answer (NATS down or slow): the caller answers UNAVAILABLE. */
export class MarkersUnavailable extends Error {
  constructor(cause: unknown) {
    super(`read markers unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'MarkersUnavailable';
  }
}

/**
 * Read markers in the KV bucket `<ns>_reads`, key `<userId>.<roomId>`, shared by every device
 * and replica. A marker only moves forward: each move is a compare-and-set on the key's
 * revision (create when there is none), retried on a lost race after reading the winner's
 * value, so of two devices marking at once the higher position stays, whichever writes last.
 */
export class ReadMarkers {
  /**
   * Lost races retried before giving up. Each loss is another call's write, and a call writes
   * once, so a move loses at most once per concurrent move of the same marker: 64 covers far
   * more devices than one user has.
   */
  static readonly maxAttempts = 64;

  constructor(private readonly kv: KvBucket) {}

  static key(userId: string, roomId: string): string {
    return `${userId}.${roomId}`;
  }

  async get(userId: string, roomId: string): Promise<ReadMarker | null> {
    return (await this.read(ReadMarkers.key(userId, roomId)))?.marker ?? null;
  }

  /**
   * The user's markers in these rooms: one get per room, all at once on the one connection.
   * Measured (reads.int.spec.ts) at about 20 ms for 200 rooms on the test machine, so a key
   * watch over `<userId>.>` (which needs an ordered consumer per call) is not worth it.
   */
  async many(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    const got = await Promise.all(roomIds.map(async (roomId) => [roomId, (await this.get(userId, roomId))?.lastRead ?? 0] as const));
    return new Map(got.filter(([, lastRead]) => lastRead > 0));
  }

  /** Moves the marker to `position` if that is ahead of it; never back. */
  async advance(userId: string, roomId: string, position: number, now: Date): Promise<MarkerMove> {
    const key = ReadMarkers.key(userId, roomId);
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(key);
      if (current && current.marker.lastRead >= position) return { ...current.marker, moved: false };
      const marker: ReadMarker = { lastRead: position, time: now.toISOString() };
      try {
        if (current) await this.kv.update(key, encodeJson(marker), current.revision);
        else await this.kv.create(key, encodeJson(marker));
        return { ...marker, moved: true };
      } catch (err) {
        // Somebody else wrote the key since it was read (wrong revision / key exists): read
        // again. Any other failure shows on that read (a bucket that does not answer).
        if (attempt >= ReadMarkers.maxAttempts) throw new MarkersUnavailable(err);
      }
    }
  }

  private async read(key: string): Promise<{ marker: ReadMarker; revision: number } | null> {
    const record = await this.kv.get(key).catch((err: unknown) => {
      throw new MarkersUnavailable(err);
    });
    if (!record || record.operation !== 'PUT') return null;
    const value = decodeJson(record.value);
    // A value that is not a marker (written by hand) counts as no marker; the next move replaces it.
    return isMarker(value)
      ? { marker: value, revision: record.revision }
      : { marker: { lastRead: 0, time: '' }, revision: record.revision };
  }
}
