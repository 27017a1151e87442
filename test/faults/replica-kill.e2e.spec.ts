import { ChatClientError, type ChatClient } from '@chat/client';
import type { PostAck } from '@chat/contracts';
import { eventually, randomName } from '@chat/testing';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { connectAs, newUser, postedFrames, readAll, repeated, type TestUser } from './replica-helpers';

// Generous: a loaded CI machine starts ten processes slowly (about 15 s on a quiet one).
jest.setTimeout(400_000);

const ROOM = 'general';
/**
 * The longest a service may stay unanswered after one of its two replicas is SIGKILLed: a
 * request already sent to the dead replica times out (RPC_TIMEOUT_MS, 5 s) and is retried;
 * history's survivor takes the dead one's unacked batch after the ack wait (5 s). Generous for
 * a loaded machine; the figures measured are printed.
 */
const FAILOVER_MS = 45_000;
/** Acknowledged sends after each kill (and reads of the killed service) that show it goes on. */
const SENDS_AFTER = 20;
const READS_AFTER = 3;

type Service = 'rooms' | 'history' | 'presence' | 'moderation';

/**
 * Issue 11, Faults 5: a replica of each service (rooms, history, presence, moderation, then a
 * gateway) SIGKILLed while two run, during traffic. Every send is retried with its clientMsgId
 * until acknowledged, as a client does. The service goes on (sends and its reads are answered
 * again within FAILOVER_MS); afterwards history holds every acknowledged message exactly once
 * under its acknowledged id, and the listeners received each live exactly once.
 */
