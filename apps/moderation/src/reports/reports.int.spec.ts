import { type MessageView, type UserView } from '@chat/contracts';
import type { RpcClient } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { ReportsPort, SanctionsPort, StrikesPort } from '../ports';
import { fakeRpc, newsOf, postedOk, register, startModeration, storedEvents } from '../sanctions/testing';

const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });
const caller = (u: UserView) => ({ userId: u.userId, username: u.username });
const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);
const STRIKES = { MOD_STRIKES_WARN: '2', MOD_STRIKES_MUTE: '3', MOD_STRIKES_BAN: '4' };

describe('moderation reports - queue, strikes and held messages over NATS (two replicas)', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;
  let rpc: RpcClient;
  let root: UserView, mod: UserView, ann: UserView, bob: UserView;
  /** Messages history knows (the fake answers for them, as their reader could see them). */
  const messages = new Map<string, MessageView>();
  const posted: Array<Record<string, unknown>> = [];
  let fakes: Subscription[];

  const message = (sender: UserView, body: string): MessageView => {
    const m: MessageView = {
      messageId: randomUUID(),
      roomId: 'general',
      senderId: sender.userId,
      senderName: sender.username,
      clientMsgId: randomUUID(),
      body,
      html: `<p>${body}</p>`,
      replyTo: null,
      mentions: [],
      time: new Date().toISOString(),
      position: messages.size + 1,
      editedAt: null,
      deleted: null,
      reactions: [],
    };
    messages.set(m.messageId, m);
    return m;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startModeration(namespace, { SERVER_ADMINS: 'root', ...STRIKES }),
      startModeration(namespace, { SERVER_ADMINS: 'root', ...STRIKES }),
    ]);
    rpc = a.deps.rpc;
    [root, mod, ann, bob] = await Promise.all(['root', 'mod', 'ann', 'bob'].map((n) => register(a, n)));
    await rpc.callOrThrow('moderation.setRole', { ...actor(root), userId: mod.userId, role: 'moderator' });
    fakes = [
      fakeRpc(a, 'history.message', (req) => {
        const m = messages.get(req.messageId as string);
        return m ? { ok: true, data: m } : { ok: false, error: { code: 'NOT_FOUND', message: 'no such message' } };
      }),
      fakeRpc(a, 'rooms.post', (req) => {
        posted.push(req);
        return postedOk(req);
      }),
    ];
  });
  afterAll(async () => {
    for (const f of fakes ?? []) f.unsubscribe();
    await Promise.all([a?.close(), b?.close()]);
    await deleteNamespace(namespace);
  });

  it('report.create - files a report with the excerpt; moderators are told; the same report again answers the first', async () => {
    const news = newsOf(a, mod.userId);
    const m = message(bob, 'rude words');
    const filed = await rpc.callOrThrow('moderation.report', { ...caller(ann), roomId: 'general', messageId: m.messageId, reason: 'rude' });
    const again = await rpc.callOrThrow('moderation.report', { ...caller(ann), roomId: 'general', messageId: m.messageId, reason: 'rude' });
    expect(again.reportId).toBe(filed.reportId);
    expect(codeOf(await rpc.call('moderation.report', { ...caller(bob), roomId: 'general', messageId: m.messageId, reason: 'me' }))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await rpc.call('moderation.report', { ...caller(ann), roomId: 'general', messageId: randomUUID(), reason: 'x' }))).toBe(
      'NOT_FOUND',
    );
    // The other replica has it too (it follows the stream).
    const queue = await eventually(async () => {
      const q = await b.deps.rpc.callOrThrow('moderation.reports', caller(mod));
      return q.reports.some((r) => r.reportId === filed.reportId) ? q : null;
    });
    expect(queue.reports.find((r) => r.reportId === filed.reportId)).toMatchObject({
      kind: 'message',
      state: 'open',
      target: caller(bob),
      by: caller(ann),
      excerpt: 'rude words',
      reason: 'rude',
    });
    await eventually(() => news.frames.some((f) => f.event === 'moderation.report'));
    news.sub.unsubscribe();
    expect(codeOf(await rpc.call('moderation.reports', caller(ann)))).toBe('FORBIDDEN');
  });

  it('claim, resolve and dismiss - one moderator claims; closed reports cannot change; upheld reports strike and escalate', async () => {
    const carl = await register(a, 'carl');
    const news = newsOf(a, carl.userId);
    const file = async () =>
      (
        await rpc.callOrThrow('moderation.report', {
          ...caller(ann),
          roomId: 'general',
          messageId: message(carl, `spam ${randomUUID()}`).messageId,
          reason: 'spam',
        })
      ).reportId;
    const first = await file();
    await rpc.callOrThrow('moderation.claimReport', { ...caller(mod), reportId: first });
    expect(codeOf(await rpc.call('moderation.claimReport', { ...caller(mod), reportId: first }))).toBe('ok');
    expect(codeOf(await rpc.call('moderation.claimReport', { ...caller(root), reportId: first }))).toBe('CONFLICT');
    await rpc.callOrThrow('moderation.resolveReport', { ...caller(mod), reportId: first, action: 'warned', note: 'ok' });
    expect(codeOf(await rpc.call('moderation.dismissReport', { ...caller(mod), reportId: first }))).toBe('CONFLICT');
    expect(codeOf(await rpc.call('moderation.resolveReport', { ...caller(mod), reportId: randomUUID() }))).toBe('NOT_FOUND');
    // Strikes 2, 3 and 4 (thresholds 2/3/4): a warning, a server mute, a ban for review.
    for (let i = 0; i < 3; i++) await rpc.callOrThrow('moderation.resolveReport', { ...caller(root), reportId: await file() });
    const user = await storedEvents(a, a.deps.subjects.moderation.user(carl.userId));
    expect(user.filter((e) => e.type === 'StrikeRecorded').map((e) => e.type === 'StrikeRecorded' && e.payload.count)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(user.map((e) => e.type).filter((t) => t !== 'StrikeRecorded')).toEqual(['UserWarned', 'UserMuted']);
    const bans = await rpc.callOrThrow('moderation.bans', caller(mod));
    expect(bans.bans).toEqual([expect.objectContaining({ userId: carl.userId, review: true, rule: 'strikes', by: null })]);
    const escalation = (await rpc.callOrThrow('moderation.reports', caller(mod))).reports.find((r) => r.kind === 'escalation');
    expect(escalation).toMatchObject({ target: caller(carl), rule: 'strikes', state: 'open' });
    expect((await rpc.callOrThrow('moderation.me', caller(carl))).strikes).toBe(4);
    // Dismissing the escalation lifts the ban for review.
    await rpc.callOrThrow('moderation.dismissReport', { ...caller(mod), reportId: escalation!.reportId, note: 'false alarm' });
    expect((await rpc.callOrThrow('moderation.bans', caller(mod))).bans).toEqual([]);
    await eventually(() => news.frames.length >= 2);
    expect(news.frames.map((f) => f.event)).toEqual(['moderation.warned', 'moderation.muted']);
    news.sub.unsubscribe();
  });

  it('strikes recorded at once on both replicas get distinct counts', async () => {
    const dan = await register(a, 'dan');
    const record = (svc: RunningService) =>
      svc.app.get(StrikesPort).record({ ...caller(dan), kind: 'filtered', detail: 'x', roomId: 'general', rule: 'test' });
    await Promise.all([record(a), record(b), record(a), record(b)]);
    const counts = (await storedEvents(a, a.deps.subjects.moderation.user(dan.userId)))
      .flatMap((e) => (e.type === 'StrikeRecorded' ? [e.payload.count] : []))
      .sort();
    expect(counts).toEqual([1, 2, 3, 4]);
  });

  it('server staff are counted but never escalated against, and rules do not mute or warn them', async () => {
    const strikes = a.app.get(StrikesPort);
    for (let i = 0; i < 5; i++) await strikes.record({ ...caller(mod), kind: 'filtered', detail: 'x', roomId: 'general', rule: 'test' });
    const sanctions = a.app.get(SanctionsPort);
    await sanctions.muteByRule({ ...caller(mod), roomId: null, seconds: 60, reason: 'x', rule: 'test' });
    await sanctions.warnByRule({ ...caller(mod), reason: 'x', rule: 'test' });
    const stored = await storedEvents(a, a.deps.subjects.moderation.user(mod.userId));
    expect(stored.map((e) => e.type)).toEqual(Array(5).fill('StrikeRecorded'));
    expect(sanctions.isServerBanned(mod.userId)).toBe(false);
    expect((await rpc.callOrThrow('moderation.me', caller(mod))).strikes).toBe(5);
  });

  it('held messages - approving posts the message as its sender with the report id; dismissing drops it', async () => {
    const reports = b.app.get(ReportsPort);
    const held = {
      roomId: 'general',
      senderId: ann.userId,
      senderName: 'ann',
      clientMsgId: 'c-held-1',
      body: 'see https://x.example',
      reason: 'link held',
      rule: 'links',
    };
    const reportId = await reports.fileHeld(held);
    expect(await reports.fileHeld(held)).toBe(reportId);
    expect(reports.isApprovable(reportId, { roomId: 'general', senderId: ann.userId, body: held.body })).toBe(true);
    await eventually(async () => (await rpc.callOrThrow('moderation.reports', caller(mod))).reports.some((r) => r.reportId === reportId));
    await rpc.callOrThrow('moderation.resolveReport', { ...caller(mod), reportId });
    expect(posted).toEqual([
      expect.objectContaining({
        userId: ann.userId,
        username: 'ann',
        roomId: 'general',
        clientMsgId: 'c-held-1',
        body: held.body,
        heldReportId: reportId,
      }),
    ]);
    const resolved = (await rpc.callOrThrow('moderation.reports', { ...caller(mod), state: 'resolved' })).reports.find(
      (r) => r.reportId === reportId,
    );
    expect(resolved).toMatchObject({ action: 'approved', closedBy: caller(mod) });
    await eventually(() => !reports.isApprovable(reportId, { roomId: 'general', senderId: ann.userId, body: held.body }));

    const dropped = await reports.fileHeld({ ...held, clientMsgId: 'c-held-2' });
    await eventually(async () => (await rpc.callOrThrow('moderation.reports', caller(mod))).reports.some((r) => r.reportId === dropped));
    await rpc.callOrThrow('moderation.dismissReport', { ...caller(mod), reportId: dropped });
    expect(posted).toHaveLength(1);
  });

  it('audit - every event newest first, paged, filtered by user and room; moderators only', async () => {
    const all: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await b.deps.rpc.callOrThrow('moderation.audit', { ...actor(mod), before, limit: 3 });
      all.push(...page.entries.map((e) => e.position));
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    expect(all.length).toBeGreaterThan(10);
    expect(all).toEqual([...all].sort((x, y) => y - x));
    expect(new Set(all).size).toBe(all.length);
    const bobs = await rpc.callOrThrow('moderation.audit', { ...actor(mod), userId: bob.userId, limit: 50 });
    expect(bobs.entries.length).toBeGreaterThan(0);
    expect(bobs.entries.every((e) => e.target?.userId === bob.userId || e.actor?.userId === bob.userId)).toBe(true);
    const general = await rpc.callOrThrow('moderation.audit', { ...actor(mod), roomId: 'general', limit: 50 });
    expect(general.entries.every((e) => e.roomId === 'general')).toBe(true);
    expect(general.entries.find((e) => e.type === 'ReportFiled')?.summary).toMatch(/reported|held/);
    expect(codeOf(await rpc.call('moderation.audit', { ...actor(ann), limit: 5 }))).toBe('FORBIDDEN');
  });
});
