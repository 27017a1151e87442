import { createSubjects } from '@chat/contracts';
import { eventually, startPrivateNatsCluster, type PrivateNatsCluster, type PrivateNatsServer } from '@chat/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startTestStack, type TestStack } from '../e2e/fixture';
import {
  allReady,
  connectMembers,
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
const MEMBERS = 3;
/** Acknowledged sends before the kill, and again after it, before the traffic stops. */
const ACKS_EACH_SIDE = 100;

/** Every stream and KV bucket of the namespace: name -> [configured replicas, peers the leader sees as current]. */
async function replication(urls: string, namespace: string): Promise<Record<string, [number, number]>> {
  const s = createSubjects(namespace);
  const nc = await connect({ servers: urls.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    const out: Record<string, [number, number]> = {};
    for await (const info of jsm.streams.list())
      if (info.config.name.startsWith(`${s.namespace.toUpperCase()}_`) || info.config.name.startsWith(`KV_${s.namespace}_`))
        out[info.config.name] = [info.config.num_replicas, (info.cluster?.replicas ?? []).filter((r) => r.current).length];
    return out;
  } finally {
    await nc.close();
  }
}

/** The cluster node that a service's NATS connection (by its connection name) is on. */
async function serverOfConnection(cluster: PrivateNatsCluster, connectionName: string): Promise<PrivateNatsServer> {
  for (const node of cluster.nodes) {
    const connz = (await (await fetch(`${node.monitorUrl}/connz?limit=1024`)).json()) as { connections?: Array<{ name?: string }> };
    if (connz.connections?.some((c) => c.name === connectionName)) return node;
  }
  throw new Error(`no node has a connection named ${connectionName}`);
}

/** true once `stream`'s leader is `server`; otherwise asks the leader to step down (another is elected) and returns false. */
async function moveStreamLeader(urls: string, stream: string, server: string): Promise<boolean> {
  const nc = await connect({ servers: urls.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    const leader = (await jsm.streams.info(stream)).cluster?.leader;
    if (leader === server) return true;
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5000 });
    return false;
  } finally {
    await nc.close();
  }
}

/**
 * "A three-node NATS cluster on loopback": three private nats-server processes routed to each
 * other, every stream and KV bucket with three replicas (NATS_REPLICAS=3), the stack connected to
 * all three URLs. The node the gateway is connected to, made the CHAT stream's leader, is SIGKILLed while every member sends: the
 * other two elect a new leader, services on the dead node move to the others, and nothing that
 * was acknowledged is lost.
 */
describe('NATS cluster - a node killed during traffic loses no acknowledged message', () => {
  let cluster: PrivateNatsCluster;
  let stack: TestStack;
  let members: Member[] = [];
  let passed = false;

  beforeAll(async () => {
    cluster = await startPrivateNatsCluster();
    stack = await startTestStack({ natsUrl: cluster.urls, env: { NATS_REPLICAS: '3', RPC_TIMEOUT_MS: '2000' } });
    members = await connectMembers(stack, ROOM, MEMBERS);
  });

  afterAll(async () => {
    await Promise.all(members.map((m) => m.client.close().catch(() => undefined)));
    await stack?.teardown();
    await cluster?.cleanup();
  });

  afterEach(() => printLogsUnlessPassed(passed, stack, cluster?.nodes ?? []));

  it('streams and KV buckets have three replicas; after the CHAT leader is killed every acknowledged message is stored once, delivered and in history', async () => {
    const before = await replication(cluster.urls, stack.namespace);
    const names = Object.keys(before);
    expect(names).toEqual(expect.arrayContaining([createSubjects(stack.namespace).streams.chat.name, `KV_${stack.namespace}_sessions`]));
    // Every one has three copies, and the leader sees both others as current.
    for (const name of names) expect([name, ...before[name]]).toEqual([name, 3, 2]);

    const traffic = sendContinuously(members, ROOM);
    await eventually(() => traffic.acks.size >= ACKS_EACH_SIDE, 60_000);

    // The victim: the server the gateway is connected to, made the CHAT stream's leader too (a
    // leader step-down elects another at random; asked again until it is the one). So the kill
    // takes away both the leader that acknowledged the latest appends and the gateway's live
    // feed, the harder case for both.
    const victim = await serverOfConnection(cluster, 'gateway');
    await eventually(
      async () => (await moveStreamLeader(cluster.urls, createSubjects(stack.namespace).streams.chat.name, victim.name)) || null,
      60_000,
      500,
    );
    await victim.stop('SIGKILL');
    const acksAtKill = traffic.acks.size;

    await eventually(() => traffic.acks.size >= acksAtKill + ACKS_EACH_SIDE, 90_000);
    await traffic.stop();
    await allReady(stack);

    const survivors = cluster.nodes.filter((n) => n.running).map((n) => n.url);
    expect(survivors).toHaveLength(2);
    const posts = await storedPosts(survivors.join(','), stack.namespace, ROOM);
    expect(notStoredOnce(traffic.acks, posts)).toEqual({});
    expect(await deliveryProblems(members, ROOM, traffic.acks)).toEqual({});
    const stored = posts.map((p) => p.messageId);
    await eventually(async () => (await historyOf(members[1].client, ROOM)).length >= stored.length, 60_000);
    expect((await historyOf(members[1].client, ROOM)).map((m) => m.messageId)).toEqual(stored);
    passed = true;
  });
});
