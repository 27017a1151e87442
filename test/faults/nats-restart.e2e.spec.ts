import { eventually, startPrivateNats, type PrivateNats } from '@chat/testing';
import { startTestStack, type TestStack } from '../e2e/fixture';
import {
  acksOf,
  allReady,
  connectMembers,
  cutConnection,
  deliveryProblems,
  historyOf,
  notStoredOnce,
  printLogsUnlessPassed,
  sendContinuously,
  storedPosts,
  type Member,
} from './nats-traffic';

jest.setTimeout(180_000);

const ROOM = 'general';
const MEMBERS = 4;
/** Acknowledged sends before the restart, and again after it, before the traffic stops. */
const ACKS_EACH_SIDE = 100;

/**
 * Faults 2: the stack's only nats-server (a private one: the shared NATS is never stopped) is
 * stopped and started again, on the same port and store, while every member sends one message
 * after another. Two members also lose their WebSocket during the outage, so the client
 * library's reconnect and resume run while the gateway cannot reach NATS.
 */
describe('NATS restarted during traffic - nothing acknowledged lost, services and clients come back on their own', () => {
  let nats: PrivateNats;
  let stack: TestStack;
  let members: Member[] = [];

  beforeAll(async () => {
    nats = await startPrivateNats({ name: 'restarted' });
    // A short RPC timeout: sends during the outage fail fast instead of queueing for 5 s each.
    stack = await startTestStack({ natsUrl: nats.url, env: { RPC_TIMEOUT_MS: '2000' } });
    members = await connectMembers(stack, ROOM, MEMBERS);
  });

  afterAll(async () => {
    await Promise.all(members.map((m) => m.client.close().catch(() => undefined)));
    await stack?.teardown();
    await nats?.cleanup();
  });

  let passed = false;
  afterEach(() => printLogsUnlessPassed(passed, stack, [nats]));

  it('every acknowledged message is stored once, delivered to every member once and in order, and in history', async () => {
    const traffic = sendContinuously(members, ROOM);
    await eventually(() => traffic.acks.size >= ACKS_EACH_SIDE, 60_000);

    await nats.stop('SIGTERM');
    const failuresAtStop = traffic.failures;
    // The outage is felt: sends are refused (not acknowledged) and readiness says so.
    await eventually(() => traffic.failures >= failuresAtStop + MEMBERS, 30_000);
    await eventually(
      async () =>
        (await fetch(`${stack.urls.rooms}/health/ready`, { signal: AbortSignal.timeout(3000) }).catch(() => null))?.status !== 200,
      30_000,
    );
    // Two members lose their connection while NATS is down: they reconnect and resume on their own.
    cutConnection(members[0]);
    cutConnection(members[1]);
    const acksWhileDown = members.map((m) => acksOf(traffic, m));

    await nats.start();
    await allReady(stack);
    // Every member, the two cut off included, is connected again and has sends acknowledged.
    await eventually(
      () => members.every((m, i) => m.client.state === 'open' && acksOf(traffic, m) >= acksWhileDown[i] + ACKS_EACH_SIDE / MEMBERS),
      60_000,
    );
    await traffic.stop();

    expect(traffic.failures).toBeGreaterThan(failuresAtStop);
    expect(members[0].resumes).toBeGreaterThanOrEqual(1);
    expect(members[1].resumes).toBeGreaterThanOrEqual(1);
    expect(members.map((m) => m.reloads)).toEqual(members.map(() => 0));

    const posts = await storedPosts(nats.url, stack.namespace, ROOM);
    expect(notStoredOnce(traffic.acks, posts)).toEqual({});
    expect(await deliveryProblems(members, ROOM, traffic.acks)).toEqual({});

    // The projection caught up too: history holds every stored message, once, in stream order.
    const stored = posts.map((p) => p.messageId);
    await eventually(async () => (await historyOf(members[2].client, ROOM)).length >= stored.length, 60_000);
    expect((await historyOf(members[2].client, ROOM)).map((m) => m.messageId)).toEqual(stored);
    passed = true;
  });
});
