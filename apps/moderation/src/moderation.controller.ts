import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type ModerationCheckRpc, type ModerationVerdict } from '@chat/contracts';
import { SendCheck } from './check/send-check';

/** NATS adapter: the send path asks for a verdict before a message is appended (see check/send-check.ts). */
@Controller()
export class ModerationController {
  constructor(private readonly sendCheck: SendCheck) {}

  @MessagePattern(Rpc.moderationCheck)
  check(@Payload() req: ModerationCheckRpc): Promise<ModerationVerdict> {
    return this.sendCheck.check({ ...req, clientMsgId: req.clientMsgId ?? null, heldReportId: req.heldReportId ?? null });
  }
}
