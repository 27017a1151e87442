import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type CallerRpc, type ModAck, type ServerRoleView, type SetServerRoleRpc } from '@chat/contracts';
import type { RpcCallContext } from '@chat/platform';
import { PermissionsService } from './permissions.service';

/** NATS adapter of the server roles. */
@Controller()
export class RolesController {
  constructor(private readonly perms: PermissionsService) {}

  /** Moderators and administrators: who has a server role. */
  @MessagePattern(Rpc.moderationRoles)
  async roles(@Payload() req: CallerRpc): Promise<{ roles: ServerRoleView[] }> {
    this.perms.requireServerRole(req);
    return { roles: await this.perms.roleViews() };
  }

  @MessagePattern(Rpc.moderationSetRole)
  setRole(@Payload() req: SetServerRoleRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.perms.setRole({ userId: req.actorId, username: req.actorName }, req, ctx.correlationId);
  }
}
