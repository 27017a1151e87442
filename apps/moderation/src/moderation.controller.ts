import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type ModerationCheckRpc, type ModerationVerdict } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import { BlockList } from './filter/blocklist';
import type { ModerationConfig } from './config';

/** NATS adapter: the send path asks for a verdict before a message is appended. */
@Controller()
export class ModerationController {
  private readonly blockList: BlockList;

  constructor(@Inject(CONFIG) config: ModerationConfig) {
    this.blockList = BlockList.parse(config.BLOCKED_WORDS);
  }

  @MessagePattern(Rpc.moderationCheck)
  check(@Payload() req: ModerationCheckRpc): ModerationVerdict {
    return this.blockList.check(req.body);
  }
}
