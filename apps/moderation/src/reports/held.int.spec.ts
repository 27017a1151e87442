import { emptyFilterConfig, type UserView } from '@chat/contracts';
import type { RpcClient } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { fakeRpc, postedOk, register, startModeration } from '../sanctions/testing';

const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });
const caller = (u: UserView) => ({ userId: u.userId, username: u.username });

/** The send path's question as rooms asks it. */
const checkOf = (u: UserView, body: string, extra: { clientMsgId?: string; heldReportId?: string | null; roomId?: string } = {}) => ({
  roomId: extra.roomId ?? 'general',
  senderId: u.userId,
  senderName: u.username,
  senderRole: 'member' as const,
  kind: 'post' as const,
  clientMsgId: extra.clientMsgId ?? randomUUID(),
  body,
  heldReportId: extra.heldReportId ?? null,
});

describe('moderation - sanctions and held messages through the send-path check', () => {
  const namespace = randomName();
  let svc: RunningService;
  let rpc: RpcClient;
  let root: UserView, ann: UserView, bob: UserView;
  /** What rooms.post was asked, and the check it then asked (as the rooms service does). */
  const approvals: Array<{ request: Record<string, unknown>; verdict: unknown }> = [];

  beforeAll(async () => {
    svc = await startModeration(namespace, { SERVER_ADMINS: 'root' });
    rpc = svc.deps.rpc;
    [root, ann, bob] = await Promise.all(['root', 'ann', 'bob'].map((n) => register(svc, n)));
    // Links to any domain wait for a moderator.
    const config = { ...emptyFilterConfig(), links: { default: 'hold' as const, domains: [] } };
    await rpc.callOrThrow('moderation.setFilters', { ...caller(root), config });
    fakeRpc(svc, 'rooms.post', (req) => {
      // rooms asks moderation before it appends; the approval carries the held report's id.
      const pending = rpc.call(
        'moderation.check',
        checkOf({ userId: req.userId as string, username: req.username as string }, req.body as string, {
          clientMsgId: req.clientMsgId as string,
          heldReportId: req.heldReportId as string,
          roomId: req.roomId as string,
        }),
      );
      approvals.push({ request: req, verdict: pending });
      return postedOk(req);
    });
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
  });

  it('a held message waits in the queue; approving posts it through the check with its report id', async () => {
    const body = 'look at https://x.example/page';
    const held = await rpc.callOrThrow('moderation.check', checkOf(ann, body, { clientMsgId: 'c-1' }));
    expect(held).toMatchObject({ verdict: 'hold' });
    const reportId = held.verdict === 'hold' ? held.reportId : '';
    // The same text again (a retried send) waits under the same report.
    expect(await rpc.callOrThrow('moderation.check', checkOf(ann, body, { clientMsgId: 'c-1' }))).toMatchObject({
      verdict: 'hold',
      reportId,
    });
    const queue = await rpc.callOrThrow('moderation.reports', caller(root));
    expect(queue.reports.find((r) => r.reportId === reportId)).toMatchObject({
      kind: 'held',
      target: caller(ann),
      held: { clientMsgId: 'c-1', body },
    });
    // Someone else's text or another text is not let through by the report's id.
    expect(await rpc.callOrThrow('moderation.check', checkOf(bob, body, { heldReportId: reportId }))).toMatchObject({ verdict: 'hold' });

    await rpc.callOrThrow('moderation.resolveReport', { ...caller(root), reportId });
    expect(approvals).toHaveLength(1);
    expect(approvals[0].request).toMatchObject({ userId: ann.userId, clientMsgId: 'c-1', body, heldReportId: reportId });
    expect(await approvals[0].verdict).toEqual({ ok: true, data: { verdict: 'allow', body } });
    // Once approved, the id lets nothing else through.
    expect(await rpc.callOrThrow('moderation.check', checkOf(ann, body, { heldReportId: reportId }))).toMatchObject({ verdict: 'hold' });
  });

  it('a mute refuses sends until lifted; a server ban refuses them until unbanned', async () => {
    await rpc.callOrThrow('moderation.mute', { ...actor(root), userId: bob.userId, roomId: 'general', seconds: 600, reason: 'cool down' });
    const muted = await rpc.callOrThrow('moderation.check', checkOf(bob, 'hello'));
    expect(muted).toMatchObject({ verdict: 'reject', code: 'MUTED' });
    expect(muted.verdict === 'reject' && muted.retryAfterMs).toBeGreaterThan(0);
    expect(await rpc.callOrThrow('moderation.check', checkOf(bob, 'hello', { roomId: 'other' }))).toMatchObject({ verdict: 'allow' });
    await rpc.callOrThrow('moderation.unmute', { ...actor(root), userId: bob.userId, roomId: 'general' });
    expect(await rpc.callOrThrow('moderation.check', checkOf(bob, 'hello'))).toMatchObject({ verdict: 'allow' });

    await rpc.callOrThrow('moderation.ban', { ...actor(root), userId: bob.userId, reason: 'spam' });
    expect(await rpc.callOrThrow('moderation.check', checkOf(bob, 'hello'))).toMatchObject({ verdict: 'reject', code: 'SERVER_BANNED' });
    await rpc.callOrThrow('moderation.unban', { ...actor(root), userId: bob.userId });
    expect(await rpc.callOrThrow('moderation.check', checkOf(bob, 'hello again'))).toMatchObject({ verdict: 'allow' });
  });
});
