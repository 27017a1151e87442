import { assertNever, type MemberRole, type RoomEvent, type RoomSettings, type RoomSummary } from '@chat/contracts';

export interface Member {
  userId: string;
  username: string;
  role: MemberRole;
}

/** A room as its events say it is. `version` is the stream sequence of the last event applied. */
export interface Room extends RoomSettings {
  roomId: string;
  ownerId: string | null;
  members: ReadonlyMap<string, Member>;
  version: number;
}

/**
 * Applies one event to a room. Pure: returns a new room, never mutates. RoomCreated makes the
 * owner (if any) a member, so creating a room is a single atomic append.
 */
export function evolve(room: Room | null, event: RoomEvent, position: number): Room | null {
  switch (event.type) {
    case 'RoomCreated': {
      const p = event.payload;
      const members = new Map<string, Member>();
      if (p.ownerId) members.set(p.ownerId, { userId: p.ownerId, username: p.ownerName ?? '', role: 'owner' });
      return {
        roomId: p.roomId,
        name: p.name,
        topic: p.topic,
        visibility: p.visibility,
        postPolicy: p.postPolicy,
        memberLimit: p.memberLimit,
        ownerId: p.ownerId,
        members,
        version: position,
      };
    }
    case 'MemberJoined': {
      if (!room) return room;
      const members = new Map(room.members);
      members.set(event.payload.userId, { userId: event.payload.userId, username: event.payload.username, role: event.payload.role });
      return { ...room, members, version: position };
    }
    case 'MemberLeft': {
      if (!room) return room;
      const members = new Map(room.members);
      members.delete(event.payload.userId);
      return { ...room, members, version: position };
    }
    default:
      return assertNever(event, 'room event');
  }
}

export function summarize(room: Room, forUserId: string): RoomSummary {
  return {
    roomId: room.roomId,
    name: room.name,
    topic: room.topic,
    visibility: room.visibility,
    postPolicy: room.postPolicy,
    memberLimit: room.memberLimit,
    memberCount: room.members.size,
    myRole: room.members.get(forUserId)?.role ?? null,
  };
}
