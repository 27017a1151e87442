import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Rpc, type PresenceView } from '@chat/contracts';
import { PresenceService } from './presence.service';

/** NATS adapter: who is present, answered from this replica's in-memory state. */
@Controller()
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @MessagePattern(Rpc.presenceList)
  list(): { users: PresenceView[] } {
    return { users: this.presence.list() };
  }
}
