import type { MemberRole } from '../rooms/events';

/**
 * The send path's question to moderation (rooms asks before every append of a new or edited
 * text). `senderRole`: the sender's role in the room (owners and admins skip the rate limits,
 * never the content filters). `heldReportId`: set only by the moderation service itself when a
 * moderator approves a held message (`mod.report.resolve` of a `held` report): the check then
 * allows exactly that message. Clients cannot set it (the gateway's request DTO lacks it).
 */
export interface ModerationCheckRequest {
  roomId: string;
  senderId: string;
  senderName: string;
  senderRole: MemberRole;
  /** `post` (message.send, dm.send) or `edit` (message.edit: a hold verdict refuses the edit instead). */
  kind: 'post' | 'edit';
  clientMsgId: string | null;
  body: string;
  heldReportId: string | null;
}

/** Why a message was refused; the rooms service answers the client with this code. */
export type ModerationRejectCode = 'CONTENT_BLOCKED' | 'MUTED' | 'RATE_LIMITED' | 'SERVER_BANNED';

/**
 * `allow`: post `body` (possibly masked). `reject`: refused with `code` (`retryAfterMs` for
 * RATE_LIMITED and MUTED: when sending may succeed). `hold`: not posted now; a report of kind
 * `held` (`reportId`) waits for a moderator, and the client is answered HELD_FOR_REVIEW.
 */
export type ModerationVerdict =
  | { verdict: 'allow'; body: string }
  | { verdict: 'reject'; code: ModerationRejectCode; reason: string; rule: string; retryAfterMs: number | null }
  | { verdict: 'hold'; reason: string; rule: string; reportId: string };
