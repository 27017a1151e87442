import type { ChosenStatus, GatewayHeartbeat, GatewaySignal, PresenceChoice, PresenceView } from '@chat/contracts';
import { PresenceState, deriveShown, type Now, type PresenceChange, type PresenceOptions } from './presence.state';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const nameOf = (userId: string) => (userId === ALICE ? 'alice' : 'bob');
const at = (ms: number) => new Date(ms).toISOString();
/** A moment: monotonic ms, and wall-clock ms (the same unless a test makes them differ). */
const T = (mono: number, wall = mono): Now => ({ mono, wall });
type Activity = 'active' | 'idle';

function newState(opts: Partial<PresenceOptions> = {}) {
  return new PresenceState({ startedAt: 0, graceMs: 0, defaultGatewayTimeoutMs: 15_000, ...opts });
}
const opened = (gatewayId: string, connId: string, userId: string, t = 1000): GatewaySignal => ({
  kind: 'opened',
  gatewayId,
  connId,
  userId,
  username: nameOf(userId),
  at: at(t),
});
const closed = (gatewayId: string, connId: string, userId: string, t = 2000): GatewaySignal => ({
  kind: 'closed',
  gatewayId,
  connId,
  userId,
  at: at(t),
});
const activity = (gatewayId: string, connId: string, userId: string, a: Activity, t = 1500): GatewaySignal => ({
  kind: 'activity',
  gatewayId,
  connId,
  userId,
  idle: a === 'idle',
  at: at(t),
});
type Conns = Array<[string, string, Activity]>;
const entries = (conns: Conns) => conns.map(([connId, userId, a]) => ({ connId, userId, username: nameOf(userId), idle: a === 'idle' }));
/** A beat in one part (beat number t). */
const heartbeat = (gatewayId: string, t: number, conns: Conns, intervalMs = 1000): GatewayHeartbeat => ({
  gatewayId,
  at: at(t),
  intervalMs,
  beat: t,
  part: 0,
  parts: 1,
  connections: entries(conns),
});
/** Beat number `beat` split into one part per list given. */
const beatParts = (gatewayId: string, beat: number, t: number, lists: Conns[], intervalMs = 1000): GatewayHeartbeat[] =>
  lists.map((conns, part) => ({ gatewayId, at: at(t), intervalMs, beat, part, parts: lists.length, connections: entries(conns) }));
const choice = (userId: string, status: ChosenStatus, text: string | null = null): PresenceChoice => ({
  userId,
  username: nameOf(userId),
  status,
  text,
  updatedAt: at(42),
});
const brief = (changes: PresenceChange[]) => changes.map((c) => `${nameOf(c.userId)}:${c.previous}->${c.status}`);
const stored = (userId: string, status: PresenceView['status'], lastSeen = at(1), text: string | null = null): PresenceView => ({
  userId,
  username: nameOf(userId),
  status,
  text,
  lastSeen,
});

describe('presence rules - what others see', () => {
  it('no connection is offline, whatever the choice', () => {
    for (const status of ['online', 'away', 'busy', 'invisible'] as const) {
      expect(deriveShown({ status, text: 'hi' }, 0, 0)).toEqual({ status: 'offline', text: null });
    }
    expect(deriveShown(undefined, 0, 0)).toEqual({ status: 'offline', text: null });
  });

  it('invisible shows offline without its text', () => {
    expect(deriveShown({ status: 'invisible', text: 'secret' }, 2, 2)).toEqual({ status: 'offline', text: null });
  });

  it('busy and away show as chosen, active or idle, with the text', () => {
    expect(deriveShown({ status: 'busy', text: 'focus' }, 1, 0)).toEqual({ status: 'busy', text: 'focus' });
    expect(deriveShown({ status: 'busy', text: null }, 1, 1)).toEqual({ status: 'busy', text: null });
    expect(deriveShown({ status: 'away', text: 'lunch' }, 1, 1)).toEqual({ status: 'away', text: 'lunch' });
  });

  it('online shows online while any connection is active, away when all are idle (automatic away)', () => {
    expect(deriveShown({ status: 'online', text: 'hey' }, 2, 1)).toEqual({ status: 'online', text: 'hey' });
    expect(deriveShown({ status: 'online', text: 'hey' }, 2, 0)).toEqual({ status: 'away', text: 'hey' });
  });

  it('no choice counts as online without text', () => {
    expect(deriveShown(undefined, 1, 1)).toEqual({ status: 'online', text: null });
    expect(deriveShown(undefined, 1, 0)).toEqual({ status: 'away', text: null });
  });
});

