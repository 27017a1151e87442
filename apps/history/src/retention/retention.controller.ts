import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Rpc, type CallerRpc, type RetentionRunView } from '@chat/contracts';
import { CONFIG, PINO, isServerAdmin } from '@chat/platform';
import type { Logger } from 'pino';
import type { HistoryConfig } from '../config';
import { isDatabaseUnavailable } from '../db/errors';
import { HistoryStore } from '../store/history.store';
import { lastRuns } from './retention.store';

/** Runs listed by admin.retentionRuns. */
const RUNS_SHOWN = 20;

/** NATS adapter for history.retentionRuns: the last runs of the retention cleanup, for server administrators. */
@Controller()
export class RetentionController {
  constructor(
    private readonly store: HistoryStore,
    @Inject(CONFIG) private readonly config: HistoryConfig,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  @MessagePattern(Rpc.historyRetentionRuns)
  async runs(@Payload() req: CallerRpc): Promise<{ runs: RetentionRunView[] }> {
    if (!isServerAdmin(this.config, req.username)) throw new ChatError('FORBIDDEN', 'the retention runs are for server administrators');
    try {
      return { runs: await lastRuns(this.store, RUNS_SHOWN) };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn({ error: String(err) }, 'history database unavailable');
      throw new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
    }
  }
}
