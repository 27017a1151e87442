import type { GatewayHeartbeat, GatewaySignal, SettableStatus } from '@chat/contracts';
import { PresenceState, type PresenceChange, type PresenceOptions } from './presence.state';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const at = (ms: number) => new Date(ms).toISOString();

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
const closed = (gatewayId: string, connId: string, userId: string, t = 2000): GatewaySignal => ({ kind: 'closed', gatewayId, connId, userId, at: at(t) });
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
    const changes = st.applySignal(opened('g1', 'c1', ALICE, 1000), 5000);
    expect(changes).toEqual([
      { userId: ALICE, username: 'alice', status: 'online', previous: 'offline', at: at(5000), causeId: `g1:c1:opened:${at(1000)}` },
    ]);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('a second connection of a present user changes nothing', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    expect(st.applySignal(opened('g2', 'c2', ALICE), 2)).toEqual([]);
  });

  it('closing the last connection makes the user offline, closing one of two does not', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    st.applySignal(opened('g1', 'c2', ALICE), 2);
    expect(st.applySignal(closed('g1', 'c1', ALICE), 3)).toEqual([]);
    const last = st.applySignal(closed('g1', 'c2', ALICE), 4);
    expect(brief(last)).toEqual(['alice:online->offline']);
    expect(last[0].username).toBe('alice');
  });

  it('closing or setting the status of an unknown connection changes nothing', () => {
    const st = newState();
    expect(st.applySignal(closed('g1', 'nope', ALICE), 1)).toEqual([]);
    expect(st.applySignal(status('g1', 'nope', ALICE, 'busy'), 2)).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('offline');
    expect(st.derivedStatusOf(ALICE)).toBe('offline');
  });

  it('a status signal changes the user to that status', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    expect(brief(st.applySignal(status('g1', 'c1', ALICE, 'busy'), 2))).toEqual(['alice:online->busy']);
    expect(brief(st.applySignal(status('g1', 'c1', ALICE, 'away'), 3))).toEqual(['alice:busy->away']);
    expect(brief(st.applySignal(status('g1', 'c1', ALICE, 'online'), 4))).toEqual(['alice:away->online']);
  });

  it('derives the most present status over connections: online > busy > away', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    st.applySignal(opened('g2', 'c2', ALICE), 2);
    st.applySignal(status('g1', 'c1', ALICE, 'away'), 3);
    expect(st.statusOf(ALICE)).toBe('online'); // c2 is still online
    expect(brief(st.applySignal(status('g2', 'c2', ALICE, 'busy'), 4))).toEqual(['alice:online->busy']);
    expect(st.applySignal(status('g1', 'c1', ALICE, 'away'), 5)).toEqual([]);
    expect(brief(st.applySignal(closed('g2', 'c2', ALICE), 6))).toEqual(['alice:busy->away']);
  });

  it('a connection id re-opened for another user moves the connection', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    expect(brief(st.applySignal(opened('g1', 'c1', BOB), 2)).sort()).toEqual(['alice:online->offline', 'bob:offline->online']);
  });

  it('the same connection id on two gateways is two connections', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    st.applySignal(opened('g2', 'c1', ALICE), 2);
    expect(st.applySignal(closed('g1', 'c1', ALICE), 3)).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
  });
});

describe('presence state - heartbeats', () => {
  it('a heartbeat adds connections whose opened signal was missed', () => {
    const st = newState();
    const changes = st.applyHeartbeat(heartbeat('g1', 100, [['c1', ALICE, 'busy'], ['c2', BOB, 'online']]), 200);
    expect(brief(changes).sort()).toEqual(['alice:offline->busy', 'bob:offline->online']);
    expect(changes[0].causeId).toBe(`g1:hb:${at(100)}`);
  });

  it("a heartbeat's list replaces the gateway's connections: a missed close heals", () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    st.applySignal(opened('g1', 'c2', BOB), 2);
    expect(brief(st.applyHeartbeat(heartbeat('g1', 100, [['c2', BOB, 'online']]), 200))).toEqual(['alice:online->offline']);
  });

  it('a heartbeat heals a missed status change', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    expect(brief(st.applyHeartbeat(heartbeat('g1', 100, [['c1', ALICE, 'away']]), 200))).toEqual(['alice:online->away']);
  });

  it("a heartbeat leaves other gateways' connections alone", () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    expect(st.applyHeartbeat(heartbeat('g2', 100, []), 200)).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('an unchanged heartbeat changes nothing', () => {
    const st = newState();
    const hb = heartbeat('g1', 100, [['c1', ALICE, 'online']]);
    st.applyHeartbeat(hb, 100);
    expect(st.applyHeartbeat({ ...hb, at: at(1100) }, 1100)).toEqual([]);
  });
});