describe('presence state - signals', () => {
  it('an opened connection makes the user online, with a cause naming the signal', () => {
    const st = newState();
    const changes = st.applySignal(opened('g1', 'c1', ALICE, 1000), T(5000));
    expect(changes).toEqual([
      {
        userId: ALICE,
        username: 'alice',
        status: 'online',
        text: null,
        previous: 'offline',
        at: at(5000),
        causeId: `g1:c1:opened:${at(1000)}`,
      },
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

  it('closing or reporting activity of an unknown connection changes nothing', () => {
    const st = newState();
    expect(st.applySignal(closed('g1', 'nope', ALICE), T(1))).toEqual([]);
    expect(st.applySignal(activity('g1', 'nope', ALICE, 'idle'), T(2))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('offline');
    expect(st.derivedOf(ALICE).status).toBe('offline');
  });

  it('automatic away: away when every connection is idle, online again when one is active', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applySignal(opened('g2', 'c2', ALICE), T(2));
    expect(st.applySignal(activity('g1', 'c1', ALICE, 'idle'), T(3))).toEqual([]); // c2 is active
    expect(brief(st.applySignal(activity('g2', 'c2', ALICE, 'idle'), T(4)))).toEqual(['alice:online->away']);
    expect(brief(st.applySignal(activity('g1', 'c1', ALICE, 'active'), T(5)))).toEqual(['alice:away->online']);
    // The last active connection closes: the idle one remains.
    expect(brief(st.applySignal(closed('g1', 'c1', ALICE), T(6)))).toEqual(['alice:online->away']);
  });

  it('no automatic away for a user who chose busy', () => {
    const st = newState();
    st.applyChoice(ALICE, choice(ALICE, 'busy'), 1, T(0));
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(st.statusOf(ALICE)).toBe('busy');
    expect(st.applySignal(activity('g1', 'c1', ALICE, 'idle'), T(2))).toEqual([]);
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

describe('presence state - choices', () => {
  it('a choice of a connected user changes what others see, with its text, caused by its revision', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    const [busy] = st.applyChoice(ALICE, choice(ALICE, 'busy', 'in a meeting'), 7, T(2));
    expect(busy).toEqual(expect.objectContaining({ status: 'busy', text: 'in a meeting', previous: 'online', causeId: 'choice:7' }));
    // Only the text changes: still a change (others see the new text).
    expect(st.applyChoice(ALICE, choice(ALICE, 'busy', 'lunch'), 8, T(3))).toEqual([
      expect.objectContaining({ status: 'busy', text: 'lunch', previous: 'busy' }),
    ]);
  });

  it('invisible: others see offline with no text; visible again shows the choice', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(st.applyChoice(ALICE, choice(ALICE, 'invisible', 'hidden'), 1, T(2))).toEqual([
      expect.objectContaining({ status: 'offline', text: null, previous: 'online' }),
    ]);
    expect(st.present()).toEqual([]);
    expect(st.ownView(ALICE, T(3))).toEqual({ status: 'invisible', text: 'hidden', shown: 'offline', updatedAt: at(42) });
    // Invisible and then disconnecting: still offline, nothing to publish.
    expect(st.applySignal(closed('g1', 'c1', ALICE), T(4))).toEqual([]);
    st.applySignal(opened('g1', 'c2', ALICE), T(5));
    expect(brief(st.applyChoice(ALICE, choice(ALICE, 'online', 'back'), 2, T(6)))).toEqual(['alice:offline->online']);
    expect(st.viewOf(ALICE)).toEqual({ userId: ALICE, username: 'alice', status: 'online', text: 'back', lastSeen: at(6) });
  });

  it('a choice of a user with no connection is kept and publishes nothing; the text is hidden while offline', () => {
    const st = newState();
    expect(st.applyChoice(ALICE, choice(ALICE, 'away', 'gone fishing'), 1, T(1))).toEqual([]);
    expect(st.ownView(ALICE, T(2))).toEqual({ status: 'away', text: 'gone fishing', shown: 'offline', updatedAt: at(42) });
    expect(st.applySignal(opened('g1', 'c1', ALICE), T(3))).toEqual([
      expect.objectContaining({ status: 'away', text: 'gone fishing', previous: 'offline' }),
    ]);
    expect(st.applySignal(closed('g1', 'c1', ALICE), T(4))).toEqual([expect.objectContaining({ status: 'offline', text: null })]);
  });

  it('an older or repeated revision is ignored; a deleted choice counts as online without text', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applyChoice(ALICE, choice(ALICE, 'busy'), 5, T(2));
    expect(st.applyChoice(ALICE, choice(ALICE, 'away'), 5, T(3))).toEqual([]);
    expect(st.applyChoice(ALICE, choice(ALICE, 'away'), 4, T(3))).toEqual([]);
    expect(st.choiceRevision(ALICE)).toBe(5);
    expect(brief(st.applyChoice(ALICE, null, 6, T(4)))).toEqual(['alice:busy->online']);
  });

  it('own view of a user who never chose: online, no text, shown as derived', () => {
    const st = newState();
    expect(st.ownView(ALICE, T(9))).toEqual({ status: 'online', text: null, shown: 'offline', updatedAt: at(9) });
  });
});

describe('presence state - heartbeats', () => {
  it('a heartbeat adds connections whose opened signal was missed', () => {
    const st = newState();
    const changes = st.applyHeartbeat(
      heartbeat('g1', 100, [
        ['c1', ALICE, 'idle'],
        ['c2', BOB, 'active'],
      ]),
      T(200),
    );
    expect(brief(changes).sort()).toEqual(['alice:offline->away', 'bob:offline->online']);
    expect(changes[0].causeId).toBe(`g1:hb:${at(100)}`);
  });

  it("a heartbeat's list replaces the gateway's connections: a missed close heals", () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.applySignal(opened('g1', 'c2', BOB), T(2));
    expect(brief(st.applyHeartbeat(heartbeat('g1', 100, [['c2', BOB, 'active']]), T(200)))).toEqual(['alice:online->offline']);
  });

  it('a heartbeat heals a missed activity signal', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(brief(st.applyHeartbeat(heartbeat('g1', 100, [['c1', ALICE, 'idle']]), T(200)))).toEqual(['alice:online->away']);
  });

  it("a heartbeat leaves other gateways' connections alone", () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    expect(st.applyHeartbeat(heartbeat('g2', 100, []), T(200))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('an unchanged heartbeat changes nothing', () => {
    const st = newState();
    const hb = heartbeat('g1', 100, [['c1', ALICE, 'active']]);
    st.applyHeartbeat(hb, T(100));
    expect(st.applyHeartbeat({ ...hb, at: at(1100) }, T(1100))).toEqual([]);
  });
});

describe('presence state - heartbeat parts', () => {
  const apply = (st: PresenceState, hbs: GatewayHeartbeat[], now: Now) => hbs.flatMap((hb) => st.applyHeartbeat(hb, now));

  it('a beat in parts reconciles once its last part arrives, with the list of all parts', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    const [p0, p1, p2] = beatParts('g1', 5, 100, [[['c2', BOB, 'idle']], [], [['c3', BOB, 'active']]]);
    expect(st.applyHeartbeat(p0, T(200))).toEqual([]);
    expect(st.applyHeartbeat(p1, T(200))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online'); // not listed so far, but the beat is not complete
    const changes = st.applyHeartbeat(p2, T(200));
    expect(brief(changes).sort()).toEqual(['alice:online->offline', 'bob:offline->online']);
    expect(changes.every((c) => c.causeId === `g1:hb:${at(100)}`)).toBe(true);
  });

  it('idle flags come from whichever part lists the connection', () => {
    const st = newState();
    const changes = apply(st, beatParts('g1', 1, 100, [[['c1', BOB, 'active']], [['c2', ALICE, 'idle']]]), T(100));
    expect(brief(changes).sort()).toEqual(['alice:offline->away', 'bob:offline->online']);
  });

  it('parts may arrive in any order; a part received twice counts once', () => {
    const st = newState();
    const [p0, p1] = beatParts('g1', 1, 100, [[['c1', ALICE, 'active']], [['c2', BOB, 'active']]]);
    expect(st.applyHeartbeat(p1, T(100))).toEqual([]);
    expect(st.applyHeartbeat(p1, T(100))).toEqual([]);
    expect(brief(st.applyHeartbeat(p0, T(100))).sort()).toEqual(['alice:offline->online', 'bob:offline->online']);
  });

  it('a beat with a lost part reconciles nothing; a newer beat discards it and the next complete one reconciles', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1));
    const [old0] = beatParts('g1', 5, 100, [[['c2', BOB, 'active']], [['c3', BOB, 'active']]]); // part 1 lost
    expect(st.applyHeartbeat(old0, T(100))).toEqual([]);
    const [new0, new1] = beatParts('g1', 6, 1100, [[['c2', BOB, 'active']], [['c3', BOB, 'active']]]);
    // Part 1 of beat 6 does not complete beat 5.
    expect(st.applyHeartbeat(new1, T(1100))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
    expect(brief(st.applyHeartbeat(new0, T(1100))).sort()).toEqual(['alice:online->offline', 'bob:offline->online']);
  });

  it('a restarted gateway (beats counting from 0 again) discards the incomplete beat of its former process', () => {
    const st = newState();
    expect(st.applyHeartbeat(beatParts('g1', 90, 100, [[['c1', ALICE, 'active']], []])[0], T(100))).toEqual([]);
    expect(brief(st.applyHeartbeat(heartbeat('g1', 0, [['c9', BOB, 'active']]), T(200)))).toEqual(['bob:offline->online']);
    expect(st.statusOf(ALICE)).toBe('offline');
  });

  it('a part of the same beat number with another count of parts starts the beat over', () => {
    const st = newState();
    const [a0] = beatParts('g1', 3, 100, [[['c1', ALICE, 'active']], []]);
    const [, b1, b2] = beatParts('g1', 3, 100, [[], [['c2', BOB, 'active']], []]);
    st.applyHeartbeat(a0, T(100));
    st.applyHeartbeat(b1, T(100));
    // Parts 0 (of 2) and 1, 2 (of 3) do not make a beat.
    expect(st.applyHeartbeat(b2, T(100))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('offline');
  });

  it("any part proves the gateway alive and sets its timeout from the part's interval", () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0));
    // Only part 0 of each later beat arrives: nothing reconciles, but the gateway lives on.
    st.applyHeartbeat(beatParts('g1', 1, 2500, [[], []], 1000)[0], T(2500));
    st.applyHeartbeat(beatParts('g1', 2, 5000, [[], []], 2000)[0], T(5000));
    expect(st.tick(T(11_000))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
    expect(brief(st.tick(T(11_001)))).toEqual(['alice:online->offline']);
    expect(st.tick(T(11_001))).toEqual([]);
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
          ['c1', ALICE, 'active'],
          ['c2', BOB, 'idle'],
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

  it('with the default settings (5 s heartbeat, 1 s check) a dead gateway is noticed within 16 s, under the 30 s bound', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 5000), T(0));
    // The last heartbeat came at 0: alive at 3 x 5 s, dead just after; the check runs every 1 s, so by 16 s.
    expect(st.expire(T(15_000))).toEqual([]);
    expect(brief(st.expire(T(15_001)))).toEqual(['alice:online->offline']);
  });

  it('each heartbeat pushes the deadline back', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0));
    st.applyHeartbeat(heartbeat('g1', 2500, [['c1', ALICE, 'active']], 1000), T(2500));
    expect(st.expire(T(5000))).toEqual([]);
    expect(brief(st.expire(T(5501)))).toEqual(['alice:online->offline']);
  });

  it('a user also held by a live gateway keeps the status of the remaining connections', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0));
    st.applyHeartbeat(heartbeat('g2', 0, [['c2', ALICE, 'idle']], 10_000), T(0));
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
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'idle']], 1000), T(0));
    st.expire(T(3001));
    expect(brief(st.applyHeartbeat(heartbeat('g1', 4000, [['c1', ALICE, 'idle']], 1000), T(4000)))).toEqual(['alice:offline->away']);
  });

  it('tick runs expiry', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0));
    expect(brief(st.tick(T(3001)))).toEqual(['alice:online->offline']);
  });
});

