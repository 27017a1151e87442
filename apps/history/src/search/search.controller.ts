import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Limits, Rpc, type SearchPage, type SearchRpc } from '@chat/contracts';
import { PINO } from '@chat/platform';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/errors';
import { ProjectionProgress } from '../projection/progress';
import { RoomAccess } from '../projection/room-access';
import { parseQuery, toTsquery } from './query';
import { SearchQueries } from './search.store';
import { snippetOf } from './snippet';

/**
 * NATS adapter for message.search (docs/protocol.md §message.search): parses the query
 * (query.ts), reads the hits among the rooms the caller may read (search.store.ts) and cuts a
 * snippet with highlights from each body (snippet.ts).
 */
@Controller()
export class SearchController {
  constructor(
    private readonly search: SearchQueries,
    private readonly access: RoomAccess,
    private readonly progress: ProjectionProgress,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /** How long a search waits for the projection to reach the stream (and, with a roomId, the caller's room events). */
  static readonly catchUpWaitMs = 2000;

  /**
   * With a `roomId`, the caller is authorised as for history.page (membership read-your-writes,
   * then NOT_FOUND / FORBIDDEN). Every search then waits (bounded) for the projection to reach
   * what the stream held at the call, so a message the caller was just acknowledged is
   * findable; after the wait the hits are served as they stand (search spans many rooms, and a
   * result a moment old beats none). Unlike history.page no hole can be mistaken for "nothing
   * more": a search page never claims to list everything.
   */
  @MessagePattern(Rpc.historySearch)
  async find(@Payload() req: SearchRpc): Promise<SearchPage> {
    const query = parseQuery(req.query);
    if (!query) throw new ChatError('BAD_REQUEST', 'query has no word or character to look for');
    const limit = req.limit ?? Limits.searchPageDefault;
    const offset = req.offset ?? 0;
    const wait = SearchController.catchUpWaitMs;
    try {
      const streamWait = this.progress.streamCaughtUp(wait);
      streamWait.catch(() => undefined); // awaited below unless the caller is refused
      // null is "no room" as absent is (validation lets null through an optional field): it
      // must not reach the room's authorisation as an id (that failed INTERNAL, found by the fuzz).
      const roomId = req.roomId ?? undefined;
      if (roomId !== undefined) await this.access.authorise(roomId, req.userId);
      if (!(await streamWait))
        this.logger.debug({ userId: req.userId }, 'search: projection still behind the stream after the wait; serving as it stands');
      // One row more than asked tells whether another page exists.
      const rows = await this.search.search(toTsquery(query), {
        userId: req.userId,
        roomId,
        senderId: req.senderId,
        from: req.from,
        to: req.to,
        order: req.order ?? 'newest',
        offset,
        limit: limit + 1,
      });
      const next = offset + limit;
      return {
        hits: rows.slice(0, limit).map((r) => ({ ...r, ...snippetOf(r.message.body, query) })),
        nextOffset: rows.length > limit && next <= Limits.searchOffsetMax ? next : null,
      };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }
}
