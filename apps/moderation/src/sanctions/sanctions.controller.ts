import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  Rpc,
  type CallerRpc,
  type ModAck,
  type ModSanctionRpc,
  type ModUserRpc,
  type MuteRpc,
  type MutesRpc,
  type MuteView,
  type OwnModerationView,
  type ServerBanView,
  type UnmuteRpc,
  type UserView,
  type WarnRpc,
} from '@chat/contracts';
import type { RpcCallContext } from '@chat/platform';
import { PermissionsService } from '../roles/permissions.service';
import { SanctionsService, type ModCommand } from './sanctions.service';
import { StrikesService } from './strikes.service';

const actorOf = (req: { actorId: string; actorName: string }, ctx: RpcCallContext): ModCommand => ({
  actor: { userId: req.actorId, username: req.actorName },
  correlationId: ctx.correlationId,
});
const callerOf = (req: { userId: string; username: string }, ctx: RpcCallContext): ModCommand => ({
  actor: { userId: req.userId, username: req.username },
  correlationId: ctx.correlationId,
});

/** NATS adapter of the sanctions: mutes, warnings, kicks, server bans, and the caller's own standing. */
@Controller()
export class SanctionsController {
  constructor(
    private readonly sanctions: SanctionsService,
    private readonly strikes: StrikesService,
    private readonly perms: PermissionsService,
  ) {}

  @MessagePattern(Rpc.moderationMute)
  mute(@Payload() req: MuteRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck & { mute: MuteView }> {
    return this.sanctions.mute(actorOf(req, ctx), req);
  }

  @MessagePattern(Rpc.moderationUnmute)
  unmute(@Payload() req: UnmuteRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.sanctions.unmute(actorOf(req, ctx), req);
  }

  @MessagePattern(Rpc.moderationMutes)
  async mutes(@Payload() req: MutesRpc, @Ctx() ctx: RpcCallContext): Promise<{ mutes: MuteView[] }> {
    return { mutes: await this.sanctions.list(callerOf(req, ctx), req.roomId) };
  }

  @MessagePattern(Rpc.moderationWarn)
  warn(@Payload() req: WarnRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.sanctions.warn(actorOf(req, ctx), req);
  }

  @MessagePattern(Rpc.moderationKick)
  kick(@Payload() req: ModSanctionRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.sanctions.kick(actorOf(req, ctx), req);
  }

  @MessagePattern(Rpc.moderationBan)
  ban(@Payload() req: ModSanctionRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.sanctions.ban(actorOf(req, ctx), req);
  }

  @MessagePattern(Rpc.moderationUnban)
  unban(@Payload() req: ModUserRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.sanctions.unban(actorOf(req, ctx), req);
  }

  @MessagePattern(Rpc.moderationBans)
  bans(@Payload() req: CallerRpc, @Ctx() ctx: RpcCallContext): { bans: ServerBanView[] } {
    return { bans: this.sanctions.banList(callerOf(req, ctx)) };
  }

  /** Anyone: their own server role, mutes in force and strikes within the window. */
  @MessagePattern(Rpc.moderationMe)
  me(@Payload() req: CallerRpc): OwnModerationView {
    const caller: UserView = { userId: req.userId, username: req.username };
    return {
      role: this.perms.serverRole(caller.userId, caller.username),
      mutes: this.sanctions.mutesOf(caller.userId),
      strikes: this.strikes.count(caller.userId),
    };
  }
}