describe('presence state - start-up', () => {
  it('a user loaded as present and confirmed by a heartbeat produces no event', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'away'), 'ev-1', 1);
    expect(st.applyHeartbeat(heartbeat('g1', 10, [['c1', ALICE, 'idle']]), T(10))).toEqual([]);
    expect(st.tick(T(1000))).toEqual([]);
    expect(st.present()).toEqual([stored(ALICE, 'away')]);
  });

  it('after the grace, users loaded as present that no gateway holds go offline, once', () => {
    const st = newState({ startedAt: 100, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
    st.observe(stored(BOB, 'offline'), 'ev-b', 2);
    expect(st.present().map((p) => p.userId)).toEqual([ALICE]); // until settled, the stored status stands
    expect(st.tick(T(1099))).toEqual([]);
    const changes = st.tick(T(1100));
    expect(changes).toEqual([
      { userId: ALICE, username: 'alice', status: 'offline', text: null, previous: 'online', at: at(1100), causeId: 'settle:ev-a' },
    ]);
    expect(st.tick(T(1200))).toEqual([]);
    expect(st.present()).toEqual([]);
  });

  it('during the grace only rises are published; drops wait for the end of the grace', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
    // Heard from one gateway only: alice looks idle there, but another gateway may hold her active.
    expect(
      st
        .applyHeartbeat(
          heartbeat('g1', 10, [
            ['c1', ALICE, 'idle'],
            ['c2', BOB, 'active'],
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

  it('a replica that starts in the middle of a beat settles only once a complete beat arrived', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
    st.observe(stored(BOB, 'online'), 'ev-b', 2);
    // Started listening after part 0 of beat 4: its part 1 alone says nothing about alice.
    st.applyHeartbeat(beatParts('g1', 4, 900, [[['c1', ALICE, 'active']], [['c2', BOB, 'active']]])[1], T(900));
    expect(st.tick(T(1000))).toEqual([]);
    expect(st.tick(T(1400))).toEqual([]);
    const beat5 = beatParts('g1', 5, 1500, [[['c1', ALICE, 'active']], [['c2', BOB, 'active']]]);
    for (const p of beat5) expect(st.applyHeartbeat(p, T(1500))).toEqual([]);
    expect(st.tick(T(1500))).toEqual([]);
    // Settled: alice and bob were confirmed, so nothing to publish; drops are published at once now.
    expect(brief(st.applyHeartbeat(heartbeat('g1', 2500, [['c2', BOB, 'active']]), T(2500)))).toEqual(['alice:online->offline']);
  });

  it('a gateway that keeps losing parts holds the grace at most its timeout', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
    for (const t of [10, 1010, 2010, 2999]) st.applyHeartbeat(beatParts('g1', t, t, [[], [['c1', ALICE, 'active']]], 1000)[0], T(t));
    expect(st.tick(T(2999))).toEqual([]);
    expect(brief(st.tick(T(3000)))).toEqual(['alice:online->offline']);
  });

  it('a gateway known only from signals does not hold the grace', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
    st.applySignal(opened('g1', 'c2', BOB), T(10));
    expect(brief(st.tick(T(1000)))).toEqual(['alice:online->offline']);
  });

  it('during the grace a drop the choice alone explains (invisible, busy) is published at once', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
    st.applyHeartbeat(heartbeat('g1', 10, [['c1', ALICE, 'active']]), T(10));
    expect(brief(st.applyChoice(ALICE, choice(ALICE, 'busy'), 1, T(20)))).toEqual(['alice:online->busy']);
    expect(brief(st.applyChoice(ALICE, choice(ALICE, 'invisible'), 2, T(30)))).toEqual(['alice:busy->offline']);
  });
});

describe('presence state - following the stream', () => {
  it("a stored view from another replica replaces this replica's own: no republish of a change already stored", () => {
    const st = newState();
    const [online] = st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.appendStored(online, 1);
    // This replica missed the close signal; another replica stored offline.
    st.observe(stored(ALICE, 'offline', at(2)), 'ev-2', 2);
    expect(st.viewOf(ALICE)).toEqual(stored(ALICE, 'offline', at(2)));
    // The heartbeat brings the truth (c1 is gone): nothing differs from the stream, nothing to append.
    expect(st.applyHeartbeat(heartbeat('g1', 3, []), T(3))).toEqual([]);
  });

  it('a replica whose connections say otherwise than the stream corrects it at the next heartbeat', () => {
    const st = newState();
    // Another replica missed an opened signal and stored offline; the heartbeat still lists c1.
    const [online] = st.applySignal(opened('g1', 'c1', ALICE), T(1));
    st.appendStored(online, 1);
    st.observe(stored(ALICE, 'offline', at(2)), 'ev-2', 2);
    expect(st.applyHeartbeat(heartbeat('g1', 3, [['c1', ALICE, 'active']]), T(3))).toEqual([
      expect.objectContaining({ status: 'online', previous: 'offline', causeId: `g1:hb:${at(3)}` }),
    ]);
  });

  it('older stream positions never replace newer ones', () => {
    const st = newState();
    st.observe(stored(ALICE, 'online', at(5)), 'ev-5', 5);
    st.observe(stored(ALICE, 'offline', at(3)), 'ev-3', 3);
    expect(st.statusOf(ALICE)).toBe('online');
  });

  it('a failed append falls back to what the stream holds, so the next input publishes again', () => {
    const st = newState();
    st.observe(stored(ALICE, 'offline'), 'ev-1', 1);
    expect(brief(st.applySignal(opened('g1', 'c1', ALICE), T(2)))).toEqual(['alice:offline->online']);
    st.appendFailed(ALICE);
    expect(st.statusOf(ALICE)).toBe('offline');
    expect(brief(st.applyHeartbeat(heartbeat('g1', 3, [['c1', ALICE, 'active']]), T(3)))).toEqual(['alice:offline->online']);
    // Never stored at all: forgotten entirely.
    st.applySignal(opened('g1', 'c2', BOB), T(4));
    st.appendFailed(BOB);
    expect(st.viewOf(BOB)).toBeNull();
  });

  it('v1 stored events without text keep working (text null)', () => {
    const st = newState();
    st.observe(stored(ALICE, 'busy'), 'ev-1', 1);
    expect(st.viewOf(ALICE)?.text).toBeNull();
  });
});

describe('presence state - replicas', () => {
  it('two replicas fed the same input produce the same changes (so the same msgIds)', () => {
    const inputs: Array<(st: PresenceState, now: Now) => PresenceChange[]> = [
      (st, now) => st.applySignal(opened('g1', 'c1', ALICE), now),
      (st, now) => st.applyHeartbeat(heartbeat('g2', 5, [['c9', BOB, 'idle']], 200), now),
      (st, now) => st.applyChoice(ALICE, choice(ALICE, 'busy', 'x'), 3, now),
      (st, now) => st.expire(T(now.mono + 1000)),
    ];
    const a = newState();
    const b = newState();
    // Different local clocks: the causes still agree.
    const key = (c: PresenceChange) => [c.userId, c.status, c.text, c.causeId];
    const fromA = inputs.flatMap((f, i) => f(a, T(10 + i))).map(key);
    const fromB = inputs.flatMap((f, i) => f(b, T(30 + i, 900 + i))).map(key);
    expect(fromA).toEqual(fromB);
    expect(fromA).toHaveLength(4);
  });

  it('present lists users not offline with the time of their last change', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1000));
    st.applySignal(opened('g1', 'c2', BOB), T(1000));
    st.applySignal(activity('g1', 'c2', BOB, 'idle'), T(2000));
    st.applySignal(closed('g1', 'c1', ALICE), T(3000));
    expect(st.present()).toEqual([{ userId: BOB, username: 'bob', status: 'away', text: null, lastSeen: at(2000) }]);
    expect(st.presentCount()).toBe(1);
  });

  it('last seen: an offline user keeps the time they went offline', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(1000));
    st.applySignal(closed('g1', 'c1', ALICE), T(3000));
    expect(st.viewOf(ALICE)).toEqual({ userId: ALICE, username: 'alice', status: 'offline', text: null, lastSeen: at(3000) });
  });
});

