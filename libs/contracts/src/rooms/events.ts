import type { Event } from '../envelope';

export type RoomVisibility = 'public' | 'private';
export type MemberRole = 'owner' | 'admin' | 'member';
/** Who may post: every member, or only owner/admins (announcement rooms). */
export type PostPolicy = 'members' | 'admins';

/** What a room's creator chooses; declared once for the event, the state and the views. */
export interface RoomSettings {
  name: string;
  topic: string;
  visibility: RoomVisibility;
  postPolicy: PostPolicy;
  memberLimit: number;
}

export type RoomCreated = Event<
  'RoomCreated',
  RoomSettings & {
    roomId: string;
    /** null for rooms the system creates (the default room), which have no owner. */
    ownerId: string | null;
    ownerName: string | null;
  }
>;
export type MemberJoined = Event<'MemberJoined', { roomId: string; userId: string; username: string; role: MemberRole }>;
export type MemberLeft = Event<'MemberLeft', { roomId: string; userId: string; username: string }>;

/** Everything appended to `ns.chat.room.<id>.meta`: the room aggregate's own stream. */
export type RoomEvent = RoomCreated | MemberJoined | MemberLeft;
export type RoomEventType = RoomEvent['type'];
