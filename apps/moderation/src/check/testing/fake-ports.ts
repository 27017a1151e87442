import { ChatError, type MuteView, type ServerRole } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { PermissionsPort, ReportsPort, SanctionsPort, StrikesPort, type Caller } from '../../ports';

/**
 * In-memory stand-ins of the ports, for the send check's unit tests and the filters' int test
 * (which starts the real service with these bound, so it can look at what the check asked for).
 * They keep what they are told and answer from it; the real ones fold the moderation stream.
 */
export class FakePermissions extends PermissionsPort {
  readonly roles = new Map<string, ServerRole>();
  /** roomId -> user ids that are owners or admins there. */
  readonly roomStaff = new Map<string, Set<string>>();

  serverRole(userId: string): ServerRole | null {
    return this.roles.get(userId) ?? null;
  }
  requireServerRole(caller: Caller, roles: readonly ServerRole[] = ['admin', 'moderator']): void {
    const role = this.serverRole(caller.userId);
    if (role === null || !roles.includes(role)) throw new ChatError('FORBIDDEN', 'a server role is needed');
  }
  requireRoomStaff(caller: Caller, roomId: string): Promise<void> {
    if (this.serverRole(caller.userId) !== null || this.roomStaff.get(roomId)?.has(caller.userId)) return Promise.resolve();
    return Promise.reject(new ChatError('FORBIDDEN', 'room owners and admins only'));
  }
}

export class FakeSanctions extends SanctionsPort {
  readonly banned = new Set<string>();
  readonly mutes: MuteView[] = [];

  activeMute(userId: string, roomId: string): MuteView | null {
    return this.mutes.find((m) => m.userId === userId && (m.roomId === null || m.roomId === roomId)) ?? null;
  }
  isServerBanned(userId: string): boolean {
    return this.banned.has(userId);
  }
  muteByRule(): Promise<void> {
    return Promise.resolve();
  }
  warnByRule(): Promise<void> {
    return Promise.resolve();
  }
}

export class FakeStrikes extends StrikesPort {
  readonly recorded: Array<Parameters<StrikesPort['record']>[0]> = [];
  record(s: Parameters<StrikesPort['record']>[0]): Promise<void> {
    this.recorded.push(s);
    return Promise.resolve();
  }
}

export class FakeReports extends ReportsPort {
  readonly held: Array<Parameters<ReportsPort['fileHeld']>[0] & { reportId: string; open: boolean }> = [];
  fileHeld(h: Parameters<ReportsPort['fileHeld']>[0]): Promise<string> {
    const reportId = randomUUID();
    this.held.push({ ...h, reportId, open: true });
    return Promise.resolve(reportId);
  }
  isApprovable(reportId: string, m: { roomId: string; senderId: string; body: string }): boolean {
    return this.held.some(
      (h) => h.reportId === reportId && h.open && h.roomId === m.roomId && h.senderId === m.senderId && h.body === m.body,
    );
  }
  fileByRule(): Promise<string> {
    return Promise.resolve(randomUUID());
  }
}
