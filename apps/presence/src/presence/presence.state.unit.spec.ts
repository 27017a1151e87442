import type { GatewayHeartbeat, GatewaySignal, SettableStatus } from '@chat/contracts';
import { PresenceState, type Now, type PresenceChange, type PresenceOptions } from './presence.state';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const at = (ms: number) => new Date(ms).toISOString();
/** A moment: monotonic ms, and wall-clock ms (the same unless a test makes them differ). */
const T = (mono: number, wall = mono): Now => ({ mono, wall });

function newState(opts: Partial<PresenceOptions> = {}) {
  return new PresenceState({ startedAt: 0, graceMs: 0, defaultGatewayTimeoutMs: 15_000, ...opts });
}
const opened = (gatewayId: string, connId: string, userId: string, t = 1000): GatewaySignal => ({
  kind: 'opened',
  gatewayId,
  connId,
  userId,
  username: userId === ALICE ? 'alice' : 'bob',
  at: at(t),
});
const closed = (gatewayId: string, connId: string, userId: string, t = 2000): GatewaySignal => ({
  kind: 'closed',
  gatewayId,
  connId,
  userId,
  at: at(t),
});
const status = (gatewayId: string, connId: string, userId: string, s: SettableStatus, t = 1500): GatewaySignal => ({
  kind: 'status',
  gatewayId,
  connId,
  userId,
  status: s,
  at: at(t),
});
const heartbeat = (gatewayId: string, t: number, conns: Array<[string, string, SettableStatus]>, intervalMs = 1000): GatewayHeartbeat => ({
  gatewayId,
  at: at(t),
  intervalMs,
  connections: conns.map(([connId, userId, s]) => ({ connId, userId, username: userId === ALICE ? 'alice' : 'bob', status: s })),
});
const brief = (changes: PresenceChange[]) => changes.map((c) => `${c.userId === ALICE ? 'alice' : 'bob'}:${c.previous}->${c.status}`);

describe('presence state - signals', () => {
  it('an opened connection makes the user online, with a cause naming the signal', () => {
    const st = newState();
    const changes = st.applySignal(opened('g1', 'c1', ALICE, 1000), T(5000));
    expect(changes).toEqual([
      { userId: ALICE, username: 'alice', status: 'online', previous: 'offline', at: at(5000), causeId: `g1:c1:opened:${at(1000)}` },
    ]);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('a second connection of a present user changes nothing', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(st.applySignal(opened('g2', 'c2', ALICE), T(2))).toEqual([]);
  });

  it('closing the last connection makes the user offline, closing one of two does not', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applySignal(opened('g1', 'c2', ALICE), T(2));
    expect(st.applySignal(closed('g1', 'c1', ALICE), T(3))).toEqual([]);
    const last = st.applySignal(closed('g1', 'c2', ALICE), T(4));
    expect(brief(last)).toEqual(['alice:online->offline']);
    expect(last[0].username).toBe('alice');
  });

  it('closing or setting the status of an unknown connection changes nothing', () => {
    const st = newState();
    expect(st.applySignal(closed('g1', 'nope', ALICE), T(1))).toEqual([]);
    expect(st.applySignal(status('g1', 'nope', ALICE, 'busy'), T(2))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('offline');
    expect(st.derivedStatusOf(ALICE)).toBe('offline');
  });

  it('a status signal changes the user to that status', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(brief(st.applySignal(status('g1', 'c1', ALICE, 'busy'), T(2)))).toEqual(['alice:online->busy']);
    expect(brief(st.applySignal(status('g1', 'c1', ALICE, 'away'), T(3)))).toEqual(['alice:busy->away']);
    expect(brief(st.applySignal(status('g1', 'c1', ALICE, 'online'), T(4)))).toEqual(['alice:away->online']);
  });

  it('derives the most present status over connections: online > busy > away', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applySignal(opened('g2', 'c2', ALICE), T(2));
    st.applySignal(status('g1', 'c1', ALICE, 'away'), T(3));
    expect(st.statusOf(ALICE)).toBe('online'); // c2 is still online
    expect(brief(st.applySignal(status('g2', 'c2', ALICE, 'busy'), T(4)))).toEqual(['alice:online->busy']);
    expect(st.applySignal(status('g1', 'c1', ALICE, 'away'), T(5))).toEqual([]);
    expect(brief(st.applySignal(closed('g2', 'c2', ALICE), T(6)))).toEqual(['alice:busy->away']);
  });

  it('a connection id re-opened for another user moves the connection', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(brief(st.applySignal(opened('g1', 'c1', BOB), T(2))).sort()).toEqual(['alice:online->offline', 'bob:offline->online']);
  });

  it('the same connection id on two gateways is two connections', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applySignal(opened('g2', 'c1', ALICE), T(2));
    expect(st.applySignal(closed('g1', 'c1', ALICE), T(3))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
  });
});

