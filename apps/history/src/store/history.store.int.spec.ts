import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { createSubjects, makeEvent, type MessagePosted } from '@chat/contracts';
import { eventually, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { lockKey, openDatabase } from '../db/data-source';
import { isDatabaseUnavailable } from '../db/errors';
import { migrations } from '../db/migrations';
import { MessageQueries } from '../messages';
import type { StreamEvent } from './events';
import { HistoryStore } from './history.store';

// The store on its own (no NATS): batches are built here, so positions are under the test's control.
describe('history store - projection against Postgres', () => {
  const s = createSubjects('unit');
  const timeouts = { statementMs: 10_000, lockMs: 5000 };
  const schema = randomName('hs');
  let url: string;
  let pool: Pool;
  let ds: DataSource;
  let store: HistoryStore;
  let messages: MessageQueries;

  /** The sender of every post here, a member of both rooms before any of them (see beforeAll). */
  const ann = randomUUID();
  const posted = (position: number, roomId = 'general', messageId = randomUUID(), senderId = ann): StreamEvent => {
    const ev = makeEvent<MessagePosted>(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: senderId }, correlationId: randomUUID() },
      'MessagePosted',
      2,
      { replyTo: null, mentions: [], messageId, roomId, senderId, senderName: 'ann', clientMsgId: `c${position}`, body: `m${position}` },
    );
    return { subject: s.chat.roomMessages(roomId), position, data: ev };
  };
  const roomEvent = (position: number, type: string, payload: Record<string, unknown>, version = 1): StreamEvent => ({
    subject: s.chat.roomMeta(payload.roomId as string),
    position,
    data: makeEvent(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: ann }, correlationId: randomUUID() },
      type,
      version,
      payload,
    ),
  });
  const settings = { name: 'Room', topic: '', visibility: 'public', postPolicy: 'members', memberLimit: 10 };
  const dump = async () => ({
    messages: (await pool.query(`SELECT * FROM "${schema}".messages ORDER BY position`)).rows,
    dead: (await pool.query(`SELECT position, subject, raw, error, created_at FROM "${schema}".dead_letters ORDER BY position`)).rows,
    checkpoint: (await pool.query(`SELECT position, updated_at FROM "${schema}".projection_checkpoints`)).rows,
  });

  beforeAll(async () => {
    url = await testDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 2 });
    // Three replicas starting at once: the advisory lock lets one migrate, the others find nothing to do.
    const opened = await Promise.all([0, 1, 2].map(() => openDatabase({ url, schema, timeouts })));
    ds = opened[0];
    await Promise.all(opened.slice(1).map((d) => d.destroy()));
    store = new HistoryStore(ds, 'test-projector', s.chat);
    messages = new MessageQueries(store);
    // Posts are stored only from members (the stream decides): the rooms and their member, at
    // positions below every position this file uses (a store accepts any; the stream starts at 1).
    await store.applyBatch([
      roomEvent(-4, 'RoomCreated', { ...settings, roomId: 'general', ownerId: null, ownerName: null }),
      roomEvent(-3, 'RoomCreated', { ...settings, roomId: 'other', ownerId: null, ownerName: null }),
      roomEvent(-2, 'MemberJoined', { roomId: 'general', userId: ann, username: 'ann', role: 'member' }),
      roomEvent(-1, 'MemberJoined', { roomId: 'other', userId: ann, username: 'ann', role: 'member' }),
    ]);
  });
  afterAll(async () => {
    await ds?.destroy();
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('migrations - concurrent start-ups apply each migration once', async () => {
    const { rows } = await pool.query(`SELECT name FROM "${schema}".typeorm_migrations`);
    expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => new m().name));
    const idx = await pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'messages_room_position_idx'`, [
      schema,
    ]);
    expect(idx.rows[0].indexdef).toMatch(/\(room_id, "?position"? DESC\)/);
  });

  it('applyBatch - the same batch applied twice changes nothing', async () => {
    const batch = [
      posted(1),
      posted(2),
      { subject: s.chat.roomMessages('general'), position: 3, data: undefined, raw: new TextEncoder().encode('{oops') },
      posted(4),
    ];
    const first = await store.applyBatch(batch);
    expect(first.fresh).toEqual({ messages: 3, membership: 0, deadLetters: 1 });
    const after = await dump();
    expect(after.messages.map((r) => Number(r.position))).toEqual([1, 2, 4]);
    expect(after.checkpoint.map((r) => Number(r.position))).toEqual([4]);

    const second = await store.applyBatch(batch);
    expect(second.fresh).toEqual({ messages: 0, membership: 0, deadLetters: 0 });
    expect(second.replayed).toBe(4);
    expect(await dump()).toEqual(after);
  });

  it('applyBatch - an earlier batch redelivered after a later one committed is still projected', async () => {
    const later = [posted(20), posted(21)];
    const earlier = [posted(10), posted(11)];
    await store.applyBatch(later);
    const plan = await store.applyBatch(earlier);
    expect(plan.replayed).toBe(2);
    const { messages, checkpoint } = await dump();
    expect(messages.map((r) => Number(r.position))).toEqual([1, 2, 4, 10, 11, 20, 21]);
    expect(Number(checkpoint[0].position)).toBe(21);
  });

  it('newestFirst - keyset reads stay within the room', async () => {
    await store.applyBatch([posted(30, 'other'), posted(31), posted(32, 'other')]);
    expect((await messages.newestFirst('other', undefined, 10)).map((m) => m.position)).toEqual([32, 30]);
    expect((await messages.newestFirst('general', 11, 10)).map((m) => m.position)).toEqual([10, 4, 2, 1]);
    expect((await messages.newestFirst('general', undefined, 2)).map((m) => m.position)).toEqual([31, 21]);
  });

  it('applyBatch - an event whose message id is already stored at another position is dead-lettered, not dropped', async () => {
    const id = randomUUID();
    const original = posted(40, 'general', id);
    const clash = posted(41, 'general', id);
    // Two events with one id in the same batch: the first keeps the id, the second is a conflict.
    const twin = randomUUID();
    const [a, b] = [posted(42, 'general', twin), posted(43, 'general', twin)];
    const before = await store.checkpoint();
    await store.applyBatch([original]);
    const plan = await store.applyBatch([clash, a, b, posted(44)]);
    expect(plan.fresh).toEqual({ messages: 2, membership: 0, deadLetters: 2 });
    expect(plan.conflicts.map((c) => c.position)).toEqual([41, 43]);
    const rows = async (sql: string) => (await pool.query(sql)).rows.map((r) => ({ ...r, position: Number(r.position) }));
    expect(await rows(`SELECT position, message_id FROM "${schema}".messages WHERE position BETWEEN 40 AND 44 ORDER BY position`)).toEqual([
      { position: 40, message_id: id },
      { position: 42, message_id: twin },
      { position: 44, message_id: expect.any(String) },
    ]);
    expect(
      await rows(`SELECT position, subject, raw, error FROM "${schema}".dead_letters WHERE position BETWEEN 40 AND 44 ORDER BY position`),
    ).toEqual([
      {
        position: 41,
        subject: clash.subject,
        raw: JSON.stringify(clash.data),
        error: `MessagePosted: messageId ${id} is already stored at position 40`,
      },
      {
        position: 43,
        subject: b.subject,
        raw: JSON.stringify(b.data),
        error: `MessagePosted: messageId ${twin} is already stored at position 42`,
      },
    ]);
    expect(await store.checkpoint()).toBe(Math.max(before, 44));

    // Re-projecting the same events (same positions) changes nothing and reports no new conflict.
    const snapshot = await dump();
    const again = await store.applyBatch([original, clash, a, b]);
    expect(again.conflicts).toEqual([]);
    expect(again.fresh).toEqual({ messages: 0, membership: 0, deadLetters: 0 });
    expect(await dump()).toEqual(snapshot);
  });

  it('unprojected - names the positions with neither a message row, a dropped message nor a dead letter', async () => {
    // 3 is a dead letter, 1 and 2 are messages, 5 and 1000 are nothing.
    expect(await messages.unprojected([1, 2, 3, 5, 1000])).toEqual([5, 1000]);
    const stranger = await store.applyBatch([posted(60, 'general', randomUUID(), randomUUID())]);
    expect(stranger.dropped.map((d) => [d.position, d.reason])).toEqual([[60, 'not_member']]);
    expect(await messages.unprojected([60])).toEqual([]);
    expect(await messages.unprojected([])).toEqual([]);
  });

  it('membership - every room event delivered twice, and batches out of order, give the same state as once in order', async () => {
    const [owner, bob, cy] = [randomUUID(), randomUUID(), randomUUID()];
    const ev = (position: number, type: string, payload: Record<string, unknown>): StreamEvent => ({
      subject: s.chat.roomMeta(payload.roomId as string),
      position,
      data: makeEvent(
        { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: owner }, correlationId: randomUUID() },
        type,
        1,
        payload,
      ),
    });
    const room = { name: 'Club', topic: '', postPolicy: 'members', memberLimit: 10, ownerName: 'ann' };
    const events = [
      ev(100, 'RoomCreated', { ...room, roomId: 'club', visibility: 'private', ownerId: owner }),
      ev(101, 'MemberJoined', { roomId: 'club', userId: bob, username: 'bob', role: 'member' }),
      ev(102, 'MemberJoined', { roomId: 'club', userId: cy, username: 'cy', role: 'admin' }),
      ev(103, 'MemberLeft', { roomId: 'club', userId: bob, username: 'bob' }),
      ev(104, 'RoomCreated', { ...room, roomId: 'open', visibility: 'public', ownerId: null }),
      ev(105, 'MemberJoined', { roomId: 'open', userId: bob, username: 'bob', role: 'member' }),
    ];
    const membership = async () => ({
      rooms: (await pool.query(`SELECT * FROM "${schema}".rooms WHERE room_id IN ('club', 'open') ORDER BY room_id`)).rows,
      members: (await pool.query(`SELECT * FROM "${schema}".room_members WHERE room_id IN ('club', 'open') ORDER BY room_id, user_id`))
        .rows,
    });
    // The later half first (the leave before the join it undoes), then everything, then every event again.
    const first = await store.applyBatch(events.slice(3));
    expect(first.fresh).toEqual({ messages: 0, membership: 3, deadLetters: 0 });
    await store.applyBatch(events.slice(0, 3));
    const state = await membership();
    expect(state.rooms.map((r) => [r.room_id, r.visibility, Number(r.created_position)])).toEqual([
      ['club', 'private', 100],
      ['open', 'public', 104],
    ]);
    const members = Object.fromEntries(
      state.members.map((r) => [
        `${r.room_id}/${r.user_id}`,
        [r.member, r.role, r.username, Number(r.position), r.joined_position === null ? null : Number(r.joined_position)],
      ]),
    );
    expect(members).toEqual({
      [`club/${owner}`]: [true, 'owner', 'ann', 100, 100],
      [`club/${bob}`]: [false, null, 'bob', 103, null],
      [`club/${cy}`]: [true, 'admin', 'cy', 102, 102],
      [`open/${bob}`]: [true, 'member', 'bob', 105, 105],
    });
    expect(state.members.every((r) => (r.joined_at === null) === (r.joined_position === null))).toBe(true);
    expect(state.rooms.map((r) => [r.room_id, r.kind, r.name, r.post_policy, r.deleted, r.owner_id])).toEqual([
      ['club', 'group', 'Club', 'members', false, owner],
      ['open', 'group', 'Club', 'members', false, null],
    ]);
    const again = await store.applyBatch([...events, ...events]);
    expect(again.replayed).toBe(6);
    expect(await membership()).toEqual(state);
    for (const e of events) await store.applyBatch([e, e]);
    expect(await membership()).toEqual(state);
  });

  describe('posting - the stream decides: a post is stored only if its sender may post at its position', () => {
    const bob = randomUUID();
    const stored = async (roomId: string) =>
      (await pool.query(`SELECT position FROM "${schema}".messages WHERE room_id = $1 ORDER BY position`, [roomId])).rows.map((r) =>
        Number(r.position),
      );
    const dropped = async (roomId: string) =>
      (
        await pool.query(`SELECT position, reason FROM "${schema}".dropped_messages WHERE room_id = $1 ORDER BY position`, [roomId])
      ).rows.map((r) => [Number(r.position), r.reason]);
    const created = (position: number, roomId: string, over: Record<string, unknown> = {}) =>
      roomEvent(position, 'RoomCreated', { ...settings, roomId, ownerId: ann, ownerName: 'ann', ...over });
    const joined = (position: number, roomId: string) =>
      roomEvent(position, 'MemberJoined', { roomId, userId: bob, username: 'bob', role: 'member' });
    const kicked = (position: number, roomId: string) =>
      roomEvent(position, 'MemberKicked', { roomId, userId: bob, username: 'bob', byUserId: ann, byUsername: 'ann', reason: '' });

    it('in one batch, in stream order: before the kick stored, after it not, after the rejoin stored again', async () => {
      const batch = [created(300, 'talk'), joined(301, 'talk'), posted(302, 'talk', randomUUID(), bob), kicked(303, 'talk')];
      batch.push(posted(304, 'talk', randomUUID(), bob), joined(305, 'talk'), posted(306, 'talk', randomUUID(), bob));
      const plan = await store.applyBatch([...batch].reverse());
      expect(plan.dropped).toEqual([{ position: 304, roomId: 'talk', senderId: bob, reason: 'not_member' }]);
      expect(await stored('talk')).toEqual([302, 306]);
      expect(await dropped('talk')).toEqual([[304, 'not_member']]);
      // The current membership started with the rejoin.
      const bobRow = await pool.query(
        `SELECT member, joined_position FROM "${schema}".room_members WHERE room_id = 'talk' AND user_id = $1`,
        [bob],
      );
      expect(bobRow.rows).toEqual([{ member: true, joined_position: '305' }]);
      const again = await store.applyBatch(batch);
      expect(again.dropped).toEqual([]);
      expect(await stored('talk')).toEqual([302, 306]);
    });

    it('a kick that reaches history after the post it precedes removes the post; a late join restores one', async () => {
      const post = posted(403, 'late', randomUUID(), bob);
      await store.applyBatch([created(400, 'late'), joined(401, 'late'), post]);
      expect(await stored('late')).toEqual([403]);
      const plan = await store.applyBatch([kicked(402, 'late')]);
      expect(plan.dropped.map((d) => [d.position, d.reason])).toEqual([[403, 'not_member']]);
      expect(await stored('late')).toEqual([]);

      await store.applyBatch([created(500, 'grant'), posted(502, 'grant', randomUUID(), bob)]);
      expect(await dropped('grant')).toEqual([[502, 'not_member']]);
      await store.applyBatch([joined(501, 'grant')]);
      expect(await stored('grant')).toEqual([502]);
      expect(await dropped('grant')).toEqual([]);
      expect((await messages.newestFirst('grant', undefined, 5)).map((m) => m.body)).toEqual(['m502']);
    });

    it('a deleted room loses its whole history, and posts after the deletion are not stored', async () => {
      const plan = await store.applyBatch([
        roomEvent(600, 'RoomDeleted', { roomId: 'talk', reason: 'owner', byUserId: ann, byUsername: 'ann' }),
        posted(601, 'talk'),
      ]);
      expect(plan.dropped.map((d) => [d.position, d.reason])).toEqual([
        [302, 'room_deleted'],
        [306, 'room_deleted'],
        [601, 'room_deleted'],
      ]);
      expect(await stored('talk')).toEqual([]);
      const room = await pool.query(`SELECT deleted, owner_id FROM "${schema}".rooms WHERE room_id = 'talk'`);
      expect(room.rows).toEqual([{ deleted: true, owner_id: ann }]);
    });
  });

  it('applyBatch - all or nothing: a batch failing at its last write leaves no row of it and the checkpoint where it was', async () => {
    const bob = randomUUID();
    const batch = [
      roomEvent(650, 'MemberJoined', { roomId: 'general', userId: bob, username: 'bob', role: 'member' }),
      posted(651),
      { subject: s.chat.roomMessages('general'), position: 652, data: undefined, raw: new TextEncoder().encode('{bad') },
      posted(653),
    ];
    const checkpointBefore = (await dump()).checkpoint;
    // The database refuses the batch's message insert (after the membership rows were written in
    // the same transaction), as a failing disk or a cancelled statement would.
    await pool.query(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.position = 653 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".messages FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`);
    try {
      await expect(store.applyBatch(batch)).rejects.toThrow(/refused by the test/);
    } finally {
      await pool.query(`DROP TRIGGER refuse ON "${schema}".messages`);
      await pool.query(`DROP FUNCTION "${schema}".refuse()`);
    }
    const none = async () => ({
      messages: (await pool.query(`SELECT 1 FROM "${schema}".messages WHERE position BETWEEN 650 AND 653`)).rowCount,
      dead: (await pool.query(`SELECT 1 FROM "${schema}".dead_letters WHERE position BETWEEN 650 AND 653`)).rowCount,
      members: (await pool.query(`SELECT 1 FROM "${schema}".room_members WHERE user_id = $1`, [bob])).rowCount,
    });
    expect(await none()).toEqual({ messages: 0, dead: 0, members: 0 });
    expect((await dump()).checkpoint).toEqual(checkpointBefore);

    // Its redelivery applies all of it, as the first time.
    const plan = await store.applyBatch(batch);
    expect(plan.fresh).toEqual({ messages: 2, membership: 1, deadLetters: 1 });
    expect(await none()).toEqual({ messages: 2, dead: 1, members: 1 });
    expect(Number((await dump()).checkpoint[0].position)).toBe(653);
  });

  describe('timeouts', () => {
    let tight: DataSource;
    let tightStore: HistoryStore;
    beforeAll(async () => {
      tight = await openDatabase({ url, schema, applicationName: 'history-tight', timeouts: { statementMs: 300, lockMs: 200 } });
      tightStore = new HistoryStore(tight, 'test-projector', s.chat);
    });
    afterAll(async () => {
      await tight?.destroy();
    });
    /** Rejects when p has not settled within ms: a hang fails the test instead of stalling it. */
    const within = <T>(p: Promise<T>, ms: number) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms).unref())]);

    it('every session has the statement, lock and idle-in-transaction limits', async () => {
      const [row] = await tight.query(
        `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
                current_setting('idle_in_transaction_session_timeout') AS idle`,
      );
      expect(row).toEqual({ statement: '300ms', lock: '200ms', idle: '300ms' });
    });

    it('a batch waiting on a locked checkpoint row fails after the lock timeout instead of hanging', async () => {
      await tightStore.applyBatch([]); // the checkpoint row exists
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM "${schema}".projection_checkpoints WHERE name = 'test-projector' FOR UPDATE`);
        const err = await within(tightStore.applyBatch([posted(700)]), 3000).catch((e) => e);
        expect(isDatabaseUnavailable(err)).toBe(true);
        expect(err.driverError?.code).toBe('55P03');
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      // The pool is fine afterwards: the same batch now goes through.
      expect((await tightStore.applyBatch([posted(700)])).fresh.messages).toBe(1);
    });

    it('a statement running past the statement timeout is cancelled', async () => {
      const err = await within(tight.query('SELECT pg_sleep(5)'), 3000).catch((e) => e);
      expect(err.driverError?.code).toBe('57014');
      expect(isDatabaseUnavailable(err)).toBe(true);
    });

    it("migrations run without the limits: a replica waits for another one's migration lock", async () => {
      const fresh = randomName('hs');
      const holder = await pool.connect();
      try {
        await holder.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey('migrate', fresh)]);
        const opening = openDatabase({ url, schema: fresh, timeouts: { statementMs: 100, lockMs: 100 } });
        const failed = opening.then(
          () => false,
          () => true,
        );
        // Still waiting for the advisory lock well past both limits (with them it would be cancelled after 100 ms).
        await eventually(async () => {
          const { rows } = await pool.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND now() - query_start > interval '500 ms'`,
          );
          return rows[0].n > 0;
        });
        await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey('migrate', fresh)]);
        expect(await failed).toBe(false);
        await (await opening).destroy();
      } finally {
        holder.release();
        await pool.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
      }
    });
  });
});
