import { ChatClientError } from '@chat/client';
import type { PostAck } from '@chat/contracts';
import { eventually, randomName, startPrivatePostgres, type PrivatePostgres } from '@chat/testing';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { connectUsers, HistoryTables, untilAvailable, wholeRoom, withLogs, type User } from './history-fault-kit';

jest.setTimeout(300_000);

/** How long Postgres stays stopped while messages keep coming. */
const OUTAGE_MS = 60_000;
/** Sends in flight during the outage, one started every PACE_MS at most (the unread counts stay below their cap, 999). */
const IN_FLIGHT = 4;
const PACE_MS = 150;
/** Messages before the outage; bob has read up to the READ_UP_TO-th of them. */
const BEFORE = 40;
const READ_UP_TO = 10;
/** Every MENTION_EVERY-th message during the outage mentions bob; every SEARCH_EVERY-th holds a word searched for afterwards. */
const MENTION_EVERY = 7;
const SEARCH_EVERY = 11;

/**
 * Issue 11, Faults 3: the history service's Postgres (a private server of this test, so the
 * shared one is never touched) stopped for a minute while messages keep being sent. The stream
 * is the source of truth, so every send is still acknowledged; history's projection pauses
 * (failed batches are nak'd and come back, never dead-lettered), and every read answers the
 * typed UNAVAILABLE meanwhile, never an empty or stale answer. Once Postgres is back, the
 * projection and each read model built from it catch up exactly: the pages, the unread and
 * mention counts, search, the room's statistics, and read markers move again.
 */
