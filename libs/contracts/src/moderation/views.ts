import type { UserView } from '../views';
import type { ModerationEventType, ReportKind, ReportState, ServerRole } from './events';
import type { FilterConfig } from './filters';

/**
 * The moderation service when it acts on its own (a rule's verdict, e.g. a message removed by a
 * subscriber): the `byUserId`/`byUsername` of the chat events it causes (MessageDeleted with
 * reason `moderator`). Not an account: the id is outside the random UUIDs accounts get.
 */
export const MODERATION_USER: Readonly<UserView> = Object.freeze({
  userId: '00000000-0000-0000-0000-00000000d0d0',
  username: 'moderation',
});

/** A moderation command's answer: the position of the event it stored in the moderation stream. */
export interface ModAck {
  position: number;
}

/** A scope's filter configuration as set (`position` 0, `updatedAt` null: never set, the empty configuration). */
export interface FilterConfigView {
  scope: 'server' | 'room';
  roomId: string | null;
  config: FilterConfig;
  updatedAt: string | null;
  updatedBy: UserView | null;
  position: number;
}

/** `source: config`: named in SERVER_ADMINS (cannot be taken away by an operation). */
export interface ServerRoleView {
  userId: string;
  username: string;
  role: ServerRole;
  source: 'config' | 'granted';
}

export interface MuteView {
  muteId: string;
  userId: string;
  username: string;
  /** null: server-wide. */
  roomId: string | null;
  until: string;
  reason: string;
  /** null: automatic (`rule` names the rule). */
  by: UserView | null;
  rule: string | null;
  time: string;
}

export interface ServerBanView {
  userId: string;
  username: string;
  reason: string;
  review: boolean;
  by: UserView | null;
  rule: string | null;
  time: string;
}

export interface ReportView {
  reportId: string;
  kind: ReportKind;
  state: ReportState;
  roomId: string | null;
  messageId: string | null;
  target: UserView;
  excerpt: string | null;
  reason: string;
  rule: string | null;
  /** The held message (kind `held`). */
  held: { clientMsgId: string; body: string } | null;
  /** Who reported it; null: automatic. */
  by: UserView | null;
  time: string;
  /** Stream position of the ReportFiled: the queue's order and cursor. */
  position: number;
  claimedBy: UserView | null;
  closedBy: UserView | null;
  closedAt: string | null;
  action: string | null;
  note: string | null;
}

/** One moderation event, as moderators read the audit log (newest first). */
export interface AuditEntry {
  position: number;
  time: string;
  type: ModerationEventType;
  /** Who did it; null: the moderation service (`rule` says why). */
  actor: UserView | null;
  rule: string | null;
  /** The user it is about, if any. */
  target: UserView | null;
  roomId: string | null;
  /** One line for people, e.g. "muted in general for 10 min: spam". */
  summary: string;
}

/** The caller's own standing: their server role, active mutes and strikes within the window. */
export interface OwnModerationView {
  role: ServerRole | null;
  mutes: MuteView[];
  strikes: number;
}
