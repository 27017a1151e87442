import {
  ChatError,
  makeEvent,
  type ReportClaimed,
  type ReportDismissed,
  type ReportFiled,
  type ReportKind,
  type ReportResolved,
} from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { decideClaim, decideClose, emptyReports, evolveReports, isApprovable, openHeldFor, reportsPage, type ReportEvent } from './reports';

const ctx = { now: () => new Date(), newId: randomUUID, actor: { kind: 'service' as const, id: 'moderation' }, correlationId: 'c' };
const ann = { userId: randomUUID(), username: 'ann' };
const mod = { userId: randomUUID(), username: 'mod' };
const other = { userId: randomUUID(), username: 'other' };
const filed = (kind: ReportKind, held: { clientMsgId: string; body: string } | null = null) =>
  makeEvent<ReportFiled>(ctx, 'ReportFiled', 1, {
    reportId: randomUUID(),
    kind,
    roomId: 'general',
    messageId: null,
    targetUserId: ann.userId,
    targetUsername: ann.username,
    excerpt: held?.body ?? 'x',
    reason: 'r',
    rule: null,
    held,
    byUserId: null,
    byUsername: null,
  });
const by = (u: { userId: string; username: string }) => ({ byUserId: u.userId, byUsername: u.username });
const claimed = (reportId: string, u = mod) => makeEvent<ReportClaimed>(ctx, 'ReportClaimed', 1, { reportId, ...by(u) });
const resolved = (reportId: string) =>
  makeEvent<ReportResolved>(ctx, 'ReportResolved', 1, { reportId, action: 'approved', note: '', ...by(mod) });
const dismissed = (reportId: string) => makeEvent<ReportDismissed>(ctx, 'ReportDismissed', 1, { reportId, note: 'fine', ...by(mod) });
const fold = (events: ReportEvent[]) => {
  const r = emptyReports();
  events.forEach((e, i) => evolveReports(r, e, i + 1));
  return r;
};
const code = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (e) {
    return (e as ChatError).code;
  }
};

describe('reports - queue fold and decisions', () => {
  it('folds filing, claim and closing; a replayed filing is kept once', () => {
    const a = filed('message');
    const r = fold([a, claimed(a.payload.reportId), a, resolved(a.payload.reportId)]);
    const view = r.byId.get(a.payload.reportId)!;
    expect(r.order).toHaveLength(1);
    expect(view).toMatchObject({ state: 'resolved', claimedBy: mod, closedBy: mod, action: 'approved', position: 1 });
  });

  it('pages newest first by position, open and claimed by default, or by state', () => {
    const events = Array.from({ length: 5 }, () => filed('message'));
    const r = fold([...events, dismissed(events[1].payload.reportId)]);
    const first = reportsPage(r, { limit: 2 });
    expect(first.reports.map((v) => v.position)).toEqual([5, 4]);
    expect(first.nextBefore).toBe(4);
    const second = reportsPage(r, { limit: 2, before: first.nextBefore! });
    expect(second.reports.map((v) => v.position)).toEqual([3, 1]);
    expect(second.nextBefore).toBeNull();
    expect(reportsPage(r, { state: 'dismissed', limit: 10 }).reports.map((v) => v.position)).toEqual([2]);
  });

  it("claim: open, or a retry of the same moderator; someone else's or a closed one is a CONFLICT", () => {
    const a = filed('message');
    const r = fold([a, claimed(a.payload.reportId)]);
    const view = r.byId.get(a.payload.reportId)!;
    expect(decideClaim(view, mod)).toBe('already');
    expect(code(() => decideClaim(view, other))).toBe('CONFLICT');
    expect(code(() => decideClose(view))).toBeNull();
    evolveReports(r, dismissed(a.payload.reportId), 3);
    expect(code(() => decideClose(view))).toBe('CONFLICT');
    expect(code(() => decideClaim(view, mod))).toBe('CONFLICT');
  });

  it('a held report approves exactly its message while open', () => {
    const h = filed('held', { clientMsgId: 'c1', body: 'see http://x.example' });
    const r = fold([h]);
    const id = h.payload.reportId;
    const m = { roomId: 'general', senderId: ann.userId, body: 'see http://x.example' };
    expect(isApprovable(r.byId.get(id), m)).toBe(true);
    expect(isApprovable(r.byId.get(id), { ...m, body: 'other' })).toBe(false);
    expect(isApprovable(r.byId.get(id), { ...m, roomId: 'other' })).toBe(false);
    expect(isApprovable(r.byId.get(id), { ...m, senderId: other.userId })).toBe(false);
    expect(isApprovable(undefined, m)).toBe(false);
    expect(openHeldFor(r, { roomId: 'general', senderId: ann.userId, clientMsgId: 'c1', body: m.body })?.reportId).toBe(id);
    evolveReports(r, resolved(id), 2);
    expect(isApprovable(r.byId.get(id), m)).toBe(false);
    expect(openHeldFor(r, { roomId: 'general', senderId: ann.userId, clientMsgId: 'c1', body: m.body })).toBeNull();
  });
});
