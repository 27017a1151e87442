import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  makeEvent,
  Rpc,
  type FilterConfigSet,
  type FilterConfigView,
  type FiltersRpc,
  type ModAck,
  type ModerationVerdict,
  type SetFiltersRpc,
  type Subjects,
  type TestFiltersRpc,
} from '@chat/contracts';
import { SUBJECTS, type RpcCallContext } from '@chat/platform';
import { randomUUID } from 'node:crypto';
import { testVerdict } from '../check/send-check';
import { ModerationLog } from '../log/moderation-log';
import { PermissionsPort } from '../ports';
import { FilterConfigs } from './filter-configs';
import { storedFilterConfig } from './validate';

/**
 * NATS adapter of the filter operations (`mod.filters.get/set/test`). The server scope (no
 * `roomId`) needs a server role (administrator or moderator); a room's scope also accepts the
 * room's owner and admins (PermissionsPort). Reading and testing need the same permission as
 * setting: a filter list tells what it is meant to catch.
 */
@Controller()
export class FiltersController {
  constructor(
    private readonly filters: FilterConfigs,
    private readonly permissions: PermissionsPort,
    private readonly log: ModerationLog,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  @MessagePattern(Rpc.moderationFilters)
  async get(@Payload() req: FiltersRpc, @Ctx() ctx: RpcCallContext): Promise<FilterConfigView> {
    await this.permit(req, req.roomId ?? null, ctx);
    return this.filters.view(req.roomId ?? null);
  }

  /** Stores the scope's whole configuration as a FilterConfigSet; every replica applies it as its log follows. */
  @MessagePattern(Rpc.moderationSetFilters)
  async set(
    @Payload() req: SetFiltersRpc,
    @Ctx() ctx: RpcCallContext,
  ): Promise<ModAck & { scope: 'server' | 'room'; roomId: string | null }> {
    const roomId = req.roomId ?? null;
    await this.permit(req, roomId, ctx);
    const config = storedFilterConfig(req.config);
    const scope = roomId === null ? 'server' : 'room';
    const event = makeEvent<FilterConfigSet>(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: req.userId }, correlationId: ctx.correlationId },
      'FilterConfigSet',
      1,
      { scope, roomId, config, byUserId: req.userId, byUsername: req.username },
    );
    const subject = roomId === null ? this.s.moderation.serverFilters : this.s.moderation.roomFilters(roomId);
    const stored = await this.log.appendAndApply(subject, event, event.id);
    return { position: stored.seq, scope, roomId };
  }

  /** What the scope's filters (a room's: the server's joined with the room's) would do to `body`; nothing is posted, held or struck. */
  @MessagePattern(Rpc.moderationTestFilters)
  async test(@Payload() req: TestFiltersRpc, @Ctx() ctx: RpcCallContext): Promise<ModerationVerdict> {
    const roomId = req.roomId ?? null;
    await this.permit(req, roomId, ctx);
    const chain = roomId === null ? this.filters.serverChain() : this.filters.chainFor(roomId);
    return testVerdict(await chain.run(req.body));
  }

  private async permit(caller: { userId: string; username: string }, roomId: string | null, ctx: RpcCallContext): Promise<void> {
    const who = { userId: caller.userId, username: caller.username };
    if (roomId === null) this.permissions.requireServerRole(who);
    else await this.permissions.requireRoomStaff(who, roomId, ctx.correlationId);
  }
}
