import { Injectable } from '@nestjs/common';
import type { AuditEntry, UserView } from '@chat/contracts';
import { ModerationLog } from '../log/moderation-log';
import { auditPage, auditRecord, type AuditRecord } from './audit';

/**
 * The audit log: every event of the moderation stream as this replica folds it, in position
 * order, read newest first with moderation.audit (the stream itself is the record; this is
 * its index in memory, rebuilt by the replay at start-up).
 */
@Injectable()
export class AuditService {
  private readonly records: AuditRecord[] = [];
  /** Target and room of each report, for the entries of its claim and closing. */
  private readonly reports = new Map<string, { target: UserView; roomId: string | null }>();

  constructor(log: ModerationLog) {
    log.onEvent(({ event, position }) => {
      if (event.type === 'ReportFiled')
        this.reports.set(event.payload.reportId, {
          target: { userId: event.payload.targetUserId, username: event.payload.targetUsername },
          roomId: event.payload.roomId,
        });
      this.records.push(auditRecord(event, position, (id) => this.reports.get(id)));
    });
  }

  page(q: { userId?: string; roomId?: string; before?: number; limit: number }): { entries: AuditEntry[]; nextBefore: number | null } {
    return auditPage(this.records, q);
  }
}
