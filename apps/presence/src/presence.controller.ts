import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ChatError,
  Rpc,
  type CallerRpc,
  type OwnPresenceView,
  type PresenceListRpc,
  type PresenceRoomRpc,
  type PresenceView,
  type SetStatusRpc,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { CONFIG, isServerAdmin } from '@chat/platform';
import type { PresenceConfig } from './config';
import { PresenceService } from './presence.service';

/** NATS adapter of the presence RPCs, answered from this replica's in-memory state. */
@Controller()
export class PresenceController {
  constructor(
    private readonly presence: PresenceService,
    private readonly rpc: RpcClient,
    @Inject(CONFIG) private readonly config: PresenceConfig,
  ) {}

  /** Every user not offline: server administrators only. */
  @MessagePattern(Rpc.presenceList)
  list(@Payload() req: PresenceListRpc): { users: PresenceView[] } {
    if (!isServerAdmin(this.config, req.username)) throw new ChatError('FORBIDDEN', 'only server administrators list everyone present');
    return { users: this.presence.list() };
  }

  @MessagePattern(Rpc.presenceSet)
  set(@Payload() req: SetStatusRpc): Promise<OwnPresenceView> {
    return this.presence.setChoice(req);
  }

  /**
   * A page of a room's members with their statuses. The rooms service answers the page and
   * authorises it (the member list's rules: NOT_FOUND for a room the caller may not see); a
   * member presence never saw shows offline, last seen when they joined.
   */
  @MessagePattern(Rpc.presenceRoom)
  async room(@Payload() req: PresenceRoomRpc): Promise<{ roomId: string; users: PresenceView[]; total: number }> {
    const page = await this.rpc.callOrThrow('rooms.members', {
      actorId: req.actorId,
      roomId: req.roomId,
      offset: req.offset,
      limit: req.limit,
    });
    const users = page.members.map((m): PresenceView => {
      const v = this.presence.viewOf(m.userId);
      return v
        ? { ...v, username: m.username }
        : { userId: m.userId, username: m.username, status: 'offline', text: null, lastSeen: m.joinedAt };
    });
    return { roomId: page.roomId, users, total: page.total };
  }

  /**
   * The caller's contacts (members of their rooms within the fan-out size, the caller included)
   * with their statuses, users presence never saw left out, and the caller's own choice.
   */
  @MessagePattern(Rpc.presenceContacts)
  async contacts(@Payload() req: CallerRpc): Promise<{ users: PresenceView[]; mine: OwnPresenceView }> {
    const audience = await this.rpc.callOrThrow('rooms.presenceAudience', {
      userId: req.userId,
      maxMembers: this.config.PRESENCE_FANOUT_MAX_MEMBERS,
    });
    const users: PresenceView[] = [];
    for (const id of audience.contactIds) {
      const v = this.presence.viewOf(id);
      if (v) users.push(v);
    }
    return { users, mine: this.presence.ownView(req.userId) };
  }
}
