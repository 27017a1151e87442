import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import { lagRegistry } from './exporter';

jest.setTimeout(60_000);

/** The lag exporter reads the namespace's streams and durable consumers at each scrape. */
describe('admin exporter - stream and consumer lag as Prometheus metrics', () => {
  const ns = randomName('ex');
  const STREAM = `${ns.toUpperCase()}_CHAT`;
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: await testNatsUrl() });
  });
  afterAll(async () => {
    await deleteNamespace(ns, await testNatsUrl()).catch(() => undefined);
    await nc?.close();
  });

  it('serves messages, pending and ack floor as they are at the scrape, and nothing of other namespaces', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const registry = lagRegistry(jsm, ns);
    expect(await registry.metrics()).toMatch(/^chat_jetstream_up 1$/m);
    expect(await registry.metrics()).not.toMatch(/chat_jetstream_stream_messages\{/);

    await jsm.streams.add({ name: STREAM, subjects: [`${ns}.chat.>`] });
    for (let i = 0; i < 7; i++) await js.publish(`${ns}.chat.room.r.msg`, `m${i}`);
    await jsm.consumers.add(STREAM, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
    const worker = await js.consumers.get(STREAM, 'worker');
    for (let i = 0; i < 3; i++) (await worker.next())!.ack();
    await nc.flush();
    // A consumer acks asynchronously: the scrape after the server has them counts them.
    let text = '';
    for (let tries = 0; tries < 50 && !/chat_jetstream_consumer_ack_floor\{[^}]*\} 3$/m.test(text); tries++)
      text = await registry.metrics();
    const labels = `stream="${STREAM}",consumer="worker"`;
    expect(text).toContain(`chat_jetstream_stream_messages{stream="${STREAM}"} 7`);
    expect(text).toContain(`chat_jetstream_stream_last_seq{stream="${STREAM}"} 7`);
    expect(text).toContain(`chat_jetstream_consumer_pending{${labels}} 4`);
    expect(text).toContain(`chat_jetstream_consumer_ack_pending{${labels}} 0`);
    expect(text).toContain(`chat_jetstream_consumer_ack_floor{${labels}} 3`);
    expect(text).toMatch(/^chat_jetstream_up 1$/m);
  });
});
