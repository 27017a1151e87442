import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects } from '@chat/contracts';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { decodeJson, encodeJson } from '../codec';
import { connectNats } from '../connection';
import { streamSpecs } from '../streams';
import { JetStreamAdapter } from './adapter';
import { AppendOutcomeUnknown, AppendRefused } from './append';
import type { Delivered } from './common';

describe('jetstream adapter', () => {
  let nc: NatsConnection;
  let js: JetStreamAdapter;
  // The test's own look at the server, beside the adapter under test.
  let jsm: JetStreamManager;
  let url: string;
  const s = createSubjects(randomName());

  beforeAll(async () => {
    url = await testNatsUrl();
    nc = await connectNats({ servers: url, name: 'test' });
    js = new JetStreamAdapter(nc);
    jsm = await jetstreamManager(nc);
    await js.ensureStreams(streamSpecs(s));
  });
  afterAll(async () => {
    await nc.drain();
    await deleteNamespace(s.namespace);
  });

  it('ensureStreams - is idempotent and keeps the declared config', async () => {
    await js.ensureStreams(streamSpecs(s));
    const info = await jsm.streams.info(s.streams.presence.name);
    expect(info.config.max_msgs_per_subject).toBe(1);
    expect(info.config.republish?.dest).toBe(`${s.namespace}.live.presence.>`);
  });

  it('ensureStreams - replicas starting at the same moment all succeed on a fresh namespace', async () => {
    const fresh = createSubjects(randomName());
    const conns = await Promise.all([0, 1, 2, 3].map(() => connectNats({ servers: url, name: 'race' })));
    try {
      const results = await Promise.allSettled(conns.map((c) => new JetStreamAdapter(c).ensureStreams(streamSpecs(fresh))));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const names = await Promise.all(streamSpecs(fresh).map(async (spec) => (await jsm.streams.info(spec.name)).config.name));
      expect(names).toEqual(streamSpecs(fresh).map((spec) => spec.name));
    } finally {
      await Promise.all(conns.map((c) => c.drain()));
      await deleteNamespace(fresh.namespace);
    }
  });

  it('append - de-duplicates by msgId and reports the original sequence', async () => {
    const subj = s.chat.roomMessages('dedupe');
    const a = await js.append(subj, { n: 1 }, { msgId: 'm-1' });
    const b = await js.append(subj, { n: 1 }, { msgId: 'm-1' });
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ seq: a.seq, duplicate: true });
  });

  it('lastSeq - the stream sequence of the last message, whatever its subject', async () => {
    await js.append(s.chat.roomMessages('seq-a'), { n: 1 }, { msgId: 'seq-1' });
    const last = await js.append(s.chat.roomMeta('seq-b'), { n: 2 }, { msgId: 'seq-2' });
    expect(await js.lastSeq(s.streams.chat.name)).toBe(last.seq);
  });

  it('append - enforces the expected last subject sequence: a wrong one is refused, not unknown', async () => {
    const subj = s.chat.roomMeta('occ');
    const first = await js.append(subj, { n: 1 }, { msgId: 'occ-1', expectLastSubjectSequence: 0 });
    const refused = await js.append(subj, { n: 2 }, { msgId: 'occ-2', expectLastSubjectSequence: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppendRefused);
    expect(refused).toMatchObject({ outcome: 'refused', reason: 'wrong-last-sequence', subject: subj, code: 10071 });
    const second = await js.append(subj, { n: 2 }, { msgId: 'occ-3', expectLastSubjectSequence: first.seq });
    expect(second.seq).toBeGreaterThan(first.seq);
  });

  it('append - any other refusal by the stream is refused with its code', async () => {
    // The stream's limit, not the client's (1 MB by default): the server answers with an error.
    const subj = s.chat.roomMessages('too-big');
    const big = 'x'.repeat(2048);
    const config = { ...(await jsm.streams.info(s.streams.chat.name)).config };
    await jsm.streams.update(s.streams.chat.name, { ...config, max_msg_size: 1024 });
    try {
      const refused = await js.append(subj, { big }, { msgId: 'big-1' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AppendRefused);
      expect(refused).toMatchObject({ outcome: 'refused', reason: 'rejected', subject: subj });
    } finally {
      await jsm.streams.update(s.streams.chat.name, config);
    }
  });

  it('append - no answer (the connection is closed) is outcome unknown', async () => {
    const closed = await connectNats({ servers: url, name: 'closed' });
    const adapter = new JetStreamAdapter(closed);
    await closed.close();
    const unknown = await adapter.append(s.chat.roomMessages('closed'), { n: 1 }, { msgId: 'closed-1' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AppendOutcomeUnknown);
    expect(unknown).toMatchObject({ outcome: 'unknown', subject: s.chat.roomMessages('closed') });
  });

  it('republish - a stored message reaches live subscribers with its sequence', async () => {
    const sub = nc.subscribe(s.live.roomAll('live1'), { max: 1 });
    const got = (async () => {
      for await (const m of sub) return { seq: Number(m.headers?.get('Nats-Sequence')), data: decodeJson(m.data), subject: m.subject };
    })();
    await nc.flush();
    const r = await js.append(s.chat.roomMessages('live1'), { hello: 'world' }, { msgId: 'live-1' });
    expect(await got).toEqual({ seq: r.seq, data: { hello: 'world' }, subject: `${s.namespace}.live.chat.room.live1.msg` });
  });

  it('consumeDurable - delivers in batches, redelivers after a failure, re-creates a deleted consumer', async () => {
    const seen: Delivered[] = [];
    let failOnce = true;
    const subj = s.chat.roomMessages('durable');
    const c = await js.consumeDurable({ stream: s.streams.chat.name, durable: 'd1', filterSubject: subj, batch: 10 }, async (batch) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('boom');
      }
      seen.push(...batch);
    });
    for (let i = 0; i < 5; i++) await js.append(subj, { i }, { msgId: `d-${i}` });
    await eventually(() => seen.length >= 5);
    // A failed batch is nak'd with a delay, so its messages may come back after later ones
    // (handlers tolerate that, see durable-consumer.ts): every message arrives, each once.
    expect(seen.map((d) => (d.data as { i: number }).i).sort()).toEqual([0, 1, 2, 3, 4]);

    await jsm.consumers.delete(s.streams.chat.name, 'd1');
    await js.append(subj, { i: 5 }, { msgId: 'd-5' });
    await eventually(() => seen.some((d) => (d.data as { i: number }).i === 5), 15_000);
    await c.stop();
  });

  it('consumeDurable - a batch waits up to lingerMs after its first message for more', async () => {
    const batches: number[][] = [];
    const subj = s.chat.roomMessages('linger');
    const c = await js.consumeDurable(
      { stream: s.streams.chat.name, durable: 'linger', filterSubject: subj, batch: 50, lingerMs: 500 },
      async (batch) => {
        batches.push(batch.map((d) => (d.data as { i: number }).i));
      },
    );
    try {
      // Five appends one after the other (each waits for its ack, so they reach the consumer
      // separately), all well inside the linger: one batch, not five.
      for (let i = 0; i < 5; i++) {
        await js.append(subj, { i }, { msgId: `l-${i}` });
        await new Promise((r) => setTimeout(r, 20));
      }
      await eventually(() => batches.flat().length >= 5);
      expect(batches).toEqual([[0, 1, 2, 3, 4]]);
    } finally {
      await c.stop();
    }
  });

  it('consumeDurable - a handler slower than the pull does not break the consumer or make it unhealthy', async () => {
    const logs: string[] = [];
    const slowJs = new JetStreamAdapter(nc, (_level, msg) => logs.push(msg));
    const subj = s.chat.roomMessages('slow');
    const seen: number[] = [];
    let first = true;
    const c = await slowJs.consumeDurable(
      { stream: s.streams.chat.name, durable: 'slow', filterSubject: subj, batch: 10 },
      async (batch) => {
        if (first) {
          first = false;
          // The scenario itself is a slow handler (a slow database): it must outlast the 1 s pull
          // and two of its 500 ms idle heartbeats, so this is a duration, not a wait on a condition.
          await new Promise((r) => setTimeout(r, 2500));
        }
        seen.push(...batch.map((d) => (d.data as { i: number }).i));
      },
    );
    let unhealthy = 0;
    const probe = setInterval(() => (unhealthy += c.healthy() ? 0 : 1), 50);
    try {
      await slowJs.append(subj, { i: 0 }, { msgId: 'slow-0' });
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 1; i < 4; i++) await slowJs.append(subj, { i }, { msgId: `slow-${i}` });
      await eventually(() => seen.length >= 4, 15_000);
      expect(seen).toEqual([0, 1, 2, 3]);
      expect(unhealthy).toBe(0);
      expect(logs.filter((l) => l.includes('consumer lost'))).toEqual([]);
    } finally {
      clearInterval(probe);
      await c.stop();
    }
  });

  it("consumeDurable - a failed batch is redelivered after the backoff, not nak'd round and round within the pull", async () => {
    const subj = s.chat.roomMessages('storm');
    let failOnce = true;
    const seen: number[] = [];
    const c = await js.consumeDurable({ stream: s.streams.chat.name, durable: 'storm', filterSubject: subj, batch: 256 }, async (batch) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('boom');
      }
      seen.push(...batch.map((d) => (d.data as { i: number }).i));
    });
    try {
      await Promise.all([1, 2, 3].map((i) => js.append(subj, { i }, { msgId: `storm-${i}` })));
      await eventually(() => seen.length >= 3, 15_000);
      expect([...seen].sort()).toEqual([1, 2, 3]);
      const info = await jsm.consumers.info(s.streams.chat.name, 'storm');
      // Three messages, delivered once and redelivered once each (a few more at most), not hundreds.
      expect(info.delivered.consumer_seq).toBeLessThanOrEqual(9);
    } finally {
      await c.stop();
    }
  });

  it('ackFloor - follows what the durable consumer acked; null for a consumer that does not exist', async () => {
    const subj = s.chat.roomMessages('floor');
    const c = await js.consumeDurable({ stream: s.streams.chat.name, durable: 'floor', filterSubject: subj }, async () => undefined);
    try {
      expect(await js.ackFloor(s.streams.chat.name, 'no-such-consumer')).toBeNull();
      const r = await js.append(subj, { i: 0 }, { msgId: 'floor-0' });
      // Acks are sent without waiting for the server: poll until it has them.
      await eventually(async () => (await js.ackFloor(s.streams.chat.name, 'floor')) === r.seq);
    } finally {
      await c.stop();
    }
  });

  it('follow - replays from the start, reports caught-up, then keeps following', async () => {
    const subj = s.chat.roomMeta('follow');
    await js.append(subj, { i: 0 }, { msgId: 'f-0' });
    await js.append(subj, { i: 1 }, { msgId: 'f-1' });
    const seen: number[] = [];
    const f = await js.follow(s.streams.chat.name, s.chat.roomMeta('follow'), (m) => seen.push((m.data as { i: number }).i));
    await f.caughtUp;
    expect(seen).toEqual([0, 1]);
    await js.append(subj, { i: 2 }, { msgId: 'f-2' });
    await eventually(() => seen.length === 3);
    await f.stop();
  });

  it('kv - a ttl applies to an existing bucket too, and its records then expire', async () => {
    const bucket = `${s.namespace}_ttl`; // not one of the namespace's buckets: deleted below
    const before = await js.kv(bucket, { history: 1 });
    try {
      await before.put('old', encodeJson({ n: 1 }));
      expect((await jsm.streams.info(`KV_${bucket}`)).config.max_age).toBe(0);

      const after = await js.kv(bucket, { history: 1, ttl: 1000 });
      expect((await jsm.streams.info(`KV_${bucket}`)).config.max_age).toBe(1_000_000_000);
      expect(await after.get('old')).not.toBeNull();
      await eventually(async () => (await after.get('old')) === null, 10_000);
      // Opening it again with the same ttl changes nothing.
      const { config } = await jsm.streams.info(`KV_${bucket}`);
      await js.kv(bucket, { history: 1, ttl: 1000 });
      expect((await jsm.streams.info(`KV_${bucket}`)).config).toEqual(config);
    } finally {
      await jsm.streams.delete(`KV_${bucket}`);
    }
  });

  it('kv - create is atomic: a second create of the same key fails', async () => {
    const kv = await js.kv(s.kv.accounts);
    await kv.create('k1', new TextEncoder().encode('a'));
    await expect(kv.create('k1', new TextEncoder().encode('b'))).rejects.toThrow();
  });

  it('consumeDurable - a batch handled for longer than the ack wait is kept with in-progress acks, not redelivered', async () => {
    const subj = s.chat.roomMessages('working');
    const deliveries: number[] = [];
    let busySeen: number | null = null;
    const c = await js.consumeDurable(
      { stream: s.streams.chat.name, durable: 'working', filterSubject: subj, batch: 10, ackWaitMs: 1000 },
      async (batch) => {
        deliveries.push(...batch.map((d) => d.seq));
        await new Promise((r) => setTimeout(r, 3500)); // 3.5 ack waits
        busySeen = c.busyMs();
      },
    );
    await js.append(subj, { n: 1 }, { msgId: 'working-1' });
    await eventually(
      async () => busySeen !== null && (await jsm.consumers.info(s.streams.chat.name, 'working')).num_ack_pending === 0,
      10_000,
    );
    expect(deliveries).toHaveLength(1);
    expect(busySeen).toBeGreaterThanOrEqual(3000);
    expect(c.busyMs()).toBeNull();
    const info = await jsm.consumers.info(s.streams.chat.name, 'working');
    expect([info.num_redelivered, info.num_ack_pending]).toEqual([0, 0]);
    await c.stop();
  });

  it('consumeDurable - past maxWorkingMs the in-progress acks stop and another replica gets the batch', async () => {
    const subj = s.chat.roomMessages('stuck');
    const spec = { stream: s.streams.chat.name, durable: 'stuck', filterSubject: subj, batch: 10, ackWaitMs: 1000, maxWorkingMs: 1000 };
    const stuck: boolean[] = [];
    const c = await js.consumeDurable(spec, async (batch) => {
      stuck.push(...batch.map((d) => d.redelivered));
      if (stuck.length === 1) await new Promise((r) => setTimeout(r, 6000));
    });
    await js.append(subj, { n: 1 }, { msgId: 'stuck-1' });
    await eventually(() => (c.busyMs() ?? 0) > 0, 5000);
    const other: boolean[] = [];
    const replica = await js.consumeDurable(spec, async (batch) => void other.push(...batch.map((d) => d.redelivered)));
    await eventually(() => other.length > 0, 10_000);
    expect(other).toEqual([true]);
    expect(c.busyMs()).toBeGreaterThan(1000); // the first replica is still in its handler
    await Promise.all([c.stop(), replica.stop()]);
  });

  it('consumeDurable - startSeq: a consumer created for the first time starts there; an existing one keeps its place', async () => {
    const subj = s.chat.roomMessages('start');
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await js.append(subj, { i }, { msgId: `start-${i}` })).seq);
    const seen: number[] = [];
    const spec = { stream: s.streams.chat.name, durable: 'start', filterSubject: subj, startSeq: async () => seqs[3] };
    let c = await js.consumeDurable(spec, async (batch) => void seen.push(...batch.map((d) => d.seq)));
    // Before anything is acked (the server says 0), what lies before the start counts as done.
    expect(await js.ackFloor(s.streams.chat.name, 'start')).toBeGreaterThanOrEqual(seqs[2]);
    await eventually(() => seen.length >= 2);
    expect(seen).toEqual([seqs[3], seqs[4]]);
    // The ack floor is what ProjectionProgress reads: everything before the start counts as done.
    await eventually(async () => (await js.ackFloor(s.streams.chat.name, 'start')) === seqs[4]);
    await c.stop();
    const later = (await js.append(subj, { i: 5 }, { msgId: 'start-5' })).seq;
    c = await js.consumeDurable({ ...spec, startSeq: async () => 1 }, async (batch) => void seen.push(...batch.map((d) => d.seq)));
    await eventually(() => seen.length >= 3);
    expect(seen).toEqual([seqs[3], seqs[4], later]);
    await c.stop();
  });

  it('replay - hands the stream over in order in batches from a sequence up to a last one, then ends', async () => {
    const subj = s.chat.roomMessages('replay');
    const seqs: number[] = [];
    for (let i = 0; i < 25; i++) seqs.push((await js.append(subj, { i }, { msgId: `replay-${i}` })).seq);
    const batches: number[][] = [];
    const r = await js.replay(
      { stream: s.streams.chat.name, filterSubject: subj, fromSeq: seqs[2], untilSeq: seqs[21], batch: 8 },
      async (b) => {
        batches.push(b.map((d) => (d.data as { i: number }).i));
      },
    );
    await r.done;
    expect(batches.flat()).toEqual(Array.from({ length: 20 }, (_, k) => k + 2));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(8);

    // Following: new messages keep coming until stop.
    const seen: number[] = [];
    const f = await js.replay({ stream: s.streams.chat.name, filterSubject: subj, fromSeq: seqs[24], pullMs: 1000 }, async (b) => {
      seen.push(...b.map((d) => (d.data as { i: number }).i));
    });
    await eventually(() => seen.length === 1);
    await js.append(subj, { i: 25 }, { msgId: 'replay-25' });
    await eventually(() => seen.length === 2);
    await f.stop();
    expect(seen).toEqual([24, 25]);
  });
});
