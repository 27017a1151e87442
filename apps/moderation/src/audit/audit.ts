import type { AuditEntry, ModerationEvent, UserView } from '@chat/contracts';

/** An audit entry and the users it involves (actor, target), for the user filter. */
export interface AuditRecord {
  entry: AuditEntry;
  userIds: string[];
}

const user = (userId: string | null, username: string | null): UserView | null => (userId && username ? { userId, username } : null);

/** "10 min", "2 h", "3 d": a mute's length for people. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

const withReason = (text: string, reason: string) => (reason ? `${text}: ${reason}` : text);
const where = (roomId: string | null) => (roomId ? `in ${roomId}` : 'server-wide');

/**
 * One moderation event as moderators read it in the audit log: who did it (null: the service,
 * `rule` says why), about whom, where, and a line for people. Every event type has one. A
 * report's claim and closing are about the report's target and room (`reportOf`, from the filing).
 */
export function auditRecord(
  event: ModerationEvent,
  position: number,
  reportOf: (reportId: string) => { target: UserView; roomId: string | null } | undefined = () => undefined,
): AuditRecord {
  const base = { position, time: event.time, type: event.type };
  const make = (
    actor: UserView | null,
    rule: string | null,
    target: UserView | null,
    roomId: string | null,
    summary: string,
  ): AuditRecord => ({
    entry: { ...base, actor, rule, target, roomId, summary },
    userIds: [...new Set([actor?.userId, target?.userId].filter((id): id is string => !!id))],
  });
  /** A moderator's step on a report: about the report's target and room. */
  const aboutReport = (p: { byUserId: string; byUsername: string; reportId: string }, summary: string): AuditRecord => {
    const r = reportOf(p.reportId);
    return make(user(p.byUserId, p.byUsername), null, r?.target ?? null, r?.roomId ?? null, summary);
  };
  switch (event.type) {
    case 'FilterConfigSet': {
      const p = event.payload;
      const c = p.config;
      const counts = `${c.words.length} words, ${c.allow.length} allowed, ${c.patterns.length} patterns, ${c.links.domains.length} domains`;
      return make(
        user(p.byUserId, p.byUsername),
        null,
        null,
        p.roomId,
        `set the ${p.scope === 'server' ? 'server' : `room ${p.roomId}`} filters (${counts})`,
      );
    }
    case 'ServerRoleSet': {
      const p = event.payload;
      const target = { userId: p.userId, username: p.username };
      return make(
        user(p.byUserId, p.byUsername),
        null,
        target,
        null,
        p.role ? `made ${p.username} ${p.role === 'admin' ? 'an administrator' : 'a moderator'}` : `took ${p.username}'s server role`,
      );
    }
    case 'UserMuted': {
      const p = event.payload;
      const length = duration(Date.parse(p.until) - Date.parse(event.time));
      return make(
        user(p.byUserId, p.byUsername),
        p.rule,
        { userId: p.userId, username: p.username },
        p.roomId,
        withReason(`muted ${p.username} ${where(p.roomId)} for ${length}`, p.reason),
      );
    }
    case 'UserUnmuted': {
      const p = event.payload;
      const text =
        p.reason === 'expired' ? `${p.username}'s mute ${where(p.roomId)} expired` : `lifted ${p.username}'s mute ${where(p.roomId)}`;
      return make(user(p.byUserId, p.byUsername), null, { userId: p.userId, username: p.username }, p.roomId, text);
    }
    case 'UserWarned': {
      const p = event.payload;
      return make(
        user(p.byUserId, p.byUsername),
        p.rule,
        { userId: p.userId, username: p.username },
        null,
        withReason(`warned ${p.username}`, p.reason),
      );
    }
    case 'StrikeRecorded': {
      const p = event.payload;
      return make(
        null,
        p.rule,
        { userId: p.userId, username: p.username },
        p.roomId,
        withReason(`strike ${p.count} for ${p.username} (${p.kind})`, p.detail),
      );
    }
    case 'UserServerBanned': {
      const p = event.payload;
      return make(
        user(p.byUserId, p.byUsername),
        p.rule,
        { userId: p.userId, username: p.username },
        null,
        withReason(`banned ${p.username} from the server${p.review ? ' (for review)' : ''}`, p.reason),
      );
    }
    case 'UserServerUnbanned': {
      const p = event.payload;
      return make(user(p.byUserId, p.byUsername), null, { userId: p.userId, username: p.username }, null, `unbanned ${p.username}`);
    }
    case 'UserServerKicked': {
      const p = event.payload;
      return make(
        user(p.byUserId, p.byUsername),
        null,
        { userId: p.userId, username: p.username },
        null,
        withReason(`kicked ${p.username} from the server`, p.reason),
      );
    }
    case 'ReportFiled': {
      const p = event.payload;
      const what = p.kind === 'held' ? `held a message of ${p.targetUsername} for review` : `reported ${p.targetUsername} (${p.kind})`;
      return make(
        user(p.byUserId, p.byUsername),
        p.rule,
        { userId: p.targetUserId, username: p.targetUsername },
        p.roomId,
        withReason(what, p.reason),
      );
    }
    case 'ReportClaimed':
      return aboutReport(event.payload, `claimed report ${event.payload.reportId}`);
    case 'ReportResolved': {
      const p = event.payload;
      return aboutReport(p, withReason(`resolved report ${p.reportId} (${p.action})`, p.note));
    }
    case 'ReportDismissed': {
      const p = event.payload;
      return aboutReport(p, withReason(`dismissed report ${p.reportId}`, p.note));
    }
    case 'MessageRedacted': {
      const p = event.payload;
      return make(
        null,
        p.rule,
        { userId: p.userId, username: p.username },
        p.roomId,
        withReason(`removed a message of ${p.username} in ${p.roomId}`, p.reason),
      );
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/**
 * The audit log, newest first: entries filed before `before`, about `userId` (as actor or
 * target) and in `roomId` when given. `records` is in position order (the fold appends).
 */
export function auditPage(
  records: AuditRecord[],
  q: { userId?: string; roomId?: string; before?: number; limit: number },
): { entries: AuditEntry[]; nextBefore: number | null } {
  const out: AuditEntry[] = [];
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (q.before !== undefined && r.entry.position >= q.before) continue;
    if (q.userId && !r.userIds.includes(q.userId)) continue;
    if (q.roomId && r.entry.roomId !== q.roomId) continue;
    if (out.length === q.limit) return { entries: out, nextBefore: out[out.length - 1].position };
    out.push(r.entry);
  }
  return { entries: out, nextBefore: null };
}
