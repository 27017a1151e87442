import type { ChatClient } from '@chat/client';
import type { PostAck } from '@chat/contracts';
import { eventually, randomName } from '@chat/testing';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { connectAs, newUser, postedFrames, type TestUser } from './replica-helpers';

jest.setTimeout(400_000);

/** The killed gateway's heartbeat interval, and presence's expiry check (its default). */
const HEARTBEAT_MS = 1000;
const EXPIRY_CHECK_MS = 1000;
/**
 * docs/architecture.md, Presence, "A dead gateway": gateways silent for 3 of their own heartbeat
 * intervals are dropped at the next expiry check, their users with no other connection go
 * offline. The last beat came at most one interval before the kill, so offline is decided at
 * most 4 intervals + one check after it (5 s here; 21 s with the defaults).
 */
const DESIGNED_BOUND_MS = 4 * HEARTBEAT_MS + EXPIRY_CHECK_MS;
/** What a loaded machine may add to it (the append, the fan-out through rooms, the live relay). */
const SLACK_MS = 10_000;
/** Messages stored while the killed gateway's users are away (what their resume must bring). */
const MISSED = 30;

/**
 * Issue 11, Faults 6: a gateway SIGKILLed. Its users (with no other connection) are shown
 * offline to members on the other gateway within the designed bound, a user also connected to
 * the other gateway stays online; reconnecting to the other gateway with their resume position,
 * each of them gets every message of their rooms stored meanwhile exactly once, with no gap and
 * in each room's order (raw frames counted, no client-side de-duplication: resumeOverlap 0).
 */
describe('gateway kill - users shown offline in time; resumed elsewhere they miss nothing', () => {
  let stack: TestStack;
  let observer: TestUser; // on gateway 1
  let dual: TestUser; // on both gateways
  let away: TestUser[]; // on gateway 2 only
  let observerC: ChatClient;
  let senderC: ChatClient;
  const dualC: ChatClient[] = [];
  let awayC: ChatClient[] = [];
  let resumedC: ChatClient[] = [];
  const rooms = [randomName('ra'), randomName('rb')];
  /** The rooms of each away user: the first is in one room, the second in both. */
  const roomsOf = (i: number) => (i === 0 ? [rooms[0]] : [rooms[0], rooms[1]]);
  const acks: PostAck[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.startExtra('gateway2', 'gateway', await freePort(), {
      GATEWAY_ID: randomName('gw'),
      PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    });
    observer = await newUser(stack.urls.gateway, randomName('obs'));
    dual = await newUser(stack.urls.gateway, randomName('dual'));
    away = await Promise.all([0, 1].map((i) => newUser(stack.urls.gateway2, randomName(`away${i}`))));
    observerC = await connectAs(stack.urls.gateway, observer);
    senderC = await connectAs(stack.urls.gateway, observer);
    for (const roomId of rooms) await observerC.request('room.create', { roomId, name: roomId });
    for (const [i, u] of away.entries()) {
      const c = await connectAs(stack.urls.gateway2, u, { resumeOverlap: 0 });
      for (const roomId of roomsOf(i)) await c.request('room.join', { roomId });
      awayC.push(c);
    }
    dualC.push(await connectAs(stack.urls.gateway, dual), await connectAs(stack.urls.gateway2, dual));
    await dualC[0].request('room.join', { roomId: rooms[0] });
    // Presence shows everyone online to the observer before anything is killed.
    await eventually(async () => {
      const { users } = await observerC.request('presence.room', { roomId: rooms[0] });
      return users.length === 4 && users.every((u) => u.status === 'online');
    }, 30_000);
  });

  afterAll(async () => {
    await Promise.all([observerC, senderC, ...dualC, ...awayC, ...resumedC].map((c) => c?.close().catch(() => undefined)));
    await stack?.teardown();
    if (figures.length) process.stdout.write(`gateway kill:\n${figures.join('\n')}\n`);
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'gateway2', 'presence', 'rooms'], 30));

  let n = 0;
  const send = async (roomId: string) =>
    acks.push(await senderC.request('message.send', { roomId, clientMsgId: `m-${n}`, body: `message ${n++}` }));

  it('its users go offline for the others within the designed bound; a user also connected elsewhere stays online', async () => {
    // Traffic before the kill: each away user gets some live.
    for (let i = 0; i < 10; i++) await send(rooms[i % 2]);
    for (const [i, c] of awayC.entries()) {
      const want = acks.filter((a) => roomsOf(i).includes(a.roomId)).length;
      await eventually(() => roomsOf(i).reduce((k, r) => k + postedFrames(c, r).length, 0) >= want, 20_000);
    }
    const seen = observerC.events('presence.changed').length;
    await stack.stop('gateway2', 'SIGKILL');
    const killedAt = Date.now();
    // Messages go on being stored while the away users are gone.
    const sending = (async () => {
      for (let i = 0; i < MISSED; i++) await send(rooms[i % 2]);
    })();
    const offlineAt = new Map<string, number>();
    await eventually(
      () => {
        for (const f of observerC.events('presence.changed').slice(seen))
          if (f.data.status === 'offline' && !offlineAt.has(f.data.userId)) offlineAt.set(f.data.userId, Date.now());
        return away.every((u) => offlineAt.has(u.userId));
      },
      DESIGNED_BOUND_MS + SLACK_MS,
      50,
    );
    for (const u of away)
      figures.push(
        `  ${u.username} shown offline ${offlineAt.get(u.userId)! - killedAt} ms after the SIGKILL (designed bound ${DESIGNED_BOUND_MS} ms)`,
      );
    // The user with a connection left on gateway 1 never went offline, and every presence replica agrees.
    expect(offlineAt.has(dual.userId)).toBe(false);
    const { users } = await observerC.request('presence.room', { roomId: rooms[0] });
    expect(Object.fromEntries(users.map((u) => [u.userId, u.status]))).toEqual({
      [observer.userId]: 'online',
      [dual.userId]: 'online',
      [away[0].userId]: 'offline',
      [away[1].userId]: 'offline',
    });
    await sending;
  });

  it('reconnecting to the other gateway with their resume position, each gets every message stored meanwhile once, without a gap', async () => {
    resumedC = await Promise.all(
      away.map((u, i) => connectAs(stack.urls.gateway, u, { resumeFrom: awayC[i].position!, resumeOverlap: 0 })),
    );
    // And messages sent after they are back arrive live, continuing the sequence.
    for (let i = 0; i < 10; i++) await send(rooms[i % 2]);
    for (const [i, u] of away.entries()) {
      for (const roomId of roomsOf(i)) {
        const want = acks.filter((a) => a.roomId === roomId).map((a) => a.messageId);
        const got = () => [...postedFrames(awayC[i], roomId), ...postedFrames(resumedC[i], roomId)];
        await eventually(() => got().length >= want.length, 30_000);
        expect({ user: u.username, roomId, messages: got().map((f) => f.data.messageId) }).toEqual({
          user: u.username,
          roomId,
          messages: want,
        });
      }
      // Not a message of a room the user is not in.
      expect(resumedC[i].events('message.posted').filter((f) => !roomsOf(i).includes(f.data.roomId))).toEqual([]);
    }
    // Back online, through the surviving gateway.
    await eventually(async () => {
      const { users } = await observerC.request('presence.room', { roomId: rooms[0] });
      return users.every((u) => u.status === 'online');
    }, 30_000);
  });
});
