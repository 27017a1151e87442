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
