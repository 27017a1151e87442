import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PINO } from '@chat/platform';
import type { Logger } from 'pino';
import { HistoryStore } from '../store/history.store';
import { searchVector } from './tokenize';

/** Rows given a search vector per statement (one short UPDATE each). */
export const BACKFILL_BATCH = 1000;
/** Pause between two batches, so the backfill never crowds out the projection and the reads. */
const PAUSE_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BackfillOptions {
  batch?: number;
  pauseMs?: number;
  /** Progress after each batch (rows filled so far, of those that needed it at the start). */
  progress?: (p: { filled: number; total: number; position: number }) => void;
  /** Checked between batches: true ends the backfill early (the next start goes on from there). */
  stopping?: () => boolean;
}

/**
 * Gives a search vector to the messages stored before the MessageLifecycle migration (their
 * `search` is NULL, so search never found them). The vector comes from the JavaScript tokenizer
 * (tokenize.ts), so this cannot be SQL in a migration: it is a background job of the history
 * service. It walks messages_search_backfill_idx (a partial index of exactly the live rows with
 * text and no vector) by position, `batch` rows at a time; once done that index is empty and a
 * start costs one probe. One replica at a time (a session advisory lock per schema); the
 * others skip. The UPDATE fills only rows still without a vector and not deleted, so an edit or
 * a deletion projected meanwhile wins. Resolves the rows filled, or null when another replica
 * holds the lock.
 */
export async function backfillSearch(store: HistoryStore, opts: BackfillOptions = {}): Promise<number | null> {
  const batch = opts.batch ?? BACKFILL_BATCH;
  const s = store.schema;
  const key = `chat.history.search-backfill:${s}`;
  return store.read(async (qr) => {
    const [{ locked }]: Array<{ locked: boolean }> = await qr.query(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [
      key,
    ]);
    if (!locked) return null;
    try {
      const need = `search IS NULL AND deleted_at IS NULL AND body <> ''`;
      const [{ n }]: Array<{ n: string }> = await qr.query(`SELECT count(*) AS n FROM ${s}.messages WHERE ${need}`);
      const total = Number(n);
      let filled = 0;
      let after = 0;
      while (total > 0 && !opts.stopping?.()) {
        const rows: Array<{ position: string; body: string }> = await qr.query(
          `SELECT position, body FROM ${s}.messages WHERE ${need} AND position > $1 ORDER BY position LIMIT $2`,
          [after, batch],
        );
        if (!rows.length) break;
        const [, updated]: [unknown, number] = await qr.query(
          `UPDATE ${s}.messages m SET search = v.search::tsvector
             FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(position, body, search)
            WHERE m.position = v.position AND m.body = v.body AND m.search IS NULL AND m.deleted_at IS NULL`,
          [rows.map((r) => r.position), rows.map((r) => r.body), rows.map((r) => searchVector(r.body))],
        );
        filled += updated;
        after = Number(rows[rows.length - 1].position);
        opts.progress?.({ filled, total, position: after });
        if (rows.length < batch) break;
        await sleep(opts.pauseMs ?? PAUSE_MS);
      }
      return filled;
    } finally {
      await qr.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
    }
  });
}

/** Runs the search backfill once in the background after start-up, logging its progress. */
@Injectable()
export class SearchBackfill implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running: Promise<unknown> | null = null;
  private stopping = false;
  private loggedAt = 0;

  constructor(
    private readonly store: HistoryStore,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = backfillSearch(this.store, {
      stopping: () => this.stopping,
      // At most one line every 10 s: a large table takes many batches.
      progress: (p) => {
        if (Date.now() - this.loggedAt < 10_000 && p.filled < p.total) return;
        this.loggedAt = Date.now();
        this.logger.info(p, 'search backfill: giving messages stored before search their vectors');
      },
    })
      .then((filled) => {
        if (filled === null) this.logger.info('search backfill: another replica is running it');
        else if (filled > 0) this.logger.info({ filled }, 'search backfill finished');
      })
      // Not fatal: search misses the old rows until the next start tries again.
      .catch((err: unknown) => this.logger.error({ error: String(err) }, 'search backfill failed; the next start retries'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}
