import type { MemberRole, PostPolicy } from '@chat/contracts';

/** What the room events before a post's position say about its sender and room, and whether it is still kept. */
export interface PostRights {
  /** A RoomCreated / ConversationOpened of the room comes before the post. */
  roomCreated: boolean;
  /** The room is deleted (at any position: its history is gone with it). */
  roomDeleted: boolean;
  /** The room's posting policy at the post (null: never set). */
  postPolicy: PostPolicy | null;
  /** The sender is a member at the post. */
  member: boolean;
  role: MemberRole | null;
  /** Either participant of a direct room blocks the other at the post. */
  blocked: boolean;
  /**
   * The post is already past its room's retention period when it is applied (a redelivery or a
   * rebuild after the cleanup removed it): history does not take it back.
   */
  expired: boolean;
}

export const postRefusals = ['room_deleted', 'no_room', 'not_member', 'admins_only', 'blocked', 'expired'] as const;
export type PostRefusal = (typeof postRefusals)[number];

/**
 * "The stream decides" (docs/rooms.md, Posting): a post is a message only if its sender may post
 * at the post's stream position: a member of the existing, not deleted room; owner or admin in
 * an `admins` room; in a direct room, while neither side blocks the other. The rooms service
 * checks the same before appending, so a refusal means an event (kick, ban, leave, policy
 * change, block) was appended between its check and the post. A post past its room's retention
 * period is not stored either (`expired`): the cleanup would remove it, and storing it again after
 * a redelivery or in a rebuild would bring back text (and statistics) the cleanup removed.
 * Null when the post stands.
 */
export function postRefusal(r: PostRights): PostRefusal | null {
  if (r.roomDeleted) return 'room_deleted';
  if (!r.roomCreated) return 'no_room';
  if (!r.member) return 'not_member';
  if (r.postPolicy === 'admins' && r.role !== 'owner' && r.role !== 'admin') return 'admins_only';
  if (r.blocked) return 'blocked';
  if (r.expired) return 'expired';
  return null;
}
