import type { Event } from '../envelope';
import type { FilterConfig } from './filters';

/**
 * Events of the moderation stream (NS_MODERATION, `ns.mod.>`), the source of truth for
 * filters, server roles, sanctions, strikes and reports. Every moderation replica folds the
 * whole stream (it is small next to the chat stream) and answers from that fold; the audit log
 * is this stream read back. `byUserId`/`byUsername` null: the moderation service itself
 * (an automatic escalation, an expiry, a subscriber's verdict; `rule` then names the rule).
 */
interface By {
  byUserId: string | null;
  byUsername: string | null;
}

/** `ns.mod.filters.server` or `ns.mod.filters.room.<roomId>`: a scope's whole filter configuration, replacing the previous one. */
export type FilterConfigSet = Event<
  'FilterConfigSet',
  { scope: 'server' | 'room'; roomId: string | null; config: FilterConfig; byUserId: string; byUsername: string }
>;

export type ServerRole = 'admin' | 'moderator';
/** `ns.mod.roles.<userId>`: a server role given or taken (`role: null`). Users named in SERVER_ADMINS are administrators whatever this says. */
export type ServerRoleSet = Event<
  'ServerRoleSet',
  { userId: string; username: string; role: ServerRole | null; byUserId: string; byUsername: string }
>;

/**
 * `ns.mod.user.<userId>`: the user may not post (in `roomId`, or anywhere when null) until
 * `until`. A new mute of the same scope replaces the previous one. `strikes`: the count that
 * triggered it, for an automatic escalation (else null).
 */
export type UserMuted = Event<
  'UserMuted',
  { muteId: string; userId: string; username: string; roomId: string | null; until: string; reason: string; rule: string | null } & By
>;
/** The mute ended: `expired` (its time passed; appended by the service) or `lifted` by a moderator. */
export type UserUnmuted = Event<
  'UserUnmuted',
  { muteId: string; userId: string; username: string; roomId: string | null; reason: 'expired' | 'lifted' } & By
>;
/** A warning to the user (shown to them), by a moderator or automatically. */
export type UserWarned = Event<'UserWarned', { userId: string; username: string; reason: string; rule: string | null } & By>;

export type StrikeKind = 'filtered' | 'flood' | 'report' | 'rule';
/**
 * A strike against the user: a filtered message, a flood, an upheld report, a subscriber's
 * verdict. `count`: the user's strikes within the strike window, this one included; the
 * escalation (warn, mute, ban for review) follows from it.
 */
export type StrikeRecorded = Event<
  'StrikeRecorded',
  {
    strikeId: string;
    userId: string;
    username: string;
    kind: StrikeKind;
    detail: string;
    roomId: string | null;
    count: number;
    rule: string | null;
  }
>;

/**
 * `ns.mod.access.<userId>`, followed by every gateway. Banned: connections closed at once
 * (4412), login and token refresh refused (SERVER_BANNED), every command refused. `review`: an
 * automatic ban waiting for a moderator (a report of kind `escalation` is filed with it).
 */
export type UserServerBanned = Event<
  'UserServerBanned',
  { userId: string; username: string; reason: string; review: boolean; rule: string | null } & By
>;
export type UserServerUnbanned = Event<'UserServerUnbanned', { userId: string; username: string } & By>;
/** Disconnected from every gateway now (4413); may log in again. */
export type UserServerKicked = Event<'UserServerKicked', { userId: string; username: string; reason: string } & By>;

export type ReportKind = 'message' | 'held' | 'escalation' | 'rule';
export type ReportState = 'open' | 'claimed' | 'resolved' | 'dismissed';
/**
 * `ns.mod.report.<reportId>`. `message`: a user reported a message; `held`: the filters held a
 * message for review (`held` carries it; resolving approves and posts it, dismissing drops it);
 * `escalation`: an automatic ban for review; `rule`: a subscriber's verdict.
 */
export type ReportFiled = Event<
  'ReportFiled',
  {
    reportId: string;
    kind: ReportKind;
    roomId: string | null;
    messageId: string | null;
    targetUserId: string;
    targetUsername: string;
    /** The start of the reported text (at most Limits.replyExcerptChars code points), as it was when reported. */
    excerpt: string | null;
    reason: string;
    rule: string | null;
    held: { clientMsgId: string; body: string } | null;
  } & By
>;
export type ReportClaimed = Event<'ReportClaimed', { reportId: string; byUserId: string; byUsername: string }>;
/** `action`: what the moderator did about it (free text, or `approved` for a held message that was then posted). */
export type ReportResolved = Event<
  'ReportResolved',
  { reportId: string; action: string; note: string; byUserId: string; byUsername: string }
>;
export type ReportDismissed = Event<'ReportDismissed', { reportId: string; note: string; byUserId: string; byUsername: string }>;

/** A subscriber removed a message through its verdict (the rooms service appends the MessageDeleted). */
export type MessageRedacted = Event<
  'MessageRedacted',
  { roomId: string; messageId: string; userId: string; username: string; reason: string; rule: string }
>;

export type ModerationEvent =
  | FilterConfigSet
  | ServerRoleSet
  | UserMuted
  | UserUnmuted
  | UserWarned
  | StrikeRecorded
  | UserServerBanned
  | UserServerUnbanned
  | UserServerKicked
  | ReportFiled
  | ReportClaimed
  | ReportResolved
  | ReportDismissed
  | MessageRedacted;
export type ModerationEventType = ModerationEvent['type'];
