import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Rpc, type HistoryPage, type HistoryPageRpc, type Subjects } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { PINO, SUBJECTS } from '@chat/platform';
import type { Logger } from 'pino';
import { HistoryStore } from './db/history.store';
import { isDatabaseUnavailable } from './db/errors';
import { pageSize, toPage } from './query/page';

/**
 * NATS adapter for history reads. The gateway has already checked that the caller may read
 * the room; this service trusts its caller.
 */
@Controller()
export class HistoryController {
  constructor(
    private readonly store: HistoryStore,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /** How long a newest-page read waits for the projection to reach the room's last message. */
  static readonly catchUpWaitMs = 2000;

  @MessagePattern(Rpc.historyPage)
  async page(@Payload() req: HistoryPageRpc): Promise<HistoryPage> {
    const limit = pageSize(req.limit);
    try {
      if (req.before === undefined) await this.awaitProjected(req.roomId);
      // One row more than asked tells whether an older page exists.
      const rows = await this.store.newestFirst(req.roomId, req.before, limit + 1);
      return toPage(req.roomId, rows, limit);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }

  /**
   * Read-your-writes for the newest page: a client that was just acked (or reconnects after
   * missing live events) must find every accepted message in it. The projection runs behind
   * the stream by a few milliseconds, so wait (bounded) until its checkpoint reaches the
   * room's last stored message; after the bound, answer with what is there.
   */
  private async awaitProjected(roomId: string): Promise<void> {
    const last = await this.js.lastOnSubject(this.s.streams.chat.name, this.s.chat.roomMessages(roomId));
    if (!last) return;
    const deadline = Date.now() + HistoryController.catchUpWaitMs;
    while ((await this.store.checkpoint()) < last.seq && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
