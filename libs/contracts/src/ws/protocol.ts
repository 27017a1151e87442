import type { ErrorBody } from '../errors';
import type { MemberRole } from '../rooms/events';
import type { Mention } from '../messages/events';
import type { InvitationView, MessageView, OwnPresenceView, PresenceView, UserView } from '../views';
import type { RoomSettings } from '../rooms/events';
import type { WsOp, WsOps } from './operations';
import type { MuteView, ReportView } from '../moderation/views';
import type { ServerRole } from '../moderation/events';

/**
 * The WebSocket protocol (docs/protocol.md is its prose form). Every frame is one JSON text
 * message. The client sends requests; the server answers each with exactly one reply carrying
 * the request's id, and pushes events at any time.
 */
export const PROTOCOL_VERSION = 1;

// The ops (WsOps, WsOp, WsOpNames) are derived from the operation table in operations.ts.
export { WsOpNames, type WsOp, type WsOps } from './operations';

/** event name -> data. */
/** The user an event is about, in the room it happened in. */
interface AboutUser {
  roomId: string;
  userId: string;
  username: string;
  /** ISO-8601 time of the event. */
  time: string;
}

/**
 * event name -> data. Room events reach every connection of every member of the room (and
 * the user they are about); `invitation.received` and `conversation.opened` reach that user's
 * connections; `user.blocked`/`user.unblocked` only the blocker's.
 */
export interface WsEvents {
  'message.posted': MessageView;
  /** The author edited a message: its new text and mentions, and the text as HTML (MessageView.html). */
  'message.edited': { roomId: string; messageId: string; body: string; mentions: Mention[]; html: string; editedAt: string };
  /** A message was deleted: drop its text, keep a tombstone. */
  'message.deleted': { roomId: string; messageId: string; by: UserView; reason: 'author' | 'moderator'; time: string };
  'reaction.added': { roomId: string; messageId: string; emoji: string; userId: string; username: string; time: string };
  'reaction.removed': { roomId: string; messageId: string; emoji: string; userId: string; username: string; time: string };
  /** The room's retention period changed (null: the deployment's default). */
  'room.retention': { roomId: string; days: number | null; by: UserView; time: string };
  /**
   * The user's read marker moved (on any of their devices): to every connection of that user.
   * `position` in the frame is `lastRead`.
   */
  'read.marker': { roomId: string; lastRead: number; time: string };
  'member.joined': AboutUser & { role: MemberRole };
  /** `newOwner`: who owns the room now, when the owner left (null otherwise, or if nobody is left). */
  'member.left': AboutUser & { newOwner: UserView | null };
  'member.invited': AboutUser & { by: UserView };
  'member.kicked': AboutUser & { by: UserView; reason: string };
  'member.banned': AboutUser & { by: UserView; reason: string };
  'member.unbanned': AboutUser & { by: UserView };
  'member.role': AboutUser & { role: MemberRole; by: UserView };
  'invitation.received': InvitationView;
  'invitation.declined': AboutUser;
  /** Ownership passed: `userId` is the new owner, `previous` the old one (now an admin). */
  'room.owner': AboutUser & { previous: UserView | null; by: UserView };
  'room.updated': RoomSettings & { roomId: string; by: UserView; time: string };
  'room.deleted': { roomId: string; by: UserView; reason: 'owner' | 'empty'; time: string };
  'conversation.opened': { roomId: string; peer: UserView; time: string };
  'user.blocked': { roomId: string; userId: string; time: string };
  'user.unblocked': { roomId: string; userId: string; time: string };
  /**
   * A contact's status changed (someone sharing a room or conversation of at most the presence
   * fan-out size with the user, or the user themselves as others see them). `position` is a
   * presence-stream position (see "Positions and delivery").
   */
  'presence.changed': PresenceView;
  /** The user's own choice changed (on any device). `position` is 0. */
  'presence.mine': OwnPresenceView;
  /**
   * Someone started or stopped typing in one of the user's rooms or conversations. Never
   * stored, never replayed; `position` is 0. Treat `typing: true` as over after `expiresInMs`
   * unless it is repeated.
   */
  typing: { roomId: string; userId: string; username: string; typing: boolean; expiresInMs: number };
  /**
   * This gateway is stopping: finish or retry what is in flight, then reconnect (another gateway
   * will answer) after a random wait of up to `reconnectWithinMs`. The close (1012) follows.
   */
  'server.shutdown': { reason: string; reconnectWithinMs: number };
  /** To the warned user's connections. `by` null: automatic (`rule` names it). */
  'moderation.warned': { reason: string; by: UserView | null; rule: string | null; time: string };
  /** To the muted user's connections: no posting in `roomId` (anywhere when null) until `until`. */
  'moderation.muted': MuteView;
  /** To the user: the mute ended (`expired`, or `lifted` by a moderator). */
  'moderation.unmuted': { muteId: string; roomId: string | null; reason: 'expired' | 'lifted'; time: string };
  /** To the user: their server role changed (null: none). */
  'moderation.role': { role: ServerRole | null; by: UserView; time: string };
  /** To every moderator and administrator: a report was filed (or a message held), or one changed state. */
  'moderation.report': ReportView;
}
export type WsEventName = keyof WsEvents;

