import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects, type PresenceChanged, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, connectNats, encodeJson, streamSpecs } from '@chat/messaging';
import { startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { presenceService } from './service';
import { PresenceService } from './presence.service';
import { fakeGateway, listed as listedOn, metric, presenceConfig as config, recordLive } from './testing/presence-fixture';

/**
 * A NATS connection playing the gateways and the services a describe block starts, closed and
 * their namespaces deleted after it.
 */
function useHarness(...namespaces: Subjects[]): { nc: NatsConnection; running: RunningService[] } {
  const h = { nc: undefined as unknown as NatsConnection, running: [] as RunningService[] };
  beforeAll(async () => {
    h.nc = await connectNats({ servers: await testNatsUrl(), name: 'test-gateway' });
  });
  afterAll(async () => {
    for (const svc of h.running) await svc.close();
    for (const n of namespaces) await deleteNamespace(n.namespace);
    await h.nc.drain();
  });
  return h;
}

describe('presence service - gateway signals over NATS', () => {
  const s = createSubjects(randomName());
  let svc: RunningService;
  let nc: NatsConnection;
  let live: ReturnType<typeof recordLive>;

  beforeAll(async () => {
    svc = await startService(presenceService(await config(s.namespace)));
    nc = await connectNats({ servers: await testNatsUrl(), name: 'test-gateway' });
    live = recordLive(nc, s);
    await nc.flush();
  });
  afterAll(async () => {
    live.stop();
    await svc.close();
    await deleteNamespace(s.namespace);
    await nc.drain();
  });

  const listed = () => listedOn(svc);

  it('presence - open, idle, active and close are published live and listed', async () => {
    const gw = fakeGateway(nc, s);
    const userId = randomUUID();
    gw.open('c1', userId, 'alice');
    await eventually(() => live.last(userId) === 'online');
    const online = live.of(userId)[0];
    expect(online).toEqual(expect.objectContaining({ type: 'PresenceChanged', version: 2, actor: { kind: 'service', id: 'presence' } }));
    expect(online.payload).toEqual({ userId, username: 'alice', status: 'online', text: null, lastSeen: expect.any(String) });
    expect(await listed()).toContainEqual({ userId, username: 'alice', status: 'online', text: null, lastSeen: online.payload.lastSeen });

    // Automatic away: the only connection went idle; back online when it is active again.
    gw.activity('c1', userId, true);
    await eventually(() => live.last(userId) === 'away');
    expect((await listed()).find((u) => u.userId === userId)?.status).toBe('away');
    gw.activity('c1', userId, false);
    await eventually(() => live.last(userId) === 'online');

    gw.close('c1', userId);
    await eventually(() => live.last(userId) === 'offline');
    expect((await listed()).some((u) => u.userId === userId)).toBe(false);
    expect(live.of(userId).map((e) => e.payload.status)).toEqual(['online', 'away', 'online', 'offline']);

    // The stream keeps the last status per user: that is "last seen".
    const stored = await svc.deps.js.lastOnSubject(s.streams.presence.name, s.presence.user(userId));
    expect((stored?.data as PresenceChanged).payload.status).toBe('offline');
  });

  it('presence - a user connected twice stays online until the last connection closes; away when the active one closes', async () => {
    const gw = fakeGateway(nc, s);
    const userId = randomUUID();
    gw.open('a', userId, 'bob');
    gw.open('b', userId, 'bob');
    gw.activity('b', userId, true);
    await eventually(() => live.last(userId) === 'online');
    gw.close('a', userId);
    await eventually(() => live.last(userId) === 'away');
    gw.close('b', userId);
    await eventually(() => live.last(userId) === 'offline');
    expect(live.of(userId).map((e) => e.payload.status)).toEqual(['online', 'away', 'offline']);
  });

  it('presence - the users of a gateway that stops heartbeating go offline', async () => {
    const gw = fakeGateway(nc, s);
    const userId = randomUUID();
    const other = randomUUID();
    gw.heartbeat(200, [
      { connId: 'c1', userId, username: 'carol', idle: false },
      { connId: 'c2', userId: other, username: 'dave', idle: true },
    ]);
    await eventually(() => live.last(userId) === 'online' && live.last(other) === 'away');
    expect((await listed()).map((u) => u.userId)).toEqual(expect.arrayContaining([userId, other]));
    // No more heartbeats: the gateway is presumed dead after 3 intervals.
    await eventually(() => live.last(userId) === 'offline' && live.last(other) === 'offline');
    expect(live.of(userId).at(-1)?.causationId).toMatch(new RegExp(`^${gw.gatewayId}:expired:`));
    const users = (await listed()).map((u) => u.userId);
    expect(users).not.toContain(userId);
    expect(users).not.toContain(other);
  });

  it('presence - a heartbeat heals a missed close signal', async () => {
    const gw = fakeGateway(nc, s);
    const userId = randomUUID();
    gw.open('c1', userId, 'erin');
    await eventually(() => live.last(userId) === 'online');
    gw.heartbeat(5000, []);
    await eventually(() => live.last(userId) === 'offline');
  });

  it('presence - a beat in several parts: listed users stay online across beats, incomplete beats keep the gateway alive, a user left out of a complete beat goes offline', async () => {
    const gw = fakeGateway(nc, s);
    const users = Array.from({ length: 7 }, (_, i) => ({ connId: `c${i}`, userId: randomUUID(), username: `part${i}`, idle: i === 0 }));
    const [first, ...rest] = users;
    const gone = users[6];
    // 7 connections, 2 per part: 4 parts per beat.
    gw.heartbeat(1000, users, 2);
    await eventually(() => users.every((u) => live.last(u.userId) === (u.idle ? 'away' : 'online')));
    // Beats whose part 0 is lost (the rest arrive) for longer than the gateway's timeout (3 s):
    // nothing is reconciled, and the parts alone keep the gateway alive.
    for (let i = 0; i < 8; i++) {
      gw.heartbeat(1000, [first, ...rest.slice(0, 5)], 2, [0]);
      await new Promise((r) => setTimeout(r, 500));
    }
    // A signal after the beats: once it is applied, so are they (one gateway's messages apply in order).
    const marker = randomUUID();
    gw.open('marker', marker, 'marker');
    await eventually(() => live.last(marker) === 'online');
    expect(live.last(gone.userId)).toBe('online');
    // A complete beat without `gone`.
    gw.heartbeat(1000, [...users.slice(0, 6), { connId: 'marker', userId: marker, username: 'marker', idle: false }], 2);
    await eventually(() => live.last(gone.userId) === 'offline');
    expect(live.of(gone.userId).at(-1)?.causationId).toMatch(new RegExp(`^${gw.gatewayId}:hb:`));
    for (const u of users.slice(0, 6)) expect(live.of(u.userId).map((e) => e.payload.status)).toEqual([u.idle ? 'away' : 'online']);
    expect(live.last(marker)).toBe('online');
  });

  it('presence - garbage on the gateway subjects is ignored and the service keeps working', async () => {
    const invalidBefore =
      (await metric(svc, 'presence_invalid_messages_total{kind="signal"}')) +
      (await metric(svc, 'presence_invalid_messages_total{kind="heartbeat"}'));
    const gw = fakeGateway(nc, s);
    const conn = s.presence.gatewayConnections(gw.gatewayId);
    const hb = s.presence.gatewayHeartbeat(gw.gatewayId);
    const at = new Date().toISOString();
    nc.publish(conn, new TextEncoder().encode('not json'));
    nc.publish(conn, encodeJson({}));
    nc.publish(conn, encodeJson({ kind: 'opened', gatewayId: gw.gatewayId, connId: 'x', userId: 'not-a-uuid', username: 'mallory', at }));
    nc.publish(conn, encodeJson({ kind: 'opened', gatewayId: 'someone-else', connId: 'x', userId: randomUUID(), username: 'mallory', at }));
    nc.publish(hb, new TextEncoder().encode('\u0000\u0001'));
    nc.publish(hb, encodeJson({ gatewayId: gw.gatewayId, at, intervalMs: 1000, beat: 0, part: 0, parts: 1, connections: 'everyone' }));
    // A part beyond its beat's parts.
    nc.publish(hb, encodeJson({ gatewayId: gw.gatewayId, at, intervalMs: 1000, beat: 0, part: 2, parts: 2, connections: [] }));
    // The old per-connection status signal, and activity without its flag.
    nc.publish(conn, encodeJson({ kind: 'status', gatewayId: gw.gatewayId, connId: 'x', userId: randomUUID(), status: 'busy', at }));
    nc.publish(conn, encodeJson({ kind: 'activity', gatewayId: gw.gatewayId, connId: 'x', userId: randomUUID(), at }));
    await nc.flush();
    await eventually(
      async () =>
        (await metric(svc, 'presence_invalid_messages_total{kind="signal"}')) +
          (await metric(svc, 'presence_invalid_messages_total{kind="heartbeat"}')) ===
        invalidBefore + 9,
    );
    // A heartbeat with old-style entries (status, no idle): the entries are left out, the user never appears.
    const ghost = randomUUID();
    nc.publish(
      hb,
      encodeJson({
        gatewayId: gw.gatewayId,
        at,
        intervalMs: 1000,
        beat: 1,
        part: 0,
        parts: 1,
        connections: [{ connId: 'g', userId: ghost, username: 'ghost', status: 'online' }],
      }),
    );
    await eventually(async () => (await metric(svc, 'presence_invalid_messages_total{kind="heartbeat_entry"}')) >= 1);

    const userId = randomUUID();
    gw.open('c1', userId, 'frank');
    await eventually(() => live.last(userId) === 'online');
    expect(live.events.some((e) => e.payload.username === 'mallory' || e.payload.userId === ghost)).toBe(false);
  });

  it('presence - serves readiness and the online users gauge', async () => {
    const gw = fakeGateway(nc, s);
    const userId = randomUUID();
    gw.open('c1', userId, 'grace');
    await eventually(() => live.last(userId) === 'online');
    const ready = await fetch(`${svc.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { nats: true, presence: true, 'presence-fanout': true } });
    expect(await metric(svc, 'presence_online_users')).toBe((await listed()).length);
    expect(await metric(svc, 'presence_online_users')).toBeGreaterThanOrEqual(1);
  });
});

describe('presence service - start-up', () => {
  const s = createSubjects(randomName());
  let nc: NatsConnection;
  let js: JetStreamAdapter;
  const running: RunningService[] = [];

  beforeAll(async () => {
    nc = await connectNats({ servers: await testNatsUrl(), name: 'test-gateway' });
    js = new JetStreamAdapter(nc);
    await js.ensureStreams(streamSpecs(s));
  });
  afterAll(async () => {
    for (const svc of running) await svc.close();
    await deleteNamespace(s.namespace);
    await nc.drain();
  });

  // Stored as v1 (before custom texts): read back with text null.
  const storePresence = (userId: string, username: string, status: 'online' | 'offline', lastSeen: string) =>
    js.append(
      s.presence.user(userId),
      {
        id: randomUUID(),
        type: 'PresenceChanged',
        version: 1,
        time: lastSeen,
        actor: { kind: 'service', id: 'presence' },
        correlationId: 'seed',
        causationId: null,
        payload: { userId, username, status, lastSeen },
      },
      { msgId: randomUUID() },
    );

  it('presence - after a restart, users no gateway holds go offline; held users keep their last status', async () => {
    const orphan = randomUUID(); // its gateway died while presence was down
    const held = randomUUID();
    const gone = randomUUID();
    const seen = '2024-01-01T00:00:00.000Z';
    await storePresence(orphan, 'olga', 'online', seen);
    const heldSeq = (await storePresence(held, 'hank', 'online', seen)).seq;
    await storePresence(gone, 'gus', 'offline', seen);
    const live = recordLive(nc, s);
    await nc.flush();

    const svc = await startService(presenceService(await config(s.namespace, { PRESENCE_STARTUP_GRACE_MS: '1000' })));
    running.push(svc);
    fakeGateway(nc, s).heartbeat(5000, [{ connId: 'c1', userId: held, username: 'hank', idle: false }]);

    await eventually(() => live.last(orphan) === 'offline');
    expect(live.of(orphan)[0].causationId).toMatch(/^settle:/);
    expect((await listedOn(svc)).map((u) => u.userId)).toEqual([held]);
    // hank was online before the restart and still is: nothing new stored, lastSeen kept.
    const stored = await js.lastOnSubject(s.streams.presence.name, s.presence.user(held));
    expect(stored?.seq).toBe(heldSeq);
    expect(live.of(held)).toEqual([]);
    expect(live.of(gone)).toEqual([]);
    live.stop();
  });
});

describe('presence service - replicas', () => {
  const s = createSubjects(randomName());
  const h = useHarness(s);

  it('presence - two replicas that see the same signals store each change once', async () => {
    const [a, b] = await Promise.all([
      startService(presenceService(await config(s.namespace))),
      startService(presenceService(await config(s.namespace))),
    ]);
    h.running.push(a, b);
    const appended = async (svc: RunningService) =>
      (await metric(svc, 'presence_events_appended_total{result="stored"}')) +
      (await metric(svc, 'presence_events_appended_total{result="duplicate"}'));
    const [beforeA, beforeB] = [await appended(a), await appended(b)];
    const live = recordLive(h.nc, s);
    await h.nc.flush();

    const gw = fakeGateway(h.nc, s);
    const userId = randomUUID();
    gw.open('c1', userId, 'ivy');
    gw.activity('c1', userId, true);
    gw.close('c1', userId);
    // Both replicas have appended all three changes (stored or found duplicate) ...
    await eventually(async () => (await appended(a)) - beforeA >= 3 && (await appended(b)) - beforeB >= 3);
    await eventually(() => live.last(userId) === 'offline');
    await h.nc.flush();
    // ... and the stream stored each once.
    expect(live.of(userId).map((e) => e.payload.status)).toEqual(['online', 'away', 'offline']);
    live.stop();
  });
});

describe('presence service - NATS outage', () => {
  // The outage is played through the service's status hook: NATS itself stays up, the gateways
  // just go quiet as they would look to a replica that lost its connection.
  const s = createSubjects(randomName());
  const witness = createSubjects(randomName());
  const h = useHarness(s, witness);

  it('presence - a replica without NATS expires nobody; after the reconnect only gateways still silent expire', async () => {
    const [svc, other] = await Promise.all([
      startService(presenceService(await config(s.namespace))),
      startService(presenceService(await config(witness.namespace))),
    ]);
    h.running.push(svc, other);
    const live = recordLive(h.nc, s);
    const witnessLive = recordLive(h.nc, witness);
    await h.nc.flush();
    const stays = fakeGateway(h.nc, s);
    const dies = fakeGateway(h.nc, s);
    const control = fakeGateway(h.nc, witness);
    const [kept, lost, seen] = [randomUUID(), randomUUID(), randomUUID()];
    const beatKept = () => stays.heartbeat(100, [{ connId: 'c1', userId: kept, username: 'kim', idle: false }]);
    // The control gateway, on a replica that stays connected, times out well after (3 × 400 ms)
    // the others (3 × 100 ms): once it has expired, they would have too.
    const beatAll = () => {
      beatKept();
      dies.heartbeat(100, [{ connId: 'c2', userId: lost, username: 'lou', idle: false }]);
      control.heartbeat(400, [{ connId: 'c3', userId: seen, username: 'cal', idle: false }]);
    };
    beatAll();
    let beating = setInterval(beatAll, 50);
    try {
      await eventually(() => live.last(kept) === 'online' && live.last(lost) === 'online' && witnessLive.last(seen) === 'online');
      svc.app.get(PresenceService).onNatsStatus('disconnect');
      clearInterval(beating);
      await eventually(() => witnessLive.last(seen) === 'offline');
      expect(live.of(kept).map((e) => e.payload.status)).toEqual(['online']);
      expect(live.of(lost).map((e) => e.payload.status)).toEqual(['online']);

      svc.app.get(PresenceService).onNatsStatus('reconnect');
      beatKept();
      beating = setInterval(beatKept, 50);
      // The gateway that stayed silent expires one timeout after the reconnect; the other is kept.
      await eventually(() => live.last(lost) === 'offline');
      expect(live.of(lost).at(-1)?.causationId).toMatch(new RegExp(`^${dies.gatewayId}:expired:`));
      await h.nc.flush();
      expect(live.of(kept).map((e) => e.payload.status)).toEqual(['online']);
    } finally {
      clearInterval(beating);
      live.stop();
      witnessLive.stop();
    }
  });
});
