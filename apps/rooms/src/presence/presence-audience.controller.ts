import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type PresenceAudienceRpc } from '@chat/contracts';
import { RoomStore } from '../room/room.store';

/**
 * `rooms.presenceAudience`: whom a user's status reaches. The rooms and conversations the user
 * is a member of with at most `maxMembers` members (the presence fan-out pushes a change to
 * each), and the distinct members of those rooms, the user included (their contacts, whose
 * statuses `presence.contacts` returns). Bigger rooms (the default room with everyone) are left
 * out: their members read statuses a page at a time with `presence.room`. Answered from the
 * same in-memory state as `rooms.userRooms`, after the same bounded wait for this replica to
 * have applied every stored room event.
 */
@Controller()
export class PresenceAudienceController {
  constructor(private readonly store: RoomStore) {}

  @MessagePattern(Rpc.roomsPresenceAudience)
  async presenceAudience(@Payload() req: PresenceAudienceRpc): Promise<{ roomIds: string[]; contactIds: string[] }> {
    await this.store.waitForAllRooms();
    return presenceAudience(this.store, req.userId, req.maxMembers);
  }
}

/** The rooms of `userId` within the size limit and their distinct members (pure over the store's state). */
export function presenceAudience(
  store: Pick<RoomStore, 'memberOf'>,
  userId: string,
  maxMembers: number,
): { roomIds: string[]; contactIds: string[] } {
  const roomIds: string[] = [];
  const contacts = new Set<string>();
  for (const room of store.memberOf(userId)) {
    if (room.deleted || room.members.size > maxMembers) continue;
    roomIds.push(room.roomId);
    for (const memberId of room.members.keys()) contacts.add(memberId);
  }
  return { roomIds: roomIds.sort(), contactIds: [...contacts].sort() };
}
