import { randomUUID } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects, makeEvent, type MessagePosted } from '@chat/contracts';
import { JetStreamAdapter, connectNats, decodeJson, streamSpecs } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { startRooms } from '../testing/rooms-fixture';
import { idempotencyKey } from './idempotency';

/**
 * The records are derived from the stream: messages appended straight to it, as a rooms replica
 * killed between its append and anything after it would leave them, get their records, and a
 * restarted consumer goes on where it stopped. Real NATS, a random namespace.
 */
describe('message-id recorder - records derived from the stream', () => {
  const namespace = randomName();
  const s = createSubjects(namespace);
  const sender = randomUUID();
  let nc: NatsConnection;
  let js: JetStreamAdapter;
  let rooms: RunningService | undefined;

  const start = async () => {
    rooms = await startRooms(namespace);
  };

  /** Appends a MessagePosted the way rooms does, and nothing else. */
  const appendMessage = async (clientMsgId: string) => {
    const messageId = randomUUID();
    const ctx = { now: () => new Date(), newId: () => messageId, actor: { kind: 'user' as const, id: sender }, correlationId: 'c' };
    const event = makeEvent<MessagePosted>(ctx, 'MessagePosted', 2, {
      replyTo: null,
      mentions: [],
      messageId,
      roomId: 'general',
      senderId: sender,
      senderName: 'ann',
      clientMsgId,
      body: clientMsgId,
    });
    const r = await js.append(s.chat.roomMessages('general'), event, { msgId: event.id });
    return { messageId, position: r.seq, time: event.time };
  };

  const record = async (clientMsgId: string) => {
    const kv = await new Kvm(nc).open(s.kv.messageIds);
    const r = await kv.get(idempotencyKey('general', sender, clientMsgId));
    return r?.value?.length ? decodeJson(r.value) : null;
  };

  beforeAll(async () => {
    nc = await connectNats({ servers: await testNatsUrl(), name: 'recorder-test' });
    js = new JetStreamAdapter(nc);
    await js.ensureStreams(streamSpecs(s));
  });

  afterAll(async () => {
    await rooms?.close();
    await nc?.drain();
    await deleteNamespace(namespace);
  });

  it('recorder - messages stored without records have them before rooms takes requests; the latest of a key wins', async () => {
    const m1 = await appendMessage('c1');
    const old = await appendMessage('same');
    const newer = await appendMessage('same'); // the key accepted again after its record expired
    await start();
    // No waiting: start-up returns only once everything stored before it is recorded.
    expect(await record('c1')).toEqual(m1);
    expect(await record('same')).toEqual(newer);
    expect(newer.position).toBeGreaterThan(old.position);
  });

  it('recorder - a message stored while rooms runs gets its record', async () => {
    const m = await appendMessage('live-1');
    expect(await eventually(() => record('live-1'))).toEqual(m);
  });

  it('recorder - a restarted consumer resumes from its ack floor: new messages recorded, old ones not written again', async () => {
    await rooms!.close();
    rooms = undefined;
    const kv = await new Kvm(nc).open(s.kv.messageIds);
    await kv.delete(idempotencyKey('general', sender, 'c1'));
    const m = await appendMessage('while-down');
    await start();
    expect(await record('while-down')).toEqual(m);
    // c1 was acked before the restart: not handed out again, so its deleted record stays deleted.
    expect(await record('c1')).toBeNull();
  });
});
