import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Pool } from 'pg';
import { directRoomId, makeEvent, type EventContext, type Subjects } from '@chat/contracts';
import type { JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { HistoryConfig } from '../config';
import { historyService } from '../service';
import { historyTestEnv } from '../testing/test-env';
import { RebuildRefused, progressLine, startRebuild, type Rebuild, type RebuildProgress } from './rebuild';

/**
 * Tables that are bookkeeping of one schema, not a projection of the stream: a rebuilt schema
 * may differ there. Every other table of the schema (whoever adds it) must come out the same.
 */
const BOOKKEEPING = new Set(['projection_checkpoints', 'typeorm_migrations', 'retention_runs']);

/**
 * Every projection table of a schema, each as its rows sorted, every column as text, leaving out
 * the columns that record when a row was written (those defaulting to the database clock, e.g.
 * dead_letters.created_at): found from information_schema, so tables added later are compared too.
 */
async function projectionOf(pool: Pool, schema: string): Promise<Record<string, string[][]>> {
  const { rows: columns } = await pool.query<{ table_name: string; column_name: string; column_default: string | null }>(
    `SELECT c.table_name, c.column_name, c.column_default
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.ordinal_position`,
    [schema],
  );
  const tables = new Map<string, string[]>();
  for (const c of columns) {
    if (BOOKKEEPING.has(c.table_name)) continue;
    const cols = tables.get(c.table_name) ?? [];
    tables.set(c.table_name, cols);
    if (!/now\(\)|current_timestamp/i.test(c.column_default ?? '')) cols.push(c.column_name);
  }
  const out: Record<string, string[][]> = {};
  for (const [table, cols] of [...tables].sort()) {
    const list = cols.map((c) => `"${c}"::text`).join(', ');
    const order = cols.map((_, i) => i + 1).join(', ');
    const { rows } = await pool.query({ text: `SELECT ${list} FROM "${schema}"."${table}" ORDER BY ${order}`, rowMode: 'array' });
    out[table] = [cols, ...(rows as string[][])];
  }
  return out;
}

describe('history rebuild - a schema replayed from the stream equals the live projection, and takes over from it', () => {
  const namespace = randomName();
  const live = randomName('hl');
  const rebuilt = randomName('hr');
  let env: Record<string, string>;
  let svc: RunningService;
  let next: RunningService | undefined;
  let pool: Pool;
  let s: Subjects;
  let js: JetStreamAdapter;
  let last = 0;

  const ctx = (userId: string): EventContext => ({
    now: () => new Date(),
    newId: randomUUID,
    actor: { kind: 'user', id: userId },
    correlationId: randomUUID(),
  });
  async function append(subject: string, type: string, version: number, payload: object, by = randomUUID()): Promise<number> {
    const ev = makeEvent(ctx(by), type, version, payload);
    const { seq } = await js.append(subject, ev, { msgId: ev.id });
    last = Math.max(last, seq);
    return seq;
  }
  const meta = (roomId: string, type: string, payload: object, version = 1) =>
    append(s.chat.roomMeta(roomId), type, version, { roomId, ...payload });
  const msg = (roomId: string, type: string, payload: object, version = 1) =>
    append(s.chat.roomMessages(roomId), type, version, { roomId, ...payload });
  const users = { owner: randomUUID(), ann: randomUUID(), bob: randomUUID(), cid: randomUUID() };
  const names: Record<string, string> = { [users.owner]: 'owner', [users.ann]: 'ann', [users.bob]: 'bob', [users.cid]: 'cid' };
  async function post(
    roomId: string,
    senderId: string,
    body: string,
    extra: { replyTo?: object; mentions?: object[]; messageId?: string } = {},
  ) {
    const messageId = extra.messageId ?? randomUUID();
    const position = await msg(
      roomId,
      'MessagePosted',
      {
        messageId,
        senderId,
        senderName: names[senderId],
        clientMsgId: randomUUID(),
        body,
        replyTo: extra.replyTo ?? null,
        mentions: extra.mentions ?? [],
      },
      2,
    );
    return { messageId, position, senderId, roomId, body };
  }
  const created = (roomId: string, visibility: 'public' | 'private', ownerId: string | null) =>
    meta(roomId, 'RoomCreated', {
      name: roomId,
      topic: '',
      visibility,
      postPolicy: 'members',
      memberLimit: 100,
      ownerId,
      ownerName: ownerId ? names[ownerId] : null,
    });
  const join = (roomId: string, userId: string) => meta(roomId, 'MemberJoined', { userId, username: names[userId], role: 'member' });

  /** Rooms, members, posts refused by the rules, replies, mentions, edits, deletions, reactions, conversations, bad events. */
  async function mixedWorkload(round: string): Promise<void> {
    const pub = `pub-${round}`;
    const priv = `priv-${round}`;
    const gone = `gone-${round}`;
    await created(pub, 'public', users.owner);
    await created(priv, 'private', users.owner);
    await created(gone, 'public', null);
    for (const u of [users.ann, users.bob]) await join(pub, u);
    await join(priv, users.ann);
    await join(gone, users.ann);
    const posts = [];
    for (let i = 0; i < 12; i++)
      posts.push(await post(i % 3 ? pub : priv, i % 2 ? users.ann : users.owner, `hello ${round} ${i} 你好世界`));
    const first = posts[1];
    const reply = await post(pub, users.bob, `@ann answering ${round}`, {
      replyTo: {
        messageId: first.messageId,
        position: first.position,
        senderId: first.senderId,
        senderName: names[first.senderId],
        excerpt: first.body,
      },
      mentions: [{ userId: users.ann, username: 'ann' }],
    });
    await post(pub, users.cid, 'not a member: not stored');
    await msg(pub, 'MessageEdited', { messageId: first.messageId, senderId: first.senderId, body: `edited ${round}`, mentions: [] });
    await msg(pub, 'MessageEdited', { messageId: reply.messageId, senderId: users.ann, body: 'not the author: ignored', mentions: [] });
    await msg(pub, 'MessageDeleted', { messageId: posts[2].messageId, byUserId: users.owner, byUsername: 'owner', reason: 'moderator' });
    for (const [u, emoji] of [
      [users.ann, '👍'],
      [users.bob, '👍'],
      [users.bob, '🎉'],
    ])
      await msg(pub, 'ReactionAdded', { messageId: reply.messageId, userId: u, username: names[u], emoji });
    await msg(pub, 'ReactionRemoved', { messageId: reply.messageId, userId: users.bob, username: 'bob', emoji: '🎉' });
    await meta(pub, 'MemberKicked', { userId: users.bob, username: 'bob', byUserId: users.owner, byUsername: 'owner', reason: 'spam' });
    await post(pub, users.bob, 'after the kick: not stored');
    await meta(pub, 'RoomRetentionSet', { days: 30, byUserId: users.owner, byUsername: 'owner' });
    await post(gone, users.ann, 'goes with its room');
    await meta(gone, 'RoomDeleted', { reason: 'empty', byUserId: users.ann, byUsername: 'ann' });
    // A conversation, a block, a post refused by it.
    const dm = directRoomId(users.ann, users.bob);
    const [a, b] = [users.ann, users.bob].sort();
    await meta(dm, 'ConversationOpened', {
      userAId: a,
      userAName: names[a],
      userBId: b,
      userBName: names[b],
      openedById: users.ann,
      reason: 'message',
    });
    await post(dm, users.ann, `private ${round}`);
    await meta(dm, 'UserBlocked', { blockerId: users.bob, blockedId: users.ann });
    await post(dm, users.ann, 'blocked: not stored');
    // Dead letters: not JSON, an unknown type, a second event with a stored message id.
    const raw = await jetstream(svc.nc).publish(s.chat.roomMessages(pub), new TextEncoder().encode(`<<${round}>>`), {
      msgID: randomUUID(),
    });
    last = Math.max(last, raw.seq);
    await msg(pub, 'MessageExploded', {});
    await post(pub, users.ann, 'same id, another event', { messageId: posts[4].messageId });
  }

  const checkpoint = async (schema: string) =>
    Number(
      (
        await pool.query(`SELECT max(position) AS p FROM "${schema}".projection_checkpoints WHERE name = $1`, [
          s.consumers.historyProjector,
        ])
      ).rows[0].p ?? 0,
    );
  const metric = async (service: RunningService, name: string) => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  beforeAll(async () => {
    pool = new Pool({ connectionString: await testDatabaseUrl(), max: 2 });
    env = await historyTestEnv(namespace, live);
    svc = await startService(historyService(loadConfig(HistoryConfig, env)));
    s = svc.deps.subjects;
    js = svc.deps.js;
  });
  afterAll(async () => {
    await next?.close();
    await svc?.close();
    await deleteNamespace(namespace);
    for (const schema of [live, rebuilt]) await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('rebuild - interrupted and resumed, it ends at the stream position of its start, with the live tables', async () => {
    await mixedWorkload('a');
    await eventually(async () => (await checkpoint(live)) >= last, 20_000);
    const target = last;
    const config = loadConfig(HistoryConfig, { ...env, DATABASE_SCHEMA: rebuilt });

    // Interrupted after its first batch (small batches here); the checkpoint stays.
    // Stopped from its first batch's progress: it ends once that batch is written.
    let first: Rebuild | null = null;
    let stopAsked = false;
    const onProgress = (p: RebuildProgress) => {
      if (p.events === 0 || stopAsked) return;
      stopAsked = true;
      void first?.stop();
    };
    first = await startRebuild({ config, batch: 10, onProgress });
    if (stopAsked) void first.stop();
    const stoppedAt = (await first.done).position;
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(target);
    expect(await checkpoint(rebuilt)).toBe(stoppedAt);

    // Run again: it resumes after the checkpoint and ends at the stream's last position.
    const progress: RebuildProgress[] = [];
    const second = await startRebuild({ config, batch: 4096, onProgress: (p) => progress.push(p) });
    const end = await second.done;
    expect(progress[0]).toMatchObject({ from: stoppedAt + 1, target, position: stoppedAt, events: 0 });
    const dead = await pool.query(`SELECT count(*)::int AS n FROM "${rebuilt}".dead_letters WHERE position > $1`, [stoppedAt]);
    expect(end).toMatchObject({ target, position: target, events: target - stoppedAt, deadLetters: dead.rows[0].n });
    expect(progressLine(end)).toMatch(/^\[#{30}\] 100\.0% .* events\/s .* left/);
    expect(await checkpoint(rebuilt)).toBe(target);

    const [a, b] = [await projectionOf(pool, live), await projectionOf(pool, rebuilt)];
    expect(Object.keys(a)).toEqual(expect.arrayContaining(['messages', 'dead_letters', 'dropped_messages', 'room_members', 'rooms']));
    expect(a.messages.length).toBeGreaterThan(10);
    expect(a.dead_letters.length).toBeGreaterThanOrEqual(4); // header + the 3 bad events (+ events not projected yet in this branch)
    expect(b).toEqual(a);
  });

  it('switch - instances started on the rebuilt schema go on from its checkpoint (no replay) while the old ones keep the old schema', async () => {
    const before = await checkpoint(rebuilt);
    await mixedWorkload('b'); // appended between the rebuild's end and the switch
    next = await startService(historyService(loadConfig(HistoryConfig, { ...env, DATABASE_SCHEMA: rebuilt })));
    await eventually(async () => (await checkpoint(rebuilt)) >= last && (await checkpoint(live)) >= last, 20_000);
    // Its own consumer, created at the checkpoint + 1: nothing at or below it came again.
    const jsm = await jetstreamManager(next.nc);
    const info = await jsm.consumers.info(s.streams.chat.name, s.consumers.historyProjectorOf(rebuilt));
    expect(info.config.opt_start_seq).toBe(before + 1);
    expect(await metric(next, 'history_replayed_events_total')).toBe(0);
    expect(await metric(next, 'history_projected_events_total')).toBe(last - before);
    // Both schemas are kept up to date, each by its own instances, and agree.
    await eventually(async () => (await js.ackFloor(s.streams.chat.name, s.consumers.historyProjectorOf(rebuilt))) === last);
    expect(await projectionOf(pool, rebuilt)).toEqual(await projectionOf(pool, live));

    // The new instance reads its writes (ProjectionProgress reads its schema's consumer).
    const fresh = await post('pub-b', users.ann, 'read on the rebuilt schema');
    const r = await next.deps.rpc.call('history.page', { roomId: 'pub-b', userId: users.ann, limit: 1 });
    expect(r.ok && r.data.messages.map((m) => m.messageId)).toEqual([fresh.messageId]);

    // A schema with a consumer is projected into by instances: no rebuild into it.
    await expect(startRebuild({ config: loadConfig(HistoryConfig, { ...env, DATABASE_SCHEMA: rebuilt }) })).rejects.toThrow(RebuildRefused);
  });
  it('upgrade - a schema other than chat, projected before by the shared history-projector consumer, goes on from its ack floor when lower', async () => {
    const upgraded = `${rebuilt}_u`;
    try {
      await startRebuild({ config: loadConfig(HistoryConfig, { ...env, DATABASE_SCHEMA: upgraded }) }).then((r) => r.done);
      expect(await checkpoint(upgraded)).toBe(last);
      // The shared consumer of before, with events above its ack floor not acked (out-of-order commits).
      const floor = last - 5;
      const jsm = await jetstreamManager(svc.nc);
      await jsm.consumers.add(s.streams.chat.name, {
        durable_name: s.consumers.historyProjector,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: floor + 1,
        filter_subject: s.chat.all,
      });
      const upgradedSvc = await startService(historyService(loadConfig(HistoryConfig, { ...env, DATABASE_SCHEMA: upgraded })));
      try {
        const info = await jsm.consumers.info(s.streams.chat.name, s.consumers.historyProjectorOf(upgraded));
        expect(info.config.opt_start_seq).toBe(floor + 1);
        await eventually(async () => (await metric(upgradedSvc, 'history_replayed_events_total')) === 5);
      } finally {
        await upgradedSvc.close();
        await jsm.consumers.delete(s.streams.chat.name, s.consumers.historyProjector);
      }
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${upgraded}" CASCADE`);
    }
  });
});
