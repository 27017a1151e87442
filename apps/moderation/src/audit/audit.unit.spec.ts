import {
  emptyFilterConfig,
  makeEvent,
  type ModerationEvent,
  type ReportClaimed,
  type ReportFiled,
  type UserMuted,
  type UserServerKicked,
} from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { auditPage, auditRecord, duration, type AuditRecord } from './audit';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ctx = { now: () => new Date(T0), newId: randomUUID, actor: { kind: 'service' as const, id: 'moderation' }, correlationId: 'c' };
const ann = { userId: randomUUID(), username: 'ann' };
const mod = { userId: randomUUID(), username: 'mod' };
const by = { byUserId: mod.userId, byUsername: mod.username };
const muted = (roomId: string | null, seconds: number) =>
  makeEvent<UserMuted>(ctx, 'UserMuted', 1, {
    muteId: randomUUID(),
    ...ann,
    roomId,
    until: new Date(T0 + seconds * 1000).toISOString(),
    reason: 'spam',
    rule: null,
    ...by,
  });

describe('audit - entries and paging', () => {
  it('says who did what to whom, where, in one line', () => {
    expect(auditRecord(muted('general', 600), 7)).toEqual({
      entry: {
        position: 7,
        time: new Date(T0).toISOString(),
        type: 'UserMuted',
        actor: mod,
        rule: null,
        target: ann,
        roomId: 'general',
        summary: 'muted ann in general for 10 min: spam',
      },
      userIds: [mod.userId, ann.userId],
    });
    const kicked = makeEvent<UserServerKicked>(ctx, 'UserServerKicked', 1, { ...ann, reason: '', ...by });
    expect(auditRecord(kicked, 1).entry.summary).toBe('kicked ann from the server');
    const filters: ModerationEvent = makeEvent(ctx, 'FilterConfigSet', 1, {
      scope: 'server',
      roomId: null,
      config: emptyFilterConfig(),
      ...by,
    });
    expect(auditRecord(filters, 2).entry).toMatchObject({
      actor: mod,
      target: null,
      summary: 'set the server filters (0 words, 0 allowed, 0 patterns, 0 domains)',
    });
  });

  it("a report's claim is about the reported user and room", () => {
    const reportId = randomUUID();
    const filed = makeEvent<ReportFiled>(ctx, 'ReportFiled', 1, {
      reportId,
      kind: 'message',
      roomId: 'general',
      messageId: randomUUID(),
      targetUserId: ann.userId,
      targetUsername: 'ann',
      excerpt: 'x',
      reason: 'rude',
      rule: null,
      held: null,
      byUserId: null,
      byUsername: null,
    });
    const claimed = makeEvent<ReportClaimed>(ctx, 'ReportClaimed', 1, { reportId, ...by });
    const lookup = (id: string) => (id === reportId ? { target: ann, roomId: 'general' } : undefined);
    expect(auditRecord(filed, 1).entry).toMatchObject({ actor: null, target: ann, summary: 'reported ann (message): rude' });
    expect(auditRecord(claimed, 2, lookup).entry).toMatchObject({ actor: mod, target: ann, roomId: 'general' });
  });

  it('pages newest first and filters by user and room', () => {
    const other = { userId: randomUUID(), username: 'other' };
    const records: AuditRecord[] = [
      auditRecord(muted('general', 60), 1),
      auditRecord(makeEvent<UserServerKicked>(ctx, 'UserServerKicked', 1, { ...other, reason: '', byUserId: null, byUsername: null }), 2),
      auditRecord(muted(null, 60), 3),
      auditRecord(muted('general', 60), 4),
    ];
    const first = auditPage(records, { limit: 2 });
    expect(first.entries.map((e) => e.position)).toEqual([4, 3]);
    expect(auditPage(records, { limit: 2, before: first.nextBefore! })).toEqual({
      entries: [records[1].entry, records[0].entry],
      nextBefore: null,
    });
    expect(auditPage(records, { limit: 9, userId: other.userId }).entries.map((e) => e.position)).toEqual([2]);
    expect(auditPage(records, { limit: 9, userId: mod.userId }).entries.map((e) => e.position)).toEqual([4, 3, 1]);
    expect(auditPage(records, { limit: 9, roomId: 'general' }).entries.map((e) => e.position)).toEqual([4, 1]);
  });

  it('durations for people', () => {
    expect([30_000, 600_000, 7_200_000, 3 * 86_400_000].map(duration)).toEqual(['30 s', '10 min', '2 h', '3 d']);
  });
});
