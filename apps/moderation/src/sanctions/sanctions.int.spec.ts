import { makeEvent, type UserMuted, type UserView } from '@chat/contracts';
import type { RpcClient } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { SanctionsService } from './sanctions.service';
import { fakeRpc, newsOf, register, startModeration, storedEvents } from './testing';

const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });
const caller = (u: UserView) => ({ userId: u.userId, username: u.username });
const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

describe('moderation sanctions - roles, mutes, warnings, kicks and bans over NATS', () => {
  const namespace = randomName();
  let svc: RunningService;
  let rpc: RpcClient;
  let root: UserView, mod: UserView, ann: UserView, bob: UserView;

  beforeAll(async () => {
    svc = await startModeration(namespace, { SERVER_ADMINS: 'root' });
    rpc = svc.deps.rpc;
    [root, mod, ann, bob] = await Promise.all(['root', 'mod', 'ann', 'bob'].map((n) => register(svc, n)));
    const made = await rpc.call('moderation.setRole', { ...actor(root), userId: mod.userId, role: 'moderator' });
    expect(made.ok).toBe(true);
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
  });

  it('roles - administrators set roles, the user is told, configured administrators stay', async () => {
    const news = newsOf(svc, ann.userId);
    expect(codeOf(await rpc.call('moderation.setRole', { ...actor(mod), userId: ann.userId, role: 'moderator' }))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.setRole', { ...actor(root), userId: root.userId, role: null }))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.setRole', { ...actor(root), userId: ann.userId, role: 'moderator' }))).toBe('ok');
    expect(codeOf(await rpc.call('moderation.setRole', { ...actor(root), userId: ann.userId, role: 'moderator' }))).toBe('CONFLICT');
    const roles = await rpc.callOrThrow('moderation.roles', caller(mod));
    expect(roles.roles.map((r) => [r.username, r.role, r.source])).toEqual([
      ['root', 'admin', 'config'],
      ['ann', 'moderator', 'granted'],
      ['mod', 'moderator', 'granted'],
    ]);
    expect(codeOf(await rpc.call('moderation.setRole', { ...actor(root), userId: ann.userId, role: null }))).toBe('ok');
    await eventually(() => news.frames.length === 2);
    expect(news.frames.map((f) => [f.event, (f.data as { role: string | null }).role])).toEqual([
      ['moderation.role', 'moderator'],
      ['moderation.role', null],
    ]);
    news.sub.unsubscribe();
    expect(codeOf(await rpc.call('moderation.roles', caller(ann)))).toBe('FORBIDDEN');
    expect((await rpc.callOrThrow('moderation.me', caller(mod))).role).toBe('moderator');
  });

  it('mutes - a moderator mutes and lifts; the user sees it in mod.me and is told', async () => {
    const news = newsOf(svc, bob.userId);
    const muted = await rpc.callOrThrow('moderation.mute', { ...actor(mod), userId: bob.userId, seconds: 600, reason: 'spam' });
    expect(muted.mute).toMatchObject({ userId: bob.userId, username: 'bob', roomId: null, reason: 'spam', by: caller(mod), rule: null });
    const me = await rpc.callOrThrow('moderation.me', caller(bob));
    expect(me.mutes.map((m) => m.muteId)).toEqual([muted.mute.muteId]);
    expect(svc.app.get(SanctionsService).activeMute(bob.userId, 'general')?.muteId).toBe(muted.mute.muteId);
    const all = await rpc.callOrThrow('moderation.mutes', caller(mod));
    expect(all.mutes.map((m) => m.muteId)).toContain(muted.mute.muteId);
    expect(codeOf(await rpc.call('moderation.mutes', caller(bob)))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.unmute', { ...actor(mod), userId: bob.userId }))).toBe('ok');
    expect(codeOf(await rpc.call('moderation.unmute', { ...actor(mod), userId: bob.userId }))).toBe('NOT_FOUND');
    expect((await rpc.callOrThrow('moderation.me', caller(bob))).mutes).toEqual([]);
    await eventually(() => news.frames.length === 2);
    expect(news.frames.map((f) => f.event)).toEqual(['moderation.muted', 'moderation.unmuted']);
    expect(news.frames[1].data).toMatchObject({ muteId: muted.mute.muteId, reason: 'lifted', roomId: null });
    news.sub.unsubscribe();
  });

  it("room mutes - the room's owner and admins mute there (asked of rooms); plain members and hidden rooms are refused", async () => {
    const owner = await register(svc, 'owner');
    const member = await register(svc, 'member');
    // The rooms service's answer: the caller's role in "lounge"; every other room is hidden.
    const rooms = fakeRpc(svc, 'rooms.details', (req) =>
      req.roomId !== 'lounge'
        ? { ok: false, error: { code: 'NOT_FOUND', message: `room "${String(req.roomId)}" does not exist` } }
        : { ok: true, data: { roomId: 'lounge', myRole: req.userId === owner.userId ? 'owner' : 'member' } },
    );
    try {
      const muted = await rpc.callOrThrow('moderation.mute', { ...actor(owner), userId: bob.userId, roomId: 'lounge', seconds: 300 });
      expect(muted.mute).toMatchObject({ roomId: 'lounge', by: caller(owner) });
      const sanctions = svc.app.get(SanctionsService);
      expect(sanctions.activeMute(bob.userId, 'lounge')?.muteId).toBe(muted.mute.muteId);
      expect(sanctions.activeMute(bob.userId, 'general')).toBeNull();
      expect((await rpc.callOrThrow('moderation.mutes', { ...caller(owner), roomId: 'lounge' })).mutes.map((m) => m.muteId)).toEqual([
        muted.mute.muteId,
      ]);
      expect(codeOf(await rpc.call('moderation.mute', { ...actor(member), userId: bob.userId, roomId: 'lounge', seconds: 60 }))).toBe(
        'FORBIDDEN',
      );
      expect(codeOf(await rpc.call('moderation.mute', { ...actor(owner), userId: bob.userId, roomId: 'secret', seconds: 60 }))).toBe(
        'NOT_FOUND',
      );
      expect(codeOf(await rpc.call('moderation.mute', { ...actor(owner), userId: bob.userId, seconds: 60 }))).toBe('FORBIDDEN');
      expect(codeOf(await rpc.call('moderation.mute', { ...actor(owner), userId: mod.userId, roomId: 'lounge', seconds: 60 }))).toBe(
        'FORBIDDEN',
      );
      expect(codeOf(await rpc.call('moderation.mutes', { ...caller(member), roomId: 'lounge' }))).toBe('FORBIDDEN');
      // Server staff need not be staff of the room.
      expect(codeOf(await rpc.call('moderation.unmute', { ...actor(mod), userId: bob.userId, roomId: 'lounge' }))).toBe('ok');
    } finally {
      rooms.unsubscribe();
    }
  });

  it("room mutes by room staff follow the room's ranks (as room.kick): the owner mutes admins, admins neither the owner nor each other; server staff anyone", async () => {
    const [owner, deputy, other, member] = await Promise.all(
      ['rank-owner', 'rank-deputy', 'rank-other', 'rank-member'].map((n) => register(svc, n)),
    );
    const rooms = fakeRpc(svc, 'rooms.details', (req) => ({
      ok: true,
      data: {
        roomId: req.roomId,
        myRole: req.userId === owner.userId ? 'owner' : [deputy.userId, other.userId].includes(req.userId as string) ? 'admin' : 'member',
      },
    }));
    const mute = (by: UserView, target: UserView) =>
      rpc.call('moderation.mute', { ...actor(by), userId: target.userId, roomId: 'ranks', seconds: 60 });
    try {
      expect(codeOf(await mute(deputy, owner))).toBe('FORBIDDEN');
      expect(codeOf(await mute(deputy, other))).toBe('FORBIDDEN');
      expect(codeOf(await mute(owner, deputy))).toBe('ok');
      expect(codeOf(await mute(deputy, member))).toBe('ok');
      expect(codeOf(await mute(mod, owner))).toBe('ok');
    } finally {
      rooms.unsubscribe();
    }
  });

  it('who may sanction whom - not administrators, not moderators unless an administrator, not oneself, not without a role', async () => {
    expect(codeOf(await rpc.call('moderation.mute', { ...actor(mod), userId: root.userId, seconds: 60 }))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.warn', { ...actor(mod), userId: mod.userId, reason: 'me' }))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.ban', { ...actor(ann), userId: bob.userId }))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.kick', { ...actor(mod), userId: randomUUID() }))).toBe('NOT_FOUND');
    const other = await register(svc, 'othermod');
    await rpc.callOrThrow('moderation.setRole', { ...actor(root), userId: other.userId, role: 'moderator' });
    expect(codeOf(await rpc.call('moderation.mute', { ...actor(mod), userId: other.userId, seconds: 60 }))).toBe('FORBIDDEN');
    expect(codeOf(await rpc.call('moderation.mute', { ...actor(root), userId: other.userId, seconds: 60 }))).toBe('ok');
  });

  it('warn, kick, ban and unban - stored on the user and access subjects; bans listed', async () => {
    const carl = await register(svc, 'carl');
    const news = newsOf(svc, carl.userId);
    await rpc.callOrThrow('moderation.warn', { ...actor(mod), userId: carl.userId, reason: 'be nice' });
    await rpc.callOrThrow('moderation.kick', { ...actor(mod), userId: carl.userId, reason: 'cool down' });
    await rpc.callOrThrow('moderation.ban', { ...actor(mod), userId: carl.userId, reason: 'spam' });
    expect(codeOf(await rpc.call('moderation.ban', { ...actor(mod), userId: carl.userId }))).toBe('CONFLICT');
    const bans = await rpc.callOrThrow('moderation.bans', caller(mod));
    expect(bans.bans).toEqual([expect.objectContaining({ userId: carl.userId, reason: 'spam', review: false, by: caller(mod) })]);
    expect(svc.app.get(SanctionsService).isServerBanned(carl.userId)).toBe(true);
    await rpc.callOrThrow('moderation.unban', { ...actor(mod), userId: carl.userId });
    expect(codeOf(await rpc.call('moderation.unban', { ...actor(mod), userId: carl.userId }))).toBe('NOT_FOUND');
    expect((await rpc.callOrThrow('moderation.bans', caller(mod))).bans).toEqual([]);
    const access = await storedEvents(svc, svc.deps.subjects.moderation.access(carl.userId));
    expect(access.map((e) => e.type)).toEqual(['UserServerKicked', 'UserServerBanned', 'UserServerUnbanned']);
    await eventually(() => news.frames.length === 1);
    expect(news.frames[0]).toEqual({
      event: 'moderation.warned',
      data: expect.objectContaining({ reason: 'be nice', by: caller(mod), rule: null }),
    });
    news.sub.unsubscribe();
  });
  it('a replica started now replays the stream to the same roles, mutes, bans, strikes and audit log', async () => {
    await rpc.callOrThrow('moderation.mute', { ...actor(mod), userId: bob.userId, roomId: 'general', seconds: 3600, reason: 'replayed' });
    const fresh = await startModeration(namespace, { SERVER_ADMINS: 'root' });
    try {
      const read = async (r: RpcClient) => ({
        roles: await r.callOrThrow('moderation.roles', caller(root)),
        mutes: await r.callOrThrow('moderation.mutes', caller(root)),
        bans: await r.callOrThrow('moderation.bans', caller(root)),
        me: await r.callOrThrow('moderation.me', caller(bob)),
        audit: await r.callOrThrow('moderation.audit', { ...actor(root), limit: 200 }),
      });
      expect(await read(fresh.deps.rpc)).toEqual(await read(rpc));
    } finally {
      await fresh.close();
    }
  });
});