describe('presence state - expiry', () => {
  it('a gateway silent for more than 3 intervals loses all its users', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 50, [['c1', ALICE, 'online'], ['c2', BOB, 'away']], 1000), 1000);
    expect(st.expire(4000)).toEqual([]); // exactly 3 intervals: still alive
    const changes = st.expire(4001);
    expect(brief(changes).sort()).toEqual(['alice:online->offline', 'bob:away->offline']);
    expect(changes.every((c) => c.causeId === `g1:expired:${at(50)}`)).toBe(true);
    expect(st.gatewayCount()).toBe(0);
    expect(st.expire(10_000)).toEqual([]);
  });

  it('each heartbeat pushes the deadline back', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), 0);
    st.applyHeartbeat(heartbeat('g1', 2500, [['c1', ALICE, 'online']], 1000), 2500);
    expect(st.expire(5000)).toEqual([]);
    expect(brief(st.expire(5501))).toEqual(['alice:online->offline']);
  });

  it('a user also held by a live gateway keeps the status of the remaining connections', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), 0);
    st.applyHeartbeat(heartbeat('g2', 0, [['c2', ALICE, 'away']], 10_000), 0);
    expect(brief(st.expire(3001))).toEqual(['alice:online->away']);
  });

  it('a gateway known only from signals expires after the default timeout', () => {
    const st = newState({ defaultGatewayTimeoutMs: 500 });
    st.applySignal(opened('g1', 'c1', ALICE, 7), 1000);
    expect(st.expire(1500)).toEqual([]);
    const changes = st.expire(1501);
    expect(brief(changes)).toEqual(['alice:online->offline']);
    expect(changes[0].causeId).toBe(`g1:expired:${at(7)}`);
  });

  it('a gateway that comes back after expiry brings its users back', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'busy']], 1000), 0);
    st.expire(3001);
    expect(brief(st.applyHeartbeat(heartbeat('g1', 4000, [['c1', ALICE, 'busy']], 1000), 4000))).toEqual(['alice:offline->busy']);
  });

  it('tick runs expiry', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'online']], 1000), 0);
    expect(brief(st.tick(3001))).toEqual(['alice:online->offline']);
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
    expect(st.applyHeartbeat(heartbeat('g1', 10, [['c1', ALICE, 'busy']]), 10)).toEqual([]);
    expect(st.tick(1000)).toEqual([]);
    expect(st.present()).toEqual([seeded(ALICE, 'busy')]);
  });

  it('after the grace, users loaded as present that no gateway holds go offline, once', () => {
    const st = newState({ startedAt: 100, graceMs: 1000 });
    st.seed(seeded(ALICE, 'online'), 'ev-a');
    st.seed(seeded(BOB, 'offline'), 'ev-b');
    expect(st.present().map((p) => p.userId)).toEqual([ALICE]); // until settled, the stored status stands
    expect(st.tick(1099)).toEqual([]);
    const changes = st.tick(1100);
    expect(changes).toEqual([{ userId: ALICE, username: 'alice', status: 'offline', previous: 'online', at: at(1100), causeId: 'settle:ev-a' }]);
    expect(st.tick(1200)).toEqual([]);
    expect(st.present()).toEqual([]);
  });

  it('during the grace only rises are published; drops wait for the end of the grace', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.seed(seeded(ALICE, 'online'), 'ev-a');
    // Heard from one gateway only: alice looks away there, but another gateway may hold her online.
    expect(st.applyHeartbeat(heartbeat('g1', 10, [['c1', ALICE, 'away'], ['c2', BOB, 'online']]), 10).map((c) => c.status)).toEqual(['online']);
    expect(st.statusOf(ALICE)).toBe('online');
    expect(st.applySignal(closed('g1', 'c2', BOB), 20)).toEqual([]);
    expect(st.statusOf(BOB)).toBe('online');
    expect(brief(st.tick(1000)).sort()).toEqual(['alice:online->away', 'bob:online->offline']);
  });

  it('loading never overrides a status already known', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1);
    st.seed(seeded(ALICE, 'offline'), 'ev-old');
    expect(st.statusOf(ALICE)).toBe('online');
  });
});

describe('presence state - replicas', () => {
  it('two replicas fed the same input produce the same changes (so the same msgIds)', () => {
    const inputs: Array<(st: PresenceState, now: number) => PresenceChange[]> = [
      (st, now) => st.applySignal(opened('g1', 'c1', ALICE), now),
      (st, now) => st.applyHeartbeat(heartbeat('g2', 5, [['c9', BOB, 'away']], 200), now),
      (st, now) => st.applySignal(status('g1', 'c1', ALICE, 'busy'), now),
      (st, now) => st.expire(now + 1000),
    ];
    const a = newState();
    const b = newState();
    // Different local clocks: the causes still agree.
    const fromA = inputs.flatMap((f, i) => f(a, 10 + i)).map((c) => [c.userId, c.status, c.causeId]);
    const fromB = inputs.flatMap((f, i) => f(b, 30 + i)).map((c) => [c.userId, c.status, c.causeId]);
    expect(fromA).toEqual(fromB);
    expect(fromA).toHaveLength(4);
  });

  it('present lists users not offline with the time of their last change', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), 1000);
    st.applySignal(opened('g1', 'c2', BOB), 1000);
    st.applySignal(status('g1', 'c2', BOB, 'away'), 2000);
    st.applySignal(closed('g1', 'c1', ALICE), 3000);
    expect(st.present()).toEqual([{ userId: BOB, username: 'bob', status: 'away', lastSeen: at(2000) }]);
    expect(st.presentCount()).toBe(1);
  });
});
