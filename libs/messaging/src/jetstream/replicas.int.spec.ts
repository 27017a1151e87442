import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects } from '@chat/contracts';
import {
  eventually,
  randomName,
  startPrivateNats,
  startPrivateNatsCluster,
  type PrivateNats,
  type PrivateNatsCluster,
} from '@chat/testing';
import { connectNats } from '../connection';
import { streamSpecs } from '../streams';
import { JetStreamAdapter } from './adapter';

jest.setTimeout(90_000);

/**
 * NATS_REPLICAS reaches every stream and KV bucket the adapter creates or opens, existing ones
 * included, on private servers (a three-node cluster, and a single server that cannot hold more
 * than one copy); the shared NATS is single-node and is not used here.
 */
describe('jetstream adapter - replica count (NATS_REPLICAS)', () => {
  let cluster: PrivateNatsCluster;
  let single: PrivateNats;
  const connections: NatsConnection[] = [];
  const connectTo = async (servers: string) => {
    const nc = await connectNats({ servers, name: 'replicas-test' });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    [cluster, single] = await Promise.all([startPrivateNatsCluster(), startPrivateNats()]);
  });
  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    await Promise.all([cluster?.cleanup(), single?.cleanup()]);
  });

  it('replicas - existing streams and KV buckets made with one copy get three, and keep working', async () => {
    const s = createSubjects(randomName());
    const nc = await connectTo(cluster.urls);
    const jsm = await jetstreamManager(nc);
    const one = new JetStreamAdapter(nc);
    await one.ensureStreams(streamSpecs(s));
    const kv = await one.kv(s.kv.sessions, { history: 1, ttl: 60_000 });
    await kv.put('k', new TextEncoder().encode('before'));
    expect((await jsm.streams.info(s.streams.chat.name)).config.num_replicas).toBe(1);

    const three = new JetStreamAdapter(nc, undefined, { replicas: 3 });
    await three.ensureStreams(streamSpecs(s));
    const kv3 = await three.kv(s.kv.sessions, { history: 1, ttl: 60_000 });
    for (const name of [...Object.values(s.streams).map((x) => x.name), `KV_${s.kv.sessions}`]) {
      expect([name, (await jsm.streams.info(name)).config.num_replicas]).toEqual([name, 3]);
      // The server copies the stream to its new peers in the background: a leader and two current followers.
      await eventually(async () => {
        const { cluster: c } = await jsm.streams.info(name);
        return c?.leader && c.replicas?.filter((r) => r.current && r.name !== c.leader).length === 2;
      }, 30_000);
    }
    // The data made it across, and the bucket still takes writes.
    expect(new TextDecoder().decode((await kv3.get('k'))?.value)).toBe('before');
    await kv3.put('k', new TextEncoder().encode('after'));
    expect(new TextDecoder().decode((await kv.get('k'))?.value)).toBe('after');
    // The TTL given is kept through the change.
    expect((await jsm.streams.info(`KV_${s.kv.sessions}`)).config.max_age).toBe(60_000 * 1_000_000);
  });

  it('replicas - more copies than a single server can hold fail start-up naming the setting, creating nothing', async () => {
    const s = createSubjects(randomName());
    const nc = await connectTo(single.url);
    await expect(new JetStreamAdapter(nc, undefined, { replicas: 3 }).ensureStreams(streamSpecs(s))).rejects.toThrow(
      /3 replicas \(NATS_REPLICAS\) need a JetStream cluster/,
    );
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.info(s.streams.chat.name)).rejects.toThrow(/stream not found/);
  });
});