describe('moderation sanctions - mute expiry with two replicas', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;
  let root: UserView;
  let dan: UserView;
  let pastMuteId: string;

  beforeAll(async () => {
    // A mute that ended while no replica ran: the replicas end it when they start.
    const first = await startModeration(namespace, { SERVER_ADMINS: 'root' });
    [root, dan] = await Promise.all([register(first, 'root'), register(first, 'dan')]);
    pastMuteId = randomUUID();
    const ctx = {
      now: () => new Date(Date.now() - 120_000),
      newId: randomUUID,
      actor: { kind: 'service' as const, id: 'test' },
      correlationId: 'c',
    };
    const past = makeEvent<UserMuted>(ctx, 'UserMuted', 1, {
      muteId: pastMuteId,
      ...dan,
      roomId: 'general',
      until: new Date(Date.now() - 60_000).toISOString(),
      reason: 'old',
      rule: null,
      byUserId: null,
      byUsername: null,
    });
    await first.close();
    // Stored with the stream as it stands: no replica is running now.
    const appender = await startModeration(namespace, { SERVER_ADMINS: 'root' });
    await appender.deps.js.append(appender.deps.subjects.moderation.user(dan.userId), past, { msgId: past.id });
    await appender.close();
    [a, b] = await Promise.all([
      startModeration(namespace, { SERVER_ADMINS: 'root' }),
      startModeration(namespace, { SERVER_ADMINS: 'root' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteNamespace(namespace);
  });

  const unmutesOf = async (svc: RunningService, muteId: string) =>
    (await storedEvents(svc, svc.deps.subjects.moderation.user(dan.userId))).filter(
      (e) => e.type === 'UserUnmuted' && e.payload.muteId === muteId,
    );

  it('a mute that passed while no replica ran is ended once at start-up', async () => {
    const ended = await eventually(async () => ((await unmutesOf(a, pastMuteId)).length > 0 ? await unmutesOf(a, pastMuteId) : null));
    expect(ended).toHaveLength(1);
    expect(ended[0].payload).toMatchObject({ reason: 'expired', byUserId: null });
  });

  it('a mute ends when its time comes, stored once whichever replica fires, and the user is told once', async () => {
    const news = newsOf(a, dan.userId);
    const muted = await a.deps.rpc.callOrThrow('moderation.mute', {
      actorId: root.userId,
      actorName: 'root',
      userId: dan.userId,
      roomId: 'general',
      seconds: 1,
    });
    await eventually(async () => (await unmutesOf(b, muted.mute.muteId)).length > 0);
    // Both replicas fold it: neither has the mute any more, so neither fires again.
    await eventually(
      () =>
        !a.app.get(SanctionsService).mutes.byId.has(muted.mute.muteId) && !b.app.get(SanctionsService).mutes.byId.has(muted.mute.muteId),
    );
    expect(await unmutesOf(a, muted.mute.muteId)).toHaveLength(1);
    await eventually(() => news.frames.some((f) => f.event === 'moderation.unmuted'));
    // A round trip on the same connection: anything published before it has arrived.
    await Promise.all([a.nc.flush(), b.nc.flush()]);
    expect(news.frames.filter((f) => f.event === 'moderation.unmuted')).toEqual([
      { event: 'moderation.unmuted', data: expect.objectContaining({ muteId: muted.mute.muteId, reason: 'expired', roomId: 'general' }) },
    ]);
    news.sub.unsubscribe();
  });
});