describe('Postgres stopped for a minute under load - sends accepted, reads UNAVAILABLE, then every read model catches up, nothing dead-lettered', () => {
  let pg: PrivatePostgres;
  let stack: TestStack;
  let alice: User;
  let bob: User;
  let tables: HistoryTables;
  const roomId = randomName('r');
  const figures: string[] = [];

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    stack = await startTestStack({ databaseUrl: pg.url });
    [alice, bob] = await connectUsers(stack, 2);
    await alice.client.request('room.create', { roomId, name: 'Outage' });
    await bob.client.request('room.join', { roomId });
    tables = HistoryTables.open(pg.url, stack);
  });
  afterAll(async () => {
    await Promise.all([alice, bob].map((u) => u?.client.close().catch(() => undefined)));
    await tables?.close().catch(() => undefined);
    if (pg && !pg.running) await pg.start().catch(() => undefined); // teardown drops the schema there
    await stack?.teardown();
    await pg?.remove();
    if (figures.length) process.stdout.write(`Postgres outage:\n${figures.join('\n')}\n`);
  });
  afterEach(() => printLogsIfFailed(stack, ['history']));

  it('a minute without Postgres', () =>
    withLogs(stack, ['history'], async () => {
      const acked: PostAck[] = [];
      const bodies = new Map<string, string>();
      const send = async (body: string) => {
        const ack = await alice.client.request('message.send', { roomId, clientMsgId: `c${acked.length}-${randomName('')}`, body });
        acked.push(ack);
        bodies.set(ack.messageId, body);
        return ack;
      };
      for (let i = 0; i < BEFORE; i++) await send(`before ${i}`);
      const readUpTo = acked[READ_UP_TO - 1].position;
      await untilAvailable(() => bob.client.request('read.mark', { roomId, position: readUpTo }));
      expect((await wholeRoom(bob.client, roomId)).length).toBe(BEFORE);

      // The reads that must answer UNAVAILABLE while the database is down: every read model.
      const probes: Record<string, () => Promise<unknown>> = {
        'newest page': () => bob.client.request('history.page', { roomId }),
        'older page': () => bob.client.request('history.page', { roomId, before: acked[BEFORE - 1].position }),
        search: () => bob.client.request('message.search', { query: 'before', roomId }),
        'unread counts': () => bob.client.request('read.state', {}),
        'read marker': () => bob.client.request('read.mark', { roomId, position: acked[BEFORE - 1].position }),
        statistics: () => alice.client.request('room.stats', { roomId }),
        conversations: () => bob.client.request('dm.list', {}),
      };
      const answers = new Map<string, string[]>();
      let slowestProbeMs = 0;
      const probeAll = () =>
        Promise.all(
          Object.entries(probes).map(async ([name, probe]) => {
            const start = Date.now();
            const answer = await probe().then(
              () => 'answered',
              (err: unknown) => (err instanceof ChatClientError ? err.code : String(err)),
            );
            slowestProbeMs = Math.max(slowestProbeMs, Date.now() - start);
            answers.set(name, [...(answers.get(name) ?? []), answer]);
          }),
        );

      await pg.stop();
      const downAt = Date.now();
      // Messages keep coming for the whole outage, a few in flight.
      const during: PostAck[] = [];
      const traffic = (async () => {
        const inFlight = new Set<Promise<void>>();
        for (let i = 0; Date.now() - downAt < OUTAGE_MS; i++) {
          const words = [`during ${i}`, i % MENTION_EVERY === 0 ? `@${bob.name}` : '', i % SEARCH_EVERY === 0 ? 'zeppelin' : ''];
          const p = send(words.filter(Boolean).join(' ')).then((ack) => void during.push(ack));
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
          await new Promise((r) => setTimeout(r, PACE_MS));
        }
        await Promise.all(inFlight);
      })();
      // Meanwhile: not ready (database), and every read refused with the typed error, promptly.
      await eventually(
        async () => (await (await fetch(`${stack.urls.history}/health/ready`)).json()).checks?.database === false,
        20_000,
        200,
      );
      while (Date.now() - downAt < OUTAGE_MS - 5_000) await probeAll();
      await traffic;
      figures.push(
        `  ${during.length} messages acknowledged during the ${OUTAGE_MS / 1000} s outage; ${answers.get('newest page')!.length} rounds of reads, slowest answer ${slowestProbeMs} ms`,
      );
      expect(Object.fromEntries([...answers].map(([name, codes]) => [name, [...new Set(codes)]]))).toEqual(
        Object.fromEntries(Object.keys(probes).map((name) => [name, ['UNAVAILABLE']])),
      );
      expect(during.length).toBeGreaterThan(0);

      await pg.start();
      const upAt = Date.now();
      for (let i = 0; i < 5; i++) await send(`after ${i}`);

      // The projection: every acknowledged message, in stream order, once.
      const byPosition = [...acked].sort((a, b) => a.position - b.position);
      await tables.until('SELECT count(*) AS n FROM $schema.messages WHERE room_id = $1', [roomId], acked.length, 120_000);
      figures.push(`  projection caught up ${Date.now() - upAt} ms after Postgres was back`);
      const pages = await wholeRoom(bob.client, roomId);
      expect(pages.map((m) => [m.messageId, m.position, m.body])).toEqual(
        byPosition.map((a) => [a.messageId, a.position, bodies.get(a.messageId)]),
      );
      expect(await tables.query('SELECT position, error FROM $schema.dead_letters')).toEqual([]);
      const metrics = await (await fetch(`${stack.urls.history}/metrics`)).text();
      expect(metrics).toMatch(/^history_projected_events_total\{outcome="dead_letter"\} 0$/m);

      // Unread and mention counts: everything of alice's after bob's marker.
      const unread = byPosition.filter((a) => a.position > readUpTo);
      const mentions = unread.filter((a) => bodies.get(a.messageId)!.includes(`@${bob.name}`));
      const state = await untilAvailable(() => bob.client.request('read.state', {}));
      expect(state.rooms.find((r) => r.roomId === roomId)).toEqual({
        roomId,
        lastRead: readUpTo,
        unread: unread.length,
        mentions: mentions.length,
        lastPosition: byPosition[byPosition.length - 1].position,
      });

      // Search finds exactly the messages holding the word, written during the outage.
      const found = await untilAvailable(() => bob.client.request('message.search', { query: 'zeppelin', roomId, limit: 50 }));
      const holding = byPosition.filter((a) => bodies.get(a.messageId)!.includes('zeppelin'));
      expect(found.hits.map((h) => h.message.messageId).sort()).toEqual(holding.map((a) => a.messageId).sort());

      // Statistics count every message once.
      const stats = await untilAvailable(() => alice.client.request('room.stats', { roomId }));
      expect([stats.messages, stats.activeUsers]).toEqual([acked.length, 1]);

      // Read markers move again: bob reads everything, nothing is unread.
      const last = byPosition[byPosition.length - 1].position;
      const marked = await untilAvailable(() => bob.client.request('read.mark', { roomId, position: last }));
      expect([marked.lastRead, marked.unread, marked.mentions]).toEqual([last, 0, 0]);
      expect((await fetch(`${stack.urls.history}/health/ready`)).status).toBe(200);
    }));
});