describe('presence state - heartbeats', () => {
  it('a heartbeat adds connections whose opened signal was missed', () => {
    const st = newState();
    const changes = st.applyHeartbeat(
      heartbeat('g1', 100, [
        ['c1', ALICE, 'busy'],
        ['c2', BOB, 'online'],
      ]),
      T(200),
    );
    expect(brief(changes).sort()).toEqual(['alice:offline->busy', 'bob:offline->online']);
    expect(changes[0].causeId).toBe(`g1:hb:${at(100)}`);
  });

  it("a heartbeat's list replaces the gateway's connections: a missed close heals", () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applySignal(opened('g1', 'c2', BOB), T(2));
    expect(brief(st.applyHeartbeat(heartbeat('g1', 100, [['c2', BOB, 'online']]), T(200)))).toEqual(['alice:online->offline']);
  });

  it('a heartbeat heals a missed status change', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(brief(st.applyHeartbeat(heartbeat('g1', 100, [['c1', ALICE, 'away']]), T(200)))).toEqual(['alice:online->away']);
  });

  it("a heartbeat leaves other gateways' connections alone", () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(st.applyHeartbeat(heartbeat('g2', 100, []), T(200))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('an unchanged heartbeat changes nothing', () => {
    const st = newState();
    const hb = heartbeat('g1', 100, [['c1', ALICE, 'online']]);
    st.applyHeartbeat(hb, T(100));
    expect(st.applyHeartbeat({ ...hb, at: at(1100) }, T(1100))).toEqual([]);
  });
});

describe('presence state - expiry', () => {
  it('a gateway silent for more than 3 intervals loses all its users', () => {
    const st = newState();
    st.applyHeartbeat(
      heartbeat(
        'g1',
        50,
        [
          ['c1', ALICE, 'online'],
          ['c2', BOB, 'away'],
        ],
        1000,
      ),
      T(1000),
    );
    expect(st.expire(T(4000))).toEqual([]); // exactly 3 intervals: still alive
    const changes = st.expire(T(4001));
    expect(brief(changes).sort()).toEqual(['alice:online->offline', 'bob:away->offline']);
    expect(changes.every((c) => c.causeId === `g1:expired:${at(50)}`)).toBe(true);
    expect(st.gatewayCount()).toBe(0);
    expect(st.expire(T(10_000))).toEqual([]);
  });

  it('each heartbeat pushes the deadline back', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), T(0));
    st.applyHeartbeat(heartbeat('g1', 2500, [['c1', ALICE, 'online']], 1000), T(2500));
    expect(st.expire(T(5000))).toEqual([]);
    expect(brief(st.expire(T(5501)))).toEqual(['alice:online->offline']);
  });

  it('a user also held by a live gateway keeps the status of the remaining connections', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), T(0));
    st.applyHeartbeat(heartbeat('g2', 0, [['c2', ALICE, 'away']], 10_000), T(0));
    expect(brief(st.expire(T(3001)))).toEqual(['alice:online->away']);
  });

  it('a gateway known only from signals expires after the default timeout', () => {
    const st = newState({ defaultGatewayTimeoutMs: 500 });
    st.applySignal(opened('g1', 'c1', ALICE, 7), T(1000));
    expect(st.expire(T(1500))).toEqual([]);
    const changes = st.expire(T(1501));
    expect(brief(changes)).toEqual(['alice:online->offline']);
    expect(changes[0].causeId).toBe(`g1:expired:${at(7)}`);
  });

  it('a gateway that comes back after expiry brings its users back', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'busy']], 1000), T(0));
    st.expire(T(3001));
    expect(brief(st.applyHeartbeat(heartbeat('g1', 4000, [['c1', ALICE, 'busy']], 1000), T(4000)))).toEqual(['alice:offline->busy']);
  });

  it('tick runs expiry', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), T(0));
    expect(brief(st.tick(T(3001)))).toEqual(['alice:online->offline']);
  });
});

