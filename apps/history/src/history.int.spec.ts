import { historyTestEnv } from './testing/test-env';
import { jetstream } from '@nats-io/jetstream';
import { Pool } from 'pg';
import {
  makeEvent,
  type Event,
  type EventContext,
  type HistoryPage,
  type MessagePosted,
  type MessageView,
  type MemberJoined,
  type MemberLeftV1Payload,
  type RoomCreated,
  type Subjects,
} from '@chat/contracts';
import { renderMessageHtml } from '@chat/format';
import type { JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { HistoryConfig } from './config';
import { migrations } from './db/migrations';
import { Projector } from './projection/projector';
import type { StreamEvent } from './store/events';
import { HistoryStore } from './store/history.store';
import { historyService } from './service';
import { metric } from './testing/history-fixture';

const ROOM = 'lobby';
const OTHER = 'side';

describe('history service - projection and paging over NATS and Postgres', () => {
  const namespace = randomName();
  const schema = randomName('h');
  let env: Record<string, string>;
  let svc: RunningService;
  let pool: Pool;
  let s: Subjects;
  let js: JetStreamAdapter;
  /** Every event appended by this file, with its position. */
  const appended: StreamEvent[] = [];

  const start = async () => startService(historyService(loadConfig(HistoryConfig, env)));
  const ctx = (userId: string): EventContext => ({
    now: () => new Date(),
    newId: randomUUID,
    actor: { kind: 'user', id: userId },
    correlationId: randomUUID(),
  });

  async function append(subject: string, event: { id: string }): Promise<number> {
    const { seq } = await js.append(subject, event, { msgId: event.id });
    appended.push({ subject, position: seq, data: event });
    return seq;
  }
  /** Posts as `reader`, a member of every room posted to here (history stores only members' posts). */
  async function post(roomId: string, body: string, senderId = reader): Promise<{ event: MessagePosted; position: number }> {
    const event = makeEvent<MessagePosted>(ctx(senderId), 'MessagePosted', 2, {
      replyTo: null,
      mentions: [],
      messageId: randomUUID(),
      roomId,
      senderId,
      senderName: `user-${body}`,
      clientMsgId: `c-${body}`,
      body,
    });
    return { event, position: await append(s.chat.roomMessages(roomId), event) };
  }
  /** A member of every room this file pages (history authorises every read). */
  const reader = randomUUID();
  async function join(roomId: string, userId = reader): Promise<number> {
    const ev = makeEvent<MemberJoined>(ctx(userId), 'MemberJoined', 1, { roomId, userId, username: 'reader', role: 'member' });
    return append(s.chat.roomMeta(roomId), ev);
  }
  /** A leave in the old shape (MemberLeft v1, no successor), as stored before v2: read through the upcaster. */
  async function leave(roomId: string, userId: string): Promise<number> {
    const ev = makeEvent<Event<'MemberLeft', MemberLeftV1Payload>>(ctx(userId), 'MemberLeft', 1, { roomId, userId, username: 'reader' });
    return append(s.chat.roomMeta(roomId), ev);
  }
  async function create(roomId: string, visibility: 'public' | 'private', ownerId: string | null): Promise<number> {
    const ev = makeEvent<RoomCreated>(ctx(ownerId ?? randomUUID()), 'RoomCreated', 2, {
      roomId,
      name: roomId,
      topic: '',
      visibility,
      postPolicy: 'members',
      memberLimit: 1000,
      slowModeSeconds: 0,
      ownerId,
      ownerName: ownerId ? 'owner' : null,
    });
    return append(s.chat.roomMeta(roomId), ev);
  }
  /** A public room with no owner, and `reader` in it. */
  async function open(roomId: string): Promise<void> {
    await create(roomId, 'public', null);
    await join(roomId);
  }
  const page = async (req: { roomId: string; before?: number; limit?: number }): Promise<HistoryPage> => {
    const r = await svc.deps.rpc.call('history.page', { ...req, userId: reader });
    if (!r.ok) throw new Error(`history.page failed: ${JSON.stringify(r.error)}`);
    return r.data;
  };
  const checkpoint = async () => {
    const { rows } = await pool.query(`SELECT position FROM "${schema}".projection_checkpoints WHERE name = $1`, [
      s.consumers.historyProjector,
    ]);
    return rows.length ? Number(rows[0].position) : 0;
  };
  const projectedUpTo = (position: number) => eventually(async () => (await checkpoint()) >= position);
  const view = (e: MessagePosted, position: number): MessageView => ({
    ...e.payload,
    html: renderMessageHtml(e.payload.body, e.payload.mentions),
    time: e.time,
    position,
    editedAt: null,
    deleted: null,
    reactions: [],
  });

  beforeAll(async () => {
    const url = await testDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 2 });
    env = await historyTestEnv(namespace, schema, { PROJECTION_BATCH: '64' });
    svc = await start();
    s = svc.deps.subjects;
    js = svc.deps.js;
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  const lobby: Array<{ event: MessagePosted; position: number }> = [];
  const side: Array<{ event: MessagePosted; position: number }> = [];

  it('newest page - reads its writes: a message appended just before is in it, without waiting', async () => {
    await open('rw-room');
    const fresh = await post('rw-room', 'just now');
    const p = await page({ roomId: 'rw-room' });
    expect(p.messages.map((m) => m.messageId)).toEqual([fresh.event.payload.messageId]);
  });

  it('paging - walks 250 messages newest first with the cursor, complete and without duplicates', async () => {
    const created = makeEvent<RoomCreated>(ctx(randomUUID()), 'RoomCreated', 2, {
      roomId: ROOM,
      name: 'Lobby',
      topic: '',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 1000,
      slowModeSeconds: 0,
      ownerId: null,
      ownerName: null,
    });
    await append(s.chat.roomMeta(ROOM), created);
    await join(ROOM);
    await open(OTHER);
    await open('empty-room');
    for (let i = 0; i < 250; i++) {
      lobby.push(await post(ROOM, `m${i}`));
      if (i % 12 === 0) side.push(await post(OTHER, `s${i}`));
    }
    await projectedUpTo(Math.max(...appended.map((e) => e.position)));

    const pages: HistoryPage[] = [];
    let before: number | undefined;
    do {
      const p = await page({ roomId: ROOM, before, limit: 100 });
      pages.push(p);
      before = p.nextBefore ?? undefined;
    } while (before !== undefined && pages.length < 10);

    expect(pages.map((p) => p.messages.length)).toEqual([100, 100, 50]);
    expect(pages.map((p) => p.nextBefore)).toEqual([pages[0].messages[99].position, pages[1].messages[99].position, null]);
    const got = pages.flatMap((p) => p.messages);
    const expected = [...lobby].reverse().map(({ event, position }) => view(event, position));
    expect(got).toEqual(expected);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(250);
  });

  it('paging - defaults to the standard page size, starts below the cursor and keeps rooms apart', async () => {
    const first = await page({ roomId: ROOM });
    expect(first.messages).toHaveLength(50);
    expect(first.messages[0].position).toBe(lobby[249].position);

    const cursor = lobby[100].position;
    const older = await page({ roomId: ROOM, before: cursor, limit: 5 });
    expect(older.messages.map((m) => m.position)).toEqual(
      lobby
        .slice(95, 100)
        .reverse()
        .map((m) => m.position),
    );

    const other = await page({ roomId: OTHER, limit: 100 });
    expect(other).toEqual({
      roomId: OTHER,
      messages: [...side].reverse().map(({ event, position }) => view(event, position)),
      nextBefore: null,
      nextAfter: null,
      anchor: null,
    });
    expect(await page({ roomId: 'empty-room' })).toEqual({
      roomId: 'empty-room',
      messages: [],
      nextBefore: null,
      nextAfter: null,
      anchor: null,
    });
  });

  it('projection - applying the same batch again (a redelivery) changes nothing', async () => {
    const snapshot = async () => ({
      messages: (await pool.query(`SELECT * FROM "${schema}".messages ORDER BY position`)).rows,
      dead: (await pool.query(`SELECT * FROM "${schema}".dead_letters ORDER BY position`)).rows,
      checkpoint: (await pool.query(`SELECT * FROM "${schema}".projection_checkpoints`)).rows,
    });
    const before = await snapshot();
    expect(before.messages).toHaveLength(250 + side.length + 1); // + the read-your-writes message
    const projector = svc.app.get(Projector);
    const batch = appended.slice(-40);
    const first = await projector.applyBatch(batch);
    const second = await projector.applyBatch(batch);
    for (const plan of [first, second]) {
      expect(plan.fresh).toEqual({ messages: 0, membership: 0, deadLetters: 0 });
      expect(plan.replayed).toBe(40);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('projection - poison events go to dead_letters and later events still project', async () => {
    const subject = s.chat.roomMessages(ROOM);
    const notJson = (await jetstream(svc.nc).publish(subject, new TextEncoder().encode('<<not json>>'), { msgID: randomUUID() })).seq;
    appended.push({ subject, position: notJson, data: undefined });
    const unknown = await append(subject, { ...makeEvent(ctx(randomUUID()), 'MessageExploded', 1, {}) });
    const bad = makeEvent<MessagePosted>(ctx(randomUUID()), 'MessagePosted', 2, {
      replyTo: null,
      mentions: [],
      messageId: randomUUID(),
      roomId: ROOM,
      senderId: 'not-a-uuid',
      senderName: 'x',
      clientMsgId: 'x',
      body: 'x',
    });
    const invalid = await append(subject, bad);
    const after = await post(ROOM, 'after the poison');
    lobby.push(after);

    await projectedUpTo(after.position);
    const newest = await page({ roomId: ROOM, limit: 1 });
    expect(newest.messages).toEqual([view(after.event, after.position)]);
    const { rows } = await pool.query(`SELECT position, subject, raw, error FROM "${schema}".dead_letters ORDER BY position`);
    expect(rows.map((r) => ({ ...r, position: Number(r.position) }))).toEqual([
      { position: notJson, subject, raw: '<<not json>>', error: 'not JSON' },
      { position: unknown, subject, raw: expect.stringContaining('MessageExploded'), error: 'unknown event type "MessageExploded"' },
      { position: invalid, subject, raw: JSON.stringify(bad), error: 'MessagePosted: payload.senderId must be a UUID' },
    ]);
    // Every stored event counted once, whatever became of it.
    expect(await metric(svc, 'history_projected_events_total')).toBe(appended.length);
  });

  it('projection - a second event carrying a stored message id is dead-lettered with the reason, not dropped', async () => {
    await open('dup-room');
    const first = await post('dup-room', 'first');
    const clash = makeEvent<MessagePosted>(ctx(randomUUID()), 'MessagePosted', 2, {
      ...first.event.payload,
      body: 'same id, another event',
    });
    const subject = s.chat.roomMessages('dup-room');
    const position = await append(subject, clash);

    await projectedUpTo(position);
    const { rows } = await pool.query(`SELECT subject, raw, error FROM "${schema}".dead_letters WHERE position = $1`, [position]);
    expect(rows).toEqual([
      {
        subject,
        raw: JSON.stringify(clash),
        error: `MessagePosted: messageId ${first.event.payload.messageId} is already stored at position ${first.position}`,
      },
    ]);
    expect((await page({ roomId: 'dup-room' })).messages).toEqual([view(first.event, first.position)]);
    expect(await metric(svc, 'history_message_id_conflicts_total')).toBe(1);
    expect(await metric(svc, 'history_projected_events_total')).toBe(appended.length);
  });

  it('upgrade - a schema that projected before the membership tables existed gets them backfilled from the stream at start-up', async () => {
    const members = async () => ({
      members: (await pool.query(`SELECT * FROM "${schema}".room_members ORDER BY room_id, user_id`)).rows,
      rooms: (await pool.query(`SELECT * FROM "${schema}".rooms ORDER BY room_id`)).rows,
    });
    const before = await members();
    expect(before.members.length).toBeGreaterThan(0);
    await svc.close();
    // As after the RoomMembership migration on a deployment whose projector had skipped room events.
    for (const table of ['room_members', 'rooms', 'member_changes', 'room_changes', 'block_changes'])
      await pool.query(`DELETE FROM "${schema}".${table}`);
    const mark = await checkpoint();
    await pool.query(`INSERT INTO "${schema}".projection_checkpoints (name, position) VALUES ($1, $2)`, [
      `${s.consumers.historyProjector}:membership-backfill`,
      mark,
    ]);
    svc = await start();
    js = svc.deps.js;
    expect(await members()).toEqual(before);
    expect((await pool.query(`SELECT name FROM "${schema}".projection_checkpoints`)).rows).toEqual([
      { name: s.consumers.historyProjector },
    ]);
    expect((await page({ roomId: ROOM, limit: 1 })).messages).toHaveLength(1);
  });

  describe('authorisation - history decides from its own membership projection (called directly, no gateway)', () => {
    const call = (roomId: string, userId: string, before?: number) =>
      svc.deps.rpc.call('history.page', before === undefined ? { roomId, userId } : { roomId, userId, before });
    const refused = async (roomId: string, userId: string, before?: number) => {
      const r = await call(roomId, userId, before);
      expect(r.ok ? 'allowed' : r.error).toEqual(
        roomId === 'auth-public'
          ? { code: 'FORBIDDEN', message: `you are not a member of room "${roomId}"; join it to read its history` }
          : { code: 'NOT_FOUND', message: `room "${roomId}" does not exist` },
      );
    };
    const owner = randomUUID();
    const outsider = randomUUID();

    beforeAll(async () => {
      await create('auth-private', 'private', owner);
      await create('auth-public', 'public', null);
      await join('auth-public', owner);
      await post('auth-private', 'secret', owner);
      await post('auth-public', 'hello', owner);
    });

    it('a non-member: NOT_FOUND for a private room and a missing room, FORBIDDEN for a public room, newest or older page', async () => {
      for (const roomId of ['auth-private', 'auth-public', 'auth-missing']) {
        await refused(roomId, outsider);
        await refused(roomId, outsider, 1000);
      }
    });

    it('members (the owner by RoomCreated, a joined user) are allowed', async () => {
      const mine = await call('auth-private', owner);
      expect(mine.ok && mine.data.messages.map((m) => m.body)).toEqual(['secret']);
      const theirs = await call('auth-public', owner);
      expect(theirs.ok && theirs.data.messages.map((m) => m.body)).toEqual(['hello']);
    });

    it('a join is honoured by the very next read, and a leave refuses the very next read', async () => {
      const user = randomUUID();
      await join('auth-private', user);
      expect((await call('auth-private', user)).ok).toBe(true);
      await leave('auth-private', user);
      await refused('auth-private', user);
      await refused('auth-private', user, 1000);
      await join('auth-private', user);
      expect((await call('auth-private', user, 1000)).ok).toBe(true);
    });
  });

  it('rpc - a malformed history.page request gets BAD_REQUEST and the service keeps serving', async () => {
    for (const req of [
      { roomId: 'Not A Room', userId: reader },
      { roomId: ROOM, limit: 1000, userId: reader },
      { roomId: ROOM, before: 0, userId: reader },
      { roomId: ROOM, extra: 1, userId: reader },
      { roomId: ROOM },
      { roomId: ROOM, userId: 'not-a-uuid' },
    ]) {
      const r = await svc.deps.rpc.call('history.page', req as never);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
    }
    expect((await page({ roomId: ROOM, limit: 1 })).messages).toHaveLength(1);
  });

  it('health - ready checks the database and the projector; metrics show the checkpoint', async () => {
    const ready = await fetch(`${svc.url}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { nats: true, database: true, projector: true } });
    expect(ready.status).toBe(200);
    expect(await metric(svc, 'history_projection_position')).toBe(await checkpoint());
  });

  it('restart - a new instance resumes from the checkpoint: everything is served, nothing projected twice', async () => {
    const rowsBefore = Number((await pool.query(`SELECT count(*) FROM "${schema}".messages`)).rows[0].count);
    const oldStore = svc.app.get(HistoryStore);
    await svc.close();
    expect(oldStore.ds.isInitialized).toBe(false); // its connections went back to Postgres
    svc = await start();
    js = svc.deps.js;

    const next = await post(ROOM, 'after restart');
    lobby.push(next);
    await projectedUpTo(next.position);
    await eventually(async () => (await page({ roomId: ROOM, limit: 1 })).messages[0]?.position === next.position);

    const all: MessageView[] = [];
    let before: number | undefined;
    do {
      const p = await page({ roomId: ROOM, before, limit: 100 });
      all.push(...p.messages);
      before = p.nextBefore ?? undefined;
    } while (before !== undefined);
    expect(all).toEqual([...lobby].reverse().map(({ event, position }) => view(event, position)));
    expect(Number((await pool.query(`SELECT count(*) FROM "${schema}".messages`)).rows[0].count)).toBe(rowsBefore + 1);
    // The new instance projected exactly the one new event; anything older it saw was a replay.
    expect(await metric(svc, 'history_projected_events_total')).toBe(1);
    const applied = await pool.query(`SELECT name FROM "${schema}".typeorm_migrations`);
    expect(applied.rows).toHaveLength(migrations.length);
  });
});
