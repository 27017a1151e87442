import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { createSubjects, type OwnPresenceView, type PresenceChoice } from '@chat/contracts';
import { connectNats, decodeJson } from '@chat/messaging';
import { startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { presenceService } from './service';
import {
  fakeGateway,
  fakeRooms,
  listed,
  presenceConfig,
  recordLive,
  recordRoomPresence,
  type FakeMember,
} from './testing/presence-fixture';

describe('presence service - choices, fan-out and queries over NATS', () => {
  const s = createSubjects(randomName());
  let svc: RunningService;
  let nc: NatsConnection;
  let live: ReturnType<typeof recordLive>;
  let roomsLive: ReturnType<typeof recordRoomPresence>;
  const rooms = new Map<string, FakeMember[]>();
  let roomSubs: Subscription[] = [];
  const rpc = () => svc.deps.rpc;
  const user = (username: string): FakeMember => ({ userId: randomUUID(), username });
  const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'OK' : r.error!.code);

  /** Messages on live.presenceMine of a user. */
  function recordMine(userId: string) {
    const views: OwnPresenceView[] = [];
    const sub = nc.subscribe(s.live.presenceMine(userId), { callback: (_e, m) => void views.push(decodeJson(m.data) as OwnPresenceView) });
    return { views, stop: () => sub.unsubscribe() };
  }

  beforeAll(async () => {
    svc = await startService(presenceService(await presenceConfig(s.namespace, { PRESENCE_FANOUT_MAX_MEMBERS: '3' })));
    nc = await connectNats({ servers: await testNatsUrl(), name: 'test-gateway' });
    live = recordLive(nc, s);
    roomsLive = recordRoomPresence(nc, s);
    roomSubs = fakeRooms(nc, s, rooms);
    await nc.flush();
  });
  afterAll(async () => {
    live.stop();
    roomsLive.stop();
    for (const sub of roomSubs) sub.unsubscribe();
    await svc.close();
    await deleteNamespace(s.namespace);
    await nc.drain();
  });

  it("presence.set - busy with a text reaches others, the choice is stored and sent to the user's devices", async () => {
    const ann = user('ann');
    const mine = recordMine(ann.userId);
    await nc.flush();
    const gw = fakeGateway(nc, s);
    gw.open('c1', ann.userId, ann.username);
    await eventually(() => live.last(ann.userId) === 'online');

    const reply = await rpc().callOrThrow('presence.set', { ...ann, status: 'busy', text: '  in a meeting 📅 ' });
    expect(reply).toEqual({ status: 'busy', text: 'in a meeting 📅', shown: 'busy', updatedAt: expect.any(String) });
    await eventually(() => live.lastPayload(ann.userId)?.status === 'busy');
    expect(live.lastPayload(ann.userId)).toEqual(expect.objectContaining({ status: 'busy', text: 'in a meeting 📅' }));
    await eventually(() => mine.views.length === 1);
    expect(mine.views[0]).toEqual(reply);
    const stored = await (await svc.deps.js.kv(s.kv.presence)).get(ann.userId);
    expect(decodeJson(stored!.value)).toEqual({
      ...ann,
      status: 'busy',
      text: 'in a meeting 📅',
      updatedAt: reply.updatedAt,
    } satisfies PresenceChoice);

    // Busy stays busy when idle (no automatic away).
    gw.activity('c1', ann.userId, true);
    await nc.flush(); // the server has the signal: it reaches the service before its own flush returns
    await svc.nc.flush();
    // An empty text clears it.
    const cleared = await rpc().callOrThrow('presence.set', { ...ann, status: 'online', text: '   ' });
    expect(cleared).toEqual(expect.objectContaining({ status: 'online', text: null, shown: 'away' }));
    await eventually(() => live.lastPayload(ann.userId)?.status === 'away');
    expect(live.of(ann.userId).map((e) => [e.payload.status, e.payload.text])).toEqual([
      ['online', null],
      ['busy', 'in a meeting 📅'],
      ['away', null],
    ]);
    mine.stop();
  });

  it('presence.set - invisible shows offline (no text) to others while connected; visible again brings the status back', async () => {
    const bo = user('bo');
    const gw = fakeGateway(nc, s);
    gw.open('c1', bo.userId, bo.username);
    await eventually(() => live.last(bo.userId) === 'online');
    const hidden = await rpc().callOrThrow('presence.set', { ...bo, status: 'invisible', text: 'secret plans' });
    expect(hidden).toEqual(expect.objectContaining({ status: 'invisible', text: 'secret plans', shown: 'offline' }));
    await eventually(() => live.last(bo.userId) === 'offline');
    expect(live.lastPayload(bo.userId)?.text).toBeNull();
    expect((await listed(svc)).some((u) => u.userId === bo.userId)).toBe(false);
    // A heartbeat still listing the connection changes nothing: the choice holds.
    gw.heartbeat(5000, [{ connId: 'c1', userId: bo.userId, username: bo.username, idle: false }]);
    await nc.flush();
    await svc.nc.flush();
    const visible = await rpc().callOrThrow('presence.set', { ...bo, status: 'online' });
    expect(visible.shown).toBe('online');
    await eventually(() => live.last(bo.userId) === 'online');
    expect(live.of(bo.userId).map((e) => e.payload.status)).toEqual(['online', 'offline', 'online']);
  });

  it('presence.set - bad input is BAD_REQUEST and changes nothing', async () => {
    const cy = user('cy');
    const gw = fakeGateway(nc, s);
    gw.open('c1', cy.userId, cy.username);
    await eventually(() => live.last(cy.userId) === 'online');
    await rpc().callOrThrow('presence.set', { ...cy, status: 'busy', text: 'ok' });
    await eventually(() => live.last(cy.userId) === 'busy');
    const kv = await svc.deps.js.kv(s.kv.presence);
    const before = await kv.get(cy.userId);
    const mine = recordMine(cy.userId);
    const bad: unknown[] = [
      { ...cy, status: 'busy', text: 'x'.repeat(101) },
      { ...cy, status: 'busy', text: 'two\nlines' },
      { ...cy, status: 'busy', text: 'bell\u0007' },
      { ...cy, status: 'busy', text: 'rtl\u202eoverride' },
      { ...cy, status: 'busy', text: 42 },
      { ...cy, status: 'offline' },
      { ...cy, status: 'sleeping' },
      { ...cy },
      { username: 'cy', status: 'busy' },
      { ...cy, userId: 'not-a-uuid', status: 'busy' },
    ];
    for (const body of bad) expect([body, code(await rpc().call('presence.set', body as never))]).toEqual([body, 'BAD_REQUEST']);
    await nc.flush();
    expect((await kv.get(cy.userId))?.revision).toBe(before?.revision);
    expect(live.of(cy.userId).map((e) => e.payload.status)).toEqual(['online', 'busy']);
    expect(mine.views).toEqual([]);
    mine.stop();
  });

  it('fan-out - a change reaches the rooms within the size limit only, with its stream position; nobody else', async () => {
    const [dee, eli, fay, gus] = [user('dee'), user('eli'), user('fay'), user('gus')];
    rooms.set('pair', [dee, eli]);
    rooms.set('trio', [dee, eli, fay]);
    rooms.set('crowd', [dee, eli, fay, gus]); // bigger than PRESENCE_FANOUT_MAX_MEMBERS (3)
    rooms.set('elsewhere', [fay, gus]);
    const gw = fakeGateway(nc, s);
    gw.open('c1', dee.userId, dee.username);
    await eventually(() => roomsLive.about(dee.userId).length === 2);
    expect(
      roomsLive
        .about(dee.userId)
        .map((x) => x.roomId)
        .sort(),
    ).toEqual(['pair', 'trio']);
    const stored = await svc.deps.js.lastOnSubject(s.streams.presence.name, s.presence.user(dee.userId));
    for (const { signal } of roomsLive.about(dee.userId)) {
      expect(signal).toEqual({ position: stored!.seq, presence: { ...dee, status: 'online', text: null, lastSeen: expect.any(String) } });
    }

    await rpc().callOrThrow('presence.set', { ...dee, status: 'busy', text: 'heads down' });
    await eventually(() => roomsLive.about(dee.userId).length === 4);
    expect(roomsLive.to('pair').at(-1)?.presence).toEqual(expect.objectContaining({ status: 'busy', text: 'heads down' }));
    // gus shares only the crowd with dee: nothing of dee's reached a room of his.
    expect(roomsLive.signals.filter((x) => x.roomId === 'crowd' || x.roomId === 'elsewhere')).toEqual([]);

    // A user in no room within the limit pushes to nobody.
    const hal = user('hal');
    gw.open('c2', hal.userId, hal.username);
    await eventually(() => live.last(hal.userId) === 'online');
    gw.open('c3', gus.userId, gus.username);
    await eventually(() => roomsLive.about(gus.userId).length === 1); // gus's own pair with fay
    expect(roomsLive.about(hal.userId)).toEqual([]);
  });

  it('fan-out - while the rooms service does not answer, changes wait and are pushed once it is back', async () => {
    const [ivy, jo] = [user('ivy'), user('jo')];
    rooms.set('ij', [ivy, jo]);
    for (const sub of roomSubs) sub.unsubscribe();
    await nc.flush();
    const gw = fakeGateway(nc, s);
    gw.open('c1', ivy.userId, ivy.username);
    await eventually(() => live.last(ivy.userId) === 'online');
    await new Promise((r) => setTimeout(r, 300));
    expect(roomsLive.to('ij')).toEqual([]);
    roomSubs = fakeRooms(nc, s, rooms);
    await nc.flush();
    await eventually(() => roomsLive.to('ij').length >= 1, 20_000);
    expect(roomsLive.to('ij')[0].presence).toEqual(expect.objectContaining({ userId: ivy.userId, status: 'online' }));
  });

  it('presence.room - a page of the members with their statuses; a member never seen is offline; outsiders get NOT_FOUND', async () => {
    const [kai, lee, max] = [user('kai'), user('lee'), user('max')];
    rooms.set('klm', [kai, lee, max]);
    const gw = fakeGateway(nc, s);
    gw.open('c1', kai.userId, kai.username);
    gw.open('c2', lee.userId, lee.username);
    await eventually(() => live.last(kai.userId) === 'online' && live.last(lee.userId) === 'online');
    await rpc().callOrThrow('presence.set', { ...lee, status: 'away', text: 'brb' });
    await eventually(() => live.last(lee.userId) === 'away');

    const page = await rpc().callOrThrow('presence.room', { actorId: kai.userId, roomId: 'klm', offset: 0, limit: 2 });
    expect(page).toEqual({
      roomId: 'klm',
      total: 3,
      users: [
        { ...kai, status: 'online', text: null, lastSeen: expect.any(String) },
        { ...lee, status: 'away', text: 'brb', lastSeen: expect.any(String) },
      ],
    });
    const rest = await rpc().callOrThrow('presence.room', { actorId: kai.userId, roomId: 'klm', offset: 2 });
    expect(rest.users).toEqual([{ ...max, status: 'offline', text: null, lastSeen: '2024-01-01T00:00:00.000Z' }]);

    const outsider = user('out');
    expect(code(await rpc().call('presence.room', { actorId: outsider.userId, roomId: 'klm' }))).toBe('NOT_FOUND');
    // A public room: anyone may see its member list, but only its members read their statuses.
    rooms.set('pub-klm', [kai, lee]);
    expect((await rpc().callOrThrow('presence.room', { actorId: kai.userId, roomId: 'pub-klm' })).total).toBe(2);
    expect(code(await rpc().call('presence.room', { actorId: outsider.userId, roomId: 'pub-klm' }))).toBe('NOT_MEMBER');
    expect(code(await rpc().call('presence.room', { actorId: kai.userId, roomId: 'BAD ROOM' }))).toBe('BAD_REQUEST');
    expect(code(await rpc().call('presence.room', { actorId: kai.userId, roomId: 'klm', limit: 201 }))).toBe('BAD_REQUEST');
  });

  it("presence.contacts - the members of the caller's small rooms, last seen for those offline, and the caller's own choice", async () => {
    const [ned, ola, pia] = [user('ned'), user('ola'), user('pia')];
    rooms.set('nop', [ned, ola, pia]);
    const gw = fakeGateway(nc, s);
    gw.open('c1', ned.userId, ned.username);
    gw.open('c2', ola.userId, ola.username);
    await eventually(() => live.last(ola.userId) === 'online');
    gw.close('c2', ola.userId);
    await eventually(() => live.last(ola.userId) === 'offline');
    const lastSeen = live.lastPayload(ola.userId)!.lastSeen;
    await rpc().callOrThrow('presence.set', { ...ned, status: 'busy', text: 'coding' });
    await eventually(() => live.last(ned.userId) === 'busy');

    const r = await rpc().callOrThrow('presence.contacts', ned);
    // pia was never seen by presence: left out.
    expect(r.users.sort((a, b) => a.username.localeCompare(b.username))).toEqual([
      { ...ned, status: 'busy', text: 'coding', lastSeen: expect.any(String) },
      { ...ola, status: 'offline', text: null, lastSeen },
    ]);
    expect(r.mine).toEqual({ status: 'busy', text: 'coding', shown: 'busy', updatedAt: expect.any(String) });
    expect(code(await rpc().call('presence.contacts', { userId: 'x', username: 'ned' } as never))).toBe('BAD_REQUEST');

    // Paged in user id order over the contacts (pia, never seen, holds her place in the order but is left out).
    const ids = [ned, ola, pia].map((u) => u.userId).sort();
    const pages = [];
    for (let offset = 0; offset < 3; offset++) pages.push(await rpc().callOrThrow('presence.contacts', { ...ned, offset, limit: 1 }));
    expect(pages.map((p) => [p.total, p.users.map((u) => u.userId)])).toEqual(ids.map((id) => [3, id === pia.userId ? [] : [id]]));
    expect(r.total).toBe(3);
    for (const bad of [{ limit: 0 }, { limit: 1001 }, { offset: -1 }])
      expect(code(await rpc().call('presence.contacts', { ...ned, ...bad }))).toBe('BAD_REQUEST');
  });

  it('presence.list - server administrators only', async () => {
    expect(code(await rpc().call('presence.list', { userId: randomUUID(), username: 'someone' }))).toBe('FORBIDDEN');
    expect(code(await rpc().call('presence.list', {} as never))).toBe('BAD_REQUEST');
    expect(Array.isArray(await listed(svc))).toBe(true);
  });

  it('presence.list - a page in user id order with the total', async () => {
    const [qa, qb, qc] = [user('qa'), user('qb'), user('qc')];
    const gw = fakeGateway(nc, s);
    for (const [i, u] of [qa, qb, qc].entries()) gw.open(`q${i}`, u.userId, u.username);
    await eventually(() => [qa, qb, qc].every((u) => live.last(u.userId) === 'online'));
    const root = { userId: randomUUID(), username: 'root' };
    const all = await rpc().callOrThrow('presence.list', root);
    const ids = all.users.map((u) => u.userId);
    expect(ids).toEqual([...ids].sort());
    expect(all.total).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([qa, qb, qc].map((u) => u.userId)));
    const second = await rpc().callOrThrow('presence.list', { ...root, offset: 1, limit: 1 });
    expect({ total: second.total, ids: second.users.map((u) => u.userId) }).toEqual({ total: ids.length, ids: ids.slice(1, 2) });
    expect(code(await rpc().call('presence.list', { ...root, limit: 1001 }))).toBe('BAD_REQUEST');
  });
});
