import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { ChatError } from '@chat/contracts';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import { backup } from './backup';
import { restore } from './restore';

jest.setTimeout(60_000);

/**
 * Backup and restore against a real NATS server, on streams with holes: positions removed at the
 * start, in the middle and at the end of a stream (retention, deletes) and KV revisions replaced
 * by newer ones. Every message must come back at its own position with its subject, payload and
 * headers, and the next append must go on after the old last position.
 */
describe('admin backup/restore - every message at its original position', () => {
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const from = randomName('bk');
  const to = randomName('rs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-backup-int-'));
  const STREAM = `${from.toUpperCase()}_CHAT`;

  beforeAll(async () => {
    nc = await connect({ servers: await testNatsUrl() });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    for (const ns of [from, to]) await deleteNamespace(ns, await testNatsUrl()).catch(() => undefined);
    await nc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('restores a stream with holes and a KV bucket into a fresh namespace, consumers at their positions', async () => {
    await jsm.streams.add({ name: STREAM, subjects: [`${from}.chat.>`] });
    for (let i = 1; i <= 30; i++) {
      const h = headers();
      h.set('Nats-Msg-Id', `id-${i % 10}-${Math.floor(i / 10)}`);
      h.set('X-Kind', i % 2 ? 'odd' : 'even');
      await js.publish(`${from}.chat.room.r${i % 3}.msg`, new TextEncoder().encode(`{"n":${i},"text":"héllo ${i}"}`), { headers: h });
    }
    // Holes: 1-3 (a purge), 11 and 12 (deleted), 30 (the last one, deleted).
    await jsm.streams.purge(STREAM, { seq: 4 });
    for (const seq of [11, 12, 30]) await jsm.streams.deleteMessage(STREAM, seq);
    await jsm.consumers.add(STREAM, { durable_name: 'reader', ack_policy: AckPolicy.Explicit, filter_subject: `${from}.chat.>` });
    const reader = await js.consumers.get(STREAM, 'reader');
    for (let i = 0; i < 5; i++) (await reader.next())!.ack();
    await nc.flush();

    const kv = await new Kvm(nc).create(`${from}_reads`);
    for (let i = 0; i < 5; i++) await kv.put('u1.r1', new TextEncoder().encode(`${i}`));
    await kv.put('u2.r1', new TextEncoder().encode('x'));
    await kv.delete('u2.r1');
    await kv.put('u3.r1', new TextEncoder().encode('kept'));

    const manifest = await backup({ js, jsm }, from, dir);
    expect(manifest.streams.map((s) => s.name)).toEqual([`${from.toUpperCase()}_CHAT`, `KV_${from}_reads`]);
    expect(manifest.streams[0]).toEqual(
      expect.objectContaining({ messages: 24, state: expect.objectContaining({ firstSeq: 4, lastSeq: 30 }) }),
    );
    expect(manifest.streams[0].consumers).toEqual([expect.objectContaining({ ackFloor: 8 })]);

    await restore({ js, jsm }, to, dir);
    const TO = `${to.toUpperCase()}_CHAT`;
    const info = await jsm.streams.info(TO);
    expect(info.config.subjects).toEqual([`${to}.chat.>`]);
    expect(info.state).toEqual(expect.objectContaining({ messages: 24, first_seq: 4, last_seq: 30 }));
    for (let seq = 1; seq <= 30; seq++) {
      const original = seq >= 4 && ![11, 12, 30].includes(seq);
      const m = await jsm.streams.getMessage(TO, { seq }).catch(() => null);
      if (!original) {
        expect([seq, m]).toEqual([seq, null]);
        continue;
      }
      expect([seq, m?.subject, m?.string(), m?.header.get('X-Kind'), m?.header.get('Nats-Msg-Id')]).toEqual([
        seq,
        `${to}.chat.room.r${seq % 3}.msg`,
        `{"n":${seq},"text":"héllo ${seq}"}`,
        seq % 2 ? 'odd' : 'even',
        '',
      ]);
    }
    // The next append goes on after the old last position.
    expect((await js.publish(`${to}.chat.room.r1.msg`, 'next')).seq).toBe(31);
    // The consumer goes on after what it had acknowledged.
    const restored = await jsm.consumers.info(TO, 'reader');
    expect([restored.config.filter_subject, restored.num_pending]).toEqual([`${to}.chat.>`, 24 - 5 + 1]);
    expect((await (await js.consumers.get(TO, 'reader')).next())?.seq).toBe(9);

    // KV: the same values, deletions and revisions.
    const restoredKv = await new Kvm(nc).open(`${to}_reads`);
    const original = await new Kvm(nc).open(`${from}_reads`);
    for (const key of ['u1.r1', 'u2.r1', 'u3.r1']) {
      const [a, b] = await Promise.all([original.get(key), restoredKv.get(key)]);
      expect([key, b?.revision, b?.operation, b?.string()]).toEqual([key, a?.revision, a?.operation, a?.string()]);
    }
    expect((await jsm.streams.info(`KV_${to}_reads`)).state.messages).toBe((await jsm.streams.info(`KV_${from}_reads`)).state.messages);

    // Never into a namespace in use: refused before anything is written.
    const refusal = await restore({ js, jsm }, to, dir).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(ChatError);
    expect((refusal as ChatError).code).toBe('CONFLICT');
    expect((await jsm.streams.info(TO)).state.last_seq).toBe(31);
  });
});
