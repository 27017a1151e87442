import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Rpc, type HistoryPage, type HistoryPageRpc } from '@chat/contracts';
import { PINO } from '@chat/platform';
import type { Logger } from 'pino';
import { HistoryStore } from './db/history.store';
import { isDatabaseUnavailable } from './db/errors';
import { ProjectionProgress } from './projection/progress';
import { pageSize, toPage } from './query/page';

/**
 * NATS adapter for history reads. The gateway has already checked that the caller may read
 * the room; this service trusts its caller.
 */
@Controller()
export class HistoryController {
  constructor(
    private readonly store: HistoryStore,
    private readonly progress: ProjectionProgress,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /** How long a newest-page read waits for the projection to reach the room's last message. */
  static readonly catchUpWaitMs = 2000;

  /**
   * Read-your-writes for the newest page: a client that was just acked (or reconnects after
   * missing live events) must find every accepted message in it. The projection runs behind
   * the stream by a few milliseconds, so the read waits (bounded) until every event of the room
   * up to its last stored message is in the tables. A page that would still miss one after
   * the wait is not served: the client gets UNAVAILABLE and retries, instead of a page with a
   * hole it would take as complete. Older pages (`before`) are served as they are.
   */
  @MessagePattern(Rpc.historyPage)
  async page(@Payload() req: HistoryPageRpc): Promise<HistoryPage> {
    const limit = pageSize(req.limit);
    try {
      if (req.before === undefined && !(await this.progress.caughtUp(req.roomId, HistoryController.catchUpWaitMs))) {
        this.logger.debug({ roomId: req.roomId }, 'newest page: projection still behind the room after the wait');
        throw new ChatError('UNAVAILABLE', 'history is still catching up with this room; retry');
      }
      // One row more than asked tells whether an older page exists.
      const rows = await this.store.newestFirst(req.roomId, req.before, limit + 1);
      return toPage(req.roomId, rows, limit);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }
}
