import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { createSubjects, makeEvent, type MessagePosted } from '@chat/contracts';
import { randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '../projection/mapping';
import { openDatabase } from './data-source';
import { HistoryStore } from './history.store';

// The store on its own (no NATS): batches are built here, so positions are under the test's control.
describe('history store - projection against Postgres', () => {
  const s = createSubjects('unit');
  const schema = randomName('hs');
  let url: string;
  let pool: Pool;
  let ds: DataSource;
  let store: HistoryStore;

  const posted = (position: number, roomId = 'general'): StreamEvent => {
    const ev = makeEvent<MessagePosted>(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: randomUUID() }, correlationId: randomUUID() },
      'MessagePosted',
      1,
      { messageId: randomUUID(), roomId, senderId: randomUUID(), senderName: 'ann', clientMsgId: `c${position}`, body: `m${position}` },
    );
    return { subject: s.chat.roomMessages(roomId), position, data: ev };
  };
  const dump = async () => ({
    messages: (await pool.query(`SELECT * FROM "${schema}".messages ORDER BY position`)).rows,
    dead: (await pool.query(`SELECT position, subject, raw, error, created_at FROM "${schema}".dead_letters ORDER BY position`)).rows,
    checkpoint: (await pool.query(`SELECT position, updated_at FROM "${schema}".projection_checkpoints`)).rows,
  });

  beforeAll(async () => {
    url = await testDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 2 });
    // Three replicas starting at once: the advisory lock lets one migrate, the others find nothing to do.
    const opened = await Promise.all([0, 1, 2].map(() => openDatabase({ url, schema })));
    ds = opened[0];
    await Promise.all(opened.slice(1).map((d) => d.destroy()));
    store = new HistoryStore(ds, 'test-projector', (roomId) => s.chat.roomMessages(roomId));
  });
  afterAll(async () => {
    await ds?.destroy();
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('migrations - concurrent start-ups apply each migration once', async () => {
    const { rows } = await pool.query(`SELECT name FROM "${schema}".typeorm_migrations`);
    expect(rows.map((r) => r.name)).toEqual(['InitialSchema1795480356658']);
    const idx = await pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'messages_room_position_idx'`, [schema]);
    expect(idx.rows[0].indexdef).toMatch(/\(room_id, "?position"? DESC\)/);
  });

  it('applyBatch - the same batch applied twice changes nothing', async () => {
    const batch = [posted(1), posted(2), { subject: s.chat.roomMessages('general'), position: 3, data: undefined, raw: new TextEncoder().encode('{oops') }, posted(4)];
    const first = await store.applyBatch(batch);
    expect(first.fresh).toEqual({ messages: 3, deadLetters: 1, ignored: 0 });
    const after = await dump();
    expect(after.messages.map((r) => Number(r.position))).toEqual([1, 2, 4]);
    expect(after.checkpoint.map((r) => Number(r.position))).toEqual([4]);

    const second = await store.applyBatch(batch);
    expect(second.fresh).toEqual({ messages: 0, deadLetters: 0, ignored: 0 });
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
    expect((await store.newestFirst('other', undefined, 10)).map((m) => m.position)).toEqual([32, 30]);
    expect((await store.newestFirst('general', 11, 10)).map((m) => m.position)).toEqual([10, 4, 2, 1]);
    expect((await store.newestFirst('general', undefined, 2)).map((m) => m.position)).toEqual([31, 21]);
  });
});
