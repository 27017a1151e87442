import {
  ChatError,
  type ReportClaimed,
  type ReportDismissed,
  type ReportFiled,
  type ReportResolved,
  type ReportState,
  type ReportView,
  type UserView,
} from '@chat/contracts';

export type ReportEvent = ReportFiled | ReportClaimed | ReportResolved | ReportDismissed;

/** The reports queue, by reportId; `order` keeps filing positions ascending for paging. */
export interface Reports {
  byId: Map<string, ReportView>;
  order: ReportView[];
}

export const emptyReports = (): Reports => ({ byId: new Map(), order: [] });

const userOf = (userId: string | null, username: string | null): UserView | null => (userId && username ? { userId, username } : null);

/**
 * Folds one report event at stream `position`. A filing seen twice (replay) is kept once;
 * a state change of an unknown report is ignored.
 */
export function evolveReports(reports: Reports, e: ReportEvent, position: number): ReportView | null {
  if (e.type === 'ReportFiled') {
    const p = e.payload;
    if (reports.byId.has(p.reportId)) return null;
    const view: ReportView = {
      reportId: p.reportId,
      kind: p.kind,
      state: 'open',
      roomId: p.roomId,
      messageId: p.messageId,
      target: { userId: p.targetUserId, username: p.targetUsername },
      excerpt: p.excerpt,
      reason: p.reason,
      rule: p.rule,
      held: p.held,
      by: userOf(p.byUserId, p.byUsername),
      time: e.time,
      position,
      claimedBy: null,
      closedBy: null,
      closedAt: null,
      action: null,
      note: null,
    };
    reports.byId.set(p.reportId, view);
    reports.order.push(view);
    return view;
  }
  const view = reports.byId.get(e.payload.reportId);
  if (!view) return null;
  const by = { userId: e.payload.byUserId, username: e.payload.byUsername };
  switch (e.type) {
    case 'ReportClaimed':
      if (view.state !== 'open' && view.state !== 'claimed') return null;
      view.state = 'claimed';
      view.claimedBy = by;
      break;
    case 'ReportResolved':
    case 'ReportDismissed':
      view.state = e.type === 'ReportResolved' ? 'resolved' : 'dismissed';
      view.closedBy = by;
      view.closedAt = e.time;
      view.note = e.payload.note;
      if (e.type === 'ReportResolved') view.action = e.payload.action;
      break;
  }
  return view;
}

export const isOpen = (r: ReportView) => r.state === 'open' || r.state === 'claimed';

/** Reports of one state (default: open and claimed), newest filing first, filed before `before`. */
export function reportsPage(
  reports: Reports,
  q: { state?: ReportState; before?: number; limit: number },
): { reports: ReportView[]; nextBefore: number | null } {
  const out: ReportView[] = [];
  for (let i = reports.order.length - 1; i >= 0; i--) {
    const r = reports.order[i];
    if (q.before !== undefined && r.position >= q.before) continue;
    if (q.state ? r.state !== q.state : !isOpen(r)) continue;
    if (out.length === q.limit) return { reports: out, nextBefore: out[out.length - 1].position };
    out.push(r);
  }
  return { reports: out, nextBefore: null };
}

/** The report, NOT_FOUND when there is none. */
export function requireReport(reports: Reports, reportId: string): ReportView {
  const r = reports.byId.get(reportId);
  if (!r) throw new ChatError('NOT_FOUND', `report "${reportId}" does not exist`);
  return r;
}

/** Claim: an open report, or one this moderator already claimed (a retry); claimed by someone else or closed: CONFLICT. */
export function decideClaim(r: ReportView, by: UserView): 'claim' | 'already' {
  if (r.state === 'claimed' && r.claimedBy?.userId === by.userId) return 'already';
  if (r.state === 'claimed') throw new ChatError('CONFLICT', `report already claimed by ${r.claimedBy?.username}`);
  if (!isOpen(r)) throw new ChatError('CONFLICT', `report already ${r.state}`);
  return 'claim';
}

/** Resolve or dismiss: the report must still be open or claimed (anyone with a server role may close it). */
export function decideClose(r: ReportView): void {
  if (!isOpen(r)) throw new ChatError('CONFLICT', `report already ${r.state}`);
}

/** An open held report for exactly this message (the check lets the moderator's approval through). */
export function isApprovable(r: ReportView | undefined, m: { roomId: string; senderId: string; body: string }): boolean {
  return !!r && r.kind === 'held' && isOpen(r) && r.roomId === m.roomId && r.target.userId === m.senderId && r.held?.body === m.body;
}

/** An open held report for this sender's message (same client id and text): a retried send reuses it. */
export function openHeldFor(
  reports: Reports,
  h: { roomId: string; senderId: string; clientMsgId: string; body: string },
): ReportView | null {
  for (let i = reports.order.length - 1; i >= 0; i--) {
    const r = reports.order[i];
    if (
      r.kind === 'held' &&
      isOpen(r) &&
      r.roomId === h.roomId &&
      r.target.userId === h.senderId &&
      r.held?.clientMsgId === h.clientMsgId &&
      r.held.body === h.body
    )
      return r;
  }
  return null;
}
