import type { DynamicModule } from '@nestjs/common';
import type { FilterConfig, ModerationCheckRequest, SetFiltersRpc } from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { loadConfig, RpcCallContext, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { SendCheck } from '../check/send-check';
import { FakePermissions, FakeReports, FakeSanctions, FakeStrikes } from '../check/testing/fake-ports';
import { ModerationConfig } from '../config';
import { PermissionsPort, ReportsPort, SanctionsPort, StrikesPort } from '../ports';
import { filterConfig, words } from '../rules/filter-config.fixture';
import { moderationService } from '../service';
import { ModerationLog } from '../log/moderation-log';
import { FiltersController } from './filters.controller';

/**
 * Two real moderation replicas on one NATS namespace. The ports (roles, sanctions, strikes,
 * reports) are the in-memory stand-ins, shared by both replicas, so the test can give roles and
 * see the strikes and held reports the check asked for; everything else is the service as it runs.
 */
describe('moderation filters - two replicas over NATS', () => {
  const namespace = randomName();
  const permissions = new FakePermissions();
  const sanctions = new FakeSanctions();
  const strikes = new FakeStrikes();
  const reports = new FakeReports();
  const admin = { userId: randomUUID(), username: 'admin' };
  const owner = { userId: randomUUID(), username: 'owner' };
  let a: RunningService;
  let b: RunningService;
  let rpc: RpcClient;

  const withFakePorts = (m: DynamicModule): DynamicModule => ({
    ...m,
    providers: [
      ...(m.providers ?? []),
      { provide: PermissionsPort, useValue: permissions },
      { provide: SanctionsPort, useValue: sanctions },
      { provide: StrikesPort, useValue: strikes },
      { provide: ReportsPort, useValue: reports },
    ],
  });
  const replica = async () => {
    const config = loadConfig(ModerationConfig, {
      NATS_URL: await testNatsUrl(),
      NATS_NAMESPACE: namespace,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      BLOCKED_WORDS: 'forbidden,禁止',
      MOD_SEND_BURST: '3',
    });
    const def = moderationService(config);
    return startService({ ...def, module: (platform, deps) => withFakePorts(def.module(platform, deps)) });
  };

  beforeAll(async () => {
    permissions.roles.set(admin.userId, 'admin');
    permissions.roomStaff.set('lounge', new Set([owner.userId]));
    [a, b] = await Promise.all([replica(), replica()]);
    rpc = a.deps.rpc;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await deleteNamespace(namespace);
  });

  const check = (body: string, more: Partial<ModerationCheckRequest> = {}): ModerationCheckRequest => ({
    roomId: 'general',
    senderId: randomUUID(),
    senderName: 'ann',
    senderRole: 'member',
    kind: 'post',
    clientMsgId: randomUUID(),
    body,
    heldReportId: null,
    ...more,
  });
  const setRequest = (config: FilterConfig, roomId?: string, by = admin): SetFiltersRpc =>
    ({ ...by, ...(roomId ? { roomId } : {}), config }) as SetFiltersRpc;
  /** RPCs go to either replica: wait until both have applied a change before asking either. */
  const bothHave = ({ position }: { position: number }) =>
    eventually(() => a.app.get(ModerationLog).position >= position && b.app.get(ModerationLog).position >= position);
  const setThrough = (svc: RunningService, config: FilterConfig, roomId?: string) =>
    svc.app.get(FiltersController).set(setRequest(config, roomId), new RpcCallContext('test', randomUUID()));

  it('a filter set through one replica applies on the other within a second', async () => {
    const word = `zq${randomName().slice(0, 6)}`;
    expect((await b.app.get(SendCheck).check(check(`say ${word}`))).verdict).toBe('allow');
    await setThrough(a, filterConfig({ words: words('block', word) }));
    await eventually(async () => (await b.app.get(SendCheck).check(check(`say ${word}`))).verdict === 'reject', 1000, 10);
    // And back: replacing the server's configuration lifts it on both.
    await setThrough(b, filterConfig({}));
    await eventually(async () => (await a.app.get(SendCheck).check(check(`say ${word}`))).verdict === 'allow', 1000, 10);
  });

  it('verdicts end to end over RPC: masked, blocked with a strike, held with a report, an edit that would be held refused', async () => {
    const config = filterConfig({
      words: [...words('mask', 'darn', '该死'), ...words('block', 'scam')],
      links: { domains: [{ domain: 'review.example', action: 'hold' }] },
    });
    await bothHave(await rpc.callOrThrow('moderation.setFilters', setRequest(config)));

    const masked = await rpc.call('moderation.check', check('darn it, 该死的'));
    expect(masked).toEqual({ ok: true, data: { verdict: 'allow', body: '*** it, ***的' } });

    const sender = randomUUID();
    const blocked = await rpc.call('moderation.check', check('total S.C.A.M here', { senderId: sender }));
    expect(blocked).toEqual({
      ok: true,
      data: {
        verdict: 'reject',
        code: 'CONTENT_BLOCKED',
        rule: 'words',
        reason: 'the message contains a blocked word',
        retryAfterMs: null,
      },
    });
    expect(strikes.recorded.filter((s) => s.userId === sender)).toEqual([expect.objectContaining({ kind: 'filtered', rule: 'words' })]);
    const configured = await rpc.call('moderation.check', check('这是禁止的', { senderId: sender }));
    expect(configured.ok && configured.data).toMatchObject({ verdict: 'reject', code: 'CONTENT_BLOCKED' });

    const held = await rpc.call('moderation.check', check('darn, see https://review.example/x', { senderId: sender, clientMsgId: 'm1' }));
    const report = reports.held.find((h) => h.senderId === sender);
    expect(held).toEqual({
      ok: true,
      data: { verdict: 'hold', rule: 'links', reason: 'a link to review.example waits for a moderator', reportId: report?.reportId },
    });
    expect(report).toMatchObject({ body: '***, see https://review.example/x', clientMsgId: 'm1', roomId: 'general' });
    // A moderator approves: the same text with the report's id passes as it is.
    const approved = await rpc.call('moderation.check', check(report!.body, { senderId: sender, heldReportId: report!.reportId }));
    expect(approved).toEqual({ ok: true, data: { verdict: 'allow', body: '***, see https://review.example/x' } });

    const edit = await rpc.call('moderation.check', check('see review.example', { kind: 'edit', clientMsgId: null }));
    expect(edit.ok && edit.data).toMatchObject({ verdict: 'reject', code: 'CONTENT_BLOCKED', rule: 'links' });
  });

  it('send-path checks: server ban, mute with its time left, token bucket (room admins exempt), flood with a strike', async () => {
    const banned = randomUUID();
    sanctions.banned.add(banned);
    const ban = await rpc.call('moderation.check', check('hi', { senderId: banned }));
    expect(ban.ok && ban.data).toMatchObject({ verdict: 'reject', code: 'SERVER_BANNED' });

    const muted = randomUUID();
    const until = new Date(Date.now() + 600_000).toISOString();
    sanctions.mutes.push({
      muteId: 'm',
      userId: muted,
      username: 'm',
      roomId: null,
      until,
      reason: 'r',
      by: null,
      rule: null,
      time: until,
    });
    const mute = await rpc.call('moderation.check', check('hi', { senderId: muted }));
    expect(mute.ok && mute.data).toMatchObject({ verdict: 'reject', code: 'MUTED', retryAfterMs: expect.any(Number) });

    // Buckets are per replica: asked of one replica directly, the 4th message of a burst of 3 waits.
    const fast = randomUUID();
    const onA = (body: string, more: Partial<ModerationCheckRequest> = {}) =>
      a.app.get(SendCheck).check(check(body, { senderId: fast, ...more }));
    for (const n of ['one', 'two', 'three']) expect((await onA(`message ${n}`)).verdict).toBe('allow');
    expect(await onA('message four')).toMatchObject({
      verdict: 'reject',
      code: 'RATE_LIMITED',
      rule: 'rate',
      retryAfterMs: expect.any(Number),
    });
    expect((await onA('message four', { senderRole: 'admin' })).verdict).toBe('allow');

    const flooder = randomUUID();
    const text = 'come to my great new server';
    const onB = (roomId: string) => b.app.get(SendCheck).check(check(text, { senderId: flooder, roomId }));
    expect((await onB('r1')).verdict).toBe('allow');
    expect((await onB('r2')).verdict).toBe('allow');
    expect(await onB('r3')).toMatchObject({ verdict: 'reject', code: 'RATE_LIMITED', rule: 'flood' });
    expect(strikes.recorded.filter((s) => s.userId === flooder)).toEqual([expect.objectContaining({ kind: 'flood', roomId: 'r3' })]);
  });

  it('room filters join the server: a room owner sets the room scope, not the server; get and test answer without side effects', async () => {
    await bothHave(await setThrough(a, filterConfig({})));
    const room = filterConfig({
      patterns: [{ name: 'invite', pattern: 'discord\\.gg/\\w+', action: 'block' }],
      spam: { capsPercentMax: 60, capsMinLetters: 5 },
    });
    const set = await rpc.call('moderation.setFilters', setRequest(room, 'lounge', owner));
    expect(set).toEqual({ ok: true, data: { position: expect.any(Number), scope: 'room', roomId: 'lounge' } });
    await bothHave(set.ok ? set.data : { position: Infinity });
    const server = await rpc.call('moderation.setFilters', setRequest(filterConfig({}), undefined, owner));
    expect(!server.ok && server.error.code).toBe('FORBIDDEN');
    const other = await rpc.call('moderation.setFilters', setRequest(room, 'elsewhere', owner));
    expect(!other.ok && other.error.code).toBe('FORBIDDEN');

    const view = await b.app.get(FiltersController).get({ ...owner, roomId: 'lounge' }, new RpcCallContext('test', 'c'));
    expect(view).toMatchObject({ scope: 'room', roomId: 'lounge', config: room, updatedBy: owner });

    const strikesBefore = strikes.recorded.length;
    const heldBefore = reports.held.length;
    const tested = await rpc.call('moderation.testFilters', { ...owner, roomId: 'lounge', body: 'join ｄｉｓｃｏｒｄ.gg/abc' });
    expect(tested.ok && tested.data).toMatchObject({ verdict: 'reject', code: 'CONTENT_BLOCKED', rule: 'pattern:invite' });
    const shouting = await rpc.call('moderation.testFilters', { ...owner, roomId: 'lounge', body: 'STOP SHOUTING PLEASE' });
    expect(shouting.ok && shouting.data).toMatchObject({ verdict: 'reject', rule: 'caps' });
    const serverOnly = await rpc.call('moderation.testFilters', { ...admin, body: 'STOP SHOUTING PLEASE' });
    expect(serverOnly).toEqual({ ok: true, data: { verdict: 'allow', body: 'STOP SHOUTING PLEASE' } });
    expect([strikes.recorded.length, reports.held.length]).toEqual([strikesBefore, heldBefore]);

    const elsewhere = await rpc.call('moderation.check', check('STOP SHOUTING PLEASE', { roomId: 'general' }));
    expect(elsewhere.ok && elsewhere.data).toMatchObject({ verdict: 'allow' });
  });

  it('a bad configuration is refused with BAD_REQUEST naming the field, and nothing is stored', async () => {
    const before = await rpc.callOrThrow('moderation.filters', { ...admin });
    const bad = await rpc.call(
      'moderation.setFilters',
      setRequest(filterConfig({ words: words('block', 'x'), patterns: [{ name: 'p', pattern: '(a+)+$', action: 'block' }] })),
    );
    expect(bad).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'BAD_REQUEST', details: [expect.objectContaining({ field: 'config.patterns.0.pattern' })] }),
    });
    const shape = await rpc.call('moderation.setFilters', { ...admin, config: { words: 'nope' } } as never);
    expect(!shape.ok && shape.error.code).toBe('BAD_REQUEST');
    expect(await rpc.callOrThrow('moderation.filters', { ...admin })).toEqual(before);
  });
});
