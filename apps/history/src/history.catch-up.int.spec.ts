import { historyTestEnv } from './testing/test-env';
import { Pool } from 'pg';
import {
  makeEvent,
  type HistoryPage,
  type MemberJoined,
  type MemberLeft,
  type MessagePosted,
  type RoomCreated,
  type Subjects,
} from '@chat/contracts';
import type { JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { HistoryConfig } from './config';
import type { StreamEvent } from './store/events';
import { Projector } from './projection/projector';
import { historyService } from './service';

/**
 * Out-of-order commits and a stuck projector. Batches can commit out of order (replicas sharing
 * the consumer, a nak'd batch coming back after the next one, a crashed replica's batch
 * redelivered after the ack wait). Here the service's own consumer is paused and later events
 * are projected first through the projector's API, which leaves the checkpoint above events
 * that are not in the tables yet.
 */
describe('history service - newest page after out-of-order commits, readiness of a stuck projector', () => {
  const namespace = randomName();
  const schema = randomName('hc');
  let svc: RunningService;
  let pool: Pool;
  let s: Subjects;
  let js: JetStreamAdapter;
  let projector: Projector;

  const ctx = (userId: string) => ({
    now: () => new Date(),
    newId: randomUUID,
    actor: { kind: 'user' as const, id: userId },
    correlationId: randomUUID(),
  });
  /** Posts as `reader`: history stores posts by members only. */
  async function post(
    roomId: string,
    body: string,
    senderId = reader,
  ): Promise<{ messageId: string; position: number; event: StreamEvent }> {
    const ev = makeEvent<MessagePosted>(ctx(senderId), 'MessagePosted', 2, {
      replyTo: null,
      mentions: [],
      messageId: randomUUID(),
      roomId,
      senderId,
      senderName: 'ann',
      clientMsgId: `c-${body}`,
      body,
    });
    const subject = s.chat.roomMessages(roomId);
    const { seq } = await js.append(subject, ev, { msgId: ev.id });
    return { messageId: ev.payload.messageId, position: seq, event: { subject, position: seq, data: ev } };
  }
  /** Member of every room paged here: history authorises each read from its membership projection. */
  const reader = randomUUID();
  async function roomEvent(type: 'MemberJoined' | 'MemberLeft', roomId: string, userId = reader): Promise<StreamEvent> {
    const ev =
      type === 'MemberJoined'
        ? makeEvent<MemberJoined>(ctx(userId), type, 1, { roomId, userId, username: 'rd', role: 'member' })
        : makeEvent<MemberLeft>(ctx(userId), type, 2, { roomId, userId, username: 'rd', successorId: null, successorName: null });
    const subject = s.chat.roomMeta(roomId);
    const { seq } = await js.append(subject, ev, { msgId: ev.id });
    return { subject, position: seq, data: ev };
  }
  /** A public room with no owner, and `reader` in it. */
  async function openRoom(roomId: string): Promise<void> {
    const ev = makeEvent<RoomCreated>(ctx(reader), 'RoomCreated', 1, {
      roomId,
      name: roomId,
      topic: '',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 100,
      ownerId: null,
      ownerName: null,
    });
    await js.append(s.chat.roomMeta(roomId), ev, { msgId: ev.id });
    await roomEvent('MemberJoined', roomId);
  }
  const call = (roomId: string, userId = reader) => svc.deps.rpc.call('history.page', { roomId, userId });
  const page = async (roomId: string): Promise<HistoryPage> => {
    const r = await call(roomId);
    if (!r.ok) throw new Error(`history.page failed: ${JSON.stringify(r.error)}`);
    return r.data;
  };
  const ids = (p: HistoryPage) => p.messages.map((m) => m.messageId);
  const checkpoint = async () =>
    Number((await pool.query(`SELECT position FROM "${schema}".projection_checkpoints`)).rows[0]?.position ?? 0);
  const ready = async () => {
    const res = await fetch(`${svc.url}/health/ready`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, boolean> } };
  };

  beforeAll(async () => {
    const url = await testDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 2 });
    const env = await historyTestEnv(namespace, schema, { PROJECTION_ACK_WAIT_MS: '1000', PROJECTION_MAX_BATCH_MS: '1000' });
    svc = await startService(historyService(loadConfig(HistoryConfig, env)));
    s = svc.deps.subjects;
    js = svc.deps.js;
    projector = svc.app.get(Projector);
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('a later batch committed first: the newest page waits for the rest of the room, or answers UNAVAILABLE', async () => {
    for (const room of ['warmup', 'lost', 'gap', 'other', 'quiet']) await openRoom(room);
    const warmup = await post('warmup', 'w');
    await eventually(async () => (await checkpoint()) >= warmup.position);
    await projector.onModuleDestroy(); // the consumer stops fetching: nothing below is projected by it

    const lost = await post('lost', 'the last message of the room, in a batch still on its way');
    const early = await post('gap', 'an earlier message, in a batch still on its way');
    const late = await post('gap', 'a later message, committed first');
    const other = await post('other', 'another room, committed first');
    const quiet = await post('quiet', 'committed first');
    // Another user's room event, not projected yet, holds up neither the reader's authorisation
    // nor the newest page (it is on the room's …meta subject, not its message subject).
    await roomEvent('MemberJoined', 'quiet', randomUUID());
    await projector.applyBatch([late.event, other.event, quiet.event]);
    expect(await checkpoint()).toBeGreaterThan(lost.position); // a high-water mark, past events not in the tables

    // Rooms whose events are all in: answered at once, whatever else is missing.
    expect(ids(await page('other'))).toEqual([other.messageId]);
    expect(ids(await page('quiet'))).toEqual([quiet.messageId]);
    // The room's last message is missing / an earlier message of the room is missing: after the
    // bounded wait the reply is UNAVAILABLE, not a page without them.
    for (const room of ['lost', 'gap']) {
      const r = await call(room);
      expect(!r.ok && r.error.code).toBe('UNAVAILABLE');
    }

    // Once the missing events land while a read waits, the read includes them.
    const gap = page('gap');
    await projector.applyBatch([early.event]);
    expect(ids(await gap)).toEqual([late.messageId, early.messageId]);
    const lostPage = page('lost');
    await projector.applyBatch([lost.event]);
    expect(ids(await lostPage)).toEqual([lost.messageId]);

    // The consumer resumes and delivers all of it again: a replay, and the ack floor passes it.
    await projector.onApplicationBootstrap();
    await eventually(async () => (await ready()).status === 200);
    expect(ids(await page('gap'))).toEqual([late.messageId, early.messageId]);
  });

  it('authorisation reads its writes: a join or leave not projected yet is waited for, never decided on the older state', async () => {
    const user = randomUUID();
    await openRoom('club');
    const msg = await post('club', 'hello');
    await eventually(async () => (await checkpoint()) >= msg.position);
    await projector.onModuleDestroy();

    // Joined (acknowledged = on the stream), not projected: the read waits and is then allowed.
    const join = await roomEvent('MemberJoined', 'club', user);
    const reading = call('club', user);
    await new Promise((r) => setTimeout(r, 100));
    await projector.applyBatch([join]);
    const allowed = await reading;
    expect(allowed.ok && ids(allowed.data)).toEqual([msg.messageId]);

    // Left, not projected: the read waits and is then refused.
    const left = await roomEvent('MemberLeft', 'club', user);
    const refusing = call('club', user);
    await new Promise((r) => setTimeout(r, 100));
    await projector.applyBatch([left]);
    const refused = await refusing;
    expect(!refused.ok && refused.error.code).toBe('FORBIDDEN');

    // Joined again, never projected within the wait: UNAVAILABLE (retry), not a stale FORBIDDEN.
    const again = await roomEvent('MemberJoined', 'club', user);
    const behind = await call('club', user);
    expect(!behind.ok && behind.error.code).toBe('UNAVAILABLE');
    // Others in the room are not held up by it.
    expect(ids(await page('club'))).toEqual([msg.messageId]);
    await projector.applyBatch([again]);
    expect((await call('club', user)).ok).toBe(true);

    await projector.onApplicationBootstrap();
    await eventually(async () => (await ready()).status === 200);
  });

  it('readiness - a batch stuck in the handler past the ack wait makes the service not ready until it finishes', async () => {
    await openRoom('stuck');
    const first = await post('stuck', 'first');
    await eventually(async () => (await checkpoint()) >= first.position);
    expect((await ready()).status).toBe(200);

    // Another session holds the checkpoint row: the next batch waits for it inside the handler.
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".projection_checkpoints FOR UPDATE`);
      const next = await post('stuck', 'second');
      const stuck = await eventually(async () => {
        const r = await ready();
        return r.status === 503 ? r.body : null;
      });
      expect(stuck.checks).toEqual({ nats: true, database: true, projector: false });
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(Number(/^history_projection_batch_running_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(1);
      await holder.query('ROLLBACK');
      await eventually(async () => (await checkpoint()) >= next.position);
      await eventually(async () => (await ready()).status === 200);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
  });
});