describe('presence state - start-up', () => {
  const seeded = (userId: string, status: 'online' | 'busy' | 'away' | 'offline', lastSeen = at(1)) => ({
    userId,
    username: userId === ALICE ? 'alice' : 'bob',
    status,
    lastSeen,
  });

  it('a user loaded as present and confirmed by a heartbeat produces no event', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.seed(seeded(ALICE, 'busy'), 'ev-1');
    expect(st.applyHeartbeat(heartbeat('g1', 10, [['c1', ALICE, 'busy']]), T(10))).toEqual([]);
    expect(st.tick(T(1000))).toEqual([]);
    expect(st.present()).toEqual([seeded(ALICE, 'busy')]);
  });

  it('after the grace, users loaded as present that no gateway holds go offline, once', () => {
    const st = newState({ startedAt: 100, graceMs: 1000 });
    st.seed(seeded(ALICE, 'online'), 'ev-a');
    st.seed(seeded(BOB, 'offline'), 'ev-b');
    expect(st.present().map((p) => p.userId)).toEqual([ALICE]); // until settled, the stored status stands
    expect(st.tick(T(1099))).toEqual([]);
    const changes = st.tick(T(1100));
    expect(changes).toEqual([
      { userId: ALICE, username: 'alice', status: 'offline', previous: 'online', at: at(1100), causeId: 'settle:ev-a' },
    ]);
    expect(st.tick(T(1200))).toEqual([]);
    expect(st.present()).toEqual([]);
  });

  it('during the grace only rises are published; drops wait for the end of the grace', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.seed(seeded(ALICE, 'online'), 'ev-a');
    // Heard from one gateway only: alice looks away there, but another gateway may hold her online.
    expect(
      st
        .applyHeartbeat(
          heartbeat('g1', 10, [
            ['c1', ALICE, 'away'],
            ['c2', BOB, 'online'],
          ]),
          T(10),
        )
        .map((c) => c.status),
    ).toEqual(['online']);
    expect(st.statusOf(ALICE)).toBe('online');
    expect(st.applySignal(closed('g1', 'c2', BOB), T(20))).toEqual([]);
    expect(st.statusOf(BOB)).toBe('online');
    expect(brief(st.tick(T(1000))).sort()).toEqual(['alice:online->away', 'bob:online->offline']);
  });

  it('loading never overrides a status already known', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.seed(seeded(ALICE, 'offline'), 'ev-old');
    expect(st.statusOf(ALICE)).toBe('online');
  });
});

describe('presence state - replicas', () => {
  it('two replicas fed the same input produce the same changes (so the same msgIds)', () => {
    const inputs: Array<(st: PresenceState, now: Now) => PresenceChange[]> = [
      (st, now) => st.applySignal(opened('g1', 'c1', ALICE), now),
      (st, now) => st.applyHeartbeat(heartbeat('g2', 5, [['c9', BOB, 'away']], 200), now),
      (st, now) => st.applySignal(status('g1', 'c1', ALICE, 'busy'), now),
      (st, now) => st.expire(T(now.mono + 1000)),
    ];
    const a = newState();
    const b = newState();
    // Different local clocks: the causes still agree.
    const fromA = inputs.flatMap((f, i) => f(a, T(10 + i))).map((c) => [c.userId, c.status, c.causeId]);
    const fromB = inputs.flatMap((f, i) => f(b, T(30 + i, 900 + i))).map((c) => [c.userId, c.status, c.causeId]);
    expect(fromA).toEqual(fromB);
    expect(fromA).toHaveLength(4);
  });

  it('present lists users not offline with the time of their last change', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1000));
    st.applySignal(opened('g1', 'c2', BOB), T(1000));
    st.applySignal(status('g1', 'c2', BOB, 'away'), T(2000));
    st.applySignal(closed('g1', 'c1', ALICE), T(3000));
    expect(st.present()).toEqual([{ userId: BOB, username: 'bob', status: 'away', lastSeen: at(2000) }]);
    expect(st.presentCount()).toBe(1);
  });
});

