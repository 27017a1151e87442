import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type PresenceAudienceRpc } from '@chat/contracts';
import { RoomStore } from '../room/room.store';
import type { Room } from '../room/room';

export type PresenceAudience = { roomIds: string[]; contactIds?: string[]; contactTotal?: number };

/**
 * `rooms.presenceAudience`: whom a user's status reaches. The rooms and conversations the user
 * is a member of with at most `maxMembers` members (the presence fan-out pushes a change to
 * each), and, when `contactsLimit` is given, a page (user id order) of the distinct members of
 * those rooms, the user included (their contacts, whose statuses `presence.contacts` returns),
 * with their total. Bigger rooms (the default room with everyone) are left out: their members
 * read statuses a page at a time with `presence.room`. A conversation with a block in it
 * (either direction) is left out too: a block must never start showing the blocker's status to
 * the blocked user, nor the other way round. Answered from the same in-memory state as
 * `rooms.userRooms`, after the same bounded wait for this replica to have applied every stored
 * room event.
 */
@Controller()
export class PresenceAudienceController {
  constructor(private readonly store: RoomStore) {}

  @MessagePattern(Rpc.roomsPresenceAudience)
  async presenceAudience(@Payload() req: PresenceAudienceRpc): Promise<PresenceAudience> {
    await this.store.waitForAllRooms();
    return presenceAudience(
      this.store,
      req.userId,
      req.maxMembers,
      req.contactsLimit === undefined ? undefined : { offset: req.contactsOffset ?? 0, limit: req.contactsLimit },
    );
  }
}

/** A room whose members see each other's presence: not deleted, within the size limit, no block. */
function presenceRoom(room: Room, maxMembers: number): boolean {
  return !room.deleted && room.members.size <= maxMembers && !(room.direct && room.direct.blocks.size > 0);
}

/** The rooms of `userId` within the size limit and, if asked, a page of their distinct members (pure over the store's state). */
export function presenceAudience(
  store: Pick<RoomStore, 'memberOf'>,
  userId: string,
  maxMembers: number,
  contacts?: { offset: number; limit: number },
): PresenceAudience {
  const rooms = store.memberOf(userId).filter((room) => presenceRoom(room, maxMembers));
  const roomIds = rooms.map((room) => room.roomId).sort();
  if (!contacts) return { roomIds };
  const all = new Set<string>();
  for (const room of rooms) for (const memberId of room.members.keys()) all.add(memberId);
  const sorted = [...all].sort();
  return { roomIds, contactIds: sorted.slice(contacts.offset, contacts.offset + contacts.limit), contactTotal: sorted.length };
}
