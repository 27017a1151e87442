import type { Event } from '../envelope';

export type RoomVisibility = 'public' | 'private';
export type MemberRole = 'owner' | 'admin' | 'member';
/** Who may post: every member, or only owner/admins (announcement rooms). */
export type PostPolicy = 'members' | 'admins';
/** A group room, or a one-to-one conversation (whose id is derived from its two participants). */
export type RoomKind = 'group' | 'direct';

/** What a room's creator chooses; declared once for the event, the state and the views. */
export interface RoomSettings {
  name: string;
  topic: string;
  visibility: RoomVisibility;
  postPolicy: PostPolicy;
  memberLimit: number;
  /**
   * Slow mode: a member (not the owner or an admin) posts at most one message per this many
   * seconds in the room; 0: off. 0-Limits.slowModeSecondsMax. Group rooms only.
   */
  slowModeSeconds: number;
}

/** The settings of RoomCreated v1 and RoomSettingsChanged v1, frozen: read with slowModeSeconds 0. */
export type RoomSettingsV1 = Omit<RoomSettings, 'slowModeSeconds'>;

/** Who did something to someone: the acting user (ids and names as at the time). */
interface ByUser {
  byUserId: string;
  byUsername: string;
}
/** The user a membership event is about. */
interface AboutUser {
  roomId: string;
  userId: string;
  username: string;
}

interface RoomOwnership {
  roomId: string;
  /** null for rooms the system creates (the default room), which have no owner. */
  ownerId: string | null;
  ownerName: string | null;
}
/** v1 of RoomCreated, frozen (before slow mode): read as v2 with slowModeSeconds 0. */
export type RoomCreatedV1Payload = RoomSettingsV1 & RoomOwnership;
export type RoomCreated = Event<'RoomCreated', RoomSettings & RoomOwnership, 2>;
/** A user became a member: joined a public room, accepted an invitation, or (role owner) took an empty room. */
export type MemberJoined = Event<'MemberJoined', AboutUser & { role: MemberRole }>;

/** v1 of MemberLeft, frozen: read as v2 with no successor. */
export interface MemberLeftV1Payload {
  roomId: string;
  userId: string;
  username: string;
}
/**
 * A member left. When the owner leaves, `successor` is who becomes owner in the same event
 * (the longest-standing admin, else the longest-standing member), so a room is never left
 * ownerless by a crash between two appends; null when the leaver was not the owner or was the
 * last member.
 */
export type MemberLeft = Event<'MemberLeft', AboutUser & { successorId: string | null; successorName: string | null }, 2>;
/** An admin or the owner invited a user to the room (the only way into a private room). */
export type MemberInvited = Event<'MemberInvited', AboutUser & ByUser & { roomName: string }>;
/** The invited user declined; the invitation is gone. */
export type InvitationDeclined = Event<'InvitationDeclined', AboutUser>;
/** An admin or the owner removed a member; they may join again (public) or be invited again. */
export type MemberKicked = Event<'MemberKicked', AboutUser & ByUser & { reason: string }>;
/** An admin or the owner banned a user (member or not): removed if a member, and cannot join or be invited until unbanned. */
export type MemberBanned = Event<'MemberBanned', AboutUser & ByUser & { reason: string }>;
export type MemberUnbanned = Event<'MemberUnbanned', AboutUser & ByUser>;
/** The owner made a member admin, or an admin a member. */
export type MemberRoleChanged = Event<'MemberRoleChanged', AboutUser & ByUser & { role: 'admin' | 'member' }>;
/** The owner handed the room to another member (who becomes owner; the old owner becomes admin). */
export type OwnershipTransferred = Event<'OwnershipTransferred', AboutUser & ByUser>;
/** Settings changed by an admin or the owner; carries the whole new settings. */
export type RoomSettingsChanged = Event<'RoomSettingsChanged', RoomSettings & { roomId: string } & ByUser, 2>;
/** v1 of RoomSettingsChanged, frozen (before slow mode): read as v2 with slowModeSeconds 0. */
export type RoomSettingsChangedV1Payload = RoomSettingsV1 & { roomId: string } & ByUser;
/**
 * The room is gone: by its owner, or when the last member of a private room leaves (nobody
 * could ever enter it again). Its id is never used again.
 */
/**
 * The room's own retention period: messages older than `days` are removed from history (and,
 * once older than every policy, from the stream). null: the deployment's default
 * (RETENTION_DEFAULT_DAYS). Set by the owner or an admin (docs/rooms.md, Retention).
 */
export type RoomRetentionSet = Event<'RoomRetentionSet', { roomId: string; days: number | null } & ByUser>;
export type RoomDeleted = Event<'RoomDeleted', { roomId: string; reason: 'owner' | 'empty' } & ByUser>;
/**
 * A one-to-one conversation between two users, with the id derived from both (directRoomId):
 * appended with the first message (or block) between them. `userA` < `userB` (as strings).
 * `reason` says which: a conversation opened by a block is shown only to the one who opened it
 * (blocking is silent), though both sides' gateways follow it from here on. `held`: opened by a
 * first message that moderation held for review, also shown only to its sender: the peer
 * learns of the conversation when a moderator approves the message (it is then posted in it).
 */
export type ConversationOpened = Event<
  'ConversationOpened',
  {
    roomId: string;
    userAId: string;
    userAName: string;
    userBId: string;
    userBName: string;
    openedById: string;
    reason: 'message' | 'block' | 'held';
  }
>;
/** In a conversation: one participant blocks the other (their private messages and room invitations are refused). */
export type UserBlocked = Event<'UserBlocked', { roomId: string; blockerId: string; blockedId: string }>;
export type UserUnblocked = Event<'UserUnblocked', { roomId: string; blockerId: string; blockedId: string }>;

/** Everything appended to `ns.chat.room.<id>.meta`: the room aggregate's own stream. */
export type RoomEvent =
  | RoomCreated
  | MemberJoined
  | MemberLeft
  | MemberInvited
  | InvitationDeclined
  | MemberKicked
  | MemberBanned
  | MemberUnbanned
  | MemberRoleChanged
  | OwnershipTransferred
  | RoomSettingsChanged
  | RoomRetentionSet
  | RoomDeleted
  | ConversationOpened
  | UserBlocked
  | UserUnblocked;
export type RoomEventType = RoomEvent['type'];
