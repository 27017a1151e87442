import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ChatError,
  Limits,
  Rpc,
  type OwnPresenceView,
  type PresenceContactsRpc,
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

  /**
   * A page of the users not offline, in user id order, and how many there are: server
   * administrators only. Paged so that a reply stays under NATS's message size limit however
   * many are online.
   */
  @MessagePattern(Rpc.presenceList)
  list(@Payload() req: PresenceListRpc): { users: PresenceView[]; total: number } {
    if (!isServerAdmin(this.config, req.username)) throw new ChatError('FORBIDDEN', 'only server administrators list everyone present');
    const present = this.presence.list().sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    const offset = req.offset ?? 0;
    return { users: present.slice(offset, offset + (req.limit ?? Limits.presenceListPageMax)), total: present.length };
  }

  @MessagePattern(Rpc.presenceSet)
  set(@Payload() req: SetStatusRpc): Promise<OwnPresenceView> {
    return this.presence.setChoice(req);
  }

  /**
   * A page of a room's members with their statuses, for its members only. The rooms service
   * answers the page and the caller's place in the room (the member list's rules: NOT_FOUND
   * for a room the caller may not see, e.g. a private one); someone who may see a public room
   * but is not in it gets NOT_MEMBER. A member presence never saw shows offline, last seen when
   * they joined.
   */
  @MessagePattern(Rpc.presenceRoom)
  async room(@Payload() req: PresenceRoomRpc): Promise<{ roomId: string; users: PresenceView[]; total: number }> {
    const [details, page] = await Promise.all([
      this.rpc.callOrThrow('rooms.details', { userId: req.actorId, roomId: req.roomId }),
      this.rpc.callOrThrow('rooms.members', { actorId: req.actorId, roomId: req.roomId, offset: req.offset, limit: req.limit }),
    ]);
    if (details.myRole === null) throw new ChatError('NOT_MEMBER', `only members of "${req.roomId}" see its members' statuses`);
    const users = page.members.map((m): PresenceView => {
      const v = this.presence.viewOf(m.userId);
      return v
        ? { ...v, username: m.username }
        : { userId: m.userId, username: m.username, status: 'offline', text: null, lastSeen: m.joinedAt };
    });
    return { roomId: page.roomId, users, total: page.total };
  }

  /**
   * A page of the caller's contacts (members of their rooms within the fan-out size, the caller
   * included, in user id order: `limit` of them from `offset`) with their statuses, users
   * presence never saw left out of the page, `total` the number of contacts, and the caller's
   * own choice. The rooms service answers the page of ids, so neither reply grows with the
   * number of contacts.
   */
  @MessagePattern(Rpc.presenceContacts)
  async contacts(@Payload() req: PresenceContactsRpc): Promise<{ users: PresenceView[]; total: number; mine: OwnPresenceView }> {
    const audience = await this.rpc.callOrThrow('rooms.presenceAudience', {
      userId: req.userId,
      maxMembers: this.config.PRESENCE_FANOUT_MAX_MEMBERS,
      contactsOffset: req.offset ?? 0,
      contactsLimit: req.limit ?? Limits.presenceListPageMax,
    });
    const users: PresenceView[] = [];
    for (const id of audience.contactIds ?? []) {
      const v = this.presence.viewOf(id);
      if (v) users.push(v);
    }
    return { users, total: audience.contactTotal ?? 0, mine: this.presence.ownView(req.userId) };
  }
}
