import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { PostAck } from '@chat/contracts';
import { createSubjects } from '@chat/contracts';
import { testDatabaseUrl, testNatsUrl } from '@chat/testing';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { connectUsers, HistoryTables, pipelined, wholeRoom, type User } from './history-fault-kit';

jest.setTimeout(180_000);

const ROOM = 'general';
const MESSAGES = 600;
/** The malformed events go in once this many messages were acknowledged. */
const INJECT_AFTER = 200;

/**
 * Issue 11, Faults 4: events that cannot be projected, appended straight into the CHAT stream
 * between real messages (what a buggy or older producer, or a hand-edited stream, would leave).
 * The projector dead-letters each one with its stream position and the reason, and projects
 * everything around it: no message acknowledged before or after is missing or doubled, and the
 * newest pages are served.
 */
describe('malformed events - dead-lettered with their stream position and reason; every acknowledged message around them is projected', () => {
  let stack: TestStack;
  let users: User[];
  let nc: NatsConnection;
  let tables: HistoryTables;

  beforeAll(async () => {
    stack = await startTestStack();
    users = await connectUsers(stack, 3);
    nc = await connect({ servers: await testNatsUrl() });
    tables = HistoryTables.open(await testDatabaseUrl(), stack);
  });
  afterAll(async () => {
    await Promise.all((users ?? []).map((u) => u.client.close().catch(() => undefined)));
    await tables?.close();
    await nc?.close();
    await stack?.teardown();
  });
  afterEach(() => printLogsIfFailed(stack, ['history', 'rooms']));

  it('three malformed events mid-traffic: three dead letters, all 600 messages projected once', async () => {
    const s = createSubjects(stack.namespace);
    const stream = s.streams.chat.name;
    const subject = s.chat.roomMessages(ROOM);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);

    /** Appends the three kinds of bad event (taking a real one as the model) and returns what each must become. */
    const inject = async () => {
      const model = JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage(stream, { last_by_subj: subject }))!.data)) as {
        type: string;
        payload: Record<string, unknown>;
      };
      const notJson = '{"type":"MessagePosted", cut short';
      const unknownType = JSON.stringify({ ...model, type: 'MessageExploded', payload: { ...model.payload, messageId: randomUUID() } });
      const badPayload = JSON.stringify({ ...model, payload: { ...model.payload, messageId: randomUUID(), senderId: 'not-a-uuid' } });
      const append = async (raw: string) => (await js.publish(subject, new TextEncoder().encode(raw), { msgID: randomUUID() })).seq;
      return [
        { position: await append(notJson), subject, raw: notJson, error: 'not JSON' },
        { position: await append(unknownType), subject, raw: unknownType, error: 'unknown event type "MessageExploded"' },
        { position: await append(badPayload), subject, raw: badPayload, error: 'MessagePosted: payload.senderId must be a UUID' },
      ];
    };

    const acked: PostAck[] = [];
    let injected: Promise<Awaited<ReturnType<typeof inject>>> | null = null;
    // Three clients, eight requests in flight each: the bad events land between sends in flight.
    await Promise.all(
      users.map((u, k) =>
        pipelined(MESSAGES / users.length, 8, async (i) => {
          acked.push(await u.client.request('message.send', { roomId: ROOM, clientMsgId: `m${k}-${i}`, body: `message ${k}-${i}` }));
          if (acked.length >= INJECT_AFTER) injected ??= inject();
        }),
      ),
    );
    const letters = await injected!;
    const firstBad = letters[0].position;
    expect(acked.filter((a) => a.position > firstBad).length).toBeGreaterThan(0); // traffic went on after them

    // The projection gets past the bad events: every acknowledged message is in the table.
    await tables.until('SELECT count(*) AS n FROM $schema.messages WHERE room_id = $1', [ROOM], MESSAGES, 60_000);

    const dead = await tables.query<{ position: string; subject: string; raw: string; error: string }>(
      'SELECT position, subject, raw, error FROM $schema.dead_letters ORDER BY position',
    );
    expect(dead.map((d) => ({ ...d, position: Number(d.position) }))).toEqual(letters);

    // Exactly the acknowledged messages, each once, at its acknowledged position.
    const rows = await tables.query<{ message_id: string; position: string }>(
      'SELECT message_id, position FROM $schema.messages WHERE room_id = $1 ORDER BY position',
      [ROOM],
    );
    const byPosition = [...acked].sort((a, b) => a.position - b.position);
    expect(rows.map((r) => [r.message_id, Number(r.position)])).toEqual(byPosition.map((a) => [a.messageId, a.position]));

    // And the gateway's pages show them all, in stream order, the bad events nowhere.
    const pages = await wholeRoom(users[0].client, ROOM);
    expect(pages.map((m) => m.messageId)).toEqual(byPosition.map((a) => a.messageId));

    // Counted as dead letters once; the service stays ready.
    const metrics = await (await fetch(`${stack.urls.history}/metrics`)).text();
    expect(metrics).toMatch(/^history_projected_events_total\{outcome="dead_letter"\} 3$/m);
    expect((await fetch(`${stack.urls.history}/health/ready`)).status).toBe(200);
  });
});
