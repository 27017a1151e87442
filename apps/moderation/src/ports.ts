import type { MuteView, ServerRole, StrikeKind, UserView } from '@chat/contracts';

/**
 * What the parts of the moderation service offer each other, as Nest injection tokens
 * (abstract classes). `sanctions/`, `roles/` and `reports/` provide them; the send-path check
 * (`filters/`, `check/`) and the subscribers (`subscribers/`) use them. Each part folds the
 * moderation stream itself (ModerationLog), so every method that reads answers from memory.
 */

/** Who asks: the caller fields the gateway added (verified token). */
export type Caller = UserView;

/**
 * What caused an automatic append that may be carried out more than once (a subscriber's
 * verdict, redelivered to this replica or another). `msgId` is derived from the cause (the
 * source event's stream and sequence and the verdict's index, see subscribers/worker.ts): the
 * append is stored once whichever replica makes it, and the ids it stores (strike, mute,
 * report) are derived from it too, so every replica names the same thing. This holds within
 * the moderation stream's duplicate window (2 minutes), far longer than a redelivery takes.
 */
export interface Cause {
  msgId: string;
  correlationId: string;
  /** The id of the event that caused it (the source event). */
  causationId: string | null;
}

/** Server roles (SERVER_ADMINS from config, then ServerRoleSet events) and room staff. */
export abstract class PermissionsPort {
  /** The user's server role; SERVER_ADMINS (by username) are administrators. */
  abstract serverRole(userId: string, username: string): ServerRole | null;
  /** FORBIDDEN unless the caller has one of `roles` (default: administrator or moderator). */
  abstract requireServerRole(caller: Caller, roles?: readonly ServerRole[]): void;
  /**
   * For room-scope moderation (room filters, room mutes): the caller is the room's owner or an
   * admin of it (asked of the rooms service, `rooms.details`), or has a server role. NOT_FOUND
   * for a room the caller cannot see, FORBIDDEN otherwise.
   */
  abstract requireRoomStaff(caller: Caller, roomId: string, correlationId: string): Promise<void>;
}

/** Mutes and server bans, as the send path and the subscribers need them. */
export abstract class SanctionsPort {
  /** The mute that applies to the user in `roomId` now (a room mute there or a server-wide one; the later-ending one), or null. */
  abstract activeMute(userId: string, roomId: string): MuteView | null;
  abstract isServerBanned(userId: string): boolean;
  /** An automatic mute (by a rule or escalation): `by` null, `rule` named. */
  abstract muteByRule(
    m: {
      userId: string;
      username: string;
      roomId: string | null;
      seconds: number;
      reason: string;
      rule: string;
    },
    cause?: Cause,
  ): Promise<void>;
  abstract warnByRule(w: { userId: string; username: string; reason: string; rule: string }, cause?: Cause): Promise<void>;
}

/** Strikes, and the escalation they trigger (warn, timed mute, ban for review). */
export abstract class StrikesPort {
  abstract record(
    s: {
      userId: string;
      username: string;
      kind: StrikeKind;
      detail: string;
      roomId: string | null;
      rule: string | null;
    },
    cause?: Cause,
  ): Promise<void>;
}

/** The reports queue, for held messages and rules' reports. */
export abstract class ReportsPort {
  /** Files a `held` report for a message the filters held; returns its id. */
  abstract fileHeld(h: {
    roomId: string;
    senderId: string;
    senderName: string;
    clientMsgId: string;
    body: string;
    reason: string;
    rule: string;
  }): Promise<string>;
  /**
   * true when `reportId` is a held report still open or claimed, for exactly this sender, room
   * and body: the check then allows the message (a moderator is approving it).
   */
  abstract isApprovable(reportId: string, m: { roomId: string; senderId: string; body: string }): boolean;
  /** Files a `rule` report (a subscriber's verdict); returns its id (with a cause: the id derived from it, also for a duplicate). */
  abstract fileByRule(
    r: {
      roomId: string | null;
      messageId: string | null;
      targetUserId: string;
      targetUsername: string;
      excerpt: string | null;
      reason: string;
      rule: string;
    },
    cause?: Cause,
  ): Promise<string>;
}