describe('presence state - clocks', () => {
  const HOUR = 3_600_000;

  it('timeouts count on the monotonic clock: wall-clock steps neither expire nor keep alive', () => {
    const st = newState();
    const wall = 1_700_000_000_000;
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0, wall));
    // NTP steps the wall clock an hour forward: the gateway beat 2 s ago, it is alive.
    expect(st.expire(T(2000, wall + HOUR))).toEqual([]);
    // ... and an hour back: the gateway has been silent for more than 3 intervals, it is dead.
    const changes = st.expire(T(3001, wall - HOUR));
    expect(brief(changes)).toEqual(['alice:online->offline']);
    expect(changes[0].at).toBe(at(wall - HOUR));
  });

  it('the start-up grace counts on the monotonic clock', () => {
    const st = newState({ startedAt: 0, graceMs: 1000 });
    st.observe(stored(ALICE, 'online'), 'ev-a', 1);
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
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0));
    st.disconnected();
    expect(st.expire(T(60_000))).toEqual([]);
    expect(st.tick(T(600_000))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
    expect(st.gatewayCount()).toBe(1);
  });

  it('on reconnect every gateway counts as just heard from: a silent one expires a timeout later', () => {
    const st = newState();
    st.applyHeartbeat(heartbeat('g1', 0, [['c1', ALICE, 'active']], 1000), T(0));
    st.applyHeartbeat(heartbeat('g2', 0, [['c2', BOB, 'active']], 1000), T(0));
    st.disconnected();
    st.tick(T(50_000));
    st.reconnected(T(100_000));
    expect(st.tick(T(100_001))).toEqual([]);
    // g1 beats again, g2 stays silent (it died during the outage).
    st.applyHeartbeat(heartbeat('g1', 101_000, [['c1', ALICE, 'active']], 1000), T(101_000));
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
          ['c1', ALICE, 'active'],
          ['c2', BOB, 'active'],
        ],
        1000,
      ),
      T(0),
    );
    st.tick(T(1000));
    st.disconnected();
    st.reconnected(T(50_000));
    // Alice closed during the outage (her closed signal was missed): the drop waits ...
    expect(st.applyHeartbeat(heartbeat('g1', 50_100, [['c2', BOB, 'active']], 1000), T(50_100))).toEqual([]);
    expect(st.statusOf(ALICE)).toBe('online');
    // ... also when another gateway holds her idle (still lower than what was published).
    expect(st.applyHeartbeat(heartbeat('g2', 50_200, [['c3', ALICE, 'idle']], 1000), T(50_200))).toEqual([]);
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