describe('replica kill - one of two replicas of each service SIGKILLed during traffic', () => {
  let stack: TestStack;
  let senders: TestUser[];
  let listener1: TestUser;
  let listener2: TestUser;
  let reader: ChatClient; // on gateway 1, which survives
  let live1: ChatClient; // on gateway 1
  let live2: ChatClient; // on gateway 2, until it is killed
  let live2After: ChatClient | undefined; // the same user, resumed on gateway 1
  const acks = new Map<string, PostAck>();
  /** Error codes other than UNAVAILABLE (none expected), with what caused them. */
  const unexpected: string[] = [];
  const unavailable = { sends: 0 };
  const reads: Record<Service, Array<{ at: number; ok: boolean }>> = { rooms: [], history: [], presence: [], moderation: [] };
  const figures: string[] = [];
  let running = true;
  let loops: Promise<void>[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    // One at a time: on a loaded machine, four Node processes starting at once can each take
    // longer than the launcher's 60 s readiness limit.
    for (const [i, s] of ['rooms', 'history', 'presence', 'moderation'].entries()) await stack.startExtra(`${s}-2`, s, ports[i]);
    await stack.startExtra('gateway2', 'gateway', ports[4], { GATEWAY_ID: randomName('gw') });
    senders = await Promise.all([0, 1].map((i) => newUser(stack.urls.gateway, randomName(`sender${i}`))));
    listener1 = await newUser(stack.urls.gateway, randomName('listener'));
    listener2 = await newUser(stack.urls.gateway, randomName('listener'));
    reader = await connectAs(stack.urls.gateway, listener1);
    for (const u of [...senders, listener2]) {
      const c = await connectAs(stack.urls.gateway, u);
      await c.request('room.join', { roomId: ROOM });
      await c.close();
    }
    await reader.request('room.join', { roomId: ROOM });
    live1 = await connectAs(stack.urls.gateway, listener1);
    live2 = await connectAs(stack.urls.gateway2, listener2, { resumeOverlap: 0 });

    // Traffic: each sender on both gateways, one send at a time per connection.
    for (const u of senders)
      for (const url of [stack.urls.gateway, stack.urls.gateway2])
        loops.push(sendLoop(u, url, `${u.username}-${url === stack.urls.gateway ? 'a' : 'b'}`));
    // Reads of each service, through gateway 1.
    const op: Record<Service, () => Promise<unknown>> = {
      rooms: () => reader.request('room.details', { roomId: ROOM }),
      history: () => reader.request('history.page', { roomId: ROOM, limit: 1 }),
      presence: () => reader.request('presence.room', { roomId: ROOM }),
      moderation: () => reader.request('mod.me', {}),
    };
    for (const s of Object.keys(op) as Service[]) loops.push(readLoop(s, op[s]));
  });

  afterAll(async () => {
    running = false;
    await Promise.all(loops);
    await Promise.all([reader, live1, live2, live2After].map((c) => c?.close().catch(() => undefined)));
    await stack?.teardown();
    if (figures.length) process.stdout.write(`replica kill:\n${figures.join('\n')}\n`);
  });

  afterEach(() => printLogsIfFailed(stack, Object.keys(stack?.urls ?? {}), 25));

  /** Sends until stopped; each message is retried with its clientMsgId until acknowledged. */
  async function sendLoop(user: TestUser, url: string, tag: string): Promise<void> {
    let conn = await connectAs(url, user);
    for (let n = 0; running; n++) {
      const clientMsgId = `${tag}-${n}`;
      for (;;) {
        if (!conn.isOpen) {
          // Its gateway died: the client reconnects, to the surviving gateway.
          conn = await connectAs(stack.urls.gateway, user).catch(() => conn);
        }
        try {
          acks.set(clientMsgId, await conn.request('message.send', { roomId: ROOM, clientMsgId, body: `m ${clientMsgId}` }));
          break;
        } catch (err) {
          if (!(err instanceof ChatClientError) || err.code !== 'UNAVAILABLE') {
            unexpected.push(`${clientMsgId}: ${String(err)}`);
            break;
          }
          unavailable.sends++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    await conn.close();
  }

  async function readLoop(service: Service, read: () => Promise<unknown>): Promise<void> {
    while (running) {
      try {
        await read();
        reads[service].push({ at: Date.now(), ok: true });
      } catch (err) {
        if (!(err instanceof ChatClientError) || err.code !== 'UNAVAILABLE') unexpected.push(`${service} read: ${String(err)}`);
        reads[service].push({ at: Date.now(), ok: false });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILLs `name` once traffic runs; resolves when sends and `service`'s reads are answered again. */
  async function killAndRecover(name: string, service: Service | null): Promise<void> {
    const before = acks.size;
    await eventually(() => acks.size >= before + SENDS_AFTER, FAILOVER_MS);
    const unavailableBefore = unavailable.sends;
    await stack.stop(name, 'SIGKILL');
    const killedAt = Date.now();
    const atKill = acks.size;
    const ackedAfter = () => [...acks.values()].filter((a) => Date.parse(a.time) > killedAt).length;
    const readsAfter = () => (service ? reads[service].filter((r) => r.ok && r.at > killedAt).length : READS_AFTER);
    await eventually(() => ackedAfter() >= SENDS_AFTER && readsAfter() >= READS_AFTER, FAILOVER_MS);
    const firstRead = service ? reads[service].find((r) => r.ok && r.at > killedAt)!.at - killedAt : 0;
    const failedReads = service ? reads[service].filter((r) => !r.ok && r.at > killedAt).length : 0;
    figures.push(
      `  ${name} SIGKILLed at ${atKill} acks: ${SENDS_AFTER} more sends acknowledged ${Date.now() - killedAt} ms after the kill` +
        ` (${unavailable.sends - unavailableBefore} UNAVAILABLE answers retried)` +
        (service ? `; first ${service} read answered ${firstRead} ms after (${failedReads} UNAVAILABLE before)` : ''),
    );
  }

  it('rooms - sends are answered by the surviving replica', async () => {
    await killAndRecover('rooms', 'rooms');
  });

  it('history - pages are served and the projection goes on with one replica', async () => {
    await killAndRecover('history', 'history');
  });

  it('presence - rooms’ presence is answered, and status changes still reach members', async () => {
    await killAndRecover('presence', 'presence');
    const l2 = await connectAs(stack.urls.gateway2, listener2);
    await l2.request('presence.set', { status: 'busy' });
    await live1.waitFor('presence.changed', (p) => p.userId === listener2.userId && p.status === 'busy', 30_000);
    await l2.close();
  });

  it('moderation - sends are checked by the surviving replica', async () => {
    await killAndRecover('moderation', 'moderation');
  });

  it('gateway - its clients reconnect to the other gateway; a resumed listener misses nothing', async () => {
    await killAndRecover('gateway2', null);
    // The listener of the dead gateway resumes on the other one from the last position it saw.
    expect(live2.position).not.toBeNull();
    live2After = await connectAs(stack.urls.gateway, listener2, { resumeFrom: live2.position!, resumeOverlap: 0 });
  });

  it('afterwards - every acknowledged message is in history once, under its acknowledged id, and was delivered live once', async () => {
    running = false;
    await Promise.all(loops);
    expect(unexpected).toEqual([]);
    const acked = [...acks.values()].sort((a, b) => a.position - b.position);
    const all = await eventually(async () => {
      const got = await readAll(reader, ROOM);
      return got.length >= acked.length ? got : null;
    }, 60_000);
    expect(repeated(all.map((m) => m.clientMsgId))).toEqual([]);
    expect(all.map((m) => `${m.clientMsgId} ${m.messageId}`).reverse()).toEqual(acked.map((a) => `${a.clientMsgId} ${a.messageId}`));

    // Live: the listener of gateway 1 got each once, in order; the listener of the killed gateway
    // got each once across its connection there and its resumed one.
    const want = acked.map((a) => a.messageId);
    await eventually(() => postedFrames(live1, ROOM).length >= want.length, 30_000);
    expect(postedFrames(live1, ROOM).map((f) => f.data.messageId)).toEqual(want);
    const across = () => [...postedFrames(live2, ROOM), ...postedFrames(live2After!, ROOM)];
    await eventually(() => across().length >= want.length, 30_000);
    expect(across().map((f) => f.data.messageId)).toEqual(want);
    figures.push(`  ${acked.length} messages acknowledged, ${unavailable.sends} UNAVAILABLE answers retried in all`);
  });
});
