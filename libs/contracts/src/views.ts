import type { MessagePosted } from './messages/events';
import type { MemberRole, RoomSettings } from './rooms/events';
import type { ChosenStatus, PresenceStatus } from './presence/events';

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
  /** The room's own retention period in days; null: the deployment's default applies. */
  retentionDays: number | null;
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

/** The users who reacted to a message with one emoji. */
export interface ReactionView {
  emoji: string;
  /** How many users reacted with it. */
  count: number;
  /** Who, in the order they reacted; at most the first 50 (count has them all). */
  userIds: string[];
}

/** Who deleted a message, and why (a tombstone keeps only this and the message's place). */
export interface DeletionView {
  by: UserView;
  reason: 'author' | 'moderator';
  /** ISO-8601 time of the deletion. */
  time: string;
}

/**
 * A message as clients see it: the MessagePosted payload with its time and stream position,
 * and what happened to it since (edit, deletion, reactions). Live `message.posted` events carry
 * the message as posted (`editedAt` null, `deleted` null, no reactions); history pages carry
 * it as it is now. A deleted message keeps its id, room, position, sender and time; its `body`
 * and `html` are "", `replyTo` null, `mentions` and `reactions` empty.
 */
export type MessageView = MessagePosted['payload'] & {
  /**
   * The body as safe HTML, made by the server from `body` and `mentions` (docs/protocol.md,
   * "Formatting"): a markdown subset, mentions as `<span class="mention" data-user-id>`, emoji
   * shortcodes; raw HTML in the body is escaped, links are http(s)/mailto only. Clients may put
   * it into the page as it is; `body` stays the text as typed (for editing and quoting).
   */
  html: string;
  /** ISO-8601 acceptance time. */
  time: string;
  /** Stream position: increasing within the room, usable as a history cursor. */
  position: number;
  /** ISO-8601 time of the latest edit; null if never edited. */
  editedAt: string | null;
  deleted: DeletionView | null;
  /** Emoji in the order they were first used on the message. */
  reactions: ReactionView[];
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
  /** Pass as `after` to get the next newer page; null when this page reaches the newest message. */
  nextAfter: number | null;
  /** For `around` / `at` pages: the position asked for (or found for the time); null otherwise or if none. */
  anchor: number | null;
}

/** One search hit: the message as it is now, with the part that matched. */
export interface SearchHit {
  message: MessageView;
  /** The room's name (or, for a conversation, the other participant's name). */
  roomName: string;
  /** Up to ~160 characters of the body around the first match ("…" where cut). */
  snippet: string;
  /** [start, end) UTF-16 offsets of the matched terms within `snippet`, in order, not overlapping. */
  highlights: Array<[number, number]>;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Pass as `offset` for the next page; null when there are no more hits (or Limits.searchOffsetMax is reached). */
  nextOffset: number | null;
}

/** Where a user has read up to in one room or conversation, and what is unread after it. */
export interface ReadStateView {
  roomId: string;
  /** Position of the last message read; 0 when nothing was marked read. */
  lastRead: number;
  /** Messages after `lastRead` by others, not deleted, capped at Limits.unreadCountCap. */
  unread: number;
  /** Of those, the ones mentioning the user (same cap). */
  mentions: number;
  /** Position of the room's newest message (0 when none); what "mark all read" passes. */
  lastPosition: number;
}

/** Message counts of one day (UTC). */
export interface DailyStats {
  /** YYYY-MM-DD */
  day: string;
  messages: number;
  /** Users who posted that day. */
  activeUsers: number;
}

export interface PosterStats {
  userId: string;
  username: string;
  messages: number;
}

/** Statistics of a room (or, with roomId null, of every room) over a range of days. */
export interface StatsView {
  roomId: string | null;
  /** First and last day of the range (YYYY-MM-DD, UTC), inclusive. */
  from: string;
  to: string;
  messages: number;
  /** Distinct users who posted in the range. */
  activeUsers: number;
  days: DailyStats[];
  /** Up to 10, most messages first. */
  topPosters: PosterStats[];
  /** Messages per hour of day (UTC), index 0-23. */
  hours: number[];
}

/** One run of the retention cleanup. */
export interface RetentionRunView {
  runId: string;
  startedAt: string;
  finishedAt: string | null;
  /** Messages removed from history. */
  messagesRemoved: number;
  /** Rooms that had messages removed. */
  rooms: number;
  /** Message events removed from the stream (those below this position on every room's message subject); null if the stream was not trimmed. */
  streamTrimmedBelow: number | null;
  error: string | null;
}

/**
 * A user's status as others see it. `text`: their custom status (null when none, and while
 * offline). `lastSeen`: when the status last changed; for an offline user, when they were last
 * seen (an invisible user shows the time they went invisible or their last connection closed).
 */
export interface PresenceView {
  userId: string;
  username: string;
  status: PresenceStatus;
  text: string | null;
  lastSeen: string;
}

/** The caller's own choice (same on every device): the reply of `presence.set` and the `presence.mine` event. */
export interface OwnPresenceView {
  status: ChosenStatus;
  text: string | null;
  /** What others see now (`offline` while invisible). */
  shown: PresenceStatus;
  updatedAt: string;
}

/** Reply of POST /api/auth/login and /api/auth/refresh. */
export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  /** ISO expiry of the access token (ACCESS_TOKEN_TTL_S). */
  expiresAt: string;
  /** Single use: each refresh returns a new one; presenting a used one again revokes the session. */
  refreshToken: string;
  refreshExpiresAt: string;
  sessionId: string;
  user: UserView;
}

/** One session (login on a device) in GET /api/account/sessions. */
export interface SessionView {
  sessionId: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  remember: boolean;
  userAgent: string;
  /** The session of the access token that asked. */
  current: boolean;
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
