import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Rpc, type AuditEntry, type AuditRpc } from '@chat/contracts';
import { PermissionsService } from '../roles/permissions.service';
import { AuditService } from './audit.service';

/** Page size of the audit log when the request names none. */
const PAGE_DEFAULT = 50;

/** NATS adapter of the audit log: moderators and administrators only. */
@Controller()
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly perms: PermissionsService,
  ) {}

  @MessagePattern(Rpc.moderationAudit)
  page(@Payload() req: AuditRpc): { entries: AuditEntry[]; nextBefore: number | null } {
    // The caller comes as actor: `userId` is the filter (entries about that user).
    this.perms.requireServerRole({ userId: req.actorId, username: req.actorName });
    return this.audit.page({ userId: req.userId, roomId: req.roomId, before: req.before, limit: req.limit ?? PAGE_DEFAULT });
  }
}
