import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type ModerationCheckRpc, type ModerationVerdict } from '@chat/contracts';
import { RuleRegistry } from './rules/registry';

/** NATS adapter: the send path asks for a verdict before a message is appended. */
@Controller()
export class ModerationController {
  constructor(private readonly rules: RuleRegistry) {}

  @MessagePattern(Rpc.moderationCheck)
  check(@Payload() req: ModerationCheckRpc): ModerationVerdict {
    return this.rules.check(req);
  }
}