/** The `moderation.*` events (news for one user, position 0). */
export type ModerationNewsName = Extract<WsEventName, `moderation.${string}`>;
/**
 * What the moderation service publishes to `s.live.userModeration(userId)`: JSON
 * `{ "event": "moderation.<name>", "data": {...} }`. Every gateway with a connection of that
 * user checks it and sends it on to those connections as an event frame (position 0);
 * anything else on that subject is dropped.
 */
export type UserModerationNews = { [E in ModerationNewsName]: { event: E; data: WsEvents[E] } }[ModerationNewsName];

export interface WsRequestFrame<O extends WsOp = WsOp> {
  type: 'req';
  /** Client-chosen, 1-64 characters; echoed in the reply. */
  id: string;
  op: O;
  data?: WsOps[O]['req'];
}
export type WsReplyFrame<O extends WsOp = WsOp> =
  { type: 'res'; id: string; ok: true; data: WsOps[O]['res'] } | { type: 'res'; id: string | null; ok: false; error: ErrorBody };
export interface WsEventFrame<E extends WsEventName = WsEventName> {
  type: 'evt';
  event: E;
  /** Stream position of the event (JetStream sequence), for ordering and resume. */
  position: number;
  data: WsEvents[E];
}
export type WsServerFrame = WsReplyFrame | WsEventFrame;

/**
 * What the gateway answers about a resume (`auth` with `resumeFrom`). `resumed`: every event
 * stored after `from` up to `upTo` was sent before the reply (`replayed` of them), and
 * everything after `upTo` follows live. `reload`: nothing was replayed; fetch state afresh
 * (`too_far_behind`: more than the gateway's RESUME_MAX_GAP positions or RESUME_MAX_EVENTS
 * events; `purged`: retention removed events after `from`; `unknown_position`: `from` is
 * beyond the newest stored event). `latest` is the newest stored position.
 */
export type ResumeResult =
  | { status: 'resumed'; from: number; upTo: number; replayed: number }
  | { status: 'reload'; reason: 'too_far_behind' | 'purged' | 'unknown_position'; latest: number };

/** Close codes the gateway uses (4000-4999 are application codes). */
export const WsCloseCodes = {
  authTimeout: 4401,
  tokenExpired: 4403,
  tooManyBadFrames: 4400,
  slowConsumer: 4408,
  /** The session was revoked: logged out (here or everywhere), password changed elsewhere, account deleted. Log in again. */
  sessionRevoked: 4410,
  /** An administrator disabled the account. Do not reconnect. */
  accountDisabled: 4411,
  /** A moderator banned the user from the server (or an automatic ban for review). Do not reconnect. */
  serverBanned: 4412,
  /** A moderator disconnected the user from the server (mod.kick). Reconnecting is allowed. */
  serverKicked: 4413,
  /** The user already has WS_MAX_CONNECTIONS_PER_USER connections on this gateway. */
  tooManyConnections: 4429,
  /** The connection kept sending over its request rate limit (WsLimits.rateLimitedBeforeClose refusals in a row). */
  requestFlood: 4430,
  /** Graceful shutdown (Service Restart): reconnect, another gateway answers. */
  shuttingDown: 1012,
} as const;

export const WsLimits = {
  /** Largest frame the gateway reads; larger frames get FRAME_TOO_LARGE and are not processed. */
  maxFrameBytes: 64 * 1024,
  /** Frames above this are cut off by the socket layer (close 1009). */
  hardMaxFrameBytes: 1024 * 1024,
  /** Time allowed between connecting and a successful `auth`. */
  authTimeoutMs: 10_000,
  /** Consecutive bad frames after which the gateway closes the connection. */
  maxConsecutiveBadFrames: 50,
  requestIdMaxChars: 64,
  /** A connection forwards `typing: true` for one room at most this often; repeats in between are answered but not sent on. */
  typingMinIntervalMs: 2000,
  /** `typing` events say `expiresInMs` this long: a typist repeats `typing: true` within it. */
  typingExpiresMs: 6000,
  /** Requests refused RATE_LIMITED in a row (by the request rate limit) after which the connection is closed (4430). */
  rateLimitedBeforeClose: 100,
} as const;