describe('presence state - clocks', () => {
  const HOUR = 3_600_000;

  it('timeouts count on the monotonic clock: wall-clock steps neither expire nor keep alive', () => {
    const st = newState();
    const wall = 1_700_000_000_000;
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), T(0, wall));
    // NTP steps the wall clock an hour forward: the gateway beat 2 s ago, it is alive.
    expect(st.expire(T(2000, wall + HOUR))).toEqual([]);
    // ... and an hour back: the gateway has been silent for more than 3 intervals, it is dead.
    const changes = st.expire(T(3001, wall - HOUR));
    expect(brief(changes)).toEqual(['alice:online->offline']);
    expect(changes[0].at).toBe(at(wall - HOUR));
  });

  it('the start-up grace counts on the monotonic clock', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.seed({ userId: ALICE, username: 'alice', status: 'online', lastSeen: at(1) }, 'ev-a');
    expect(st.tick(T(999, 1_700_000_000_000))).toEqual([]);
    expect(brief(st.tick(T(1000, 0)))).toEqual(['alice:online->offline']);
  });

  it('changes are dated by the wall clock', () => {
    const st = newState();
    const [change] = st.applySignal(opened('g1', 'c1', ALICE), T(5, 1_700_000_000_000));
    expect(change.at).toBe(at(1_700_000_000_000));
    expect(st.present()[0].lastSeen).toBe(at(1_700_000_000_000));
  });
});

describe('presence state - NATS connection lost', () => {
  it('while disconnected nothing expires, however long', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), T(0));
    st.disconnected();
    expect(st.expire(T(60_000))).toEqual([]);
    expect(st.tick(T(600_000))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
    expect(st.gatewayCount()).toBe(1);
  });

  it('on reconnect every gateway counts as just heard from: a silent one expires a timeout later', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), T(0));
    st.applyHeartbeat(heartbeat('g2', 0, [['c2', BOB, 'online']], 1000), T(0));
    st.disconnected();
    st.tick(T(50_000));
    st.reconnected(T(100_000));
    expect(st.tick(T(100_001))).toEqual([]);
    // g1 beats again, g2 stays silent (it died during the outage).
    st.applyHeartbeat(heartbeat('g1', 101_000, [['c1', ALICE, 'online']], 1000), T(101_000));
    expect(st.tick(T(103_000))).toEqual([]);
    expect(brief(st.tick(T(103_001)))).toEqual(['bob:online->offline']);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('after a reconnect the grace starts again: drops wait for its end, then every user is settled', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.applyHeartbeat(
      heartbeat(
        'g1',
        0,
        [
          ['c1', ALICE, 'online'],
          ['c2', BOB, 'online'],
        ],
        1000,
      ),
      T(0),
    );
    st.tick(T(1000));
    st.disconnected();
    st.reconnected(T(50_000));
    // Alice closed during the outage (her closed signal was missed): the drop waits ...
    expect(st.applyHeartbeat(heartbeat('g1', 50_100, [['c2', BOB, 'online']], 1000), T(50_100))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
    // ... also when another gateway holds her away (still lower than what was published).
    expect(st.applyHeartbeat(heartbeat('g2', 50_200, [['c3', ALICE, 'away']], 1000), T(50_200))).toEqual([]);
    expect(st.tick(T(50_999))).toEqual([]);
    const settled = st.tick(T(51_000));
    expect(brief(settled)).toEqual(['alice:online->away']);
    expect(settled[0].causeId).toMatch(/^settle:/);
    expect(st.tick(T(51_100))).toEqual([]);
  });

  it('a rise during the grace after a reconnect is published at once', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.tick(T(1000));
    st.disconnected();
    st.reconnected(T(50_000));
    expect(brief(st.applySignal(opened('g1', 'c1', ALICE), T(50_001)))).toEqual(['alice:offline->online']);
  });
});
