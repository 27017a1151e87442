import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects } from '@chat/contracts';
import { connectNats } from '@chat/messaging';
import { startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { presenceService } from './service';
import { PresenceService } from './presence.service';
import { fakeGateway, metric, presenceConfig, recordLive } from './testing/presence-fixture';

describe('presence service - replicas converge on what the stream stored', () => {
  const s = createSubjects(randomName());
  let nc: NatsConnection;
  let a: RunningService;
  let b: RunningService;
  let live: ReturnType<typeof recordLive>;
  const presenceOf = (svc: RunningService) => svc.app.get(PresenceService);

  beforeAll(async () => {
    nc = await connectNats({ servers: await testNatsUrl(), name: 'test-gateway' });
    [a, b] = await Promise.all([
      startService(presenceService(await presenceConfig(s.namespace))),
      startService(presenceService(await presenceConfig(s.namespace))),
    ]);
    live = recordLive(nc, s);
    await nc.flush();
    // Each replica settles every user once, from its own inputs, at its first expiry check
    // (PRESENCE_EXPIRY_CHECK_MS) after the start-up grace. The tests below divide the replicas on
    // purpose, and a settle inside that window (a loaded machine delays the first check) stores
    // each replica's partial view: online from one, offline from the other. So wait until both
    // have run an expiry check: a probe gateway that beat once (no connections, timeout 3 x
    // 100 ms) is expired by each (a check expires first, then settles).
    const probe = fakeGateway(nc, s);
    probe.heartbeat(100, []);
    await delivered(); // both hold the probe gateway from here on, until their own check expires it
    await eventually(async () => (await metric(a, 'presence_gateways')) === 0 && (await metric(b, 'presence_gateways')) === 0, 30_000);
  });
  afterAll(async () => {
    live.stop();
    await a.close();
    await b.close();
    await deleteNamespace(s.namespace);
    await nc.drain();
  });

  /** Both replicas answer the same view of the user as the stream's last event. */
  const agree = async (userId: string, status: string) => {
    const last = await a.deps.js.lastOnSubject(s.streams.presence.name, s.presence.user(userId));
    const stored = (last?.data as { payload?: { status: string; lastSeen: string } } | undefined)?.payload;
    const [va, vb] = [presenceOf(a).viewOf(userId), presenceOf(b).viewOf(userId)];
    return (
      stored?.status === status &&
      va?.status === status &&
      vb?.status === status &&
      va.lastSeen === stored.lastSeen &&
      vb.lastSeen === stored.lastSeen
    );
  };
  /** Signals reach both replicas' subscriptions before this returns (each flushes after the test's connection). */
  const delivered = async () => {
    await nc.flush();
    await Promise.all([a.nc.flush(), b.nc.flush()]);
  };

  it('convergence - a replica that missed signals adopts the stored view at once and stores no duplicate at the next heartbeat', async () => {
    const gw = fakeGateway(nc, s);
    const user = { userId: randomUUID(), username: 'quinn' };
    gw.open('c1', user.userId, user.username);
    await eventually(() => agree(user.userId, 'online'));

    // A misses a second connection and the first one going idle.
    presenceOf(a).pauseGatewayInput(true);
    gw.open('c2', user.userId, user.username);
    gw.activity('c1', user.userId, true);
    await delivered();
    presenceOf(a).pauseGatewayInput(false);
    // The active connection closes: only B knows the user is now idle-only, and stores away.
    gw.close('c2', user.userId);
    // A follows the stream: it shows what B stored, without any further input.
    await eventually(() => agree(user.userId, 'away'));
    expect(presenceOf(a).ownView(user.userId).shown).toBe('online'); // A's own inputs are still stale ...

    // ... until the gateway's next heartbeat (its full truth): A now derives away too, which the
    // stream already holds, so nothing more is stored.
    gw.heartbeat(5000, [{ connId: 'c1', userId: user.userId, username: user.username, idle: true }]);
    await eventually(() => presenceOf(a).ownView(user.userId).shown === 'away');
    await delivered();
    expect(live.of(user.userId).map((e) => e.payload.status)).toEqual(['online', 'away']);
    expect(await agree(user.userId, 'away')).toBe(true);
  });

  it('convergence - a wrong view stored by a replica that missed an input is corrected by the next heartbeat, with no user action', async () => {
    const gw = fakeGateway(nc, s);
    const user = { userId: randomUUID(), username: 'rosa' };
    // A misses c1's opening, B misses c2's: each replica holds one of the user's two connections.
    presenceOf(a).pauseGatewayInput(true);
    gw.open('c1', user.userId, user.username);
    await delivered();
    presenceOf(a).pauseGatewayInput(false);
    await eventually(() => agree(user.userId, 'online'));
    presenceOf(b).pauseGatewayInput(true);
    gw.open('c2', user.userId, user.username);
    await delivered();
    presenceOf(b).pauseGatewayInput(false);

    // c1 closes: B believes the user has no connection left and stores offline (wrong: c2 is open).
    gw.close('c1', user.userId);
    await eventually(() => agree(user.userId, 'offline'));

    // The next heartbeat lists c2: both replicas derive online, which differs from the stream, and
    // append it with the same cause: stored once, and both replicas agree with the stream again.
    gw.heartbeat(5000, [{ connId: 'c2', userId: user.userId, username: user.username, idle: false }]);
    await eventually(() => agree(user.userId, 'online'));
    await delivered();
    expect(live.of(user.userId).map((e) => e.payload.status)).toEqual(['online', 'offline', 'online']);
    expect(live.of(user.userId).at(-1)?.causationId).toMatch(new RegExp(`^${gw.gatewayId}:hb:`));
  });

  it('convergence - a replica whose stream follower lags decides again against what was stored, not a second offline', async () => {
    const gw = fakeGateway(nc, s);
    const user = { userId: randomUUID(), username: 'vera' };
    gw.open('c1', user.userId, user.username);
    await eventually(() => agree(user.userId, 'online'));

    // B misses the close and, its follower lagging, does not see A store offline either ...
    presenceOf(b).holdStoredFollow(true);
    presenceOf(b).pauseGatewayInput(true);
    gw.close('c1', user.userId);
    await delivered();
    presenceOf(b).pauseGatewayInput(false);
    await eventually(() => live.last(user.userId) === 'offline');
    const before = await metric(b, 'presence_events_appended_total{result="superseded"}');
    // ... then a heartbeat without c1 tells B the user is offline, from another cause: its append
    // expected the sequence of online, the stream refuses it, and B finds offline already stored.
    gw.heartbeat(5000, []);
    await eventually(async () => (await metric(b, 'presence_events_appended_total{result="superseded"}')) > before);
    presenceOf(b).holdStoredFollow(false);
    await eventually(() => agree(user.userId, 'offline'));
    await delivered();
    expect(live.of(user.userId).map((e) => e.payload.status)).toEqual(['online', 'offline']);
  });

  it('convergence - a choice set through one replica reaches every replica through the KV watch', async () => {
    const gw = fakeGateway(nc, s);
    const user = { userId: randomUUID(), username: 'tess' };
    gw.open('c1', user.userId, user.username);
    await eventually(() => agree(user.userId, 'online'));
    // Straight to the bucket, as another replica's presence.set leaves it.
    const kv = await a.deps.js.kv(s.kv.presence);
    await kv.put(
      user.userId,
      new TextEncoder().encode(JSON.stringify({ ...user, status: 'busy', text: 'deep work', updatedAt: new Date().toISOString() })),
    );
    await eventually(() => agree(user.userId, 'busy'));
    for (const svc of [a, b]) {
      expect(presenceOf(svc).ownView(user.userId)).toEqual(expect.objectContaining({ status: 'busy', text: 'deep work', shown: 'busy' }));
    }
    await eventually(() => live.last(user.userId) === 'busy');
    expect(live.of(user.userId).map((e) => e.payload.status)).toEqual(['online', 'busy']);

    // A malformed value in the bucket is ignored (logged and counted): the last valid choice stands.
    await kv.put(user.userId, new TextEncoder().encode(JSON.stringify({ ...user, status: 'sleeping' })));
    await kv.put(randomUUID(), new TextEncoder().encode('not json'));
    await eventually(async () => (await metric(a, 'presence_invalid_messages_total{kind="choice"}')) >= 2);
    expect(presenceOf(a).ownView(user.userId).status).toBe('busy');
    expect(await agree(user.userId, 'busy')).toBe(true);
  });
});

describe('presence service - a dead gateway with the default settings', () => {
  const s = createSubjects(randomName());
  let nc: NatsConnection;
  let svc: RunningService;

  beforeAll(async () => {
    nc = await connectNats({ servers: await testNatsUrl(), name: 'test-gateway' });
    // Default expiry check (1 s) and heartbeat interval (5 s): 3 missed beats + one check <= 16 s.
    svc = await startService(
      presenceService(await presenceConfig(s.namespace, { PRESENCE_EXPIRY_CHECK_MS: '1000', PRESENCE_STARTUP_GRACE_MS: '6000' })),
    );
  });
  afterAll(async () => {
    await svc.close();
    await deleteNamespace(s.namespace);
    await nc.drain();
  });

  it('presence - the users of a gateway that stops heartbeating (killed) are offline before the 30 s bound', async () => {
    const live = recordLive(nc, s);
    await nc.flush();
    const gw = fakeGateway(nc, s);
    const user = { userId: randomUUID(), username: 'sam' };
    gw.heartbeat(5000, [{ connId: 'c1', userId: user.userId, username: user.username, idle: false }]);
    await eventually(() => live.last(user.userId) === 'online');
    // The gateway dies: no more heartbeats, no closed signal.
    await eventually(() => live.last(user.userId) === 'offline', 30_000, 200);
    expect(live.of(user.userId).at(-1)?.causationId).toMatch(new RegExp(`^${gw.gatewayId}:expired:`));
    live.stop();
  }, 40_000);
});
