import type { MessagePosted } from './messages/events';
import type { MemberRole, RoomSettings } from './rooms/events';
import type { PresenceStatus } from './presence/events';

/** Shapes returned to clients (and between services). */
export interface RoomSummary extends RoomSettings {
  roomId: string;
  memberCount: number;
  /** The caller's role, or null if the caller is not a member. */
  myRole: MemberRole | null;
}

/** A room as `room.details` shows it to a member (or anyone, for a public room). */
export interface RoomDetails extends RoomSummary {
  /** ISO-8601 time of creation. */
  createdAt: string;
  /** Who created it; null for rooms the system created (the default room). */
  createdBy: UserView | null;
  /** The current owner; null for the default room and for an empty public room. */
  owner: UserView | null;
  /** true for the deployment's default room, which cannot be deleted. */
  isDefault: boolean;
}

export interface MemberView {
  userId: string;
  username: string;
  role: MemberRole;
  /** When they (last) became a member: the order that decides who succeeds a leaving owner. */
  joinedAt: string;
}

/** A page of a list; `nextOffset` is the `offset` of the next page, null on the last. */
export interface DirectoryPage {
  rooms: RoomSummary[];
  /** Public rooms matching the query, over all pages. */
  total: number;
  nextOffset: number | null;
}

export interface MembersPage {
  roomId: string;
  /** Owner first, then admins, then members; each by `joinedAt`. */
  members: MemberView[];
  total: number;
  nextOffset: number | null;
}

/** A pending invitation as the invited user sees it. */
export interface InvitationView {
  roomId: string;
  /** The room's name when invited. */
  roomName: string;
  invitedBy: UserView;
  /** ISO-8601 time of the invitation. */
  time: string;
}

export interface BanView {
  userId: string;
  username: string;
  by: UserView;
  reason: string;
  time: string;
}

/** A one-to-one conversation as one participant sees it. */
export interface ConversationView {
  /** The conversation's id (`dm-…`): use it for `message.send` and `history.page`. */
  roomId: string;
  peer: UserView;
  /** The newest message, null before the first one. */
  lastMessage: MessageView | null;
}

export interface BlockView {
  userId: string;
  username: string;
  /** ISO-8601 time of the block. */
  time: string;
}

/** A message as clients see it: the MessagePosted payload with its time and stream position. */
export type MessageView = MessagePosted['payload'] & {
  /** ISO-8601 acceptance time. */
  time: string;
  /** Stream position: increasing within the room, usable as a history cursor. */
  position: number;
};

export interface PostAck {
  messageId: string;
  roomId: string;
  clientMsgId: string;
  time: string;
  position: number;
  /** true when this was a retry of an already accepted message; nothing new was created. */
  duplicate: boolean;
}

export interface HistoryPage {
  roomId: string;
  /** Newest first. */
  messages: MessageView[];
  /** Pass as `before` to get the next older page; null when there is nothing older. */
  nextBefore: number | null;
}

export interface PresenceView {
  userId: string;
  username: string;
  status: PresenceStatus;
  lastSeen: string;
}

export interface UserView {
  userId: string;
  username: string;
}

export interface MembershipAck {
  room: RoomSummary;
  position: number;
}

/** Any other room command: the room it changed and the stream position of the change. */
export interface CommandAck {
  roomId: string;
  position: number;
}
