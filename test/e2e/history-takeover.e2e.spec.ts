import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ChatClient, ChatClientError, login, register, wsUrlOf } from '@chat/client';
import { createSubjects } from '@chat/contracts';
import { eventually, testNatsUrl } from '@chat/testing';
import { WebSocket } from 'ws';
import { freePort, printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(300_000);

/**
 * The ack wait of the projector's consumer for this run. Unset: the service's default (5 s).
 * HISTORY_TAKEOVER_ACK_WAIT_MS=30000 measures the behaviour before issue 7 (a dead instance's
 * batch waited out a 30 s ack wait), for the figures in the report.
 */
const ACK_WAIT_MS = process.env.HISTORY_TAKEOVER_ACK_WAIT_MS;
/** Generous: the default ack wait makes it about 5-7 s; before issue 7 it was about 30 s. */
const TAKEOVER_BOUND_MS = ACK_WAIT_MS ? Number(ACK_WAIT_MS) + 20_000 : 20_000;
/** Kills at most, until one lands while the dead instance holds an unacked batch (usually the first). */
const ROUNDS = 5;
const SENDERS = 8;

/**
 * Issue 7: after history is SIGKILLed mid-traffic, the newest page answered UNAVAILABLE for about
 * 30 s, because the batch the dead instance had fetched but not acked waited out the ack wait.
 * A surviving instance, or the restarted one, must serve the newest page within seconds.
 */
describe('history take-over - the newest page answers within seconds after an instance is SIGKILLed mid-batch', () => {
  let stack: TestStack;
  let client: ChatClient;
  let sender: ChatClient;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let stream: string;
  let durable: string;
  let sending = false;
  let senders: Promise<void>[] = [];
  let sent = 0;
  const figures: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ serviceEnv: ACK_WAIT_MS ? { history: { PROJECTION_ACK_WAIT_MS: ACK_WAIT_MS } } : {} });
    await register(stack.urls.gateway, 'reader', 'a good long password');
    const l = await login(stack.urls.gateway, 'reader', 'a good long password');
    [client, sender] = await Promise.all(
      [0, 1].map(async () => {
        const c = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false });
        await c.auth(l.accessToken);
        return c;
      }),
    );
    await client.request('room.join', { roomId: 'general' });
    nc = await connect({ servers: await testNatsUrl() });
    jsm = await jetstreamManager(nc);
    const s = createSubjects(stack.namespace);
    stream = s.streams.chat.name;
    durable = s.consumers.historyProjectorOf(stack.schema);
  });

  afterAll(async () => {
    sending = false;
    await Promise.all(senders);
    await Promise.all([client, sender].map((c) => c?.close().catch(() => undefined)));
    await nc?.close();
    await stack?.teardown();
    if (figures.length) process.stdout.write(`history take-over (ack wait ${ACK_WAIT_MS ?? 'default 5000'} ms):\n${figures.join('\n')}\n`);
  });

  afterEach(() =>
    printLogsIfFailed(
      stack,
      Object.keys(stack?.urls ?? {}).filter((n) => n.startsWith('history')),
    ),
  );

  /** Sends go on throughout (rooms and live delivery do not need history). */
  function startTraffic(): void {
    sending = true;
    senders = Array.from({ length: SENDERS }, async () => {
      while (sending) {
        await sender
          .request('message.send', { roomId: 'general', clientMsgId: `t-${sent++}`, body: `traffic ${sent}` })
          .catch(() => undefined);
      }
    });
  }
  async function stopTraffic(): Promise<void> {
    sending = false;
    await Promise.all(senders);
  }

  /** Polls the newest page until it answers; how long that took, and how many UNAVAILABLE answers came first. */
  async function untilNewestPage(): Promise<{ ms: number; unavailable: number }> {
    const start = Date.now();
    let unavailable = 0;
    for (;;) {
      try {
        await client.request('history.page', { roomId: 'general', limit: 1 });
        return { ms: Date.now() - start, unavailable };
      } catch (err) {
        if (!(err instanceof ChatClientError) || err.code !== 'UNAVAILABLE') throw err;
        unavailable++;
        if (Date.now() - start > TAKEOVER_BOUND_MS + 20_000)
          throw new Error(`newest page still UNAVAILABLE after ${Date.now() - start} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** SIGKILLs `name` under traffic until it dies holding delivered, unacked events (what the take-over is about). */
  async function killMidBatch(name: string, restart: () => Promise<void>): Promise<{ killedAt: number; pending: number }> {
    for (let round = 0; round < ROUNDS; round++) {
      const before = sent;
      await eventually(() => sent >= before + 100, 30_000);
      await stack.stop(name, 'SIGKILL');
      const killedAt = Date.now();
      const pending = (await jsm.consumers.info(stream, durable)).num_ack_pending;
      if (pending > 0) return { killedAt, pending };
      await restart(); // it died between batches: nothing to take over; again
    }
    throw new Error(`no kill in ${ROUNDS} rounds landed while a batch was unacked`);
  }

  it('a surviving instance takes over the dead one’s batch', async () => {
    await stack.startExtra('history-2', 'history', await freePort(), ACK_WAIT_MS ? { PROJECTION_ACK_WAIT_MS: ACK_WAIT_MS } : {});
    startTraffic();
    const { killedAt, pending } = await killMidBatch('history', () => stack.start('history'));
    const { ms, unavailable } = await untilNewestPage();
    const total = Date.now() - killedAt;
    await stopTraffic();
    figures.push(
      `  survivor: newest page served ${total} ms after the SIGKILL (${unavailable} UNAVAILABLE answers, ${pending} events unacked at the kill)`,
    );
    expect(total).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(ms).toBeGreaterThanOrEqual(0);
    await stack.stop('history-2');
    await stack.start('history');
  });

  it('a restarted instance takes over the batch its predecessor died with', async () => {
    startTraffic();
    const { killedAt, pending } = await killMidBatch('history', () => stack.start('history'));
    await stack.start('history'); // resolves when it is ready
    const readyAt = Date.now();
    const { unavailable } = await untilNewestPage();
    const served = Date.now();
    await stopTraffic();
    figures.push(
      `  restart: newest page served ${served - killedAt} ms after the SIGKILL, ${served - readyAt} ms after the new instance was ready (${unavailable} UNAVAILABLE answers, ${pending} events unacked at the kill)`,
    );
    expect(served - readyAt).toBeLessThan(TAKEOVER_BOUND_MS);
  });
});