describe('presence state - appends that another replica overtook', () => {
  it('an append expects the sequence of the view its change was decided against: the stored one, or its own change before it', () => {
    const st = newState();
    const [online] = st.applySignal(opened('g1', 'c1', ALICE), T(10));
    expect(st.expectedSeq(online)).toBe(0);
    const [away] = st.applySignal(activity('g1', 'c1', ALICE, 'idle'), T(20));
    expect(st.expectedSeq(away)).toBeUndefined(); // not the next to append yet
    st.appendStored(online, 7);
    // Another replica's later event, followed while away is pending, does not move what away follows.
    st.observe(stored(ALICE, 'busy'), 'ev-y', 9);
    expect(st.expectedSeq(away)).toBe(7);
    st.appendStored(away, 8);
    // Nothing pending any more: the newer stored view is adopted, and the next change follows it.
    expect(st.statusOf(ALICE)).toBe('busy');
    const [online2] = st.applySignal(activity('g1', 'c1', ALICE, 'active'), T(30));
    expect(online2).toEqual(expect.objectContaining({ previous: 'busy', status: 'online' }));
    expect(st.expectedSeq(online2)).toBe(9);
    st.observe(stored(ALICE, 'online'), 'ev-x', 5); // an older one, followed late: ignored
    expect(st.expectedSeq(online2)).toBe(9);
  });

  it('the echo of its own first change while the later ones are pending does not make a replica decide them again (two replicas, the same signals: offline was stored twice)', () => {
    // One of two replicas that both hear open, idle and close, and both append each change
    // (the other one's appends are stored first, this one's are found duplicate).
    const st = newState();
    const [online, away, offline] = [
      opened('g1', 'c1', ALICE, 1000),
      activity('g1', 'c1', ALICE, 'idle', 1001),
      closed('g1', 'c1', ALICE, 1002),
    ].flatMap((sig) => st.applySignal(sig, T(10)));
    expect(brief([online, away, offline])).toEqual(['alice:offline->online', 'alice:online->away', 'alice:away->offline']);
    // The first change, stored by the other replica, is followed before this replica's append of it returns.
    st.observe(stored(ALICE, 'online'), 'ev-1', 1);
    expect(st.statusOf(ALICE)).toBe('offline');
    // The first tick settles (grace 0): nothing differs from what this replica decided last.
    expect(st.tick(T(100))).toEqual([]);
    st.appendStored(online, 1);
    expect(st.expectedSeq(away)).toBe(1);
    st.observe(stored(ALICE, 'away'), 'ev-2', 2);
    st.appendStored(away, 2);
    expect(st.expectedSeq(offline)).toBe(2);
    st.appendStored(offline, 3);
    st.observe(stored(ALICE, 'offline'), 'ev-3', 3);
    expect(st.statusOf(ALICE)).toBe('offline');
    expect(st.tick(T(200))).toEqual([]);
    expect(st.applyHeartbeat(heartbeat('g1', 300, []), T(300))).toEqual([]);
  });

  it("a change another replica stored first shows as stored (its lastSeen), whether the follower brings it before or after the duplicate's ack", () => {
    for (const echoFirst of [true, false]) {
      const st = newState();
      const [online] = st.applySignal(opened('g1', 'c1', ALICE), T(10));
      const theirs = stored(ALICE, 'online', at(9));
      if (echoFirst) st.observe(theirs, 'ev-1', 1);
      st.appendStored(online, 1); // duplicate: stored at 1 by the other replica
      if (!echoFirst) st.observe(theirs, 'ev-1', 1);
      expect(st.viewOf(ALICE)).toEqual(theirs);
    }
  });

  it('a refused append drops the changes decided after it: only the change decided again is appended', () => {
    const st = newState();
    const [online] = st.applySignal(opened('g1', 'c1', ALICE), T(10));
    const [away] = st.applySignal(activity('g1', 'c1', ALICE, 'idle'), T(20));
    const [offline] = st.applySignal(closed('g1', 'c1', ALICE), T(30));
    // online is refused: another replica stored offline meanwhile (its own cause).
    st.observe(stored(ALICE, 'offline'), 'ev-off', 4);
    expect(st.recheck(ALICE, T(40))).toEqual([]);
    for (const c of [online, away, offline]) expect(st.expectedSeq(c)).toBeUndefined();
    // Stored away instead: this replica decides offline again, following seq 6.
    st.applySignal(opened('g1', 'c2', ALICE), T(50));
    st.observe(stored(ALICE, 'away'), 'ev-away', 6);
    st.applySignal(closed('g1', 'c2', ALICE), T(60));
    const [again] = st.recheck(ALICE, T(70));
    expect(again).toEqual(expect.objectContaining({ previous: 'away', status: 'offline', causeId: 'recheck:6' }));
    expect(st.expectedSeq(again)).toBe(6);
  });

  it('a failed append drops the changes decided after it', () => {
    const st = newState();
    const [online] = st.applySignal(opened('g1', 'c1', ALICE), T(10));
    const [away] = st.applySignal(activity('g1', 'c1', ALICE, 'idle'), T(20));
    st.appendFailed(ALICE);
    expect(st.expectedSeq(online)).toBeUndefined();
    expect(st.expectedSeq(away)).toBeUndefined();
    expect(st.viewOf(ALICE)).toBeNull();
  });

  it('recheck: what another replica stored already says it, so nothing more; otherwise decided again, with a cause both replicas share', () => {
    const st = newState();
    st.applySignal(opened('g1', 'c1', ALICE), T(10));
    // Another replica stored offline (seq 4) that this one had not followed yet; it derives the same.
    st.applySignal(closed('g1', 'c1', ALICE), T(20));
    st.observe(stored(ALICE, 'offline'), 'ev-off', 4);
    expect(st.recheck(ALICE, T(30))).toEqual([]);
    // Stored away, while this replica holds an active connection: online again, with cause recheck:<seq>.
    st.applySignal(opened('g1', 'c2', ALICE), T(40));
    st.observe(stored(ALICE, 'away'), 'ev-away', 6);
    expect(st.recheck(ALICE, T(50))).toEqual([expect.objectContaining({ status: 'online', previous: 'away', causeId: 'recheck:6' })]);
  });
});
