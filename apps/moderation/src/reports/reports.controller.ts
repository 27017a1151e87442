import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  Rpc,
  type CloseReportRpc,
  type ModAck,
  type ReportMessageRpc,
  type ReportRpc,
  type ReportView,
  type ReportsRpc,
} from '@chat/contracts';
import type { RpcCallContext } from '@chat/platform';
import { ReportsOps } from './reports.ops';

const caller = (req: { userId: string; username: string }) => ({ userId: req.userId, username: req.username });

/** NATS adapter of the reports queue. */
@Controller()
export class ReportsController {
  constructor(private readonly ops: ReportsOps) {}

  @MessagePattern(Rpc.moderationReport)
  report(@Payload() req: ReportMessageRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck & { reportId: string }> {
    return this.ops.report(caller(req), req, ctx.correlationId);
  }

  @MessagePattern(Rpc.moderationReports)
  reports(@Payload() req: ReportsRpc): { reports: ReportView[]; nextBefore: number | null } {
    return this.ops.queue(caller(req), req);
  }

  @MessagePattern(Rpc.moderationClaimReport)
  claim(@Payload() req: ReportRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.ops.claim(caller(req), req.reportId, ctx.correlationId);
  }

  @MessagePattern(Rpc.moderationResolveReport)
  resolve(@Payload() req: CloseReportRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.ops.resolve(caller(req), req, ctx.correlationId);
  }

  @MessagePattern(Rpc.moderationDismissReport)
  dismiss(@Payload() req: CloseReportRpc, @Ctx() ctx: RpcCallContext): Promise<ModAck> {
    return this.ops.dismiss(caller(req), req, ctx.correlationId);
  }
}
