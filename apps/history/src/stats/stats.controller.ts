import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Rpc, type StatsRpc, type StatsView } from '@chat/contracts';
import { CONFIG, PINO, isServerAdmin } from '@chat/platform';
import type { Logger } from 'pino';
import type { HistoryConfig } from '../config';
import { isDatabaseUnavailable } from '../db/errors';
import { MembershipQueries } from '../membership';
import { statsRange, statsRefusal, statsView } from './stats.plan';
import { StatsQueries } from './stats.store';

/** NATS adapter for history.stats: statistics the projection keeps, read from the stats tables only. */
@Controller()
export class StatsController {
  constructor(
    private readonly queries: StatsQueries,
    private readonly membership: MembershipQueries,
    @Inject(CONFIG) private readonly config: HistoryConfig,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  @MessagePattern(Rpc.historyStats)
  async stats(@Payload() req: StatsRpc): Promise<StatsView> {
    const range = statsRange(req, new Date());
    if ('error' in range) throw new ChatError('BAD_REQUEST', range.error);
    try {
      const admin = isServerAdmin(this.config, req.username);
      if (req.roomId !== undefined || !admin) {
        const [room, standing] =
          req.roomId === undefined
            ? [null, null]
            : await Promise.all([this.membership.room(req.roomId), this.membership.standing(req.roomId, req.userId)]);
        const refusal = statsRefusal(req.roomId, room, standing, admin);
        if (refusal) throw new ChatError(refusal.code, refusal.message);
      }
      const roomId = req.roomId ?? null;
      return statsView(roomId, range, await this.queries.rows(roomId, range.from, range.to));
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }
}
