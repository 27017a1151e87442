import { Inject, Injectable } from '@nestjs/common';
import {
  ChatError,
  makeEvent,
  type ReportClaimed,
  type ReportDismissed,
  type ReportResolved,
  type ReportState,
  type ReportView,
  type Subjects,
  type UserServerUnbanned,
  type UserView,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { ModerationLog } from '../log/moderation-log';
import { PermissionsService } from '../roles/permissions.service';
import { eventContext, store } from '../sanctions/commands';
import { SanctionsService } from '../sanctions/sanctions.service';
import { StrikesService } from '../sanctions/strikes.service';
import { decideClaim, decideClose, isOpen, reportsPage, requireReport } from './reports';
import { ReportsService, excerptOf } from './reports.service';

/** Page size of the queue when the request names none. */
const PAGE_DEFAULT = 50;

/**
 * The reports operations: users report messages; moderators and administrators page the queue,
 * claim, resolve and dismiss. A state change is appended expecting the report's subject
 * unchanged since the decision (two moderators closing the same report: one CONFLICT).
 */
@Injectable()
export class ReportsOps {
  constructor(
    private readonly log: ModerationLog,
    private readonly reports: ReportsService,
    private readonly perms: PermissionsService,
    private readonly sanctions: SanctionsService,
    private readonly strikes: StrikesService,
    private readonly rpc: RpcClient,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /**
   * report.create: the reporter must be able to read the message (history answers as them:
   * NOT_FOUND otherwise); the excerpt is its text as it is now. Reporting the same message
   * again while the first report is open answers that report.
   */
  async report(
    caller: UserView,
    req: { roomId: string; messageId: string; reason: string },
    correlationId: string,
  ): Promise<{ position: number; reportId: string }> {
    const message = await this.rpc.callOrThrow(
      'history.message',
      { userId: caller.userId, roomId: req.roomId, messageId: req.messageId },
      { correlationId },
    );
    if (message.deleted) throw new ChatError('NOT_FOUND', `message "${req.messageId}" does not exist in "${req.roomId}"`);
    if (message.senderId === caller.userId) throw new ChatError('FORBIDDEN', 'you cannot report your own message');
    const open = this.reports.reports.order.find(
      (r) =>
        r.kind === 'message' && isOpen(r) && r.messageId === req.messageId && r.roomId === req.roomId && r.by?.userId === caller.userId,
    );
    if (open) return { position: open.position, reportId: open.reportId };
    return this.reports.file(
      'message',
      {
        roomId: req.roomId,
        messageId: req.messageId,
        target: { userId: message.senderId, username: message.senderName },
        excerpt: excerptOf(message.body),
        reason: req.reason,
        rule: null,
        held: null,
        by: caller,
      },
      correlationId,
    );
  }

  queue(
    caller: UserView,
    q: { state?: ReportState; before?: number; limit?: number },
  ): { reports: ReportView[]; nextBefore: number | null } {
    this.perms.requireServerRole(caller);
    return reportsPage(this.reports.reports, { state: q.state, before: q.before, limit: q.limit ?? PAGE_DEFAULT });
  }

  async claim(caller: UserView, reportId: string, correlationId: string): Promise<{ position: number }> {
    this.perms.requireServerRole(caller);
    const report = requireReport(this.reports.reports, reportId);
    if (decideClaim(report, caller) === 'already') return { position: this.lastSeq(reportId) };
    const event = makeEvent<ReportClaimed>(eventContext(caller, correlationId), 'ReportClaimed', 1, {
      reportId,
      byUserId: caller.userId,
      byUsername: caller.username,
    });
    return this.change(reportId, event);
  }

  /**
   * Resolve. `held`: approve — the message is posted as its sender (rooms.post with the
   * report's id, which the check lets through), then the report is resolved `approved`; if
   * posting fails (the sender left the room...) its error is the answer and nothing changes.
   * `message`: upheld — a `report` strike on the target. `escalation`: the ban stays.
   */
  async resolve(
    caller: UserView,
    req: { reportId: string; note?: string; action?: string },
    correlationId: string,
  ): Promise<{ position: number }> {
    this.perms.requireServerRole(caller);
    const report = requireReport(this.reports.reports, req.reportId);
    decideClose(report);
    let action = req.action ?? 'upheld';
    if (report.kind === 'held' && report.held && report.roomId) {
      await this.rpc.callOrThrow(
        'rooms.post',
        {
          userId: report.target.userId,
          username: report.target.username,
          roomId: report.roomId,
          clientMsgId: report.held.clientMsgId,
          body: report.held.body,
          heldReportId: report.reportId,
        },
        { correlationId },
      );
      action = 'approved';
    }
    const event = makeEvent<ReportResolved>(eventContext(caller, correlationId), 'ReportResolved', 1, {
      reportId: report.reportId,
      action,
      note: req.note ?? '',
      byUserId: caller.userId,
      byUsername: caller.username,
    });
    const ack = await this.change(report.reportId, event);
    if (report.kind === 'message')
      await this.strikes.record({ ...report.target, kind: 'report', detail: report.reason, roomId: report.roomId, rule: null });
    return ack;
  }

  /**
   * Dismiss. `held`: the message is dropped (never posted). `escalation`: the automatic ban is
   * lifted (a UserServerUnbanned by the moderator) when it is still the ban for review.
   */
  async dismiss(caller: UserView, req: { reportId: string; note?: string }, correlationId: string): Promise<{ position: number }> {
    this.perms.requireServerRole(caller);
    const report = requireReport(this.reports.reports, req.reportId);
    decideClose(report);
    const event = makeEvent<ReportDismissed>(eventContext(caller, correlationId), 'ReportDismissed', 1, {
      reportId: report.reportId,
      note: req.note ?? '',
      byUserId: caller.userId,
      byUsername: caller.username,
    });
    const ack = await this.change(report.reportId, event);
    const ban = this.sanctions.bans.get(report.target.userId);
    if (report.kind === 'escalation' && ban?.review) {
      const unban = makeEvent<UserServerUnbanned>(eventContext(caller, correlationId), 'UserServerUnbanned', 1, {
        ...report.target,
        byUserId: caller.userId,
        byUsername: caller.username,
      });
      await store(this.log, this.s.moderation.access(report.target.userId), unban, `dismiss-unban:${report.reportId}`);
    }
    return ack;
  }

  private lastSeq(reportId: string): number {
    return this.sanctions.lastSeq.get(this.s.moderation.report(reportId)) ?? 0;
  }

  private async change(reportId: string, event: ReportClaimed | ReportResolved | ReportDismissed): Promise<{ position: number }> {
    const r = await store(this.log, this.s.moderation.report(reportId), event, event.id, this.lastSeq(reportId));
    await this.reports.announce(reportId);
    return { position: r.seq };
  }
}
