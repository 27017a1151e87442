import { Inject, Injectable } from '@nestjs/common';
import { Limits, makeEvent, type ReportFiled, type ReportKind, type ReportView, type Subjects, type UserView } from '@chat/contracts';
import { SUBJECTS } from '@chat/platform';
import { ModerationLog } from '../log/moderation-log';
import { ReportsPort, type Cause } from '../ports';
import { PermissionsService } from '../roles/permissions.service';
import { byFields, eventContext, store } from '../sanctions/commands';
import { ModerationNews } from '../sanctions/news';
import { emptyReports, evolveReports, isApprovable, openHeldFor, type Reports } from './reports';

/** The first Limits.replyExcerptChars code points of a text (never half of a surrogate pair). */
export function excerptOf(body: string): string {
  const chars = Array.from(body);
  return chars.length <= Limits.replyExcerptChars ? body : chars.slice(0, Limits.replyExcerptChars).join('');
}

/** What a filing needs besides its kind; `by` null: filed by the service (held, escalation, a rule). */
export interface Filing {
  roomId: string | null;
  messageId: string | null;
  target: UserView;
  excerpt: string | null;
  reason: string;
  rule: string | null;
  held: { clientMsgId: string; body: string } | null;
  by: UserView | null;
}

/**
 * The reports queue as this replica folds it (ReportFiled, -Claimed, -Resolved, -Dismissed),
 * filing for the send path (held messages), the escalation and the subscribers (ReportsPort).
 * Every filing and state change is announced to the server's moderators and administrators
 * (`moderation.report`) by the replica that stored it.
 */
@Injectable()
export class ReportsService extends ReportsPort {
  readonly reports: Reports = emptyReports();

  constructor(
    private readonly log: ModerationLog,
    private readonly perms: PermissionsService,
    private readonly news: ModerationNews,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {
    super();
    log.onEvent(({ event, position }) => {
      if (
        event.type === 'ReportFiled' ||
        event.type === 'ReportClaimed' ||
        event.type === 'ReportResolved' ||
        event.type === 'ReportDismissed'
      )
        evolveReports(this.reports, event, position);
    });
  }

  /** A retried send of the same held text (same client id) gets the report already open for it. */
  async fileHeld(h: {
    roomId: string;
    senderId: string;
    senderName: string;
    clientMsgId: string;
    body: string;
    reason: string;
    rule: string;
  }): Promise<string> {
    const open = openHeldFor(this.reports, h);
    if (open) return open.reportId;
    return (
      await this.file('held', {
        roomId: h.roomId,
        messageId: null,
        target: { userId: h.senderId, username: h.senderName },
        excerpt: excerptOf(h.body),
        reason: h.reason,
        rule: h.rule,
        held: { clientMsgId: h.clientMsgId, body: h.body },
        by: null,
      })
    ).reportId;
  }

  isApprovable(reportId: string, m: { roomId: string; senderId: string; body: string }): boolean {
    return isApprovable(this.reports.byId.get(reportId), m);
  }

  /** With a cause (a subscriber's verdict), filed once under its msgId, with the report id derived from it. */
  async fileByRule(
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
  ): Promise<string> {
    const filing: Filing = {
      roomId: r.roomId,
      messageId: r.messageId,
      target: { userId: r.targetUserId, username: r.targetUsername },
      excerpt: r.excerpt === null ? null : excerptOf(r.excerpt),
      reason: r.reason,
      rule: r.rule,
      held: null,
      by: null,
    };
    return (await this.file('rule', filing, cause?.correlationId, cause?.msgId, cause?.causationId)).reportId;
  }

  /** The report that comes with an automatic ban for review. */
  async fileEscalation(target: UserView, reason: string, correlationId: string, msgId: string): Promise<string> {
    const filing: Filing = { roomId: null, messageId: null, target, excerpt: null, reason, rule: 'strikes', held: null, by: null };
    return (await this.file('escalation', filing, correlationId, msgId)).reportId;
  }

  /**
   * Appends a ReportFiled (msgId: the event's id unless given) and announces it. With a msgId
   * the report's id is derived from it, so a duplicate (a retry, another replica) answers the
   * id of the report stored.
   */
  async file(
    kind: ReportKind,
    f: Filing,
    correlationId?: string,
    msgId?: string,
    causationId?: string | null,
  ): Promise<{ reportId: string; position: number }> {
    const ctx = eventContext(f.by, correlationId, msgId, causationId);
    const reportId = ctx.newId();
    const event = makeEvent<ReportFiled>(ctx, 'ReportFiled', 1, {
      reportId,
      kind,
      roomId: f.roomId,
      messageId: f.messageId,
      targetUserId: f.target.userId,
      targetUsername: f.target.username,
      excerpt: f.excerpt,
      reason: f.reason,
      rule: f.rule,
      held: f.held,
      ...byFields(f.by),
    });
    const r = await store(this.log, this.s.moderation.report(reportId), event, msgId);
    if (!r.duplicate) await this.announce(reportId);
    return { reportId, position: r.seq };
  }

  /** Sends the report as it now is to every moderator and administrator. */
  async announce(reportId: string): Promise<void> {
    const view: ReportView | undefined = this.reports.byId.get(reportId);
    if (view) this.news.sendAll(await this.perms.staff(), 'moderation.report', view);
  }
}
