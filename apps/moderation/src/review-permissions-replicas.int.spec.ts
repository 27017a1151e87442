import { emptyFilterConfig, type UserView } from '@chat/contracts';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { SendCheck } from './check/send-check';
import { FilterConfigs } from './filters/filter-configs';
import { fakeRpc, register, startModeration, storedEvents } from './sanctions/testing';

// Review of issue 9 (moderation): permission and replica findings, each proven against a real
// moderation service on NATS (rooms.details played by a fake on its real subject).
const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });
const caller = (u: UserView) => ({ userId: u.userId, username: u.username });
const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

describe('review - moderation permissions and replicas', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;
  let owner: UserView, admin: UserView, plain: UserView;

  beforeAll(async () => {
    [a, b] = await Promise.all([startModeration(namespace), startModeration(namespace)]);
    [owner, admin, plain] = await Promise.all(['owner', 'roomadmin', 'plain'].map((n) => register(a, n)));
    // rooms.details as the rooms service answers it: in "lounge" owner is the owner, roomadmin an
    // admin, everyone else a member; "mine" is plain's own room (any user may create one).
    for (const svc of [a, b])
      fakeRpc(svc, 'rooms.details', (req) => {
        const role =
          req.roomId === 'lounge'
            ? req.userId === owner.userId
              ? 'owner'
              : req.userId === admin.userId
                ? 'admin'
                : 'member'
            : (req.roomId === 'mine' || req.roomId === 'mine2') && req.userId === plain.userId
              ? 'owner'
              : 'member';
        return { ok: true, data: { roomId: req.roomId, myRole: role } };
      });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteNamespace(namespace);
  });

  it("a room admin cannot mute the room's owner in the owner's room (room.kick/room.ban refuse the same)", async () => {
    const r = await a.deps.rpc.call('moderation.mute', { ...actor(admin), userId: owner.userId, roomId: 'lounge', seconds: 3600 });
    expect(codeOf(r)).toBe('FORBIDDEN');
  });

  it('a room owner cannot store a room pattern that backtracks catastrophically (BAD_REQUEST, nothing stored)', async () => {
    const config = { ...emptyFilterConfig(), patterns: [{ name: 'x', pattern: '(a|a)*b', action: 'block' }] };
    const r = await a.deps.rpc.call('moderation.setFilters', { ...caller(plain), roomId: 'mine', config } as never);
    expect(codeOf(r)).toBe('BAD_REQUEST');
    expect(a.app.get(FilterConfigs).view('mine').position).toBe(0);
  });

  // Adjusted (review 9 finding 7): flood detection is documented as per replica, like the token
  // bucket (docs/protocol.md, Content filters, step 5): each replica counts the rooms it checks.
  it('flood is counted per replica: 3 rooms on one replica is a flood; sends checked by another replica do not count there', async () => {
    const sender = randomUUID();
    const req = (roomId: string) => ({
      roomId,
      senderId: sender,
      senderName: 'flooder',
      senderRole: 'member' as const,
      kind: 'post' as const,
      clientMsgId: randomUUID(),
      body: 'buy cheap followers now',
      heldReportId: null,
    });
    expect((await a.app.get(SendCheck).check(req('r1'))).verdict).toBe('allow');
    expect((await b.app.get(SendCheck).check(req('r2'))).verdict).toBe('allow');
    expect((await a.app.get(SendCheck).check(req('r3'))).verdict).toBe('allow'); // a has seen 2 rooms
    const fourth = await a.app.get(SendCheck).check(req('r4'));
    expect(fourth).toMatchObject({ verdict: 'reject', code: 'RATE_LIMITED', rule: 'flood' });
    const strikes = await storedEvents(a, a.deps.subjects.moderation.user(sender));
    expect(strikes.map((e) => e.type)).toContain('StrikeRecorded');
  });
  it("a room owner's own filters cannot get another user muted server-wide (room blocks must not feed server escalation)", async () => {
    const victim = await register(a, 'victim');
    const config = { ...emptyFilterConfig(), words: [{ term: 'hello', action: 'block' }] };
    expect(codeOf(await a.deps.rpc.call('moderation.setFilters', { ...caller(plain), roomId: 'mine', config } as never))).toBe('ok');
    const check = a.app.get(SendCheck);
    // The victim says hello five times in plain's room (MOD_STRIKES_MUTE is 5 by default).
    for (let i = 0; i < 5; i++)
      await check.check({
        roomId: 'mine',
        senderId: victim.userId,
        senderName: victim.username,
        senderRole: 'member',
        kind: 'post',
        clientMsgId: `c${i}`,
        body: 'hello',
        heldReportId: null,
      });
    const elsewhere = await check.check({
      roomId: 'general',
      senderId: victim.userId,
      senderName: victim.username,
      senderRole: 'member',
      kind: 'post',
      clientMsgId: 'c-general',
      body: 'good morning everyone',
      heldReportId: null,
    });
    expect(elsewhere).toEqual({ verdict: 'allow', body: 'good morning everyone' });
  });
  it('moderation.setFilters with an incomplete config (no links, no spam) is BAD_REQUEST, not INTERNAL', async () => {
    const r = await a.deps.rpc.call('moderation.setFilters', {
      ...caller(plain),
      roomId: 'mine2',
      config: { words: [], allow: [], patterns: [] },
    } as never);
    expect(r.ok ? 'ok' : r.error).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
