import type { ChatClient } from '@chat/client';
import type { PostAck } from '@chat/contracts';
import { eventually, randomName } from '@chat/testing';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { byPosition, connectAs, newUser, postedFrames, readAll, retryUnavailable, type TestUser } from './replica-helpers';

// Generous: a loaded CI machine starts ten processes slowly (about 15 s on a quiet one).
jest.setTimeout(400_000);

/**
 * Reads repeated per check. RPC requests go to one member of the service's queue group, picked
 * at random by NATS for each request, so 16 reads all go to the same one of two replicas with a
 * probability of 2 x 2^-16 (about 1 in 30,000): every answer below comes from both replicas.
 */
const READS = 16;
/** Messages each of the two senders sends, concurrently, through its own gateway. */
const PER_SENDER = 30;

/**
 * Issue 11, "several nodes": two gateways and two replicas of rooms, history, presence and
 * moderation against one NATS (and one Postgres). Users on different gateways; each read path
 * (messages live and in history, presence, read markers, search, room state, moderation) gives
 * the same correct answer whichever replica answers.
 */
describe('two of everything - two gateways and two replicas of every service against one NATS', () => {
  let stack: TestStack;
  let ann: TestUser; // on gateway 1, creates the room
  let bob: TestUser; // on gateway 2
  let cid: TestUser; // on gateway 2
  let annA: ChatClient; // ann on gateway 1
  let annB: ChatClient; // ann's second device, on gateway 2
  let bobB: ChatClient;
  let cidB: ChatClient;
  const roomId = randomName('r');
  const word = randomName('zebra');
  const acks: PostAck[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    // The second replica of each service, then the second gateway (started last, as the launcher does).
    const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    // One at a time: on a loaded machine, four Node processes starting at once can each take
    // longer than the launcher's 60 s readiness limit.
    for (const [i, s] of ['rooms', 'history', 'presence', 'moderation'].entries()) await stack.startExtra(`${s}-2`, s, ports[i]);
    await stack.startExtra('gateway2', 'gateway', ports[4], { GATEWAY_ID: randomName('gw') });
    ann = await newUser(stack.urls.gateway, randomName('ann'));
    bob = await newUser(stack.urls.gateway2, randomName('bob'));
    cid = await newUser(stack.urls.gateway2, randomName('cid'));
    annA = await connectAs(stack.urls.gateway, ann);
    annB = await connectAs(stack.urls.gateway2, ann);
    bobB = await connectAs(stack.urls.gateway2, bob);
    cidB = await connectAs(stack.urls.gateway2, cid);
  });

  afterAll(async () => {
    process.stdout.write(`two of everything: ${unavailable.unavailable} UNAVAILABLE answers retried\n`);
    await Promise.all([annA, annB, bobB, cidB].map((c) => c?.close().catch(() => undefined)));
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, Object.keys(stack?.urls ?? {}), 25));

  const unavailable = { unavailable: 0 };
  /**
   * Reads READS times, one after the other. An UNAVAILABLE answer (history still projecting the
   * newest messages, or a reply late on a loaded machine) is retried as a client does: it is not
   * an answer; a wrong answer or any other error fails.
   */
  async function repeatRead<T>(fn: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < READS; i++) out.push(await retryUnavailable(() => fn(i), 30_000, unavailable));
    return out;
  }

  it('rooms - a room created through one gateway is joined through the other; every replica shows the same members', async () => {
    await annA.request('room.create', { roomId, name: 'Both gateways', visibility: 'private' });
    // A private room: bob and cid get in by invitation, accepted on the other gateway.
    for (const u of [bob, cid]) await annA.request('room.invite', { roomId, username: u.username });
    await bobB.request('invitation.accept', { roomId });
    await cidB.request('invitation.accept', { roomId });
    // ann's connection on gateway 1 is told of both joins made through gateway 2.
    for (const u of [bob, cid]) await annA.waitFor('member.joined', (d) => d.roomId === roomId && d.userId === u.userId);
    const details = await repeatRead((i) => [annA, bobB, cidB][i % 3].request('room.details', { roomId }));
    expect(details.map((d) => d.memberCount)).toEqual(Array(READS).fill(3));
    const members = await repeatRead((i) => [annA, bobB][i % 2].request('room.members', { roomId }));
    for (const m of members) expect(m.members.map((x) => x.userId).sort()).toEqual([ann.userId, bob.userId, cid.userId].sort());
  });

  it('messages - sent through both gateways at once: every member’s every connection gets each once, in order; history is the same from both replicas', async () => {
    const send = (c: ChatClient, who: string, i: number) =>
      c.request('message.send', { roomId, clientMsgId: `${who}-${i}`, body: `${who} ${i}${i % 5 === 0 ? ` ${word}` : ''}` });
    await Promise.all(
      (
        [
          [annA, 'ann'],
          [bobB, 'bob'],
        ] as const
      ).map(async ([c, who]) => {
        // A send answered UNAVAILABLE (late on a loaded machine) is retried with its clientMsgId.
        for (let i = 0; i < PER_SENDER; i++) acks.push(await retryUnavailable(() => send(c, who, i), 30_000, unavailable));
      }),
    );
    const want = byPosition(acks).map((a) => a.messageId);
    // Live, on both gateways: each connection gets every message exactly once, in position order.
    for (const c of [annA, annB, bobB, cidB]) {
      await eventually(() => postedFrames(c, roomId).length >= want.length, 20_000);
      expect(postedFrames(c, roomId).map((f) => f.data.messageId)).toEqual(want);
    }
    // History: once projected, every read, from either replica, lists exactly the acknowledged messages.
    await eventually(async () => (await retryUnavailable(() => readAll(annA, roomId), 30_000, unavailable)).length >= want.length, 30_000);
    const reads = await repeatRead((i) => readAll([annA, bobB, cidB, annB][i % 4], roomId));
    for (const r of reads) expect(r.map((m) => m.messageId).reverse()).toEqual(want);
    const newest = await repeatRead((i) => [annA, bobB][i % 2].request('history.page', { roomId, limit: 1 }));
    expect(newest.map((p) => p.messages[0]?.messageId)).toEqual(Array(READS).fill(want[want.length - 1]));
  });

  it('search - the same hits from either replica', async () => {
    const want = byPosition(acks.filter((a) => Number(a.clientMsgId.split('-')[1]) % 5 === 0)).map((a) => a.messageId);
    expect(want.length).toBe((2 * PER_SENDER) / 5);
    const pages = await repeatRead((i) => [annA, cidB][i % 2].request('message.search', { query: word, roomId, limit: 50 }));
    for (const p of pages) expect(p.hits.map((h) => h.message.messageId).sort()).toEqual([...want].sort());
  });

  it('read markers - marked through one gateway, read back alike through the other from either replica; the other device is told', async () => {
    const sorted = byPosition(acks);
    const mark = sorted[sorted.length - 11]; // 10 newer messages left unread
    const unreadByOthers = sorted.slice(-10).filter((a) => a.clientMsgId.startsWith('bob-')).length;
    const marked = await annA.request('read.mark', { roomId, position: mark.position });
    expect(marked).toEqual(expect.objectContaining({ roomId, lastRead: mark.position, unread: unreadByOthers }));
    await annB.waitFor('read.marker', (d) => d.roomId === roomId && d.lastRead === mark.position);
    const states = await repeatRead(() => annB.request('read.state', {}));
    for (const s of states)
      expect(s.rooms.find((r) => r.roomId === roomId)).toEqual(
        expect.objectContaining({ lastRead: mark.position, unread: unreadByOthers, lastPosition: sorted[sorted.length - 1].position }),
      );
    // Markers only move forward, whichever replica is asked to move one back.
    const back = await repeatRead(() => annB.request('read.mark', { roomId, position: sorted[0].position }));
    expect(back.map((s) => s.lastRead)).toEqual(Array(READS).fill(mark.position));
  });

  it('presence - a status set on one gateway is seen alike by members on both, from either replica; a closed connection goes offline everywhere', async () => {
    await bobB.request('presence.set', { status: 'busy', text: 'on gateway 2' });
    await annA.waitFor('presence.changed', (p) => p.userId === bob.userId && p.status === 'busy');
    const statuses = (users: { userId: string; status: string }[]) => Object.fromEntries(users.map((u) => [u.userId, u.status]));
    const want = { [ann.userId]: 'online', [bob.userId]: 'busy', [cid.userId]: 'online' };
    const pages = await repeatRead((i) => [annA, cidB][i % 2].request('presence.room', { roomId }));
    for (const p of pages) expect(statuses(p.users)).toEqual(want);
    const contacts = await repeatRead(() => annA.request('presence.contacts', {}));
    for (const c of contacts)
      expect(c.users.find((u) => u.userId === bob.userId)).toEqual(expect.objectContaining({ status: 'busy', text: 'on gateway 2' }));

    await cidB.close();
    await annA.waitFor('presence.changed', (p) => p.userId === cid.userId && p.status === 'offline');
    // Each replica heard the close (every replica hears every gateway): none answers online.
    const after = await repeatRead((i) => [annA, bobB][i % 2].request('presence.room', { roomId }));
    for (const p of after) expect(statuses(p.users)).toEqual({ ...want, [cid.userId]: 'offline' });
  });

  it('moderation - a room mute given through one replica is enforced by both; others still send', async () => {
    cidB = await connectAs(stack.urls.gateway2, cid);
    await annA.request('mod.mute', { userId: cid.userId, roomId, seconds: 600, reason: 'two of everything' });
    const refused = await repeatRead((i) =>
      cidB.request('message.send', { roomId, clientMsgId: `muted-${i}`, body: 'let me speak' }).then(
        () => 'sent',
        (err: { code?: string }) => {
          if (err.code === 'UNAVAILABLE') throw err; // retried by repeatRead
          return err.code;
        },
      ),
    );
    expect(refused).toEqual(Array(READS).fill('MUTED'));
    const sent = await repeatRead((i) => bobB.request('message.send', { roomId, clientMsgId: `after-mute-${i}`, body: `still here ${i}` }));
    expect(new Set(sent.map((a) => a.messageId)).size).toBe(READS);
    // Nothing of the muted user was stored.
    const all = await eventually(async () => {
      const got = await readAll(annA, roomId);
      return got.length >= acks.length + READS ? got : null;
    }, 20_000);
    expect(all.filter((m) => m.senderId === cid.userId)).toEqual([]);
    expect(all.length).toBe(acks.length + READS);
  });
});
